/**
 * The device-parts commands (SR-IOV group; admin-cmds-device-parts.tex, device-parts.tex;
 * facts/virtio.md §3.12, §4): METADATA_GET and DEV_PARTS_GET read a member's parts through a GET
 * object, DEV_PARTS_SET writes them through a SET object while the member is stopped, DEV_MODE_SET
 * stops and resumes the member. The member owns its parts, their order and their validation; this
 * file checks the objects and the mode and packs the parts onto the wire.
 *
 * Decision: METADATA_GET needs a GET object (the spec: a GET object captures "parts and metadata").
 * Decision (UNVERIFIED: facts §4.6 says the spec gives no rule beyond truncation): a DEV_PARTS_GET
 * whose result buffer cannot take every part writes the whole parts that fit, in order, and never a
 * part cut in two; the command succeeds, and the used length tells the driver what it got.
 * Decision (UNVERIFIED: the spec says only that the device SHOULD fail SET unless stopped): a SET
 * while the member is active fails EINVAL / INVALID_COMMAND, with no side effect; a SET the member
 * refuses (length, mismatch, order, unknown part) or a parts list with a truncated part fails EINVAL /
 * INVALID_FIELD.
 * Decision: DEV_MODE_SET flags other than F_STOPPED are EINVAL / INVALID_FIELD (virtio 1.4 defines
 * only that bit; a draft "freeze" bit silently ignored would claim a mode the device does not have).
 * Setting the mode the member is already in succeeds without calling the member.
 */
import { isLabError } from '../../../base/index.js';
import { vadmin } from '../../../spec/index.js';
import {
  type AdminCmdData,
  buildAdminResult,
  type DevPart,
  type DevPartsMetadata,
  decodeDevParts,
  decodePartHdrs,
  encodeDevParts,
  encodeDevPartsMetadata,
} from '../admin-wire.js';
import type { AdminGroupMember } from '../owner-api.js';
import { invalid, invalidField, noMemory } from './reply.js';
import type { ResourceObjects } from './resource-objects.js';

const PART_HDR_BYTES = vadmin.VirtioDevPartHdr.sizeBytes;
const STOPPED_FLAG = 1 << vadmin.VIRTIO_ADMIN_CMD_DEV_MODE_F_STOPPED;

function partBytes(part: DevPart): number {
  return PART_HDR_BYTES + part.value.length;
}

function metadataOf(type: number, member: AdminGroupMember): DevPartsMetadata | undefined {
  switch (type) {
    case vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_SIZE:
      return { type: 'size', size: member.getParts().reduce((n, p) => n + partBytes(p), 0) };
    case vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_COUNT:
      return { type: 'count', count: member.partHeaders().length };
    case vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_LIST: {
      const hdrs = member.partHeaders();
      return { type: 'list', count: hdrs.length, hdrs };
    }
    default:
      return undefined;
  }
}

const METADATA_TYPES: ReadonlySet<number> = new Set([
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_SIZE,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_COUNT,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_LIST,
]);

export function metadataGet(
  objects: ResourceObjects,
  member: AdminGroupMember,
  data: AdminCmdData<'dev-parts-metadata-get'>,
  resultSizeBytes: number,
): Uint8Array {
  if (!METADATA_TYPES.has(data.type)) return invalidField();
  const found = objects.lookup(member.memberId, data.hdr);
  if (!found.ok) return found.reply;
  if (found.kind !== 'get') return invalidField();
  const metadata = metadataOf(data.type, member);
  if (metadata === undefined) return invalidField();
  const bytes = encodeDevPartsMetadata(metadata);
  // The one command whose too-small result buffer is an error rather than truncation (§4.4).
  if (bytes.length > resultSizeBytes) return noMemory();
  return buildAdminResult('dev-parts-metadata-get', { metadata: bytes });
}

export function partsGet(
  objects: ResourceObjects,
  member: AdminGroupMember,
  data: AdminCmdData<'dev-parts-get'>,
  resultSizeBytes: number,
): Uint8Array {
  const selectedType = data.type === vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET_TYPE_SELECTED;
  if (!selectedType && data.type !== vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET_TYPE_ALL) return invalidField();
  const found = objects.lookup(member.memberId, data.hdr);
  if (!found.ok) return found.reply;
  if (found.kind !== 'get') return invalidField();
  const parts = selectedType ? member.getParts(decodePartHdrs(data.hdrList)) : member.getParts();
  const fitting: DevPart[] = [];
  let sizeBytes = 0;
  for (const part of parts) {
    if (sizeBytes + partBytes(part) > resultSizeBytes) break;
    fitting.push(part);
    sizeBytes += partBytes(part);
  }
  return buildAdminResult('dev-parts-get', { parts: encodeDevParts(fitting) });
}

export function partsSet(
  objects: ResourceObjects,
  member: AdminGroupMember,
  data: AdminCmdData<'dev-parts-set'>,
): Uint8Array {
  const found = objects.lookup(member.memberId, data.hdr);
  if (!found.ok) return found.reply;
  if (found.kind !== 'set') return invalidField();
  if (!member.stopped) return invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_COMMAND);
  let parts: DevPart[];
  try {
    parts = decodeDevParts(data.parts);
  } catch (e) {
    if (isLabError(e) && e.code === 'bad-input') return invalidField();
    throw e;
  }
  const applied = member.setParts(parts);
  if (!applied.ok) {
    return applied.reason === 'not-stopped'
      ? invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_COMMAND)
      : invalidField();
  }
  return buildAdminResult('dev-parts-set', {});
}

export function modeSet(member: AdminGroupMember, data: AdminCmdData<'dev-mode-set'>): Uint8Array {
  if ((data.flags & ~STOPPED_FLAG) !== 0) return invalidField();
  const stopped = (data.flags & STOPPED_FLAG) !== 0;
  if (member.stopped !== stopped) member.setStopped(stopped);
  return buildAdminResult('dev-mode-set', {});
}
