/**
 * The mnic firmware interface: vfiolab's own multi-subsystem NIC, designed after mlx5's command
 * interface ("initialization segment" + command queue entry + DMA mailboxes, mlx5_ifc.h /
 * drivers/net/ethernet/mellanox/mlx5/core/cmd.c as described in facts/kernel.md 7.3 and Appendix A)
 * but NOT byte-compatible with it: every offset, opcode and status number below is vfiolab's design.
 *
 * SPEC-DEVIATION (design note): mlx5 is big-endian on the wire and keeps its command queue in host
 * memory; the mnic is little-endian (style rule 7) and keeps its single command entry in the
 * function's MMIO window, with only bulk input/output in DMA mailboxes. The vhca state numbers are
 * mlx5's (mlx5_ifc_vhca_event.h, facts/kernel.md 7.3); op_mod numbers for SUSPEND/RESUME are ours
 * (the facts mark mlx5's as UNVERIFIED).
 *
 * A function window (PF/VF BAR0 from offset 0; SF windows in the PF's SF BAR; SIOV windows in the
 * PF's SIOV BAR) holds: the init segment (identity, doorbell), the event queue registers (manager
 * only), the command entry, the datapath DMA registers, and the context area (4 KiB of function
 * state the driver and datapath write; it is part of the saved state). The per-command input and
 * output layouts are in mnic-fw-commands.ts (re-exported here).
 */
import {
  bytesField,
  defineStruct,
  le16Field,
  le32Field,
  le64Field,
  reservedField,
  u8Field,
} from '../base/struct-codec.js';

// ---- Window layout (offsets from the start of a function window) ----

/** Firmware revision, le32: major << 16 | minor. */
export const MNIC_INIT_FW_REV = 0x000;
/** Command interface revision, le32 (MNIC_CMD_IF_REV). */
export const MNIC_INIT_CMD_IF_REV = 0x004;
/** Hardware function id of the window's function, le32, read-only. */
export const MNIC_INIT_FN_ID = 0x008;
/** vhca id of the window's function, le32, read-only. */
export const MNIC_INIT_VHCA_ID = 0x00c;
/** Command doorbell, le32: writing MNIC_CMD_DOORBELL_POST posts the command entry. */
export const MNIC_INIT_CMD_DOORBELL = 0x018;
export const MNIC_CMD_DOORBELL_POST = 1;
export const MNIC_CMD_IF_REV = 1;
export const MNIC_FW_REV = (1 << 16) | 0;

/** Event queue registers (the eswitch manager's window only; elsewhere they read 0, writes ignored). */
export const MNIC_EQ_BASE_LO = 0x080;
export const MNIC_EQ_BASE_HI = 0x084;
/** log2 of the number of 16-byte entries (1..16). */
export const MNIC_EQ_LOG_SIZE = 0x088;
/** MSI-X vector of the function that firmware signals after writing entries. */
export const MNIC_EQ_MSIX_VECTOR = 0x08c;
/** Consumer index, le32 free-running: the driver writes how far it has consumed. */
export const MNIC_EQ_CONSUMER_INDEX = 0x090;
/** Producer index, le32 free-running, read-only. */
export const MNIC_EQ_PRODUCER_INDEX = 0x094;
/** Control, le32: bit 0 enable (base, size and vector are latched when it is set). */
export const MNIC_EQ_CTRL = 0x098;
export const MNIC_EQ_CTRL_ENABLE = 1 << 0;
/** Events dropped because the queue was full or off, le32, read-only. */
export const MNIC_EQ_OVERFLOW_COUNT = 0x09c;
export const MNIC_EQ_MAX_LOG_SIZE = 16;

/** The command entry (MnicCmdEntry below) lives here. */
export const MNIC_CMD_ENTRY_OFFSET = 0x100;

/** Datapath DMA registers: the function moves context bytes to or from host memory by DMA. */
export const MNIC_DP_ADDR_LO = 0x200;
export const MNIC_DP_ADDR_HI = 0x204;
export const MNIC_DP_LENGTH = 0x208;
/** Offset inside the context area of the first byte moved. */
export const MNIC_DP_CTX_OFFSET = 0x20c;
/** Write MNIC_DP_OP_* to start a transfer; it completes before the write returns. */
export const MNIC_DP_CTRL = 0x210;
export const MNIC_DP_OP_TO_HOST = 1;
export const MNIC_DP_OP_FROM_HOST = 2;
/** Result of the last transfer, le32: MNIC_DP_STATUS_*. */
export const MNIC_DP_STATUS = 0x214;
export const MNIC_DP_STATUS_OK = 0;
export const MNIC_DP_STATUS_DMA_FAULT = 1;
export const MNIC_DP_STATUS_BAD_REQUEST = 2;
/** The function is not enabled, initiator-suspended, or bus mastering is off: nothing moved. */
export const MNIC_DP_STATUS_STOPPED = 3;

