/**
 * Ring layouts written out from facts/virtio.md section 2, with literal offsets and DataView, sharing
 * no code with src/: struct virtq_desc is le64 addr @0, le32 len @8, le16 flags @12, le16 next @14
 * (16 bytes); virtq_avail is le16 flags @0, le16 idx @2, le16 ring[qsz] @4, le16 used_event
 * @4+2*qsz; virtq_used is le16 flags @0, le16 idx @2, {le32 id, le32 len} ring[qsz] @4, le16
 * avail_event @4+8*qsz.
 */
import type { ArrayQueueMemory } from './array-queue-memory.js';

export const F_NEXT = 1;
export const F_WRITE = 2;
export const F_INDIRECT = 4;

export interface RawDesc {
  addr: bigint;
  len: number;
  flags: number;
  next: number;
}

export function descBytes(d: RawDesc): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, d.addr, true);
  v.setUint32(8, d.len, true);
  v.setUint16(12, d.flags, true);
  v.setUint16(14, d.next, true);
  return b;
}

export function putDesc(mem: ArrayQueueMemory, table: bigint, index: number, d: RawDesc): void {
  mem.write(table + BigInt(16 * index), descBytes(d));
}

export function getDesc(mem: ArrayQueueMemory, table: bigint, index: number): RawDesc {
  const b = mem.read(table + BigInt(16 * index), 16);
  const v = new DataView(b.buffer);
  return {
    addr: v.getBigUint64(0, true),
    len: v.getUint32(8, true),
    flags: v.getUint16(12, true),
    next: v.getUint16(14, true),
  };
}

export function putU16(mem: ArrayQueueMemory, addr: bigint, value: number): void {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value, true);
  mem.write(addr, b);
}

export function getU16(mem: ArrayQueueMemory, addr: bigint): number {
  return new DataView(mem.read(addr, 2).buffer).getUint16(0, true);
}

/** The address of each ring field for a queue of `qsz` entries. */
export function ringFields(availAddr: bigint, usedAddr: bigint, qsz: number) {
  return {
    availFlags: availAddr,
    availIdx: availAddr + 2n,
    availRing: (slot: number) => availAddr + 4n + BigInt(2 * slot),
    usedEvent: availAddr + 4n + BigInt(2 * qsz),
    usedFlags: usedAddr,
    usedIdx: usedAddr + 2n,
    usedElem: (slot: number) => usedAddr + 4n + BigInt(8 * slot),
    availEvent: usedAddr + 4n + BigInt(8 * qsz),
  };
}

/** Make heads available: ring[(idx + i) % qsz] = heads[i], then idx += heads.length. */
export function offer(mem: ArrayQueueMemory, availAddr: bigint, qsz: number, heads: number[]): void {
  let idx = getU16(mem, availAddr + 2n);
  for (const h of heads) {
    putU16(mem, availAddr + 4n + BigInt(2 * (idx % qsz)), h);
    idx = (idx + 1) & 0xffff;
  }
  putU16(mem, availAddr + 2n, idx);
}

export function getUsedElem(
  mem: ArrayQueueMemory,
  usedAddr: bigint,
  slot: number,
): { id: number; len: number } {
  const v = new DataView(mem.read(usedAddr + 4n + BigInt(8 * slot), 8).buffer);
  return { id: v.getUint32(0, true), len: v.getUint32(4, true) };
}

export function putUsedElem(
  mem: ArrayQueueMemory,
  usedAddr: bigint,
  slot: number,
  id: number,
  len: number,
): void {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, id, true);
  v.setUint32(4, len, true);
  mem.write(usedAddr + 4n + BigInt(8 * slot), b);
}

/** Bytes as lowercase hex pairs separated by spaces, for readable byte-vector assertions. */
export function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}
