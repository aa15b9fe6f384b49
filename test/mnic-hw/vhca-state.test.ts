/**
 * The vhca state machine of an SF and a SIOV function, table-driven: every (state, command) pair
 * against a table written from facts/kernel.md 7.3 and the arcs documented in vhca-fsm.ts, driven
 * through hand-assembled commands (ENABLE/DISABLE_HCA from the PF's window, INIT/TEARDOWN_HCA from the
 * function's own window); illegal pairs are BAD_RES_STATE (0x09) and change nothing. The events each
 * legal step posts are read back from the event ring in host memory.
 */
import { describe, expect, it } from 'vitest';
import { fnInput, pfWindow, type Rig, raw, rig, sfWindow, siovWindow, type Window } from './rig.js';

const ALLOCATED = 1;
const ACTIVE = 2;
const IN_USE = 3;
const TEARDOWN_REQUEST = 4;
type Cmd = 'enable' | 'disable' | 'init' | 'teardown';

/** [from, command] → the states passed through (events), or 'refused'. */
const TABLE: ReadonlyArray<[number, Cmd, number[] | 'refused']> = [
  [ALLOCATED, 'enable', [ACTIVE]],
  [ALLOCATED, 'disable', 'refused'],
  [ALLOCATED, 'init', 'refused'],
  [ALLOCATED, 'teardown', 'refused'],
  [ACTIVE, 'enable', 'refused'],
  [ACTIVE, 'disable', [TEARDOWN_REQUEST, ALLOCATED]],
  [ACTIVE, 'init', [IN_USE]],
  [ACTIVE, 'teardown', 'refused'],
  [IN_USE, 'enable', 'refused'],
  [IN_USE, 'disable', [TEARDOWN_REQUEST]],
  [IN_USE, 'init', 'refused'],
  [IN_USE, 'teardown', [ACTIVE]],
  [TEARDOWN_REQUEST, 'enable', 'refused'],
  [TEARDOWN_REQUEST, 'disable', 'refused'],
  [TEARDOWN_REQUEST, 'init', 'refused'],
  [TEARDOWN_REQUEST, 'teardown', [ALLOCATED]],
];

/** How to reach a state from ALLOCATED. */
const PATH: Readonly<Record<number, Cmd[]>> = {
  [ALLOCATED]: [],
  [ACTIVE]: ['enable'],
  [IN_USE]: ['enable', 'init'],
  [TEARDOWN_REQUEST]: ['enable', 'init', 'disable'],
};

const RING = 0x40_0000n;

/** Arm a 16-entry event ring at RING: base 0x080/0x084, log size 0x088, vector 0x08c, enable 0x098. */
function armRing(w: Window): void {
  w.write(0x080, Number(RING));
  w.write(0x084, 0);
  w.write(0x088, 4);
  w.write(0x08c, 0);
  w.write(0x098, 1);
}

/** Events in the ring from `from` to the producer index (0x094): [fnId, state] per entry. */
function ringEvents(r: Rig, from: number): Array<[number, number]> {
  const pi = pfWindow(r).read(0x094);
  const out: Array<[number, number]> = [];
  for (let i = from; i < pi; i++) {
    const e = r.memory.read((RING + BigInt((i % 16) * 16)) as never, 16);
    expect(e[0]).toBe(0x31);
    expect(e[1]).toBe(((i >> 4) & 1) ^ 1);
    out.push([new DataView(e.buffer).getUint32(4, true), e[12]!]);
  }
  return out;
}

interface Subject {
  readonly fnId: number;
  readonly own: Window;
}

function step(r: Rig, s: Subject, cmd: Cmd): number {
  switch (cmd) {
    case 'enable':
      return raw(pfWindow(r), fnInput(0x104, s.fnId), 8).status;
    case 'disable':
      return raw(pfWindow(r), fnInput(0x105, s.fnId), 8).status;
    case 'init':
      return raw(s.own, Uint8Array.of(0x02, 0x01, 0, 0, 0, 0, 0, 0), 8).status;
    case 'teardown':
      return raw(s.own, Uint8Array.of(0x03, 0x01, 0, 0, 0, 0, 0, 0), 8).status;
  }
}

function state(r: Rig, fnId: number): number {
  return raw(pfWindow(r), fnInput(0x106, fnId), 16).inline[8]!;
}

