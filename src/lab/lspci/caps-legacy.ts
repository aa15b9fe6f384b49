/**
 * Capabilities of conventional PCI and of PCI-X/AGP/HyperTransport era devices, and a few small ones:
 * AGP (AGP 3.0, 2.5), PCI-X (PCI-X 2.0, 7.2), HyperTransport (HT I/O Link 3.10, 7), Enhanced Allocation
 * (PCI EA ECN), SATA (AHCI 1.3.1, 2.4), Advanced Features (PCI AF ECN) and VPD. vfiolab models none of
 * these; they are decoded so that any config space lspci can read decodes the same here.
 *
 * Deliberately left out: the -vv link detail lines of the HyperTransport primary/secondary interface
 * capabilities (their first line is printed).
 */
import { pci } from '../../spec/index.js';
import type { LspciContext, PciDev } from './context.js';
import * as r from './regs.js';
import { bits, flag, flags, hx } from './text.js';

/** AGP 3.0 2.5: status/command registers and the rate bits (x4/x8 in AGP3 mode). */
const AGP_STATUS = 4;
const AGP_COMMAND = 8;
const AGP_SIZEOF = 12;
const AGP_STATUS_AGP3 = 0x0008;
const AGP_RATE_BITS = 3;
const AGP_STATUS_FLAGS_1: ReadonlyArray<readonly [string, number]> = [['Iso', 0x10000]];
const AGP_STATUS_FLAGS_2: ReadonlyArray<readonly [string, number]> = [
  ['SBA', 0x0200],
  ['ITACoh', 0x0100],
  ['GART64', 0x0080],
  ['HTrans', 0x0040],
  ['64bit', 0x0020],
  ['FW', 0x0010],
  ['AGP3', AGP_STATUS_AGP3],
];
const AGP_COMMAND_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['SBA', 0x0200],
  ['AGP', 0x0100],
  ['GART64', 0x0080],
  ['64bit', 0x0020],
  ['FW', 0x0010],
];

function agpRate(rate: number, agp3: boolean): string {
  const rates: string[] = [];
  for (let i = 0; i < AGP_RATE_BITS; i++) if (rate & (1 << i)) rates.push(`x${1 << (i + (agp3 ? 2 : 0))}`);
  return rates.length > 0 ? rates.join(',') : '<none>';
}

/** Requests, async request size and calibration cycle of an AGP status or command register. */
function agpCommon(t: number): string {
  return `RQ=${bits(t, 24, 8) + 1}`;
}

export function capAgp(ctx: LspciContext, d: PciDev, where: number, cap: number): void {
  const out = ctx.out;
  const ver = bits(cap, 4, 4);
  out.line(`AGP version ${hx(ver, 1)}.${hx(bits(cap, 0, 4), 1)}`);
  if (ctx.verbose < 2 || !d.cfg.has(where + AGP_STATUS, AGP_SIZEOF - AGP_STATUS)) return;
  let t = d.cfg.long(where + AGP_STATUS);
  const agp3 = ver >= 3 && (t & AGP_STATUS_AGP3) !== 0;
  out.line(
    `\t\tStatus: ${agpCommon(t)} ${flags(t, AGP_STATUS_FLAGS_1)} ` +
      `ArqSz=${bits(t, 13, 3)} Cal=${bits(t, 10, 3)} ` +
      `${flags(t, AGP_STATUS_FLAGS_2)} Rate=${agpRate(t & 7, agp3)}`,
  );
  t = d.cfg.long(where + AGP_COMMAND);
  out.line(
    `\t\tCommand: ${agpCommon(t)} ArqSz=${bits(t, 13, 3)} Cal=${bits(t, 10, 3)} ` +
      `${flags(t, AGP_COMMAND_FLAGS)} ` +
      `Rate=${agpRate(t & 7, agp3)}`,
  );
}

export function capAf(ctx: LspciContext, d: PciDev, where: number): void {
  const out = ctx.out;
  out.line('PCI Advanced Features');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_AF_CAP, 3)) return;
  const cap = d.cfg.byte(where + r.PCI_AF_CAP);
  out.line(`\t\tAFCap: TP${flag(cap, r.PCI_AF_CAP_TP)} FLR${flag(cap, r.PCI_AF_CAP_FLR)}`);
  out.line(`\t\tAFCtrl: FLR${flag(d.cfg.byte(where + r.PCI_AF_CTRL), r.PCI_AF_CTRL_FLR)}`);
  out.line(`\t\tAFStatus: TP${flag(d.cfg.byte(where + r.PCI_AF_STATUS), r.PCI_AF_STATUS_TP)}`);
}

