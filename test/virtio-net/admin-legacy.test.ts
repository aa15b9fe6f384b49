/**
 * The PF's admin virtqueue end to end, and a VF's legacy register view through the legacy admin
 * commands (facts/virtio.md 1.11, 3.2, 3.8, 3.9): command bytes and offsets written by hand from the
 * facts tables; the legacy ring laid out at PFN * 4096 and driven with a 10-byte header.
 */
import { describe, expect, it } from 'vitest';
import type { Hpa } from '../../src/hw/index.js';
import { legacyVirtqueueLayout, VirtqueueDriver } from '../../src/vmm/guest/index.js';
import { bench, bits, EXTERNAL_HOST, F, frame, hostQueueMemory, NetDriver, S, vfAddress } from './support.js';

const PF_FEATURES = bits(F.VERSION_1, F.ACCESS_PLATFORM, F.MAC, F.CTRL_VQ, F.SR_IOV, F.ADMIN_VQ);
const ADMINQ = 3;

/** struct virtio_admin_cmd_hdr: le16 opcode, le16 group_type, 12 reserved, le64 member (facts 3.2). */
function cmd(opcode: number, group: number, member: number, data: number[] = []): Uint8Array {
  const b = new Uint8Array(24 + data.length);
  b[0] = opcode;
  b[2] = group;
  b[16] = member;
  b.set(data, 24);
  return b;
}

