/**
 * Device DMA logging (facts/kernel.md 2.1, "log_ops"): the per-device dirty tracker behind
 * VFIO_DEVICE_FEATURE_DMA_LOGGING_START / STOP / REPORT, independent of any device. It keeps the
 * tracking state of one device and a set of dirty granule pages, which a device model or variant driver
 * feeds (`recordWrite`, what mlx5's firmware page tracker does), or which are pulled from the host
 * IOMMU's dirty bits of the domain a RID is attached to (`source: iommu`).
 *
 * Core rules (vfio_ioctl_device_feature_logging_start / _report in vfio_main.c), checked by
 * `validateDmaLoggingRanges` and `checkDmaLoggingReport` in this order:
 * - START: num_ranges 0 EINVAL; num_ranges > LOG_MAX_RANGES (PAGE_SIZE / 16 = 256) E2BIG; then per range
 *   in array order: iova and length IS_ALIGNED to page_size (a mask test: page_size 0 accepts only 0)
 *   else EINVAL; iova + length past U64_MAX EOVERFLOW; overlap with an earlier range EINVAL.
 * - REPORT: page_size < 4096 or not a power of two EINVAL; iova + length past U64_MAX EOVERFLOW; a
 *   length of 0 reports nothing and never reaches the driver.
 * Driver rules (the model's log_ops; what mlx5 and pds do, exact errnos UNVERIFIED in the facts):
 * - a second START before STOP is EINVAL; REPORT while not logging is EINVAL; REPORT of IOVA outside
 *   the tracked ranges is EINVAL (pds checks its region; mlx5's firmware would report nothing);
 * - more ranges than the tracker has are merged, closest first (vfio_combine_iova_ranges);
 * - tracked bytes beyond `maxTrackedBytes`, or an IOVA beyond `iovaLimit`, is E2BIG (UNVERIFIED);
 * - page_size is a hint: the tracker rounds it up to a power of two and clamps it to its granules,
 *   and START writes the chosen one back;
 * - REPORT converts granules: a dirty granule page sets every report bit it overlaps; reading clears
 *   the granule pages it reported (read-and-clear); STOP drops the log.
 * SPEC-DEVIATION: a zero-length range is EINVAL (the kernel would insert a degenerate interval).
 *
 * Left out: chunked reporting (iova_bitmap_for_each) and the partial results of a failing chunk.
 */
import { errnoError, type Rid } from '../../../base/index.js';
import { IOMMU_PAGE_SIZE_BYTES, type Iommu, type Iova, type PagingDomain } from '../../../hw/index.js';
import { IovaBitmap, maxBig, minBig } from '../../iommufd/index.js';

/** LOG_MAX_RANGES in vfio_main.c: as many 16-byte ranges as fit in one 4 KiB kernel page. */
export const LOG_MAX_RANGES = 4096 / 16;
/** SZ_4K: the smallest REPORT page size. */
export const DMA_LOGGING_MIN_REPORT_PAGE_SIZE_BYTES = 4096n;
const U64_MAX = 2n ** 64n - 1n;
const PAGE = BigInt(IOMMU_PAGE_SIZE_BYTES);

export interface DmaLogRange {
  readonly iova: bigint;
  readonly lengthBytes: bigint;
}

/** What the device's tracker can do. */
export interface DmaLoggerCapabilities {
  /** Hardware ranges; more requested are merged. Default LOG_MAX_RANGES. */
  readonly maxRanges?: number;
  /** Largest sum of range lengths after merging (E2BIG beyond). Default unlimited. */
  readonly maxTrackedBytes?: bigint;
  /** First IOVA the tracker cannot cover (E2BIG at or beyond). Default 2^64. */
  readonly iovaLimit?: bigint;
  /** Granules the tracker supports, powers of two. Default 4 KiB .. 1 GiB. */
  readonly minPageSizeBytes?: bigint;
  readonly maxPageSizeBytes?: bigint;
}

/** Where dirty pages come from. */
export type DmaLogSource =
  | { readonly kind: 'device' }
  | { readonly kind: 'iommu'; readonly iommu: Iommu; readonly rid: Rid };

export type DmaLogState =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'logging';
      readonly pageSizeBytes: bigint;
      /** Sorted, merged to fit `maxRanges`. */
      readonly ranges: readonly DmaLogRange[];
      /** Dirty granule page numbers (iova / pageSizeBytes) not yet reported. */
      readonly dirty: Set<bigint>;
      /** The IOMMU domain tracked for `source: iommu`. */
      readonly domain: PagingDomain | undefined;
    };