/** SATA AHCI 1.3.1, 2.4: BAR location of the index/data pair. */
const SATA_BARLOC_FIRST_BAR = 4;
const SATA_BARLOC_LAST_BAR = 9;
const SATA_BARLOC_IN_CONFIG = 15;

export function capSata(ctx: LspciContext, d: PciDev, where: number, cap: number): void {
  const out = ctx.out;
  out.print(`SATA HBA v${bits(cap, 4, 4)}.${bits(cap, 0, 4)}`);
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_SATA_REGS, 4)) {
    out.line('');
    return;
  }
  const regs = d.cfg.long(where + r.PCI_SATA_REGS);
  const bar = bits(regs, 0, 4);
  if (bar >= SATA_BARLOC_FIRST_BAR && bar <= SATA_BARLOC_LAST_BAR) {
    out.line(` BAR${bar - SATA_BARLOC_FIRST_BAR} Offset=${hx(bits(regs, 4, 20), 8)}`);
  } else if (bar === SATA_BARLOC_IN_CONFIG) out.line(' InCfgSpace');
  else out.line(` BAR??${bar}`);
}

/** HyperTransport capability types (HyperTransport I/O Link 3.10, 7.3): name by command bits 15:11. */
const HT_TYPE_NAMES: Record<number, string> = {
  8: 'Switch',
  16: 'Interrupt Discovery and Configuration',
  18: 'UnitID Clumping',
  19: 'Extended Configuration Space Access',
  20: 'Address Mapping',
  22: 'DirectRoute',
  23: 'VCSet',
  24: 'Retry Mode',
  25: 'X86 (reserved)',
};
const HT_CMD_TYPE_HI_SHIFT = 13;
const HT_CMD_TYPE_SHIFT = 11;
const HT_TYPE_REVISION_ID = 0x11;
const HT_TYPE_MSI_MAPPING = 0x15;

/** HyperTransport MSI mapping: the 64-bit base, 1 MiB aligned, unless the mapping is fixed. */
const HT_MSIM_CMD_EN = 0x1;
const HT_MSIM_CMD_FIXD = 0x2;
const HT_MSIM_ADDR_LO = 4;
const HT_MSIM_ADDR_HI = 8;
const HT_MSIM_ADDR_MASK = 0xfff00000;

export function capHt(ctx: LspciContext, d: PciDev, where: number, cmd: number): void {
  const hi = cmd >> HT_CMD_TYPE_HI_SHIFT;
  if (hi === 0) {
    ctx.out.line('HyperTransport: Slave or Primary Interface');
    return;
  }
  if (hi === 1) {
    ctx.out.line('HyperTransport: Host or Secondary Interface');
    return;
  }
  const type = cmd >> HT_CMD_TYPE_SHIFT;
  if (type === HT_TYPE_REVISION_ID) {
    ctx.out.line(
      `HyperTransport: Revision ID: ${bits(cmd, 5, 3)}.${String(bits(cmd, 0, 5)).padStart(2, '0')}`,
    );
    return;
  }
  if (type === HT_TYPE_MSI_MAPPING) {
    ctx.out.line(
      `HyperTransport: MSI Mapping Enable${flag(cmd, HT_MSIM_CMD_EN)} Fixed${flag(cmd, HT_MSIM_CMD_FIXD)}`,
    );
    if (ctx.verbose >= 2 && (cmd & HT_MSIM_CMD_FIXD) === 0 && d.cfg.has(where + HT_MSIM_ADDR_LO, 8)) {
      const low = (d.cfg.long(where + HT_MSIM_ADDR_LO) & HT_MSIM_ADDR_MASK) >>> 0;
      const base = (BigInt(d.cfg.long(where + HT_MSIM_ADDR_HI)) << 32n) | BigInt(low);
      ctx.out.line(`\t\tMapping Address Base: ${hx(base, 16)}`);
    }
    return;
  }
  const name = HT_TYPE_NAMES[type];
  ctx.out.line(name !== undefined ? `HyperTransport: ${name}` : `HyperTransport: #${hx(type, 2)}`);
}

