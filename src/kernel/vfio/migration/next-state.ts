/**
 * The VFIO migration v2 graph: the one next-step table (vfio_from_fsm_table), the flags each state
 * needs (state_flags_table) and the step function vfio_mig_get_next_state, all from
 * drivers/vfio/vfio_main.c as facts/kernel.md §1.2 and §1.4 give them. Nothing else in vfiolab may
 * encode which arcs exist: drivers implement single arcs and MigrationFsm walks this table.
 *
 * The step function carries the fixed loop (Junrui Luo, "vfio: prevent infinite loop in
 * vfio_mig_get_next_state() on blocked arc"): skipping unsupported states stops at ERROR, so
 * STOP_COPY -> PRE_COPY(_P2P) is EINVAL instead of a hang.
 */
import type { ErrnoName } from '../../../spec/index.js';
import { vfio } from '../../../spec/index.js';

type State = vfio.VfioDeviceMigState;

const ERROR = vfio.VFIO_DEVICE_STATE_ERROR;
const STOP = vfio.VFIO_DEVICE_STATE_STOP;
const RUNNING = vfio.VFIO_DEVICE_STATE_RUNNING;
const STOP_COPY = vfio.VFIO_DEVICE_STATE_STOP_COPY;
const RESUMING = vfio.VFIO_DEVICE_STATE_RESUMING;
const RUNNING_P2P = vfio.VFIO_DEVICE_STATE_RUNNING_P2P;
const PRE_COPY = vfio.VFIO_DEVICE_STATE_PRE_COPY;
const PRE_COPY_P2P = vfio.VFIO_DEVICE_STATE_PRE_COPY_P2P;

/**
 * vfio_from_fsm_table: row = current state, column = requested state, cell = next single step.
 * Rows and columns in enum order: ERROR, STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY,
 * PRE_COPY_P2P. It assumes every optional state is supported; nextState skips the ones that are not.
 */
// biome-ignore format: the table reads as a matrix
const FROM_FSM_TABLE: readonly (readonly State[])[] = [
  /* ERROR        */ [ERROR, ERROR, ERROR, ERROR, ERROR, ERROR, ERROR, ERROR],
  /* STOP         */ [ERROR, STOP, RUNNING_P2P, STOP_COPY, RESUMING, RUNNING_P2P, RUNNING_P2P, RUNNING_P2P],
  /* RUNNING      */ [ERROR, RUNNING_P2P, RUNNING, RUNNING_P2P, RUNNING_P2P, RUNNING_P2P, PRE_COPY, RUNNING_P2P],
  /* STOP_COPY    */ [ERROR, STOP, STOP, STOP_COPY, STOP, STOP, ERROR, ERROR],
  /* RESUMING     */ [ERROR, STOP, STOP, STOP, RESUMING, STOP, STOP, STOP],
  /* RUNNING_P2P  */ [ERROR, STOP, RUNNING, STOP, STOP, RUNNING_P2P, RUNNING, PRE_COPY_P2P],
  /* PRE_COPY     */ [ERROR, RUNNING, RUNNING, PRE_COPY_P2P, RUNNING, RUNNING, PRE_COPY, PRE_COPY_P2P],
  /* PRE_COPY_P2P */ [ERROR, RUNNING_P2P, RUNNING_P2P, STOP_COPY, RUNNING_P2P, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P],
];

/** state_flags_table: the VFIO_MIGRATION_* bits a state needs. ERROR needs all bits: never supported. */
function stateFlags(state: State): number {
  switch (state) {
    case ERROR:
      return 0xffff_ffff;
    case STOP:
    case RUNNING:
    case STOP_COPY:
    case RESUMING:
      return vfio.VFIO_MIGRATION_STOP_COPY;
    case RUNNING_P2P:
      return vfio.VFIO_MIGRATION_STOP_COPY | vfio.VFIO_MIGRATION_P2P;
    case PRE_COPY:
      return vfio.VFIO_MIGRATION_STOP_COPY | vfio.VFIO_MIGRATION_PRE_COPY;
    case PRE_COPY_P2P:
      return vfio.VFIO_MIGRATION_STOP_COPY | vfio.VFIO_MIGRATION_P2P | vfio.VFIO_MIGRATION_PRE_COPY;
    default:
      return assertNever(state);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected migration state ${String(x)}`);
}

/** True when `value` is a value of enum vfio_device_mig_state (0..7). */
export function isMigState(value: number): value is State {
  return Number.isInteger(value) && value >= 0 && value < vfio.VFIO_DEVICE_STATE_COUNT;
}

/** Whether a device with VFIO_MIGRATION_* `flags` supports `state` (ERROR: never). */
export function stateSupported(state: State, flags: number): boolean {
  const need = stateFlags(state);
  return (flags & need) >>> 0 === need;
}

/** The answer of vfio_mig_get_next_state: the next single step, or EINVAL (`warn`: the core WARNs). */
export type NextStateResult =
  | { readonly ok: true; readonly next: State }
  | { readonly ok: false; readonly errno: ErrnoName; readonly warn: boolean; readonly detail: string };

/**
 * vfio_mig_get_next_state(device, cur, new): the next arc to run towards `requested`, for a device with
 * VFIO_MIGRATION_* `flags`. `requested` is a raw u32 as userspace sent it.
 */
export function nextState(cur: number, requested: number, flags: number): NextStateResult {
  if (!isMigState(cur) || !stateSupported(cur, flags)) {
    return { ok: false, errno: 'EINVAL', warn: true, detail: `current state ${cur} is not supported` };
  }
  if (!isMigState(requested) || !stateSupported(requested, flags)) {
    return { ok: false, errno: 'EINVAL', warn: false, detail: `state ${requested} is not supported` };
  }
  let next = FROM_FSM_TABLE[cur]![requested]!;
  // The fixed loop: ERROR is never supported, so stop there instead of spinning on table[ERROR][x].
  while (next !== ERROR && !stateSupported(next, flags)) next = FROM_FSM_TABLE[next]![requested]!;
  if (next === ERROR) {
    return {
      ok: false,
      errno: 'EINVAL',
      warn: false,
      detail: `no arc from ${vfio.VFIO_DEVICE_STATE_NAMES[cur]} towards ${vfio.VFIO_DEVICE_STATE_NAMES[requested]}`,
    };
  }
  return { ok: true, next };
}

/** Which data transfer session a state belongs to: the saving group, RESUMING, or none. */
export type SessionKind = 'none' | 'saving' | 'resuming';

/** §1.3: PRE_COPY, PRE_COPY_P2P and STOP_COPY share one saving fd; RESUMING has the resume fd. */
export function sessionOf(state: State): SessionKind {
  switch (state) {
    case PRE_COPY:
    case PRE_COPY_P2P:
    case STOP_COPY:
      return 'saving';
    case RESUMING:
      return 'resuming';
    case ERROR:
    case STOP:
    case RUNNING:
    case RUNNING_P2P:
      return 'none';
    default:
      return assertNever(state);
  }
}
