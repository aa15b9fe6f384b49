/**
 * Driver and device on one in-memory address space: requests travel through the rings and come
 * back with the device's answer, across the 16-bit index wrap, with indirect tables, out of order;
 * and a device that breaks the used ring breaks the driver's queue until reset.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import { type DescriptorChain, SplitQueue } from '../../src/hw/virtio/split-queue.js';
import {
  VirtqueueDriver,
  VirtqueueDriverError,
  type VirtqueueDriverFault,
} from '../../src/vmm/guest/index.js';
import { ArrayQueueMemory } from './array-queue-memory.js';
import { getDesc, getU16, putU16, putUsedElem, ringFields } from './ring-fixtures.js';

const DESC = 0x1_0000n;
const AVAIL = 0x2_0000n;
const USED = 0x3_0000n;
const TABLES = 0x4_0000n;
const DATA = 0x10_0000n;

interface Rig {
  mem: ArrayQueueMemory;
  driver: VirtqueueDriver<number>;
  device: SplitQueue;
}

function rig(size: number, opts: { eventIdx?: boolean; indirect?: boolean; startIdx?: number } = {}): Rig {
  const mem = new ArrayQueueMemory();
  const eventIdx = opts.eventIdx ?? false;
  const startIdx = opts.startIdx ?? 0;
  const areas = { descAddr: DESC, availAddr: AVAIL, usedAddr: USED };
  const driver = new VirtqueueDriver<number>(mem, {
    ...areas,
    size,
    eventIdx,
    startIdx,
    ...(opts.indirect ? { indirectTables: { addr: TABLES, maxSegments: 4 } } : {}),
  });
  const device = new SplitQueue(mem, { ...areas, size, eventIdx, indirect: opts.indirect ?? false });
  if (startIdx !== 0) {
    device.restoreState({ ...device.saveState(), lastAvailIdx: startIdx, usedIdx: startIdx });
  }
  return { mem, driver, device };
}

/** Request n: out = [n, n+1, ..., n+7] split over two segments, in = 16 bytes split over two. */
function request(mem: ArrayQueueMemory, n: number) {
  const base = DATA + BigInt(n * 0x100);
  const payload = Uint8Array.from({ length: 8 }, (_, i) => (n + i) & 0xff);
  mem.write(base, payload);
  return {
    out: [
      { addr: base, len: 3 },
      { addr: base + 3n, len: 5 },
    ],
    in: [
      { addr: base + 0x80n, len: 6 },
      { addr: base + 0x90n, len: 10 },
    ],
    payload,
  };
}

/** The device's work: answer with the request reversed, then its length, and report bytes written. */
function serve(device: SplitQueue, chain: DescriptorChain): void {
  const got = device.gatherReadable(chain);
  const answer = Uint8Array.from([...got].reverse().concat([got.length]));
  device.pushUsed(chain.head, device.scatterWritable(chain, answer));
}

function expectAnswer(mem: ArrayQueueMemory, n: number, len: number): void {
  const base = DATA + BigInt(n * 0x100);
  const expected = Uint8Array.from({ length: 8 }, (_, i) => (n + 7 - i) & 0xff);
  expect(len).toBe(9);
  const written = new Uint8Array([...mem.read(base + 0x80n, 6), ...mem.read(base + 0x90n, 3)]);
  expect(written).toEqual(Uint8Array.from([...expected, 8]));
}

/** Send `total` requests, keeping the ring as full as it goes; returns completions in arrival order. */
function pump(r: Rig, total: number, indirect?: boolean): number[] {
  const done: number[] = [];
  let sent = 0;
  while (done.length < total) {
    const progress = sent + done.length;
    while (sent < total) {
      const req = request(r.mem, sent);
      const need = indirect ? 1 : req.out.length + req.in.length;
      if (r.driver.numFree < need) break;
      r.driver.add(req.out, req.in, sent, indirect === undefined ? {} : { indirect });
      sent++;
    }
    r.driver.publish();
    for (let chain = r.device.popAvailable(); chain; chain = r.device.popAvailable()) serve(r.device, chain);
    for (let used = r.driver.getUsed(); used; used = r.driver.getUsed()) {
      expectAnswer(r.mem, used.token, used.len);
      done.push(used.token);
    }
    if (sent + done.length === progress) throw new Error(`no progress after ${done.length} of ${total}`);
  }
  return done;
}

