/**
 * The dirty bitmap both IOMMUFD (IOMMU_HWPT_GET_DIRTY_BITMAP) and VFIO (DMA_LOGGING_REPORT) fill, as
 * drivers/iommu/iommufd/iova_bitmap.c builds it (facts/kernel.md 2.1, 2.2): bit n stands for the IOVA
 * page `[iova + n·page, iova + (n+1)·page)`, in u64 word n/64 at bit n%64, little-endian, so it is byte
 * n/8, bit n%8. Bits are only ever set in the user's buffer; the user zeroes it first.
 *
 * The granule is the lowest set bit of the page size (iova_bitmap_alloc takes `__ffs(page_size)` as its
 * shift). A tracker reports a dirty span of any size; every bit whose page overlaps the span is set,
 * which duplicates bits when the tracker's granule is larger than the report's page size.
 *
 * Bits are collected sparsely and written byte by byte into user memory, so a report over a huge,
 * mostly clean range costs what its dirty pages cost. SPEC-DEVIATION: the kernel pins the whole bitmap
 * in chunks and faults on the first unmapped chunk; the model checks the first and last byte of the
 * bitmap before writing (enough for the flat user memory, whose mapping has no holes).
 */
import { errnoError } from '../../base/index.js';
import type { UserMemory } from './user-memory.js';

/** Bitmaps larger than this are refused rather than allocated as one buffer (1 GiB covers 32 TiB). */
const MAX_BITMAP_BYTES = 2n ** 30n;

/** __ffs: the lowest set bit of a non-zero value, as a power of two. */
export function lowestSetBit(value: bigint): bigint {
  return value & -value;
}

/** The larger of two bigints (Math.max takes numbers only). */
export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The smaller of two bigints. */
export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export class IovaBitmap {
  readonly iova: bigint;
  readonly lengthBytes: bigint;
  /** The effective granule: the lowest set bit of the page size asked for. */
  readonly pageSizeBytes: bigint;
  /** Number of bits: ((length - 1) >> pgshift) + 1, as iova_bitmap_alloc counts them. */
  readonly bits: bigint;
  readonly #set = new Set<bigint>();

  /** `lengthBytes` > 0 and `pageSizeBytes` > 0; callers validate before building one. */
  constructor(iova: bigint, lengthBytes: bigint, pageSizeBytes: bigint) {
    this.iova = iova;
    this.lengthBytes = lengthBytes;
    this.pageSizeBytes = lowestSetBit(pageSizeBytes);
    this.bits = (lengthBytes - 1n) / this.pageSizeBytes + 1n;
  }

  /** Bytes of user buffer the bitmap covers: whole u64 words. */
  get sizeBytes(): bigint {
    return ((this.bits + 63n) / 64n) * 8n;
  }

  /** iova_bitmap_set: mark every page overlapping `[iova, iova + lengthBytes)` inside the bitmap. */
  set(iova: bigint, lengthBytes: bigint): void {
    const lo = maxBig(iova, this.iova);
    const end = iova + lengthBytes;
    const mapEnd = this.iova + this.lengthBytes;
    const hi = minBig(end, mapEnd);
    if (hi <= lo) return;
    const first = (lo - this.iova) / this.pageSizeBytes;
    const last = (hi - 1n - this.iova) / this.pageSizeBytes;
    for (let n = first; n <= last; n++) this.#set.add(n);
  }

  /** The set bit numbers, ascending. */
  setBits(): bigint[] {
    return [...this.#set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The whole bitmap as a fresh buffer. ENOMEM beyond 1 GiB. */
  toBytes(): Uint8Array {
    if (this.sizeBytes > MAX_BITMAP_BYTES) throw errnoError('ENOMEM', `bitmap of ${this.sizeBytes} bytes`);
    const out = new Uint8Array(Number(this.sizeBytes));
    for (const n of this.#set) out[Number(n / 8n)]! |= 1 << Number(n % 8n);
    return out;
  }

  /** OR the set bits into the user's bitmap at `userVa` (bits are set, never cleared). EFAULT. */
  orIntoUser(user: UserMemory, userVa: bigint): void {
    user.read(userVa, 1);
    user.read(userVa + this.sizeBytes - 1n, 1);
    const bytes = new Map<bigint, number>();
    for (const n of this.#set) bytes.set(n / 8n, (bytes.get(n / 8n) ?? 0) | (1 << Number(n % 8n)));
    for (const [at, bits] of bytes) {
      const old = user.read(userVa + at, 1)[0]!;
      user.write(userVa + at, Uint8Array.of(old | bits));
    }
  }
}