/** The context area: function state the driver and the datapath write, saved and loaded whole. */
export const MNIC_CONTEXT_OFFSET = 0x1000;
export const MNIC_CONTEXT_BYTES = 0x1000;

/** Smallest window: init segment page + context page (log_min_sf_size 1 → 1 << 13). */
export const MNIC_LOG_MIN_SF_SIZE = 1;
export const MNIC_WINDOW_BYTES = 1 << (MNIC_LOG_MIN_SF_SIZE + 12);

// ---- Command entry (in the window at MNIC_CMD_ENTRY_OFFSET) ----

export const MNIC_CMD_INLINE_IN_BYTES = 32;
export const MNIC_CMD_INLINE_OUT_BYTES = 32;

/**
 * The command entry, 96 bytes. Input = inlineInput ++ the data of the input mailbox chain, cut to
 * inputLength; output likewise. `ctrl`: bit 0 ownership (1 = firmware owns the entry: set by the
 * driver before the doorbell, cleared by firmware on completion), bits 7:1 delivery status.
 */
export const MnicCmdEntry = defineStruct('mnic_cmd_entry', 96, [
  le32Field('inputLength', 0x00),
  le32Field('outputLength', 0x04),
  le64Field('inMailbox', 0x08),
  le64Field('outMailbox', 0x10),
  u8Field('token', 0x18),
  reservedField('reserved0', 0x19, 2),
  u8Field('ctrl', 0x1b),
  reservedField('reserved1', 0x1c, 4),
  bytesField('inlineInput', 0x20, MNIC_CMD_INLINE_IN_BYTES),
  bytesField('inlineOutput', 0x40, MNIC_CMD_INLINE_OUT_BYTES),
]);
export const MNIC_CMD_ENTRY_CTRL = 0x18; // the le32 holding token (byte 0) and ctrl (byte 3)
export const MNIC_CMD_CTRL_OWNERSHIP = 1 << 0;
export const MNIC_CMD_CTRL_STATUS_SHIFT = 1;

/** Delivery status (ctrl bits 7:1): the command could not be delivered to firmware at all. */
export const MNIC_DELIVERY_OK = 0x00;
export const MNIC_DELIVERY_BAD_TOKEN = 0x02;
export const MNIC_DELIVERY_BAD_BLOCK_NUM = 0x03;
export const MNIC_DELIVERY_PTR_NOT_ALIGNED = 0x04;
export const MNIC_DELIVERY_DMA_FAULT = 0x05;
export const MNIC_DELIVERY_IN_LENGTH = 0x07;
export const MNIC_DELIVERY_OUT_LENGTH = 0x08;

/** A DMA mailbox block: 4 KiB, 64-byte aligned, chained by `next`, numbered from 0. */
export const MNIC_MAILBOX_DATA_BYTES = 0xfc0;
export const MNIC_MAILBOX_BLOCK_BYTES = 0x1000;
export const MNIC_MAILBOX_ALIGN_BYTES = 64;
export const MnicMailboxTrailer = defineStruct('mnic_cmd_mailbox_trailer', 0x40, [
  le64Field('next', 0x00),
  le32Field('blockNum', 0x08),
  u8Field('token', 0x0c),
  reservedField('reserved', 0x0d, 0x33),
]);

// ---- Command headers ----

export const MnicCmdInHdr = defineStruct('mnic_cmd_in_hdr', 8, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
]);
export const MnicCmdOutHdr = defineStruct('mnic_cmd_out_hdr', 8, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
]);

// ---- Opcodes (ours; grouped like mlx5's: HCA, eswitch, function lifecycle, migration) ----

export const MNIC_CMD_QUERY_HCA_CAP = 0x100;
export const MNIC_CMD_INIT_HCA = 0x102;
export const MNIC_CMD_TEARDOWN_HCA = 0x103;
export const MNIC_CMD_ENABLE_HCA = 0x104;
export const MNIC_CMD_DISABLE_HCA = 0x105;
export const MNIC_CMD_QUERY_VHCA_STATE = 0x106;
export const MNIC_CMD_SET_ESWITCH_MODE = 0x110;
export const MNIC_CMD_QUERY_ESWITCH_MODE = 0x111;
export const MNIC_CMD_ALLOC_SF = 0x120;
export const MNIC_CMD_DEALLOC_SF = 0x121;
export const MNIC_CMD_CREATE_SIOV_FNS = 0x122;
export const MNIC_CMD_DESTROY_SIOV_FNS = 0x123;
export const MNIC_CMD_SET_FN_HW_ADDR = 0x130;
export const MNIC_CMD_QUERY_FN_HW_ADDR = 0x131;
export const MNIC_CMD_SET_FN_CAPS = 0x132;
export const MNIC_CMD_QUERY_FN_CAPS = 0x133;
export const MNIC_CMD_QUERY_COUNTERS = 0x134;
export const MNIC_CMD_SUSPEND_VHCA = 0x140;
export const MNIC_CMD_RESUME_VHCA = 0x141;
export const MNIC_CMD_QUERY_VHCA_MIGRATION_STATE = 0x142;
export const MNIC_CMD_SAVE_VHCA_STATE = 0x143;
export const MNIC_CMD_LOAD_VHCA_STATE = 0x144;

