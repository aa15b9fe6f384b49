/**
 * One device's entry in lspci's normal listing: the terse line (`BB:DD.F Class: Vendor Device`), the
 * -v/-vv/-vvv block (control and status, latency, interrupt, then the header-type part and the
 * capabilities), the kernel driver lines (-k, or -v), the hex dump (-x/-xxx/-xxxx), and the
 * machine-readable forms (-m, -mm).
 */
import { pci } from '../../spec/index.js';
import type { LspciContext, PciDev } from './context.js';
import { devselName, showHtype0, showHtype1, showHtype2, showHtypeUnknown } from './header.js';
import * as r from './regs.js';
import { flags, hx } from './text.js';
import type { Topology } from './tree.js';

/** The slot as lspci prints it: `[dddd:]bb:dd.f`, or the bridge path with -P. */
export function slotName(ctx: LspciContext, d: PciDev, topo: Topology | undefined): string {
  const showDomain = ctx.opts.machine === 0 ? ctx.domains !== 0 : d.domain !== 0 || ctx.domains >= 2;
  return (showDomain ? `${hx(d.domain, 4)}:` : '') + slotPath(ctx, d, topo);
}

function slotPath(ctx: LspciContext, d: PciDev, topo: Topology | undefined): string {
  if (ctx.opts.path > 0 && topo !== undefined) {
    const bridge = topo.parentBridgeDevice(d);
    if (bridge !== undefined) {
      const own =
        ctx.opts.path > 1 ? `${hx(d.bus, 2)}:${hx(d.dev, 2)}.${d.func}` : `${hx(d.dev, 2)}.${d.func}`;
      return `${slotPath(ctx, bridge, topo)}/${own}`;
    }
  }
  return `${hx(d.bus, 2)}:${hx(d.dev, 2)}.${d.func}`;
}

function showTerse(ctx: LspciContext, d: PciDev, topo: Topology | undefined): void {
  const out = ctx.out;
  // The slot goes out before the names are looked up: a broken pci.ids stops lspci after it.
  out.print(slotName(ctx, d, topo));
  out.print(` ${ctx.names.deviceClass(d.deviceClass)}: ${ctx.names.vendorDevice(d.vendorId, d.deviceId)}`);
  if (d.revId !== 0) out.print(` (rev ${hx(d.revId, 2)})`);
  if (ctx.verbose > 0) {
    const progIf = ctx.names.progIf(d.deviceClass, d.progIf);
    if (d.progIf !== 0 || progIf !== undefined) {
      out.print(` (prog-if ${hx(d.progIf, 2)}${progIf !== undefined ? ` [${progIf}]` : ''})`);
    }
  }
  out.line('');
  if (ctx.verbose > 0 || ctx.opts.kernel) {
    const s = d.subsys;
    if (s !== undefined && s.vendor !== 0 && s.vendor !== 0xffff) {
      out.line(`\tSubsystem: ${ctx.names.subsystem(d.vendorId, d.deviceId, s.vendor, s.device)}`);
    }
  }
}

