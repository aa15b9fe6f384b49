/**
 * Legacy interface commands (facts/virtio.md §3.9), capabilities (§3.10) and resource objects (§3.11):
 * request and result byte vectors built by hand, every error path, and the member calls they cause.
 */
import { describe, expect, it } from 'vitest';
import { createAdminEngine } from '../../src/hw/virtio/admin-engine.js';
import { FakeOwner } from './fake-owner.js';
import {
  cat,
  cmd,
  EBUSY,
  EEXIST,
  EINVAL_INVALID_FIELD,
  EINVAL_INVALID_OPCODE,
  ENOSPC_NORESOURCE,
  ENXIO,
  exec,
  OK,
  OP,
  SELF,
  SRIOV,
  zeros,
} from './support.js';

const ALL_SRIOV = [0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00];

function enabled(options: { devPartsLimits?: { getLimit: number; setLimit: number } } = {}) {
  const owner = new FakeOwner(2);
  owner.vfEnable = true;
  const engine = createAdminEngine(owner, options);
  expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV), 8)).toEqual(cat(OK));
  return { owner, engine, vf1: owner.members[0]!, vf2: owner.members[1]! };
}

describe('legacy interface commands', () => {
  it('LEGACY_COMMON_CFG_WRITE: {offset, reserved[7], data}; status-only result', () => {
    const { engine, vf1 } = enabled();
    const req = cat(
      [0x02, 0x00, 0x01, 0x00], // opcode 0x2, SR-IOV
      zeros(12),
      [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // member 1
      [0x0e], // offset 14 = QUEUE_SEL
      zeros(7),
      [0x02, 0x00], // le16 2
    );
    expect(exec(engine, req, 8)).toEqual(cat(OK));
    expect(vf1.calls).toEqual([{ op: 'common-write', offset: 14, data: [2, 0] }]);
    expect([...vf1.common.subarray(14, 16)]).toEqual([2, 0]);
  });

  it('LEGACY_COMMON_CFG_READ: {offset} (24 + 1 bytes, as Linux sends); read size = result buffer', () => {
    const { engine, vf1 } = enabled();
    vf1.common.set([0x78, 0x56, 0x34, 0x12], 0); // HOST_FEATURES
    vf1.common[19] = 0x01; // ISR
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [0x00]), 12)).toEqual(
      cat(OK, [0x78, 0x56, 0x34, 0x12]),
    );
    // Reading ISR clears it: the side effect is the member's.
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [19]), 9)).toEqual(cat(OK, [0x01]));
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [19]), 9)).toEqual(cat(OK, [0x00]));
    expect(vf1.calls.map((c) => c.op === 'common-read' && c.size)).toEqual([4, 1, 1]);
  });

  it('LEGACY_DEV_CFG_WRITE and _READ address the device config (mac, status)', () => {
    const { engine, vf2 } = enabled();
    expect(exec(engine, cmd(OP.LEGACY_DEV_CFG_WRITE, SRIOV, 2, [0x03], zeros(7), [0xaa]), 8)).toEqual(
      cat(OK),
    );
    vf2.device.set([0x01, 0x00], 6);
    expect(exec(engine, cmd(OP.LEGACY_DEV_CFG_READ, SRIOV, 2, [0x03]), 9)).toEqual(cat(OK, [0xaa]));
    expect(exec(engine, cmd(OP.LEGACY_DEV_CFG_READ, SRIOV, 2, [0x06]), 10)).toEqual(cat(OK, [0x01, 0x00]));
  });

  it('an access that is not exactly one field is EINVAL / INVALID_FIELD (read size from the buffer, write size from the data)', () => {
    const { engine } = enabled();
    // 2-byte read of the 4-byte HOST_FEATURES; read across QUEUE_SEL and QUEUE_NOTIFY; 0-byte read.
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [0]), 10)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [14]), 12)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [18]), 8)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    // Past the region; a write with no data (short readable part).
    expect(exec(engine, cmd(OP.LEGACY_DEV_CFG_READ, SRIOV, 1, [8]), 9)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_WRITE, SRIOV, 1, [18]), 8)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    expect(exec(engine, cmd(OP.LEGACY_DEV_CFG_WRITE, SRIOV, 1, [6], zeros(7), [1, 2, 3]), 8)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
  });

  it('LEGACY_NOTIFY_INFO: 64-byte result, entries then END; at most three entries', () => {
    const { engine, vf1 } = enabled();
    const entry = (flags: number, bar: number, offset: number[]) => [flags, bar, ...zeros(6), ...offset];
    expect(exec(engine, cmd(OP.LEGACY_NOTIFY_INFO, SRIOV, 1), 72)).toEqual(
      cat(OK, entry(2, 2, [0x00, 0x10, 0, 0, 0, 0, 0, 0]), zeros(48)),
    );
    vf1.notifyEntries = [
      { flags: 2, bar: 2, offset: 0x1000n },
      { flags: 1, bar: 4, offset: 0x3002n },
      { flags: 2, bar: 3, offset: 0n },
      { flags: 1, bar: 1, offset: 2n },
    ];
    expect(exec(engine, cmd(OP.LEGACY_NOTIFY_INFO, SRIOV, 1), 72)).toEqual(
      cat(
        OK,
        entry(2, 2, [0x00, 0x10, 0, 0, 0, 0, 0, 0]),
        entry(1, 4, [0x02, 0x30, 0, 0, 0, 0, 0, 0]),
        entry(2, 3, zeros(8)),
        zeros(16),
      ),
    );
    // Linux's 64-byte result buffer fits; a 24-byte one gets the first 16 result bytes.
    expect(exec(engine, cmd(OP.LEGACY_NOTIFY_INFO, SRIOV, 1), 24)).toEqual(
      cat(OK, entry(2, 2, [0x00, 0x10, 0, 0, 0, 0, 0, 0])),
    );
  });
});

