/**
 * IOMMU translation domains (include/linux/iommu.h: IOMMU_DOMAIN_IDENTITY, _BLOCKED, _UNMANAGED/paging):
 *
 * - identity: IOVA = HPA for every access (iommu=pt); no dirty tracking.
 * - blocked: every access faults (what VFIO attaches while ownership changes hands).
 * - paging: an I/O page table with 4 KiB granularity. `map` adds IOVA → HPA translations with read
 *   and/or write permission; `unmap` removes them, and may cut a mapping in the middle. A domain made
 *   with dirty tracking (IOMMU_HWPT_ALLOC_DIRTY_TRACKING) sets a dirty bit per 4 KiB IOVA page on each DMA
 *   write while tracking is on, and reads and clears those bits into the bitmap format of IOMMUFD's
 *   IOMMU_HWPT_GET_DIRTY_BITMAP (facts/kernel.md 2.2).
 *
 * The page table is kept as sorted extents, not per-page entries, so mapping all of a large guest is
 * one entry. A dirty bit lives with the translation, as an IOPTE's D bit does: unmapping a page drops
 * its dirty bit, so whoever unmaps during migration must read the bitmap first (QEMU does).
 *
 * SPEC-DEVIATION: hardware with large IOPTEs marks a whole 2 MiB or 1 GiB page dirty; the model keeps
 * 4 KiB precision whatever the mapping size.
 * Left out: IOTLB caching and invalidation, nested (two-stage) translation, page-request (PRI/ATS), the
 * uAPI's own argument checks (EOVERFLOW and IOAS alignment belong to the IOMMUFD layer).
 */
import { errnoError, LabError } from '../../base/index.js';
import { type Hpa, MAX_PHYS_ADDR_BITS, PAGE_SIZE_BYTES } from '../memory/index.js';
import type { DmaAccess, HpaRange, IommuFaultReason, IommuProt, Iova } from './iommu-types.js';

/** The granule of IOMMU mappings and dirty bits in this model. */
export const IOMMU_PAGE_SIZE_BYTES = PAGE_SIZE_BYTES;
/** Default IOVA width of a paging domain: 48 bits (4-level VT-d / AMD-Vi / Arm SMMU page tables). */
export const DEFAULT_IOVA_WIDTH_BITS = 48;
/** Narrowest IOVA width accepted for a paging domain (VT-d SAGAW 39-bit is the smallest in use). */
export const MIN_IOVA_WIDTH_BITS = 32;

const PAGE = IOMMU_PAGE_SIZE_BYTES;
const PAGE_BIG = BigInt(PAGE);
const U64_LIMIT = 2n ** 64n;
const PHYS_LIMIT = 2n ** BigInt(MAX_PHYS_ADDR_BITS);
const PHYS_LIMIT_NUMBER = Number(PHYS_LIMIT);
/** Bitmaps larger than this are refused rather than allocated (a 1 GiB bitmap covers 32 TiB). */
const MAX_BITMAP_BYTES = 2 ** 30;

/** What a domain walk yields; the IOMMU turns a miss into a recorded fault. */
export type DomainWalk =
  | { readonly ok: true; readonly ranges: readonly HpaRange[] }
  | { readonly ok: false; readonly reason: IommuFaultReason; readonly at: bigint };

/** A mapping as `mappings()` lists it. */
export interface IommuMapping {
  readonly iova: Iova;
  readonly hpa: Hpa;
  readonly sizeBytes: bigint;
  readonly prot: IommuProt;
}

export interface DirtyReadOptions {
  /** Bit granule, a power of two ≥ 4096 (default 4096): a bit is set if any 4 KiB page in it is dirty. */
  readonly pageSizeBytes?: bigint;
  /** Bits are OR-ed into this buffer (the user's bitmap); allocated, zeroed, when absent. */
  readonly bitmap?: Uint8Array;
  /** Read without clearing (IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR). */
  readonly noClear?: boolean;
}

/** Domains the IOMMU has freed; any later use of one is a bug in the caller. */
const retired = new WeakSet<object>();

/** Called by the IOMMU when it frees a domain. Not part of the folder's public API. */
export function retireDomain(domain: PagingDomain): void {
  retired.add(domain);
}

function walkOk(hpa: number, lengthBytes: number): DomainWalk {
  return { ok: true, ranges: [{ hpa: BigInt(hpa) as Hpa, lengthBytes }] };
}

