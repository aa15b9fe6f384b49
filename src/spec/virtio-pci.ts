/**
 * The virtio PCI transport, named as the virtio spec (transport-pci.tex, content.tex,
 * device-types/net/description.tex, virtio 1.4) and Linux's include/uapi/linux/virtio_pci.h,
 * virtio_config.h, virtio_ids.h and virtio_net.h name it (facts/virtio.md §1). Where Linux has a macro,
 * its spelling is used; where only the spec names a thing, the name is built from the spec's words
 * and says so. Feature and flag constants named `*_F_*` are bit NUMBERS, as in the headers.
 *
 * Left out: the split ring (§2), the packed ring, MMIO and channel-I/O transports, device types other
 * than net.
 */
// Imported from its file, not base/index.ts: see the load-order note in struct-codec.ts.
import {
  bytesField,
  defineStruct,
  le16Field,
  le32Field,
  le64Field,
  reservedField,
  structField,
  u8Field,
} from '../base/struct-codec.js';

// --- PCI IDs (transport-pci.tex "PCI Device Discovery"; facts §1.1) ---

/** include/linux/pci_ids.h; every virtio function has this vendor ID. */
export const PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1af4;
/** First and last device ID of the virtio range (our names; Linux compares against the literals). */
export const VIRTIO_PCI_DEVICE_ID_MIN = 0x1000;
export const VIRTIO_PCI_DEVICE_ID_MAX = 0x107f;
/** Transitional IDs are 0x1000..0x103f; modern IDs are this base + virtio device type. */
export const VIRTIO_PCI_TRANSITIONAL_DEVICE_ID_MAX = 0x103f;
export const VIRTIO_PCI_MODERN_DEVICE_ID_BASE = 0x1040;
/** Transitional devices have Revision ID 0; non-transitional ones SHOULD have 1 or more. */
export const VIRTIO_PCI_TRANSITIONAL_REVISION = 0;
export const VIRTIO_PCI_MODERN_REVISION_MIN = 1;
/** Non-transitional devices SHOULD have a Subsystem Device ID of at least this. */
export const VIRTIO_PCI_MODERN_SUBSYSTEM_ID_MIN = 0x40;

// Virtio device types (content.tex "Device Types"; include/uapi/linux/virtio_ids.h). 0 is invalid.
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;
export const VIRTIO_ID_BALLOON = 5;
export const VIRTIO_ID_SCSI = 8;
export const VIRTIO_ID_9P = 9;
export const VIRTIO_ID_GPU = 16;
export const VIRTIO_ID_INPUT = 18;
export const VIRTIO_ID_VSOCK = 19;
export const VIRTIO_ID_CRYPTO = 20;
export const VIRTIO_ID_IOMMU = 23;
export const VIRTIO_ID_MEM = 24;
export const VIRTIO_ID_FS = 26;

// Transitional device IDs (a fixed table, not 0x1000 + type - 1; include/uapi/linux/virtio_pci.h).
export const VIRTIO_TRANS_ID_NET = 0x1000;
export const VIRTIO_TRANS_ID_BLOCK = 0x1001;
export const VIRTIO_TRANS_ID_BALLOON = 0x1002;
export const VIRTIO_TRANS_ID_CONSOLE = 0x1003;
export const VIRTIO_TRANS_ID_SCSI = 0x1004;
export const VIRTIO_TRANS_ID_RNG = 0x1005;
export const VIRTIO_TRANS_ID_9P = 0x1009;

// --- Vendor capabilities (transport-pci.tex "Virtio Structure PCI Capabilities"; facts §1.2) ---

/** cfg_type values. Any other value is reserved and a driver ignores the capability. */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;
export const VIRTIO_PCI_CAP_SHARED_MEMORY_CFG = 8;
export const VIRTIO_PCI_CAP_VENDOR_CFG = 9;

