/**
 * Virtio administration commands and device parts: opcodes, group types, status codes and qualifiers,
 * and the wire layout of every command's data and result, as virtio 1.4 (admin.tex,
 * admin-cmds-legacy-interface.tex, admin-cmds-capabilities.tex, admin-cmds-resource-objects.tex,
 * admin-cmds-device-parts.tex, device-parts.tex) and Linux's include/uapi/linux/virtio_pci.h name them
 * (facts/virtio.md §3, §4). Descriptor names are the C struct names (Linux's where it has one); field
 * names are the spec's field names in camelCase. `*_F_*` constants are bit NUMBERS, as in the headers.
 *
 * Flexible arrays (`u8 data[]`, `struct virtio_dev_part parts[]`, ...) are `tail` fields; the helpers in
 * hw/virtio/admin-wire.ts split them into opcode bitmaps, part headers and parts.
 *
 * Left out: object types and capabilities of other device types (net IPsec SAs, crypto), the 2023
 * "device context" drafts and vendor pre-standard commands (facts §3.13).
 */
// Imported from its file, not base/index.ts: see the load-order note in struct-codec.ts.
import {
  arrayField,
  bytesField,
  defineStruct,
  le16Field,
  le32Field,
  le64Field,
  reservedField,
  structField,
  tailField,
  u8Field,
} from '../base/struct-codec.js';

// --- Group types (admin.tex "Group administration commands"; §3.3) ---

/** The owner itself; group_member_id is 0. */
export const VIRTIO_ADMIN_GROUP_TYPE_SELF = 0x0;
/** Owner = PF, members = its VFs; group_member_id = VF number, 1..NumVFs. */
export const VIRTIO_ADMIN_GROUP_TYPE_SRIOV = 0x1;

// --- Opcodes (admin.tex opcode table; §3.6) ---

export const VIRTIO_ADMIN_CMD_LIST_QUERY = 0x0;
export const VIRTIO_ADMIN_CMD_LIST_USE = 0x1;
export const VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_WRITE = 0x2;
export const VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_READ = 0x3;
export const VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_WRITE = 0x4;
export const VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_READ = 0x5;
export const VIRTIO_ADMIN_CMD_LEGACY_NOTIFY_INFO = 0x6;
export const VIRTIO_ADMIN_CMD_CAP_ID_LIST_QUERY = 0x7;
export const VIRTIO_ADMIN_CMD_DEVICE_CAP_GET = 0x8;
export const VIRTIO_ADMIN_CMD_DRIVER_CAP_SET = 0x9;
export const VIRTIO_ADMIN_CMD_RESOURCE_OBJ_CREATE = 0xa;
/**
 * UNVERIFIED: the spec contradicts itself. admin.tex's opcode table says MODIFY = 0xc and QUERY = 0xb;
 * admin-cmds-resource-objects.tex, which defines the commands, says MODIFY = 0xb and QUERY = 0xc, and
 * Linux defines neither. Decision: follow the defining text (CREATE, MODIFY, QUERY, DESTROY in order).
 */
export const VIRTIO_ADMIN_CMD_RESOURCE_OBJ_MODIFY = 0xb;
/** UNVERIFIED: see VIRTIO_ADMIN_CMD_RESOURCE_OBJ_MODIFY. */
export const VIRTIO_ADMIN_CMD_RESOURCE_OBJ_QUERY = 0xc;
export const VIRTIO_ADMIN_CMD_RESOURCE_OBJ_DESTROY = 0xd;
export const VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_GET = 0xe;
export const VIRTIO_ADMIN_CMD_DEV_PARTS_GET = 0xf;
export const VIRTIO_ADMIN_CMD_DEV_PARTS_SET = 0x10;
export const VIRTIO_ADMIN_CMD_DEV_MODE_SET = 0x11;
/** Opcodes up to this use struct virtio_admin_cmd; 0x8000..0xffff are reserved (our names). */
export const VIRTIO_ADMIN_CMD_OPCODE_STANDARD_MAX = 0x7fff;
/** Opcodes (and capability ids) per le64 word of a list bitmap (struct virtio_admin_cmd_list). */
export const VIRTIO_ADMIN_CMD_LIST_BITS_PER_WORD = 64;

// --- Status codes (admin.tex; §3.4). Decimal = the Linux errno values. ---

