/**
 * Device-parts commands (facts/virtio.md §3.12, §4): METADATA_GET, DEV_PARTS_GET, DEV_PARTS_SET and
 * DEV_MODE_SET, with hand-built request and result bytes, against a fake member's parts.
 */
import { describe, expect, it } from 'vitest';
import { createAdminEngine } from '../../src/hw/virtio/admin-engine.js';
import { FakeOwner } from './fake-owner.js';
import {
  DEV_FEATURES_HDR,
  DEVICE_STATUS_HDR,
  DRV_FEATURES_HDR,
  SAMPLE_IMAGE_BYTES,
  sampleImage,
  sampleParts,
  VQ_CFG_HDR,
} from './parts-fixture.js';
import {
  cat,
  cmd,
  EINVAL_INVALID_COMMAND,
  EINVAL_INVALID_FIELD,
  ENOMEM_NORESOURCE,
  ENXIO,
  exec,
  le32,
  OK,
  OP,
  SELF,
  SRIOV,
  zeros,
} from './support.js';

const ALL_SRIOV = [0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00];
const STATE = { status: 0x0f, queueDescLow: 0x40 };
/** {hdr: type 0 DEV_PARTS, reserved[2], le32 id}. */
const objHdr = (id: number) => [0x00, 0x00, 0x00, 0x00, ...le32(id)];

/** VF 1 with parts, a GET object 0 and a SET object 1 on VF 1. */
function setup() {
  const owner = new FakeOwner(2);
  owner.vfEnable = true;
  const vf1 = owner.members[0]!;
  vf1.parts = sampleParts(STATE);
  const engine = createAdminEngine(owner, {});
  expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV), 8)).toEqual(cat(OK));
  expect(exec(engine, cmd(OP.DRIVER_CAP_SET, SELF, 0, zeros(8), [4, 4]), 8)).toEqual(cat(OK));
  for (const [id, kind] of [
    [0, 0],
    [1, 1],
  ] as const) {
    const create = cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, objHdr(id), zeros(8), [kind], zeros(7));
    expect(exec(engine, create, 8)).toEqual(cat(OK));
  }
  return { owner, engine, vf1 };
}