describe('capabilities (Self group)', () => {
  it('CAP_ID_LIST_QUERY answers bit 0 (VIRTIO_DEV_PARTS_CAP)', () => {
    const { engine } = enabled();
    const req = cat([0x07, 0x00, 0x00, 0x00], zeros(12), zeros(8));
    expect(exec(engine, req, 16)).toEqual(cat(OK, [0x01, 0, 0, 0, 0, 0, 0, 0]));
  });

  it('DEVICE_CAP_GET {id 0, reserved[6]} answers {get limit, set limit}; an unknown id is ENXIO', () => {
    const { engine } = enabled({ devPartsLimits: { getLimit: 5, setLimit: 3 } });
    const req = cat([0x08, 0x00, 0x00, 0x00], zeros(12), zeros(8), [0x00, 0x00], zeros(6));
    expect(exec(engine, req, 10)).toEqual(cat(OK, [0x05, 0x03]));
    expect(exec(engine, cmd(OP.DEVICE_CAP_GET, SELF, 0, [0x01, 0x00], zeros(6)), 10)).toEqual(cat(ENXIO));
    expect(exec(engine, cmd(OP.DEVICE_CAP_GET, SELF, 0, [0x00, 0x08], zeros(6)), 10)).toEqual(cat(ENXIO));
  });

  it('the default device limits are 32 and 32', () => {
    const { engine } = enabled();
    expect(exec(engine, cmd(OP.DEVICE_CAP_GET, SELF, 0, zeros(8)), 10)).toEqual(cat(OK, [32, 32]));
  });

  it('DRIVER_CAP_SET may lower, not raise; EBUSY while objects exist; reset forgets it', () => {
    const { engine } = enabled({ devPartsLimits: { getLimit: 5, setLimit: 3 } });
    const set = (get: number, setl: number) =>
      exec(engine, cmd(OP.DRIVER_CAP_SET, SELF, 0, [0x00, 0x00], zeros(6), [get, setl]), 8);
    expect(set(6, 3)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(set(5, 4)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(exec(engine, cmd(OP.DRIVER_CAP_SET, SELF, 0, [0x02, 0x00], zeros(6), [1, 1]), 8)).toEqual(
      cat(ENXIO),
    );
    expect(set(2, 2)).toEqual(cat(OK));
    const create = cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, [0, 0, 0, 0], [1, 0, 0, 0], zeros(8), [0], zeros(7));
    expect(exec(engine, create, 8)).toEqual(cat(OK));
    expect(set(1, 1)).toEqual(cat(EBUSY));
    expect(set(2, 2)).toEqual(cat(OK)); // unchanged: allowed
    engine.reset();
    // After reset the driver limits are 0 again: a create fails.
    expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV), 8)).toEqual(cat(OK));
    expect(exec(engine, create, 8)).toEqual(cat(ENOSPC_NORESOURCE));
    // A short capability data reads as zero limits.
    expect(exec(engine, cmd(OP.DRIVER_CAP_SET, SELF, 0, [0, 0], zeros(6), [1]), 8)).toEqual(cat(OK));
    // Get limit 1, set limit 0 (missing byte): GET id 1 is outside, GET id 0 fits, SET id 0 does not.
    expect(exec(engine, create, 8)).toEqual(cat(ENOSPC_NORESOURCE));
    const createGet0 = cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, zeros(16), [0], zeros(7));
    expect(exec(engine, createGet0, 8)).toEqual(cat(OK));
    const createSet0 = cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 2, zeros(16), [1], zeros(7));
    expect(exec(engine, createSet0, 8)).toEqual(cat(EEXIST));
  });
});

