/**
 * The wire form of virtio administration commands (virtio 1.4 admin.tex and admin-cmds-*.tex;
 * facts/virtio.md §3, §4), shared by the device model that executes them and the PF driver that sends
 * them: one table maps each opcode to its kebab-case name, the group types the spec allows and the
 * descriptors of its command-specific data and result; builders and parsers for the device-readable
 * part (header + data) and the device-writable part (status + result); and codecs for the flexible
 * payloads (opcode and capability bitmaps, part headers, parts, part selectors, metadata).
 *
 * Length rules (admin.tex): a readable part shorter than expected reads as if the missing bytes were
 * zero and extra bytes are ignored; the driver treats the writable part beyond the used length as zero.
 * Both parsers apply those rules; neither fails because a buffer is too short or too long.
 *
 * Left out: what a command does (device model), which commands a driver may send (PF driver), the
 * admin virtqueue itself.
 */
import {
  type DecodeOptions,
  decodeStruct,
  encodeStruct,
  LabError,
  type StructDesc,
  type StructValue,
  u64,
  writeU64,
} from '../../base/index.js';
import { vadmin } from '../../spec/index.js';

const ZERO: DecodeOptions = { missing: 'zero' };

interface AdminCmdLayout<D, R> {
  readonly opcode: number;
  /** Group types the spec allows the command for (admin.tex opcode table). */
  readonly groupTypes: readonly number[];
  readonly data: StructDesc<D>;
  readonly result: StructDesc<R>;
}

function layout<D, R>(
  opcode: number,
  groupTypes: readonly number[],
  data: StructDesc<D>,
  result: StructDesc<R>,
): AdminCmdLayout<D, R> {
  return Object.freeze({ opcode, groupTypes, data, result });
}

const SELF = [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF] as const;
const SRIOV = [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV] as const;
const ANY_GROUP = [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF, vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV] as const;
const NONE = vadmin.VirtioAdminCmdNone;

/**
 * Every admin command, by the spec's name in kebab-case (VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_READ is
 * 'legacy-common-cfg-read'). Resource objects are Self-group objects or, for dev-parts objects,
 * SR-IOV-group objects, hence both group types.
 */
export const ADMIN_CMDS = Object.freeze({
  'list-query': layout(vadmin.VIRTIO_ADMIN_CMD_LIST_QUERY, ANY_GROUP, NONE, vadmin.VirtioAdminCmdList),
  'list-use': layout(vadmin.VIRTIO_ADMIN_CMD_LIST_USE, ANY_GROUP, vadmin.VirtioAdminCmdList, NONE),
  'legacy-common-cfg-write': layout(
    vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_WRITE,
    SRIOV,
    vadmin.VirtioAdminCmdLegacyWrData,
    NONE,
  ),
  'legacy-common-cfg-read': layout(
    vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_READ,
    SRIOV,
    vadmin.VirtioAdminCmdLegacyRdData,
    vadmin.VirtioAdminCmdLegacyRdResult,
  ),
  'legacy-dev-cfg-write': layout(
    vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_WRITE,
    SRIOV,
    vadmin.VirtioAdminCmdLegacyWrData,
    NONE,
  ),
  'legacy-dev-cfg-read': layout(
    vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_READ,
    SRIOV,
    vadmin.VirtioAdminCmdLegacyRdData,
    vadmin.VirtioAdminCmdLegacyRdResult,
  ),
  'legacy-notify-info': layout(
    vadmin.VIRTIO_ADMIN_CMD_LEGACY_NOTIFY_INFO,
    SRIOV,
    NONE,
    vadmin.VirtioAdminCmdLegacyNotifyInfoResult,
  ),
  'cap-id-list-query': layout(
    vadmin.VIRTIO_ADMIN_CMD_CAP_ID_LIST_QUERY,
    SELF,
    NONE,
    vadmin.VirtioAdminCmdQueryCapIdResult,
  ),
  'device-cap-get': layout(
    vadmin.VIRTIO_ADMIN_CMD_DEVICE_CAP_GET,
    SELF,
    vadmin.VirtioAdminCmdCapGetData,
    vadmin.VirtioAdminCmdCapGetResult,
  ),
  'driver-cap-set': layout(
    vadmin.VIRTIO_ADMIN_CMD_DRIVER_CAP_SET,
    SELF,
    vadmin.VirtioAdminCmdCapSetData,
    NONE,
  ),
  'resource-obj-create': layout(
    vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_CREATE,
    ANY_GROUP,
    vadmin.VirtioAdminCmdResourceObjCreateData,
    NONE,
  ),
  'resource-obj-modify': layout(
    vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_MODIFY,
    ANY_GROUP,
    vadmin.VirtioAdminCmdResourceObjModifyData,
    NONE,
  ),
  'resource-obj-query': layout(
    vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_QUERY,
    ANY_GROUP,
    vadmin.VirtioAdminCmdResourceObjQueryData,
    vadmin.VirtioAdminCmdResourceObjQueryResult,
  ),
  'resource-obj-destroy': layout(
    vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_DESTROY,
    ANY_GROUP,
    vadmin.VirtioAdminCmdResourceObjCmdHdr,
    NONE,
  ),
  'dev-parts-metadata-get': layout(
    vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_GET,
    SRIOV,
    vadmin.VirtioAdminCmdDevPartsMetadataData,
    vadmin.VirtioAdminCmdDevPartsMetadataResult,
  ),
  'dev-parts-get': layout(
    vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET,
    SRIOV,
    vadmin.VirtioAdminCmdDevPartsGetData,
    vadmin.VirtioAdminCmdDevPartsGetResult,
  ),
  'dev-parts-set': layout(
    vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_SET,
    SRIOV,
    vadmin.VirtioAdminCmdDevPartsSetData,
    NONE,
  ),
  'dev-mode-set': layout(
    vadmin.VIRTIO_ADMIN_CMD_DEV_MODE_SET,
    SRIOV,
    vadmin.VirtioAdminCmdDevModeSetData,
    NONE,
  ),
});

