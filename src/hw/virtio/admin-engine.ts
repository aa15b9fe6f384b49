/**
 * The admin command engine of a virtio group owner (a PF with an admin virtqueue): it takes one
 * command's device-readable part and the size of its device-writable part, and answers the bytes the
 * device writes (virtio 1.4 admin.tex and admin-cmds-*.tex; facts/virtio.md §3, §4, §6). It keeps the
 * per-group-type command lists, the driver's capabilities and the resource objects, and reaches a
 * member's state only through `AdminGroupOwner` / `AdminGroupMember` (owner-api.ts).
 *
 * Validation order (admin.tex; facts §3.7, §6), each failure EINVAL with the first qualifier that
 * applies and no side effect:
 *   1. group_type neither Self nor SR-IOV → INVALID_GROUP;
 *   2. SR-IOV group absent (no SR-IOV capability or VF Enable clear) → INVALID_GROUP;
 *   3. opcode unknown, unsupported for the group type, or not in the list LIST_USE enabled → INVALID_OPCODE;
 *   4. the command uses group_member_id and it is invalid (Self: not 0; SR-IOV: not 1..NumVFs) → INVALID_MEMBER;
 *   then the command's own field checks (INVALID_FIELD) and resource checks (ENXIO, EEXIST, ENOSPC, ...).
 * Decision (facts §6, UNVERIFIED: the spec does not order the VF Enable check against the opcode
 * check): step 2 before step 3, so any command on an absent SR-IOV group is INVALID_GROUP.
 *
 * Default mode versus `strict` (facts §3.7 and §3.8 "Model decision" notes; issue 4 §2):
 * - Default: LIST_QUERY and LIST_USE skip step 2 and step 4 (they do not use group_member_id), because
 *   Linux sends them on the SR-IOV group with member 0 at PF DRIVER_OK, before any VF exists, and never
 *   again; and the Self group's capability commands pass step 3 until the driver's first successful
 *   Self-group LIST_USE, because Linux sends them without one. After a Self LIST_USE its list rules.
 * - Strict: the spec's text literally. Step 2 applies to every SR-IOV command, step 4 to every command
 *   (the SR-IOV paragraph's "group_member_id not in [1, NumVFs]" read for LIST_QUERY/LIST_USE too, and
 *   Self's "group_member_id = 0"), and a capability command needs a Self LIST_USE that enabled it.
 *   Linux's PF driver ends up with no SR-IOV commands in strict mode (see test/virtio-admin).
 * - Default mode also reports the capability opcodes in the SR-IOV group's list, because Linux keeps
 *   one list for all group types and learns it from the SR-IOV group (command-lists.ts).
 *
 * Length rules (admin.tex): a short readable part reads as zeros and a long one is ignored (through
 * parseAdminCommand); the reply is cut to the writable size, and the used length is its length. No
 * command fails only because of a buffer's length, except METADATA_GET, which the spec makes answer
 * ENOMEM when its result does not fit. The reply is the status header alone on failure.
 *
 * Left out: the admin virtqueue (the device model fetches the chain and writes the reply); waiting
 * for a member FLR or PM transition before DEV_MODE_SET/DEV_PARTS_SET (the owner runs commands only
 * between such transitions); resource object types other than device parts.
 */
import { LabError } from '../../base/index.js';
import { vadmin } from '../../spec/index.js';
import {
  CAPABILITY_OPCODES,
  Capabilities,
  CommandLists,
  checkDevPartsLimits,
  DEFAULT_DEV_PARTS_LIMITS,
  type DevPartsLimits,
  type GroupType,
  invalid,
  isGroupType,
  legacyNotifyInfo,
  legacyRead,
  legacyWrite,
  metadataGet,
  modeSet,
  partsGet,
  partsSet,
  ResourceObjects,
} from './admin/index.js';
import { type ParsedAdminCommand, parseAdminCommand } from './admin-wire.js';
import type { AdminGroupMember, AdminGroupOwner } from './owner-api.js';

/** Executes one admin command: `readable` is the device-readable part, the answer is what the device writes. */
export interface AdminCommandHandler {
  /**
   * Run the command and answer the bytes written to the device-writable part, at most
   * `writableSizeBytes` of them; the used length is the answer's length.
   */
  execute(readable: Uint8Array, writableSizeBytes: number): Uint8Array;
}

/** The engine the owner device holds: the handler, plus the reset the owner calls on its own reset. */
export interface AdminEngine extends AdminCommandHandler {
  /**
   * The owner's device reset: used lists back to {LIST_QUERY, LIST_USE}, driver capabilities back to
   * unset (limit 0), every resource object destroyed (admin.tex, admin-cmds-capabilities.tex,
   * admin-cmds-resource-objects.tex).
   */
  reset(): void;
  readonly strict: boolean;
}

export interface AdminEngineOptions {
  /** Apply the spec's text literally instead of accepting Linux's PF driver (see the file comment). */
  readonly strict?: boolean;
  /** VIRTIO_DEV_PARTS_CAP as DEVICE_CAP_GET reports it (u8 each); DEFAULT_DEV_PARTS_LIMITS if absent. */
  readonly devPartsLimits?: DevPartsLimits;
}

const STATUS_BYTES = vadmin.VirtioAdminCmdStatus.sizeBytes;
const SELF = vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF;
const SRIOV = vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV;

function isListOpcode(opcode: number): boolean {
  return opcode === vadmin.VIRTIO_ADMIN_CMD_LIST_QUERY || opcode === vadmin.VIRTIO_ADMIN_CMD_LIST_USE;
}

/** A validated command's addressee: the Self group, or an SR-IOV member (absent for default-mode lists). */
interface Target {
  readonly groupType: GroupType;
  readonly member: AdminGroupMember | undefined;
}

