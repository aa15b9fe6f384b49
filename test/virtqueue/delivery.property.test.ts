/**
 * Property: whatever the driver adds and publishes and whatever the device takes and completes, in
 * any interleaving, every buffer reaches the device once with exactly the segments the driver gave,
 * comes back to the driver once with the device's length, in completion order (so in add order when
 * the device completes in order), and the descriptor accounting returns to a full free list.
 * Queue sizes 1..16, indexes starting anywhere (near 65535 included), with and without EVENT_IDX
 * and indirect tables.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DescriptorChain, SplitQueue } from '../../src/hw/virtio/split-queue.js';
import { type BufferSegment, VirtqueueDriver } from '../../src/vmm/guest/index.js';
import { ArrayQueueMemory } from './array-queue-memory.js';

const DESC = 0x1_0000n;
const AVAIL = 0x2_0000n;
const USED = 0x3_0000n;
const TABLES = 0x4_0000n;
const DATA = 0x100_0000n;
const MAX_SEGMENTS = 4;

type Op =
  | { kind: 'add'; outs: number; ins: number; indirect: boolean | undefined }
  | { kind: 'publish' }
  | { kind: 'pop'; count: number }
  | { kind: 'complete'; pick: number }
  | { kind: 'collect' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      outs: fc.integer({ min: 0, max: 3 }),
      ins: fc.integer({ min: 0, max: 3 }),
      indirect: fc.constantFrom(true, false, undefined),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'publish' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('pop' as const), count: fc.integer({ min: 1, max: 4 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'collect' as const }) },
);

const setupArb: fc.Arbitrary<Setup> = fc.record({
  size: fc.constantFrom(1, 2, 4, 8, 16),
  startIdx: fc.oneof(fc.integer({ min: 65520, max: 65535 }), fc.integer({ min: 0, max: 65535 })),
  eventIdx: fc.boolean(),
  indirectTables: fc.boolean(),
});

/** Segment i of buffer `token`: its address says whose it is; its length says which it is. */
function segmentsOf(token: number, outs: number, ins: number): { out: BufferSegment[]; in: BufferSegment[] } {
  const seg = (i: number): BufferSegment => ({
    addr: DATA + BigInt(token) * 0x1000n + BigInt(i) * 0x100n,
    len: i + 1,
  });
  return {
    out: Array.from({ length: outs }, (_, i) => seg(i)),
    in: Array.from({ length: ins }, (_, i) => seg(outs + i)),
  };
}

const tokenOf = (c: DescriptorChain): number =>
  Number(((c.readable[0] ?? c.writable[0])!.addr - DATA) / 0x1000n);

interface Setup {
  size: number;
  startIdx: number;
  eventIdx: boolean;
  indirectTables: boolean;
}

function run(setup: Setup, ops: Op[], inOrder: boolean): void {
  const { size, startIdx, eventIdx } = setup;
  const mem = new ArrayQueueMemory();
  const areas = { descAddr: DESC, availAddr: AVAIL, usedAddr: USED };
  const tables = setup.indirectTables
    ? { addr: TABLES, maxSegments: Math.min(size, MAX_SEGMENTS) }
    : undefined;
  const driver = new VirtqueueDriver<number>(mem, {
    ...areas,
    size,
    eventIdx,
    startIdx,
    indirectTables: tables,
  });
  const device = new SplitQueue(mem, { ...areas, size, eventIdx, indirect: setup.indirectTables });
  device.restoreState({ ...device.saveState(), lastAvailIdx: startIdx, usedIdx: startIdx });

  const shapes = new Map<number, { outs: number; ins: number; descs: number }>();
  const added: number[] = [];
  let publishedCount = 0;
  const popped: number[] = [];
  const inFlight: DescriptorChain[] = [];
  const completed: Array<[number, number]> = [];
  const collected: Array<[number, number]> = [];
  let descsInUse = 0;

  const step = (op: Op): void => {
    switch (op.kind) {
      case 'add': {
        const total = op.outs + op.ins;
        const token = added.length;
        const segs = segmentsOf(token, op.outs, op.ins);
        const indirect = op.indirect ?? (tables !== undefined && total > 1);
        const limit = indirect ? Math.min(size, tables?.maxSegments ?? 0) : size;
        const need = indirect ? 1 : total;
        const call = () =>
          driver.add(segs.out, segs.in, token, op.indirect === undefined ? {} : { indirect: op.indirect });
        if (total === 0 || (indirect && !tables) || total > limit) {
          expect(call).toThrow();
        } else if (need > driver.numFree) {
          expect(call).toThrow(expect.objectContaining({ errno: 'ENOSPC' }));
        } else {
          call();
          shapes.set(token, { outs: op.outs, ins: op.ins, descs: need });
          added.push(token);
          descsInUse += need;
        }
        break;
      }
      case 'publish':
        driver.publish();
        publishedCount = added.length;
        break;
      case 'pop':
        for (let i = 0; i < op.count; i++) {
          const chain = device.popAvailable();
          if (!chain) {
            expect(popped.length).toBe(publishedCount);
            break;
          }
          const token = tokenOf(chain);
          const shape = shapes.get(token)!;
          const segs = segmentsOf(token, shape.outs, shape.ins);
          expect([chain.readable, chain.writable]).toEqual([segs.out, segs.in]);
          popped.push(token);
          inFlight.push(chain);
        }
        break;
      case 'complete': {
        if (inFlight.length === 0) break;
        const [chain] = inFlight.splice(inOrder ? 0 : op.pick % inFlight.length, 1);
        const len = chain!.writableBytes > 0 ? (tokenOf(chain!) % chain!.writableBytes) + 1 : 0;
        device.pushUsed(chain!.head, len);
        completed.push([tokenOf(chain!), len]);
        break;
      }
      case 'collect':
        for (let u = driver.getUsed(); u; u = driver.getUsed()) {
          collected.push([u.token, u.len]);
          descsInUse -= shapes.get(u.token)!.descs;
        }
        break;
    }
    expect(driver.numFree).toBe(size - descsInUse);
    expect(driver.inFlightCount).toBe(added.length - collected.length);
    // The device sees buffers in the order they were published.
    expect(popped).toEqual(added.slice(0, popped.length));
  };

  for (const op of ops) step(op);
  // Drain: publish everything, take it all, complete it all, collect it all.
  step({ kind: 'publish' });
  for (let i = 0; i <= size; i++) step({ kind: 'pop', count: size });
  while (inFlight.length > 0) step({ kind: 'complete', pick: 0 });
  step({ kind: 'collect' });

  expect(popped).toEqual(added);
  expect(collected).toEqual(completed);
  expect(collected.map(([t]) => t).sort((a, b) => a - b)).toEqual(added);
  if (inOrder) expect(collected.map(([t]) => t)).toEqual(added);
  expect(driver.numFree).toBe(size);
  expect(device.inFlightHeads).toEqual([]);
  const end = (startIdx + added.length) & 0xffff;
  expect([driver.availIdx, device.lastAvailIdx, device.usedIdx, driver.lastUsedIdx]).toEqual([
    end,
    end,
    end,
    end,
  ]);
}

describe('every buffer is delivered exactly once', () => {
  it('in add order when the device completes in order', () => {
    fc.assert(
      fc.property(setupArb, fc.array(opArb, { maxLength: 80 }), (setup, ops) => run(setup, ops, true)),
      { numRuns: 200 },
    );
  });

  it('in completion order when the device completes out of order', () => {
    fc.assert(
      fc.property(setupArb, fc.array(opArb, { maxLength: 80 }), (setup, ops) => run(setup, ops, false)),
      { numRuns: 200 },
    );
  });
});
