/**
 * Ring bytes against hand-built vectors (facts/virtio.md section 2): what the device reads from and
 * writes to literal offsets, what the driver writes, the legacy layout arithmetic, and notification
 * data. Expected values are written out here by hand, not computed by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { SplitQueue } from '../../src/hw/virtio/split-queue.js';
import { legacyVirtqueueLayout, VirtqueueDriver, virtqueueAreaBytes } from '../../src/vmm/guest/index.js';
import { ArrayQueueMemory } from './array-queue-memory.js';
import { hexBytes } from './ring-fixtures.js';

const DESC = 0x1000n;
const AVAIL = 0x2000n;
const USED = 0x3000n;
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('device side reads and writes the documented offsets', () => {
  function handBuiltQueue(eventIdx: boolean): ArrayQueueMemory {
    const mem = new ArrayQueueMemory();
    // desc[0]: addr 0x1_2345_6780, len 0x20, flags NEXT, next 2
    mem.write(DESC, bytes(0x80, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0x20, 0, 0, 0, 0x01, 0x00, 0x02, 0x00));
    // desc[2] at +32: addr 0x9000, len 0x100, flags WRITE, next 0
    mem.write(DESC + 32n, bytes(0x00, 0x90, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0x02, 0x00, 0x00, 0x00));
    // avail: flags 0, idx 1, ring[0] = 0
    mem.write(AVAIL, bytes(0x00, 0x00, 0x01, 0x00, 0x00, 0x00));
    if (eventIdx) mem.write(USED + 36n, bytes(0xee, 0xee)); // avail_event of a 4-entry ring: 4 + 8*4
    return mem;
  }

  it('decodes a two-descriptor chain and writes a used element then used.idx', () => {
    const mem = handBuiltQueue(false);
    const q = new SplitQueue(mem, {
      size: 4,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: false,
      indirect: false,
    });
    const chain = q.popAvailable();
    expect(chain).toEqual({
      head: 0,
      readable: [{ addr: 0x1_2345_6780n, len: 0x20 }],
      writable: [{ addr: 0x9000n, len: 0x100 }],
      readableBytes: 0x20,
      writableBytes: 0x100,
    });
    expect(q.popAvailable()).toBeUndefined();
    q.pushUsed(0, 0x37);
    // flags 0, idx 1, ring[0] = {id 0, len 0x37}
    expect(hexBytes(mem.read(USED, 12))).toBe('00 00 01 00 00 00 00 00 37 00 00 00');
  });

  it('writes avail_event at used + 4 + 8 * size when EVENT_IDX is on', () => {
    const mem = handBuiltQueue(true);
    const q = new SplitQueue(mem, {
      size: 4,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: true,
      indirect: false,
    });
    q.popAvailable();
    expect(hexBytes(mem.read(USED + 36n, 2))).toBe('01 00');
  });

  it('puts the second used element at ring[1] (offset 12) and wraps the slot at the queue size', () => {
    const mem = new ArrayQueueMemory();
    // Four one-descriptor chains, heads 3, 2, 1, 0 in the avail ring, then a fifth making head 3 again.
    for (let i = 0; i < 4; i++)
      mem.write(DESC + BigInt(16 * i), bytes(i, 0xa0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0));
    mem.write(AVAIL, bytes(0, 0, 4, 0, 3, 0, 2, 0, 1, 0, 0, 0));
    const q = new SplitQueue(mem, {
      size: 4,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: false,
      indirect: false,
    });
    const heads = [0, 1, 2, 3].map(() => q.popAvailable()!.head);
    expect(heads).toEqual([3, 2, 1, 0]);
    q.pushUsed(2, 1);
    q.pushUsed(3, 2);
    expect(hexBytes(mem.read(USED + 4n, 16))).toBe('02 00 00 00 01 00 00 00 03 00 00 00 02 00 00 00');
    q.pushUsed(1, 3);
    q.pushUsed(0, 4);
    // Slot 0 again for the fifth element (used idx 4 % 4).
    mem.write(AVAIL, bytes(0, 0, 5, 0, 1, 0));
    expect(q.popAvailable()!.head).toBe(1);
    q.pushUsed(1, 0x1234);
    expect(hexBytes(mem.read(USED, 12))).toBe('00 00 05 00 01 00 00 00 34 12 00 00');
  });
});

describe('driver side writes the documented bytes', () => {
  it('lays out descriptors, the avail ring entry, and avail.idx only on publish', () => {
    const mem = new ArrayQueueMemory();
    mem.write(DESC, new Uint8Array(64).fill(0xcc)); // the driver zeroes its areas
    const d = new VirtqueueDriver<string>(mem, {
      size: 4,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: false,
    });
    expect(hexBytes(mem.read(DESC, 16))).toBe('00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
    const head = d.add([{ addr: 0x5000n, len: 12 }], [{ addr: 0x6000n, len: 64 }], 'req');
    expect(head).toBe(0);
    expect(hexBytes(mem.read(DESC, 32))).toBe(
      '00 50 00 00 00 00 00 00 0c 00 00 00 01 00 01 00 00 60 00 00 00 00 00 00 40 00 00 00 02 00 00 00',
    );
    expect(hexBytes(mem.read(AVAIL, 6))).toBe('00 00 00 00 00 00');
    d.publish();
    expect(hexBytes(mem.read(AVAIL, 6))).toBe('00 00 01 00 00 00');
    expect(d.add([{ addr: 0x7000n, len: 8 }], [], 'second')).toBe(2);
    expect(hexBytes(mem.read(DESC + 32n, 16))).toBe('00 70 00 00 00 00 00 00 08 00 00 00 00 00 00 00');
    d.publish();
    expect(hexBytes(mem.read(AVAIL, 8))).toBe('00 00 02 00 00 00 02 00');
    // Device returns head 2 with len 0 (used idx 1).
    mem.write(USED, bytes(0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0));
    expect(d.getUsed()).toEqual({ id: 2, len: 0, token: 'second' });
    expect(d.getUsed()).toBeUndefined();
    expect(d.numFree).toBe(2);
  });

  it('writes an indirect table and a single INDIRECT descriptor pointing at it', () => {
    const mem = new ArrayQueueMemory();
    const d = new VirtqueueDriver(mem, {
      size: 4,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: false,
      indirectTables: { addr: 0x8000n, maxSegments: 4 },
    });
    d.add([{ addr: 0x5000n, len: 3 }], [{ addr: 0x6000n, len: 5 }]);
    // desc[0]: addr 0x8000 (table of head 0), len 32, flags INDIRECT
    expect(hexBytes(mem.read(DESC, 16))).toBe('00 80 00 00 00 00 00 00 20 00 00 00 04 00 00 00');
    expect(hexBytes(mem.read(0x8000n, 32))).toBe(
      '00 50 00 00 00 00 00 00 03 00 00 00 01 00 01 00 00 60 00 00 00 00 00 00 05 00 00 00 02 00 00 00',
    );
    expect(d.numFree).toBe(3);
    // Head 1's table starts 4 descriptors (64 bytes) further on.
    d.add(
      [
        { addr: 0x5100n, len: 1 },
        { addr: 0x5200n, len: 2 },
      ],
      [],
    );
    expect(hexBytes(mem.read(DESC + 16n, 16))).toBe('40 80 00 00 00 00 00 00 20 00 00 00 04 00 00 00');
  });

  it('writes the start index into avail.idx and used.idx', () => {
    const mem = new ArrayQueueMemory();
    new VirtqueueDriver(mem, {
      size: 4,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: true,
      startIdx: 0xfffe,
    });
    expect(hexBytes(mem.read(AVAIL, 4))).toBe('00 00 fe ff');
    expect(hexBytes(mem.read(USED, 4))).toBe('00 00 fe ff');
  });

  it('encodes notification data: vq index, next_off in bits 16-30, next_wrap in bit 31', () => {
    const mem = new ArrayQueueMemory();
    const d = new VirtqueueDriver(mem, {
      size: 8,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: false,
      startIdx: 0x8003,
    });
    d.add([{ addr: 0x5000n, len: 1 }], []);
    d.add([{ addr: 0x5000n, len: 1 }], []);
    d.publish(); // avail idx 0x8005
    expect(d.notificationData(3)).toBe(0x8005_0003);
    const low = new VirtqueueDriver(new ArrayQueueMemory(), {
      size: 8,
      descAddr: DESC,
      availAddr: AVAIL,
      usedAddr: USED,
      eventIdx: false,
      startIdx: 0x7fff,
    });
    expect(low.notificationData(0xffff)).toBe(0x7fff_ffff);
  });
});

describe('area sizes and the legacy layout', () => {
  it('sizes the areas as 16*q, 6+2*q, 6+8*q', () => {
    expect(virtqueueAreaBytes(256)).toEqual({
      descTableBytes: 4096,
      availRingBytes: 518,
      usedRingBytes: 2054,
    });
    expect(virtqueueAreaBytes(1)).toEqual({ descTableBytes: 16, availRingBytes: 8, usedRingBytes: 14 });
  });

  it.each([
    // qsz, used offset, total: desc+avail rounded up to 4096, then used rounded up to 4096
    [1, 0x1000, 0x2000], // 16 + 8 = 24 -> 4096; 14 -> 4096
    [128, 0x1000, 0x2000], // 2048 + 262 = 2310 -> 4096; 1030 -> 4096
    [256, 0x2000, 0x3000], // 4096 + 518 = 4614 -> 8192; 2054 -> 4096
    [1024, 0x5000, 0x8000], // 16384 + 2054 = 18438 -> 20480; 8198 -> 12288
    [32768, 0x91000, 0xd2000], // 524288 + 65542 = 589830 -> 593920; 262150 -> 266240
  ])('qsz %i: used at +%i, total %i bytes', (qsz, usedOffset, total) => {
    const l = legacyVirtqueueLayout(0x10_0000n, qsz);
    expect(l.descAddr).toBe(0x10_0000n);
    expect(l.availAddr).toBe(0x10_0000n + BigInt(16 * qsz));
    expect(l.usedAddr).toBe(0x10_0000n + BigInt(usedOffset));
    expect(l.totalBytes).toBe(total);
  });

  it('refuses a base that is not aligned or an alignment that is not a power of 2', () => {
    expect(() => legacyVirtqueueLayout(0x10_0800n, 256)).toThrow(/aligned/);
    expect(() => legacyVirtqueueLayout(0x10_0000n, 256, 3000)).toThrow(/power of 2/);
    expect(() => legacyVirtqueueLayout(0x10_0000n, 100)).toThrow(/queue size/);
  });

  it('places a legacy queue the device can run', () => {
    const mem = new ArrayQueueMemory();
    const l = legacyVirtqueueLayout(0x4_0000n, 16);
    const d = new VirtqueueDriver(mem, { ...l, size: 16, eventIdx: false });
    const q = new SplitQueue(mem, { ...l, size: 16, eventIdx: false, indirect: false });
    d.add([{ addr: 0x9000n, len: 4 }], []);
    d.publish();
    expect(q.popAvailable()?.readable).toEqual([{ addr: 0x9000n, len: 4 }]);
  });
});