const CONTROL_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['I/O', pci.PCI_COMMAND_IO],
  ['Mem', pci.PCI_COMMAND_MEMORY],
  ['BusMaster', pci.PCI_COMMAND_MASTER],
  ['SpecCycle', pci.PCI_COMMAND_SPECIAL],
  ['MemWINV', pci.PCI_COMMAND_INVALIDATE],
  ['VGASnoop', pci.PCI_COMMAND_VGA_PALETTE],
  ['ParErr', pci.PCI_COMMAND_PARITY],
  ['Stepping', pci.PCI_COMMAND_WAIT],
  ['SERR', pci.PCI_COMMAND_SERR],
  ['FastB2B', pci.PCI_COMMAND_FAST_BACK],
  ['DisINTx', pci.PCI_COMMAND_INTX_DISABLE],
];
const STATUS_FLAGS_1: ReadonlyArray<readonly [string, number]> = [
  ['Cap', pci.PCI_STATUS_CAP_LIST],
  ['66MHz', pci.PCI_STATUS_66MHZ],
  ['UDF', pci.PCI_STATUS_UDF],
  ['FastB2B', pci.PCI_STATUS_FAST_BACK],
  ['ParErr', pci.PCI_STATUS_PARITY],
];
const STATUS_FLAGS_2: ReadonlyArray<readonly [string, number]> = [
  ['>TAbort', pci.PCI_STATUS_SIG_TARGET_ABORT],
  ['<TAbort', pci.PCI_STATUS_REC_TARGET_ABORT],
  ['<MAbort', pci.PCI_STATUS_REC_MASTER_ABORT],
  ['>SERR', pci.PCI_STATUS_SIG_SYSTEM_ERROR],
  ['<PERR', pci.PCI_STATUS_DETECTED_PARITY],
  ['INTx', pci.PCI_STATUS_INTERRUPT],
];
/** MIN_GNT and MAX_LAT count in units of 250 ns (PCI Local Bus 3.0, 6.2.4). */
const LATENCY_UNIT_NS = 250;
/** The cache line size register counts 32-bit words. */
const CACHE_LINE_UNIT_BYTES = 4;
/** A header type that cannot be read shows as ff (pciutils stores -1 in a byte). */
const HEADER_TYPE_UNREADABLE = 0xff;

/** Pin 1..4 is INTA#..INTD#; lspci prints any other value as the byte 'A'+pin-1, which past 0x7f is not
 * text: a UTF-8 reader of lspci's output sees U+FFFD there, and so does ours. */
function interruptPin(pin: number): string {
  if (pin === 0) return '?';
  const code = ('A'.charCodeAt(0) + pin - 1) & 0xff;
  return code < ASCII_LIMIT ? String.fromCharCode(code) : '\ufffd';
}
const ASCII_LIMIT = 0x80;

