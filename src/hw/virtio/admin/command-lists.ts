/**
 * The command lists of the admin command engine (admin.tex "Group administration commands";
 * facts/virtio.md §3.7, §3.8): per group type, the opcodes the device supports (LIST_QUERY's answer)
 * and the opcodes the driver enabled with LIST_USE. After a reset every used list is {LIST_QUERY,
 * LIST_USE}; a LIST_USE that is not a subset of the supported list fails EINVAL / INVALID_FIELD and
 * changes nothing; a used list without bits 0 and 1 blocks further list commands of that group type.
 * The supported lists never change.
 *
 * Decision: the Self group supports only the list and capability commands. The only resource object
 * type modelled (device parts) is an SR-IOV-group object, so a Self RESOURCE_OBJ_* command is an
 * unsupported opcode for that group type (EINVAL / INVALID_OPCODE).
 *
 * Model decision (default mode; from Linux's drivers/virtio/virtio_pci_modern.c, which facts §3.8
 * and §5.1 describe but do not draw this consequence from): Linux keeps ONE command list for every
 * group type, learned from the SR-IOV group's LIST_QUERY and LIST_USE, and refuses locally
 * (-EOPNOTSUPP) to send any opcode whose bit is not in it. Its bitmap includes CAP_ID_LIST_QUERY,
 * DEVICE_CAP_GET and DRIVER_CAP_SET (bits 7-9, part of VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP 0x3e780), so
 * unless the SR-IOV list reports them Linux never sends the capability commands, never learns its
 * object limit, and has no device parts (no migration). So in default mode the SR-IOV group's
 * supported list also reports bits 7-9 (LIST_QUERY answers 0x3ffff and Linux's LIST_USE is its whole
 * bitmap 0x3e7fc); a capability command actually sent on the SR-IOV group still fails EINVAL, as the
 * spec requires (admin-engine.ts). Strict mode reports only what the SR-IOV group runs (0x3fc7f).
 *
 * Decision: LIST_USE checks only the subset rule; the model declares no dependencies between opcodes.
 * Linux's list leaves RESOURCE_OBJ_MODIFY and _QUERY out of the device-parts set the spec calls
 * all-or-none (its bitmap is 0x3e780), so enforcing that set in the used list would break Linux.
 */
import { vadmin } from '../../../spec/index.js';
import { buildAdminResult, decodeIdBitmap, encodeIdBitmap } from '../admin-wire.js';
import { invalidField } from './reply.js';

/** The group types the engine serves. */
export type GroupType =
  | typeof vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF
  | typeof vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV;

export function isGroupType(groupType: number): groupType is GroupType {
  return (
    groupType === vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF || groupType === vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV
  );
}

const LIST_OPCODES: readonly number[] = [
  vadmin.VIRTIO_ADMIN_CMD_LIST_QUERY,
  vadmin.VIRTIO_ADMIN_CMD_LIST_USE,
];

/** The capability commands (Self group only; admin-cmds-capabilities.tex). */
export const CAPABILITY_OPCODES: readonly number[] = [
  vadmin.VIRTIO_ADMIN_CMD_CAP_ID_LIST_QUERY,
  vadmin.VIRTIO_ADMIN_CMD_DEVICE_CAP_GET,
  vadmin.VIRTIO_ADMIN_CMD_DRIVER_CAP_SET,
];

const SELF_SUPPORTED: ReadonlySet<number> = new Set([...LIST_OPCODES, ...CAPABILITY_OPCODES]);

/** What the SR-IOV group runs (strict mode's list). */
const SRIOV_RUNS: readonly number[] = [
  ...LIST_OPCODES,
  // Legacy interface: all five, as NOTIFY_INFO requires the four accesses (§3.9).
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_WRITE,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_READ,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_WRITE,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_READ,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_NOTIFY_INFO,
  // Device parts: all-or-none with the dev-parts resource object commands (§3.12).
  vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_CREATE,
  vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_MODIFY,
  vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_QUERY,
  vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_DESTROY,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_GET,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_SET,
  vadmin.VIRTIO_ADMIN_CMD_DEV_MODE_SET,
];

function supportedLists(strict: boolean): Readonly<Record<GroupType, ReadonlySet<number>>> {
  return {
    [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF]: SELF_SUPPORTED,
    [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV]: new Set(
      strict ? SRIOV_RUNS : [...SRIOV_RUNS, ...CAPABILITY_OPCODES], // Model decision above.
    ),
  };
}

interface UsedList {
  opcodes: ReadonlySet<number>;
  /** Whether a LIST_USE succeeded for this group type since the last reset. */
  negotiated: boolean;
}

function initialUsedList(): UsedList {
  return { opcodes: new Set(LIST_OPCODES), negotiated: false };
}

/** Supported and used command lists, one pair per group type; the group types are independent. */
export class CommandLists {
  private readonly supported: Readonly<Record<GroupType, ReadonlySet<number>>>;

  constructor(strict: boolean) {
    this.supported = supportedLists(strict);
  }

  private used: Record<GroupType, UsedList> = {
    [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF]: initialUsedList(),
    [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV]: initialUsedList(),
  };

  isSupported(groupType: GroupType, opcode: number): boolean {
    return this.supported[groupType].has(opcode);
  }

  isUsed(groupType: GroupType, opcode: number): boolean {
    return this.used[groupType].opcodes.has(opcode);
  }

  /** Whether the driver has sent a successful LIST_USE for the group type since the last reset. */
  negotiated(groupType: GroupType): boolean {
    return this.used[groupType].negotiated;
  }

  /** LIST_QUERY: the supported list, one le64 word (the highest opcode is below 64). */
  query(groupType: GroupType): Uint8Array {
    return buildAdminResult('list-query', {
      deviceAdminCmdOpcodes: encodeIdBitmap(this.supported[groupType]),
    });
  }

  /** LIST_USE: replace the used list with `bitmap` if it is a subset of the supported list. */
  use(groupType: GroupType, bitmap: Uint8Array): Uint8Array {
    const opcodes = decodeIdBitmap(bitmap);
    if (!opcodes.every((op) => this.supported[groupType].has(op))) return invalidField();
    this.used[groupType] = { opcodes: new Set(opcodes), negotiated: true };
    return buildAdminResult('list-use', {});
  }

  reset(): void {
    this.used = {
      [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF]: initialUsedList(),
      [vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV]: initialUsedList(),
    };
  }
}