/** Field offsets of struct virtio_pci_cap and its extensions (virtio_pci.h). */
export const VIRTIO_PCI_CAP_VNDR = 0;
export const VIRTIO_PCI_CAP_NEXT = 1;
export const VIRTIO_PCI_CAP_LEN = 2;
export const VIRTIO_PCI_CAP_CFG_TYPE = 3;
export const VIRTIO_PCI_CAP_BAR = 4;
/** Our name for the `id` byte (no Linux macro): tells apart several caps of one type. */
export const VIRTIO_PCI_CAP_ID = 5;
export const VIRTIO_PCI_CAP_OFFSET = 8;
export const VIRTIO_PCI_CAP_LENGTH = 12;
export const VIRTIO_PCI_NOTIFY_CAP_MULT = 16;
/** `bar` values above this are reserved: the driver ignores the capability. */
export const VIRTIO_PCI_CAP_BAR_MAX = 5;

/** struct virtio_pci_cap (16 bytes). `capVndr` is PCI_CAP_ID_VNDR (0x09). */
export const VirtioPciCap = defineStruct('virtio_pci_cap', 16, [
  u8Field('capVndr', VIRTIO_PCI_CAP_VNDR),
  u8Field('capNext', VIRTIO_PCI_CAP_NEXT),
  u8Field('capLen', VIRTIO_PCI_CAP_LEN),
  u8Field('cfgType', VIRTIO_PCI_CAP_CFG_TYPE),
  u8Field('bar', VIRTIO_PCI_CAP_BAR),
  u8Field('id', VIRTIO_PCI_CAP_ID),
  reservedField('padding', 6, 2),
  le32Field('offset', VIRTIO_PCI_CAP_OFFSET),
  le32Field('length', VIRTIO_PCI_CAP_LENGTH),
]);

/** struct virtio_pci_notify_cap (20 bytes). */
export const VirtioPciNotifyCap = defineStruct('virtio_pci_notify_cap', 20, [
  structField('cap', 0, VirtioPciCap),
  le32Field('notifyOffMultiplier', VIRTIO_PCI_NOTIFY_CAP_MULT),
]);

/** struct virtio_pci_cfg_cap (20 bytes): the window through config space into a BAR (§1.7). */
export const VirtioPciCfgCap = defineStruct('virtio_pci_cfg_cap', 20, [
  structField('cap', 0, VirtioPciCap),
  bytesField('pciCfgData', 16, 4),
]);

/** struct virtio_pci_cap64 (24 bytes), for shared memory regions. */
export const VirtioPciCap64 = defineStruct('virtio_pci_cap64', 24, [
  structField('cap', 0, VirtioPciCap),
  le32Field('offsetHi', 16),
  le32Field('lengthHi', 20),
]);

// --- struct virtio_pci_common_cfg (transport-pci.tex "Common configuration structure layout"; §1.3) ---

export const VIRTIO_PCI_COMMON_DFSELECT = 0;
export const VIRTIO_PCI_COMMON_DF = 4;
export const VIRTIO_PCI_COMMON_GFSELECT = 8;
export const VIRTIO_PCI_COMMON_GF = 12;
export const VIRTIO_PCI_COMMON_MSIX = 16;
export const VIRTIO_PCI_COMMON_NUMQ = 18;
export const VIRTIO_PCI_COMMON_STATUS = 20;
export const VIRTIO_PCI_COMMON_CFGGENERATION = 21;
export const VIRTIO_PCI_COMMON_Q_SELECT = 22;
export const VIRTIO_PCI_COMMON_Q_SIZE = 24;
export const VIRTIO_PCI_COMMON_Q_MSIX = 26;
export const VIRTIO_PCI_COMMON_Q_ENABLE = 28;
export const VIRTIO_PCI_COMMON_Q_NOFF = 30;
export const VIRTIO_PCI_COMMON_Q_DESCLO = 32;
export const VIRTIO_PCI_COMMON_Q_DESCHI = 36;
export const VIRTIO_PCI_COMMON_Q_AVAILLO = 40;
export const VIRTIO_PCI_COMMON_Q_AVAILHI = 44;
export const VIRTIO_PCI_COMMON_Q_USEDLO = 48;
export const VIRTIO_PCI_COMMON_Q_USEDHI = 52;
export const VIRTIO_PCI_COMMON_Q_NDATA = 56;
export const VIRTIO_PCI_COMMON_Q_RESET = 58;
export const VIRTIO_PCI_COMMON_ADM_Q_IDX = 60;
export const VIRTIO_PCI_COMMON_ADM_Q_NUM = 62;