function pfWithAdminQueue() {
  const b = bench(1, 2);
  const pf = b.pfs[0]!;
  const d = new NetDriver(b, { rid: pf.rid, bar1: pf.bar1, bar4: pf.bar4 });
  expect(d.negotiate(PF_FEATURES) & S.FEATURES_OK).toBe(S.FEATURES_OK);
  d.enableMsix(5);
  d.setupQueue(ADMINQ, 8, 4, false);
  d.w(20, 1, S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
  const q = d.queues.get(ADMINQ)!;
  /** Send one command; returns the written bytes (used length of them). */
  const run = (readable: Uint8Array, resultBytes: number): Uint8Array => {
    const out = d.alloc(readable.length);
    const into = d.alloc(8 + resultBytes);
    b.memory.write(out as Hpa, readable);
    q.add([{ addr: out, len: readable.length }], [{ addr: into, len: 8 + resultBytes }], into);
    q.publish();
    d.kick(ADMINQ);
    const u = q.getUsed();
    if (u === undefined) throw new Error('admin command not completed');
    return b.memory.read(into as Hpa, u.len);
  };
  // LIST_USE on the SR-IOV group: opcodes 0..6 (lists and the legacy commands), bitmap 0x7f.
  const use = run(cmd(1, 1, 0, [0x7f, 0, 0, 0, 0, 0, 0, 0]), 0);
  expect([...use]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  return { b, pf, d, run };
}

const ok = (result: number[]): number[] => [0, 0, 0, 0, 0, 0, 0, 0, ...result];

describe('the PF admin virtqueue', () => {
  it('answers LIST_QUERY with status OK and bits 0 and 1 set, charges adminCommandNs, interrupts', () => {
    const { b, d, run } = pfWithAdminQueue();
    const t0 = b.clock.nowNs;
    const before = d.irq(4);
    const r = run(cmd(0, 1, 0), 8);
    expect(r.length).toBe(16);
    expect([...r.slice(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r[8]! & 0b11).toBe(0b11);
    expect(b.clock.nowNs - t0).toBeGreaterThanOrEqual(30_000);
    expect(d.irq(4)).toBe(before + 1);
  });

  it('an invalid member is EINVAL (22) / INVALID_MEMBER (5) in the status header', () => {
    const { run } = pfWithAdminQueue();
    expect([...run(cmd(3, 1, 9, [18]), 1)]).toEqual([22, 0, 5, 0, 0, 0, 0, 0]);
  });
});

describe('a VF legacy register view through the legacy admin commands', () => {
  it('reads and writes the legacy header at the offsets of facts 1.11', () => {
    const { run } = pfWithAdminQueue();
    const rd = (off: number, size: number) => [...run(cmd(3, 1, 1, [off]), size)];
    const wr = (off: number, data: number[]) => [
      ...run(cmd(2, 1, 1, [off, 0, 0, 0, 0, 0, 0, 0, ...data]), 0),
    ];
    // HOST_FEATURES @0: the VF's bits 0-31 plus ANY_LAYOUT (27): 0x30970028 | 0x08000000.
    expect(rd(0, 4)).toEqual(ok([0x28, 0x00, 0x97, 0x38]));
    // QUEUE_SEL @14 = 1, QUEUE_NUM @12 reads the queue size 256.
    expect(wr(14, [1, 0])).toEqual(ok([]));
    expect(rd(12, 2)).toEqual(ok([0x00, 0x01]));
    // STATUS @18 and ISR @19.
    expect(wr(18, [S.ACK | S.DRIVER])).toEqual(ok([]));
    expect(rd(18, 1)).toEqual(ok([S.ACK | S.DRIVER]));
    expect(rd(19, 1)).toEqual(ok([0]));
    // MSI-X is off: 20 is device config, so a common read there is refused; device config @0 is the mac.
    expect(rd(20, 2).slice(0, 1)).toEqual([22]);
    // An access across two fields (QUEUE_NUM and QUEUE_SEL) is refused.
    expect(rd(12, 4).slice(0, 1)).toEqual([22]);
    // LEGACY_NOTIFY_INFO: entry 0 = flags 2 (member BAR), bar 4, offset 0x3000; then END.
    const info = [...run(cmd(6, 1, 1), 64)];
    expect(info.slice(0, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(info.slice(8, 24)).toEqual([2, 4, 0, 0, 0, 0, 0, 0, 0x00, 0x30, 0, 0, 0, 0, 0, 0]);
    expect(info[24]).toBe(0);
    // Status 0 resets the VF.
    expect(wr(18, [0])).toEqual(ok([]));
    expect(rd(18, 1)).toEqual(ok([0]));
  });

  it('a legacy driver brings the VF up through the PF and sends a frame with a 10-byte header', () => {
    const { b, pf, run } = pfWithAdminQueue();
    const wr = (off: number, data: number[]) => run(cmd(2, 1, 1, [off, 0, 0, 0, 0, 0, 0, 0, ...data]), 0);
    const rdDev = (off: number, size: number) => [...run(cmd(5, 1, 1, [off]), size)].slice(8);
    const vf = vfAddress(b, pf, 1);
    b.fabric.configWrite(vf.rid, 0x04, 2, 0x0004); // Bus Master (the hypervisor's job)
    wr(18, [0]);
    wr(18, [S.ACK]);
    wr(18, [S.ACK | S.DRIVER]);
    wr(4, [1 << F.MAC, 0, 0, 0]); // GUEST_FEATURES: MAC only (no VERSION_1: legacy)
    const myMac = Array.from({ length: 6 }, (_, i) => rdDev(i, 1)[0]!);
    // TX queue 1: PFN of a 4096-aligned block; the legacy layout (desc, avail, used at the next 4 KiB).
    const base = 0x2000_0000n;
    const layout = legacyVirtqueueLayout(base, 256);
    expect(layout.usedAddr - base).toBe(0x2000n); // 16*256 + 2*(3+256) = 4614 -> 8192
    const tx = new VirtqueueDriver<void>(hostQueueMemory(b.memory), {
      size: 256,
      eventIdx: false,
      ...layout,
    });
    wr(14, [1, 0]);
    wr(8, [0x00, 0x00, 0x02, 0x00]); // PFN 0x20000 = 0x2000_0000 >> 12
    wr(18, [S.ACK | S.DRIVER | S.DRIVER_OK]);
    const f = frame(EXTERNAL_HOST, Uint8Array.from(myMac), [42]);
    const buf = 0x2010_0000n;
    b.memory.write(buf as Hpa, Uint8Array.of(...new Array(10).fill(0), ...f));
    tx.add([{ addr: buf, len: 10 + f.length }], [], undefined);
    tx.publish();
    // The notify address from NOTIFY_INFO: VF BAR4 + 0x3000, a 16-bit write of the queue index.
    b.fabric.mmioWrite(vf.bar4 + 0x3000n, 2, 1);
    expect(pf.model.readExternal()).toEqual([f]);
    expect(tx.getUsed()).toMatchObject({ len: 0 });
  });
});