describe('round trips', () => {
  it('carries 1000 requests through an 8-entry queue in order', () => {
    const r = rig(8);
    const order = pump(r, 1000);
    expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(r.driver.numFree).toBe(8);
    expect(r.driver.inFlightCount).toBe(0);
    expect(r.device.inFlightHeads).toEqual([]);
    expect(r.device.lastAvailIdx).toBe(1000);
    expect(r.device.usedIdx).toBe(1000);
  });

  it('wraps the 16-bit indexes past 65535', () => {
    const r = rig(4, { startIdx: 65530, eventIdx: true });
    expect(pump(r, 40)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const f = ringFields(AVAIL, USED, 4);
    // 65530 + 40 = 65570 = 34 (mod 65536)
    expect(getU16(r.mem, f.availIdx)).toBe(34);
    expect(getU16(r.mem, f.usedIdx)).toBe(34);
    expect([r.device.lastAvailIdx, r.device.usedIdx, r.driver.availIdx, r.driver.lastUsedIdx]).toEqual([
      34, 34, 34, 34,
    ]);
  });

  it('uses indirect tables: one ring descriptor per request', () => {
    const r = rig(4, { indirect: true });
    r.driver.add(request(r.mem, 0).out, request(r.mem, 0).in, 0);
    expect(r.driver.numFree).toBe(3);
    expect(getDesc(r.mem, DESC, 0)).toEqual({ addr: TABLES, len: 64, flags: 4, next: 0 });
    r.driver.publish();
    const chain = r.device.popAvailable()!;
    expect(chain.readable.length + chain.writable.length).toBe(4);
    serve(r.device, chain);
    expect(r.driver.getUsed()).toEqual({ id: 0, len: 9, token: 0 });
    expect(pump(r, 100, true)).toHaveLength(100);
    expect(r.driver.numFree).toBe(4);
  });

  it('mixes direct and indirect buffers', () => {
    const r = rig(8, { indirect: true });
    const order: number[] = [];
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 3; k++) {
        const n = round * 3 + k;
        const req = request(r.mem, n);
        r.driver.add(req.out, req.in, n, { indirect: k !== 1 });
      }
      r.driver.publish();
      for (let c = r.device.popAvailable(); c; c = r.device.popAvailable()) serve(r.device, c);
      for (let u = r.driver.getUsed(); u; u = r.driver.getUsed()) {
        expectAnswer(r.mem, u.token, u.len);
        order.push(u.token);
      }
    }
    expect(order).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('returns buffers completed out of order with their own tokens and lengths', () => {
    const r = rig(8);
    for (let n = 0; n < 4; n++) r.driver.add([], [{ addr: DATA + BigInt(n * 0x100), len: 64 }], n);
    r.driver.publish();
    const chains = [0, 1, 2, 3].map(() => r.device.popAvailable()!);
    for (const i of [2, 0, 3, 1]) r.device.pushUsed(chains[i]!.head, 10 + i);
    const got = [0, 1, 2, 3].map(() => r.driver.getUsed());
    expect(got.map((u) => [u?.token, u?.len])).toEqual([
      [2, 12],
      [0, 10],
      [3, 13],
      [1, 11],
    ]);
    expect(r.driver.numFree).toBe(8);
  });

  it('gathers at most limitBytes and scatters from an offset', () => {
    const r = rig(4);
    const req = request(r.mem, 1);
    r.driver.add(req.out, req.in, 1);
    r.driver.publish();
    const chain = r.device.popAvailable()!;
    expect(r.device.gatherReadable(chain, 4)).toEqual(req.payload.subarray(0, 4));
    expect(r.device.gatherReadable(chain, 100)).toEqual(req.payload);
    // Writable part: 6 bytes at +0x80, 10 at +0x90. Offset 4 starts 2 bytes before the second segment.
    expect(r.device.scatterWritable(chain, Uint8Array.of(1, 2, 3, 4), 4)).toBe(4);
    expect([...r.mem.read(DATA + 0x100n + 0x84n, 2), ...r.mem.read(DATA + 0x100n + 0x90n, 2)]).toEqual([
      1, 2, 3, 4,
    ]);
    expect(r.device.scatterWritable(chain, new Uint8Array(20), 0)).toBe(16);
    expect(r.device.scatterWritable(chain, new Uint8Array(20), 16)).toBe(0);
    expect(() => r.device.gatherReadable(chain, -1)).toThrow(/byte count/);
  });

  it('refuses to complete a head that is not in flight, or a length beyond 32 bits', () => {
    const r = rig(4);
    expect(() => r.device.pushUsed(0, 0)).toThrow(/not in flight/);
    r.driver.add([{ addr: DATA, len: 1 }], [], 0);
    r.driver.publish();
    const c = r.device.popAvailable()!;
    expect(() => r.device.pushUsed(c.head, 2 ** 32)).toThrow(/32-bit/);
    r.device.pushUsed(c.head, 0);
    expect(() => r.device.pushUsed(c.head, 0)).toThrow(/not in flight/);
  });
});

describe('driver bookkeeping', () => {
  it('runs out of descriptors with ENOSPC and recovers when buffers come back', () => {
    const r = rig(4);
    r.driver.add([{ addr: DATA, len: 1 }], [{ addr: DATA + 8n, len: 1 }], 0);
    r.driver.add([{ addr: DATA, len: 1 }], [], 1);
    expect(r.driver.numFree).toBe(1);
    let error: unknown;
    try {
      r.driver.add([{ addr: DATA, len: 1 }], [{ addr: DATA, len: 1 }], 2);
    } catch (e) {
      error = e;
    }
    expect(isLabError(error) && error.errno).toBe('ENOSPC');
    expect(r.driver.numFree).toBe(1);
    r.driver.publish();
    const c = r.device.popAvailable()!;
    r.device.pushUsed(c.head, 1);
    expect(r.driver.getUsed()?.token).toBe(0);
    expect(r.driver.numFree).toBe(3);
    r.driver.add(
      [{ addr: DATA, len: 1 }],
      [
        { addr: DATA, len: 1 },
        { addr: DATA, len: 1 },
      ],
      2,
    );
    expect(r.driver.numFree).toBe(0);
  });

  it('refuses buffers it cannot describe', () => {
    const r = rig(4);
    expect(() => r.driver.add([], [], 0)).toThrow(/at least one segment/);
    expect(() => r.driver.add([{ addr: DATA, len: 2 ** 32 }], [], 0)).toThrow(/32-bit/);
    expect(() => r.driver.add([{ addr: 0xffff_ffff_ffff_ffffn, len: 2 }], [], 0)).toThrow(/address space/);
    expect(() => r.driver.add([{ addr: DATA, len: 1 }], [], 0, { indirect: true })).toThrow(
      /no indirect tables/,
    );
    const five = Array.from({ length: 5 }, () => ({ addr: DATA, len: 1 }));
    expect(() => r.driver.add(five, [], 0)).toThrow(/chain limit of 4/);
    const big = [
      { addr: DATA, len: 0xffff_ffff },
      { addr: DATA, len: 2 },
    ];
    expect(() => r.driver.add(big, [], 0)).toThrow(/2\^32/);
    expect(r.driver.numFree).toBe(4);
  });

  it('refuses bad layouts', () => {
    const mem = new ArrayQueueMemory();
    const base = { size: 4, descAddr: DESC, availAddr: AVAIL, usedAddr: USED, eventIdx: false };
    expect(() => new VirtqueueDriver(mem, { ...base, size: 6 })).toThrow(/queue size/);
    expect(() => new VirtqueueDriver(mem, { ...base, descAddr: DESC + 8n })).toThrow(/16-byte aligned/);
    expect(() => new VirtqueueDriver(mem, { ...base, usedAddr: USED + 2n })).toThrow(/4-byte aligned/);
    expect(() => new VirtqueueDriver(mem, { ...base, availAddr: DESC + 32n })).toThrow(/overlap/);
    expect(() => new VirtqueueDriver(mem, { ...base, startIdx: 65536 })).toThrow(/start index/);
    const tables = { addr: TABLES, maxSegments: 5 };
    expect(() => new VirtqueueDriver(mem, { ...base, indirectTables: tables })).toThrow(/maxSegments/);
  });
});

describe('a device that breaks the used ring', () => {
  function brokenBy(write: (r: Rig) => void): { r: Rig; fault: VirtqueueDriverFault } {
    const r = rig(4);
    r.driver.add([{ addr: DATA, len: 1 }], [], 10);
    r.driver.add([{ addr: DATA, len: 1 }], [], 11);
    r.driver.publish();
    r.driver.add([{ addr: DATA, len: 1 }], [], 12); // added, not published
    write(r);
    try {
      r.driver.getUsed();
    } catch (e) {
      if (e instanceof VirtqueueDriverError) return { r, fault: e.fault };
      throw e;
    }
    throw new Error('expected a VirtqueueDriverError');
  }

  it.each<[string, (r: Rig) => void, VirtqueueDriverFault]>([
    [
      'used idx beyond what was published',
      (r) => putU16(r.mem, USED + 2n, 3),
      { kind: 'used-index-jump', lastUsedIdx: 0, usedIdx: 3, outstanding: 2 },
    ],
    [
      'an id that is not a descriptor index',
      (r) => {
        putUsedElem(r.mem, USED, 0, 4, 0);
        putU16(r.mem, USED + 2n, 1);
      },
      { kind: 'used-id-out-of-range', id: 4 },
    ],
    [
      'an id that is not a head (second descriptor of nothing)',
      (r) => {
        putUsedElem(r.mem, USED, 0, 3, 0);
        putU16(r.mem, USED + 2n, 1);
      },
      { kind: 'used-id-not-in-flight', id: 3 },
    ],
    [
      'an id that was added but never published',
      (r) => {
        putUsedElem(r.mem, USED, 0, 2, 0);
        putU16(r.mem, USED + 2n, 1);
      },
      { kind: 'used-id-not-in-flight', id: 2 },
    ],
  ])('%s', (_, write, expected) => {
    const { r, fault } = brokenBy(write);
    expect(fault).toEqual(expected);
    expect(r.driver.broken?.fault).toEqual(expected);
    expect(() => r.driver.publish()).toThrow(/broken/);
    expect(() => r.driver.add([{ addr: DATA, len: 1 }], [], 13)).toThrow(/broken/);
    expect(r.driver.reset().sort()).toEqual([10, 11, 12]);
    expect(r.driver.broken).toBeUndefined();
    expect(r.driver.numFree).toBe(4);
    expect(r.driver.inFlightCount).toBe(0);
    expect([getU16(r.mem, AVAIL + 2n), getU16(r.mem, USED + 2n)]).toEqual([0, 0]);
  });

  it('reports a used id twice as not in flight the second time', () => {
    const r = rig(4);
    r.driver.add([{ addr: DATA, len: 1 }], [], 1);
    r.driver.add([{ addr: DATA, len: 1 }], [], 2);
    r.driver.publish();
    putUsedElem(r.mem, USED, 0, 0, 0);
    putUsedElem(r.mem, USED, 1, 0, 0);
    putU16(r.mem, USED + 2n, 2);
    expect(r.driver.getUsed()?.token).toBe(1);
    expect(() => r.driver.getUsed()).toThrow(VirtqueueDriverError);
  });
});
