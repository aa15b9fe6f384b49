/**
 * The device's checks of what the driver wrote (split-ring.tex "The Virtqueue Descriptor Table",
 * "Indirect Descriptors"): each malformed ring is hand-built with literal offsets and must raise the
 * matching typed fault, leave the queue's state unchanged, and let DMA faults through untouched.
 * Valid corner cases (WRITE on the table pointer, direct descriptors before an indirect one, exactly
 * 2^32 bytes) are accepted.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import {
  SplitQueue,
  type SplitQueueConfig,
  SplitQueueError,
  type SplitQueueFault,
} from '../../src/hw/virtio/split-queue.js';
import { ArrayQueueMemory } from './array-queue-memory.js';
import { F_INDIRECT, F_NEXT, F_WRITE, offer, putDesc, putU16, type RawDesc } from './ring-fixtures.js';

const DESC = 0x1_0000n;
const AVAIL = 0x2_0000n;
const USED = 0x3_0000n;
const TABLE = 0x4_0000n;
const SIZE = 4;

function rig(options: Partial<SplitQueueConfig> = {}) {
  const mem = new ArrayQueueMemory();
  const config: SplitQueueConfig = {
    size: SIZE,
    descAddr: DESC,
    availAddr: AVAIL,
    usedAddr: USED,
    eventIdx: false,
    indirect: true,
    ...options,
  };
  return { mem, q: new SplitQueue(mem, config) };
}

const buf = (flags: number, next = 0, len = 16): RawDesc => ({ addr: 0x9_0000n, len, flags, next });

function faultOf(f: () => unknown): SplitQueueFault {
  try {
    f();
  } catch (e) {
    if (e instanceof SplitQueueError) return e.fault;
    throw e;
  }
  throw new Error('expected a SplitQueueError');
}

/** Pop must fail with `expected`, twice (the queue state did not move), and nothing is in flight. */
function expectPopFault(q: SplitQueue, expected: SplitQueueFault): void {
  const before = q.saveState();
  expect(faultOf(() => q.popAvailable())).toEqual(expected);
  expect(q.saveState()).toEqual(before);
  expect(faultOf(() => q.popAvailable())).toEqual(expected);
}