/**
 * The whole common configuration structure (64 bytes, Linux's virtio_pci_modern_common_cfg). The
 * 64-bit queue addresses are one le64 each here; a register file still splits them into the LO/HI
 * halves above, which the device MUST allow to be accessed independently.
 */
export const VirtioPciCommonCfg = defineStruct('virtio_pci_common_cfg', 64, [
  le32Field('deviceFeatureSelect', VIRTIO_PCI_COMMON_DFSELECT),
  le32Field('deviceFeature', VIRTIO_PCI_COMMON_DF),
  le32Field('driverFeatureSelect', VIRTIO_PCI_COMMON_GFSELECT),
  le32Field('driverFeature', VIRTIO_PCI_COMMON_GF),
  le16Field('configMsixVector', VIRTIO_PCI_COMMON_MSIX),
  le16Field('numQueues', VIRTIO_PCI_COMMON_NUMQ),
  u8Field('deviceStatus', VIRTIO_PCI_COMMON_STATUS),
  u8Field('configGeneration', VIRTIO_PCI_COMMON_CFGGENERATION),
  le16Field('queueSelect', VIRTIO_PCI_COMMON_Q_SELECT),
  le16Field('queueSize', VIRTIO_PCI_COMMON_Q_SIZE),
  le16Field('queueMsixVector', VIRTIO_PCI_COMMON_Q_MSIX),
  le16Field('queueEnable', VIRTIO_PCI_COMMON_Q_ENABLE),
  le16Field('queueNotifyOff', VIRTIO_PCI_COMMON_Q_NOFF),
  le64Field('queueDesc', VIRTIO_PCI_COMMON_Q_DESCLO),
  le64Field('queueDriver', VIRTIO_PCI_COMMON_Q_AVAILLO),
  le64Field('queueDevice', VIRTIO_PCI_COMMON_Q_USEDLO),
  le16Field('queueNotifConfigData', VIRTIO_PCI_COMMON_Q_NDATA),
  le16Field('queueReset', VIRTIO_PCI_COMMON_Q_RESET),
  le16Field('adminQueueIndex', VIRTIO_PCI_COMMON_ADM_Q_IDX),
  le16Field('adminQueueNum', VIRTIO_PCI_COMMON_ADM_Q_NUM),
]);

/** Feature bits per device_feature/driver_feature window (device_feature_select selects the window). */
export const VIRTIO_PCI_FEATURE_WINDOW_BITS = 32;

// --- Notifications (transport-pci.tex "Notification capability"; §1.4) ---

/** With VIRTIO_F_NOTIFICATION_DATA the 32-bit notify value packs these (our names, spec's fields). */
export const VIRTIO_NOTIFICATION_DATA_VQN_MASK = 0xffff;
export const VIRTIO_NOTIFICATION_DATA_NEXT_OFF_SHIFT = 16;
export const VIRTIO_NOTIFICATION_DATA_NEXT_OFF_MASK = 0x7fff;
export const VIRTIO_NOTIFICATION_DATA_NEXT_WRAP_SHIFT = 31;

// --- ISR status (transport-pci.tex "ISR status capability"; §1.5). Reading it clears it. ---

/** Bit 0, "Queue Interrupt" (no Linux macro; our name). */
export const VIRTIO_PCI_ISR_QUEUE = 0x1;
export const VIRTIO_PCI_ISR_CONFIG = 0x2;

// --- MSI-X (§1.8) ---

export const VIRTIO_MSI_NO_VECTOR = 0xffff;
/** Highest valid MSI-X vector number (the spec allows 0..0x7FF). */
export const VIRTIO_MSI_VECTOR_MAX = 0x7ff;

// --- Device status (content.tex "Device Status Field"; virtio_config.h; §1.9). Values, not bits. ---

export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
/** virtio 1.4, only with VIRTIO_F_SUSPEND (Linux has it only as a proposal). */
export const VIRTIO_CONFIG_S_SUSPEND = 0x10;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

// --- Reserved feature bits (content.tex "Reserved Feature Bits"; virtio_config.h; §1.10). Bit numbers. ---

