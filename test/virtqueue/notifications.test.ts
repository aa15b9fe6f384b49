/**
 * Notification suppression (split-ring.tex "Used Buffer Notification Suppression" and "Available
 * Buffer Notification Suppression"; facts/virtio.md section 2): the wrap-safe event test against
 * hand-computed cases and a brute-force oracle, the device's interrupt decision from avail.flags or
 * used_event, the driver's kick decision from used.flags or avail_event, and the flags and event
 * fields each side writes. Ring fields are read and written at literal offsets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SplitQueue, vringNeedEvent } from '../../src/hw/virtio/split-queue.js';
import { VirtqueueDriver } from '../../src/vmm/guest/index.js';
import { ArrayQueueMemory } from './array-queue-memory.js';
import { F_WRITE, getU16, offer, putDesc, putU16, ringFields } from './ring-fixtures.js';

const DESC = 0x1000n;
const AVAIL = 0x2000n;
const USED = 0x3000n;
const SIZE = 8;
const f = ringFields(AVAIL, USED, SIZE);

describe('vring_need_event', () => {
  it.each([
    // event, new, old, expected: (u16)(new - event - 1) < (u16)(new - old)
    [0, 1, 0, true], // 0 < 1
    [1, 1, 0, false], // 65535 < 1
    [9, 10, 0, true], // 0 < 10
    [5, 10, 0, true], // 4 < 10
    [10, 10, 0, false], // 65535 < 10
    [10, 5, 0, false], // 65530 < 5
    [7, 7, 7, false], // nothing written: 65535 < 0
    [65535, 2, 65534, true], // 2 < 4 (entries 65534, 65535, 0, 1)
    [0, 2, 65534, true], // 1 < 4
    [1, 2, 65534, true], // 0 < 4
    [2, 2, 65534, false], // 65535 < 4
    [65533, 2, 65534, false], // 4 < 4: the event was before this batch
    [100, 50000, 0, true], // a long batch covers it: 49899 < 50000
  ])('need_event(event %i, new %i, old %i) = %s', (event, newIdx, oldIdx, expected) => {
    expect(vringNeedEvent(event, newIdx, oldIdx)).toBe(expected);
  });

  it('is true exactly when event is one of old..new-1 (mod 2^16)', () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(u16, u16, fc.integer({ min: 0, max: 2 * SIZE }), (event, old, batch) => {
        const newIdx = (old + batch) & 0xffff;
        let covered = false;
        for (let i = 0; i < batch; i++) if (((old + i) & 0xffff) === event) covered = true;
        expect(vringNeedEvent(event, newIdx, old)).toBe(covered);
      }),
    );
  });
});

function deviceRig(eventIdx: boolean) {
  const mem = new ArrayQueueMemory();
  for (let i = 0; i < SIZE; i++) putDesc(mem, DESC, i, { addr: 0x9000n, len: 4, flags: F_WRITE, next: 0 });
  const q = new SplitQueue(mem, {
    size: SIZE,
    descAddr: DESC,
    availAddr: AVAIL,
    usedAddr: USED,
    eventIdx,
    indirect: false,
  });
  /** Offer `n` heads, pop and complete them all. */
  const complete = (heads: number[]): void => {
    offer(mem, AVAIL, SIZE, heads);
    for (const h of heads) {
      expect(q.popAvailable()?.head).toBe(h);
      q.pushUsed(h, 0);
    }
  };
  return { mem, q, complete };
}

describe('device: used buffer notifications', () => {
  it('without EVENT_IDX follows avail.flags NO_INTERRUPT', () => {
    const { mem, q, complete } = deviceRig(false);
    expect(q.needsInterrupt()).toBe(false); // nothing used yet
    complete([0]);
    expect(q.needsInterrupt()).toBe(true);
    expect(q.needsInterrupt()).toBe(false); // nothing new since
    putU16(mem, f.availFlags, 1);
    complete([1, 2]);
    expect(q.needsInterrupt()).toBe(false);
    putU16(mem, f.availFlags, 0);
    complete([3]);
    expect(q.needsInterrupt()).toBe(true);
  });

  it('with EVENT_IDX follows used_event and ignores avail.flags', () => {
    const { mem, q, complete } = deviceRig(true);
    putU16(mem, f.availFlags, 1); // must be ignored
    complete([0]); // used idx 0 -> 1, used_event 0
    expect(q.needsInterrupt()).toBe(true);
    complete([1]); // 1 -> 2: entry 1 written, used_event still 0
    expect(q.needsInterrupt()).toBe(false);
    putU16(mem, f.usedEvent, 4);
    complete([2, 3]); // entries 2, 3
    expect(q.needsInterrupt()).toBe(false);
    complete([4, 5, 6]); // entries 4, 5, 6: 4 among them
    expect(q.needsInterrupt()).toBe(true);
  });

  it('with EVENT_IDX across the 16-bit wrap', () => {
    const { mem, q, complete } = deviceRig(true);
    q.restoreState({ ...q.saveState(), lastAvailIdx: 65534, usedIdx: 65534 });
    putU16(mem, f.availIdx, 65534);
    putU16(mem, f.usedIdx, 65534);
    expect(q.needsInterrupt()).toBe(true); // first check after a restore: unknown, so yes
    putU16(mem, f.usedEvent, 0);
    complete([0, 1]); // entries 65534, 65535
    expect(q.needsInterrupt()).toBe(false);
    complete([2]); // entry 0
    expect(q.needsInterrupt()).toBe(true);
    expect(getU16(mem, f.usedIdx)).toBe(1);
  });
});

