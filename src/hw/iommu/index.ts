/** The IOMMU: translation domains, requester attachment, DMA translation, faults and dirty tracking. */
export {
  BlockedDomain,
  DEFAULT_IOVA_WIDTH_BITS,
  type DirtyReadOptions,
  IdentityDomain,
  IOMMU_PAGE_SIZE_BYTES,
  type IommuDomain,
  type IommuMapping,
  MIN_IOVA_WIDTH_BITS,
  PagingDomain,
} from './domain.js';
export * from './iommu.js';
export * from './iommu-types.js';