describe('malformed chains', () => {
  it('avail idx more than the queue size ahead', () => {
    const { mem, q } = rig();
    putU16(mem, AVAIL + 2n, SIZE + 1);
    expectPopFault(q, { kind: 'avail-index-jump', lastAvailIdx: 0, availIdx: 5 });
    expect(faultOf(() => q.hasAvailable())).toMatchObject({ kind: 'avail-index-jump' });
    // Exactly the queue size ahead is a full ring, not a fault.
    putU16(mem, AVAIL + 2n, SIZE);
    for (let i = 0; i < SIZE; i++) putDesc(mem, DESC, i, buf(0));
    for (let i = 0; i < SIZE; i++) putU16(mem, AVAIL + 4n + BigInt(2 * i), i);
    expect([0, 1, 2, 3].map(() => q.popAvailable()?.head)).toEqual([0, 1, 2, 3]);
  });

  it('head index out of range', () => {
    const { mem, q } = rig();
    offer(mem, AVAIL, SIZE, [SIZE]);
    expectPopFault(q, { kind: 'index-out-of-range', head: 4, table: 'queue', index: 4, limit: 4 });
  });

  it('next index out of range', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 1, buf(F_NEXT, 7));
    offer(mem, AVAIL, SIZE, [1]);
    expectPopFault(q, { kind: 'index-out-of-range', head: 1, table: 'queue', index: 7, limit: 4 });
  });

  it('a loop in the descriptor table', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, buf(F_NEXT, 1));
    putDesc(mem, DESC, 1, buf(F_NEXT, 0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'chain-too-long', head: 0, table: 'queue', limit: 4 });
  });

  it('a descriptor that chains to itself', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 2, buf(F_NEXT | F_WRITE, 2));
    offer(mem, AVAIL, SIZE, [2]);
    expectPopFault(q, { kind: 'chain-too-long', head: 2, table: 'queue', limit: 4 });
  });

  it('a loop inside an indirect table', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len: 48, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, buf(F_NEXT, 2));
    putDesc(mem, TABLE, 2, buf(F_NEXT, 0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'chain-too-long', head: 0, table: 'indirect', limit: 3 });
  });

  it('an indirect chain longer than the queue size, without a loop', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len: 16 * 5, flags: F_INDIRECT, next: 0 });
    for (let i = 0; i < 4; i++) putDesc(mem, TABLE, i, buf(F_NEXT, i + 1));
    putDesc(mem, TABLE, 4, buf(0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'chain-too-long', head: 0, table: 'indirect', limit: 4 });
  });

  it('direct descriptors plus indirect entries longer than the queue size', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, buf(F_NEXT, 1));
    putDesc(mem, DESC, 1, buf(F_NEXT, 2));
    putDesc(mem, DESC, 2, { addr: TABLE, len: 48, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, buf(F_NEXT, 1));
    putDesc(mem, TABLE, 1, buf(F_NEXT, 2));
    putDesc(mem, TABLE, 2, buf(0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'chain-too-long', head: 0, table: 'indirect', limit: 4 });
  });

  it('a readable descriptor after a writable one', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, buf(F_WRITE | F_NEXT, 3));
    putDesc(mem, DESC, 3, buf(0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'readable-after-writable', head: 0, index: 3 });
  });

  it('a readable indirect entry after a writable direct descriptor', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, buf(F_WRITE | F_NEXT, 1));
    putDesc(mem, DESC, 1, { addr: TABLE, len: 16, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, buf(0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'readable-after-writable', head: 0, index: 0 });
  });

  it('INDIRECT without VIRTIO_F_INDIRECT_DESC', () => {
    const { mem, q } = rig({ indirect: false });
    putDesc(mem, DESC, 0, { addr: TABLE, len: 16, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, buf(0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'indirect-not-negotiated', head: 0, index: 0 });
  });

  it('INDIRECT together with NEXT', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len: 16, flags: F_INDIRECT | F_NEXT, next: 1 });
    putDesc(mem, DESC, 1, buf(0));
    putDesc(mem, TABLE, 0, buf(0));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'indirect-with-next', head: 0, index: 0 });
  });

  it('an indirect table inside an indirect table', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len: 32, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, buf(F_NEXT, 1));
    putDesc(mem, TABLE, 1, { addr: TABLE + 0x100n, len: 16, flags: F_INDIRECT, next: 0 });
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'indirect-nested', head: 0, index: 1 });
  });

  it.each([0, 8, 24, 17])('an indirect table of %i bytes', (len) => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len, flags: F_INDIRECT, next: 0 });
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'indirect-bad-length', head: 0, index: 0, len });
  });

  it('next index beyond the indirect table', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len: 32, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, buf(F_NEXT, 2));
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'index-out-of-range', head: 0, table: 'indirect', index: 2, limit: 2 });
  });

  it('a buffer or table running past the end of the 64-bit address space', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: 0xffff_ffff_ffff_fff8n, len: 9, flags: 0, next: 0 });
    offer(mem, AVAIL, SIZE, [0]);
    expectPopFault(q, { kind: 'buffer-beyond-address-space', head: 0, addr: 0xffff_ffff_ffff_fff8n, len: 9 });

    const r = rig();
    putDesc(r.mem, DESC, 1, { addr: 0xffff_ffff_ffff_fff0n, len: 32, flags: F_INDIRECT, next: 0 });
    offer(r.mem, AVAIL, SIZE, [1]);
    expectPopFault(r.q, {
      kind: 'buffer-beyond-address-space',
      head: 1,
      addr: 0xffff_ffff_ffff_fff0n,
      len: 32,
    });
  });

  it('a chain of more than 2^32 bytes (exactly 2^32 is allowed)', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: 0x1_0000_0000n, len: 0x8000_0000, flags: F_NEXT, next: 1 });
    putDesc(mem, DESC, 1, { addr: 0x2_0000_0000n, len: 0x8000_0000, flags: F_WRITE, next: 0 });
    offer(mem, AVAIL, SIZE, [0]);
    const chain = q.popAvailable()!;
    expect(chain.readableBytes + chain.writableBytes).toBe(2 ** 32);
    putDesc(mem, DESC, 2, { addr: 0x1_0000_0000n, len: 0xffff_ffff, flags: F_NEXT, next: 3 });
    putDesc(mem, DESC, 3, { addr: 0x2_0000_0000n, len: 2, flags: F_WRITE, next: 0 });
    offer(mem, AVAIL, SIZE, [2]);
    expectPopFault(q, { kind: 'chain-bytes-overflow', head: 2 });
  });

  it('a head made available again while still in flight', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, buf(0));
    offer(mem, AVAIL, SIZE, [0, 0]);
    expect(q.popAvailable()?.head).toBe(0);
    expectPopFault(q, { kind: 'head-in-flight', head: 0 });
    q.pushUsed(0, 0);
    expect(q.popAvailable()?.head).toBe(0);
  });

  it('reports every fault as a bad-input LabError with a message', () => {
    const { mem, q } = rig();
    offer(mem, AVAIL, SIZE, [9]);
    try {
      q.popAvailable();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SplitQueueError);
      expect(isLabError(e) && e.code).toBe('bad-input');
      expect((e as Error).message).toMatch(/queue descriptor index 9 out of range/);
    }
  });
});