export const VIRTIO_ADMIN_STATUS_OK = 0;
/** No such capability or resource. */
export const VIRTIO_ADMIN_STATUS_ENXIO = 6;
/** Try again; no side effects. */
export const VIRTIO_ADMIN_STATUS_EAGAIN = 11;
/** Insufficient resources, no side effects; also "result buffer too small" for METADATA_GET. */
export const VIRTIO_ADMIN_STATUS_ENOMEM = 12;
export const VIRTIO_ADMIN_STATUS_EBUSY = 16;
/**
 * UNVERIFIED: the spec's text uses EEXIST ("object already exists") but its status table does not list
 * it. Decision: 17, by the errno convention every other status follows.
 */
export const VIRTIO_ADMIN_STATUS_EEXIST = 17;
/** Invalid command; MUST have no side effects. Drivers treat unknown statuses like this. */
export const VIRTIO_ADMIN_STATUS_EINVAL = 22;
export const VIRTIO_ADMIN_STATUS_ENOSPC = 28;

// --- Status qualifiers (admin.tex; §3.5). 0x08..0xffff reserved: read as INVALID_COMMAND. ---

export const VIRTIO_ADMIN_STATUS_Q_OK = 0x0;
export const VIRTIO_ADMIN_STATUS_Q_INVALID_COMMAND = 0x1;
export const VIRTIO_ADMIN_STATUS_Q_INVALID_OPCODE = 0x2;
export const VIRTIO_ADMIN_STATUS_Q_INVALID_FIELD = 0x3;
export const VIRTIO_ADMIN_STATUS_Q_INVALID_GROUP = 0x4;
export const VIRTIO_ADMIN_STATUS_Q_INVALID_MEMBER = 0x5;
export const VIRTIO_ADMIN_STATUS_Q_NORESOURCE = 0x6;
export const VIRTIO_ADMIN_STATUS_Q_TRYAGAIN = 0x7;

// --- Command layout `struct virtio_admin_cmd` (admin.tex; §3.2) ---

/** Device-readable header (24 bytes); command_specific_data follows. */
export const VirtioAdminCmdHdr = defineStruct('virtio_admin_cmd_hdr', 24, [
  le16Field('opcode', 0),
  le16Field('groupType', 2),
  reservedField('reserved1', 4, 12),
  le64Field('groupMemberId', 16),
]);

/** Device-writable header (8 bytes); command_specific_result follows. */
export const VirtioAdminCmdStatus = defineStruct('virtio_admin_cmd_status', 8, [
  le16Field('status', 0),
  le16Field('statusQualifier', 2),
  reservedField('reserved2', 4, 4),
]);

/** Data or result of a command that has none. */
export const VirtioAdminCmdNone = defineStruct('(none)', 0, []);

// --- LIST_QUERY / LIST_USE (§3.8) ---

/**
 * `le64 device_admin_cmd_opcodes[]`: bit (op % 64) of word (op / 64). LIST_QUERY result, LIST_USE data.
 * The same bitmap form carries CAP_ID_LIST_QUERY's `supported_caps[]`.
 */
export const VirtioAdminCmdList = defineStruct('virtio_admin_cmd_list', 0, [
  tailField('deviceAdminCmdOpcodes', 0),
]);

// --- Legacy interface (SR-IOV group; admin-cmds-legacy-interface.tex; §3.9). Data always LE. ---

/** LEGACY_COMMON_CFG_WRITE / LEGACY_DEV_CFG_WRITE data; the write size is the length of `data`. */
export const VirtioAdminCmdLegacyWrData = defineStruct('virtio_admin_cmd_legacy_wr_data', 8, [
  u8Field('offset', 0),
  reservedField('reserved', 1, 7),
  tailField('data', 8),
]);

/**
 * LEGACY_COMMON_CFG_READ / LEGACY_DEV_CFG_READ data (1 byte). The spec's DEV_CFG_READ text calls it
 * legacy_common_cfg_rd_data and legacy_dev_cfg_rd_data in two places; both are this layout.
 */
export const VirtioAdminCmdLegacyRdData = defineStruct('virtio_admin_cmd_legacy_rd_data', 1, [
  u8Field('offset', 0),
]);

/** LEGACY_*_READ result: the read size is the length of the result buffer. */
export const VirtioAdminCmdLegacyRdResult = defineStruct('virtio_admin_cmd_legacy_rd_result', 0, [
  tailField('data', 0),
]);