/** IOVA = HPA, up to the host's physical address width. */
export class IdentityDomain {
  readonly kind = 'identity';
  readonly id: number;

  constructor(id: number) {
    this.id = id;
  }

  /** The IOMMU's walk; device models go through the DMA engine instead. */
  walk(iova: Iova, lengthBytes: number, _access: DmaAccess): DomainWalk {
    if (iova >= PHYS_LIMIT) return { ok: false, reason: 'address-size', at: iova };
    const start = Number(iova);
    if (start + lengthBytes > PHYS_LIMIT_NUMBER) return { ok: false, reason: 'address-size', at: PHYS_LIMIT };
    return walkOk(start, lengthBytes);
  }
}

/** Every access faults. */
export class BlockedDomain {
  readonly kind = 'blocked';
  readonly id: number;

  constructor(id: number) {
    this.id = id;
  }

  walk(iova: Iova, _lengthBytes: number, _access: DmaAccess): DomainWalk {
    return { ok: false, reason: 'blocked', at: iova };
  }
}

/** One run of mapped pages; all fields in 4 KiB page units. */
interface Extent {
  readonly iovaPage: number;
  readonly pages: number;
  readonly hpaPage: number;
  readonly prot: IommuProt;
}

export interface PagingDomainOptions {
  readonly id: number;
  /** Allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING: only then can tracking be turned on. */
  readonly dirtyTrackingCapable: boolean;
  readonly iovaWidthBits: number;
}

export class PagingDomain {
  readonly kind = 'paging';
  readonly id: number;
  readonly dirtyTrackingCapable: boolean;
  readonly iovaWidthBits: number;
  /** Extents sorted by IOVA, never overlapping. */
  readonly #extents: Extent[] = [];
  /** IOVA page numbers written by DMA while tracking was on, not yet read and cleared. */
  readonly #dirty = new Set<number>();
  readonly #iovaLimit: bigint;
  readonly #iovaLimitNumber: number;
  #tracking = false;

  constructor(options: PagingDomainOptions) {
    this.id = options.id;
    this.dirtyTrackingCapable = options.dirtyTrackingCapable;
    this.iovaWidthBits = options.iovaWidthBits;
    this.#iovaLimit = 2n ** BigInt(options.iovaWidthBits);
    this.#iovaLimitNumber = Number(this.#iovaLimit);
  }

  /** Whether DMA writes set dirty bits now. */
  get dirtyTracking(): boolean {
    return this.#tracking;
  }

