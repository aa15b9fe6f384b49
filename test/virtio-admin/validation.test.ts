/**
 * The admin engine's validation order (facts/virtio.md §3.7, §6), the command lists (§3.8) and the
 * length rules (§3.2), checked with hand-built byte vectors against a fake owner.
 */
import { describe, expect, it } from 'vitest';
import { createAdminEngine } from '../../src/hw/virtio/admin-engine.js';
import { FakeOwner } from './fake-owner.js';
import {
  cat,
  cmd,
  EINVAL_INVALID_FIELD,
  EINVAL_INVALID_GROUP,
  EINVAL_INVALID_MEMBER,
  EINVAL_INVALID_OPCODE,
  exec,
  OK,
  OP,
  SELF,
  SRIOV,
  zeros,
} from './support.js';

/** 0x3ffff: every opcode 0x0..0x11 (default mode's SR-IOV list), one le64 word. */
const ALL_SRIOV = [0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00];

function setup(numVfs = 2, vfEnable = true) {
  const owner = new FakeOwner(numVfs);
  owner.vfEnable = vfEnable;
  const engine = createAdminEngine(owner, {});
  return { owner, engine };
}

describe('LIST_QUERY and LIST_USE', () => {
  it('LIST_QUERY on SR-IOV answers 0x3ffff in default mode, 0x3fc7f in strict mode', () => {
    // biome-ignore format: one row per field
    const req = Uint8Array.from([
      0x00, 0x00, 0x01, 0x00, // opcode LIST_QUERY, group_type SR-IOV
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // group_member_id 0
    ]);
    const { engine } = setup();
    expect(exec(engine, req, 16)).toEqual(cat(OK, ALL_SRIOV));
    const owner = new FakeOwner(2);
    owner.vfEnable = true;
    const strict = createAdminEngine(owner, { strict: true });
    expect(exec(strict, cmd(OP.LIST_QUERY, SRIOV, 1), 16)).toEqual(
      cat(OK, [0x7f, 0xfc, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]),
    );
  });

  it('LIST_QUERY on Self answers bits 0, 1, 7, 8, 9 (0x383)', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(OP.LIST_QUERY, SELF, 0), 16)).toEqual(cat(OK, [0x83, 0x03, 0, 0, 0, 0, 0, 0]));
  });

  it('LIST_USE with a subset succeeds (status only); a non-subset is EINVAL / INVALID_FIELD and changes nothing', () => {
    const { engine } = setup();
    // Bit 18 (0x12) is not supported.
    const bad = cmd(OP.LIST_USE, SRIOV, 0, [0xff, 0xff, 0x07, 0, 0, 0, 0, 0]);
    expect(exec(engine, bad, 8)).toEqual(cat(EINVAL_INVALID_FIELD));
    // The used list is still {0, 1}: LEGACY_NOTIFY_INFO is not enabled.
    expect(exec(engine, cmd(OP.LEGACY_NOTIFY_INFO, SRIOV, 1), 72)).toEqual(cat(EINVAL_INVALID_OPCODE));
    // Bits 0, 1 and 6 only.
    expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, [0x43, 0, 0, 0, 0, 0, 0, 0]), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.LEGACY_NOTIFY_INFO, SRIOV, 1), 72).subarray(0, 8)).toEqual(cat(OK));
    // LEGACY_COMMON_CFG_READ (bit 3) was left out.
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [18]), 9)).toEqual(
      cat(EINVAL_INVALID_OPCODE),
    );
  });

  it('an all-zero extra word is allowed; a missing word reads as zero (empty list)', () => {
    const { engine } = setup();
    const twoWords = cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV, zeros(8));
    expect(exec(engine, twoWords, 8)).toEqual(cat(OK));
    // Empty data: the used list becomes empty, which also blocks list commands.
    const { engine: e2 } = setup();
    expect(exec(e2, cmd(OP.LIST_USE, SRIOV, 0), 8)).toEqual(cat(OK));
    expect(exec(e2, cmd(OP.LIST_QUERY, SRIOV, 0), 16)).toEqual(cat(EINVAL_INVALID_OPCODE));
  });

  it('clearing bits 0 and 1 blocks further list commands of that group type only; reset restores them', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, [0x7c, 0, 0, 0, 0, 0, 0, 0]), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0), 16)).toEqual(cat(EINVAL_INVALID_OPCODE));
    expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV), 8)).toEqual(cat(EINVAL_INVALID_OPCODE));
    // The Self group is independent.
    expect(exec(engine, cmd(OP.LIST_QUERY, SELF, 0), 16)).toEqual(cat(OK, [0x83, 0x03, 0, 0, 0, 0, 0, 0]));
    engine.reset();
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0), 16)).toEqual(cat(OK, ALL_SRIOV));
    expect(exec(engine, cmd(OP.LEGACY_NOTIFY_INFO, SRIOV, 1), 72)).toEqual(cat(EINVAL_INVALID_OPCODE));
  });

  it('a Self LIST_USE without the capability bits disables them even in default mode', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(OP.CAP_ID_LIST_QUERY, SELF, 0), 16)).toEqual(cat(OK, [1, 0, 0, 0, 0, 0, 0, 0]));
    expect(exec(engine, cmd(OP.LIST_USE, SELF, 0, [0x03, 0, 0, 0, 0, 0, 0, 0]), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.CAP_ID_LIST_QUERY, SELF, 0), 16)).toEqual(cat(EINVAL_INVALID_OPCODE));
  });
});