/** struct virtio_pci_legacy_notify_info `flags`. Linux calls the member value ..._OWNER_MEM. */
export const VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_END = 0;
export const VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_OWNER_DEV = 0x1;
export const VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_OWNER_MEM = 0x2;
export const VIRTIO_ADMIN_CMD_MAX_NOTIFY_INFO = 4;

/** One notification address: a BAR (1..5) and a 2-byte aligned offset in it (16 bytes). */
export const VirtioPciLegacyNotifyInfo = defineStruct('virtio_pci_legacy_notify_info', 16, [
  u8Field('flags', 0),
  u8Field('bar', 1),
  reservedField('padding', 2, 6),
  le64Field('offset', 8),
]);

/** LEGACY_NOTIFY_INFO result (64 bytes): entries in order of preference, ended by flags == END. */
export const VirtioAdminCmdLegacyNotifyInfoResult = defineStruct(
  'virtio_admin_cmd_legacy_notify_info_result',
  64,
  [arrayField('entries', 0, VirtioPciLegacyNotifyInfo, VIRTIO_ADMIN_CMD_MAX_NOTIFY_INFO)],
);

// --- Device and driver capabilities (Self group; admin-cmds-capabilities.tex; §3.10) ---

/** Capability id ranges (our names): generic, device-type specific, then reserved. */
export const VIRTIO_ADMIN_CAP_ID_GENERIC_MAX = 0x07ff;
export const VIRTIO_ADMIN_CAP_ID_DEVICE_TYPE_MIN = 0x0800;
export const VIRTIO_ADMIN_CAP_ID_DEVICE_TYPE_MAX = 0x0fff;
export const VIRTIO_DEV_PARTS_CAP = 0x0000;

/** CAP_ID_LIST_QUERY result: `le64 supported_caps[]`, a bitmap indexed like the opcode list. */
export const VirtioAdminCmdQueryCapIdResult = defineStruct('virtio_admin_cmd_query_cap_id_result', 0, [
  tailField('supportedCaps', 0),
]);

/** DEVICE_CAP_GET data (8 bytes). */
export const VirtioAdminCmdCapGetData = defineStruct('virtio_admin_cmd_cap_get_data', 8, [
  le16Field('id', 0),
  reservedField('reserved', 2, 6),
]);

/** DEVICE_CAP_GET result: the capability's data (for VIRTIO_DEV_PARTS_CAP, VirtioDevPartsCap). */
export const VirtioAdminCmdCapGetResult = defineStruct('virtio_admin_cmd_cap_get_result', 0, [
  tailField('capSpecificData', 0),
]);

/** DRIVER_CAP_SET data: id, then the capability's data (the driver may only lower limits). */
export const VirtioAdminCmdCapSetData = defineStruct('virtio_admin_cmd_cap_set_data', 8, [
  le16Field('id', 0),
  reservedField('reserved', 2, 6),
  tailField('capSpecificData', 8),
]);

/** VIRTIO_DEV_PARTS_CAP data (2 bytes). */
export const VirtioDevPartsCap = defineStruct('virtio_dev_parts_cap', 2, [
  u8Field('getPartsResourceObjectsLimit', 0),
  u8Field('setPartsResourceObjectsLimit', 1),
]);

// --- Device resource objects (admin-cmds-resource-objects.tex; §3.11) ---

/** Object type ranges (our names): generic, device-type specific, then reserved. */
export const VIRTIO_RESOURCE_OBJ_GENERIC_MAX = 0x1ff;
export const VIRTIO_RESOURCE_OBJ_DEVICE_TYPE_MIN = 0x200;
export const VIRTIO_RESOURCE_OBJ_DEVICE_TYPE_MAX = 0x4ff;
export const VIRTIO_RESOURCE_OBJ_DEV_PARTS = 0x000;

/** Common header of every resource-object command (8 bytes); DESTROY's whole data. */
export const VirtioAdminCmdResourceObjCmdHdr = defineStruct('virtio_admin_cmd_resource_obj_cmd_hdr', 8, [
  le16Field('type', 0),
  reservedField('reserved', 2, 2),
  le32Field('id', 4),
]);

/** RESOURCE_OBJ_CREATE data: `flags` is 0; the object's data follows. */
export const VirtioAdminCmdResourceObjCreateData = defineStruct(
  'virtio_admin_cmd_resource_obj_create_data',
  16,
  [
    structField('hdr', 0, VirtioAdminCmdResourceObjCmdHdr),
    le64Field('flags', 8),
    tailField('resourceObjSpecificData', 16),
  ],
);

