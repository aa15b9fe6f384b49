/**
 * The header-type-specific part of `lspci -v`: BAR regions and the expansion ROM (type 0), the bridge
 * bus numbers, windows, secondary status and bridge control (type 1, PCI-to-PCI Bridge 1.2 3.2), the
 * CardBus windows (type 2), and what is left to show for an unknown header. Capabilities follow.
 *
 * Region rules (pciutils 3.9.0): a region is shown when its address, its BAR bits or its size is
 * non-zero; `[disabled]` when the command register does not decode its space; `[virtual]` when the OS
 * reports an address the BAR itself does not hold (a VF, whose BARs live in the PF's SR-IOV capability);
 * `[size=]` only when the OS told the size (never for a dump). Without resource flags (a dump), the
 * upper half of a 64-bit BAR is looked at as a region of its own: it shows as
 * `Memory at <unassigned> (32-bit, ...)` when non-zero, as real lspci -F prints it.
 */
import { pci } from '../../spec/index.js';
import { showCaps } from './caps.js';
import { type LspciContext, type PciDev, sizeText } from './context.js';
import { resourceFlagsToBar } from './device.js';
import * as r from './regs.js';
import { flags, hx } from './text.js';

const MEM_ADDR_MASK = ~0xfn;
const IO_ADDR_MASK = ~0x3n;
const ROM_ADDR_MASK = ~0x7ffn;
const ALL_ONES_32 = 0xffffffff;

function barType(t: number): string {
  switch (t) {
    case pci.PCI_BASE_ADDRESS_MEM_TYPE_32:
      return '32-bit';
    case pci.PCI_BASE_ADDRESS_MEM_TYPE_64:
      return '64-bit';
    case r.PCI_BASE_ADDRESS_MEM_TYPE_1M:
      return 'low-1M';
    default:
      return 'type 3';
  }
}