/** Legacy only. */
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
/** Legacy; transitional devices MUST offer it. */
export const VIRTIO_F_ANY_LAYOUT = 27;
/** The spec's VIRTIO_F_INDIRECT_DESC; Linux's spelling. */
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
/** The spec's VIRTIO_F_EVENT_IDX; Linux's spelling. */
export const VIRTIO_RING_F_EVENT_IDX = 29;
/** Never negotiated; QEMU offers it to catch broken legacy drivers (QEMU's name). */
export const VIRTIO_F_BAD_FEATURE = 30;
export const VIRTIO_F_VERSION_1 = 32;
/** Also known by its old name VIRTIO_F_IOMMU_PLATFORM. */
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_IN_ORDER = 35;
export const VIRTIO_F_ORDER_PLATFORM = 36;
export const VIRTIO_F_SR_IOV = 37;
export const VIRTIO_F_NOTIFICATION_DATA = 38;
export const VIRTIO_F_NOTIF_CONFIG_DATA = 39;
export const VIRTIO_F_RING_RESET = 40;
/**
 * virtio 1.4. The spec's allocation text also lists 41 as device-type specific because virtio-net's
 * legacy GUEST_RSC4 used it; for a modern PF it is ADMIN_VQ (facts §1.10).
 */
export const VIRTIO_F_ADMIN_VQ = 41;
/** virtio 1.4. */
export const VIRTIO_F_SUSPEND = 43;
/** Linux's range of transport feature bits, [START, END). */
export const VIRTIO_TRANSPORT_F_START = 28;
export const VIRTIO_TRANSPORT_F_END = 42;

// --- Legacy I/O BAR0 "virtio header" (transport-pci.tex "Legacy Interfaces"; virtio_pci.h; §1.11) ---

export const VIRTIO_PCI_HOST_FEATURES = 0;
export const VIRTIO_PCI_GUEST_FEATURES = 4;
export const VIRTIO_PCI_QUEUE_PFN = 8;
export const VIRTIO_PCI_QUEUE_NUM = 12;
export const VIRTIO_PCI_QUEUE_SEL = 14;
export const VIRTIO_PCI_QUEUE_NOTIFY = 16;
export const VIRTIO_PCI_STATUS = 18;
export const VIRTIO_PCI_ISR = 19;
/** Present only while MSI-X is enabled. */
export const VIRTIO_MSI_CONFIG_VECTOR = 20;
export const VIRTIO_MSI_QUEUE_VECTOR = 22;
/** Queue PFN = physical address >> this. */
export const VIRTIO_PCI_QUEUE_ADDR_SHIFT = 12;
/** Legacy split-ring alignment of the used ring. */
export const VIRTIO_PCI_VRING_ALIGN = 4096;

/** VIRTIO_PCI_CONFIG_OFF(msix_enabled): where device-specific config starts in the legacy header. */
export function VIRTIO_PCI_CONFIG_OFF(msixEnabled: boolean): number {
  return msixEnabled ? 24 : 20;
}

// --- virtio-net (device-types/net/description.tex; virtio_net.h; §1.12) ---

// Feature bits (bit numbers).
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
/** Legacy only. */
export const VIRTIO_NET_F_GSO = 6;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_GUEST_TSO6 = 8;
export const VIRTIO_NET_F_GUEST_ECN = 9;
export const VIRTIO_NET_F_GUEST_UFO = 10;
export const VIRTIO_NET_F_HOST_TSO4 = 11;
export const VIRTIO_NET_F_HOST_TSO6 = 12;
export const VIRTIO_NET_F_HOST_ECN = 13;
export const VIRTIO_NET_F_HOST_UFO = 14;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_CTRL_RX = 18;
export const VIRTIO_NET_F_CTRL_VLAN = 19;
export const VIRTIO_NET_F_CTRL_RX_EXTRA = 20;
export const VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
export const VIRTIO_NET_F_MQ = 22;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
/** Legacy only; in a modern device bit 41 is VIRTIO_F_ADMIN_VQ. */
export const VIRTIO_NET_F_GUEST_RSC4 = 41;
export const VIRTIO_NET_F_GUEST_RSC6 = 42;
export const VIRTIO_NET_F_HASH_TUNNEL = 51;
export const VIRTIO_NET_F_HASH_REPORT = 57;
export const VIRTIO_NET_F_RSS = 60;
export const VIRTIO_NET_F_STANDBY = 62;
export const VIRTIO_NET_F_SPEED_DUPLEX = 63;