/**
 * The core's START range checks, in the kernel's order; `rangeAt(i)` reads range i (a user copy may
 * fail with EFAULT at that point). Returns the ranges sorted by IOVA.
 */
export function validateDmaLoggingRanges(
  pageSizeBytes: bigint,
  numRanges: number,
  rangeAt: (i: number) => DmaLogRange,
): DmaLogRange[] {
  if (numRanges === 0) throw errnoError('EINVAL', 'num_ranges is 0');
  if (numRanges > LOG_MAX_RANGES) throw errnoError('E2BIG', `num_ranges ${numRanges} > ${LOG_MAX_RANGES}`);
  const mask = (pageSizeBytes - 1n) & U64_MAX;
  const seen: DmaLogRange[] = [];
  for (let i = 0; i < numRanges; i++) {
    const r = rangeAt(i);
    if ((r.iova & mask) !== 0n || (r.lengthBytes & mask) !== 0n)
      throw errnoError('EINVAL', `range ${i} not aligned to page_size ${pageSizeBytes}`);
    if (r.iova + r.lengthBytes > U64_MAX) throw errnoError('EOVERFLOW', `range ${i} wraps past U64_MAX`);
    if (r.lengthBytes === 0n) throw errnoError('EINVAL', `range ${i} is empty`);
    const last = r.iova + r.lengthBytes - 1n;
    if (seen.some((s) => s.iova <= last && s.iova + s.lengthBytes - 1n >= r.iova))
      throw errnoError('EINVAL', `range ${i} overlaps an earlier range`);
    seen.push(r);
  }
  return seen.sort((a, b) => (a.iova < b.iova ? -1 : 1));
}

/** The core's REPORT checks. */
export function checkDmaLoggingReport(iova: bigint, lengthBytes: bigint, pageSizeBytes: bigint): void {
  if (pageSizeBytes < DMA_LOGGING_MIN_REPORT_PAGE_SIZE_BYTES || (pageSizeBytes & (pageSizeBytes - 1n)) !== 0n)
    throw errnoError('EINVAL', `page_size ${pageSizeBytes} is not a power of two >= 4096`);
  if (iova + lengthBytes > U64_MAX) throw errnoError('EOVERFLOW', 'iova + length wraps past U64_MAX');
}

/** vfio_combine_iova_ranges: merge the two ranges with the smallest gap until `max` remain. */
export function combineIovaRanges(sorted: readonly DmaLogRange[], max: number): DmaLogRange[] {
  const out = [...sorted];
  while (out.length > max) {
    let best = 0;
    for (let i = 1; i < out.length - 1; i++) {
      const gap = (r: number): bigint => out[r + 1]!.iova - (out[r]!.iova + out[r]!.lengthBytes);
      if (gap(i) < gap(best)) best = i;
    }
    const a = out[best]!;
    const b = out[best + 1]!;
    out.splice(best, 2, { iova: a.iova, lengthBytes: b.iova + b.lengthBytes - a.iova });
  }
  return out;
}

export class DmaLogger {
  readonly source: DmaLogSource;
  readonly maxRanges: number;
  readonly maxTrackedBytes: bigint;
  readonly iovaLimit: bigint;
  readonly minPageSizeBytes: bigint;
  readonly maxPageSizeBytes: bigint;
  #state: DmaLogState = { kind: 'idle' };

  constructor(source: DmaLogSource = { kind: 'device' }, capabilities: DmaLoggerCapabilities = {}) {
    this.source = source;
    this.maxRanges = capabilities.maxRanges ?? LOG_MAX_RANGES;
    this.maxTrackedBytes = capabilities.maxTrackedBytes ?? 2n ** 64n;
    this.iovaLimit = capabilities.iovaLimit ?? 2n ** 64n;
    this.minPageSizeBytes = capabilities.minPageSizeBytes ?? PAGE;
    this.maxPageSizeBytes = capabilities.maxPageSizeBytes ?? 2n ** 30n;
  }

  get state(): DmaLogState {
    return this.#state;
  }

