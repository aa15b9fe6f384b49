/**
 * What lspci knows about one function before it prints anything (pciutils: struct pci_dev after
 * pci_fill_info). Two sources, as in pciutils 3.9.0:
 *
 * - A dump, or a device without sysfs, or any device under -b (bus-centric): every field is read from
 *   config space (pci_generic_fill_info). Sizes and resource flags are unknown, so lspci prints no
 *   `[size=]`, and bridge windows come from the window registers.
 * - A live device (linux-sysfs back end): vendor, device, class, prog-if, subsystem IDs and IRQ come
 *   from the sysfs files, not from config space. That is why a VF, whose config space reads ffff:ffff,
 *   is named after the IDs the kernel put in sysfs. BAR and ROM addresses, sizes and flags come from
 *   the sysfs `resource` file; bridge windows too when the file has the four bridge lines. The
 *   revision, which Linux also exports, is read from config space here: the kernel's file holds the
 *   same byte.
 */
import { pci } from '../../spec/index.js';
import { ConfigView } from './config.js';
import type { LspciDevice, SysfsResource } from './input.js';
import {
  IORESOURCE_IO,
  IORESOURCE_MEM,
  IORESOURCE_MEM_64,
  IORESOURCE_PREFETCH,
  PCI_ADDR_FLAG_MASK,
  PCI_CAP_ID_INVALID,
  PCI_CAP_ID_SSVID,
  PCI_CB_HEADER_SIZE,
  PCI_CB_SUBSYSTEM_ID,
  PCI_CB_SUBSYSTEM_VENDOR_ID,
  PCI_HEADER_TYPE_CARDBUS,
  PCI_SSVID_DEVICE_ID,
  PCI_SSVID_VENDOR_ID,
  PCI_STD_HEADER_SIZEOF,
} from './regs.js';
import { hx } from './text.js';

/** A bridge window as the kernel reports it (sysfs `resource` lines after the ROM/IOV lines). */
export interface BridgeWindow {
  base: bigint;
  size: bigint;
  flags: bigint;
}

export interface PciDev {
  domain: number;
  bus: number;
  dev: number;
  func: number;
  cfg: ConfigView;
  /** Fewer than 64 bytes could be read: lspci shows only what the OS reports. */
  noConfigAccess: boolean;
  /** Header bytes read up front: 64, or 128 for a CardBus bridge whose full header was readable. */
  configCached: number;
  live: boolean;
  vendorId: number;
  deviceId: number;
  /** 16-bit class and subclass. */
  deviceClass: number;
  progIf: number;
  revId: number;
  /** Subsystem IDs, or undefined when lspci does not know them. */
  subsys: { vendor: number; device: number } | undefined;
  irq: number;
  baseAddr: bigint[];
  /** Region sizes; undefined when unknown (every dump). */
  sizes: bigint[] | undefined;
  /** Linux resource flags per region; undefined when unknown. */
  ioFlags: bigint[] | undefined;
  romBase: bigint;
  romSize: bigint | undefined;
  romFlags: bigint | undefined;
  /** Kernel bridge windows (I/O, memory, prefetchable, unused); undefined when unknown. */
  bridgeWindows: BridgeWindow[] | undefined;
  driver: string | undefined;
  modules: string[];
  /** libpci warnings raised when the BARs are read from config space (printed once, with -v). */
  baseWarnings: string[];
}

const ALL_ONES_32 = 0xffffffff;

function headerType(cfg: ConfigView): number {
  return cfg.byte(pci.PCI_HEADER_TYPE) & pci.PCI_HEADER_TYPE_MASK;
}

/** Subsystem IDs from config space, by header type (pci_generic_fill_info). */
function configSubsys(cfg: ConfigView): { vendor: number; device: number } | undefined {
  switch (headerType(cfg)) {
    case pci.PCI_HEADER_TYPE_NORMAL:
      return { vendor: cfg.word(pci.PCI_SUBSYSTEM_VENDOR_ID), device: cfg.word(pci.PCI_SUBSYSTEM_ID) };
    case pci.PCI_HEADER_TYPE_BRIDGE: {
      const at = findCap(cfg, PCI_CAP_ID_SSVID);
      if (at === undefined) return { vendor: 0, device: 0 };
      return { vendor: cfg.word(at + PCI_SSVID_VENDOR_ID), device: cfg.word(at + PCI_SSVID_DEVICE_ID) };
    }
    case PCI_HEADER_TYPE_CARDBUS:
      return { vendor: cfg.word(PCI_CB_SUBSYSTEM_VENDOR_ID), device: cfg.word(PCI_CB_SUBSYSTEM_ID) };
    default:
      return undefined;
  }
}