/** PCI-X 2.0 7.2: outstanding split transactions per encoding, and the bridge's secondary clock. */
const PCIX_MAX_OUTSTANDING = [1, 2, 3, 4, 8, 12, 16, 32];
const PCIX_SEC_CLOCK = ['conv', '66MHz', '100MHz', '133MHz', '?4', '?5', '?6', '?7'];
const PCIX_STATUS_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['64bit', 0x00010000],
  ['133MHz', 0x00020000],
  ['SCD', 0x00040000],
  ['USC', 0x00080000],
];
const PCIX_STATUS_DEVICE_COMPLEXITY = 0x00100000;
const PCIX_STATUS_FLAGS_2: ReadonlyArray<readonly [string, number]> = [
  ['RSCEM', 0x20000000],
  ['266MHz', 0x40000000],
  ['533MHz', 0x80000000],
];
const PCIX_CMD_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['DPERE', 0x0001],
  ['ERO', 0x0002],
];
const PCIX_BRIDGE_STATUS_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ...PCIX_STATUS_FLAGS,
  ['SCO', 0x00100000],
  ['SRD', 0x00200000],
];
const PCIX_BRIDGE_SEC_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['64bit', 0x0001],
  ['133MHz', 0x0002],
  ['SCD', 0x0004],
  ['USC', 0x0008],
  ['SCO', 0x0010],
  ['SRD', 0x0020],
];
const PCIX_BRIDGE_UPSTREAM_SPLIT = 8;
const PCIX_BRIDGE_DOWNSTREAM_SPLIT = 12;

/** `Dev=bb:dd.f`: the requester ID a PCI-X status register holds. */
function pcixDev(status: number): string {
  return `Dev=${hx(bits(status, 8, 8), 2)}:${hx(bits(status, 3, 5), 2)}.${bits(status, 0, 3)}`;
}

export function capPcix(ctx: LspciContext, d: PciDev, where: number): void {
  const out = ctx.out;
  const c = d.cfg;
  const ht = c.byte(pci.PCI_HEADER_TYPE) & pci.PCI_HEADER_TYPE_MASK;
  if (ht === pci.PCI_HEADER_TYPE_NORMAL) {
    out.line('PCI-X non-bridge device');
    if (ctx.verbose < 2 || !c.has(where + r.PCI_X_STATUS, 4)) return;
    const cmd = c.word(where + r.PCI_X_CMD);
    const st = c.long(where + r.PCI_X_STATUS);
    out.line(
      `\t\tCommand: ${flags(cmd, PCIX_CMD_FLAGS)} RBC=${1 << (9 + bits(cmd, 2, 2))} ` +
        `OST=${PCIX_MAX_OUTSTANDING[bits(cmd, 4, 3)]}`,
    );
    out.line(
      `\t\tStatus: ${pcixDev(st)} ${flags(st, PCIX_STATUS_FLAGS)} ` +
        `DC=${(st & PCIX_STATUS_DEVICE_COMPLEXITY) !== 0 ? 'bridge' : 'simple'} ` +
        `DMMRBC=${1 << (9 + bits(st, 21, 2))} DMOST=${PCIX_MAX_OUTSTANDING[bits(st, 23, 3)]} ` +
        `DMCRS=${1 << (3 + bits(st, 26, 3))} ${flags(st, PCIX_STATUS_FLAGS_2)}`,
    );
  } else if (ht === pci.PCI_HEADER_TYPE_BRIDGE) {
    out.line('PCI-X bridge device');
    if (ctx.verbose < 2 || !c.has(where + r.PCI_X_BRIDGE_STATUS, 12)) return;
    const sec = c.word(where + r.PCI_X_BRIDGE_SSTATUS);
    out.line(
      `\t\tSecondary Status: ${flags(sec, PCIX_BRIDGE_SEC_FLAGS)} Freq=${PCIX_SEC_CLOCK[bits(sec, 6, 3)]}`,
    );
    const st = c.long(where + r.PCI_X_BRIDGE_STATUS);
    out.line(`\t\tStatus: ${pcixDev(st)} ${flags(st, PCIX_BRIDGE_STATUS_FLAGS)}`);
    for (const [label, reg] of [
      ['Upstream', PCIX_BRIDGE_UPSTREAM_SPLIT],
      ['Downstream', PCIX_BRIDGE_DOWNSTREAM_SPLIT],
    ] as const) {
      const v = c.long(where + reg);
      out.line(`\t\t${label}: Capacity=${bits(v, 0, 16)} CommitmentLimit=${bits(v, 16, 16)}`);
    }
  }
}

