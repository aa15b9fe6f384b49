/**
 * IOMMUFD uAPI constants and wire structs, as include/uapi/linux/iommufd.h spells them (facts/kernel.md
 * §2.2; struct layouts checked against torvalds/linux include/uapi/linux/iommufd.h of the v6.7 era, the
 * release that added dirty tracking): ioctl numbers, object allocation, IOAS map/unmap/copy, HWPT
 * allocation, hardware info, and the two dirty-tracking ioctls.
 *
 * Constant names are the header's. Descriptor names are the C struct names; field names are the C field
 * names in camelCase. Every struct opens with `u32 size` (the user's sizeof), and the kernel reads
 * `offsetofend(last known field)` bytes of it (the `*_MIN_SIZE` constants, iommufd_ioctl_ops[] in
 * drivers/iommu/iommufd/main.c).
 *
 * Left out: IOMMU_HWPT_INVALIDATE and later (nesting, vIOMMU, fault queues), driver-specific HWPT data
 * (IOMMU_HWPT_DATA_VTD_S1 is named but never accepted), the `fault_id` and `out_max_pasid_log2` fields
 * newer kernels append to iommu_hwpt_alloc and iommu_hw_info (a newer, longer struct is accepted only
 * when its extra bytes are zero, as copy_struct_from_user does).
 */
// Imported from its file, not base/index.ts: see the load-order note in struct-codec.ts.
import { defineStruct, le16Field, le32Field, le64Field, reservedField } from '../base/struct-codec.js';

// --- Ioctl numbers (§2.2: IOMMUFD_TYPE ';', commands from 0x80, value _IO(';', nr)) ---

/** IOMMUFD_TYPE = ';'. */
export const IOMMUFD_TYPE = 0x3b;
export const IOMMUFD_CMD_BASE = 0x80;
export const IOMMUFD_CMD_DESTROY = 0x80;
export const IOMMUFD_CMD_IOAS_ALLOC = 0x81;
export const IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82;
export const IOMMUFD_CMD_IOAS_COPY = 0x83;
export const IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84;
export const IOMMUFD_CMD_IOAS_MAP = 0x85;
export const IOMMUFD_CMD_IOAS_UNMAP = 0x86;
export const IOMMUFD_CMD_OPTION = 0x87;
export const IOMMUFD_CMD_VFIO_IOAS = 0x88;
export const IOMMUFD_CMD_HWPT_ALLOC = 0x89;
export const IOMMUFD_CMD_GET_HW_INFO = 0x8a;
export const IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b;
export const IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c;
export const IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d;

/** _IO(';', nr): direction and size bits are 0, so the value is type << 8 | nr. */
export const IOMMU_DESTROY = 0x3b80;
export const IOMMU_IOAS_ALLOC = 0x3b81;
export const IOMMU_IOAS_ALLOW_IOVAS = 0x3b82;
export const IOMMU_IOAS_COPY = 0x3b83;
export const IOMMU_IOAS_IOVA_RANGES = 0x3b84;
export const IOMMU_IOAS_MAP = 0x3b85;
export const IOMMU_IOAS_UNMAP = 0x3b86;
export const IOMMU_OPTION = 0x3b87;
export const IOMMU_VFIO_IOAS = 0x3b88;
export const IOMMU_HWPT_ALLOC = 0x3b89;
export const IOMMU_GET_HW_INFO = 0x3b8a;
export const IOMMU_HWPT_SET_DIRTY_TRACKING = 0x3b8b;
export const IOMMU_HWPT_GET_DIRTY_BITMAP = 0x3b8c;
export const IOMMU_HWPT_INVALIDATE = 0x3b8d;

// --- Flags and enums ---

/** enum iommufd_ioas_map_flags (IOAS_MAP and IOAS_COPY). */
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE = 1 << 2;

/** enum iommufd_hwpt_alloc_flags (§2.2). */
export const IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0;
export const IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;
export const IOMMU_HWPT_FAULT_ID_VALID = 1 << 2;
export const IOMMU_HWPT_ALLOC_PASID = 1 << 3;

/** enum iommu_hwpt_data_type. */
export const IOMMU_HWPT_DATA_NONE = 0;
export const IOMMU_HWPT_DATA_VTD_S1 = 1;

/** enum iommu_hw_info_type. */
export const IOMMU_HW_INFO_TYPE_NONE = 0;
export const IOMMU_HW_INFO_TYPE_INTEL_VTD = 1;

/** enum iommufd_hw_capabilities (§2.2). */
export const IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0;

/** enum iommufd_hwpt_set_dirty_tracking_flags (§2.2); 0 disables. */
export const IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1;

/** enum iommufd_hwpt_get_dirty_bitmap_flags (§2.2). */
export const IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1;

// --- Structs ---

/** struct iommu_destroy (8 bytes). */
export const IommuDestroy = defineStruct('iommu_destroy', 8, [le32Field('size', 0), le32Field('id', 4)]);

/** struct iommu_ioas_alloc (12 bytes). */
export const IommuIoasAlloc = defineStruct('iommu_ioas_alloc', 12, [
  le32Field('size', 0),
  le32Field('flags', 4),
  le32Field('outIoasId', 8),
]);