/** Region lines for the first `count` BARs. `noConfig`: the header is unknown, use the OS view only. */
export function showBases(ctx: LspciContext, d: PciDev, count: number, noConfig: boolean): void {
  const out = ctx.out;
  const cmd = noConfig ? pci.PCI_COMMAND_IO | pci.PCI_COMMAND_MEMORY : d.cfg.word(pci.PCI_COMMAND);
  for (let i = 0; i < count; i++) {
    const pos = d.baseAddr[i] ?? 0n;
    const len = d.sizes?.[i] ?? 0n;
    const ioflg = d.ioFlags?.[i] ?? 0n;
    let flg: number;
    if (d.ioFlags !== undefined) flg = resourceFlagsToBar(ioflg);
    else flg = noConfig ? 0 : d.cfg.long(pci.PCI_BASE_ADDRESS_0 + 4 * i);
    if (flg === ALL_ONES_32) flg = 0;
    if (pos === 0n && flg === 0 && len === 0n) continue;
    out.print(ctx.verbose > 1 ? `\tRegion ${i}: ` : '\t');
    let hwLower = 0;
    let hwUpper = 0;
    let broken = false;
    let virtual = false;
    if (d.ioFlags !== undefined && !noConfig) {
      // What the BAR itself holds, to tell an address the OS assigned but the device lacks.
      hwLower = d.cfg.long(pci.PCI_BASE_ADDRESS_0 + 4 * i);
      if ((hwLower & r.PCI_BASE_ADDRESS_SPACE) === (resourceFlagsToBar(ioflg) & r.PCI_BASE_ADDRESS_SPACE)) {
        const isMem = (ioflg & r.IORESOURCE_TYPE_BITS) === r.IORESOURCE_MEM;
        if (isMem && (hwLower & pci.PCI_BASE_ADDRESS_MEM_TYPE_MASK) === pci.PCI_BASE_ADDRESS_MEM_TYPE_64) {
          // SPEC-DEVIATION: faithful to pciutils 3.9.0, which reads the upper half one byte (not one
          // dword) after the lower half.
          if (i >= count - 1) broken = true;
          else hwUpper = d.cfg.long(pci.PCI_BASE_ADDRESS_0 + 4 * i + 1);
        }
        if (pos !== 0n && hwLower === 0 && hwUpper === 0 && (ioflg & r.IORESOURCE_PCI_EA_BEI) === 0n)
          virtual = true;
      }
    }
    if ((flg & pci.PCI_BASE_ADDRESS_SPACE_IO) !== 0) {
      const a = pos & IO_ADDR_MASK;
      out.print('I/O ports at ');
      if (a !== 0n || (cmd & pci.PCI_COMMAND_IO) !== 0) out.print(hx(a, 4));
      else out.print(hwLower !== 0 ? '<ignored>' : '<unassigned>');
      if (virtual) out.print(' [virtual]');
      else if ((cmd & pci.PCI_COMMAND_IO) === 0) out.print(' [disabled]');
    } else {
      const t = flg & pci.PCI_BASE_ADDRESS_MEM_TYPE_MASK;
      const a = pos & MEM_ADDR_MASK;
      out.print('Memory at ');
      if (broken) out.print('<broken-64-bit-slot>');
      else if (a !== 0n) out.print(hx(a, 8));
      else out.print(hwLower !== 0 || hwUpper !== 0 ? '<ignored>' : '<unassigned>');
      const pref = (flg & pci.PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0 ? '' : 'non-';
      out.print(` (${barType(t)}, ${pref}prefetchable)`);
      if (virtual) out.print(' [virtual]');
      else if ((cmd & pci.PCI_COMMAND_MEMORY) === 0) out.print(' [disabled]');
    }
    if ((ioflg & r.IORESOURCE_PCI_EA_BEI) !== 0n) out.print(' [enhanced]');
    out.line(sizeText(len));
  }
}

/** The expansion ROM line; `reg` is the ROM BAR offset, or undefined for an unknown header. */
export function showRom(ctx: LspciContext, d: PciDev, reg: number | undefined): void {
  const rom = d.romBase;
  const len = d.romSize ?? 0n;
  const ioflg = d.romFlags ?? 0n;
  let flg = reg !== undefined ? d.cfg.long(reg) : resourceFlagsToBar(ioflg);
  const cmd = reg !== undefined ? d.cfg.word(pci.PCI_COMMAND) : pci.PCI_COMMAND_MEMORY;
  let virtual = false;
  if (rom === 0n && flg === 0 && len === 0n) return;
  const romMask = pci.PCI_ROM_ADDRESS_MASK;
  const ea = (ioflg & r.IORESOURCE_PCI_EA_BEI) !== 0n;
  if (reg !== undefined && (rom & ROM_ADDR_MASK) !== 0n && (flg & romMask) === 0 && !ea) {
    flg = Number(rom & 0xffffffffn);
    virtual = true;
  }
  let text = '\tExpansion ROM at ';
  if ((rom & ROM_ADDR_MASK) !== 0n) text += hx(rom & ROM_ADDR_MASK, 8);
  else text += (flg & romMask) !== 0 ? '<ignored>' : '<unassigned>';
  if (virtual) text += ' [virtual]';
  if ((flg & pci.PCI_ROM_ADDRESS_ENABLE) === 0) text += ' [disabled]';
  else if (!virtual && (cmd & pci.PCI_COMMAND_MEMORY) === 0) text += ' [disabled by cmd]';
  if (ea) text += ' [enhanced]';
  ctx.out.line(text + sizeText(len));
}

/** A bridge window line: `prefix: base-limit [size=..] [NN-bit]`. */
function showRange(
  ctx: LspciContext,
  prefix: string,
  base: bigint,
  limit: bigint,
  bitsWide: number,
  off: boolean,
) {
  let text = `${prefix}:`;
  const digits = Math.floor((bitsWide + 3) / 4);
  if (base <= limit || ctx.verbose > 2) text += ` ${hx(base, digits)}-${hx(limit, digits)}`;
  if (!off && base <= limit) text += sizeText(limit - base + 1n);
  else text += ' [disabled]';
  if (bitsWide !== 0) text += ` [${bitsWide}-bit]`;
  ctx.out.line(text);
}

/** The DEVSEL timing a status register reports. */
export function devselName(status: number): string {
  switch (status & pci.PCI_STATUS_DEVSEL_MASK) {
    case r.PCI_STATUS_DEVSEL_SLOW:
      return 'slow';
    case r.PCI_STATUS_DEVSEL_MEDIUM:
      return 'medium';
    case r.PCI_STATUS_DEVSEL_FAST:
      return 'fast';
    default:
      return '??';
  }
}

const WINDOW_ADDR_MASK = ~0xfn;
const U32 = 0xffffffffn;
/** Bridge windows are 4 KiB (I/O) and 1 MiB (memory) granular (PCI-to-PCI Bridge 1.2, 3.2.5). */
const IO_WINDOW_GRANULE = 0xfffn;
const MEM_WINDOW_GRANULE = 0xfffffn;

function showIoWindow(ctx: LspciContext, d: PciDev): void {
  const c = d.cfg;
  const win = d.bridgeWindows?.[0];
  const off = win !== undefined && win.size === 0n;
  let base = c.byte(pci.PCI_IO_BASE);
  let limit = c.byte(pci.PCI_IO_LIMIT);
  const type = base & r.PCI_IO_RANGE_TYPE_MASK;
  if (win !== undefined && !off) {
    // pciutils keeps the I/O and memory windows in 32-bit variables.
    const b = win.base & WINDOW_ADDR_MASK & U32;
    const t = Number(win.base & BigInt(r.PCI_IO_RANGE_TYPE_MASK));
    const l = (b + win.size - 1n) & U32;
    showRange(ctx, '\tI/O behind bridge', b, l, t === r.PCI_IO_RANGE_TYPE_32 ? 32 : 16, off);
  } else if (
    type !== (limit & r.PCI_IO_RANGE_TYPE_MASK) ||
    (type !== r.PCI_IO_RANGE_TYPE_16 && type !== r.PCI_IO_RANGE_TYPE_32)
  ) {
    ctx.out.line(`\t!!! Unknown I/O range types ${hx(base, 1)}/${hx(limit, 1)}`);
  } else {
    base = (base & r.PCI_IO_RANGE_MASK) << 8;
    limit = (limit & r.PCI_IO_RANGE_MASK) << 8;
    if (type === r.PCI_IO_RANGE_TYPE_32) {
      base = (base | (c.word(pci.PCI_IO_BASE_UPPER16) << 16)) >>> 0;
      limit = (limit | (c.word(pci.PCI_IO_LIMIT_UPPER16) << 16)) >>> 0;
    }
    // A bridge without I/O decoding reads zeros and (live) reports no window: no line at all.
    if (!(base === 0 && limit === 0 && off)) {
      const bitsWide = type === r.PCI_IO_RANGE_TYPE_32 ? 32 : 16;
      showRange(ctx, '\tI/O behind bridge', BigInt(base), BigInt(limit) + IO_WINDOW_GRANULE, bitsWide, off);
    }
  }
}

function showMemWindow(ctx: LspciContext, d: PciDev): void {
  const c = d.cfg;
  const win = d.bridgeWindows?.[1];
  const off = win !== undefined && win.size === 0n;
  const base = c.word(pci.PCI_MEMORY_BASE);
  const limit = c.word(pci.PCI_MEMORY_LIMIT);
  const type = base & r.PCI_MEMORY_RANGE_TYPE_MASK;
  if (win !== undefined && !off) {
    const b = win.base & WINDOW_ADDR_MASK & U32;
    showRange(ctx, '\tMemory behind bridge', b, (b + win.size - 1n) & U32, 32, off);
  } else if (type !== (limit & r.PCI_MEMORY_RANGE_TYPE_MASK) || type !== 0) {
    ctx.out.line(`\t!!! Unknown memory range types ${hx(base, 1)}/${hx(limit, 1)}`);
  } else {
    const b = BigInt(((base & r.PCI_MEMORY_RANGE_MASK) << 16) >>> 0);
    const l = BigInt(((limit & r.PCI_MEMORY_RANGE_MASK) << 16) >>> 0) + MEM_WINDOW_GRANULE;
    showRange(ctx, '\tMemory behind bridge', b, l & U32, 32, off);
  }
}

function showPrefWindow(ctx: LspciContext, d: PciDev): void {
  const c = d.cfg;
  const win = d.bridgeWindows?.[2];
  const off = win !== undefined && win.size === 0n;
  const base = c.word(pci.PCI_PREF_MEMORY_BASE);
  const limit = c.word(pci.PCI_PREF_MEMORY_LIMIT);
  const type = base & r.PCI_PREF_RANGE_TYPE_MASK;
  const prefix = '\tPrefetchable memory behind bridge';
  if (win !== undefined && !off) {
    const b = win.base & WINDOW_ADDR_MASK;
    const t = Number(win.base & BigInt(r.PCI_MEMORY_RANGE_TYPE_MASK));
    showRange(ctx, prefix, b, b + win.size - 1n, t === r.PCI_PREF_RANGE_TYPE_64 ? 64 : 32, off);
  } else if (
    type !== (limit & r.PCI_PREF_RANGE_TYPE_MASK) ||
    (type !== r.PCI_PREF_RANGE_TYPE_32 && type !== r.PCI_PREF_RANGE_TYPE_64)
  ) {
    ctx.out.line(`\t!!! Unknown prefetchable memory range types ${hx(base, 1)}/${hx(limit, 1)}`);
  } else {
    let b = BigInt(((base & r.PCI_PREF_RANGE_MASK) << 16) >>> 0);
    let l = BigInt(((limit & r.PCI_PREF_RANGE_MASK) << 16) >>> 0);
    if (type === r.PCI_PREF_RANGE_TYPE_64) {
      b |= BigInt(c.long(pci.PCI_PREF_BASE_UPPER32)) << 32n;
      l |= BigInt(c.long(pci.PCI_PREF_LIMIT_UPPER32)) << 32n;
    }
    if (!(b === 0n && l === 0n && off)) {
      showRange(ctx, prefix, b, l + MEM_WINDOW_GRANULE, type === r.PCI_PREF_RANGE_TYPE_64 ? 64 : 32, off);
    }
  }
}

const SEC_STATUS_FLAGS_1: ReadonlyArray<readonly [string, number]> = [
  ['66MHz', pci.PCI_STATUS_66MHZ],
  ['FastB2B', pci.PCI_STATUS_FAST_BACK],
  ['ParErr', pci.PCI_STATUS_PARITY],
];
const SEC_STATUS_FLAGS_2: ReadonlyArray<readonly [string, number]> = [
  ['>TAbort', pci.PCI_STATUS_SIG_TARGET_ABORT],
  ['<TAbort', pci.PCI_STATUS_REC_TARGET_ABORT],
  ['<MAbort', pci.PCI_STATUS_REC_MASTER_ABORT],
  ['<SERR', pci.PCI_STATUS_SIG_SYSTEM_ERROR],
  ['<PERR', pci.PCI_STATUS_DETECTED_PARITY],
];
const BRIDGE_CTL_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['Parity', r.PCI_BRIDGE_CTL_PARITY],
  ['SERR', r.PCI_BRIDGE_CTL_SERR],
  ['NoISA', r.PCI_BRIDGE_CTL_ISA],
  ['VGA', r.PCI_BRIDGE_CTL_VGA],
  ['VGA16', r.PCI_BRIDGE_CTL_VGA_16BIT],
  ['MAbort', r.PCI_BRIDGE_CTL_MASTER_ABORT],
  ['>Reset', r.PCI_BRIDGE_CTL_BUS_RESET],
  ['FastB2B', r.PCI_BRIDGE_CTL_FAST_BACK],
];
const BRIDGE_CTL_FLAGS_2: ReadonlyArray<readonly [string, number]> = [
  ['PriDiscTmr', r.PCI_BRIDGE_CTL_PRI_DISCARD_TIMER],
  ['SecDiscTmr', r.PCI_BRIDGE_CTL_SEC_DISCARD_TIMER],
  ['DiscTmrStat', r.PCI_BRIDGE_CTL_DISCARD_TIMER_STATUS],
  ['DiscTmrSERREn', r.PCI_BRIDGE_CTL_DISCARD_TIMER_SERR_EN],
];

