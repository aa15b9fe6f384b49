/**
 * What Linux's PF driver sends (facts/virtio.md §5.1: vp_modern_avq_activate at PF DRIVER_OK, before
 * any VF exists), accepted in default mode and broken in strict mode; and a whole save/restore of a
 * VF's device parts onto a VF of another PF in the order of facts §4.7 (and Linux's migrate.c, §5.3).
 */
import { describe, expect, it } from 'vitest';
import { type AdminEngine, createAdminEngine } from '../../src/hw/virtio/admin-engine.js';
import { FakeOwner } from './fake-owner.js';
import { SAMPLE_IMAGE_BYTES, sampleImage, sampleParts } from './parts-fixture.js';
import {
  cat,
  cmd,
  EINVAL_INVALID_GROUP,
  EINVAL_INVALID_MEMBER,
  EINVAL_INVALID_OPCODE,
  exec,
  LINUX_ADMIN_CMD_BITMAP,
  le32,
  OK,
  OP,
  SELF,
  SRIOV,
  statusOf,
  zeros,
} from './support.js';

/** The four commands of vp_modern_avq_activate, each with Linux's buffer sizes. */
const LINUX_ACTIVATE = {
  // virtio_pci_admin_cmd_list_init: 8-byte result.
  listQuery: () => cmd(OP.LIST_QUERY, SRIOV, 0),
  listUse: (word: number[]) => cmd(OP.LIST_USE, SRIOV, 0, word),
  // virtio_pci_admin_cmd_cap_init: 8-byte result.
  capIdListQuery: () => cmd(OP.CAP_ID_LIST_QUERY, SELF, 0),
  // virtio_pci_admin_cmd_dev_parts_objects_enable: {le16 id 0, reserved[6]}, 2-byte result; then
  // DRIVER_CAP_SET {id 0, reserved[6], get = set = min(get, set)}.
  deviceCapGet: () => cmd(OP.DEVICE_CAP_GET, SELF, 0, [0x00, 0x00], zeros(6)),
  driverCapSet: (limit: number) => cmd(OP.DRIVER_CAP_SET, SELF, 0, [0x00, 0x00], zeros(6), [limit, limit]),
};

function and64(a: Uint8Array, b: readonly number[]): number[] {
  return Array.from({ length: 8 }, (_, i) => (a[i] ?? 0) & (b[i] ?? 0));
}

/** Run Linux's activation; VF Enable is clear (sriov_configure comes later). */
function linuxActivate(engine: AdminEngine): void {
  const query = exec(engine, LINUX_ACTIVATE.listQuery(), 16);
  expect(query).toEqual(cat(OK, [0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]));
  const word = and64(query.subarray(8), LINUX_ADMIN_CMD_BITMAP);
  expect(word).toEqual(LINUX_ADMIN_CMD_BITMAP); // 0x3e7fc: Linux keeps its whole bitmap
  expect(exec(engine, LINUX_ACTIVATE.listUse(word), 8)).toEqual(cat(OK));
  expect(exec(engine, LINUX_ACTIVATE.capIdListQuery(), 16)).toEqual(cat(OK, [0x01], zeros(7)));
  expect(exec(engine, LINUX_ACTIVATE.deviceCapGet(), 10)).toEqual(cat(OK, [32, 32]));
  expect(exec(engine, LINUX_ACTIVATE.driverCapSet(32), 8)).toEqual(cat(OK));
}

