/**
 * runConcurrently (src/base/scheduler.ts), the modeled-time scheduler benchmarks use: makespans and
 * completion times worked out by hand, bounds any schedule must respect, and determinism.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runConcurrently, type ScheduledTask, VirtualClock } from '../../src/base/index.js';

const MS = 1_000_000;
const S = 1_000_000_000;

describe('hand-computed schedules', () => {
  it('1000 tasks of one 100 ms step on one lock: 100 s, completions in task order', () => {
    const clock = new VirtualClock();
    const tasks: ScheduledTask[] = Array.from({ length: 1000 }, (_, i) => ({
      name: `flr${i}`,
      steps: [{ costNs: 100 * MS, lock: 'dev_set' }],
    }));
    const r = runConcurrently(clock, tasks);
    expect(r.startNs).toBe(0);
    expect(r.makespanNs).toBe(100 * S);
    expect(clock.nowNs).toBe(100 * S);
    expect(r.completions[0]).toEqual({ name: 'flr0', doneNs: 100 * MS });
    expect(r.completions[1]).toEqual({ name: 'flr1', doneNs: 200 * MS });
    expect(r.completions[999]).toEqual({ name: 'flr999', doneNs: 100 * S });
    r.completions.forEach((c, i) => {
      expect(c.doneNs).toBe((i + 1) * 100 * MS);
    });
  });

  it('the same 1000 tasks without a lock: 100 ms', () => {
    const clock = new VirtualClock();
    const tasks: ScheduledTask[] = Array.from({ length: 1000 }, (_, i) => ({
      name: `flr${i}`,
      steps: [{ costNs: 100 * MS }],
    }));
    const r = runConcurrently(clock, tasks);
    expect(r.makespanNs).toBe(100 * MS);
    expect(new Set(r.completions.map((c) => c.doneNs))).toEqual(new Set([100 * MS]));
  });

  it('one lock per device: 10 devices x 100 tasks of 100 ms is 10 s', () => {
    const tasks: ScheduledTask[] = Array.from({ length: 1000 }, (_, i) => ({
      name: `t${i}`,
      steps: [{ costNs: 100 * MS, lock: `dev${i % 10}` }],
    }));
    expect(runConcurrently(new VirtualClock(), tasks).makespanNs).toBe(10 * S);
  });

  it('two locks and multi-step tasks', () => {
    // Worked by hand (times in ms):
    //   t0: A 10 [0,10)          B 20 [30,50)  -> 50 (B busy with t2 until 30)
    //   t1: A 10 [10,20)         B 20 [50,70)  -> 70
    //   t2: B 30 [0,30)                        -> 30
    //   t3: free 5 [0,5)         A 10 [20,30)  -> 30 (A held by t0 then t1)
    const tasks: ScheduledTask[] = [
      {
        name: 't0',
        steps: [
          { costNs: 10 * MS, lock: 'A' },
          { costNs: 20 * MS, lock: 'B' },
        ],
      },
      {
        name: 't1',
        steps: [
          { costNs: 10 * MS, lock: 'A' },
          { costNs: 20 * MS, lock: 'B' },
        ],
      },
      { name: 't2', steps: [{ costNs: 30 * MS, lock: 'B' }] },
      { name: 't3', steps: [{ costNs: 5 * MS }, { costNs: 10 * MS, lock: 'A' }] },
    ];
    const r = runConcurrently(new VirtualClock(), tasks);
    expect(r.completions).toEqual([
      { name: 't0', doneNs: 50 * MS },
      { name: 't1', doneNs: 70 * MS },
      { name: 't2', doneNs: 30 * MS },
      { name: 't3', doneNs: 30 * MS },
    ]);
    expect(r.makespanNs).toBe(70 * MS);
  });

  it('a lock-free step does not wait for a lock another task holds', () => {
    // probe: lock L 100 ms for both; each then does 50 ms of lock-free work.
    //   a: L [0,100)  free [100,150) -> 150
    //   b: L [100,200) free [200,250) -> 250
    //   c: free 30 [0,30) then free 30 [30,60) -> 60
    const tasks: ScheduledTask[] = [
      { name: 'a', steps: [{ costNs: 100 * MS, lock: 'L' }, { costNs: 50 * MS }] },
      { name: 'b', steps: [{ costNs: 100 * MS, lock: 'L' }, { costNs: 50 * MS }] },
      { name: 'c', steps: [{ costNs: 30 * MS }, { costNs: 30 * MS }] },
    ];
    const r = runConcurrently(new VirtualClock(), tasks);
    expect(r.completions.map((c) => c.doneNs)).toEqual([150 * MS, 250 * MS, 60 * MS]);
    expect(r.makespanNs).toBe(250 * MS);
  });

  it("starts at the clock's current time and advances it to the end", () => {
    const clock = new VirtualClock();
    clock.advance(5 * S);
    const r = runConcurrently(clock, [
      { name: 'x', steps: [{ costNs: 1 * MS, lock: 'L' }, { costNs: 2 * MS }] },
      { name: 'y', steps: [{ costNs: 4 * MS, lock: 'L' }] },
    ]);
    // x: L [5s, 5s+1) then [5s+1, 5s+3); y: L [5s+1, 5s+5).
    expect(r.startNs).toBe(5 * S);
    expect(r.completions).toEqual([
      { name: 'x', doneNs: 5 * S + 3 * MS },
      { name: 'y', doneNs: 5 * S + 5 * MS },
    ]);
    expect(r.makespanNs).toBe(5 * MS);
    expect(clock.nowNs).toBe(5 * S + 5 * MS);
  });

  it('no tasks, and tasks without steps, take no time', () => {
    const clock = new VirtualClock();
    clock.advance(7);
    expect(runConcurrently(clock, [])).toEqual({ startNs: 7, makespanNs: 0, completions: [] });
    expect(runConcurrently(clock, [{ name: 'empty', steps: [] }]).completions).toEqual([
      { name: 'empty', doneNs: 7 },
    ]);
    expect(clock.nowNs).toBe(7);
  });

  it('rejects negative and non-finite step costs', () => {
    expect(() => runConcurrently(new VirtualClock(), [{ name: 'bad', steps: [{ costNs: -1 }] }])).toThrow();
    expect(() =>
      runConcurrently(new VirtualClock(), [{ name: 'bad', steps: [{ costNs: Number.NaN }] }]),
    ).toThrow();
    expect(() =>
      runConcurrently(new VirtualClock(), [{ name: 'bad', steps: [{ costNs: Number.POSITIVE_INFINITY }] }]),
    ).toThrow();
  });

  // b asks for L at 5 ms and a at 10 ms while c holds L until 20 ms: b gets it first.
  it('grants a contended lock in request order', () => {
    const tasks: ScheduledTask[] = [
      { name: 'a', steps: [{ costNs: 10 * MS }, { costNs: 10 * MS, lock: 'L' }] },
      { name: 'b', steps: [{ costNs: 5 * MS }, { costNs: 10 * MS, lock: 'L' }] },
      { name: 'c', steps: [{ costNs: 20 * MS, lock: 'L' }] },
    ];
    const r = runConcurrently(new VirtualClock(), tasks);
    expect(r.completions).toEqual([
      { name: 'a', doneNs: 40 * MS },
      { name: 'b', doneNs: 30 * MS },
      { name: 'c', doneNs: 20 * MS },
    ]);
  });
});

const taskArb: fc.Arbitrary<ScheduledTask[]> = fc
  .array(
    fc.array(
      fc.record(
        { costNs: fc.integer({ min: 0, max: 1000 }), lock: fc.constantFrom('A', 'B', 'C') },
        { requiredKeys: ['costNs'] },
      ),
      { maxLength: 5 },
    ),
    { maxLength: 12 },
  )
  .map((stepLists) => stepLists.map((steps, i) => ({ name: `t${i}`, steps })));

describe('properties of any schedule', () => {
  it('is deterministic: the same tasks give the same completions', () => {
    fc.assert(
      fc.property(taskArb, (tasks) => {
        const a = runConcurrently(new VirtualClock(), tasks);
        const b = runConcurrently(new VirtualClock(), structuredClone(tasks));
        expect(b).toEqual(a);
      }),
    );
  });

  it('respects the lower and upper bounds of a lock schedule', () => {
    fc.assert(
      fc.property(taskArb, (tasks) => {
        const r = runConcurrently(new VirtualClock(), tasks);
        const all = tasks.flatMap((t) => t.steps);
        const total = all.reduce((s, x) => s + x.costNs, 0);
        // No faster than the longest task or the busiest lock; no slower than doing everything in series.
        for (const t of tasks) {
          const own = t.steps.reduce((s, x) => s + x.costNs, 0);
          expect(r.completions.find((c) => c.name === t.name)!.doneNs).toBeGreaterThanOrEqual(own);
        }
        for (const lock of ['A', 'B', 'C']) {
          const held = all.filter((x) => x.lock === lock).reduce((s, x) => s + x.costNs, 0);
          expect(r.makespanNs).toBeGreaterThanOrEqual(held);
        }
        expect(r.makespanNs).toBeLessThanOrEqual(total);
        expect(r.makespanNs).toBe(Math.max(0, ...r.completions.map((c) => c.doneNs)));
        // Without locks every task finishes after exactly its own work.
        const unlocked = tasks.map((t) => ({
          name: t.name,
          steps: t.steps.map((s) => ({ costNs: s.costNs })),
        }));
        const free = runConcurrently(new VirtualClock(), unlocked);
        free.completions.forEach((c, i) => {
          expect(c.doneNs).toBe(tasks[i]!.steps.reduce((s, x) => s + x.costNs, 0));
        });
      }),
    );
  });
});