/** struct iommu_iova_range (16 bytes): an inclusive interval. */
export const IommuIovaRange = defineStruct('iommu_iova_range', 16, [
  le64Field('start', 0),
  le64Field('last', 8),
]);

/** struct iommu_ioas_iova_ranges (32 bytes); `allowedIovas` is a user pointer. */
export const IommuIoasIovaRanges = defineStruct('iommu_ioas_iova_ranges', 32, [
  le32Field('size', 0),
  le32Field('ioasId', 4),
  le32Field('numIovas', 8),
  reservedField('__reserved', 12, 4),
  le64Field('allowedIovas', 16),
  le64Field('outIovaAlignment', 24),
]);

/** struct iommu_ioas_map (40 bytes). */
export const IommuIoasMap = defineStruct('iommu_ioas_map', 40, [
  le32Field('size', 0),
  le32Field('flags', 4),
  le32Field('ioasId', 8),
  reservedField('__reserved', 12, 4),
  le64Field('userVa', 16),
  le64Field('length', 24),
  le64Field('iova', 32),
]);

/** struct iommu_ioas_copy (40 bytes). */
export const IommuIoasCopy = defineStruct('iommu_ioas_copy', 40, [
  le32Field('size', 0),
  le32Field('flags', 4),
  le32Field('dstIoasId', 8),
  le32Field('srcIoasId', 12),
  le64Field('length', 16),
  le64Field('dstIova', 24),
  le64Field('srcIova', 32),
]);

/** struct iommu_ioas_unmap (24 bytes); `length` returns the bytes unmapped. */
export const IommuIoasUnmap = defineStruct('iommu_ioas_unmap', 24, [
  le32Field('size', 0),
  le32Field('ioasId', 4),
  le64Field('iova', 8),
  le64Field('length', 16),
]);

/** struct iommu_option (24 bytes). */
export const IommuOption = defineStruct('iommu_option', 24, [
  le32Field('size', 0),
  le32Field('optionId', 4),
  le16Field('op', 8),
  reservedField('__reserved', 10, 2),
  le32Field('objectId', 12),
  le64Field('val64', 16),
]);

/** struct iommu_hwpt_alloc (40 bytes, before `fault_id` was appended). */
export const IommuHwptAlloc = defineStruct('iommu_hwpt_alloc', 40, [
  le32Field('size', 0),
  le32Field('flags', 4),
  le32Field('devId', 8),
  le32Field('ptId', 12),
  le32Field('outHwptId', 16),
  reservedField('__reserved', 20, 4),
  le32Field('dataType', 24),
  le32Field('dataLen', 28),
  le64Field('dataUptr', 32),
]);

/** struct iommu_hw_info (40 bytes). */
export const IommuHwInfo = defineStruct('iommu_hw_info', 40, [
  le32Field('size', 0),
  le32Field('flags', 4),
  le32Field('devId', 8),
  le32Field('dataLen', 12),
  le64Field('dataUptr', 16),
  le32Field('outDataType', 24),
  reservedField('__reserved', 28, 4),
  le64Field('outCapabilities', 32),
]);

/** struct iommu_hwpt_set_dirty_tracking (16 bytes, §2.2). */
export const IommuHwptSetDirtyTracking = defineStruct('iommu_hwpt_set_dirty_tracking', 16, [
  le32Field('size', 0),
  le32Field('flags', 4),
  le32Field('hwptId', 8),
  reservedField('__reserved', 12, 4),
]);

/** struct iommu_hwpt_get_dirty_bitmap (48 bytes, §2.2); `data` is a user pointer to u64 words. */
export const IommuHwptGetDirtyBitmap = defineStruct('iommu_hwpt_get_dirty_bitmap', 48, [
  le32Field('size', 0),
  le32Field('hwptId', 4),
  le32Field('flags', 8),
  reservedField('__reserved', 12, 4),
  le64Field('iova', 16),
  le64Field('length', 24),
  le64Field('pageSize', 32),
  le64Field('data', 40),
]);

/**
 * The minimum `size` each ioctl accepts: offsetofend of its last field in the first kernel that had it
 * (IOCTL_OP(..., last) in drivers/iommu/iommufd/main.c); a smaller `size` is EINVAL. UNVERIFIED for
 * HWPT_ALLOC (24: the v6.6 struct ended at `__reserved`; data_type/len/uptr came with nesting) and
 * GET_HW_INFO (32: `out_capabilities` came with dirty tracking); recalled, not read in main.c.
 */
export const IOMMU_DESTROY_MIN_SIZE = 8;
export const IOMMU_IOAS_ALLOC_MIN_SIZE = 12;
export const IOMMU_IOAS_COPY_MIN_SIZE = 40;
export const IOMMU_IOAS_MAP_MIN_SIZE = 40;
export const IOMMU_IOAS_UNMAP_MIN_SIZE = 24;
export const IOMMU_HWPT_ALLOC_MIN_SIZE = 24;
export const IOMMU_GET_HW_INFO_MIN_SIZE = 32;
export const IOMMU_HWPT_SET_DIRTY_TRACKING_MIN_SIZE = 16;
export const IOMMU_HWPT_GET_DIRTY_BITMAP_MIN_SIZE = 48;