describe('validation order: group type, then opcode, then member', () => {
  function enabled() {
    const s = setup(2);
    expect(exec(s.engine, cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV), 8)).toEqual(cat(OK));
    return s;
  }

  it('an unknown group type is INVALID_GROUP, whatever the opcode and member', () => {
    const { engine } = enabled();
    expect(exec(engine, cmd(OP.LIST_QUERY, 2, 0), 16)).toEqual(cat(EINVAL_INVALID_GROUP));
    expect(exec(engine, cmd(0x12, 0xffff, 99), 16)).toEqual(cat(EINVAL_INVALID_GROUP));
  });

  it('VF Enable clear: every SR-IOV command except the default-mode lists is INVALID_GROUP', () => {
    const { owner, engine } = enabled();
    owner.vfEnable = false;
    expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, 1, [18]), 9)).toEqual(
      cat(EINVAL_INVALID_GROUP),
    );
    expect(exec(engine, cmd(OP.DEV_MODE_SET, SRIOV, 1, [1]), 8)).toEqual(cat(EINVAL_INVALID_GROUP));
    // Unknown opcode on an absent group: the group check comes first.
    expect(exec(engine, cmd(0x12, SRIOV, 1), 8)).toEqual(cat(EINVAL_INVALID_GROUP));
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0), 16)).toEqual(cat(OK, ALL_SRIOV));
    expect(owner.allCalls()).toEqual([]);
  });

  it('an unknown or reserved opcode is INVALID_OPCODE', () => {
    const { engine } = enabled();
    for (const op of [0x12, 0x13, 0x7fff, 0x8000, 0xffff]) {
      expect(exec(engine, cmd(op, SRIOV, 1), 8)).toEqual(cat(EINVAL_INVALID_OPCODE));
      expect(exec(engine, cmd(op, SELF, 0), 8)).toEqual(cat(EINVAL_INVALID_OPCODE));
    }
  });

  it('an opcode of the wrong group type: SR-IOV commands on Self are INVALID_OPCODE', () => {
    const { engine } = enabled();
    for (const op of [0x2, 0x3, 0x4, 0x5, 0x6, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, 0x11]) {
      expect(exec(engine, cmd(op, SELF, 0, zeros(16)), 8)).toEqual(cat(EINVAL_INVALID_OPCODE));
    }
  });

  it('capability commands on SR-IOV: INVALID_OPCODE until enabled, then EINVAL / INVALID_GROUP', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(OP.CAP_ID_LIST_QUERY, SRIOV, 1), 16)).toEqual(cat(EINVAL_INVALID_OPCODE));
    expect(exec(engine, cmd(OP.LIST_USE, SRIOV, 0, ALL_SRIOV), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.CAP_ID_LIST_QUERY, SRIOV, 1), 16)).toEqual(cat(EINVAL_INVALID_GROUP));
    expect(exec(engine, cmd(OP.DEVICE_CAP_GET, SRIOV, 1, zeros(8)), 10)).toEqual(cat(EINVAL_INVALID_GROUP));
  });

  it('invalid members: 0, NumVFs + 1, 2^64 - 1 are INVALID_MEMBER; the opcode check comes first', () => {
    const { owner, engine } = enabled();
    for (const member of [0, 3]) {
      expect(exec(engine, cmd(OP.LEGACY_COMMON_CFG_READ, SRIOV, member, [18]), 9)).toEqual(
        cat(EINVAL_INVALID_MEMBER),
      );
    }
    const huge = cat(
      [0x03, 0x00, 0x01, 0x00],
      zeros(12),
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      [18],
    );
    expect(exec(engine, huge, 9)).toEqual(cat(EINVAL_INVALID_MEMBER));
    // Unknown opcode with an invalid member: INVALID_OPCODE.
    expect(exec(engine, cmd(0x12, SRIOV, 0), 8)).toEqual(cat(EINVAL_INVALID_OPCODE));
    expect(owner.allCalls()).toEqual([]);
  });

  it('Self group with member != 0 is INVALID_MEMBER; list commands ignore the member in default mode', () => {
    const { engine } = enabled();
    expect(exec(engine, cmd(OP.CAP_ID_LIST_QUERY, SELF, 1), 16)).toEqual(cat(EINVAL_INVALID_MEMBER));
    expect(exec(engine, cmd(OP.DEVICE_CAP_GET, SELF, 7, zeros(8)), 10)).toEqual(cat(EINVAL_INVALID_MEMBER));
    expect(exec(engine, cmd(OP.LIST_QUERY, SELF, 5), 16)).toEqual(cat(OK, [0x83, 0x03, 0, 0, 0, 0, 0, 0]));
  });
});

