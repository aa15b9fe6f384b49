/**
 * Test support for the hardware layer: a host context with a virtual clock and a trace log, and the
 * software side of config space written the way an OS writes it (capability walks, BAR sizing). None of
 * this calls the helpers of src/hw that compute layouts: the tests compare what these walkers see with
 * hand-written tables.
 */
import { DEFAULT_COSTS, VirtualClock } from '../../src/base/index.js';
import type { HwContext, HwTraceEvent } from '../../src/hw/index.js';

export interface TestHost {
  readonly ctx: HwContext;
  readonly clock: VirtualClock;
  readonly events: HwTraceEvent[];
}

export function testHost(): TestHost {
  const clock = new VirtualClock();
  const events: HwTraceEvent[] = [];
  return { clock, events, ctx: { clock, costsFor: () => DEFAULT_COSTS, trace: (e) => events.push(e) } };
}

/** Anything that answers config reads: a bare config space, or a fabric bound to one routing ID. */
export type ConfigReader = (offset: number, width: 1 | 2 | 4) => number;

/** Walk the standard capability list from 0x34 as pci_find_capability does: [offset, id, next]. */
export function walkStandardCaps(read: ConfigReader): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  // Status bit 4 (Capabilities List) says whether 0x34 is valid.
  if ((read(0x06, 2) & 0x10) === 0) return out;
  let at = read(0x34, 1);
  while (at !== 0) {
    if (out.length > 48) throw new Error('standard capability list loops');
    const id = read(at, 1);
    const next = read(at + 1, 1);
    out.push([at, id, next]);
    at = next;
  }
  return out;
}

/** Walk the extended capability list from 0x100: [offset, id, version, next]. */
export function walkExtendedCaps(read: ConfigReader): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  let at = 0x100;
  while (at !== 0) {
    if (out.length > 480) throw new Error('extended capability list loops');
    const header = read(at, 4);
    if (header === 0) break;
    const next = header >>> 20;
    out.push([at, header & 0xffff, (header >>> 16) & 0xf, next]);
    at = next;
  }
  return out;
}

export interface SizedBar {
  readonly kind: 'io' | 'mem32' | 'mem64';
  readonly prefetchable: boolean;
  readonly sizeBytes: bigint;
}

/**
 * Size the BAR at `reg` the way an OS does (pci_read_bases / __pci_read_base): save, write all-ones,
 * read back, restore; for a 64-bit BAR also the upper half. Undefined for an unimplemented BAR.
 */
export function sizeBar(
  read: ConfigReader,
  write: (offset: number, width: 1 | 2 | 4, value: number) => void,
  reg: number,
): SizedBar | undefined {
  const saved = read(reg, 4);
  write(reg, 4, 0xffffffff);
  const lo = read(reg, 4);
  write(reg, 4, saved);
  if (lo === 0) return undefined;
  if ((lo & 0x1) === 1) {
    const mask = BigInt(lo & 0xfffffffc) | 0xffff_ffff_0000_0000n;
    return { kind: 'io', prefetchable: false, sizeBytes: (~mask & 0xffff_ffff_ffff_ffffn) + 1n };
  }
  const type = (lo >>> 1) & 0x3;
  const prefetchable = (lo & 0x8) !== 0;
  if (type === 0x2) {
    const savedHi = read(reg + 4, 4);
    write(reg + 4, 4, 0xffffffff);
    const hi = read(reg + 4, 4);
    write(reg + 4, 4, savedHi);
    const mask = (BigInt(hi) << 32n) | BigInt(lo & 0xfffffff0);
    return { kind: 'mem64', prefetchable, sizeBytes: (~mask & 0xffff_ffff_ffff_ffffn) + 1n };
  }
  const mask = BigInt(lo & 0xfffffff0) | 0xffff_ffff_0000_0000n;
  return { kind: 'mem32', prefetchable, sizeBytes: (~mask & 0xffff_ffff_ffff_ffffn) + 1n };
}

export const KiB = 1024n;
export const MiB = 1024n * KiB;