/** First capability with `id` in the standard list (libpci's capability scan). */
export function findCap(cfg: ConfigView, id: number): number | undefined {
  if ((cfg.word(pci.PCI_STATUS) & pci.PCI_STATUS_CAP_LIST) === 0) return undefined;
  const seen = new Set<number>();
  let where = cfg.byte(pci.PCI_CAPABILITY_LIST) & ~3;
  while (where !== 0) {
    const capId = cfg.byte(where + pci.PCI_CAP_LIST_ID);
    const next = cfg.byte(where + pci.PCI_CAP_LIST_NEXT) & ~3;
    if (seen.has(where) || capId === PCI_CAP_ID_INVALID) return undefined;
    seen.add(where);
    if (capId === id) return where;
    where = next;
  }
  return undefined;
}

/** BAR addresses from config space; a 64-bit BAR's upper half joins the lower one. */
function configBases(cfg: ConfigView, warn: (bar: number) => void): bigint[] {
  const bases: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
  const ht = headerType(cfg);
  const count =
    ht === pci.PCI_HEADER_TYPE_NORMAL
      ? 6
      : ht === pci.PCI_HEADER_TYPE_BRIDGE
        ? 2
        : ht === PCI_HEADER_TYPE_CARDBUS
          ? 1
          : 0;
  for (let i = 0; i < count; i++) {
    const x = cfg.long(pci.PCI_BASE_ADDRESS_0 + 4 * i);
    if (x === 0 || x === ALL_ONES_32) continue;
    if ((x & pci.PCI_BASE_ADDRESS_SPACE_IO) !== 0) bases[i] = BigInt(x);
    else if ((x & pci.PCI_BASE_ADDRESS_MEM_TYPE_MASK) !== pci.PCI_BASE_ADDRESS_MEM_TYPE_64)
      bases[i] = BigInt(x);
    else if (i >= count - 1) warn(i);
    else {
      i++;
      const high = cfg.long(pci.PCI_BASE_ADDRESS_0 + 4 * i);
      bases[i - 1] = BigInt(x) | (BigInt(high) << 32n);
    }
  }
  return bases;
}

function configRom(cfg: ConfigView): bigint {
  const ht = headerType(cfg);
  const reg =
    ht === pci.PCI_HEADER_TYPE_NORMAL
      ? pci.PCI_ROM_ADDRESS
      : ht === pci.PCI_HEADER_TYPE_BRIDGE
        ? pci.PCI_ROM_ADDRESS1
        : undefined;
  if (reg === undefined) return 0n;
  const u = cfg.long(reg);
  return u === ALL_ONES_32 ? 0n : BigInt(u);
}

const sizeOf = (r: SysfsResource): bigint => (r.end > r.start ? r.end - r.start + 1n : 0n);

/** Number of `resource` lines after which the four bridge window lines follow (no IOV / IOV kernel). */
const RESOURCE_LINES_BRIDGE = [7 + 4, 7 + 6 + 4];
const RESOURCE_LINES_MAX = 7 + 6 + 4 + 1;