describe("Linux's PF driver flow", () => {
  it('default mode: LIST_QUERY/LIST_USE before VF Enable, Self capability commands without a Self LIST_USE', () => {
    const owner = new FakeOwner(2);
    const engine = createAdminEngine(owner, {});
    linuxActivate(engine);
    // sriov_configure: VF Enable set. The negotiated list serves the VFs.
    owner.vfEnable = true;
    owner.members[0]!.common[18] = 0x0f;
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [18]), 9)).toEqual(cat(OK, [0x0f]));
    expect(statusOf(exec(engine, cmd(OP.LEGACY_NOTIFY_INFO, SRIOV, 2), 72))).toEqual([0, 0]);
    // MODIFY and QUERY are not in Linux's bitmap, so they were not enabled.
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_QUERY, SRIOV, 1, zeros(16)), 16)).toEqual(
      cat(EINVAL_INVALID_OPCODE),
    );
    // Linux's LIST_USE cleared bits 0 and 1: no further list commands until a reset.
    expect(exec(engine, LINUX_ACTIVATE.listQuery(), 16)).toEqual(cat(EINVAL_INVALID_OPCODE));
    // PF reset then DRIVER_OK again: the same flow works again.
    engine.reset();
    owner.vfEnable = false;
    linuxActivate(engine);
  });

  it('strict mode: LIST_QUERY and LIST_USE fail INVALID_GROUP, the capability commands INVALID_OPCODE', () => {
    const owner = new FakeOwner(2);
    const engine = createAdminEngine(owner, { strict: true });
    expect(engine.strict).toBe(true);
    expect(exec(engine, LINUX_ACTIVATE.listQuery(), 16)).toEqual(cat(EINVAL_INVALID_GROUP));
    // (Linux stops list_init here: supported_cmds stays 0, and its local check would then refuse the
    // capability commands with -EOPNOTSUPP. Sent anyway, as the flow reads:)
    expect(exec(engine, LINUX_ACTIVATE.listUse(LINUX_ADMIN_CMD_BITMAP), 8)).toEqual(
      cat(EINVAL_INVALID_GROUP),
    );
    expect(exec(engine, LINUX_ACTIVATE.capIdListQuery(), 16)).toEqual(cat(EINVAL_INVALID_OPCODE));
    expect(exec(engine, LINUX_ACTIVATE.deviceCapGet(), 10)).toEqual(cat(EINVAL_INVALID_OPCODE));
    expect(exec(engine, LINUX_ACTIVATE.driverCapSet(32), 8)).toEqual(cat(EINVAL_INVALID_OPCODE));
    // Even with VF Enable set, member 0 is not an SR-IOV member when read literally.
    owner.vfEnable = true;
    expect(exec(engine, LINUX_ACTIVATE.listQuery(), 16)).toEqual(cat(EINVAL_INVALID_MEMBER));
    // With member 1 the query works, but the SR-IOV list lacks bits 7-9: Linux's AND drops the
    // capability commands, so it would never learn an object limit (no device parts).
    const query = exec(engine, cmd(OP.LIST_QUERY, SRIOV, 1), 16);
    expect(query).toEqual(cat(OK, [0x7f, 0xfc, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]));
    expect(and64(query.subarray(8), LINUX_ADMIN_CMD_BITMAP)).toEqual([0x7c, 0xe4, 0x03, 0, 0, 0, 0, 0]);
    // A strict driver's Self LIST_USE enables the capability commands.
    expect(exec(engine, cmd(OP.LIST_USE, SELF, 0, [0x83, 0x03, 0, 0, 0, 0, 0, 0]), 8)).toEqual(cat(OK));
    expect(exec(engine, LINUX_ACTIVATE.capIdListQuery(), 16)).toEqual(cat(OK, [0x01], zeros(7)));
  });
});

