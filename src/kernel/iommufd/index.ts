/** IOMMUFD: /dev/iommu contexts, IOAS, HWPTs, device binding and attachment, dirty tracking. */
export { IOAS_APERTURE_END, IOAS_IOVA_ALIGNMENT_BYTES, type IoptArea } from './io-pagetable.js';
export * from './iommufd.js';
export { type IoctlResult, iommufdIoctl, negativeErrno } from './iommufd-ioctl.js';
export { IovaBitmap, lowestSetBit, maxBig, minBig } from './iova-bitmap.js';
export { flatUserMemory, type UserMemory } from './user-memory.js';
