/**
 * Resource assignment (drivers/pci/setup-bus.c, setup-res.c): give every unassigned BAR and IOV
 * resource an address inside its root port's windows and program the windows. Linux does this when
 * firmware left resources unassigned (pci=realloc); the modeled firmware leaves them all to the kernel.
 *
 * Placement: per root port, 64-bit prefetchable resources go in the prefetchable window, everything
 * else in the 32-bit memory window; largest first, each naturally aligned (IORESOURCE_SIZEALIGN);
 * windows are 1 MiB granular. I/O BARs are not assigned (no modeled device has one).
 */
import { hex } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { PciCore } from './pci-core.js';
import type { PciDev } from './pci-dev.js';
import { formatResource } from './probe.js';
import {
  IORESOURCE_MEM,
  IORESOURCE_MEM_64,
  IORESOURCE_PREFETCH,
  PCI_IOV_RESOURCES,
  resourceSize,
} from './resource.js';

export interface Aperture {
  readonly base: bigint;
  readonly limit: bigint;
}

export interface HostApertures {
  /** Below 4 GiB, for non-prefetchable BARs. */
  readonly mem32: Aperture;
  /** Above 4 GiB, for 64-bit prefetchable BARs. */
  readonly pref64: Aperture;
}

const MiB = 1n << 20n;
const alignUp = (v: bigint, a: bigint): bigint => (v + a - 1n) & ~(a - 1n);

interface Pending {
  readonly dev: PciDev;
  readonly index: number;
  readonly size: bigint;
  /** IOV resources are aligned to one VF's BAR size, not to the whole span. */
  readonly align: bigint;
}

/** Assign all resources below every root port; returns the log lines' count for tests. */
export function assignResources(core: PciCore, apertures: HostApertures): void {
  let cursor32 = apertures.mem32.base;
  let cursor64 = apertures.pref64.base;
  for (const port of core.devices.filter((d) => d.hdrType === pci.PCI_HEADER_TYPE_BRIDGE)) {
    const children = core.devices.filter((d) => d.upstream === port && !d.isVirtfn);
    const pending: { mem: Pending[]; pref: Pending[] } = { mem: [], pref: [] };
    for (const dev of children) {
      dev.resources.forEach((r, index) => {
        if ((r.flags & IORESOURCE_MEM) === 0 || r.start !== 0n) return;
        const size = resourceSize(r);
        const isIov = index >= PCI_IOV_RESOURCES;
        const align = isIov && dev.sriov !== undefined ? size / BigInt(dev.sriov.totalVfs) : size;
        const pref = (r.flags & IORESOURCE_PREFETCH) !== 0 && (r.flags & IORESOURCE_MEM_64) !== 0;
        (pref ? pending.pref : pending.mem).push({ dev, index, size, align });
      });
    }
    const mem = place(core, pending.mem, cursor32, apertures.mem32);
    const pref = place(core, pending.pref, cursor64, apertures.pref64);
    cursor32 = mem?.next ?? cursor32;
    cursor64 = pref?.next ?? cursor64;
    programWindows(core, port, mem, pref);
  }
}

function place(
  core: PciCore,
  items: Pending[],
  cursor: bigint,
  aperture: Aperture,
): { base: bigint; limit: bigint; next: bigint } | undefined {
  if (items.length === 0) return undefined;
  items.sort((a, b) =>
    b.align > a.align ? 1 : b.align < a.align ? -1 : a.dev.rid - b.dev.rid || a.index - b.index,
  );
  // biome-ignore lint/complexity/useMathMinMax: the alignments are bigint; Math.max takes numbers.
  const maxAlign = items.reduce((m, i) => (i.align > m ? i.align : m), MiB);
  const base = alignUp(cursor, maxAlign);
  let at = base;
  for (const item of items) {
    at = alignUp(at, item.align);
    writeResource(core, item.dev, item.index, at);
    at += item.size;
  }
  const limit = alignUp(at, MiB) - 1n;
  if (limit > aperture.limit) {
    core.log.err(`pci: no space for resources below 0x${hex(aperture.limit, 8)}`);
    return undefined;
  }
  return { base, limit, next: limit + 1n };
}

function writeResource(core: PciCore, dev: PciDev, index: number, start: bigint): void {
  const r = dev.resources[index]!;
  const size = resourceSize(r);
  r.start = start;
  r.end = start + size - 1n;
  const isIov = index >= PCI_IOV_RESOURCES;
  const reg = isIov
    ? dev.sriov!.pos + pci.PCI_SRIOV_BAR + 4 * (index - PCI_IOV_RESOURCES)
    : pci.PCI_BASE_ADDRESS_0 + 4 * index;
  core.cfg.write(dev.rid, reg, 4, Number(start & 0xffffffffn));
  if ((r.flags & IORESOURCE_MEM_64) !== 0) core.cfg.write(dev.rid, reg + 4, 4, Number(start >> 32n));
  const what = isIov
    ? `VF BAR ${index - PCI_IOV_RESOURCES} (contains BAR for ${dev.sriov!.totalVfs} VFs)`
    : `BAR ${index}`;
  core.log.info(`pci ${dev.name}: ${formatResource(r, what)}: assigned`);
}

function programWindows(
  core: PciCore,
  port: PciDev,
  mem: { base: bigint; limit: bigint } | undefined,
  pref: { base: bigint; limit: bigint } | undefined,
): void {
  const cfg = core.cfg;
  // A window whose base is above its limit is closed.
  cfg.write(port.rid, pci.PCI_MEMORY_BASE, 2, mem ? Number((mem.base >> 16n) & 0xfff0n) : 0xfff0);
  cfg.write(port.rid, pci.PCI_MEMORY_LIMIT, 2, mem ? Number((mem.limit >> 16n) & 0xfff0n) : 0);
  cfg.write(port.rid, pci.PCI_PREF_MEMORY_BASE, 2, pref ? Number((pref.base >> 16n) & 0xfff0n) : 0xfff0);
  cfg.write(port.rid, pci.PCI_PREF_MEMORY_LIMIT, 2, pref ? Number((pref.limit >> 16n) & 0xfff0n) : 0);
  cfg.write(port.rid, pci.PCI_PREF_BASE_UPPER32, 4, pref ? Number(pref.base >> 32n) : 0xffffffff);
  cfg.write(port.rid, pci.PCI_PREF_LIMIT_UPPER32, 4, pref ? Number(pref.limit >> 32n) : 0);
  // No I/O behind the port: base above limit.
  cfg.write(port.rid, pci.PCI_IO_BASE, 1, 0xf0);
  cfg.write(port.rid, pci.PCI_IO_LIMIT, 1, 0x00);
  if (mem)
    core.log.info(
      `pci ${port.name}: bridge window ${formatResource({ start: mem.base, end: mem.limit, flags: IORESOURCE_MEM }, '').trim()}`,
    );
  if (pref) {
    const flags = IORESOURCE_MEM | IORESOURCE_MEM_64 | IORESOURCE_PREFETCH;
    core.log.info(
      `pci ${port.name}: bridge window ${formatResource({ start: pref.base, end: pref.limit, flags }, '').trim()}`,
    );
  }
  const cmd = cfg.read(port.rid, pci.PCI_COMMAND, 2);
  cfg.write(port.rid, pci.PCI_COMMAND, 2, cmd | pci.PCI_COMMAND_MEMORY | pci.PCI_COMMAND_MASTER);
}