/**
 * op_mod of ENABLE_HCA / DISABLE_HCA: one function (MnicFnIn: fnId at offset 8) or a list
 * (MnicHcaListIn: count at offset 8, `count` le32 function ids from offset 16), checked whole before
 * any function changes (all or none). Other op_mods are BAD_PARAM/BAD_OP_MOD.
 * SPEC-DEVIATION (design note): mlx5's ENABLE_HCA names one function; the list form is ours, so that
 * creating N functions costs one command round trip instead of N (issue 6 §5).
 */
export const MNIC_HCA_OP_MOD_ONE = 0;
export const MNIC_HCA_OP_MOD_LIST = 1;
/** Most function ids one list command carries (256 KiB of ids; a bigger set takes several commands). */
export const MNIC_HCA_LIST_MAX = 0x10000;
/** op_mod of SUSPEND_VHCA / RESUME_VHCA: the DMA-initiating side (P2P) or the whole function. */
export const MNIC_SUSPEND_OP_MOD_INITIATOR = 0;
export const MNIC_SUSPEND_OP_MOD_RESPONDER = 1;
/** op_mod of SAVE_VHCA_STATE: a final image (function suspended) or a pre-copy image (running). */
export const MNIC_SAVE_OP_MOD_FINAL = 0;
export const MNIC_SAVE_OP_MOD_PRECOPY = 1;

// ---- Statuses (out header) and what fw.ts maps them to ----

export const MNIC_STATUS_OK = 0x00;
export const MNIC_STATUS_INTERNAL_ERR = 0x01;
export const MNIC_STATUS_BAD_OP = 0x02;
export const MNIC_STATUS_BAD_PARAM = 0x03;
export const MNIC_STATUS_BAD_SYS_STATE = 0x04;
/** The target function does not exist. */
export const MNIC_STATUS_BAD_RESOURCE = 0x05;
/** The target is in use (a driver attached, functions still allocated). */
export const MNIC_STATUS_RESOURCE_BUSY = 0x06;
/** The command is not allowed from this function (only the eswitch manager commands others). */
export const MNIC_STATUS_NOT_PERMITTED = 0x07;
/** The vhca or migration state does not allow the command. */
export const MNIC_STATUS_BAD_RES_STATE = 0x09;
export const MNIC_STATUS_NO_RESOURCES = 0x0f;
export const MNIC_STATUS_BAD_INPUT_LEN = 0x50;
export const MNIC_STATUS_BAD_OUTPUT_LEN = 0x51;
export const MNIC_STATUS_BAD_SIZE = 0x40;

// ---- Function kinds, vhca states, migration states, capabilities ----

export const MNIC_FN_KIND_PF = 0;
export const MNIC_FN_KIND_VF = 1;
export const MNIC_FN_KIND_SF = 2;
export const MNIC_FN_KIND_SIOV = 3;

/** vhca states (mlx5_ifc_vhca_event.h; facts/kernel.md 7.3). */
export const MNIC_VHCA_STATE_INVALID = 0;
export const MNIC_VHCA_STATE_ALLOCATED = 1;
export const MNIC_VHCA_STATE_ACTIVE = 2;
export const MNIC_VHCA_STATE_IN_USE = 3;
export const MNIC_VHCA_STATE_TEARDOWN_REQUEST = 4;

/** Migration state of a function (ours). */
export const MNIC_MIG_STATE_RUNNING = 0;
export const MNIC_MIG_STATE_INITIATOR_SUSPENDED = 1;
export const MNIC_MIG_STATE_SUSPENDED = 2;

/** Function caps bits (devlink port function caps order, facts/kernel.md 7.1). */
export const MNIC_FN_CAP_ROCE = 1 << 0;
export const MNIC_FN_CAP_MIGRATABLE = 1 << 1;
export const MNIC_FN_CAPS_KNOWN = MNIC_FN_CAP_ROCE | MNIC_FN_CAP_MIGRATABLE;

/** HCA cap flags of QUERY_HCA_CAP. */
export const MNIC_HCA_CAP_MIGRATION = 1 << 0;
export const MNIC_HCA_CAP_ESW_MANAGER = 1 << 1;
export const MNIC_HCA_CAP_SIOV = 1 << 2;

export const MNIC_ESWITCH_MODE_LEGACY = 0;
export const MNIC_ESWITCH_MODE_SWITCHDEV = 1;

