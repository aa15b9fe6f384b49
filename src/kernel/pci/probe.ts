/**
 * Bus scanning and device setup (drivers/pci/probe.c): discover functions by reading Vendor IDs by
 * config cycle, read each function's header, size its BARs with the all-ones protocol, and follow
 * bridges to their secondary buses. On a PCIe root port's link only Device 0 is scanned
 * (only_one_child), and with ARI forwarding the function numbers follow the ARI Next Function chain.
 */
import { type Bdf, bdf, hex, type Rid } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { KernelLog } from '../log.js';
import type { PciConfigAccess } from './config-access.js';
import { type PciDev, pciName } from './pci-dev.js';
import {
  emptyResource,
  IORESOURCE_IO,
  IORESOURCE_MEM,
  IORESOURCE_MEM_64,
  IORESOURCE_PREFETCH,
  IORESOURCE_SIZEALIGN,
  PCI_NUM_RESOURCES,
  type Resource,
} from './resource.js';

const VENDOR_ABSENT = 0xffff;
/** A CRS completion to a Vendor ID read returns 0x0001 when CRS Software Visibility is on. */
const VENDOR_CRS = 0x0001;

export class ConfigCycles {
  constructor(
    readonly access: PciConfigAccess,
    readonly domain: number,
  ) {}

  read(rid: Rid, offset: number, width: 1 | 2 | 4): number {
    return this.access.read(this.domain, rid, offset, width);
  }

  write(rid: Rid, offset: number, width: 1 | 2 | 4, value: number): void {
    this.access.write(this.domain, rid, offset, width, value);
  }

  /** pci_find_capability: walk the standard list. */
  findCapability(rid: Rid, id: number): number | undefined {
    if ((this.read(rid, pci.PCI_STATUS, 2) & pci.PCI_STATUS_CAP_LIST) === 0) return undefined;
    let at = this.read(rid, pci.PCI_CAPABILITY_LIST, 1) & ~3;
    for (let ttl = 48; ttl > 0 && at >= 0x40; ttl--) {
      if (this.read(rid, at + pci.PCI_CAP_LIST_ID, 1) === id) return at;
      at = this.read(rid, at + pci.PCI_CAP_LIST_NEXT, 1) & ~3;
    }
    return undefined;
  }

  /** pci_find_ext_capability: walk the extended list from 0x100. */
  findExtCapability(rid: Rid, id: number): number | undefined {
    let at = pci.PCI_EXT_CAP_START;
    for (let ttl = 480; ttl > 0 && at >= pci.PCI_EXT_CAP_START; ttl--) {
      const header = this.read(rid, at, 4);
      if (header === 0 || header === 0xffffffff) return undefined;
      if ((header & pci.PCI_EXT_CAP_ID_MASK) === id) return at;
      at = (header >>> pci.PCI_EXT_CAP_NEXT_SHIFT) & 0xffc;
    }
    return undefined;
  }

