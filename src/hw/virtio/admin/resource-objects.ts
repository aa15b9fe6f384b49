/**
 * Device resource objects (admin-cmds-resource-objects.tex; facts/virtio.md §3.11, §4.6). The only
 * object type modelled is VIRTIO_RESOURCE_OBJ_DEV_PARTS, an SR-IOV-group object that belongs to one
 * member and either captures its parts (GET) or restores them (SET), never both.
 *
 * Checks run in the order of facts §6: malformed fields (EINVAL / INVALID_FIELD) before resource
 * checks (ENXIO, EEXIST, ENOSPC), so an EINVAL never depends on which objects exist.
 *
 * Decision (facts §8 item 4, UNVERIFIED): ids are unique per object type across the whole owner, as
 * the spec's "unique per type" and Linux's PF-wide IDA both read; an object named by a command for
 * another member than its own does not exist for that command (ENXIO).
 * Decision: a GET object's id must be below the driver's GET limit, a SET object's below its SET
 * limit; a CREATE (or a MODIFY that changes the kind) outside that range fails ENOSPC, the status the
 * spec gives a failed CREATE, which also covers a driver that never set the capability (limit 0).
 * Decision: nothing depends on a device-parts object, so MODIFY and DESTROY never answer EBUSY; MODIFY
 * may change an object's kind, QUERY returns the data of the last CREATE or MODIFY.
 * Decision: CREATE and MODIFY require `flags` to be 0 (the only value the spec defines); anything else
 * is EINVAL / INVALID_FIELD. Reserved bytes are ignored, as the spec says for unused fields.
 * Decision (UNVERIFIED): a member's FLR does not destroy its objects (the spec says only that parts
 * return to defaults); a device reset destroys all objects.
 */
import { decodeStruct, encodeStruct } from '../../../base/index.js';
import { vadmin } from '../../../spec/index.js';
import { type AdminCmdData, buildAdminResult } from '../admin-wire.js';
import type { DevPartsLimits } from './capabilities.js';
import { alreadyExists, invalidField, noSpace, noSuchResource } from './reply.js';

export type DevPartsObjectKind = 'get' | 'set';

interface DevPartsObject {
  readonly memberId: number;
  readonly kind: DevPartsObjectKind;
}

type ObjHdr = AdminCmdData<'resource-obj-destroy'>;

function kindOf(type: number): DevPartsObjectKind | undefined {
  switch (type) {
    case vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_GET:
      return 'get';
    case vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_SET:
      return 'set';
    default:
      return undefined;
  }
}

function typeOf(kind: DevPartsObjectKind): number {
  return kind === 'get'
    ? vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_GET
    : vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_SET;
}

/** The object kind carried by CREATE/MODIFY data, or undefined if the data is malformed. */
function parseObjectData(flags: bigint, specificData: Uint8Array): DevPartsObjectKind | undefined {
  if (flags !== 0n) return undefined;
  const data = decodeStruct(vadmin.VirtioResourceObjDevParts, specificData, { missing: 'zero' });
  return kindOf(data.type);
}

/** The result of looking an object up for a member: found, or the reply to send. */
export type ObjectLookup =
  | { readonly ok: true; readonly kind: DevPartsObjectKind }
  | { readonly ok: false; readonly reply: Uint8Array };

export class ResourceObjects {
  private readonly devParts = new Map<number, DevPartsObject>();

  constructor(private readonly limits: () => DevPartsLimits) {}

  get count(): number {
    return this.devParts.size;
  }

  /**
   * The member's device-parts object named by `hdr`, for the device-parts commands: EINVAL /
   * INVALID_FIELD for another object type, ENXIO if it does not exist for this member.
   */
  lookup(memberId: number, hdr: ObjHdr): ObjectLookup {
    if (hdr.type !== vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS) return { ok: false, reply: invalidField() };
    const obj = this.devParts.get(hdr.id);
    if (obj === undefined || obj.memberId !== memberId) return { ok: false, reply: noSuchResource() };
    return { ok: true, kind: obj.kind };
  }

  private withinLimit(kind: DevPartsObjectKind, id: number): boolean {
    const limits = this.limits();
    return id < (kind === 'get' ? limits.getLimit : limits.setLimit);
  }

  create(memberId: number, data: AdminCmdData<'resource-obj-create'>): Uint8Array {
    if (data.hdr.type !== vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS) return invalidField();
    const kind = parseObjectData(data.flags, data.resourceObjSpecificData);
    if (kind === undefined) return invalidField();
    if (this.devParts.has(data.hdr.id)) return alreadyExists();
    if (!this.withinLimit(kind, data.hdr.id)) return noSpace();
    this.devParts.set(data.hdr.id, { memberId, kind });
    return buildAdminResult('resource-obj-create', {});
  }

  modify(memberId: number, data: AdminCmdData<'resource-obj-modify'>): Uint8Array {
    if (data.hdr.type !== vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS) return invalidField();
    const kind = parseObjectData(data.flags, data.resourceObjSpecificData);
    if (kind === undefined) return invalidField();
    const found = this.lookup(memberId, data.hdr);
    if (!found.ok) return found.reply;
    if (!this.withinLimit(kind, data.hdr.id)) return noSpace();
    this.devParts.set(data.hdr.id, { memberId, kind });
    return buildAdminResult('resource-obj-modify', {});
  }

  query(memberId: number, data: AdminCmdData<'resource-obj-query'>): Uint8Array {
    if (data.flags !== 0n) return invalidField();
    const found = this.lookup(memberId, data.hdr);
    if (!found.ok) return found.reply;
    return buildAdminResult('resource-obj-query', {
      resourceObjSpecificResult: encodeStruct(vadmin.VirtioResourceObjDevParts, { type: typeOf(found.kind) }),
    });
  }

  destroy(memberId: number, hdr: ObjHdr): Uint8Array {
    const found = this.lookup(memberId, hdr);
    if (!found.ok) return found.reply;
    this.devParts.delete(hdr.id);
    return buildAdminResult('resource-obj-destroy', {});
  }

  /** Device reset: every object is destroyed. */
  reset(): void {
    this.devParts.clear();
  }
}
