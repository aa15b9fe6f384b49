/**
 * The legacy interface commands (SR-IOV group; admin-cmds-legacy-interface.tex; facts/virtio.md §3.9):
 * each has the effect of the same access through the member's legacy I/O BAR (facts §1.11), with the
 * data always little-endian. The member's accessors do the access and its side effects; this file only
 * maps the wire form onto them.
 *
 * Decision (UNVERIFIED: the spec says the device MUST fail an access that does not target exactly one
 * field, but not with which status): a refused access is EINVAL / INVALID_FIELD, with no side effect.
 * A read's size is the size of the result buffer, as Linux sends it; a write's size is the number of
 * data bytes after the 8-byte {offset, reserved[7]} prefix. A command too short to carry any data
 * therefore asks for a 0-byte access, which targets no field and is refused for that reason.
 */
import { vadmin } from '../../../spec/index.js';
import { buildAdminResult } from '../admin-wire.js';
import type { AdminGroupMember, LegacyAccess } from '../owner-api.js';
import { invalidField } from './reply.js';

export type LegacyRegion = 'common' | 'device';

export function legacyRead(
  member: AdminGroupMember,
  region: LegacyRegion,
  offset: number,
  resultSizeBytes: number,
): Uint8Array {
  const access: LegacyAccess =
    region === 'common'
      ? member.legacyCommonCfgRead(offset, resultSizeBytes)
      : member.legacyDevCfgRead(offset, resultSizeBytes);
  if (!access.ok) return invalidField();
  const name = region === 'common' ? 'legacy-common-cfg-read' : 'legacy-dev-cfg-read';
  return buildAdminResult(name, { data: access.bytes });
}

export function legacyWrite(
  member: AdminGroupMember,
  region: LegacyRegion,
  offset: number,
  data: Uint8Array,
): Uint8Array {
  const access =
    region === 'common' ? member.legacyCommonCfgWrite(offset, data) : member.legacyDevCfgWrite(offset, data);
  if (!access.ok) return invalidField();
  return buildAdminResult(region === 'common' ? 'legacy-common-cfg-write' : 'legacy-dev-cfg-write', {});
}

const END_ENTRY = { flags: vadmin.VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_END, bar: 0, offset: 0n };

/**
 * LEGACY_NOTIFY_INFO: the member's notification addresses in order of preference, then END entries.
 * Decision: the spec requires the last of the four entries to be END, so at most three of the
 * member's entries are reported; any further ones are dropped.
 */
export function legacyNotifyInfo(member: AdminGroupMember): Uint8Array {
  const usable = member.legacyNotifyInfo().slice(0, vadmin.VIRTIO_ADMIN_CMD_MAX_NOTIFY_INFO - 1);
  const entries = Array.from(
    { length: vadmin.VIRTIO_ADMIN_CMD_MAX_NOTIFY_INFO },
    (_, i) => usable[i] ?? END_ENTRY,
  ).map((e) => ({ flags: e.flags, bar: e.bar, offset: e.offset }));
  return buildAdminResult('legacy-notify-info', { entries });
}