  /**
   * Size one BAR (__pci_read_base): save, write all-ones, read the mask, restore. Returns the resource
   * with its current address, or an empty resource for an unimplemented BAR, and how many registers it
   * used (2 for a 64-bit BAR).
   */
  sizeBar(rid: Rid, reg: number): { res: Resource; regs: 1 | 2 } {
    const orig = this.read(rid, reg, 4);
    this.write(rid, reg, 4, 0xffffffff);
    const mask = this.read(rid, reg, 4);
    this.write(rid, reg, 4, orig);
    if (mask === 0 || mask === 0xffffffff) return { res: emptyResource(), regs: 1 };
    if ((orig & pci.PCI_BASE_ADDRESS_SPACE_IO) !== 0) {
      const size = BigInt(((~(mask & pci.PCI_BASE_ADDRESS_IO_MASK) >>> 0) & 0xffff) + 1);
      const start = BigInt(orig & pci.PCI_BASE_ADDRESS_IO_MASK);
      return { res: { start, end: start + size - 1n, flags: IORESOURCE_IO | (orig & 0x3) }, regs: 1 };
    }
    const is64 = (orig & pci.PCI_BASE_ADDRESS_MEM_TYPE_MASK) === pci.PCI_BASE_ADDRESS_MEM_TYPE_64;
    let full = BigInt((mask & pci.PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
    let start = BigInt((orig & pci.PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
    if (is64) {
      const origHi = this.read(rid, reg + 4, 4);
      this.write(rid, reg + 4, 4, 0xffffffff);
      const maskHi = this.read(rid, reg + 4, 4);
      this.write(rid, reg + 4, 4, origHi);
      full |= BigInt(maskHi >>> 0) << 32n;
      start |= BigInt(origHi >>> 0) << 32n;
    } else {
      full |= 0xffffffff_00000000n;
    }
    const size = (~full & 0xffffffff_ffffffffn) + 1n;
    const flags =
      IORESOURCE_MEM |
      IORESOURCE_SIZEALIGN |
      ((orig & pci.PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0 ? IORESOURCE_PREFETCH : 0) |
      (is64 ? IORESOURCE_MEM_64 : 0) |
      (orig & 0xf);
    return { res: { start, end: start + size - 1n, flags }, regs: is64 ? 2 : 1 };
  }
}

/** The PCIe device/port type name the kernel prints at setup. */
function pcieTypeName(type: number): string {
  switch (type) {
    case pci.PCI_EXP_TYPE_ENDPOINT:
      return 'PCIe Endpoint';
    case pci.PCI_EXP_TYPE_LEG_END:
      return 'PCIe Legacy Endpoint';
    case pci.PCI_EXP_TYPE_ROOT_PORT:
      return 'PCIe Root Port';
    case pci.PCI_EXP_TYPE_RC_END:
      return 'PCIe Root Complex Integrated Endpoint';
    default:
      return `PCIe type ${type}`;
  }
}

export function formatResource(r: Resource, what: string): string {
  const is64 = (r.flags & IORESOURCE_MEM_64) !== 0;
  const pref = (r.flags & IORESOURCE_PREFETCH) !== 0;
  const kind = (r.flags & IORESOURCE_IO) !== 0 ? 'io' : 'mem';
  return `${what} [${kind} 0x${hex(r.start, 8)}-0x${hex(r.end, 8)}${is64 ? ' 64bit' : ''}${pref ? ' pref' : ''}]`;
}

export interface SetupOptions {
  readonly upstream: PciDev | undefined;
  readonly ariEnabled: boolean;
  /** For a VF: its PF and index; identity then comes from the PF (pci_iov_add_virtfn). */
  readonly virtfn?: { readonly pf: PciDev; readonly index: number };
}

/** pci_setup_device: read the header of the function at `at` and build its pci_dev. */
export function setupDevice(cfg: ConfigCycles, at: Bdf, rid: Rid, o: SetupOptions, log: KernelLog): PciDev {
  const classRev = cfg.read(rid, pci.PCI_CLASS_REVISION, 4);
  const hdrType = cfg.read(rid, pci.PCI_HEADER_TYPE, 1) & pci.PCI_HEADER_TYPE_MASK;
  const pcieCap = cfg.findCapability(rid, pci.PCI_CAP_ID_EXP);
  const resources: Resource[] = Array.from({ length: PCI_NUM_RESOURCES }, emptyResource);
  const vf = o.virtfn;
  const barCount =
    hdrType === pci.PCI_HEADER_TYPE_NORMAL ? 6 : hdrType === pci.PCI_HEADER_TYPE_BRIDGE ? 2 : 0;
  if (vf === undefined) {
    for (let i = 0; i < barCount; ) {
      const { res, regs } = cfg.sizeBar(rid, pci.PCI_BASE_ADDRESS_0 + 4 * i);
      resources[i] = res;
      i += regs;
    }
  }
  const vendor = vf ? vf.pf.vendor : cfg.read(rid, pci.PCI_VENDOR_ID, 2);
  const device = vf ? (vf.pf.sriov?.vfDevice ?? 0xffff) : cfg.read(rid, pci.PCI_DEVICE_ID, 2);
  const normal = hdrType === pci.PCI_HEADER_TYPE_NORMAL;
  const dev: PciDev = {
    bdf: at,
    rid,
    name: pciName(at),
    vendor,
    device,
    subsystemVendor: normal ? cfg.read(rid, pci.PCI_SUBSYSTEM_VENDOR_ID, 2) : 0,
    subsystemDevice: normal ? cfg.read(rid, pci.PCI_SUBSYSTEM_ID, 2) : 0,
    classCode: classRev >>> 8,
    revision: classRev & 0xff,
    hdrType,
    cfgSize: pcieCap !== undefined && cfg.read(rid, pci.PCI_EXT_CAP_START, 4) !== 0xffffffff ? 4096 : 256,
    pcieCap,
    isVirtfn: vf !== undefined,
    physfn: vf?.pf,
    vfIndex: vf?.index,
    resources,
    irq: 0,
    upstream: o.upstream,
    secondaryBus: hdrType === pci.PCI_HEADER_TYPE_BRIDGE ? cfg.read(rid, pci.PCI_SECONDARY_BUS, 1) : 0,
    subordinateBus: hdrType === pci.PCI_HEADER_TYPE_BRIDGE ? cfg.read(rid, pci.PCI_SUBORDINATE_BUS, 1) : 0,
    ariEnabled: o.ariEnabled,
    sriov: undefined,
    enableCnt: 0,
  };
  const type =
    pcieCap === undefined
      ? ''
      : ` ${pcieTypeName((cfg.read(rid, pcieCap + pci.PCI_EXP_FLAGS, 2) >> 4) & 0xf)}`;
  log.info(
    `pci ${dev.name}: [${hex(vendor, 4)}:${hex(device, 4)}] type ${hex(hdrType, 2)} class 0x${hex(dev.classCode, 6)}${type}`,
  );
  resources.forEach((r, i) => {
    if (r.flags !== 0 && r.start !== 0n) log.info(`pci ${dev.name}: ${formatResource(r, `BAR ${i}`)}`);
  });
  return dev;
}

/** Is there a function at `rid`? (pci_bus_read_dev_vendor_id, without the CRS retry loop.) */
export function functionPresent(cfg: ConfigCycles, rid: Rid): boolean {
  const vendor = cfg.read(rid, pci.PCI_VENDOR_ID, 2);
  return vendor !== VENDOR_ABSENT && vendor !== 0 && vendor !== VENDOR_CRS;
}

export function bdfAt(domain: number, rid: Rid): Bdf {
  return bdf(domain, rid >> 8, rid & 0xff);
}
