/**
 * VFIO uAPI constants and wire structs, as include/uapi/linux/vfio.h spells them (facts/kernel.md §1.1,
 * §1.2, §1.6, §1.7, §2.1, §3.1-§3.4): ioctl numbers, VFIO_DEVICE_FEATURE flags and feature ids, the
 * migration v2 states and flags, the migration and DMA-logging feature payloads, and the device, region
 * and IRQ info structs of vfio-pci.
 *
 * Constant names are the header's. Descriptor names are the C struct names; field names are the C field
 * names in camelCase (repo convention, as in virtio-pci.ts). All VFIO structs are host-endian, which is
 * little-endian on every host the model stands for (x86, arm64).
 *
 * SPEC-DEVIATION: the codec has no signed fields, so `__s32 data_fd` is described as le32; -1 reads back
 * as 0xffffffff (VFIO_DATA_FD_NONE_U32). Callers convert with `x | 0` / `x >>> 0`.
 *
 * Left out: the type1 container structs (map/unmap DMA, dirty pages), the IOMMUFD bind/attach structs,
 * hot-reset info, gfx plane, ioeventfd, low-power payloads, capability chain versions
 * (not in the facts), and feature 11 (DMA_BUF, UNVERIFIED in the facts).
 */
// Imported from its file, not base/index.ts: see the load-order note in struct-codec.ts.
import {
  defineStruct,
  le16Field,
  le32Field,
  le64Field,
  reservedField,
  tailField,
} from '../base/struct-codec.js';

// --- Ioctl numbers (vfio.h; §3.1). VFIO ioctls are _IO(VFIO_TYPE, VFIO_BASE + n) = (0x3B << 8) | (100 + n). ---

/** VFIO_TYPE = ';' (0x3B), the ioctl type byte. */
export const VFIO_TYPE = 0x3b;
/** VFIO_BASE = 100, the first ioctl nr. */
export const VFIO_BASE = 100;
/** Returned by VFIO_GET_API_VERSION. */
export const VFIO_API_VERSION = 0;

