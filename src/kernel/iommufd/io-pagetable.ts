/**
 * The IOVA space of one IOAS (drivers/iommu/iommufd/io_pagetable.c, "iopt"): the areas user memory is
 * mapped at, and the paging domains (HWPTs) that mirror them. Every area is mapped into every domain
 * of the IOAS; a domain added later receives all existing areas; a failure part way is rolled back.
 *
 * Rules (io_pagetable.c, iopt_check_iova / iopt_alloc_iova / iopt_unmap_iova_range):
 * - iova_alignment is 4096. SPEC-DEVIATION: Linux starts at 1 and raises it to the smallest page size
 *   of the attached domains; every domain in this model has a 4 KiB granule and user memory is pinned
 *   in pages, so the model fixes it at 4096 from the start. Host addresses and lengths must also be
 *   4 KiB multiples (EINVAL): Linux allows a sub-page offset if the IOVA carries the same one.
 * - Usable IOVA: [0, 2^48). Everything above is reserved (the aperture of the model's IOMMU), so a
 *   fixed IOVA reaching it is EINVAL, as a reserved-region overlap is.
 * - Fixed IOVA: unaligned EINVAL; iova + length - 1 past 2^64 EOVERFLOW; reserved overlap EINVAL;
 *   overlap with an area EEXIST.
 * - Automatic IOVA: alignment = min(roundup_pow_of_two(length), lowest set bit of the user address)
 *   (2^63 when that address is 0), first fit from the lowest IOVA; no hole ENOSPC.
 * - Unmap: the range must cover whole areas (cutting one is EINVAL); a range holding no area is ENOENT;
 *   `unmapAll` (iova 0, length U64_MAX) removes everything and is never ENOENT.
 *
 * Left out: allowed-IOVA lists (IOAS_ALLOW_IOVAS), device reserved regions (MSI windows), access
 * objects and their pins (unmap EBUSY), huge-page combining.
 */
import { errnoError } from '../../base/index.js';
import {
  DEFAULT_IOVA_WIDTH_BITS,
  type Hpa,
  IOMMU_PAGE_SIZE_BYTES,
  type IommuProt,
  type Iova,
  type PagingDomain,
} from '../../hw/index.js';
import { lowestSetBit } from './iova-bitmap.js';

/** The IOAS's iova_alignment (see the SPEC-DEVIATION above). */
export const IOAS_IOVA_ALIGNMENT_BYTES = BigInt(IOMMU_PAGE_SIZE_BYTES);
/** First reserved IOVA: the end of a 48-bit aperture. */
export const IOAS_APERTURE_END = 2n ** BigInt(DEFAULT_IOVA_WIDTH_BITS);
const PAGE = IOAS_IOVA_ALIGNMENT_BYTES;
const U64_LIMIT = 2n ** 64n;

export interface IoptArea {
  readonly iova: Iova;
  readonly hpa: Hpa;
  readonly lengthBytes: bigint;
  readonly prot: IommuProt;
}

export class IoPagetable {
  /** Sorted by IOVA, never overlapping. */
  readonly #areas: IoptArea[] = [];
  readonly #domains = new Set<PagingDomain>();

  get areas(): readonly IoptArea[] {
    return this.#areas;
  }

  get domains(): ReadonlySet<PagingDomain> {
    return this.#domains;
  }

  /**
   * Map `lengthBytes` of user memory at `iova`, or at an allocated IOVA when absent. Returns the IOVA.
   * `userAddr` is the user address (its alignment steers allocation); `pin` pins the pages and gives
   * their host address, and is called only once the IOVA checks have passed (EFAULT comes after them).
   */
  map(userAddr: bigint, pin: () => Hpa, lengthBytes: bigint, prot: IommuProt, iova: Iova | undefined): Iova {
    if (lengthBytes === 0n) throw errnoError('EINVAL', 'zero-length mapping');
    if (userAddr % PAGE !== 0n || lengthBytes % PAGE !== 0n)
      throw errnoError('EINVAL', 'user address and length must be 4 KiB multiples');
    const at =
      iova === undefined ? this.#allocIova(userAddr, lengthBytes) : this.#checkFixed(iova, lengthBytes);
    const hpa = pin();
    if (hpa % PAGE !== 0n) throw errnoError('EFAULT', 'pinned memory is not page aligned');
    const area: IoptArea = { iova: at, hpa, lengthBytes, prot };
    const done: PagingDomain[] = [];
    try {
      for (const d of this.#domains) {
        d.map(at, hpa, lengthBytes, prot);
        done.push(d);
      }
    } catch (e) {
      for (const d of done) d.unmap(at, lengthBytes);
      throw e;
    }
    this.#areas.splice(this.#indexAfter(at), 0, area);
    return at;
  }