/** RESOURCE_OBJ_MODIFY data: the same layout as CREATE. */
export const VirtioAdminCmdResourceObjModifyData = defineStruct(
  'virtio_admin_cmd_resource_obj_modify_data',
  16,
  [
    structField('hdr', 0, VirtioAdminCmdResourceObjCmdHdr),
    le64Field('flags', 8),
    tailField('resourceObjSpecificData', 16),
  ],
);

/** RESOURCE_OBJ_QUERY data (16 bytes). */
export const VirtioAdminCmdResourceObjQueryData = defineStruct(
  'virtio_admin_cmd_resource_obj_query_data',
  16,
  [structField('hdr', 0, VirtioAdminCmdResourceObjCmdHdr), le64Field('flags', 8)],
);

/** RESOURCE_OBJ_QUERY result: the object's data as last created or modified. */
export const VirtioAdminCmdResourceObjQueryResult = defineStruct(
  'virtio_admin_cmd_resource_obj_query_result',
  0,
  [tailField('resourceObjSpecificResult', 0)],
);

/** struct virtio_resource_obj_dev_parts `type`: an object captures parts (GET) or restores them (SET). */
export const VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_GET = 0;
export const VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_SET = 1;

/** The dev-parts object's data (8 bytes): CREATE's object data and QUERY's result. */
export const VirtioResourceObjDevParts = defineStruct('virtio_resource_obj_dev_parts', 8, [
  u8Field('type', 0),
  reservedField('reserved', 1, 7),
]);

// --- Device parts commands (SR-IOV group; admin-cmds-device-parts.tex; §3.12, §4) ---

export const VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_SIZE = 0;
export const VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_COUNT = 1;
export const VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_LIST = 2;

export const VIRTIO_ADMIN_CMD_DEV_PARTS_GET_TYPE_SELECTED = 0;
export const VIRTIO_ADMIN_CMD_DEV_PARTS_GET_TYPE_ALL = 1;

/** DEV_MODE_SET `flags` bit: set = stopped, clear = active. virtio 1.4 has only these two modes. */
export const VIRTIO_ADMIN_CMD_DEV_MODE_F_STOPPED = 0;

/** DEV_PARTS_METADATA_GET data (16 bytes). */
export const VirtioAdminCmdDevPartsMetadataData = defineStruct(
  'virtio_admin_cmd_dev_parts_metadata_data',
  16,
  [
    structField('hdr', 0, VirtioAdminCmdResourceObjCmdHdr),
    u8Field('type', 8),
    reservedField('reserved', 9, 7),
  ],
);

/** DEV_PARTS_METADATA_GET result as raw bytes: a union the data's `type` selects (the three below). */
export const VirtioAdminCmdDevPartsMetadataResult = defineStruct(
  'virtio_admin_cmd_dev_parts_metadata_result',
  0,
  [tailField('metadata', 0)],
);

/** Metadata SIZE: the most bytes a GET of all parts can return. */
export const VirtioAdminCmdDevPartsMetadataSize = defineStruct('parts_size', 8, [
  le32Field('size', 0),
  reservedField('reserved', 4, 4),
]);

/** Metadata COUNT: how many part headers a LIST would return. */
export const VirtioAdminCmdDevPartsMetadataCount = defineStruct('hdr_list_count', 8, [
  le32Field('count', 0),
  reservedField('reserved', 4, 4),
]);

/** Metadata LIST: count, then `struct virtio_dev_part_hdr hdrs[]`. */
export const VirtioAdminCmdDevPartsMetadataList = defineStruct('hdr_list', 8, [
  le32Field('count', 0),
  reservedField('reserved', 4, 4),
  tailField('hdrs', 8),
]);

/** DEV_PARTS_GET data: object, get type, and (for SELECTED) `struct virtio_dev_part_hdr hdr_list[]`. */
export const VirtioAdminCmdDevPartsGetData = defineStruct('virtio_admin_cmd_dev_parts_get_data', 16, [
  structField('hdr', 0, VirtioAdminCmdResourceObjCmdHdr),
  u8Field('type', 8),
  reservedField('reserved', 9, 7),
  tailField('hdrList', 16),
]);

/** DEV_PARTS_GET result: `struct virtio_dev_part parts[]`, packed back to back in §4.5 order. */
export const VirtioAdminCmdDevPartsGetResult = defineStruct('virtio_admin_cmd_dev_parts_get_result', 0, [
  tailField('parts', 0),
]);

