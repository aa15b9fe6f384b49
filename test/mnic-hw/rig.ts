/**
 * A bare-silicon rig for the mnic: clock, host memory, IOMMU, DMA engine, MSI controller and a fabric
 * with the NIC at 00:02.0 (RID 0x0010), memory decode and bus mastering on. Commands are assembled by
 * hand from the layout documented in src/spec/mnic-fw.ts (offsets written here as numbers, not taken
 * from the spec module), and posted by direct BAR accesses (no fabric MMIO: no MMIO cost), so clock
 * deltas are firmware and DMA time only.
 */
import {
  applyCosts,
  type CostModel,
  type CostOverride,
  DEFAULT_COSTS,
  VirtualClock,
} from '../../src/base/index.js';
import {
  createDevice,
  DmaEngine,
  type Hpa,
  type HwContext,
  Iommu,
  type MnicNic,
  MsiController,
  mnicNicOf,
  PcieFabric,
  type PciFunction,
  SparseMemory,
} from '../../src/hw/index.js';

export const PF_RID = 0x0010;
export const SIOV_RID_BASE = 0x4000;

export interface Rig {
  readonly clock: VirtualClock;
  readonly costs: CostModel;
  readonly memory: SparseMemory<Hpa>;
  readonly iommu: Iommu;
  readonly dma: DmaEngine;
  readonly msi: MsiController;
  readonly fabric: PcieFabric;
  readonly pf: PciFunction;
  readonly nic: MnicNic;
}

export function rig(
  o: { maxSfs?: number; maxSiovFns?: number; costs?: CostOverride; totalVfs?: number } = {},
): Rig {
  const clock = new VirtualClock();
  const costs = applyCosts(DEFAULT_COSTS, o.costs);
  const ctx: { -readonly [K in keyof HwContext]: HwContext[K] } = {
    clock,
    costsFor: () => costs,
    trace: () => {},
  };
  const memory = new SparseMemory<Hpa>({ sizeBytes: 1n << 34n, name: 'rig RAM' });
  const iommu = new Iommu(ctx);
  const dma = new DmaEngine(ctx, iommu, memory);
  const msi = new MsiController(clock);
  ctx.dma = dma;
  ctx.msi = msi;
  const fabric = new PcieFabric(ctx, 0);
  const pf = createDevice(ctx, 'mnic', {
    name: 'mnic0',
    totalVfs: o.totalVfs ?? 8,
    maxSfs: o.maxSfs ?? 4,
    maxSiovFns: o.maxSiovFns ?? 4,
    siovRidBase: SIOV_RID_BASE,
  });
  fabric.attachToRootBus(0x10, pf);
  // Command: Memory Space (bit 1) and Bus Master (bit 2).
  fabric.configWrite(PF_RID as never, 0x04, 2, 0x0006);
  return { clock, costs, memory, iommu, dma, msi, fabric, pf, nic: mnicNicOf(pf)! };
}

/** A function window: PF BAR0 at 0, or an SF / SIOV window in BAR 2 / 4 (8 KiB each). */
export interface Window {
  read(offset: number, width?: 1 | 2 | 4): number;
  write(offset: number, value: number, width?: 1 | 2 | 4): void;
}

export function pfWindow(r: Rig): Window {
  return barWindow(r.pf, 0, 0);
}

export function sfWindow(r: Rig, sfIndex: number): Window {
  return barWindow(r.pf, 2, sfIndex * 0x2000);
}

export function siovWindow(r: Rig, siovIndex: number): Window {
  return barWindow(r.pf, 4, siovIndex * 0x2000);
}

export function barWindow(fn: PciFunction, bar: number, base: number): Window {
  return {
    read: (offset, width = 4) => fn.barRead(bar, base + offset, width),
    write: (offset, value, width = 4) => fn.barWrite(bar, base + offset, width, value),
  };
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

export interface RawResult {
  /** ctrl byte of the entry after completion: bit 0 ownership, bits 7:1 delivery status. */
  readonly ctrl: number;
  /** The 32 inline output bytes. */
  readonly inline: Uint8Array;
  readonly status: number;
  readonly syndrome: number;
}

/**
 * Post a command on window `w` (input beyond 32 bytes: the caller has put it in a mailbox chain at
 * `inMailbox`, e.g. with inputBlock), hand-assembling the entry:
 * 0x100 inputLength, 0x104 outputLength, 0x108 inMailbox, 0x110 outMailbox, 0x118 token,
 * 0x11b ctrl (ownership), 0x120 inline input, 0x140 inline output; doorbell 0x018 = 1.
 */
export function raw(
  w: Window,
  input: Uint8Array,
  outputLength: number,
  opts: { outMailbox?: bigint; inMailbox?: bigint; token?: number } = {},
): RawResult {
  const inline = new Uint8Array(32);
  inline.set(input.subarray(0, 32));
  w.write(0x100, input.length);
  w.write(0x104, outputLength);
  const inMb = opts.inMailbox ?? 0n;
  w.write(0x108, Number(inMb & 0xffffffffn));
  w.write(0x10c, Number(inMb >> 32n));
  const out = opts.outMailbox ?? 0n;
  w.write(0x110, Number(out & 0xffffffffn));
  w.write(0x114, Number(out >> 32n));
  for (let i = 0; i < 32; i += 4) w.write(0x120 + i, new DataView(inline.buffer).getUint32(i, true));
  w.write(0x118, (opts.token ?? 0x5a) | (0x01 << 24));
  w.write(0x018, 1);
  const ctrl = w.read(0x11b, 1);
  const o = new Uint8Array(32);
  for (let i = 0; i < 32; i += 4) new DataView(o.buffer).setUint32(i, w.read(0x140 + i), true);
  return { ctrl, inline: o, status: o[0]!, syndrome: new DataView(o.buffer).getUint32(4, true) };
}

/** Little-endian bytes of the 8-byte in header + fnId (the common "function" input). */
export function fnInput(opcode: number, fnId: number, opMod = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, opcode, true);
  v.setUint16(2, opMod, true);
  v.setUint32(8, fnId, true);
  return b;
}

export const u32At = (b: Uint8Array, at: number): number =>
  new DataView(b.buffer, b.byteOffset).getUint32(at, true);

/**
 * Write one input mailbox block at `at`: data (the input after its first 32 bytes, up to 0xfc0
 * bytes), then the trailer at +0xfc0: next 0 (le64), block number 0 (le32 at +0xfc8), token (+0xfcc).
 */
export function inputBlock(r: Rig, at: bigint, input: Uint8Array, token: number): void {
  const block = new Uint8Array(0x1000);
  block.set(input.subarray(32, 32 + 0xfc0));
  block[0xfcc] = token;
  r.memory.write(at as never, block, 'cpu');
}
