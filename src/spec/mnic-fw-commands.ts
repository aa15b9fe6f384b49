/**
 * The mnic's command layouts (vfiolab's own design after mlx5's; see mnic-fw.ts for the interface as a
 * whole): one input and one output struct per command, little-endian. Every input starts with the
 * 8-byte header (opcode, op_mod, reserved); every output with the 8-byte header (status, reserved,
 * syndrome). Commands about another function carry its hardware function id at offset 8.
 */
import {
  bytesField,
  defineStruct,
  le16Field,
  le32Field,
  le64Field,
  reservedField,
  tailField,
  u8Field,
} from '../base/struct-codec.js';

// ---- Command layouts (header + fields; "In"/"Out") ----

export const MnicFnIn = defineStruct('mnic_fn_in', 16, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('fnId', 8),
  reservedField('reserved1', 12, 4),
]);

export const MnicQueryHcaCapOut = defineStruct('mnic_query_hca_cap_out', 64, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  le16Field('pfNum', 8),
  u8Field('logMinSfSize', 10),
  u8Field('sfBar', 11),
  le32Field('maxSfs', 12),
  le32Field('sfBaseId', 16),
  le32Field('maxSiovFns', 20),
  le32Field('siovBaseId', 24),
  u8Field('siovBar', 28),
  reservedField('reserved1', 29, 3),
  le32Field('capFlags', 32),
  le16Field('totalVfs', 36),
  u8Field('selfKind', 38),
  reservedField('reserved2', 39, 1),
  le32Field('selfFnId', 40),
  le32Field('selfVhcaId', 44),
  bytesField('permanentMac', 48, 6),
  reservedField('reserved3', 54, 2),
  le32Field('stateBytes', 56),
  reservedField('reserved4', 60, 4),
]);

export const MnicSetEswitchModeIn = defineStruct('mnic_set_eswitch_mode_in', 16, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  u8Field('mode', 8),
  reservedField('reserved1', 9, 7),
]);
export const MnicQueryEswitchModeOut = defineStruct('mnic_query_eswitch_mode_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  u8Field('mode', 8),
  reservedField('reserved1', 9, 7),
]);

export const MnicAllocSfIn = defineStruct('mnic_alloc_sf_in', 16, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('sfnum', 8),
  reservedField('reserved1', 12, 4),
]);
/** Output of ALLOC_SF: the new function's ids. */
export const MnicFnIdsOut = defineStruct('mnic_fn_ids_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  le32Field('fnId', 8),
  le32Field('vhcaId', 12),
]);

/** CREATE_SIOV_FNS: `count` functions in one command, all or none. */
export const MnicCreateSiovFnsIn = defineStruct('mnic_create_siov_fns_in', 16, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('count', 8),
  reservedField('reserved1', 12, 4),
]);
export const MnicSiovFnEntry = defineStruct('mnic_siov_fn_entry', 16, [
  le32Field('fnId', 0),
  le32Field('vhcaId', 4),
  le16Field('guestRid', 8),
  le16Field('hypervisorRid', 10),
  reservedField('reserved', 12, 4),
]);
/** Output: header, count, then `count` MnicSiovFnEntry. */
export const MnicCreateSiovFnsOut = defineStruct('mnic_create_siov_fns_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  le32Field('count', 8),
  reservedField('reserved1', 12, 4),
  tailField('entries', 16),
]);
/** DESTROY_SIOV_FNS: header, count, then `count` le32 function ids; all or none. */
export const MnicDestroySiovFnsIn = defineStruct('mnic_destroy_siov_fns_in', 16, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('count', 8),
  reservedField('reserved1', 12, 4),
  tailField('fnIds', 16),
]);

/**
 * ENABLE_HCA / DISABLE_HCA with op_mod MNIC_HCA_OP_MOD_LIST: header, count (1..MNIC_HCA_LIST_MAX),
 * then `count` le32 function ids, each listed once; output MnicEmptyOut. Firmware checks every id
 * (exists, not the PF, listed once, its vhca state allows the command) before changing any, then steps
 * each function in list order and posts its events; the command costs one command plus
 * firmwarePerFunctionNs per id. A 1000-id input is 4016 bytes: 32 inline, the rest in 1 mailbox block.
 */
export const MnicHcaListIn = defineStruct('mnic_hca_list_in', 16, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('count', 8),
  reservedField('reserved1', 12, 4),
  tailField('fnIds', 16),
]);

export const MnicQueryVhcaStateOut = defineStruct('mnic_query_vhca_state_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  u8Field('state', 8),
  u8Field('kind', 9),
  reservedField('reserved1', 10, 2),
  le32Field('vhcaId', 12),
]);

export const MnicSetFnHwAddrIn = defineStruct('mnic_set_fn_hw_addr_in', 24, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('fnId', 8),
  reservedField('reserved1', 12, 4),
  bytesField('mac', 16, 6),
  reservedField('reserved2', 22, 2),
]);
export const MnicQueryFnHwAddrOut = defineStruct('mnic_query_fn_hw_addr_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  bytesField('mac', 8, 6),
  reservedField('reserved1', 14, 2),
]);

/** SET_FN_CAPS: only the bits set in `capsMask` change. */
export const MnicSetFnCapsIn = defineStruct('mnic_set_fn_caps_in', 24, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('fnId', 8),
  le32Field('capsMask', 12),
  le32Field('caps', 16),
  reservedField('reserved1', 20, 4),
]);
export const MnicQueryFnCapsOut = defineStruct('mnic_query_fn_caps_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  le32Field('caps', 8),
  reservedField('reserved1', 12, 4),
]);

export const MnicQueryCountersOut = defineStruct('mnic_query_counters_out', 40, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  le64Field('rxPackets', 8),
  le64Field('rxBytes', 16),
  le64Field('txPackets', 24),
  le64Field('txBytes', 32),
]);

export const MnicQueryMigStateOut = defineStruct('mnic_query_vhca_migration_state_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  le32Field('requiredBytes', 8),
  u8Field('migState', 12),
  reservedField('reserved1', 13, 3),
]);

/** SAVE_VHCA_STATE / LOAD_VHCA_STATE: the state buffer in host memory (DMA address and size). */
export const MnicVhcaStateIn = defineStruct('mnic_vhca_state_in', 24, [
  le16Field('opcode', 0),
  le16Field('opMod', 2),
  reservedField('reserved', 4, 4),
  le32Field('fnId', 8),
  le32Field('sizeBytes', 12),
  le64Field('addr', 16),
]);
export const MnicSaveVhcaStateOut = defineStruct('mnic_save_vhca_state_out', 16, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
  le32Field('actualBytes', 8),
  reservedField('reserved1', 12, 4),
]);

/** A generic output with no payload. */
export const MnicEmptyOut = defineStruct('mnic_empty_out', 8, [
  u8Field('status', 0),
  reservedField('reserved', 1, 3),
  le32Field('syndrome', 4),
]);