describe('save / restore (facts §4.7)', () => {
  const objHdr = (id: number) => [0x00, 0x00, 0x00, 0x00, ...le32(id)];
  const create = (vf: number, id: number, kind: number) =>
    cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, vf, objHdr(id), zeros(8), [kind], zeros(7));
  const metadataSize = (vf: number, id: number) =>
    cmd(OP.DEV_PARTS_METADATA_GET, SRIOV, vf, objHdr(id), [0x00], zeros(7));
  const getAll = (vf: number, id: number) => cmd(OP.DEV_PARTS_GET, SRIOV, vf, objHdr(id), [0x01], zeros(7));
  const destroy = (vf: number, id: number) => cmd(OP.RESOURCE_OBJ_DESTROY, SRIOV, vf, objHdr(id));
  const mode = (vf: number, flags: number) => cmd(OP.DEV_MODE_SET, SRIOV, vf, [flags]);

  function pf() {
    const owner = new FakeOwner(2);
    const engine = createAdminEngine(owner, {});
    linuxActivate(engine);
    owner.vfEnable = true;
    return { owner, engine };
  }

  it('VF 2 of PF A moves to VF 1 of PF B: pre-copy, stop, final image, SET, resume', () => {
    const src = pf();
    const dst = pf();
    const srcVf = src.owner.members[1]!;
    const dstVf = dst.owner.members[0]!;
    srcVf.parts = sampleParts({ status: 0x0f, queueDescLow: 0x40 });
    dstVf.parts = sampleParts({ status: 0x00, queueDescLow: 0x00 });

    // Source, pre-copy while active: GET object, size, image.
    expect(exec(src.engine, create(2, 5, 0), 8)).toEqual(cat(OK));
    expect(exec(src.engine, metadataSize(2, 5), 16)).toEqual(cat(OK, le32(SAMPLE_IMAGE_BYTES), zeros(4)));
    const pre = exec(src.engine, getAll(2, 5), 8 + SAMPLE_IMAGE_BYTES);
    expect(pre).toEqual(cat(OK, [...sampleImage({ status: 0x0f, queueDescLow: 0x40 })]));
    // The guest keeps running: the queue moves on.
    srcVf.parts = sampleParts({ status: 0x0f, queueDescLow: 0x44 });
    // Stop, final image with the same object, destroy.
    expect(exec(src.engine, mode(2, 1), 8)).toEqual(cat(OK));
    expect(srcVf.stopped).toBe(true);
    expect(exec(src.engine, metadataSize(2, 5), 16)).toEqual(cat(OK, le32(SAMPLE_IMAGE_BYTES), zeros(4)));
    const final = exec(src.engine, getAll(2, 5), 8 + SAMPLE_IMAGE_BYTES);
    const image = final.subarray(8); // used length - 8 = image bytes
    expect(image).toEqual(sampleImage({ status: 0x0f, queueDescLow: 0x44 }));
    expect(exec(src.engine, destroy(2, 5), 8)).toEqual(cat(OK));

    // Destination: stop, SET object, one SET per image, destroy, resume.
    expect(exec(dst.engine, mode(1, 1), 8)).toEqual(cat(OK));
    expect(exec(dst.engine, create(1, 0, 1), 8)).toEqual(cat(OK));
    expect(exec(dst.engine, cmd(OP.DEV_PARTS_SET, SRIOV, 1, objHdr(0), [...pre.subarray(8)]), 8)).toEqual(
      cat(OK),
    );
    expect(exec(dst.engine, cmd(OP.DEV_PARTS_SET, SRIOV, 1, objHdr(0), [...image]), 8)).toEqual(cat(OK));
    expect(exec(dst.engine, destroy(1, 0), 8)).toEqual(cat(OK));
    // Nothing applied before resume.
    expect(dstVf.parts).toEqual(sampleParts({ status: 0x00, queueDescLow: 0x00 }));
    expect(exec(dst.engine, mode(1, 0), 8)).toEqual(cat(OK));
    expect(dstVf.parts).toEqual(srcVf.parts);

    // Saving changed nothing on the source; both PFs hold no objects any more.
    expect(srcVf.parts).toEqual(sampleParts({ status: 0x0f, queueDescLow: 0x44 }));
    expect(exec(src.engine, getAll(2, 5), 256)).toEqual(cat([0x06, 0, 0, 0, 0, 0, 0, 0]));
    expect(exec(dst.engine, create(1, 0, 0), 8)).toEqual(cat(OK));
  });
});