  /** Bytes of IOVA space mapped. */
  get mappedBytes(): bigint {
    let pages = 0;
    for (const e of this.#extents) pages += e.pages;
    return BigInt(pages) * PAGE_BIG;
  }

  /** The mappings in IOVA order (pieces left by partial unmaps are listed separately). */
  mappings(): IommuMapping[] {
    return this.#extents.map((e) => ({
      iova: (BigInt(e.iovaPage) * PAGE_BIG) as Iova,
      hpa: (BigInt(e.hpaPage) * PAGE_BIG) as Hpa,
      sizeBytes: BigInt(e.pages) * PAGE_BIG,
      prot: e.prot,
    }));
  }

  /**
   * Map `sizeBytes` at `iova` to `hpa`. All three must be 4 KiB aligned (EINVAL), `prot` must allow
   * something (EINVAL), the range must fit the domain's IOVA width and the host's physical width
   * (EFAULT, as intel-iommu reports a mapping beyond its address width), and no page of it may be
   * mapped already (EEXIST, as IOMMUFD reports an IOVA range in use).
   */
  map(iova: Iova, hpa: Hpa, sizeBytes: bigint, prot: IommuProt): void {
    this.#live();
    if (!prot.read && !prot.write) throw errnoError('EINVAL', 'mapping with neither read nor write');
    this.#checkRange('map', iova, sizeBytes);
    if (hpa % PAGE_BIG !== 0n) throw errnoError('EINVAL', `HPA 0x${hpa.toString(16)} not 4 KiB aligned`);
    if (hpa + sizeBytes > PHYS_LIMIT)
      throw errnoError(
        'EFAULT',
        `HPA range 0x${hpa.toString(16)}+0x${sizeBytes.toString(16)} beyond 52 bits`,
      );
    const iovaPage = Number(iova / PAGE_BIG);
    const pages = Number(sizeBytes / PAGE_BIG);
    const at = this.#firstEndingAfter(iovaPage);
    const next = this.#extents[at];
    if (next !== undefined && next.iovaPage < iovaPage + pages) {
      const clash = BigInt(Math.max(next.iovaPage, iovaPage)) * PAGE_BIG;
      throw errnoError('EEXIST', `IOVA 0x${clash.toString(16)} is already mapped in domain ${this.id}`);
    }
    this.#extents.splice(at, 0, { iovaPage, pages, hpaPage: Number(hpa / PAGE_BIG), prot });
  }

  /**
   * Remove every translation in `[iova, iova + sizeBytes)`, cutting mappings that straddle either end.
   * Returns the bytes that were mapped there (0 if none: unmapping nothing is not an error). Dirty bits
   * of the removed pages are dropped with them.
   */
  unmap(iova: Iova, sizeBytes: bigint): bigint {
    this.#live();
    this.#checkRange('unmap', iova, sizeBytes);
    const lo = Number(iova / PAGE_BIG);
    const hi = lo + Number(sizeBytes / PAGE_BIG);
    let removed = 0;
    let i = this.#firstEndingAfter(lo);
    const keep: Extent[] = [];
    const start = i;
    for (; i < this.#extents.length; i++) {
      const e = this.#extents[i]!;
      if (e.iovaPage >= hi) break;
      const end = e.iovaPage + e.pages;
      if (e.iovaPage < lo) keep.push({ ...e, pages: lo - e.iovaPage });
      if (end > hi)
        keep.push({ ...e, iovaPage: hi, pages: end - hi, hpaPage: e.hpaPage + (hi - e.iovaPage) });
      removed += Math.min(end, hi) - Math.max(e.iovaPage, lo);
    }
    this.#extents.splice(start, i - start, ...keep);
    this.#forgetDirty(lo, hi);
    return BigInt(removed) * PAGE_BIG;
  }

  /**
   * Turn dirty tracking on or off (IOMMU_HWPT_SET_DIRTY_TRACKING). EOPNOTSUPP when the domain was not
   * allocated with dirty tracking. Turning it on clears stale dirty bits, so tracking starts clean;
   * turning it off keeps the bits already set until they are read.
   */
  setDirtyTracking(enable: boolean): void {
    this.#live();
    if (!this.dirtyTrackingCapable)
      throw errnoError('EOPNOTSUPP', `domain ${this.id} was not allocated with dirty tracking`);
    if (enable && !this.#tracking) this.#dirty.clear();
    this.#tracking = enable;
  }

  /**
   * Read (and by default clear) the dirty bits of `[iova, iova + lengthBytes)` into a bitmap in the
   * IOMMUFD / VFIO layout: bit n covers `[iova + n·page, iova + (n+1)·page)` and sits in u64 word n/64
   * at bit n%64, little-endian, so it is byte n/8, bit n%8 of the buffer. Bits are only ever set, never
   * cleared, in the buffer. The buffer is ⌈n/64⌉ u64 words long; a supplied shorter one is EFAULT.
   * Other checks: EOPNOTSUPP without dirty-tracking capability; EINVAL for a page size that is not a
   * power of two ≥ 4096, an empty or unaligned range, or one past 2^64.
   */
  readAndClearDirty(iova: Iova, lengthBytes: bigint, options: DirtyReadOptions = {}): Uint8Array {
    this.#live();
    if (!this.dirtyTrackingCapable)
      throw errnoError('EOPNOTSUPP', `domain ${this.id} was not allocated with dirty tracking`);
    const pageSize = options.pageSizeBytes ?? PAGE_BIG;
    if (pageSize < PAGE_BIG || (pageSize & (pageSize - 1n)) !== 0n)
      throw errnoError('EINVAL', `dirty page size ${pageSize} is not a power of two >= 4096`);
    if (lengthBytes <= 0n || iova % pageSize !== 0n || lengthBytes % pageSize !== 0n)
      throw errnoError(
        'EINVAL',
        `dirty range 0x${iova.toString(16)}+0x${lengthBytes.toString(16)} not aligned`,
      );
    if (iova + lengthBytes > U64_LIMIT) throw errnoError('EINVAL', 'dirty range wraps past 2^64');
    const bits = lengthBytes / pageSize;
    const needBytes = ((bits + 63n) / 64n) * 8n;
    let bitmap = options.bitmap;
    if (bitmap === undefined) {
      if (needBytes > BigInt(MAX_BITMAP_BYTES)) throw errnoError('ENOMEM', `bitmap of ${needBytes} bytes`);
      bitmap = new Uint8Array(Number(needBytes));
    } else if (BigInt(bitmap.length) < needBytes) {
      throw errnoError('EFAULT', `bitmap of ${bitmap.length} bytes, ${needBytes} needed`);
    }
    // Dirty pages all lie below the IOVA width, so the overlap is a range of exact numbers.
    if (iova >= this.#iovaLimit || this.#dirty.size === 0) return bitmap;
    let end = iova + lengthBytes;
    if (end > this.#iovaLimit) end = this.#iovaLimit;
    const lo = Number(iova / PAGE_BIG);
    const hi = Number((end + PAGE_BIG - 1n) / PAGE_BIG);
    const pagesPerBit = Number(pageSize / PAGE_BIG);
    const report = (p: number): void => {
      const n = Math.floor((p - lo) / pagesPerBit);
      const byte = Math.floor(n / 8);
      bitmap[byte] = bitmap[byte]! | (1 << (n % 8));
      if (options.noClear !== true) this.#dirty.delete(p);
    };
    if (hi - lo < this.#dirty.size) {
      for (let p = lo; p < hi; p++) if (this.#dirty.has(p)) report(p);
    } else {
      for (const p of this.#dirty) if (p >= lo && p < hi) report(p);
    }
    return bitmap;
  }

  /** The IOMMU's walk; on a write with tracking on, marks the pages dirty once the whole walk succeeds. */
  walk(iova: Iova, lengthBytes: number, access: DmaAccess): DomainWalk {
    if (iova >= this.#iovaLimit) return { ok: false, reason: 'address-size', at: iova };
    const limit = this.#iovaLimitNumber;
    const start = Number(iova);
    const end = start + lengthBytes;
    const ranges: HpaRange[] = [];
    let lastHpaEnd = -1;
    let a = start;
    while (a < end) {
      if (a >= limit) return { ok: false, reason: 'address-size', at: BigInt(a) };
      const page = Math.floor(a / PAGE);
      const e = this.#extents[this.#firstEndingAfter(page)];
      if (e === undefined || e.iovaPage > page) return { ok: false, reason: 'not-present', at: BigInt(a) };
      if (access === 'write' ? !e.prot.write : !e.prot.read)
        return { ok: false, reason: 'permission', at: BigInt(a) };
      const n = Math.min(end, (e.iovaPage + e.pages) * PAGE) - a;
      const h = e.hpaPage * PAGE + (a - e.iovaPage * PAGE);
      const last = ranges[ranges.length - 1];
      if (last !== undefined && h === lastHpaEnd) {
        ranges[ranges.length - 1] = { hpa: last.hpa, lengthBytes: last.lengthBytes + n };
      } else {
        ranges.push({ hpa: BigInt(h) as Hpa, lengthBytes: n });
      }
      lastHpaEnd = h + n;
      a += n;
    }
    if (access === 'write' && this.#tracking && lengthBytes > 0) {
      const last = Math.floor((end - 1) / PAGE);
      for (let p = Math.floor(start / PAGE); p <= last; p++) this.#dirty.add(p);
    }
    return { ok: true, ranges };
  }

  /** Index of the first extent whose end is after `page` (binary search). */
  #firstEndingAfter(page: number): number {
    let lo = 0;
    let hi = this.#extents.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#extents[mid]!;
      if (e.iovaPage + e.pages <= page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #checkRange(op: string, iova: Iova, sizeBytes: bigint): void {
    if (sizeBytes <= 0n || iova % PAGE_BIG !== 0n || sizeBytes % PAGE_BIG !== 0n)
      throw errnoError('EINVAL', `${op} 0x${iova.toString(16)}+0x${sizeBytes.toString(16)}: not 4 KiB pages`);
    if (iova + sizeBytes > this.#iovaLimit)
      throw errnoError(
        'EFAULT',
        `${op} 0x${iova.toString(16)}+0x${sizeBytes.toString(16)} ` +
          `beyond the ${this.iovaWidthBits}-bit IOVA width`,
      );
  }

  #forgetDirty(lo: number, hi: number): void {
    if (hi - lo < this.#dirty.size) {
      for (let p = lo; p < hi; p++) this.#dirty.delete(p);
    } else {
      for (const p of this.#dirty) if (p >= lo && p < hi) this.#dirty.delete(p);
    }
  }

  #live(): void {
    if (retired.has(this)) throw new LabError('invalid-state', `IOMMU domain ${this.id} has been freed`);
  }
}

export type IommuDomain = IdentityDomain | BlockedDomain | PagingDomain;