describe('DEV_PARTS_METADATA_GET (0xe)', () => {
  const metadata = (id: number, type: number) =>
    cat([0x0e, 0x00, 0x01, 0x00], zeros(12), [0x01, 0, 0, 0, 0, 0, 0, 0], objHdr(id), [type], zeros(7));

  it('SIZE: {le32 size, reserved} = the bytes of all parts', () => {
    const { engine } = setup();
    expect(exec(engine, metadata(0, 0), 16)).toEqual(cat(OK, [SAMPLE_IMAGE_BYTES, 0, 0, 0], zeros(4)));
  });

  it('COUNT: {le32 count, reserved}', () => {
    const { engine } = setup();
    expect(exec(engine, metadata(0, 1), 16)).toEqual(cat(OK, [4, 0, 0, 0], zeros(4)));
  });

  it('LIST: {le32 count, reserved, hdrs[]}', () => {
    const { engine } = setup();
    expect(exec(engine, metadata(0, 2), 8 + 8 + 64)).toEqual(
      cat(OK, [4, 0, 0, 0], zeros(4), DEV_FEATURES_HDR, DRV_FEATURES_HDR, DEVICE_STATUS_HDR, VQ_CFG_HDR),
    );
  });

  it('a result buffer too small is ENOMEM (not truncation), for every type', () => {
    const { engine } = setup();
    expect(exec(engine, metadata(0, 0), 8)).toEqual(cat(ENOMEM_NORESOURCE));
    expect(exec(engine, metadata(0, 1), 15)).toEqual(cat(ENOMEM_NORESOURCE));
    expect(exec(engine, metadata(0, 2), 8 + 8 + 63)).toEqual(cat(ENOMEM_NORESOURCE));
  });

  it('needs the member’s GET object: SET object or bad type → INVALID_FIELD, missing → ENXIO', () => {
    const { engine } = setup();
    expect(exec(engine, metadata(1, 0), 16)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(exec(engine, metadata(0, 3), 16)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(exec(engine, metadata(2, 0), 16)).toEqual(cat(ENXIO));
    const vf2 = cat(
      [0x0e, 0x00, 0x01, 0x00],
      zeros(12),
      [0x02, 0, 0, 0, 0, 0, 0, 0],
      objHdr(0),
      [0],
      zeros(7),
    );
    expect(exec(engine, vf2, 16)).toEqual(cat(ENXIO));
  });
});

describe('DEV_PARTS_GET (0xf)', () => {
  it('ALL: {hdr, type 1, reserved[7]} answers every part, packed, in order', () => {
    const { engine } = setup();
    const req = cat(
      [0x0f, 0x00, 0x01, 0x00],
      zeros(12),
      [0x01, 0, 0, 0, 0, 0, 0, 0],
      objHdr(0),
      [1],
      zeros(7),
    );
    expect(exec(engine, req, 8 + SAMPLE_IMAGE_BYTES)).toEqual(cat(OK, [...sampleImage(STATE)]));
  });

  it('SELECTED: the listed parts that exist, in the device order', () => {
    const { engine } = setup();
    const missing = [0x05, 0x01, 0x00, 0x00, 0x07, 0x00, ...zeros(6), 0x08, 0, 0, 0]; // VQ_NOTIFY_CFG 7
    const req = cmd(
      OP.DEV_PARTS_GET,
      SRIOV,
      1,
      objHdr(0),
      [0],
      zeros(7),
      VQ_CFG_HDR,
      missing,
      DEVICE_STATUS_HDR,
    );
    expect(exec(engine, req, 256)).toEqual(cat(OK, [...sampleImage(STATE).subarray(48)]));
  });

  it('a result buffer too small for all parts gets the whole parts that fit', () => {
    const { engine } = setup();
    const req = cmd(OP.DEV_PARTS_GET, SRIOV, 1, objHdr(0), [1], zeros(7));
    // 8 + 24 + 24 + 10: the DEVICE_STATUS part (17 bytes) does not fit.
    expect(exec(engine, req, 66)).toEqual(cat(OK, [...sampleImage(STATE).subarray(0, 48)]));
    expect(exec(engine, req, 8)).toEqual(cat(OK));
  });

  it('needs a GET object; a bad get type is INVALID_FIELD', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(OP.DEV_PARTS_GET, SRIOV, 1, objHdr(1), [1], zeros(7)), 256)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    expect(exec(engine, cmd(OP.DEV_PARTS_GET, SRIOV, 1, objHdr(0), [2], zeros(7)), 256)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    expect(exec(engine, cmd(OP.DEV_PARTS_GET, SRIOV, 1, objHdr(3), [1], zeros(7)), 256)).toEqual(cat(ENXIO));
  });
});

describe('DEV_PARTS_SET (0x10) and DEV_MODE_SET (0x11)', () => {
  const image = sampleImage({ status: 0x07, queueDescLow: 0x80 });

  it('DEV_MODE_SET {flags}: stop, stop again (no call), resume; unknown flags are INVALID_FIELD', () => {
    const { engine, vf1 } = setup();
    const stop = cat([0x11, 0x00, 0x01, 0x00], zeros(12), [0x01, 0, 0, 0, 0, 0, 0, 0], [0x01]);
    expect(exec(engine, stop, 8)).toEqual(cat(OK));
    expect(exec(engine, stop, 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.DEV_MODE_SET, SRIOV, 1, [0x03]), 8)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(vf1.stopped).toBe(true);
    // A readable part without the flags byte reads flags 0: resume.
    expect(exec(engine, cmd(OP.DEV_MODE_SET, SRIOV, 1), 8)).toEqual(cat(OK));
    expect(vf1.calls).toEqual([
      { op: 'set-stopped', stopped: true },
      { op: 'set-stopped', stopped: false },
    ]);
  });

  it('SET while the member is active is EINVAL / INVALID_COMMAND and changes nothing', () => {
    const { engine, vf1 } = setup();
    expect(exec(engine, cmd(OP.DEV_PARTS_SET, SRIOV, 1, objHdr(1), [...image]), 8)).toEqual(
      cat(EINVAL_INVALID_COMMAND),
    );
    expect(vf1.calls).toEqual([]);
    expect(vf1.staged).toBeUndefined();
  });

  it('SET {hdr, parts[]} when stopped stages the parts; they take effect on resume', () => {
    const { engine, vf1 } = setup();
    expect(exec(engine, cmd(OP.DEV_MODE_SET, SRIOV, 1, [1]), 8)).toEqual(cat(OK));
    const req = cat([0x10, 0x00, 0x01, 0x00], zeros(12), [0x01, 0, 0, 0, 0, 0, 0, 0], objHdr(1), [...image]);
    expect(exec(engine, req, 8)).toEqual(cat(OK));
    expect(vf1.parts[2]!.value).toEqual(Uint8Array.from([0x0f]));
    expect(exec(engine, cmd(OP.DEV_MODE_SET, SRIOV, 1, [0]), 8)).toEqual(cat(OK));
    expect(vf1.parts[2]!.value).toEqual(Uint8Array.from([0x07]));
    expect(vf1.parts[3]!.value[8]).toBe(0x80);
  });

  it('SET errors: GET object, missing object, truncated part, a part the member refuses', () => {
    const { engine, vf1 } = setup();
    expect(exec(engine, cmd(OP.DEV_MODE_SET, SRIOV, 1, [1]), 8)).toEqual(cat(OK));
    const set = (id: number, parts: ArrayLike<number>) =>
      exec(engine, cmd(OP.DEV_PARTS_SET, SRIOV, 1, objHdr(id), Array.from(parts)), 8);
    expect(set(0, image)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(set(2, image)).toEqual(cat(ENXIO));
    expect(set(1, image.subarray(0, image.length - 1))).toEqual(cat(EINVAL_INVALID_FIELD));
    // DEVICE_STATUS with 2 value bytes: a length the member does not have.
    expect(set(1, [0x03, 0x01, 0x00, 0x00, ...zeros(8), 0x02, 0, 0, 0, 0x07, 0x00])).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    // DEV_FEATURES that differ from the member's.
    expect(set(1, [...DEV_FEATURES_HDR, 0xff, ...zeros(7)])).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(vf1.staged).toBeUndefined();
    // An empty parts list is a valid (empty) SET.
    expect(set(1, [])).toEqual(cat(OK));
  });
});
