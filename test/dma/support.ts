/**
 * Test support for memory, IOMMU and DMA: a host context on a virtual clock whose cost lookups are
 * recorded, with optional per-device cost overrides, and helpers that state expectations about errors.
 */
import { expect } from 'vitest';
import { type CostModel, DEFAULT_COSTS, isLabError, VirtualClock } from '../../src/base/index.js';
import type { HwContext } from '../../src/hw/index.js';

export interface DmaTestHost {
  readonly ctx: HwContext;
  readonly clock: VirtualClock;
  /** Every device name `costsFor` was asked about, in order (undefined for host-wide lookups). */
  readonly costLookups: Array<string | undefined>;
}

export function dmaTestHost(deviceCosts: Record<string, CostModel> = {}): DmaTestHost {
  const clock = new VirtualClock();
  const costLookups: Array<string | undefined> = [];
  const ctx: HwContext = {
    clock,
    costsFor: (name) => {
      costLookups.push(name);
      return (name === undefined ? undefined : deviceCosts[name]) ?? DEFAULT_COSTS;
    },
    trace: () => {},
  };
  return { ctx, clock, costLookups };
}

/** Run `f` and expect it to throw a LabError with this errno. */
export function expectErrno(f: () => unknown, errno: string): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(isLabError(thrown), `expected a LabError ${errno}, got ${String(thrown)}`).toBe(true);
  if (isLabError(thrown)) expect(thrown.errno).toBe(errno);
}

/** Run `f` and expect it to throw a LabError with this code. */
export function expectLabCode(f: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(isLabError(thrown), `expected a LabError ${code}, got ${String(thrown)}`).toBe(true);
  if (isLabError(thrown)) expect(thrown.code).toBe(code);
}