/** DEV_PARTS_SET data: object, then `struct virtio_dev_part parts[]`. */
export const VirtioAdminCmdDevPartsSetData = defineStruct('virtio_admin_cmd_dev_parts_set_data', 8, [
  structField('hdr', 0, VirtioAdminCmdResourceObjCmdHdr),
  tailField('parts', 8),
]);

/** DEV_MODE_SET data (1 byte). */
export const VirtioAdminCmdDevModeSetData = defineStruct('virtio_admin_cmd_dev_mode_set_data', 1, [
  u8Field('flags', 0),
]);

// --- Device parts (device-parts.tex; §4.2, §4.3) ---

/** Part type ranges (our names). The spec's "0x106-0x2FF reserved" overlaps the device range; ignored. */
export const VIRTIO_DEV_PART_COMMON_MAX = 0x01ff;
export const VIRTIO_DEV_PART_DEVICE_TYPE_MIN = 0x0200;
export const VIRTIO_DEV_PART_DEVICE_TYPE_MAX = 0x05ff;

export const VIRTIO_DEV_PART_DEV_FEATURES = 0x100;
export const VIRTIO_DEV_PART_DRV_FEATURES = 0x101;
export const VIRTIO_DEV_PART_PCI_COMMON_CFG = 0x102;
export const VIRTIO_DEV_PART_DEVICE_STATUS = 0x103;
export const VIRTIO_DEV_PART_VQ_CFG = 0x104;
export const VIRTIO_DEV_PART_VQ_NOTIFY_CFG = 0x105;
/** virtio-net: one part per control-VQ (class, command), the command's data as value. */
export const VIRTIO_NET_DEV_PART_CVQ_CFG_PART = 0x200;

/** struct virtio_dev_part_hdr `flags` bit: the device may ignore the part on SET. */
export const VIRTIO_DEV_PART_F_OPTIONAL = 0;

/**
 * struct virtio_dev_part_hdr (16 bytes); `length` bytes of value follow. `selector` is a union
 * (below) that `part_type` selects; it is zero for part types without a selector.
 */
export const VirtioDevPartHdr = defineStruct('virtio_dev_part_hdr', 16, [
  le16Field('partType', 0),
  u8Field('flags', 2),
  reservedField('reserved', 3, 1),
  bytesField('selector', 4, 8),
  le32Field('length', 12),
]);

/** Size of the selector union. */
export const VIRTIO_DEV_PART_SELECTOR_SIZE = 8;

/** Selector of VIRTIO_DEV_PART_PCI_COMMON_CFG: the byte offset of one common-cfg field. */
export const VirtioDevPartSelectorPciCommonCfg = defineStruct('pci_common_cfg', 8, [
  le32Field('offset', 0),
  reservedField('reserved', 4, 4),
]);

/** Selector of VIRTIO_DEV_PART_VQ_CFG and VIRTIO_DEV_PART_VQ_NOTIFY_CFG. */
export const VirtioDevPartSelectorVqIndex = defineStruct('vq_index', 8, [
  le16Field('index', 0),
  reservedField('reserved', 2, 6),
]);

/** Selector of VIRTIO_NET_DEV_PART_CVQ_CFG_PART (in `device_type_raw`). */
export const VirtioNetDevPartSelectorCvq = defineStruct('virtio_net_dev_part_cvq_selector', 8, [
  u8Field('class', 0),
  u8Field('command', 1),
  reservedField('reserved', 2, 6),
]);

/** Value of VIRTIO_DEV_PART_VQ_CFG (32 bytes). */
export const VirtioDevPartVqCfg = defineStruct('virtio_dev_part_vq_cfg', 32, [
  le16Field('queueSize', 0),
  le16Field('vector', 2),
  le16Field('enabled', 4),
  reservedField('reserved', 6, 2),
  le64Field('queueDesc', 8),
  le64Field('queueDriver', 16),
  le64Field('queueDevice', 24),
]);

/** Value of VIRTIO_DEV_PART_VQ_NOTIFY_CFG (8 bytes). */
export const VirtioDevPartVqNotifyData = defineStruct('virtio_dev_part_vq_notify_data', 8, [
  le16Field('queueNotifyOff', 0),
  le16Field('queueNotifConfigData', 2),
  reservedField('reserved', 4, 4),
]);
