/**
 * A split virtqueue's saved state (split-queue.ts): its shape and version, and the parser that checks a
 * state from an untrusted source before `SplitQueue.restoreState` takes it.
 */
import { LabError } from '../../base/index.js';
import { checkConfig, IDX_MODULUS, type SplitQueueConfig, wrap16 } from './split-queue-config.js';
import { SplitQueueError } from './split-queue-fault.js';

/** Version of `SplitQueueSavedState` that `saveState` writes and `restoreState` accepts. */
export const SPLIT_QUEUE_STATE_VERSION = 1;

/** A split queue's saved state: configuration and ring progress. Untrusted on restore. */
export interface SplitQueueSavedState {
  readonly version: typeof SPLIT_QUEUE_STATE_VERSION;
  readonly config: SplitQueueConfig;
  /** Free-running index of the next available ring entry the device will read. */
  readonly lastAvailIdx: number;
  /** Free-running used.idx the device last wrote. */
  readonly usedIdx: number;
  /** Heads taken from the available ring and not yet returned, in the order they were taken. */
  readonly inFlightHeads: readonly number[];
  /** Available buffer notifications are on (used.flags clear, avail_event kept up to date). */
  readonly availNotifications: boolean;
}

const SAVED_KEYS = ['version', 'config', 'lastAvailIdx', 'usedIdx', 'inFlightHeads', 'availNotifications'];
const CONFIG_KEYS = ['size', 'descAddr', 'availAddr', 'usedAddr', 'eventIdx', 'indirect'];

function stateError(detail: string, cause?: unknown): LabError {
  return new LabError('bad-input', `split queue state: ${detail}`, { cause });
}

function record(v: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw stateError(`${what} is not an object`);
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!keys.includes(k)) throw stateError(`${what} has unknown field '${k}'`);
  for (const k of keys) if (!(k in r)) throw stateError(`${what} lacks field '${k}'`);
  return r;
}

function field<T>(r: Record<string, unknown>, key: string, ok: (v: unknown) => v is T, expected: string): T {
  const v = r[key];
  if (!ok(v)) throw stateError(`${key} must be ${expected}`);
  return v;
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isBigint = (v: unknown): v is bigint => typeof v === 'bigint';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isIdx = (v: unknown): v is number => isInt(v) && v >= 0 && v < IDX_MODULUS;

export function parseSavedState(saved: unknown): SplitQueueSavedState {
  const r = record(saved, SAVED_KEYS, 'saved state');
  if (r['version'] !== SPLIT_QUEUE_STATE_VERSION) {
    throw stateError(`unsupported version ${String(r['version'])} (expected ${SPLIT_QUEUE_STATE_VERSION})`);
  }
  const c = record(r['config'], CONFIG_KEYS, 'config');
  const config: SplitQueueConfig = {
    size: field(c, 'size', isInt, 'an integer'),
    descAddr: field(c, 'descAddr', isBigint, 'a bigint'),
    availAddr: field(c, 'availAddr', isBigint, 'a bigint'),
    usedAddr: field(c, 'usedAddr', isBigint, 'a bigint'),
    eventIdx: field(c, 'eventIdx', isBool, 'a boolean'),
    indirect: field(c, 'indirect', isBool, 'a boolean'),
  };
  const fault = checkConfig(config);
  if (fault) throw stateError('bad config', new SplitQueueError(fault));
  const lastAvailIdx = field(r, 'lastAvailIdx', isIdx, 'an integer in 0..65535');
  const usedIdx = field(r, 'usedIdx', isIdx, 'an integer in 0..65535');
  const heads = r['inFlightHeads'];
  if (!Array.isArray(heads)) throw stateError('inFlightHeads must be an array');
  // Every pop advances lastAvailIdx by one and every push advances usedIdx by one.
  const expected = wrap16(lastAvailIdx - usedIdx);
  if (heads.length !== expected) {
    throw stateError(`${heads.length} heads in flight, but lastAvailIdx - usedIdx is ${expected}`);
  }
  const seen = new Set<number>();
  for (const h of heads) {
    if (!isInt(h) || h < 0 || h >= config.size) throw stateError(`in-flight head ${String(h)} out of range`);
    if (seen.has(h)) throw stateError(`in-flight head ${h} listed twice`);
    seen.add(h);
  }
  return {
    version: SPLIT_QUEUE_STATE_VERSION,
    config,
    lastAvailIdx,
    usedIdx,
    inFlightHeads: [...seen],
    availNotifications: field(r, 'availNotifications', isBool, 'a boolean'),
  };
}