const SUBJECTS: ReadonlyArray<[string, (r: Rig) => Subject]> = [
  [
    'SF',
    (r) => {
      expect(
        raw(pfWindow(r), Uint8Array.of(0x20, 0x01, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0), 16).status,
      ).toBe(0);
      return { fnId: 0x8000, own: sfWindow(r, 0) };
    },
  ],
  [
    'SIOV function',
    (r) => {
      expect(
        raw(pfWindow(r), Uint8Array.of(0x22, 0x01, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), 32).status,
      ).toBe(0);
      return { fnId: 0x10000, own: siovWindow(r, 0) };
    },
  ],
];

describe.each(SUBJECTS)('%s vhca states', (_name, make) => {
  it.each(TABLE.map(([from, cmd, want]) => [from, cmd, want] as const))(
    'from %i, %s → %j',
    (from, cmd, want) => {
      const r = rig();
      armRing(pfWindow(r));
      const s = make(r);
      expect(state(r, s.fnId)).toBe(ALLOCATED);
      for (const c of PATH[from]!) expect(step(r, s, c)).toBe(0);
      expect(state(r, s.fnId)).toBe(from);
      const before = pfWindow(r).read(0x094);
      const status = step(r, s, cmd);
      if (want === 'refused') {
        expect(status).toBe(0x09);
        expect(state(r, s.fnId)).toBe(from);
        expect(ringEvents(r, before)).toEqual([]);
      } else {
        expect(status).toBe(0);
        expect(state(r, s.fnId)).toBe(want[want.length - 1]);
        expect(ringEvents(r, before)).toEqual(want.map((st) => [s.fnId, st]));
      }
    },
  );
});

describe('vhca commands on the PF and missing functions', () => {
  it('ENABLE/DISABLE_HCA of the PF itself is BAD_PARAM/PF_TARGET', () => {
    const r = rig();
    const w = pfWindow(r);
    expect([raw(w, fnInput(0x104, 0), 8).status, raw(w, fnInput(0x104, 0), 8).syndrome]).toEqual([
      0x03, 0x05,
    ]);
    expect(raw(w, fnInput(0x105, 0), 8).status).toBe(0x03);
  });

  it('the PF initialises and tears down itself: ACTIVE → IN_USE → ACTIVE', () => {
    const r = rig();
    const w = pfWindow(r);
    expect(raw(w, Uint8Array.of(0x02, 0x01, 0, 0, 0, 0, 0, 0), 8).status).toBe(0);
    expect(state(r, 0)).toBe(IN_USE);
    expect(raw(w, Uint8Array.of(0x03, 0x01, 0, 0, 0, 0, 0, 0), 8).status).toBe(0);
    expect(state(r, 0)).toBe(ACTIVE);
  });

  it('DEALLOC_SF needs ALLOCATED (RESOURCE_BUSY otherwise); a freed index is reused', () => {
    const r = rig();
    const w = pfWindow(r);
    raw(w, Uint8Array.of(0x20, 0x01, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0), 16);
    raw(w, fnInput(0x104, 0x8000), 8);
    expect(raw(w, fnInput(0x121, 0x8000), 8).status).toBe(0x06);
    raw(w, fnInput(0x105, 0x8000), 8);
    expect(raw(w, fnInput(0x121, 0x8000), 8).status).toBe(0);
    expect(raw(w, fnInput(0x106, 0x8000), 16).status).toBe(0x05);
    const again = raw(w, Uint8Array.of(0x20, 0x01, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0), 16);
    expect(new DataView(again.inline.buffer).getUint32(8, true)).toBe(0x8000);
  });

  it('an event ring that fills counts overflows; consuming makes room again', () => {
    const r = rig();
    const w = pfWindow(r);
    w.write(0x080, Number(RING));
    w.write(0x088, 1);
    w.write(0x098, 1);
    raw(w, Uint8Array.of(0x20, 0x01, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0), 16);
    raw(w, fnInput(0x104, 0x8000), 8); // ACTIVE
    raw(w, fnInput(0x105, 0x8000), 8); // TEARDOWN_REQUEST, ALLOCATED: the second does not fit
    expect(w.read(0x094)).toBe(2);
    expect(w.read(0x09c)).toBe(1);
    w.write(0x090, 2);
    raw(w, fnInput(0x104, 0x8000), 8);
    expect(w.read(0x094)).toBe(3);
    // Third entry: slot 0 again, second pass → owner 0.
    expect(r.memory.read(RING as never, 2)).toEqual(Uint8Array.of(0x31, 0x00));
  });
});