/** struct virtio_net_config `status` bits. */
export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_S_ANNOUNCE = 2;

/**
 * `duplex` values (Linux's ethtool DUPLEX_* names). Decision: the spec's field description says
 * 0x01 = full and 0x00 = half while its normative section swaps them; we follow the description,
 * which is also what Linux's values mean.
 */
export const DUPLEX_HALF = 0x00;
export const DUPLEX_FULL = 0x01;
export const DUPLEX_UNKNOWN = 0xff;
/** `speed` value for "unknown". */
export const SPEED_UNKNOWN = 0xffffffff;
/** `max_virtqueue_pairs` range. */
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;

/**
 * struct virtio_net_config (28 bytes as far as supported_tunnel_types). Modern drivers only read it;
 * each field exists only with the feature named in facts §1.12 (mac is always present).
 */
export const VirtioNetConfig = defineStruct('virtio_net_config', 28, [
  bytesField('mac', 0, 6),
  le16Field('status', 6),
  le16Field('maxVirtqueuePairs', 8),
  le16Field('mtu', 10),
  le32Field('speed', 12),
  u8Field('duplex', 16),
  u8Field('rssMaxKeySize', 17),
  le16Field('rssMaxIndirectionTableLength', 18),
  le32Field('supportedHashTypes', 20),
  le32Field('supportedTunnelTypes', 24),
]);

/**
 * struct virtio_net_hdr as the modern spec defines it (12 bytes, num_buffers always present). A legacy
 * driver without VIRTIO_NET_F_MRG_RXBUF uses only the first VIRTIO_NET_HDR_LEGACY_SIZE bytes, in guest
 * endianness (Linux's struct virtio_net_hdr is that 10-byte form).
 */
export const VirtioNetHdr = defineStruct('virtio_net_hdr', 12, [
  u8Field('flags', 0),
  u8Field('gsoType', 1),
  le16Field('hdrLen', 2),
  le16Field('gsoSize', 4),
  le16Field('csumStart', 6),
  le16Field('csumOffset', 8),
  le16Field('numBuffers', 10),
]);
export const VIRTIO_NET_HDR_LEGACY_SIZE = 10;

/** Control virtqueue request header `{u8 class; u8 command}`; data follows, then a u8 ack. */
export const VirtioNetCtrlHdr = defineStruct('virtio_net_ctrl_hdr', 2, [
  u8Field('class', 0),
  u8Field('command', 1),
]);

// Control virtqueue ack values.
export const VIRTIO_NET_OK = 0;
export const VIRTIO_NET_ERR = 1;

// Control classes and commands.
export const VIRTIO_NET_CTRL_RX = 0;
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
export const VIRTIO_NET_CTRL_RX_ALLUNI = 2;
export const VIRTIO_NET_CTRL_RX_NOMULTI = 3;
export const VIRTIO_NET_CTRL_RX_NOUNI = 4;
export const VIRTIO_NET_CTRL_RX_NOBCAST = 5;
export const VIRTIO_NET_CTRL_MAC = 1;
export const VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
export const VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;
export const VIRTIO_NET_CTRL_VLAN = 2;
export const VIRTIO_NET_CTRL_VLAN_ADD = 0;
export const VIRTIO_NET_CTRL_VLAN_DEL = 1;
export const VIRTIO_NET_CTRL_ANNOUNCE = 3;
export const VIRTIO_NET_CTRL_ANNOUNCE_ACK = 0;
export const VIRTIO_NET_CTRL_MQ = 4;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;
export const VIRTIO_NET_CTRL_MQ_RSS_CONFIG = 1;
export const VIRTIO_NET_CTRL_MQ_HASH_CONFIG = 2;
export const VIRTIO_NET_CTRL_GUEST_OFFLOADS = 5;
export const VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET = 0;
export const VIRTIO_NET_CTRL_NOTF_COAL = 6;
export const VIRTIO_NET_CTRL_HASH_TUNNEL = 7;
export const VIRTIO_NET_CTRL_STATS = 8;