describe('length rules', () => {
  it('a readable part shorter than the header reads as zeros (2 bytes = LIST_QUERY, Self, member 0)', () => {
    const { engine } = setup();
    expect(exec(engine, Uint8Array.from([0x00, 0x00]), 16)).toEqual(cat(OK, [0x83, 0x03, 0, 0, 0, 0, 0, 0]));
    expect(exec(engine, new Uint8Array(0), 16)).toEqual(cat(OK, [0x83, 0x03, 0, 0, 0, 0, 0, 0]));
  });

  it('a readable part longer than the command is ignored', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0, zeros(40)), 16)).toEqual(cat(OK, ALL_SRIOV));
  });

  it('a writable part shorter than the result is cut; longer is not filled; used length = bytes written', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0), 11)).toEqual(cat(OK, [0xff, 0xff, 0x03]));
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0), 64)).toEqual(cat(OK, ALL_SRIOV));
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0), 8)).toEqual(cat(OK));
    expect(exec(engine, cmd(OP.LIST_QUERY, 7, 0), 3)).toEqual(Uint8Array.from([0x16, 0x00, 0x04]));
    expect(exec(engine, cmd(OP.LIST_QUERY, SRIOV, 0), 0)).toEqual(new Uint8Array(0));
  });

  it('an error writes the status header only, however large the buffer', () => {
    const { engine } = setup();
    expect(exec(engine, cmd(0x12, SELF, 0), 4096)).toEqual(cat(EINVAL_INVALID_OPCODE));
  });

  it('a writable size that is not a byte count is a caller bug', () => {
    const { engine } = setup();
    expect(() => engine.execute(cmd(OP.LIST_QUERY, SELF, 0), -1)).toThrow(/byte count/);
    expect(() => engine.execute(cmd(OP.LIST_QUERY, SELF, 0), 1.5)).toThrow(/byte count/);
  });
});