/** _IO(VFIO_TYPE, VFIO_BASE + 0) */
export const VFIO_GET_API_VERSION = 0x3b64;
/** _IO(VFIO_TYPE, VFIO_BASE + 1) */
export const VFIO_CHECK_EXTENSION = 0x3b65;
/** _IO(VFIO_TYPE, VFIO_BASE + 2) */
export const VFIO_SET_IOMMU = 0x3b66;
/** _IO(VFIO_TYPE, VFIO_BASE + 3) */
export const VFIO_GROUP_GET_STATUS = 0x3b67;
/** _IO(VFIO_TYPE, VFIO_BASE + 4) */
export const VFIO_GROUP_SET_CONTAINER = 0x3b68;
/** _IO(VFIO_TYPE, VFIO_BASE + 5) */
export const VFIO_GROUP_UNSET_CONTAINER = 0x3b69;
/** _IO(VFIO_TYPE, VFIO_BASE + 6); the argument is the device name string, e.g. "0000:06:0d.0". */
export const VFIO_GROUP_GET_DEVICE_FD = 0x3b6a;
/** _IO(VFIO_TYPE, VFIO_BASE + 7) */
export const VFIO_DEVICE_GET_INFO = 0x3b6b;
/** _IO(VFIO_TYPE, VFIO_BASE + 8) */
export const VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
/** _IO(VFIO_TYPE, VFIO_BASE + 9) */
export const VFIO_DEVICE_GET_IRQ_INFO = 0x3b6d;
/** _IO(VFIO_TYPE, VFIO_BASE + 10) */
export const VFIO_DEVICE_SET_IRQS = 0x3b6e;
/** _IO(VFIO_TYPE, VFIO_BASE + 11) */
export const VFIO_DEVICE_RESET = 0x3b6f;
/** _IO(VFIO_TYPE, VFIO_BASE + 12), on a device fd. */
export const VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = 0x3b70;
/** _IO(VFIO_TYPE, VFIO_BASE + 12), on a container fd (same number as GET_PCI_HOT_RESET_INFO). */
export const VFIO_IOMMU_GET_INFO = 0x3b70;
/** _IO(VFIO_TYPE, VFIO_BASE + 13), on a device fd. */
export const VFIO_DEVICE_PCI_HOT_RESET = 0x3b71;
/** _IO(VFIO_TYPE, VFIO_BASE + 13), on a container fd. */
export const VFIO_IOMMU_MAP_DMA = 0x3b71;
/** _IO(VFIO_TYPE, VFIO_BASE + 14), on a device fd. */
export const VFIO_DEVICE_QUERY_GFX_PLANE = 0x3b72;
/** _IO(VFIO_TYPE, VFIO_BASE + 14), on a container fd. */
export const VFIO_IOMMU_UNMAP_DMA = 0x3b72;
/** _IO(VFIO_TYPE, VFIO_BASE + 15), on a device fd. */
export const VFIO_DEVICE_GET_GFX_DMABUF = 0x3b73;
/** _IO(VFIO_TYPE, VFIO_BASE + 15), on a container fd. */
export const VFIO_IOMMU_ENABLE = 0x3b73;
/** _IO(VFIO_TYPE, VFIO_BASE + 16), on a device fd. */
export const VFIO_DEVICE_IOEVENTFD = 0x3b74;
/** _IO(VFIO_TYPE, VFIO_BASE + 16), on a container fd. */
export const VFIO_IOMMU_DISABLE = 0x3b74;
/** _IO(VFIO_TYPE, VFIO_BASE + 17) (§1.6) */
export const VFIO_DEVICE_FEATURE = 0x3b75;
/** _IO(VFIO_TYPE, VFIO_BASE + 18), cdev model only. */
export const VFIO_DEVICE_BIND_IOMMUFD = 0x3b76;
/** _IO(VFIO_TYPE, VFIO_BASE + 19), cdev model only. */
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = 0x3b77;
/** _IO(VFIO_TYPE, VFIO_BASE + 20), cdev model only. */
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = 0x3b78;
/** _IO(VFIO_TYPE, VFIO_BASE + 21), on a saving migration data fd (§1.7). */
export const VFIO_MIG_GET_PRECOPY_INFO = 0x3b79;

// --- VFIO_DEVICE_FEATURE (vfio.h; §1.6) ---

/** Low 16 bits of vfio_device_feature.flags: the feature index. */
export const VFIO_DEVICE_FEATURE_MASK = 0xffff;
export const VFIO_DEVICE_FEATURE_GET = 1 << 16;
export const VFIO_DEVICE_FEATURE_SET = 1 << 17;
export const VFIO_DEVICE_FEATURE_PROBE = 1 << 18;

/** SET: a 16-byte UUID (vfio-pci PF; needed to open its VFs). */
export const VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0;
/** GET: struct vfio_device_feature_migration. */
export const VFIO_DEVICE_FEATURE_MIGRATION = 1;
/** GET/SET: struct vfio_device_feature_mig_state. */
export const VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4;
export const VFIO_DEVICE_FEATURE_LOW_POWER_EXIT = 5;
/** SET: struct vfio_device_feature_dma_logging_control (§2.1). */
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6;
/** SET, no payload (§2.1). */
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7;
/** GET: struct vfio_device_feature_dma_logging_report (§2.1). */
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8;
/** GET: struct vfio_device_feature_mig_data_size. */
export const VFIO_DEVICE_FEATURE_MIG_DATA_SIZE = 9;
/** SET: bus master enable/disable (newer kernels). */
export const VFIO_DEVICE_FEATURE_BUS_MASTER = 10;

/** struct vfio_device_feature (8-byte header + payload `data[]`). */
export const VfioDeviceFeature = defineStruct('vfio_device_feature', 8, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  tailField('data', 8),
]);

// --- Migration v2 (vfio.h enum vfio_device_mig_state and VFIO_MIGRATION_*; §1.1, §1.2) ---