function showVerbose(ctx: LspciContext, d: PciDev, topo: Topology | undefined): void {
  const out = ctx.out;
  const c = d.cfg;
  showTerse(ctx, d, topo);
  for (const w of d.baseWarnings) out.error(w);
  const htype = d.noConfigAccess
    ? HEADER_TYPE_UNREADABLE
    : c.byte(pci.PCI_HEADER_TYPE) & pci.PCI_HEADER_TYPE_MASK;
  let bist = 0;
  let maxLat = 0;
  let minGnt = 0;
  let unknown = false;
  const invalidClass = `\t!!! Invalid class ${hx(d.deviceClass, 4)} for header type ${hx(htype, 2)}`;
  switch (htype) {
    case pci.PCI_HEADER_TYPE_NORMAL:
      if (d.deviceClass === r.PCI_CLASS_BRIDGE_PCI) out.line(invalidClass);
      bist = c.byte(pci.PCI_BIST);
      maxLat = c.byte(pci.PCI_MAX_LAT);
      minGnt = c.byte(pci.PCI_MIN_GNT);
      break;
    case pci.PCI_HEADER_TYPE_BRIDGE:
    case r.PCI_HEADER_TYPE_CARDBUS:
      if (d.deviceClass >> 8 !== r.PCI_BASE_CLASS_BRIDGE) out.line(invalidClass);
      bist = c.byte(pci.PCI_BIST);
      break;
    default:
      if (!d.noConfigAccess) out.line(`\t!!! Unknown header type ${hx(htype, 2)}`);
      unknown = true;
  }
  const cmd = c.word(pci.PCI_COMMAND);
  const status = c.word(pci.PCI_STATUS);
  if (!unknown && ctx.verbose > 1) {
    out.line(`\tControl: ${flags(cmd, CONTROL_FLAGS)}`);
    out.line(
      `\tStatus: ${flags(status, STATUS_FLAGS_1)} DEVSEL=${devselName(status)} ` +
        flags(status, STATUS_FLAGS_2),
    );
    if ((cmd & pci.PCI_COMMAND_MASTER) !== 0) {
      let line = `\tLatency: ${c.byte(pci.PCI_LATENCY_TIMER)}`;
      if (minGnt !== 0 || maxLat !== 0) {
        const parts: string[] = [];
        if (minGnt !== 0) parts.push(`${minGnt * LATENCY_UNIT_NS}ns min`);
        if (maxLat !== 0) parts.push(`${maxLat * LATENCY_UNIT_NS}ns max`);
        line += ` (${parts.join(', ')})`;
      }
      const cacheLine = c.byte(pci.PCI_CACHE_LINE_SIZE);
      if (cacheLine !== 0) line += `, Cache Line Size: ${cacheLine * CACHE_LINE_UNIT_BYTES} bytes`;
      out.line(line);
    }
  }
  if (ctx.verbose > 1) {
    const pin = unknown ? 0 : c.byte(pci.PCI_INTERRUPT_PIN);
    if (pin !== 0 || d.irq !== 0) out.line(`\tInterrupt: pin ${interruptPin(pin)} routed to IRQ ${d.irq}`);
  }
  if (!unknown && ctx.verbose <= 1) {
    let line = '\tFlags: ';
    if (cmd & pci.PCI_COMMAND_MASTER) line += 'bus master, ';
    if (cmd & pci.PCI_COMMAND_VGA_PALETTE) line += 'VGA palette snoop, ';
    if (cmd & pci.PCI_COMMAND_WAIT) line += 'stepping, ';
    if (cmd & pci.PCI_COMMAND_FAST_BACK) line += 'fast Back2Back, ';
    if (status & pci.PCI_STATUS_66MHZ) line += '66MHz, ';
    if (status & pci.PCI_STATUS_UDF) line += 'user-definable features, ';
    line += `${devselName(status)} devsel`;
    if (cmd & pci.PCI_COMMAND_MASTER) line += `, latency ${c.byte(pci.PCI_LATENCY_TIMER)}`;
    if (d.irq !== 0) line += `, IRQ ${d.irq}`;
    out.line(line);
  }
  if (bist & r.PCI_BIST_CAPABLE) {
    if (bist & r.PCI_BIST_START) out.line('\tBIST is running');
    else out.line(`\tBIST result: ${hx(bist & r.PCI_BIST_CODE_MASK, 2)}`);
  }
  switch (htype) {
    case pci.PCI_HEADER_TYPE_NORMAL:
      showHtype0(ctx, d);
      return;
    case pci.PCI_HEADER_TYPE_BRIDGE:
      showHtype1(ctx, d);
      return;
    case r.PCI_HEADER_TYPE_CARDBUS:
      showHtype2(ctx, d);
      return;
    default:
      showHtypeUnknown(ctx, d);
      return;
  }
}

/** Modules without consecutive repeats (lspci drops a module named twice in a row). */
function modules(d: PciDev): string[] {
  return d.modules.filter((m, i) => i === 0 || m !== d.modules[i - 1]);
}

/**
 * Kernel driver lines. A dump has neither: pciutils' dump back end knows no driver and no modalias.
 * SPEC-DEVIATION: real lspci prints `lspci: Unable to load libkmod resources` on stderr on a host
 * without /lib/modules; modules here come from the sysfs view instead of libkmod.
 */
function showKernel(ctx: LspciContext, d: PciDev): void {
  if (d.driver !== undefined) ctx.out.line(`\tKernel driver in use: ${d.driver}`);
  const mods = modules(d);
  if (mods.length > 0) ctx.out.line(`\tKernel modules: ${mods.join(', ')}`);
}

