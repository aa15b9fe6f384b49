/**
 * ENABLE_HCA / DISABLE_HCA with op_mod 1 (a list of function ids), from hand-assembled bytes (layout
 * in src/spec/mnic-fw-commands.ts, MnicHcaListIn, written out here as numbers): the input and the event
 * entries byte for byte, every pair of vhca states for both commands against a table written from
 * facts/kernel.md 7.3 (both legal: both step, events in list order; one illegal: nothing changes and
 * no event), each refusal's status and syndrome with nothing changed, and the modeled cost.
 */
import { describe, expect, it } from 'vitest';
import { fnInput, fromHex, hex, inputBlock, pfWindow, type Rig, raw, rig, siovWindow } from './rig.js';

const ALLOCATED = 1;
const ACTIVE = 2;
const IN_USE = 3;
const TEARDOWN_REQUEST = 4;
const STATES = [ALLOCATED, ACTIVE, IN_USE, TEARDOWN_REQUEST] as const;

/** [from, command] → the states a function passes through, or undefined when refused (facts 7.3). */
const ARCS: ReadonlyMap<string, number[]> = new Map([
  [`${ALLOCATED}/enable`, [ACTIVE]],
  [`${ACTIVE}/disable`, [TEARDOWN_REQUEST, ALLOCATED]],
  [`${IN_USE}/disable`, [TEARDOWN_REQUEST]],
]);

const RING = 0x40_0000n;
const SIOV0 = 0x10000;

/** ENABLE_HCA (0x104) or DISABLE_HCA (0x105), op_mod 1, `ids`: header, count, ids, little-endian. */
function listInput(opcode: number, ids: readonly number[], opMod = 1, count = ids.length): Uint8Array {
  const b = new Uint8Array(16 + 4 * ids.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, opcode, true);
  v.setUint16(2, opMod, true);
  v.setUint32(8, count, true);
  ids.forEach((id, i) => {
    v.setUint32(16 + 4 * i, id, true);
  });
  return b;
}

/** CREATE_SIOV_FNS (0x122) of `n` (n ≤ 1: the answer fits inline). */
function createSiov(r: Rig, n: number): void {
  for (let i = 0; i < n; i++) expect(raw(pfWindow(r), fnInput(0x122, 1), 32).status).toBe(0);
}

function armRing(r: Rig, logSize: number): void {
  const w = pfWindow(r);
  w.write(0x080, Number(RING));
  w.write(0x084, 0);
  w.write(0x088, logSize);
  w.write(0x098, 1);
}

/** Events from ring slot `from` up to the producer index: [fnId, state]. */
function ringEvents(r: Rig, from: number, logSize = 4): Array<[number, number]> {
  const pi = pfWindow(r).read(0x094);
  const out: Array<[number, number]> = [];
  for (let i = from; i < pi; i++) {
    const e = r.memory.read((RING + BigInt((i % (1 << logSize)) * 16)) as never, 16);
    out.push([new DataView(e.buffer, e.byteOffset).getUint32(4, true), e[12]!]);
  }
  return out;
}

const state = (r: Rig, fnId: number): number => raw(pfWindow(r), fnInput(0x106, fnId), 16).inline[8]!;

/** Bring SIOV function `index` (ALLOCATED) to `to` with single commands. */
function reach(r: Rig, index: number, to: number): void {
  const fnId = SIOV0 + index;
  const own = siovWindow(r, index);
  const init = Uint8Array.of(0x02, 0x01, 0, 0, 0, 0, 0, 0);
  if (to >= ACTIVE) expect(raw(pfWindow(r), fnInput(0x104, fnId), 8).status).toBe(0);
  if (to >= IN_USE) expect(raw(own, init, 8).status).toBe(0);
  if (to === TEARDOWN_REQUEST) expect(raw(pfWindow(r), fnInput(0x105, fnId), 8).status).toBe(0);
  expect(state(r, fnId)).toBe(to);
}

