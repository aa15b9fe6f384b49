/**
 * A deterministic scheduler for concurrent modeled work. Each task is a sequence of steps; a step costs
 * modeled time and may hold a named lock while it runs. Tasks run in parallel except where they contend
 * for a lock, which is granted in request order (ties broken by task order). The result is each task's
 * completion time and the makespan, the figure benchmarks compare ("1000 FLRs serialized on one dev_set
 * lock" versus "in parallel").
 */
import type { VirtualClock } from './clock.js';
import { LabError } from './errors.js';

export interface ScheduledStep {
  readonly costNs: number;
  /** Held for the whole step; steps naming the same lock never overlap. */
  readonly lock?: string;
}

export interface ScheduledTask {
  readonly name: string;
  readonly steps: readonly ScheduledStep[];
}

export interface ScheduleResult {
  readonly startNs: number;
  readonly makespanNs: number;
  readonly completions: ReadonlyArray<{ readonly name: string; readonly doneNs: number }>;
}

/**
 * Run `tasks` from the clock's current time and advance the clock to the end of the last task.
 * Event-driven: at each step, the task that can start earliest goes next.
 */
export function runConcurrently(clock: VirtualClock, tasks: readonly ScheduledTask[]): ScheduleResult {
  const startNs = clock.nowNs;
  const lockFreeAt = new Map<string, number>();
  const readyAt = tasks.map(() => startNs);
  const nextStep = tasks.map(() => 0);
  const doneAt = tasks.map(() => startNs);
  for (const t of tasks) {
    for (const s of t.steps) {
      if (!Number.isFinite(s.costNs) || s.costNs < 0) {
        throw new LabError('internal', `task ${t.name}: step cost ${s.costNs} is not a non-negative number`);
      }
    }
  }
  for (;;) {
    let best = -1;
    let bestStart = Number.POSITIVE_INFINITY;
    for (let i = 0; i < tasks.length; i++) {
      const step = tasks[i]!.steps[nextStep[i]!];
      if (step === undefined) continue;
      const start = Math.max(readyAt[i]!, step.lock === undefined ? 0 : (lockFreeAt.get(step.lock) ?? 0));
      // Earliest start wins; on a tie, the task that asked first (earliest ready), then task order.
      if (start < bestStart || (start === bestStart && readyAt[i]! < readyAt[best]!)) {
        bestStart = start;
        best = i;
      }
    }
    if (best < 0) break;
    const step = tasks[best]!.steps[nextStep[best]!]!;
    const end = bestStart + step.costNs;
    if (step.lock !== undefined) lockFreeAt.set(step.lock, end);
    readyAt[best] = end;
    doneAt[best] = end;
    nextStep[best]!++;
  }
  const endNs = doneAt.reduce((a, b) => Math.max(a, b), startNs);
  clock.advanceTo(endNs);
  return {
    startNs,
    makespanNs: endNs - startNs,
    completions: tasks.map((t, i) => ({ name: t.name, doneNs: doneAt[i]! })),
  };
}
