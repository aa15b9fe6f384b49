/**
 * Byte helpers for the admin engine tests. Everything is written by hand from facts/virtio.md §3.2
 * (header: le16 opcode @0, le16 group_type @2, reserved1[12] @4, le64 group_member_id @16; status:
 * le16 status @0, le16 status_qualifier @2, reserved2[4] @4) and never uses the codec under test.
 */
import type { AdminCommandHandler } from '../../src/hw/virtio/admin-engine.js';

export const SELF = 0;
export const SRIOV = 1;

/** Concatenate literal byte chunks. */
export function cat(...chunks: ReadonlyArray<readonly number[]>): Uint8Array {
  return Uint8Array.from(chunks.flat());
}

export function zeros(n: number): number[] {
  return Array.from({ length: n }, () => 0);
}

export function le16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}

export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export function le64(v: number): number[] {
  return [...le32(v % 2 ** 32), ...le32(Math.floor(v / 2 ** 32))];
}

/** The 24-byte device-readable header. */
export function hdr(opcode: number, groupType: number, memberId: number): number[] {
  return [...le16(opcode), ...le16(groupType), ...zeros(12), ...le64(memberId)];
}

/** A whole readable part: header then data chunks. */
export function cmd(opcode: number, groupType: number, memberId: number, ...data: number[][]): Uint8Array {
  return cat(hdr(opcode, groupType, memberId), ...data);
}

// Status headers (facts §3.4, §3.5), literal.
export const OK = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const EINVAL_INVALID_COMMAND = [0x16, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00];
export const EINVAL_INVALID_OPCODE = [0x16, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00];
export const EINVAL_INVALID_FIELD = [0x16, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00];
export const EINVAL_INVALID_GROUP = [0x16, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00];
export const EINVAL_INVALID_MEMBER = [0x16, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00];
export const ENXIO = [0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const ENOMEM_NORESOURCE = [0x0c, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00];
export const EBUSY = [0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const EEXIST = [0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
export const ENOSPC_NORESOURCE = [0x1c, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00];

/** Run one command; the writable part defaults to the status header plus `resultBytes`. */
export function exec(engine: AdminCommandHandler, readable: Uint8Array, writableSizeBytes = 8): Uint8Array {
  return engine.execute(readable, writableSizeBytes);
}

/** `[status, qualifier]` read by hand from a reply. */
export function statusOf(reply: Uint8Array): [number, number] {
  return [(reply[0] ?? 0) | ((reply[1] ?? 0) << 8), (reply[2] ?? 0) | ((reply[3] ?? 0) << 8)];
}

// Opcodes, literal from facts §3.6 (the MODIFY/QUERY pair per the resource-objects text).
export const OP = {
  LIST_QUERY: 0x0,
  LIST_USE: 0x1,
  LEGACY_COMMON_CFG_WRITE: 0x2,
  LEGACY_COMMON_CFG_READ: 0x3,
  LEGACY_DEV_CFG_WRITE: 0x4,
  LEGACY_DEV_CFG_READ: 0x5,
  LEGACY_NOTIFY_INFO: 0x6,
  CAP_ID_LIST_QUERY: 0x7,
  DEVICE_CAP_GET: 0x8,
  DRIVER_CAP_SET: 0x9,
  RESOURCE_OBJ_CREATE: 0xa,
  RESOURCE_OBJ_MODIFY: 0xb,
  RESOURCE_OBJ_QUERY: 0xc,
  RESOURCE_OBJ_DESTROY: 0xd,
  DEV_PARTS_METADATA_GET: 0xe,
  DEV_PARTS_GET: 0xf,
  DEV_PARTS_SET: 0x10,
  DEV_MODE_SET: 0x11,
} as const;

/** Linux's SR-IOV bitmap: legacy 0x7c | dev parts 0x3e780 (facts §3.8), as one le64 word. */
export const LINUX_ADMIN_CMD_BITMAP = [0xfc, 0xe7, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00];