describe('device: available buffer notifications', () => {
  it('without EVENT_IDX sets and clears used.flags NO_NOTIFY', () => {
    const { mem, q } = deviceRig(false);
    q.disableAvailNotifications();
    expect(getU16(mem, f.usedFlags)).toBe(1);
    offer(mem, AVAIL, SIZE, [5]);
    expect(q.enableAvailNotifications()).toBe(true); // a buffer is waiting: take it, no kick will come
    expect(getU16(mem, f.usedFlags)).toBe(0);
    q.popAvailable();
    expect(q.enableAvailNotifications()).toBe(false);
  });

  it('with EVENT_IDX moves avail_event on each pop while enabled, never used.flags', () => {
    const { mem, q } = deviceRig(true);
    offer(mem, AVAIL, SIZE, [0, 1, 2]);
    q.popAvailable();
    expect(getU16(mem, f.availEvent)).toBe(1);
    q.disableAvailNotifications();
    q.popAvailable();
    expect(getU16(mem, f.availEvent)).toBe(1); // frozen while disabled
    expect(q.enableAvailNotifications()).toBe(true); // entry 2 is waiting
    expect(getU16(mem, f.availEvent)).toBe(3); // set to avail.idx
    q.popAvailable();
    expect(getU16(mem, f.availEvent)).toBe(3);
    expect(getU16(mem, f.usedFlags)).toBe(0);
  });
});

function driverRig(eventIdx: boolean, startIdx = 0) {
  const mem = new ArrayQueueMemory();
  const d = new VirtqueueDriver<number>(mem, {
    size: SIZE,
    descAddr: DESC,
    availAddr: AVAIL,
    usedAddr: USED,
    eventIdx,
    startIdx,
  });
  const addMany = (n: number): void => {
    for (let i = 0; i < n; i++) d.add([{ addr: 0x9000n, len: 1 }], [], i);
    d.publish();
  };
  return { mem, d, addMany };
}

describe('driver: kicks', () => {
  it('without EVENT_IDX follows used.flags NO_NOTIFY', () => {
    const { mem, d, addMany } = driverRig(false);
    expect(d.kickNeeded()).toBe(false); // nothing published
    addMany(1);
    expect(d.kickNeeded()).toBe(true);
    putU16(mem, f.usedFlags, 1);
    addMany(2);
    expect(d.kickNeeded()).toBe(false);
    putU16(mem, f.usedFlags, 0);
    d.add([{ addr: 0x9000n, len: 1 }], [], 9);
    expect(d.kickNeeded()).toBe(false); // added but not published
    d.publish();
    expect(d.kickNeeded()).toBe(true);
  });

  it('with EVENT_IDX follows avail_event and ignores used.flags', () => {
    const { mem, d, addMany } = driverRig(true);
    putU16(mem, f.usedFlags, 1); // must be ignored
    addMany(1); // entry 0, avail_event 0
    expect(d.kickNeeded()).toBe(true);
    addMany(1); // entry 1
    expect(d.kickNeeded()).toBe(false);
    putU16(mem, f.availEvent, 3);
    addMany(2); // entries 2, 3
    expect(d.kickNeeded()).toBe(true);
  });

  it('with EVENT_IDX across the 16-bit wrap', () => {
    const { mem, d, addMany } = driverRig(true, 65534);
    putU16(mem, f.availEvent, 65535);
    addMany(3); // entries 65534, 65535, 0
    expect(d.kickNeeded()).toBe(true);
    expect(getU16(mem, f.availIdx)).toBe(1);
    const other = driverRig(true, 65534);
    putU16(other.mem, f.availEvent, 2);
    other.addMany(3);
    expect(other.d.kickNeeded()).toBe(false);
  });
});

describe('driver: used buffer notification control', () => {
  it('without EVENT_IDX writes avail.flags', () => {
    const { mem, d } = driverRig(false);
    d.disableUsedNotifications();
    expect(getU16(mem, f.availFlags)).toBe(1);
    expect(d.enableUsedNotifications()).toBe(false);
    expect(getU16(mem, f.availFlags)).toBe(0);
  });

  it('with EVENT_IDX writes used_event after each used buffer and when re-enabled', () => {
    const { mem, d, addMany } = driverRig(true);
    addMany(3);
    // The device returns heads 0 and 1 (hand-written used ring).
    mem.write(f.usedElem(0), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
    putU16(mem, f.usedIdx, 2);
    d.getUsed();
    expect(getU16(mem, f.usedEvent)).toBe(1);
    d.disableUsedNotifications();
    expect(getU16(mem, f.availFlags)).toBe(0); // flags stay 0 with EVENT_IDX
    d.getUsed();
    expect(getU16(mem, f.usedEvent)).toBe(1); // not moved while disabled
    expect(d.enableUsedNotifications()).toBe(false);
    expect(getU16(mem, f.usedEvent)).toBe(2);
    putU16(mem, f.usedIdx, 3);
    expect(d.enableUsedNotifications()).toBe(true); // one is waiting
  });
});
