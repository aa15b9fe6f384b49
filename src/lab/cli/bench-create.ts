/**
 * `vfiolab bench create --count N`: the seed's "1000 VFIO devices" question, every path in one run.
 * Each path starts on a fresh host of the bench topology (bench-create-topology.ts: one NIC whose bus
 * range holds N VFs) and ends when N VFIO devices are registered with the VFIO core. The paths and how
 * they are driven (sysfs, modprobe, devlink and fnctl requests, as a user would) are in
 * bench-create-paths.ts: 1 sriov-autoprobe-rebind, 2 sriov-override, 3 devlink-sf, 4 fn-batch.
 *
 * Modeled time is what the operations charged on the host's clock from its cost model; nothing here
 * adds a cost. Wall time is the model's own run time (the platform's wall clock), after warm-up runs
 * of each path so that the JIT has compiled the hot code. Ratios are each path's modeled time over
 * path 4's. A path that cannot run on this tree (its netlink family or parent missing, or a request
 * refused) is listed under `skipped` with the reason, and the others still run.
 */
import { isLabError, LabError } from '../../base/index.js';
import type { Host } from '../host/host.js';
import { Lab } from '../lab.js';
import type { Platform } from '../platform.js';
import {
  CREATE_PATHS,
  type CreateKind,
  type CreatePath,
  devlinkSf,
  fnBatch,
  type PathRunner,
  sriovAutoprobeRebind,
  sriovOverride,
} from './bench-create-paths.js';
import { BENCH_MAX_COUNT, BENCH_NIC_PF, benchCreateTopology } from './bench-create-topology.js';

export { CREATE_PATHS, type CreateKind, type CreatePath };
export const BENCH_CREATE_MAX_COUNT = BENCH_MAX_COUNT;

export interface CreatePathResult {
  readonly path: CreatePath;
  readonly count: number;
  readonly modeledMs: number;
  readonly wallMs: number;
  /** Wall time per function created, µs: the figure that must stay flat from N = 1000 to 10000. */
  readonly wallUsPerFunction: number;
  /** Modeled time of this path over path 4's (`fn-batch`); null while path 4 cannot run. */
  readonly modeledRatioToPath4: number | null;
}

export interface CreatePathSkipped {
  readonly path: CreatePath;
  readonly count: number;
  readonly skipped: string;
}

export interface BenchCreateOptions {
  readonly count: number;
  readonly runs: number;
  readonly seed?: number;
  /** Run only these paths (default: all four). */
  readonly only?: readonly CreatePath[];
  /** The kind path 4 asks the creation API for (default siov: no PCI function, no SF driver). */
  readonly kind?: CreateKind;
  /** Functions per path in the warm-up run (default WARMUP_COUNT; 0: no warm-up). */
  readonly warmupCount?: number;
}

export interface BenchCreateResult {
  readonly bench: 'create';
  readonly machine: ReturnType<Platform['machine']>;
  readonly count: number;
  readonly runs: number;
  readonly seed: number;
  readonly nic: string;
  readonly fnBatchKind: CreateKind;
  readonly paths: CreatePathResult[];
  /** Each measured path's modeled time over path 4's, by name (empty while path 4 is missing). */
  readonly modeledRatioToPath4: Partial<Record<CreatePath, number>>;
  readonly skipped: CreatePathSkipped[];
}

/**
 * Warm-up before the measured runs of each path: WARMUP_RUNS runs of at most WARMUP_COUNT functions.
 * The JIT and the heap take a few runs to settle; measured on this machine, one 1000-function run left
 * the next runs of path 4 two to four times slower than the steady state.
 */
export const WARMUP_COUNT = 1000;
const WARMUP_RUNS = 2;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function runners(kind: CreateKind): readonly PathRunner[] {
  return [sriovAutoprobeRebind, sriovOverride, devlinkSf, fnBatch(kind)];
}

