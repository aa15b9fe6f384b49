/**
 * The bytes codec layer: explicit little-endian, bounds-checked reads and writes on Uint8Array.
 * Every wire struct and register file goes through these helpers.
 */
import { LabError } from './errors.js';

function check(buf: Uint8Array, offset: number, width: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + width > buf.length) {
    throw new LabError(
      'internal',
      `access of ${width} bytes at ${offset} outside buffer of ${buf.length} bytes`,
    );
  }
}

export function readLe(buf: Uint8Array, offset: number, width: 1 | 2 | 4): number {
  check(buf, offset, width);
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + buf[offset + i]!;
  return v;
}

export function writeLe(buf: Uint8Array, offset: number, width: 1 | 2 | 4, value: number): void {
  check(buf, offset, width);
  let v = value >>> 0;
  for (let i = 0; i < width; i++) {
    buf[offset + i] = v & 0xff;
    v >>>= 8;
  }
}

export const u8 = (buf: Uint8Array, offset: number): number => readLe(buf, offset, 1);
export const u16 = (buf: Uint8Array, offset: number): number => readLe(buf, offset, 2);
export const u32 = (buf: Uint8Array, offset: number): number => readLe(buf, offset, 4);

export function u64(buf: Uint8Array, offset: number): bigint {
  return (BigInt(u32(buf, offset + 4)) << 32n) | BigInt(u32(buf, offset));
}

export function writeU64(buf: Uint8Array, offset: number, value: bigint): void {
  writeLe(buf, offset, 4, Number(value & 0xffffffffn));
  writeLe(buf, offset + 4, 4, Number((value >> 32n) & 0xffffffffn));
}

/** Width-aligned access check used by register files: 1, 2 or 4 bytes, naturally aligned. */
export function isAlignedAccess(offset: number, width: number): width is 1 | 2 | 4 {
  return (width === 1 || width === 2 || width === 4) && offset % width === 0;
}

/** All-ones value of an access width, what a master abort returns. */
export function allOnes(width: 1 | 2 | 4): number {
  return width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff;
}

export function hex(n: number | bigint, width: number): string {
  return n.toString(16).padStart(width, '0');
}