export function showHtype0(ctx: LspciContext, d: PciDev): void {
  showBases(ctx, d, pci.PCI_NUM_BARS, false);
  showRom(ctx, d, pci.PCI_ROM_ADDRESS);
  showCaps(ctx, d, pci.PCI_CAPABILITY_LIST);
}

export function showHtype1(ctx: LspciContext, d: PciDev): void {
  const c = d.cfg;
  showBases(ctx, d, 2, false);
  ctx.out.line(
    `\tBus: primary=${hx(c.byte(pci.PCI_PRIMARY_BUS), 2)}, ` +
      `secondary=${hx(c.byte(pci.PCI_SECONDARY_BUS), 2)}, ` +
      `subordinate=${hx(c.byte(pci.PCI_SUBORDINATE_BUS), 2)}, ` +
      `sec-latency=${c.byte(pci.PCI_SEC_LATENCY_TIMER)}`,
  );
  showIoWindow(ctx, d);
  showMemWindow(ctx, d);
  showPrefWindow(ctx, d);
  const secStatus = c.word(pci.PCI_SEC_STATUS);
  if (ctx.verbose > 1) {
    ctx.out.line(
      `\tSecondary status: ${flags(secStatus, SEC_STATUS_FLAGS_1)} DEVSEL=${devselName(secStatus)} ` +
        flags(secStatus, SEC_STATUS_FLAGS_2),
    );
  }
  showRom(ctx, d, pci.PCI_ROM_ADDRESS1);
  if (ctx.verbose > 1) {
    const brc = c.word(pci.PCI_BRIDGE_CONTROL);
    ctx.out.line(`\tBridgeCtl: ${flags(brc, BRIDGE_CTL_FLAGS)}`);
    ctx.out.line(`\t\t${flags(brc, BRIDGE_CTL_FLAGS_2)}`);
  }
  showCaps(ctx, d, pci.PCI_CAPABILITY_LIST);
}