export const VFIO_DEVICE_STATE_ERROR = 0;
export const VFIO_DEVICE_STATE_STOP = 1;
export const VFIO_DEVICE_STATE_RUNNING = 2;
export const VFIO_DEVICE_STATE_STOP_COPY = 3;
export const VFIO_DEVICE_STATE_RESUMING = 4;
export const VFIO_DEVICE_STATE_RUNNING_P2P = 5;
export const VFIO_DEVICE_STATE_PRE_COPY = 6;
export const VFIO_DEVICE_STATE_PRE_COPY_P2P = 7;

/** A value of enum vfio_device_mig_state. */
export type VfioDeviceMigState = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
/** Number of states; the kernel tables are indexed 0..7 (our name). */
export const VFIO_DEVICE_STATE_COUNT = 8;
/** The enum names without the VFIO_DEVICE_STATE_ prefix, indexed by value (our name). */
export const VFIO_DEVICE_STATE_NAMES = [
  'ERROR',
  'STOP',
  'RUNNING',
  'STOP_COPY',
  'RESUMING',
  'RUNNING_P2P',
  'PRE_COPY',
  'PRE_COPY_P2P',
] as const;
export type VfioDeviceMigStateName = (typeof VFIO_DEVICE_STATE_NAMES)[number];

export const VFIO_MIGRATION_STOP_COPY = 1 << 0;
export const VFIO_MIGRATION_P2P = 1 << 1;
export const VFIO_MIGRATION_PRE_COPY = 1 << 2;

/** struct vfio_device_feature_migration: `__aligned_u64 flags` (VFIO_MIGRATION_*). */
export const VfioDeviceFeatureMigration = defineStruct('vfio_device_feature_migration', 8, [
  le64Field('flags', 0),
]);

/** struct vfio_device_feature_mig_state: `__u32 device_state; __s32 data_fd` (s32 as le32: see top). */
export const VfioDeviceFeatureMigState = defineStruct('vfio_device_feature_mig_state', 8, [
  le32Field('deviceState', 0),
  le32Field('dataFd', 4),
]);
/** data_fd = -1 as the unsigned le32 the descriptor carries (our name). */
export const VFIO_DATA_FD_NONE_U32 = 0xffffffff;

/** struct vfio_device_feature_mig_data_size: `__aligned_u64 stop_copy_length`. */
export const VfioDeviceFeatureMigDataSize = defineStruct('vfio_device_feature_mig_data_size', 8, [
  le64Field('stopCopyLength', 0),
]);

/** struct vfio_precopy_info (24 bytes), argument of VFIO_MIG_GET_PRECOPY_INFO (§1.7). */
export const VfioPrecopyInfo = defineStruct('vfio_precopy_info', 24, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  le64Field('initialBytes', 8),
  le64Field('dirtyBytes', 16),
]);

// --- DMA logging (vfio.h; §2.1) ---

/** struct vfio_device_feature_dma_logging_range (16 bytes). */
export const VfioDeviceFeatureDmaLoggingRange = defineStruct('vfio_device_feature_dma_logging_range', 16, [
  le64Field('iova', 0),
  le64Field('length', 8),
]);

/** struct vfio_device_feature_dma_logging_control (24 bytes); `ranges` is a user pointer. */
export const VfioDeviceFeatureDmaLoggingControl = defineStruct(
  'vfio_device_feature_dma_logging_control',
  24,
  [
    le64Field('pageSize', 0),
    le32Field('numRanges', 8),
    reservedField('__reserved', 12, 4),
    le64Field('ranges', 16),
  ],
);

/** struct vfio_device_feature_dma_logging_report (32 bytes); `bitmap` is a user pointer to u64 words. */
export const VfioDeviceFeatureDmaLoggingReport = defineStruct('vfio_device_feature_dma_logging_report', 32, [
  le64Field('iova', 0),
  le64Field('length', 8),
  le64Field('pageSize', 16),
  le64Field('bitmap', 24),
]);

// --- Device info (vfio.h; §3.2) ---