/** Hardware function ids: PF 0, VF i at 1 + i, SFs from MNIC_SF_BASE_ID, SIOV from MNIC_SIOV_BASE_ID. */
export const MNIC_PF_FN_ID = 0;
export const MNIC_SF_BASE_ID = 0x8000;
export const MNIC_SIOV_BASE_ID = 0x10000;
export const MNIC_MAX_SFS = 0x8000;
export const MNIC_MAX_SIOV_FNS = 0x10000;

// ---- Command layouts: mnic-fw-commands.ts ----

export * from './mnic-fw-commands.js';

// ---- Event queue entry ----

export const MNIC_EQE_BYTES = 16;
export const MNIC_EVENT_TYPE_VHCA_STATE_CHANGE = 0x31;
/**
 * An event queue entry. `owner` bit 0 is the phase: firmware writes 1 on the first pass over the
 * ring, 0 on the second, and so on; the driver's zeroed ring therefore reads as empty. Every vhca
 * state a function passes through is one entry, also for list commands (an ENABLE_HCA of 1000 ids
 * posts 1000 entries, in list order); firmware writes a command's entries in bursts that fit the free
 * ring space, signalling when the ring is full and at the end (hw/devices/mnic/event-queue.ts).
 */
export const MnicEqe = defineStruct('mnic_eqe', MNIC_EQE_BYTES, [
  u8Field('type', 0),
  u8Field('owner', 1),
  reservedField('reserved', 2, 2),
  le32Field('fnId', 4),
  le32Field('vhcaId', 8),
  u8Field('state', 12),
  reservedField('reserved1', 13, 3),
]);

// ---- Saved function state (SAVE/LOAD_VHCA_STATE) ----

/** "MNVS" little-endian. */
export const MNIC_STATE_MAGIC = 0x53564e4d;
export const MNIC_STATE_VERSION = 1;
export const MNIC_STATE_FLAG_FINAL = 1 << 0;
export const MnicStateHdr = defineStruct('mnic_vhca_state_hdr', 32, [
  le32Field('magic', 0),
  le16Field('version', 4),
  le16Field('headerBytes', 6),
  le32Field('payloadBytes', 8),
  le32Field('payloadCrc', 12),
  le32Field('flags', 16),
  le32Field('kind', 20),
  reservedField('reserved', 24, 8),
]);
export const MnicStatePayloadV1 = defineStruct('mnic_vhca_state_v1', 64 + MNIC_CONTEXT_BYTES, [
  bytesField('mac', 0, 6),
  reservedField('reserved', 6, 2),
  le32Field('caps', 8),
  le32Field('contextBytes', 12),
  le64Field('rxPackets', 16),
  le64Field('rxBytes', 24),
  le64Field('txPackets', 32),
  le64Field('txBytes', 40),
  reservedField('reserved1', 48, 16),
  bytesField('context', 64, MNIC_CONTEXT_BYTES),
]);
export const MNIC_STATE_BYTES = MnicStateHdr.sizeBytes + MnicStatePayloadV1.sizeBytes;

// ---- Syndromes (out header): which check failed; fw.ts names them in its error text ----

export const MNIC_SYNDROME = {
  NONE: 0x00,
  UNKNOWN_OPCODE: 0x01,
  NOT_MANAGER: 0x02,
  NO_SUCH_FN: 0x03,
  BAD_OP_MOD: 0x04,
  PF_TARGET: 0x05,
  BAD_VHCA_STATE: 0x06,
  BAD_MIG_STATE: 0x07,
  NOT_MIGRATABLE: 0x08,
  SF_TABLE_FULL: 0x09,
  SIOV_TABLE_FULL: 0x0a,
  BAD_COUNT: 0x0b,
  DUPLICATE_FN: 0x0c,
  FN_BUSY: 0x0d,
  ESWITCH_BUSY: 0x0e,
  BAD_ESWITCH_MODE: 0x0f,
  BAD_MAC: 0x10,
  BAD_CAPS: 0x11,
  BUFFER_TOO_SMALL: 0x12,
  STATE_DMA_FAULT: 0x13,
  STATE_BAD_MAGIC: 0x14,
  STATE_BAD_VERSION: 0x15,
  STATE_BAD_LENGTH: 0x16,
  STATE_BAD_CRC: 0x17,
  STATE_BAD_FIELD: 0x18,
  SFNUM_IN_USE: 0x19,
  SHORT_INPUT: 0x1a,
  SHORT_OUTPUT: 0x1b,
  RESERVED_NOT_ZERO: 0x1c,
  WRONG_KIND: 0x1d,
} as const;

/** The PF BARs of SF windows and SIOV function windows (64-bit BARs 2 and 4). */
export const MNIC_SF_BAR = 2;
export const MNIC_SIOV_BAR = 4;
