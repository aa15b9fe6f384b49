/**
 * The vocabulary of the IOMMU model: I/O virtual addresses, PASIDs, access kinds, mapping permissions,
 * translations and faults. Shared by the domains, the IOMMU and the DMA engine.
 */
import { type Brand, LabError, type Rid } from '../../base/index.js';
import type { Hpa } from '../memory/index.js';

/** An I/O virtual address: what a device puts on the bus when an IOMMU translates for it (64 bits). */
export type Iova = Brand<bigint, 'Iova'>;

/** A Process Address Space ID: 20 bits (PCIe Base 6.20, PASID TLP prefix; Linux IOASID_BITS = 20). */
export type Pasid = Brand<number, 'Pasid'>;

/** PASID values are 20 bits wide (PCIe Base 6.20). */
export const PASID_WIDTH_BITS = 20;
/**
 * The PASID Linux reserves for DMA without a PASID (IOMMU_NO_PASID = 0, include/linux/iommu.h); an
 * attachment to it is the RID's own attachment.
 */
export const IOMMU_NO_PASID = 0;

const U64_LIMIT = 2n ** 64n;

/** An IOVA, checked to fit in 64 bits. */
export function iova(value: bigint | number): Iova {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new LabError('bad-input', `IOVA ${value} is not an integer`);
  const v = BigInt(value);
  if (v < 0n || v >= U64_LIMIT) throw new LabError('bad-input', `IOVA 0x${v.toString(16)} outside 64 bits`);
  return v as Iova;
}

/** `base + offsetBytes` as an IOVA (descriptor tables, ring entries); checked to fit in 64 bits. */
export function iovaAdd(base: Iova, offsetBytes: bigint | number): Iova {
  return iova(base + BigInt(offsetBytes));
}

/** A PASID, checked to fit in 20 bits. */
export function pasid(value: number): Pasid {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** PASID_WIDTH_BITS)
    throw new LabError('bad-input', `PASID ${value} outside 0..0xfffff`);
  return value as Pasid;
}

/** What a DMA request does to memory. */
export type DmaAccess = 'read' | 'write';

/**
 * Permissions of a mapping (IOMMU_READ / IOMMU_WRITE in include/linux/iommu.h). A mapping with
 * neither is refused: it would map nothing.
 */
export interface IommuProt {
  readonly read: boolean;
  readonly write: boolean;
}

export const PROT_READ: IommuProt = Object.freeze({ read: true, write: false });
export const PROT_WRITE: IommuProt = Object.freeze({ read: false, write: true });
export const PROT_READ_WRITE: IommuProt = Object.freeze({ read: true, write: true });

/** One run of host physical memory a DMA request touches. */
export interface HpaRange {
  readonly hpa: Hpa;
  readonly lengthBytes: number;
}

/**
 * Why the IOMMU refused a request (the model's names; VT-d and AMD-Vi have finer-grained codes):
 * - `blocked`: the requester is attached to a blocking domain (no DMA at all);
 * - `pasid-not-attached`: a request with a PASID that has no domain for this RID;
 * - `not-present`: no mapping covers the IOVA;
 * - `permission`: a mapping covers it but does not allow this access (`access` tells which);
 * - `address-size`: the IOVA is beyond the domain's address width.
 */
export type IommuFaultReason =
  | 'blocked'
  | 'pasid-not-attached'
  | 'not-present'
  | 'permission'
  | 'address-size';

/** A recorded translation fault. `iova` is the first faulting byte, not the start of the request. */
export interface IommuFault {
  readonly reason: IommuFaultReason;
  readonly rid: Rid;
  readonly pasid: Pasid | undefined;
  readonly iova: Iova;
  readonly access: DmaAccess;
  /** Modeled time of the fault on the host clock. */
  readonly atNs: number;
}

export type IommuTranslation =
  | { readonly ok: true; readonly ranges: readonly HpaRange[] }
  | { readonly ok: false; readonly fault: IommuFault };

/** A DMA request as the IOMMU sees it. */
export interface DmaRequest {
  readonly rid: Rid;
  readonly pasid?: Pasid | undefined;
  readonly iova: Iova;
  readonly lengthBytes: number;
  readonly access: DmaAccess;
}