describe('ENABLE_HCA list by hand', () => {
  it('two SIOV functions in one inline command: both ACTIVE, one event entry each in list order', () => {
    const r = rig();
    armRing(r, 4);
    createSiov(r, 2);
    // opcode 0x104, op_mod 1, count 2, ids 0x10001 and 0x10000 (list order is event order).
    const input = fromHex('0401 0100 00000000 02000000 00000000 01000100 00000100');
    expect(hex(input)).toBe(hex(listInput(0x104, [SIOV0 + 1, SIOV0])));
    const res = raw(pfWindow(r), input, 8);
    expect([res.ctrl, res.status, res.syndrome]).toEqual([0, 0, 0]);
    expect([state(r, SIOV0), state(r, SIOV0 + 1)]).toEqual([ACTIVE, ACTIVE]);
    // EQE: type 0x31, owner 1 (first pass), fnId, vhcaId (1 + 8 VFs + slot), state 2.
    expect(hex(r.memory.read(RING as never, 32))).toBe(
      '3101000001000100 0a00000002000000 3101000000000100 0900000002000000'.replace(/ /g, ''),
    );
    expect(pfWindow(r).read(0x094)).toBe(2);
  });

  it('a list beyond 32 bytes goes through an input mailbox block; DISABLE_HCA list likewise', () => {
    const r = rig({ maxSiovFns: 16 });
    armRing(r, 6);
    createSiov(r, 16);
    const ids = Array.from({ length: 16 }, (_, i) => SIOV0 + i);
    const enable = listInput(0x104, ids);
    inputBlock(r, 0x20_0000n, enable, 0x5a);
    expect(raw(pfWindow(r), enable, 8, { inMailbox: 0x20_0000n }).status).toBe(0);
    expect(ringEvents(r, 0, 6)).toEqual(ids.map((id) => [id, ACTIVE]));
    const disable = listInput(0x105, ids);
    inputBlock(r, 0x20_0000n, disable, 0x5a);
    expect(raw(pfWindow(r), disable, 8, { inMailbox: 0x20_0000n }).status).toBe(0);
    expect(ringEvents(r, 16, 6)).toEqual(
      ids.flatMap((id) => [
        [id, TEARDOWN_REQUEST],
        [id, ALLOCATED],
      ]),
    );
  });
});

describe.each(['enable', 'disable'] as const)('%s list of two functions: every pair of states', (cmd) => {
  const pairs = STATES.flatMap((a) => STATES.map((b) => [a, b] as const));
  it.each(pairs)('from (%i, %i)', (a, b) => {
    const r = rig();
    armRing(r, 4);
    createSiov(r, 2);
    reach(r, 0, a);
    reach(r, 1, b);
    const pi = pfWindow(r).read(0x094);
    const res = raw(pfWindow(r), listInput(cmd === 'enable' ? 0x104 : 0x105, [SIOV0, SIOV0 + 1]), 8);
    const pa = ARCS.get(`${a}/${cmd}`);
    const pb = ARCS.get(`${b}/${cmd}`);
    if (pa === undefined || pb === undefined) {
      expect([res.status, res.syndrome]).toEqual([0x09, 0x06]);
      expect([state(r, SIOV0), state(r, SIOV0 + 1)]).toEqual([a, b]);
      expect(ringEvents(r, pi)).toEqual([]);
    } else {
      expect(res.status).toBe(0);
      expect([state(r, SIOV0), state(r, SIOV0 + 1)]).toEqual([pa.at(-1), pb.at(-1)]);
      expect(ringEvents(r, pi)).toEqual([...pa.map((s) => [SIOV0, s]), ...pb.map((s) => [SIOV0 + 1, s])]);
    }
  });
});