/** pciutils reads VPD through the OS; neither a dump nor vfiolab's sysfs offers it. */
export function capVpd(ctx: LspciContext): void {
  ctx.out.line('Vital Product Data');
  if (ctx.verbose >= 2) ctx.out.line('\t\tNot readable');
}

/** PCI EA ECN: entry header fields and the property encodings lspci names. */
const EA_ENT_WRITABLE = 0x40000000;
const EA_ENT_ENABLE = 0x80000000;
const EA_TYPE1_SECONDARY = 4;
const EA_TYPE1_SUBORDINATE = 5;
const EA_BASE_64 = 0x2;
const EA_PROPERTIES: Record<number, string> = {
  0: 'memory space, non-prefetchable',
  1: 'memory space, prefetchable',
  2: 'I/O space',
  3: 'VF memory space, prefetchable',
  4: 'VF memory space, non-prefetchable',
  5: 'allocation behind bridge, non-prefetchable memory',
  6: 'allocation behind bridge, prefetchable memory',
  7: 'allocation behind bridge, I/O space',
  253: 'memory space resource unavailable for use',
  254: 'I/O space resource unavailable for use',
};
const EA_PROPERTY_UNAVAILABLE = 0xff;

function eaProperty(p: number, secondary: boolean): string {
  if (p === EA_PROPERTY_UNAVAILABLE) {
    return secondary
      ? 'entry unavailable for use, PrimaryProperties should be used'
      : 'entry unavailable for use';
  }
  return EA_PROPERTIES[p] ?? `[${hx(p, 2)}]`;
}

/** BAR Equivalent Indicator: BARs 0-5, then special meanings, then VF BARs 0-5 (9-14). */
function eaBei(bei: number): string {
  if (bei <= 5) return `BAR ${bei}`;
  if (bei === 6) return 'resource behind function';
  if (bei === 7) return 'not indicated';
  if (bei === 8) return 'expansion ROM';
  if (bei <= 14) return `VF-BAR ${bei - 9}`;
  return 'reserved';
}

export function capEa(ctx: LspciContext, d: PciDev, where: number, cap: number): void {
  const out = ctx.out;
  const c = d.cfg;
  const entries = bits(cap, 0, 6);
  let entryBase = where + 4;
  let text = `Enhanced Allocation (EA): NumEntries=${entries}`;
  if ((c.byte(pci.PCI_HEADER_TYPE) & pci.PCI_HEADER_TYPE_MASK) === pci.PCI_HEADER_TYPE_BRIDGE) {
    entryBase += 4;
    if (!c.has(where + 4, 2)) {
      out.line(text);
      return;
    }
    text += `, secondary=${c.byte(where + EA_TYPE1_SECONDARY)}`;
    text += `, subordinate=${c.byte(where + EA_TYPE1_SUBORDINATE)}`;
  }
  out.line(text);
  if (ctx.verbose < 2) return;
  for (let entry = 0; entry < entries; entry++) {
    if (!c.has(entryBase, 4)) return;
    const header = c.long(entryBase);
    const es = bits(header, 0, 3);
    if (!c.has(entryBase + 4, es * 4)) return;
    out.line(
      `\t\tEntry ${entry}: Enable${flag(header, EA_ENT_ENABLE)} Writable${flag(header, EA_ENT_WRITABLE)} ` +
        `EntrySize=${es}`,
    );
    out.line(`\t\t\t BAR Equivalent Indicator: ${eaBei(bits(header, 4, 4))}`);
    out.line(`\t\t\t PrimaryProperties: ${eaProperty(bits(header, 8, 8), false)}`);
    out.line(`\t\t\t SecondaryProperties: ${eaProperty(bits(header, 16, 8), true)}`);
    // pciutils reads Base and MaxOffset (and their upper halves) whatever the entry size, so a short
    // entry makes real lspci stop with "Internal bug" unless the bytes were fetched before: strict reads.
    const base = c.strictLong(entryBase + 4);
    const maxOffset = c.strictLong(entryBase + 8);
    let highAt = entryBase + 12;
    out.print('\t\t\t Base: ');
    if (base & EA_BASE_64) {
      out.print(c.strictLong(entryBase + 12).toString(16));
      highAt += 4;
    }
    out.line(hx((base & ~3) >>> 0, 8));
    out.print('\t\t\t MaxOffset: ');
    if (maxOffset & EA_BASE_64) out.print(c.strictLong(highAt).toString(16));
    out.line(hx((maxOffset | 3) >>> 0, 8));
    entryBase += 4 + 4 * es;
  }
}