describe('valid chains a careful device must still accept', () => {
  it('ignores WRITE on the descriptor that points at the table', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len: 32, flags: F_INDIRECT | F_WRITE, next: 0 });
    putDesc(mem, TABLE, 0, { addr: 0xa000n, len: 4, flags: F_NEXT, next: 1 });
    putDesc(mem, TABLE, 1, { addr: 0xb000n, len: 8, flags: F_WRITE, next: 0 });
    offer(mem, AVAIL, SIZE, [0]);
    expect(q.popAvailable()).toMatchObject({
      readable: [{ addr: 0xa000n, len: 4 }],
      writable: [{ addr: 0xb000n, len: 8 }],
    });
  });

  it('takes direct descriptors followed by one indirect descriptor', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 3, { addr: 0xa000n, len: 4, flags: F_NEXT, next: 1 });
    putDesc(mem, DESC, 1, { addr: TABLE, len: 48, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, { addr: 0xa100n, len: 5, flags: F_NEXT, next: 2 });
    putDesc(mem, TABLE, 2, { addr: 0xb000n, len: 6, flags: F_WRITE | F_NEXT, next: 1 });
    putDesc(mem, TABLE, 1, { addr: 0xb100n, len: 7, flags: F_WRITE, next: 0 });
    offer(mem, AVAIL, SIZE, [3]);
    expect(q.popAvailable()).toEqual({
      head: 3,
      readable: [
        { addr: 0xa000n, len: 4 },
        { addr: 0xa100n, len: 5 },
      ],
      writable: [
        { addr: 0xb000n, len: 6 },
        { addr: 0xb100n, len: 7 },
      ],
      readableBytes: 9,
      writableBytes: 13,
    });
  });

  it('accepts a chain exactly as long as the queue and zero-length buffers', () => {
    const { mem, q } = rig();
    for (let i = 0; i < 3; i++) putDesc(mem, DESC, i, buf(F_NEXT, i + 1, 0));
    putDesc(mem, DESC, 3, buf(F_WRITE, 0, 0));
    offer(mem, AVAIL, SIZE, [0]);
    const chain = q.popAvailable()!;
    expect([chain.readable.length, chain.writable.length, chain.readableBytes]).toEqual([3, 1, 0]);
  });
});

describe('DMA faults and bad configuration', () => {
  it('lets a DMA fault through and keeps the state', () => {
    const { mem, q } = rig();
    putDesc(mem, DESC, 0, { addr: TABLE, len: 16, flags: F_INDIRECT, next: 0 });
    putDesc(mem, TABLE, 0, buf(0));
    offer(mem, AVAIL, SIZE, [0]);
    mem.failAccesses(TABLE, 16);
    const before = q.saveState();
    let error: unknown;
    try {
      q.popAvailable();
    } catch (e) {
      error = e;
    }
    expect(error).not.toBeInstanceOf(SplitQueueError);
    expect(isLabError(error) && error.errno).toBe('EFAULT');
    expect(q.saveState()).toEqual(before);
    mem.clearFaults();
    expect(q.popAvailable()?.head).toBe(0);
  });

  it.each<[Partial<SplitQueueConfig>, SplitQueueFault]>([
    [{ size: 0 }, { kind: 'bad-queue-size', size: 0 }],
    [{ size: 3 }, { kind: 'bad-queue-size', size: 3 }],
    [{ size: 65536 }, { kind: 'bad-queue-size', size: 65536 }],
    [{ size: 2.5 }, { kind: 'bad-queue-size', size: 2.5 }],
    [
      { descAddr: 0x1_0008n },
      { kind: 'misaligned-area', area: 'descriptor table', addr: 0x1_0008n, align: 16 },
    ],
    [
      { availAddr: 0x2_0001n },
      { kind: 'misaligned-area', area: 'available ring', addr: 0x2_0001n, align: 2 },
    ],
    [{ usedAddr: 0x3_0002n }, { kind: 'misaligned-area', area: 'used ring', addr: 0x3_0002n, align: 4 }],
    [{ usedAddr: -4n }, { kind: 'area-beyond-address-space', area: 'used ring', addr: -4n }],
    // A 4-entry used ring is 6 + 32 = 38 bytes: the last 4-aligned start that fits is 2^64 - 40.
    [
      { usedAddr: 0xffff_ffff_ffff_ffdcn },
      { kind: 'area-beyond-address-space', area: 'used ring', addr: 0xffff_ffff_ffff_ffdcn },
    ],
  ])('refuses configuration %o', (config, fault) => {
    expect(faultOf(() => rig(config))).toEqual(fault);
  });

  it('accepts the highest ring address that fits and the largest queue', () => {
    expect(() => rig({ usedAddr: 0xffff_ffff_ffff_ffd8n })).not.toThrow();
    expect(() => rig({ size: 32768 })).not.toThrow();
  });
});
