/**
 * The split queue's saved state: a round trip carries configuration and ring progress (in-flight
 * heads included) to a fresh queue that then finishes the work; saving reads and changes nothing;
 * a hostile saved state is refused with a bad-input error and leaves the queue as it was.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import {
  SplitQueue,
  type SplitQueueConfig,
  type SplitQueueSavedState,
} from '../../src/hw/virtio/split-queue.js';
import { VirtqueueDriver } from '../../src/vmm/guest/index.js';
import { ArrayQueueMemory } from './array-queue-memory.js';

const config: SplitQueueConfig = {
  size: 8,
  descAddr: 0x1_0000n,
  availAddr: 0x2_0000n,
  usedAddr: 0x3_0000n,
  eventIdx: true,
  indirect: true,
};

/** Driver and device with 5 buffers published, 4 popped, 2 of those completed (heads in flight). */
function busyQueue() {
  const mem = new ArrayQueueMemory();
  const driver = new VirtqueueDriver<number>(mem, {
    ...config,
    startIdx: 65533,
    indirectTables: { addr: 0x4_0000n, maxSegments: 2 },
  });
  const device = new SplitQueue(mem, config);
  device.restoreState({ ...device.saveState(), lastAvailIdx: 65533, usedIdx: 65533 });
  for (let n = 0; n < 5; n++)
    driver.add([{ addr: 0x9000n, len: 4 }], [{ addr: 0xa000n + BigInt(n * 16), len: 16 }], n);
  driver.publish();
  const chains = [0, 1, 2, 3].map(() => device.popAvailable()!);
  device.pushUsed(chains[1]!.head, 1);
  device.pushUsed(chains[3]!.head, 3);
  return { mem, driver, device, chains };
}

describe('saveState / restoreState', () => {
  it('round-trips configuration and progress, and the restored queue finishes the work', () => {
    const { mem, driver, device, chains } = busyQueue();
    const saved = device.saveState();
    expect(saved).toEqual({
      version: 1,
      config,
      lastAvailIdx: 1, // 65533 + 4
      usedIdx: 65535, // 65533 + 2
      inFlightHeads: [chains[0]!.head, chains[2]!.head],
      availNotifications: true,
    });

    const other = new SplitQueue(mem, { ...config, size: 2, eventIdx: false, indirect: false });
    other.restoreState(structuredClone(saved));
    expect(other.saveState()).toEqual(saved);
    expect(other.config).toEqual(config);
    // The restored device rebuilds its in-flight chains from guest memory and completes them.
    for (const head of other.inFlightHeads) {
      const chain = other.readChain(head);
      expect(chain).toEqual(chains.find((c) => c.head === head));
      other.pushUsed(head, 2);
    }
    const fifth = other.popAvailable()!;
    other.pushUsed(fifth.head, 5);
    expect(other.popAvailable()).toBeUndefined();
    const tokens: number[] = [];
    for (let u = driver.getUsed(); u; u = driver.getUsed()) tokens.push(u.token);
    expect(tokens).toEqual([1, 3, 0, 2, 4]);
    expect(driver.numFree).toBe(8);
  });

  it('saving reads no memory and changes nothing', () => {
    const { mem, device } = busyQueue();
    const before = mem.snapshot();
    const accesses = mem.accesses;
    const a = device.saveState();
    const b = device.saveState();
    expect(a).toEqual(b);
    expect(mem.accesses).toBe(accesses);
    expect(mem.snapshot()).toEqual(before);
    (a.inFlightHeads as number[]).push(7); // the saved copy is not the queue's own list
    expect(device.inFlightHeads).toHaveLength(2);
  });

  it('restoring touches no guest memory', () => {
    const { mem, device } = busyQueue();
    const saved = device.saveState();
    const accesses = mem.accesses;
    device.restoreState(saved);
    expect(mem.accesses).toBe(accesses);
  });
});

describe('hostile saved state', () => {
  const good = (): SplitQueueSavedState => busyQueue().device.saveState();
  const withConfig = (c: Record<string, unknown>): unknown => ({ ...good(), config: { ...config, ...c } });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 42, /not an object/],
    ['null', null, /not an object/],
    ['an array', [], /not an object/],
    ['another version', { ...good(), version: 2 }, /unsupported version 2/],
    ['a missing field', (({ usedIdx: _, ...rest }) => rest)(good()), /lacks field 'usedIdx'/],
    ['an unknown field', { ...good(), extra: 1 }, /unknown field 'extra'/],
    ['a config that is not an object', { ...good(), config: 'x' }, /config is not an object/],
    ['size 0', withConfig({ size: 0 }), /bad config/],
    ['size 3', withConfig({ size: 3 }), /bad config/],
    ['size 65536', withConfig({ size: 65536 }), /bad config/],
    ['size as a string', withConfig({ size: '8' }), /size must be an integer/],
    ['an address as a number', withConfig({ descAddr: 0x1_0000 }), /descAddr must be a bigint/],
    ['a negative address', withConfig({ availAddr: -2n }), /bad config/],
    ['an address past 2^64', withConfig({ usedAddr: 1n << 64n }), /bad config/],
    ['a misaligned descriptor table', withConfig({ descAddr: 0x1_0004n }), /bad config/],
    ['eventIdx as a number', withConfig({ eventIdx: 1 }), /eventIdx must be a boolean/],
    [
      'lastAvailIdx 65536',
      { ...good(), lastAvailIdx: 65536 },
      /lastAvailIdx must be an integer in 0\.\.65535/,
    ],
    ['usedIdx -1', { ...good(), usedIdx: -1 }, /usedIdx must be/],
    ['usedIdx 1.5', { ...good(), usedIdx: 1.5 }, /usedIdx must be/],
    ['in-flight count not matching the indexes', { ...good(), inFlightHeads: [0] }, /1 heads in flight/],
    ['in-flight heads not an array', { ...good(), inFlightHeads: 'x' }, /must be an array/],
    ['an in-flight head beyond the queue', { ...good(), inFlightHeads: [0, 8] }, /head 8 out of range/],
    ['an in-flight head that is not a number', { ...good(), inFlightHeads: [0, '1'] }, /head 1 out of range/],
    ['a duplicated in-flight head', { ...good(), inFlightHeads: [3, 3] }, /listed twice/],
    [
      'more in flight than the queue holds',
      { ...good(), lastAvailIdx: 20, usedIdx: 0, inFlightHeads: Array.from({ length: 20 }, (_, i) => i % 8) },
      /out of range|listed twice/,
    ],
    ['availNotifications missing a boolean', { ...good(), availNotifications: 'yes' }, /availNotifications/],
  ])('refuses %s and keeps its state', (_, hostile, message) => {
    const { device } = busyQueue();
    const before = device.saveState();
    let error: unknown;
    try {
      device.restoreState(hostile);
    } catch (e) {
      error = e;
    }
    expect(isLabError(error) && error.code).toBe('bad-input');
    expect((error as Error).message).toMatch(message);
    expect(device.saveState()).toEqual(before);
  });
});