export type AdminCmdName = keyof typeof ADMIN_CMDS;
export type AdminCmdData<K extends AdminCmdName> = StructValue<(typeof ADMIN_CMDS)[K]['data']>;
export type AdminCmdResult<K extends AdminCmdName> = StructValue<(typeof ADMIN_CMDS)[K]['result']>;
/** `{ opcode, groupType, groupMemberId }`. */
export type AdminCmdHeader = StructValue<typeof vadmin.VirtioAdminCmdHdr>;
/** `{ status, statusQualifier }`. */
export type AdminCmdStatus = StructValue<typeof vadmin.VirtioAdminCmdStatus>;
/** Who a command addresses: group type and member (VF number for SR-IOV, 0 for Self and the lists). */
export type AdminCmdTarget = Omit<AdminCmdHeader, 'opcode'>;

const NAME_BY_OPCODE: ReadonlyMap<number, AdminCmdName> = new Map(
  (Object.keys(ADMIN_CMDS) as AdminCmdName[]).map((name) => [ADMIN_CMDS[name].opcode, name]),
);

function isAdminCmdName(name: string): name is AdminCmdName {
  return Object.hasOwn(ADMIN_CMDS, name);
}

/** 'list-query' for 0x0, ..., 'dev-mode-set' for 0x11; undefined for an opcode the spec does not define. */
export function opcodeName(opcode: number): AdminCmdName | undefined {
  return NAME_BY_OPCODE.get(opcode);
}

/** The opcode of a kebab-case command name, or undefined if there is no such command. */
export function opcodeByName(name: string): number | undefined {
  return isAdminCmdName(name) ? ADMIN_CMDS[name].opcode : undefined;
}

// --- Device-readable part ---

export interface BuildCommandOptions {
  /**
   * Zero-pad the readable part to a multiple of 8 bytes, as the spec asks drivers to. Linux does not
   * (LEGACY_*_READ and DEV_MODE_SET go out as 24 + 1 bytes), so the default is no padding.
   */
  readonly padToMultipleOf8?: boolean;
}

/** admin.tex: drivers SHOULD supply, and devices SHOULD write, parts that are multiples of this. */
const PART_MULTIPLE_BYTES = 8;