export const VFIO_DEVICE_FLAGS_RESET = 1 << 0;
export const VFIO_DEVICE_FLAGS_PCI = 1 << 1;
export const VFIO_DEVICE_FLAGS_PLATFORM = 1 << 2;
export const VFIO_DEVICE_FLAGS_AMBA = 1 << 3;
export const VFIO_DEVICE_FLAGS_CCW = 1 << 4;
export const VFIO_DEVICE_FLAGS_AP = 1 << 5;
export const VFIO_DEVICE_FLAGS_FSL_MC = 1 << 6;
export const VFIO_DEVICE_FLAGS_CAPS = 1 << 7;
export const VFIO_DEVICE_FLAGS_CDX = 1 << 8;

/** struct vfio_device_info (24 bytes). */
export const VfioDeviceInfo = defineStruct('vfio_device_info', 24, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  le32Field('numRegions', 8),
  le32Field('numIrqs', 12),
  le32Field('capOffset', 16),
  reservedField('pad', 20, 4),
]);

/** struct vfio_info_cap_header (8 bytes): a link of a capability chain. */
export const VfioInfoCapHeader = defineStruct('vfio_info_cap_header', 8, [
  le16Field('id', 0),
  le16Field('version', 2),
  le32Field('next', 4),
]);

// --- Region info (vfio.h; §3.2, §3.3) ---

export const VFIO_REGION_INFO_FLAG_READ = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
export const VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
export const VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;

export const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
export const VFIO_REGION_INFO_CAP_TYPE = 2;
export const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;

/** struct vfio_region_info (32 bytes). */
export const VfioRegionInfo = defineStruct('vfio_region_info', 32, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  le32Field('index', 8),
  le32Field('capOffset', 12),
  le64Field('size', 16),
  le64Field('offset', 24),
]);

/** struct vfio_region_sparse_mmap_area (16 bytes). */
export const VfioRegionSparseMmapArea = defineStruct('vfio_region_sparse_mmap_area', 16, [
  le64Field('offset', 0),
  le64Field('size', 8),
]);

/** struct vfio_region_info_cap_sparse_mmap (16 bytes + areas[] of vfio_region_sparse_mmap_area). */
export const VfioRegionInfoCapSparseMmap = defineStruct('vfio_region_info_cap_sparse_mmap', 16, [
  le16Field('id', 0),
  le16Field('version', 2),
  le32Field('next', 4),
  le32Field('nrAreas', 8),
  reservedField('reserved', 12, 4),
  tailField('areas', 16),
]);

/** struct vfio_region_info_cap_type (16 bytes). */
export const VfioRegionInfoCapType = defineStruct('vfio_region_info_cap_type', 16, [
  le16Field('id', 0),
  le16Field('version', 2),
  le32Field('next', 4),
  le32Field('type', 8),
  le32Field('subtype', 12),
]);

export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR1_REGION_INDEX = 1;
export const VFIO_PCI_BAR2_REGION_INDEX = 2;
export const VFIO_PCI_BAR3_REGION_INDEX = 3;
export const VFIO_PCI_BAR4_REGION_INDEX = 4;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
export const VFIO_PCI_NUM_REGIONS = 9;
/**
 * Region file offset = index << 40 on the device fd. From drivers/vfio/pci/vfio_pci_priv.h, not the
 * uAPI header; kept here because userspace relies on it (§3.3).
 */
export const VFIO_PCI_OFFSET_SHIFT = 40;

// --- IRQ info and SET_IRQS (vfio.h; §3.2, §3.4) ---

export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
export const VFIO_IRQ_INFO_NORESIZE = 1 << 3;

/** struct vfio_irq_info (16 bytes). */
export const VfioIrqInfo = defineStruct('vfio_irq_info', 16, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  le32Field('index', 8),
  le32Field('count', 12),
]);

export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
/** DATA_NONE | DATA_BOOL | DATA_EVENTFD */
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 0x7;
/** ACTION_MASK | ACTION_UNMASK | ACTION_TRIGGER */
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;

/** struct vfio_irq_set (20 bytes + `u8 data[]`: count × 0, 1 or 4 bytes as the data type says). */
export const VfioIrqSet = defineStruct('vfio_irq_set', 20, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  le32Field('index', 8),
  le32Field('start', 12),
  le32Field('count', 16),
  tailField('data', 20),
]);

export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;