  /** Unmap the areas inside `[iova, iova + lengthBytes)`; returns the bytes unmapped. */
  unmap(iova: bigint, lengthBytes: bigint): bigint {
    if (lengthBytes === 0n) throw errnoError('EINVAL', 'zero-length unmap');
    const last = iova + lengthBytes - 1n;
    if (last >= U64_LIMIT) throw errnoError('EOVERFLOW', 'iova + length wraps');
    const hit = this.#areas.filter((a) => a.iova <= last && a.iova + a.lengthBytes - 1n >= iova);
    if (hit.length === 0)
      throw errnoError('ENOENT', `nothing mapped in 0x${iova.toString(16)}+0x${lengthBytes.toString(16)}`);
    for (const a of hit)
      if (a.iova < iova || a.iova + a.lengthBytes - 1n > last)
        throw errnoError('EINVAL', `unmap would cut the area at 0x${a.iova.toString(16)}`);
    return this.#remove(hit);
  }

  /** Unmap everything (IOMMU_IOAS_UNMAP with iova 0 and length U64_MAX). */
  unmapAll(): bigint {
    return this.#remove([...this.#areas]);
  }

  /** iopt_table_add_domain: mirror every area into `domain` (all or nothing). */
  addDomain(domain: PagingDomain): void {
    const done: IoptArea[] = [];
    try {
      for (const a of this.#areas) {
        domain.map(a.iova, a.hpa, a.lengthBytes, a.prot);
        done.push(a);
      }
    } catch (e) {
      for (const a of done) domain.unmap(a.iova, a.lengthBytes);
      throw e;
    }
    this.#domains.add(domain);
  }

  /** iopt_table_remove_domain: unmap every area from `domain`. */
  removeDomain(domain: PagingDomain): void {
    if (!this.#domains.delete(domain)) return;
    for (const a of this.#areas) domain.unmap(a.iova, a.lengthBytes);
  }

  #remove(hit: readonly IoptArea[]): bigint {
    let total = 0n;
    for (const a of hit) {
      for (const d of this.#domains) d.unmap(a.iova, a.lengthBytes);
      this.#areas.splice(this.#areas.indexOf(a), 1);
      total += a.lengthBytes;
    }
    return total;
  }

  #checkFixed(iova: Iova, lengthBytes: bigint): Iova {
    if (iova % PAGE !== 0n) throw errnoError('EINVAL', `IOVA 0x${iova.toString(16)} not aligned to 4096`);
    const last = iova + lengthBytes - 1n;
    if (last >= U64_LIMIT) throw errnoError('EOVERFLOW', 'iova + length wraps');
    if (last >= IOAS_APERTURE_END)
      throw errnoError('EINVAL', `IOVA range reaches the reserved space at 2^${DEFAULT_IOVA_WIDTH_BITS}`);
    for (const a of this.#areas)
      if (a.iova <= last && a.iova + a.lengthBytes - 1n >= iova)
        throw errnoError('EEXIST', `IOVA 0x${a.iova.toString(16)} is already mapped`);
    return iova;
  }

  #allocIova(userAddr: bigint, lengthBytes: bigint): Iova {
    if (lengthBytes >= U64_LIMIT / 2n) throw errnoError('EOVERFLOW', 'length too large to align');
    let align = 1n;
    while (align < lengthBytes) align <<= 1n;
    if (userAddr !== 0n && lowestSetBit(userAddr) < align) align = lowestSetBit(userAddr);
    let cursor = 0n;
    for (const a of [...this.#areas, { iova: IOAS_APERTURE_END, lengthBytes: 0n }]) {
      const start = ((cursor + align - 1n) / align) * align;
      if (start + lengthBytes <= a.iova) return start as Iova;
      const end = a.iova + a.lengthBytes;
      if (end > cursor) cursor = end;
    }
    throw errnoError('ENOSPC', `no free IOVA range of 0x${lengthBytes.toString(16)} bytes`);
  }

  #indexAfter(iova: bigint): number {
    const i = this.#areas.findIndex((a) => a.iova > iova);
    return i < 0 ? this.#areas.length : i;
  }
}