const CB_BRIDGE_CTL_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['Parity', r.PCI_CB_BRIDGE_CTL_PARITY],
  ['SERR', r.PCI_CB_BRIDGE_CTL_SERR],
  ['ISA', r.PCI_CB_BRIDGE_CTL_ISA],
  ['VGA', r.PCI_CB_BRIDGE_CTL_VGA],
  ['MAbort', r.PCI_CB_BRIDGE_CTL_MASTER_ABORT],
  ['>Reset', r.PCI_CB_BRIDGE_CTL_CB_RESET],
  ['16bInt', r.PCI_CB_BRIDGE_CTL_16BIT_INT],
  ['PostWrite', r.PCI_CB_BRIDGE_CTL_POST_WRITES],
];

/** CardBus windows are 4 KiB (memory) and 4-byte (I/O) granular (PC Card 8.0, 4.5.2). */
const CB_MEM_GRANULE = 0xfff;
const CB_IO_GRANULE = 3;

export function showHtype2(ctx: LspciContext, d: PciDev): void {
  const c = d.cfg;
  const out = ctx.out;
  const cmd = c.word(pci.PCI_COMMAND);
  const brc = c.word(r.PCI_CB_BRIDGE_CONTROL);
  const verb = ctx.verbose > 2;
  showBases(ctx, d, 1, false);
  out.line(
    `\tBus: primary=${hx(c.byte(r.PCI_CB_PRIMARY_BUS), 2)}, secondary=${hx(c.byte(r.PCI_CB_CARD_BUS), 2)}, ` +
      `subordinate=${hx(c.byte(r.PCI_CB_SUBORDINATE_BUS), 2)}, sec-latency=${c.byte(r.PCI_CB_LATENCY_TIMER)}`,
  );
  for (let i = 0; i < 2; i++) {
    const base = c.long(r.PCI_CB_MEMORY_BASE_0 + 8 * i);
    const limit = (c.long(r.PCI_CB_MEMORY_LIMIT_0 + 8 * i) + CB_MEM_GRANULE) >>> 0;
    if (base <= limit || verb) {
      const dis = (cmd & pci.PCI_COMMAND_MEMORY) !== 0 ? '' : ' [disabled]';
      const pref = (brc & (r.PCI_CB_BRIDGE_CTL_PREFETCH_MEM0 << i)) !== 0 ? ' (prefetchable)' : '';
      out.line(`\tMemory window ${i}: ${hx(base, 8)}-${hx(limit, 8)}${dis}${pref}`);
    }
  }
  for (let i = 0; i < 2; i++) {
    let base = c.long(r.PCI_CB_IO_BASE_0 + 8 * i);
    let limit = c.long(r.PCI_CB_IO_LIMIT_0 + 8 * i);
    if ((base & r.PCI_IO_RANGE_TYPE_32) === 0) {
      base &= 0xffff;
      limit &= 0xffff;
    }
    base = (base & r.PCI_CB_IO_RANGE_MASK) >>> 0;
    limit = (((limit & r.PCI_CB_IO_RANGE_MASK) >>> 0) + CB_IO_GRANULE) >>> 0;
    if (base <= limit || verb) {
      const dis = (cmd & pci.PCI_COMMAND_IO) !== 0 ? '' : ' [disabled]';
      out.line(`\tI/O window ${i}: ${hx(base, 8)}-${hx(limit, 8)}${dis}`);
    }
  }
  if ((c.word(r.PCI_CB_SEC_STATUS) & pci.PCI_STATUS_SIG_SYSTEM_ERROR) !== 0)
    out.line('\tSecondary status: SERR');
  if (ctx.verbose > 1) out.line(`\tBridgeCtl: ${flags(brc, CB_BRIDGE_CTL_FLAGS)}`);
  if (d.configCached < r.PCI_CB_HEADER_SIZE) {
    out.line('\t<access denied to the rest>');
    return;
  }
  const exca = c.word(r.PCI_CB_LEGACY_MODE_BASE);
  if (exca !== 0) out.line(`\t16-bit legacy interface ports at ${hx(exca, 4)}`);
  showCaps(ctx, d, r.PCI_CB_CAPABILITY_LIST);
}

/** An unknown header, or no config access: only what the OS reported. */
export function showHtypeUnknown(ctx: LspciContext, d: PciDev): void {
  if (ctx.opts.busCentric) return;
  showBases(ctx, d, pci.PCI_NUM_BARS, true);
  for (const w of d.bridgeWindows ?? []) {
    if (w.base === 0n) continue;
    let prefix: string;
    let bitsWide: number;
    if ((w.flags & r.IORESOURCE_IO) !== 0n) {
      bitsWide = (w.flags & r.IORESOURCE_IO_16BIT_ADDR) !== 0n ? 16 : 32;
      prefix = '\tI/O behind bridge';
    } else if ((w.flags & r.IORESOURCE_MEM) !== 0n) {
      bitsWide = (w.flags & r.IORESOURCE_MEM_64) !== 0n ? 64 : 32;
      prefix =
        (w.flags & r.IORESOURCE_PREFETCH) !== 0n
          ? '\tPrefetchable memory behind bridge'
          : '\tMemory behind bridge';
    } else {
      bitsWide = 0;
      prefix = '\tUnknown resource behind bridge';
    }
    showRange(ctx, prefix, w.base, w.base + w.size - 1n, bitsWide, false);
  }
  showRom(ctx, d, undefined);
}