export function createAdminEngine(owner: AdminGroupOwner, options: AdminEngineOptions = {}): AdminEngine {
  const strict = options.strict ?? false;
  const lists = new CommandLists(strict);
  const caps = new Capabilities(checkDevPartsLimits(options.devPartsLimits ?? DEFAULT_DEV_PARTS_LIMITS));
  const objects = new ResourceObjects(() => caps.devPartsLimits);

  function opcodeEnabled(groupType: GroupType, opcode: number): boolean {
    if (lists.isUsed(groupType, opcode)) return true;
    // Model decision (facts §3.8): Linux never sends a Self-group LIST_USE before the capability commands.
    return !strict && groupType === SELF && !lists.negotiated(SELF) && CAPABILITY_OPCODES.includes(opcode);
  }

  /** The member a valid group_member_id names: undefined for Self (id 0), null if the id is invalid. */
  function resolveMember(groupType: GroupType, id: bigint): AdminGroupMember | undefined | null {
    if (groupType === SELF) return id === 0n ? undefined : null;
    if (id < 1n || id > BigInt(owner.numMembers())) return null;
    return owner.member(Number(id)) ?? null;
  }

  /** Steps 1-4 of the validation order: the target, or the EINVAL reply. */
  function validate(cmd: ParsedAdminCommand): Target | Uint8Array {
    const { opcode, groupType, groupMemberId } = cmd.header;
    if (!isGroupType(groupType)) return invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_GROUP);
    const exempt = !strict && isListOpcode(opcode);
    if (groupType === SRIOV && !exempt && !owner.sriovGroupExists()) {
      return invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_GROUP);
    }
    if (cmd.kind === 'unknown-opcode' || !opcodeEnabled(groupType, opcode)) {
      return invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_OPCODE);
    }
    if (exempt) return { groupType, member: undefined };
    const member = resolveMember(groupType, groupMemberId);
    if (member === null) return invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_MEMBER);
    return { groupType, member };
  }

  function memberOf(target: Target): AdminGroupMember {
    // The supported lists allow member commands only on the SR-IOV group, where validate resolved one.
    if (target.member === undefined) throw new LabError('internal', 'an SR-IOV member command has no member');
    return target.member;
  }

  function run(cmd: ParsedAdminCommand, resultSizeBytes: number): Uint8Array {
    const target = validate(cmd);
    if (target instanceof Uint8Array) return target;
    if (cmd.kind === 'unknown-opcode')
      throw new LabError('internal', 'validate let an unknown opcode through');
    switch (cmd.name) {
      case 'list-query':
        return lists.query(target.groupType);
      case 'list-use':
        return lists.use(target.groupType, cmd.data.deviceAdminCmdOpcodes);
      case 'legacy-common-cfg-write':
        return legacyWrite(memberOf(target), 'common', cmd.data.offset, cmd.data.data);
      case 'legacy-common-cfg-read':
        return legacyRead(memberOf(target), 'common', cmd.data.offset, resultSizeBytes);
      case 'legacy-dev-cfg-write':
        return legacyWrite(memberOf(target), 'device', cmd.data.offset, cmd.data.data);
      case 'legacy-dev-cfg-read':
        return legacyRead(memberOf(target), 'device', cmd.data.offset, resultSizeBytes);
      case 'legacy-notify-info':
        return legacyNotifyInfo(memberOf(target));
      case 'cap-id-list-query':
        return target.groupType === SELF ? caps.idListQuery() : notSelf();
      case 'device-cap-get':
        return target.groupType === SELF ? caps.deviceCapGet(cmd.data.id) : notSelf();
      case 'driver-cap-set':
        return target.groupType === SELF
          ? caps.driverCapSet(cmd.data.id, cmd.data.capSpecificData, objects.count > 0)
          : notSelf();
      case 'resource-obj-create':
        return objects.create(memberOf(target).memberId, cmd.data);
      case 'resource-obj-modify':
        return objects.modify(memberOf(target).memberId, cmd.data);
      case 'resource-obj-query':
        return objects.query(memberOf(target).memberId, cmd.data);
      case 'resource-obj-destroy':
        return objects.destroy(memberOf(target).memberId, cmd.data);
      case 'dev-parts-metadata-get':
        return metadataGet(objects, memberOf(target), cmd.data, resultSizeBytes);
      case 'dev-parts-get':
        return partsGet(objects, memberOf(target), cmd.data, resultSizeBytes);
      case 'dev-parts-set':
        return partsSet(objects, memberOf(target), cmd.data);
      case 'dev-mode-set':
        return modeSet(memberOf(target), cmd.data);
      default:
        return assertNever(cmd);
    }
  }

  return {
    strict,
    execute(readable: Uint8Array, writableSizeBytes: number): Uint8Array {
      if (!Number.isInteger(writableSizeBytes) || writableSizeBytes < 0) {
        throw new LabError('bad-input', `writable size ${writableSizeBytes} is not a byte count`);
      }
      const reply = run(parseAdminCommand(readable), Math.max(0, writableSizeBytes - STATUS_BYTES));
      return reply.slice(0, writableSizeBytes);
    },
    reset(): void {
      lists.reset();
      caps.reset();
      objects.reset();
    },
  };
}

/**
 * A capability command on the SR-IOV group, whose list reports them in default mode (command-lists.ts).
 * The spec: the device MUST answer EINVAL when the group is not Self. Decision (the spec names no
 * qualifier): INVALID_GROUP, since the group type is what is wrong for the command.
 */
function notSelf(): Uint8Array {
  return invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_GROUP);
}

function assertNever(x: never): never {
  throw new LabError('internal', `unexpected command ${(x as { name?: string }).name}`);
}