function concat(a: Uint8Array, b: Uint8Array, padToMultipleOf8: boolean): Uint8Array {
  const length = a.length + b.length;
  const out = new Uint8Array(
    padToMultipleOf8 ? Math.ceil(length / PART_MULTIPLE_BYTES) * PART_MULTIPLE_BYTES : length,
  );
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The readable part of a command whose data is given as raw bytes (any opcode, including unknown ones). */
export function buildAdminCommandRaw(
  header: AdminCmdHeader,
  data: Uint8Array,
  options: BuildCommandOptions = {},
): Uint8Array {
  return concat(encodeStruct(vadmin.VirtioAdminCmdHdr, header), data, options.padToMultipleOf8 ?? false);
}

/** The readable part of command `name`: header, then the command-specific data. */
export function buildAdminCommand<K extends AdminCmdName>(
  name: K,
  target: AdminCmdTarget,
  data: AdminCmdData<K>,
  options: BuildCommandOptions = {},
): Uint8Array {
  const cmd = ADMIN_CMDS[name];
  const dataBytes = encodeStruct(cmd.data as StructDesc<AdminCmdData<K>>, data);
  return buildAdminCommandRaw({ opcode: cmd.opcode, ...target }, dataBytes, options);
}

type KnownCommand = {
  [K in AdminCmdName]: {
    readonly kind: 'known';
    readonly name: K;
    readonly header: AdminCmdHeader;
    readonly data: AdminCmdData<K>;
    /** command_specific_data as received (for reserved-field checks and hostile-input tests). */
    readonly dataBytes: Uint8Array;
  };
}[AdminCmdName];

export type ParsedAdminCommand =
  | KnownCommand
  | {
      readonly kind: 'unknown-opcode';
      readonly header: AdminCmdHeader;
      readonly dataBytes: Uint8Array;
    };

/**
 * Parse a readable part as a device does: a short header or short data reads as zeros, extra bytes
 * are ignored (or land in the data's flexible array). Never throws on length.
 */
export function parseAdminCommand(readable: Uint8Array): ParsedAdminCommand {
  const header = decodeStruct(vadmin.VirtioAdminCmdHdr, readable, ZERO);
  const dataBytes = readable.slice(Math.min(readable.length, vadmin.VirtioAdminCmdHdr.sizeBytes));
  const name = opcodeName(header.opcode);
  if (name === undefined) return { kind: 'unknown-opcode', header, dataBytes };
  const data = decodeStruct(ADMIN_CMDS[name].data as StructDesc<unknown>, dataBytes, ZERO);
  return { kind: 'known', name, header, data, dataBytes } as KnownCommand;
}

// --- Device-writable part ---

/** The writable part of a successful command: status OK, qualifier OK, then the result. */
export function buildAdminResult<K extends AdminCmdName>(name: K, result: AdminCmdResult<K>): Uint8Array {
  const resultBytes = encodeStruct(ADMIN_CMDS[name].result as StructDesc<AdminCmdResult<K>>, result);
  const ok = { status: vadmin.VIRTIO_ADMIN_STATUS_OK, statusQualifier: vadmin.VIRTIO_ADMIN_STATUS_Q_OK };
  return concat(encodeStruct(vadmin.VirtioAdminCmdStatus, ok), resultBytes, false);
}

/** The writable part of a failed command: the status header only. */
export function buildAdminError(status: number, statusQualifier: number): Uint8Array {
  return encodeStruct(vadmin.VirtioAdminCmdStatus, { status, statusQualifier });
}

export interface ParsedAdminResult<K extends AdminCmdName> {
  readonly status: number;
  readonly statusQualifier: number;
  /** The result with every byte at or past the used length read as zero. */
  readonly result: AdminCmdResult<K>;
  /** Result bytes the device wrote: used length - 8, or 0 if less (Linux's result_sg_size). */
  readonly resultSizeBytes: number;
}

/**
 * Parse a writable part as a driver does: only the first `usedLengthBytes` bytes count, the rest read
 * as zero (so a device that wrote nothing reads as status OK, as Linux's zeroed status buffer does).
 * Decision: a used length beyond the buffer is clamped to it rather than trusted.
 */
export function parseAdminResult<K extends AdminCmdName>(
  name: K,
  writable: Uint8Array,
  usedLengthBytes: number,
): ParsedAdminResult<K> {
  if (!Number.isInteger(usedLengthBytes) || usedLengthBytes < 0) {
    throw new LabError('bad-input', `used length ${usedLengthBytes} is not a byte count`);
  }
  const written = writable.subarray(0, Math.min(usedLengthBytes, writable.length));
  const { status, statusQualifier } = decodeStruct(vadmin.VirtioAdminCmdStatus, written, ZERO);
  const statusSize = vadmin.VirtioAdminCmdStatus.sizeBytes;
  const resultBytes = written.subarray(Math.min(written.length, statusSize));
  const result = decodeStruct(ADMIN_CMDS[name].result as StructDesc<AdminCmdResult<K>>, resultBytes, ZERO);
  return { status, statusQualifier, result, resultSizeBytes: Math.max(0, written.length - statusSize) };
}

// --- Opcode and capability-id bitmaps (struct virtio_admin_cmd_list; supported_caps[]) ---

/** Bytes per le64 bitmap word. */
const WORD_BYTES = 8;
/** Opcodes and capability ids are le16 values. */
const ID_MAX = 0xffff;

/** An opcode or capability-id list as le64 words: at least `minWords`, enough for the highest id. */
export function encodeIdBitmap(ids: Iterable<number>, minWords = 1): Uint8Array {
  const bits = vadmin.VIRTIO_ADMIN_CMD_LIST_BITS_PER_WORD;
  const words: bigint[] = Array.from({ length: minWords }, () => 0n);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > ID_MAX) throw new LabError('bad-input', `bad list id ${id}`);
    const w = Math.floor(id / bits);
    while (words.length <= w) words.push(0n);
    words[w] = words[w]! | (1n << BigInt(id % bits));
  }
  const out = new Uint8Array(words.length * WORD_BYTES);
  words.forEach((word, i) => {
    writeU64(out, i * WORD_BYTES, word);
  });
  return out;
}