describe('resource objects (device parts, SR-IOV group)', () => {
  /** {hdr: le16 type 0, reserved[2], le32 id}. */
  const objHdr = (id: number) => [0x00, 0x00, 0x00, 0x00, id & 0xff, (id >> 8) & 0xff, 0x00, 0x00];
  const createData = (id: number, kind: number) => [...objHdr(id), ...zeros(8), kind, ...zeros(7)];

  function withLimits(get = 2, set = 2) {
    const s = enabled();
    expect(exec(s.engine, cmd(OP.DRIVER_CAP_SET, SELF, 0, zeros(8), [get, set]), 8)).toEqual(cat(OK));
    return s;
  }

  it('CREATE, QUERY, MODIFY, QUERY, DESTROY byte vectors', () => {
    const { engine } = withLimits();
    const create = cat(
      [0x0a, 0x00, 0x01, 0x00], // RESOURCE_OBJ_CREATE, SR-IOV
      zeros(12),
      [0x01, 0, 0, 0, 0, 0, 0, 0], // member 1
      [0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00], // type DEV_PARTS, id 1
      zeros(8), // flags
      [0x00], // dev parts type GET
      zeros(7),
    );
    expect(exec(engine, create, 8)).toEqual(cat(OK));
    const query = cmd(OP.RESOURCE_OBJ_QUERY, SRIOV, 1, objHdr(1), zeros(8));
    expect(exec(engine, query, 16)).toEqual(cat(OK, [0x00], zeros(7)));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_MODIFY, SRIOV, 1, createData(1, 1)), 8)).toEqual(cat(OK));
    expect(exec(engine, query, 16)).toEqual(cat(OK, [0x01], zeros(7)));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_DESTROY, SRIOV, 1, objHdr(1)), 8)).toEqual(cat(OK));
    expect(exec(engine, query, 16)).toEqual(cat(ENXIO));
    // Re-create after destroy works without a reset.
    expect(exec(engine, create, 8)).toEqual(cat(OK));
  });

  it('EEXIST for an existing id (any member); ENXIO for a missing or another member’s object', () => {
    const { engine } = withLimits();
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(0, 0)), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(0, 1)), 8)).toEqual(cat(EEXIST));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 2, createData(0, 0)), 8)).toEqual(cat(EEXIST));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_DESTROY, SRIOV, 2, objHdr(0)), 8)).toEqual(cat(ENXIO));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_QUERY, SRIOV, 2, objHdr(0), zeros(8)), 16)).toEqual(cat(ENXIO));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_MODIFY, SRIOV, 2, createData(0, 0)), 8)).toEqual(cat(ENXIO));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_DESTROY, SRIOV, 1, objHdr(1)), 8)).toEqual(cat(ENXIO));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_DESTROY, SRIOV, 1, objHdr(0)), 8)).toEqual(cat(OK));
  });

  it('ENOSPC for an id outside the driver limit of its kind, and before DRIVER_CAP_SET (limit 0)', () => {
    const { engine: noCap } = enabled();
    expect(exec(noCap, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(0, 0)), 8)).toEqual(
      cat(ENOSPC_NORESOURCE),
    );
    const { engine } = withLimits(2, 1);
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(2, 0)), 8)).toEqual(
      cat(ENOSPC_NORESOURCE),
    );
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(1, 1)), 8)).toEqual(
      cat(ENOSPC_NORESOURCE),
    );
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(1, 0)), 8)).toEqual(cat(OK));
    // MODIFY to SET would put id 1 outside the SET limit: fails, and the object is unchanged.
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_MODIFY, SRIOV, 1, createData(1, 1)), 8)).toEqual(
      cat(ENOSPC_NORESOURCE),
    );
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_QUERY, SRIOV, 1, objHdr(1), zeros(8)), 16)).toEqual(
      cat(OK, zeros(8)),
    );
  });

  it('malformed fields are EINVAL / INVALID_FIELD: object type, flags, dev-parts type', () => {
    const { engine } = withLimits();
    const otherType = [0x03, 0x02, 0, 0, 0, 0, 0, 0, ...zeros(8), 0, ...zeros(7)]; // type 0x203
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, otherType), 8)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    const flags = [...objHdr(0), 1, ...zeros(7), 0, ...zeros(7)];
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, flags), 8)).toEqual(cat(EINVAL_INVALID_FIELD));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(0, 2)), 8)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    // A malformed CREATE of an existing id is still INVALID_FIELD (fields before resources).
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(0, 0)), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(0, 9)), 8)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_QUERY, SRIOV, 1, objHdr(0), [1], zeros(7)), 16)).toEqual(
      cat(EINVAL_INVALID_FIELD),
    );
  });

  it('a short CREATE reads missing bytes as zero: header only means id 0, type GET', () => {
    const { engine } = withLimits();
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_QUERY, SRIOV, 1), 16)).toEqual(cat(OK, zeros(8)));
  });

  it('Self-group resource object commands are INVALID_OPCODE; reset destroys every object', () => {
    const { engine } = withLimits();
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SELF, 0, createData(0, 0)), 8)).toEqual(
      cat(EINVAL_INVALID_OPCODE),
    );
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_CREATE, SRIOV, 1, createData(0, 0)), 8)).toEqual(cat(OK));
    engine.reset();
    expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.RESOURCE_OBJ_QUERY, SRIOV, 1, objHdr(0), zeros(8)), 16)).toEqual(cat(ENXIO));
  });
});