describe('refusals change nothing', () => {
  const CASES: ReadonlyArray<[string, (r: Rig) => Uint8Array, number, number]> = [
    ['count 0', () => listInput(0x104, [], 1, 0), 0x03, 0x0b],
    ['count 65537', () => listInput(0x104, [SIOV0], 1, 0x10001), 0x03, 0x0b],
    ['count 3, two ids', () => listInput(0x104, [SIOV0, SIOV0 + 1], 1, 3), 0x50, 0x1a],
    ['an id with no function', () => listInput(0x104, [SIOV0, SIOV0 + 3]), 0x05, 0x03],
    ['the PF', () => listInput(0x104, [SIOV0, 0]), 0x03, 0x05],
    ['an id twice', () => listInput(0x104, [SIOV0, SIOV0 + 1, SIOV0]), 0x03, 0x0c],
    ['op_mod 2', () => listInput(0x104, [SIOV0], 2), 0x03, 0x04],
    [
      'a function already ACTIVE',
      (r) => {
        reach(r, 1, ACTIVE);
        return listInput(0x104, [SIOV0, SIOV0 + 1]);
      },
      0x09,
      0x06,
    ],
  ];

  it.each(CASES)('%s → status %i, syndrome %i', (_name, input, status, syndrome) => {
    const r = rig();
    armRing(r, 4);
    createSiov(r, 3);
    const bytes = input(r);
    const before = [state(r, SIOV0), state(r, SIOV0 + 1), state(r, SIOV0 + 2)];
    const pi = pfWindow(r).read(0x094);
    const res = raw(pfWindow(r), bytes, 8);
    expect([res.status, res.syndrome]).toEqual([status, syndrome]);
    expect([state(r, SIOV0), state(r, SIOV0 + 1), state(r, SIOV0 + 2)]).toEqual(before);
    expect(ringEvents(r, pi)).toEqual([]);
  });

  it('only the eswitch manager may send it (NOT_PERMITTED / NOT_MANAGER from a SIOV window)', () => {
    const r = rig();
    createSiov(r, 1);
    const res = raw(siovWindow(r, 0), listInput(0x104, [SIOV0]), 8);
    expect([res.status, res.syndrome]).toEqual([0x07, 0x02]);
    expect(state(r, SIOV0)).toBe(ALLOCATED);
  });
});

describe('events of a list that does not fit the ring', () => {
  it('with nobody consuming (no MSI-X), what fits is written and the rest is counted as overflow', () => {
    const r = rig();
    armRing(r, 2);
    createSiov(r, 4);
    const ids = [0, 1, 2, 3].map((i) => SIOV0 + i);
    expect(raw(pfWindow(r), listInput(0x104, ids), 8).status).toBe(0);
    expect(pfWindow(r).read(0x094)).toBe(4);
    expect(raw(pfWindow(r), listInput(0x105, ids), 8).status).toBe(0);
    // 8 more events, no room: every one dropped, every function still changed state.
    expect(pfWindow(r).read(0x094)).toBe(4);
    expect(pfWindow(r).read(0x09c)).toBe(8);
    expect(ids.map((id) => state(r, id))).toEqual([1, 1, 1, 1]);
  });
});

describe('modeled cost', () => {
  it('one command plus firmwarePerFunctionNs per id; the events are one DMA burst', () => {
    const costs = { firmwareCommandNs: 1_000, firmwarePerFunctionNs: 10, dmaLatencyNs: 500 };
    const r = rig({ costs });
    createSiov(r, 4);
    const ids = [0, 1, 2, 3].map((i) => SIOV0 + i);
    let t0 = r.clock.nowNs;
    expect(raw(pfWindow(r), listInput(0x104, ids), 8).status).toBe(0);
    expect(r.clock.nowNs - t0).toBeCloseTo(1_000 + 4 * 10, 6);
    armRing(r, 4);
    t0 = r.clock.nowNs;
    expect(raw(pfWindow(r), listInput(0x105, ids), 8).status).toBe(0);
    // 8 events, 128 bytes, one DMA write.
    expect(r.clock.nowNs - t0).toBeCloseTo(
      1_000 + 4 * 10 + 500 + (128 / r.costs.dmaBandwidthBytesPerSec) * 1e9,
      6,
    );
    // A refused list costs the command only.
    t0 = r.clock.nowNs;
    expect(raw(pfWindow(r), listInput(0x105, ids), 8).status).toBe(0x09);
    expect(r.clock.nowNs - t0).toBeCloseTo(1_000, 6);
  });
});