/** The ids set in a list bitmap, ascending. A trailing partial word reads its missing bytes as zero. */
export function decodeIdBitmap(bytes: Uint8Array): number[] {
  const bits = vadmin.VIRTIO_ADMIN_CMD_LIST_BITS_PER_WORD;
  const padded = new Uint8Array(Math.ceil(bytes.length / WORD_BYTES) * WORD_BYTES);
  padded.set(bytes);
  const ids: number[] = [];
  for (let w = 0; w * WORD_BYTES < padded.length; w++) {
    const word = u64(padded, w * WORD_BYTES);
    for (let b = 0; b < bits; b++) if ((word >> BigInt(b)) & 1n) ids.push(w * bits + b);
  }
  return ids;
}

export * from './dev-parts-wire.js';

// --- LEGACY_NOTIFY_INFO ---

export type LegacyNotifyInfo = StructValue<typeof vadmin.VirtioPciLegacyNotifyInfo>;

/**
 * The entries a driver may use, in order of preference: those before the first END entry, without
 * entries whose flags are reserved (admin-cmds-legacy-interface.tex: invalid entries are ignored).
 */
export function usableNotifyInfoEntries(
  result: StructValue<typeof vadmin.VirtioAdminCmdLegacyNotifyInfoResult>,
): LegacyNotifyInfo[] {
  const end = result.entries.findIndex((e) => e.flags === vadmin.VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_END);
  return result.entries
    .slice(0, end === -1 ? result.entries.length : end)
    .filter(
      (e) =>
        e.flags === vadmin.VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_OWNER_DEV ||
        e.flags === vadmin.VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_OWNER_MEM,
    );
}

// --- Names for logs and the shell ---

const STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [vadmin.VIRTIO_ADMIN_STATUS_OK, 'OK'],
  [vadmin.VIRTIO_ADMIN_STATUS_ENXIO, 'ENXIO'],
  [vadmin.VIRTIO_ADMIN_STATUS_EAGAIN, 'EAGAIN'],
  [vadmin.VIRTIO_ADMIN_STATUS_ENOMEM, 'ENOMEM'],
  [vadmin.VIRTIO_ADMIN_STATUS_EBUSY, 'EBUSY'],
  [vadmin.VIRTIO_ADMIN_STATUS_EEXIST, 'EEXIST'],
  [vadmin.VIRTIO_ADMIN_STATUS_EINVAL, 'EINVAL'],
  [vadmin.VIRTIO_ADMIN_STATUS_ENOSPC, 'ENOSPC'],
]);

const QUALIFIER_NAMES: ReadonlyMap<number, string> = new Map([
  [vadmin.VIRTIO_ADMIN_STATUS_Q_OK, 'OK'],
  [vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_COMMAND, 'INVALID_COMMAND'],
  [vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_OPCODE, 'INVALID_OPCODE'],
  [vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_FIELD, 'INVALID_FIELD'],
  [vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_GROUP, 'INVALID_GROUP'],
  [vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_MEMBER, 'INVALID_MEMBER'],
  [vadmin.VIRTIO_ADMIN_STATUS_Q_NORESOURCE, 'NORESOURCE'],
  [vadmin.VIRTIO_ADMIN_STATUS_Q_TRYAGAIN, 'TRYAGAIN'],
]);

/**
 * A status's name without VIRTIO_ADMIN_STATUS_ (`statusName(22) === 'EINVAL'`); 'unknown(n)' for a
 * value the spec does not define (a driver treats those like EINVAL).
 */
export function statusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `unknown(${status})`;
}

/**
 * A qualifier's name without VIRTIO_ADMIN_STATUS_Q_ (`qualifierName(3) === 'INVALID_FIELD'`);
 * 'reserved(n)' for 0x08 and up (a driver treats those like INVALID_COMMAND).
 */
export function qualifierName(statusQualifier: number): string {
  return QUALIFIER_NAMES.get(statusQualifier) ?? `reserved(${statusQualifier})`;
}
