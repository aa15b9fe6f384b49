/**
 * A host's virtual clock. Modeled time only moves when modeled work charges it; it never reads the
 * wall clock, so the same run always ends at the same modeled time.
 */
import { LabError } from './errors.js';

export class VirtualClock {
  #nowNs = 0;

  /** Modeled nanoseconds since the host was built. */
  get nowNs(): number {
    return this.#nowNs;
  }

  /** Charge `ns` of modeled time (an operation's cost). */
  advance(ns: number): void {
    if (!Number.isFinite(ns) || ns < 0) throw new LabError('internal', `cannot advance clock by ${ns} ns`);
    this.#nowNs += ns;
  }

  /** Move to an absolute modeled time at or after now (used by the scheduler). */
  advanceTo(ns: number): void {
    if (ns < this.#nowNs) throw new LabError('internal', `clock cannot go back from ${this.#nowNs} to ${ns}`);
    this.#nowNs = ns;
  }
}

/** Format nanoseconds for humans: `1.234 s`, `100.000 ms`, `12.500 µs`, `800 ns`. */
export function formatNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(3)} µs`;
  return `${Math.round(ns)} ns`;
}

export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;