/** Resolve one input device into what lspci knows about it. `busCentric` is -b. */
export function resolveDevice(input: LspciDevice, busCentric: boolean): PciDev {
  const cfg = new ConfigView(input.config);
  const noConfigAccess = cfg.size < PCI_STD_HEADER_SIZEOF;
  const isCardbus = !noConfigAccess && headerType(cfg) === PCI_HEADER_TYPE_CARDBUS;
  if (!noConfigAccess) cfg.markPresent(0, PCI_STD_HEADER_SIZEOF);
  const configCached =
    isCardbus && cfg.has(0, PCI_CB_HEADER_SIZE) ? PCI_CB_HEADER_SIZE : PCI_STD_HEADER_SIZEOF;
  const devfn = input.bdf.devfn;
  const slot = `${hx(input.bdf.domain, 4)}:${hx(input.bdf.bus, 2)}:${hx(devfn >> 3, 2)}.${devfn & 7}`;
  const baseWarnings: string[] = [];
  const warn = (bar: number): void => {
    baseWarnings.push(`pcilib: ${slot}: Invalid 64-bit address seen for BAR ${bar}.\n`);
  };
  const d: PciDev = {
    domain: input.bdf.domain,
    bus: input.bdf.bus,
    dev: devfn >> 3,
    func: devfn & 7,
    cfg,
    noConfigAccess,
    configCached: noConfigAccess ? 0 : configCached,
    live: input.sysfs !== undefined && !busCentric,
    vendorId: cfg.word(pci.PCI_VENDOR_ID),
    deviceId: cfg.word(pci.PCI_DEVICE_ID),
    deviceClass: cfg.word(pci.PCI_CLASS_DEVICE),
    progIf: cfg.byte(pci.PCI_CLASS_PROG),
    revId: cfg.byte(pci.PCI_REVISION_ID),
    subsys: configSubsys(cfg),
    irq: cfg.byte(pci.PCI_INTERRUPT_LINE),
    baseAddr: configBases(cfg, warn),
    sizes: undefined,
    ioFlags: undefined,
    romBase: configRom(cfg),
    romSize: undefined,
    romFlags: undefined,
    bridgeWindows: undefined,
    driver: input.sysfs?.driver,
    modules: input.sysfs?.modules ?? [],
    baseWarnings,
  };
  const sys = input.sysfs;
  if (sys === undefined || busCentric) return d;
  d.vendorId = sys.vendor;
  d.deviceId = sys.device;
  d.deviceClass = sys.classCode >>> 8;
  d.progIf = sys.classCode & 0xff;
  d.subsys = { vendor: sys.subsystemVendor, device: sys.subsystemDevice };
  d.irq = sys.irq;
  const lines = sys.resources.slice(0, RESOURCE_LINES_MAX);
  if (lines.length > 0) {
    const bars = lines.slice(0, pci.PCI_NUM_BARS);
    d.baseAddr = [0n, 0n, 0n, 0n, 0n, 0n];
    d.sizes = [0n, 0n, 0n, 0n, 0n, 0n];
    d.ioFlags = [0n, 0n, 0n, 0n, 0n, 0n];
    d.baseWarnings = [];
    bars.forEach((r, i) => {
      d.baseAddr[i] = r.start | (r.flags & PCI_ADDR_FLAG_MASK);
      d.sizes![i] = sizeOf(r);
      d.ioFlags![i] = r.flags;
    });
  }
  const rom = lines[pci.PCI_NUM_BARS];
  if (rom !== undefined) {
    d.romBase = rom.start | (rom.flags & PCI_ADDR_FLAG_MASK);
    d.romSize = sizeOf(rom);
    d.romFlags = rom.flags;
  }
  if (RESOURCE_LINES_BRIDGE.includes(lines.length)) {
    const first = lines.length - 4;
    d.bridgeWindows = lines.slice(first).map((r) => ({ base: r.start, size: sizeOf(r), flags: r.flags }));
  }
  return d;
}

/** Linux resource flags to the BAR low bits lspci reasons about (pciutils: ioflg_to_pciflg). */
export function resourceFlagsToBar(ioflg: bigint): number {
  if ((ioflg & IORESOURCE_IO) !== 0n) return pci.PCI_BASE_ADDRESS_SPACE_IO;
  if ((ioflg & IORESOURCE_MEM) === 0n) return 0;
  let flg =
    (ioflg & IORESOURCE_MEM_64) !== 0n ? pci.PCI_BASE_ADDRESS_MEM_TYPE_64 : pci.PCI_BASE_ADDRESS_MEM_TYPE_32;
  if ((ioflg & IORESOURCE_PREFETCH) !== 0n) flg |= pci.PCI_BASE_ADDRESS_MEM_PREFETCH;
  return flg;
}
