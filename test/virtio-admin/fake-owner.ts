/**
 * A fake group owner for the admin engine tests: a PF whose SR-IOV group exists while `vfEnable` is
 * set, with `numVfs` members. Each member has a legacy register file laid out as facts/virtio.md §1.11
 * (common header with the MSI-X fields, then a net device config of mac[6] + le16 status), notify
 * info entries, a stopped flag and a list of device parts. Every call the engine makes is logged, so
 * tests can check that an EINVAL had no side effect. Shares no code with the engine: parts are plain
 * objects, the only import is the contract's types.
 */
import type { DevPart, DevPartHdr } from '../../src/hw/virtio/admin-wire.js';
import type {
  AdminGroupMember,
  AdminGroupOwner,
  LegacyAccess,
  LegacyNotifyEntry,
  PartsSetResult,
} from '../../src/hw/virtio/owner-api.js';

/** Legacy common header fields with MSI-X (offset → size), facts §1.11. */
const COMMON_FIELDS = new Map<number, number>([
  [0, 4], // HOST_FEATURES
  [4, 4], // GUEST_FEATURES
  [8, 4], // QUEUE_PFN
  [12, 2], // QUEUE_NUM
  [14, 2], // QUEUE_SEL
  [16, 2], // QUEUE_NOTIFY
  [18, 1], // STATUS
  [19, 1], // ISR
  [20, 2], // MSI_CONFIG_VECTOR
  [22, 2], // MSI_QUEUE_VECTOR
]);
const ISR_OFFSET = 19;
const STATUS_OFFSET = 18;
/** Net device config: mac[0..5] one byte each, status le16 at 6. */
const DEVICE_FIELDS = new Map<number, number>([
  [0, 1],
  [1, 1],
  [2, 1],
  [3, 1],
  [4, 1],
  [5, 1],
  [6, 2],
]);

export type MemberCall =
  | { op: 'common-read' | 'dev-read'; offset: number; size: number }
  | { op: 'common-write' | 'dev-write'; offset: number; data: number[] }
  | { op: 'set-stopped'; stopped: boolean }
  | { op: 'set-parts'; count: number }
  | { op: 'notify-info' };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export class FakeMember implements AdminGroupMember {
  readonly calls: MemberCall[] = [];
  readonly common = new Uint8Array(24);
  readonly device = new Uint8Array(8);
  notifyEntries: LegacyNotifyEntry[] = [{ flags: 2, bar: 2, offset: 0x1000n }];
  stopped = false;
  /** The member's parts now, in the mandatory order. */
  parts: DevPart[] = [];
  /** Parts accepted by SET, applied on resume. */
  staged: DevPart[] | undefined;

  constructor(readonly memberId: number) {}

  private access(
    fields: Map<number, number>,
    regs: Uint8Array,
    offset: number,
    size: number,
  ): Uint8Array | undefined {
    if (fields.get(offset) !== size) return undefined;
    return regs.subarray(offset, offset + size);
  }

  legacyCommonCfgRead(offset: number, size: number): LegacyAccess {
    this.calls.push({ op: 'common-read', offset, size });
    const field = this.access(COMMON_FIELDS, this.common, offset, size);
    if (field === undefined) return { ok: false };
    const bytes = field.slice();
    if (offset === ISR_OFFSET) field.fill(0); // reading ISR clears it
    return { ok: true, bytes };
  }

  legacyCommonCfgWrite(offset: number, data: Uint8Array): LegacyAccess {
    this.calls.push({ op: 'common-write', offset, data: [...data] });
    const field = this.access(COMMON_FIELDS, this.common, offset, data.length);
    if (field === undefined) return { ok: false };
    if (offset === STATUS_OFFSET && data[0] === 0)
      this.common.fill(0, 0, 24); // status 0 resets
    else field.set(data);
    return { ok: true, bytes: new Uint8Array(0) };
  }

  legacyDevCfgRead(offset: number, size: number): LegacyAccess {
    this.calls.push({ op: 'dev-read', offset, size });
    const field = this.access(DEVICE_FIELDS, this.device, offset, size);
    return field === undefined ? { ok: false } : { ok: true, bytes: field.slice() };
  }

  legacyDevCfgWrite(offset: number, data: Uint8Array): LegacyAccess {
    this.calls.push({ op: 'dev-write', offset, data: [...data] });
    const field = this.access(DEVICE_FIELDS, this.device, offset, data.length);
    if (field === undefined) return { ok: false };
    field.set(data);
    return { ok: true, bytes: new Uint8Array(0) };
  }

  legacyNotifyInfo(): readonly LegacyNotifyEntry[] {
    this.calls.push({ op: 'notify-info' });
    return this.notifyEntries;
  }

  setStopped(stopped: boolean): void {
    this.calls.push({ op: 'set-stopped', stopped });
    this.stopped = stopped;
    if (!stopped && this.staged !== undefined) {
      this.parts = this.staged;
      this.staged = undefined;
    }
  }

  partHeaders(): DevPartHdr[] {
    return this.parts.map((p) => ({
      partType: p.partType,
      flags: p.flags,
      selector: p.selector,
      length: p.value.length,
    }));
  }

  getParts(selected?: readonly DevPartHdr[]): DevPart[] {
    if (selected === undefined) return this.parts.map((p) => ({ ...p, value: p.value.slice() }));
    return this.parts.filter((p) =>
      selected.some((s) => s.partType === p.partType && sameBytes(s.selector, p.selector)),
    );
  }

  /** Same rules as a device: every part must exist here with the same length, in order; DEV_FEATURES must match. */
  setParts(parts: readonly DevPart[]): PartsSetResult {
    if (!this.stopped) return { ok: false, reason: 'not-stopped' };
    let lastType = -1;
    for (const part of parts) {
      const mine = this.parts.find(
        (p) => p.partType === part.partType && sameBytes(p.selector, part.selector),
      );
      if (mine === undefined) return { ok: false, reason: 'unknown-part' };
      if (mine.value.length !== part.value.length) return { ok: false, reason: 'length' };
      if (part.partType < lastType) return { ok: false, reason: 'order' };
      if (part.partType === 0x100 && !sameBytes(mine.value, part.value))
        return { ok: false, reason: 'mismatch' };
      lastType = part.partType;
    }
    this.calls.push({ op: 'set-parts', count: parts.length });
    const staged = this.parts.map((p) => {
      const incoming = parts.find((q) => q.partType === p.partType && sameBytes(q.selector, p.selector));
      return incoming === undefined ? p : { ...p, value: incoming.value.slice() };
    });
    this.staged = staged;
    return { ok: true };
  }
}

export class FakeOwner implements AdminGroupOwner {
  readonly virtioDeviceType = 1;
  vfEnable = false;
  readonly members: FakeMember[];

  constructor(totalVfs: number) {
    this.members = Array.from({ length: totalVfs }, (_, i) => new FakeMember(i + 1));
  }

  /** NumVFs: all members exist while VF Enable is set. */
  get numVfs(): number {
    return this.vfEnable ? this.members.length : 0;
  }

  sriovGroupExists(): boolean {
    return this.vfEnable;
  }

  numMembers(): number {
    return this.numVfs;
  }

  member(memberId: number): FakeMember | undefined {
    return memberId >= 1 && memberId <= this.numVfs ? this.members[memberId - 1] : undefined;
  }

  /** Every call made on any member. */
  allCalls(): MemberCall[] {
    return this.members.flatMap((m) => m.calls);
  }
}
