/**
 * The `vfiolab bench create` subcommand: option parsing and validation for bench-create.ts, kept out
 * of main.ts so that the command table there stays one registration call per benchmark.
 *
 *   vfiolab bench create [--count N] [--runs R] [--seed S] [--paths 1,2,fn-batch] [--kind siov|sf|vf]
 *                        [--json]
 *
 * Bad options print one line naming the option and exit with status 2, as the other benches do.
 */
import type { Command } from 'commander';
import type { Platform } from '../platform.js';
import {
  BENCH_CREATE_MAX_COUNT,
  benchCreate,
  CREATE_PATHS,
  type CreateKind,
  type CreatePath,
} from './bench-create.js';

const KINDS: readonly CreateKind[] = ['siov', 'sf', 'vf'];

interface RawOptions {
  readonly count: string;
  readonly runs: string;
  readonly seed?: string;
  readonly paths?: string;
  readonly kind: string;
}

/** `--paths`: path names or their numbers 1-4, comma separated. */
export function parseCreatePaths(text: string): CreatePath[] | string {
  const out: CreatePath[] = [];
  for (const item of text.split(',').map((x) => x.trim())) {
    const byNumber = /^[1-4]$/.test(item) ? CREATE_PATHS[Number(item) - 1] : undefined;
    const path = byNumber ?? CREATE_PATHS.find((p) => p === item);
    if (path === undefined) return `unknown path '${item}' (1-4 or ${CREATE_PATHS.join(', ')})`;
    if (!out.includes(path)) out.push(path);
  }
  return out;
}

export function registerBenchCreate(
  bench: Command,
  platform: Platform,
  setStatus: (code: number) => void,
): void {
  bench
    .command('create')
    .description('N VFIO devices four ways (autoprobe + rebind, driver_override, devlink SFs, creation API)')
    .option('--json', 'print JSON (the default and only format)')
    .option('--count <n>', `how many VFIO devices each path creates (1 to ${BENCH_CREATE_MAX_COUNT})`, '1000')
    .option('--runs <n>', 'repetitions per path (wall times are medians)', '5')
    .option('--seed <n>', 'seed of the lab (modeled times are the same for the same seed)')
    .option('--paths <list>', `which paths, by number or name (default: all; ${CREATE_PATHS.join(', ')})`)
    .option('--kind <kind>', `what path 4 asks the creation API for (${KINDS.join(', ')})`, 'siov')
    .action((o: RawOptions) => {
      const fail = (why: string): void => {
        platform.stderr(`vfiolab bench create: ${why}\n`);
        setStatus(2);
      };
      const [count, runs] = [Number(o.count), Number(o.runs)];
      if (!Number.isInteger(count) || count < 1 || count > BENCH_CREATE_MAX_COUNT) {
        fail(`--count must be an integer from 1 to ${BENCH_CREATE_MAX_COUNT}, not '${o.count}'`);
        return;
      }
      if (!Number.isInteger(runs) || runs < 1) {
        fail(`--runs must be a positive integer, not '${o.runs}'`);
        return;
      }
      if (o.seed !== undefined && !/^\d+$/.test(o.seed)) {
        fail(`--seed must be a non-negative integer, not '${o.seed}'`);
        return;
      }
      const kind = KINDS.find((k) => k === o.kind);
      if (kind === undefined) {
        fail(`--kind must be one of ${KINDS.join(', ')}, not '${o.kind}'`);
        return;
      }
      const only = o.paths === undefined ? undefined : parseCreatePaths(o.paths);
      if (typeof only === 'string') {
        fail(`--paths: ${only}`);
        return;
      }
      const result = benchCreate(platform, {
        count,
        runs,
        kind,
        ...(o.seed === undefined ? {} : { seed: Number(o.seed) }),
        ...(only === undefined ? {} : { only }),
      });
      platform.stdout(`${JSON.stringify(result)}\n`);
    });
}