function freshHost(count: number, seed: number | undefined): Host {
  return Lab.fromTopology(benchCreateTopology(count), 'bench create topology', {
    ...(seed === undefined ? {} : { seed }),
  }).host();
}

interface Measured {
  readonly modeledNs: number;
  readonly wallNs: number;
}

/** One path once on a fresh host: modeled and wall time, checked to end with `count` VFIO devices. */
function runOnce(platform: Platform, r: PathRunner, count: number, seed: number | undefined): Measured {
  const host = freshHost(count, seed);
  const vfio = host.kernel.vfio;
  const before = vfio.devices.length;
  const m0 = host.clock.nowNs;
  const w0 = platform.wallNowNs();
  r.run(host, count);
  host.kernel.settle();
  const wallNs = platform.wallNowNs() - w0;
  const modeledNs = host.clock.nowNs - m0;
  const made = vfio.devices.length - before;
  if (made !== count) {
    throw new LabError('internal', `${r.path}: ${made} of ${count} VFIO devices registered`);
  }
  return { modeledNs, wallNs };
}

/** Warm up, then `runs` measured runs; a refusal on the way is the reason the path is skipped. */
function measurePath(
  platform: Platform,
  r: PathRunner,
  o: BenchCreateOptions,
): { path: CreatePath; modeledNs: number; wallNs: number } | CreatePathSkipped {
  const skip = (why: string): CreatePathSkipped => ({ path: r.path, count: o.count, skipped: why });
  const why = r.unavailable(freshHost(1, o.seed));
  if (why !== undefined) return skip(why);
  let runs: Measured[];
  try {
    const warmup = Math.min(o.count, o.warmupCount ?? WARMUP_COUNT);
    for (let i = 0; warmup > 0 && i < WARMUP_RUNS; i++) runOnce(platform, r, warmup, o.seed);
    runs = Array.from({ length: o.runs }, () => runOnce(platform, r, o.count, o.seed));
  } catch (e) {
    if (!isLabError(e)) throw e;
    return skip(e.message);
  }
  const modeledNs = runs[0]!.modeledNs;
  if (runs.some((x) => x.modeledNs !== modeledNs)) {
    throw new LabError('internal', `bench create ${r.path}: modeled time differs between runs`);
  }
  return { path: r.path, modeledNs, wallNs: median(runs.map((x) => x.wallNs)) };
}

/** Every path (or the `only` ones) in path order; see the file comment. */
export function benchCreate(platform: Platform, o: BenchCreateOptions): BenchCreateResult {
  const kind = o.kind ?? 'siov';
  const measured: { path: CreatePath; modeledNs: number; wallNs: number }[] = [];
  const skipped: CreatePathSkipped[] = [];
  for (const r of runners(kind)) {
    if (o.only !== undefined && !o.only.includes(r.path)) continue;
    const m = measurePath(platform, r, o);
    if ('skipped' in m) skipped.push(m);
    else measured.push(m);
  }
  const path4 = measured.find((m) => m.path === 'fn-batch');
  const ratio = (ns: number): number | null => (path4 === undefined ? null : round3(ns / path4.modeledNs));
  const paths: CreatePathResult[] = measured.map((m) => ({
    path: m.path,
    count: o.count,
    modeledMs: round3(m.modeledNs / 1e6),
    wallMs: round3(m.wallNs / 1e6),
    wallUsPerFunction: round3(m.wallNs / 1e3 / o.count),
    modeledRatioToPath4: ratio(m.modeledNs),
  }));
  const ratios: Partial<Record<CreatePath, number>> = {};
  for (const p of paths) if (p.modeledRatioToPath4 !== null) ratios[p.path] = p.modeledRatioToPath4;
  return {
    bench: 'create',
    machine: platform.machine(),
    count: o.count,
    runs: o.runs,
    seed: o.seed ?? 0,
    nic: BENCH_NIC_PF,
    fnBatchKind: kind,
    paths,
    modeledRatioToPath4: ratios,
    skipped,
  };
}