function showHexDump(ctx: LspciContext, d: PciDev): void {
  const out = ctx.out;
  if (d.noConfigAccess) {
    out.line('WARNING: Cannot show hex-dump of the config space');
    return;
  }
  let count = d.configCached;
  if (ctx.opts.hex >= 3 && d.cfg.has(count, pci.PCI_CFG_SPACE_SIZE - count)) {
    count = pci.PCI_CFG_SPACE_SIZE;
    if (ctx.opts.hex >= 4 && d.cfg.has(count, pci.PCI_CFG_SPACE_EXP_SIZE - count))
      count = pci.PCI_CFG_SPACE_EXP_SIZE;
  }
  out.print(hexLines(d.cfg.bytes, count));
}

const HEX_ROW_BYTES = 16;

/** Two-digit hex of every byte value, so that dumping 4 KiB per function stays cheap. */
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => hx(i, 2));

/** `XX: xx xx ...` rows of `count` bytes, as lspci -x prints them. */
export function hexLines(bytes: Uint8Array, count: number): string {
  const rows: string[] = [];
  for (let at = 0; at < count; at += HEX_ROW_BYTES) {
    let row = `${hx(at, 2)}:`;
    const end = Math.min(at + HEX_ROW_BYTES, count);
    for (let i = at; i < end; i++) row += ` ${HEX_BYTE[bytes[i]!]}`;
    rows.push(`${row}\n`);
  }
  return rows.join('');
}

function shellQuoted(text: string): string {
  return ` "${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function showMachine(ctx: LspciContext, d: PciDev, topo: Topology | undefined): void {
  const out = ctx.out;
  const n = ctx.names;
  const s =
    d.subsys !== undefined && d.subsys.vendor !== 0 && d.subsys.vendor !== 0xffff ? d.subsys : undefined;
  if (ctx.verbose > 0) {
    out.line(`${ctx.opts.machine >= 2 ? 'Slot:' : 'Device:'}\t${slotName(ctx, d, topo)}`);
    out.line(`Class:\t${n.deviceClass(d.deviceClass)}`);
    out.line(`Vendor:\t${n.vendor(d.vendorId)}`);
    out.line(`Device:\t${n.device(d.vendorId, d.deviceId)}`);
    if (s !== undefined) {
      out.line(`SVendor:\t${n.subsystemVendor(s.vendor)}`);
      out.line(`SDevice:\t${n.subsystemDevice(d.vendorId, d.deviceId, s.vendor, s.device)}`);
    }
    if (d.revId !== 0) out.line(`Rev:\t${hx(d.revId, 2)}`);
    out.line(`ProgIf:\t${hx(d.progIf, 2)}`);
    if (ctx.opts.kernel) {
      if (d.driver !== undefined) out.line(`Driver:\t${d.driver}`);
      for (const m of modules(d)) out.line(`Module:\t${m}`);
    }
    return;
  }
  let line = slotName(ctx, d, topo);
  line += shellQuoted(n.deviceClass(d.deviceClass));
  line += shellQuoted(n.vendor(d.vendorId));
  line += shellQuoted(n.device(d.vendorId, d.deviceId));
  if (d.revId !== 0) line += ` -r${hx(d.revId, 2)}`;
  line += ` -p${hx(d.progIf, 2)}`;
  if (s !== undefined) {
    line += shellQuoted(n.subsystemVendor(s.vendor));
    line += shellQuoted(n.subsystemDevice(d.vendorId, d.deviceId, s.vendor, s.device));
  } else line += ' "" ""';
  out.line(line);
}

export function showDevice(ctx: LspciContext, d: PciDev, topo: Topology | undefined): void {
  if (ctx.opts.machine > 0) showMachine(ctx, d, topo);
  else {
    if (ctx.verbose > 0) showVerbose(ctx, d, topo);
    else showTerse(ctx, d, topo);
    if (ctx.opts.kernel || ctx.verbose > 0) showKernel(ctx, d);
  }
  if (ctx.opts.hex > 0) showHexDump(ctx, d);
  if (ctx.verbose > 0 || ctx.opts.hex > 0) ctx.out.line('');
}
