/**
 * For each of the four feature sets and every (current, requested) pair, the arcs the FSM makes the
 * driver run equal the path an independent oracle finds: a breadth-first search over the §1.3 arc list
 * (support.ts) with §1.3's path rules — shortest; saving-group states (PRE_COPY, PRE_COPY_P2P,
 * STOP_COPY) never interior unless both ends are saving states; STOP_COPY -> PRE_COPY(_P2P) is an
 * error — over all states, then with the states the device lacks skipped (§1.4: "the algorithm skips
 * unsupported states"). Unsupported targets and ERROR give EINVAL. The oracle also checks that the
 * shortest path is unique, and the union of arcs run per feature set must be §1.4's arc count.
 */
import { describe, expect, it } from 'vitest';
import { MigrationFsm, MigrationSetStateError } from '../../src/kernel/vfio/migration/index.js';
import {
  ALL,
  ALLOWED_ARCS,
  FEATURE_SETS,
  NAMES,
  P2P,
  PRE,
  S,
  SC,
  ScriptedDriver,
  type St,
  supports,
} from './support.js';

const SAVING = new Set<number>([S.PRE_COPY, S.PRE_COPY_P2P, S.STOP_COPY]);

/** All shortest paths from `a` to `b` under the rules; [] when there is none. */
function shortestPaths(a: St, b: St): St[][] {
  if (a === S.STOP_COPY && (b === S.PRE_COPY || b === S.PRE_COPY_P2P)) return [];
  const interiorOk = (s: St): boolean => !SAVING.has(s) || (SAVING.has(a) && SAVING.has(b));
  let frontier: St[][] = [[a]];
  const seen = new Set<St>([a]);
  while (frontier.length > 0) {
    const done = frontier.filter((p) => p[p.length - 1] === b);
    if (done.length > 0) return done;
    const next: St[][] = [];
    const reached = new Set<St>();
    for (const p of frontier) {
      const last = p[p.length - 1]!;
      if (p.length > 1 && !interiorOk(last)) continue;
      for (const [f, t] of ALLOWED_ARCS) {
        if (f !== last || seen.has(t)) continue;
        next.push([...p, t]);
        reached.add(t);
      }
    }
    for (const r of reached) seen.add(r);
    frontier = next;
  }
  return [];
}

/** The oracle: the path the device walks (states), or 'EINVAL'. */
function oracle(flags: number, cur: St, req: St): St[] | 'EINVAL' {
  if (cur === req) return [cur];
  if (!supports(flags, cur) || !supports(flags, req)) return 'EINVAL';
  const paths = shortestPaths(cur, req);
  if (paths.length === 0) return 'EINVAL';
  expect(paths, `${NAMES[cur]} -> ${NAMES[req]} has one shortest path`).toHaveLength(1);
  return paths[0]!.filter((s) => supports(flags, s));
}

/** Put a fresh FSM into `state` (ERROR through a failing arc). */
function fsmIn(flags: number, state: St): { fsm: MigrationFsm; driver: ScriptedDriver; warnings: string[] } {
  const driver = new ScriptedDriver(flags);
  const warnings: string[] = [];
  const fsm = MigrationFsm.register(driver, { warn: (t) => warnings.push(t) });
  if (state === S.ERROR) {
    driver.override = () => ({ kind: 'failed', errno: 'EIO', deviceState: 'ERROR' });
    expect(() => fsm.setState(S.STOP)).toThrow(MigrationSetStateError);
    driver.override = undefined;
  } else {
    fsm.setState(state);
  }
  expect(fsm.state).toBe(state);
  driver.arcs.length = 0;
  warnings.length = 0;
  return { fsm, driver, warnings };
}

const flagName = (f: number): string =>
  ['SC', (f & P2P) !== 0 ? 'P2P' : '', (f & PRE) !== 0 ? 'PRE_COPY' : ''].filter(Boolean).join('|');

/** §1.4 "Arcs the driver must implement", per feature set. */
const ARC_COUNT = new Map([
  [SC, 6],
  [SC | P2P, 8],
  [SC | PRE, 9],
  [SC | P2P | PRE, 15],
]);

describe.each(FEATURE_SETS.map((f) => [flagName(f), f] as const))('feature set %s', (_n, flags) => {
  const used = new Set<string>();
  for (const cur of ALL) {
    for (const req of ALL) {
      if (cur !== S.ERROR && !supports(flags, cur)) continue; // the device can never be there
      it(`${NAMES[cur]} -> ${NAMES[req]}`, () => {
        const expected = oracle(flags, cur, req);
        const { fsm, driver, warnings } = fsmIn(flags, cur);
        if (expected === 'EINVAL') {
          let err: unknown;
          try {
            fsm.setState(req);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(MigrationSetStateError);
          expect((err as MigrationSetStateError).errno).toBe('EINVAL');
          expect(driver.arcs).toEqual([]);
          expect(fsm.state).toBe(cur);
          // vfio_mig_get_next_state WARNs only when the current state is unsupported (ERROR).
          expect(warnings.length).toBe(cur === S.ERROR ? 1 : 0);
          return;
        }
        const out = fsm.setState(req);
        const arcs = expected.slice(1).map((to, i) => [expected[i], to]);
        expect(driver.arcs).toEqual(arcs);
        expect(out.path).toEqual(expected);
        expect(fsm.state).toBe(req);
        expect(warnings).toEqual([]);
        for (const [f, t] of arcs) used.add(`${NAMES[f!]}>${NAMES[t!]}`);
      });
    }
  }
  it('runs exactly as many distinct arcs as §1.4 lists for the set', () => {
    expect(used.size).toBe(ARC_COUNT.get(flags));
  });
});

describe('path spot checks from §1.4', () => {
  const run = (flags: number, cur: St, req: St): string[] => {
    const { fsm } = fsmIn(flags, cur);
    return fsm.setState(req).path.map((s) => NAMES[s]!);
  };
  it('full set', () => {
    const full = SC | P2P | PRE;
    expect(run(full, S.PRE_COPY, S.STOP_COPY)).toEqual(['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY']);
    expect(run(full, S.RESUMING, S.PRE_COPY)).toEqual([
      'RESUMING',
      'STOP',
      'RUNNING_P2P',
      'RUNNING',
      'PRE_COPY',
    ]);
    expect(run(full, S.STOP_COPY, S.RUNNING)).toEqual(['STOP_COPY', 'STOP', 'RUNNING_P2P', 'RUNNING']);
  });
  it('SC|PRE_COPY skips PRE_COPY_P2P and RUNNING_P2P', () => {
    expect(run(SC | PRE, S.PRE_COPY, S.STOP_COPY)).toEqual(['PRE_COPY', 'STOP_COPY']);
    expect(run(SC | PRE, S.STOP, S.PRE_COPY)).toEqual(['STOP', 'RUNNING', 'PRE_COPY']);
  });
  it('SC only', () => {
    expect(run(SC, S.RUNNING, S.STOP_COPY)).toEqual(['RUNNING', 'STOP', 'STOP_COPY']);
  });
});