  /** DMA_LOGGING_START: the core checks, then the tracker's. Returns the page size actually used. */
  start(pageSizeBytes: bigint, ranges: readonly DmaLogRange[]): bigint {
    const sorted = validateDmaLoggingRanges(pageSizeBytes, ranges.length, (i) => ranges[i]!);
    if (this.#state.kind === 'logging') throw errnoError('EINVAL', 'DMA logging is already started');
    const merged = combineIovaRanges(sorted, this.maxRanges);
    let total = 0n;
    for (const r of merged) {
      total += r.lengthBytes;
      if (r.iova + r.lengthBytes > this.iovaLimit)
        throw errnoError('E2BIG', `range 0x${r.iova.toString(16)} beyond the tracker's IOVA limit`);
    }
    if (total > this.maxTrackedBytes) throw errnoError('E2BIG', `${total} bytes to track`);
    let granule = 1n;
    while (granule < pageSizeBytes) granule <<= 1n;
    if (granule < this.minPageSizeBytes) granule = this.minPageSizeBytes;
    if (granule > this.maxPageSizeBytes) granule = this.maxPageSizeBytes;
    let domain: PagingDomain | undefined;
    if (this.source.kind === 'iommu') {
      const d = this.source.iommu.domainFor(this.source.rid);
      if (d?.kind !== 'paging' || !d.dirtyTrackingCapable)
        throw errnoError('EOPNOTSUPP', 'the device is not in a dirty-tracking IOMMU domain');
      d.setDirtyTracking(true);
      domain = d;
    }
    this.#state = { kind: 'logging', pageSizeBytes: granule, ranges: merged, dirty: new Set(), domain };
    return granule;
  }

  /** DMA_LOGGING_STOP: drop the log; stopping while idle is not an error. */
  stop(): void {
    const s = this.#state;
    if (s.kind === 'logging' && s.domain !== undefined) s.domain.setDirtyTracking(false);
    this.#state = { kind: 'idle' };
  }

  /** A DMA write the device made: marks the tracked granule pages it touched. Ignored while idle. */
  recordWrite(iova: bigint, lengthBytes: bigint): void {
    const s = this.#state;
    if (s.kind !== 'logging' || lengthBytes <= 0n) return;
    const end = iova + lengthBytes;
    for (const r of s.ranges) {
      const lo = maxBig(iova, r.iova);
      const rEnd = r.iova + r.lengthBytes;
      const hi = minBig(end, rEnd);
      for (let g = lo / s.pageSizeBytes; hi > lo && g <= (hi - 1n) / s.pageSizeBytes; g++) s.dirty.add(g);
    }
  }

  /**
   * DMA_LOGGING_REPORT: the dirty pages of `[iova, iova + lengthBytes)` in `pageSizeBytes` bits, cleared
   * from the log. Undefined for a zero length (nothing reported).
   */
  report(iova: bigint, lengthBytes: bigint, pageSizeBytes: bigint): IovaBitmap | undefined {
    checkDmaLoggingReport(iova, lengthBytes, pageSizeBytes);
    if (lengthBytes === 0n) return undefined;
    const s = this.#state;
    if (s.kind !== 'logging') throw errnoError('EINVAL', 'DMA logging is not started');
    const end = iova + lengthBytes;
    let covered = iova;
    for (const r of s.ranges)
      if (r.iova <= covered && r.iova + r.lengthBytes > covered) covered = r.iova + r.lengthBytes;
    if (covered < end) throw errnoError('EINVAL', `IOVA 0x${covered.toString(16)} is not tracked`);
    if (s.domain !== undefined) this.#pull(s.domain, iova, end);
    const bitmap = new IovaBitmap(iova, lengthBytes, pageSizeBytes);
    const g = s.pageSizeBytes;
    for (const page of [...s.dirty]) {
      const at = page * g;
      if (at >= end || at + g <= iova) continue;
      bitmap.set(at, g);
      s.dirty.delete(page);
    }
    return bitmap;
  }

  /** Move the IOMMU's dirty bits of the report range (4 KiB aligned outward) into the log. */
  #pull(domain: PagingDomain, iova: bigint, end: bigint): void {
    const lo = (iova / PAGE) * PAGE;
    const hi = ((end + PAGE - 1n) / PAGE) * PAGE;
    for (const m of domain.mappings()) {
      const a = maxBig(m.iova, lo);
      const mEnd = m.iova + m.sizeBytes;
      const b = minBig(mEnd, hi);
      if (b <= a) continue;
      const bits = domain.readAndClearDirty(a as Iova, b - a);
      bits.forEach((byte, i) => {
        for (let k = 0; k < 8; k++)
          if ((byte & (1 << k)) !== 0) this.recordWrite(a + BigInt(i * 8 + k) * PAGE, PAGE);
      });
    }
  }
}
