/**
 * The VFIO migration v2 state machine of one device (facts/kernel.md §1.2-§1.5, §1.8): the stepper
 * that every variant driver's migration_set_state repeats (mlx5, virtio, pds, hisi), written once. It
 * walks next-state.ts's table, asks the driver for one arc at a time, and owns the data sessions: it
 * wraps the source or sink a session-starting arc hands over in a MigrationStream and ends the session
 * on the arcs that end it, on reset, on close and on entering ERROR.
 *
 * Session rules, derived from the saving group (§1.3) rather than listed: an arc from a state without
 * a session into the saving group or RESUMING starts one (and must hand over a source or sink); an arc
 * from the saving group or RESUMING to a state outside it ends it; arcs inside the saving group keep
 * the stream. That reproduces §1.5's lists exactly.
 *
 * Decisions:
 * - A failing arc leaves the device at the last state reached, or in ERROR, as the driver's ArcResult
 *   says (both allowed by the uAPI). Entering ERROR ends the open session: the device state is unknown.
 * - A stream from an arc that does not start a session, a missing stream from one that does, and a
 *   stream from an interior arc are driver bugs: WARN, drop the stream, EINVAL, state = the arc's end.
 *   (The kernel WARNs only for the interior case and would install a stray file otherwise.)
 * - Requesting the current state is a no-op even in ERROR (the loop does not run); any other request
 *   from ERROR WARNs and fails with EINVAL, as vfio_mig_get_next_state does.
 * Left out: the state mutex and deferred_reset (the model is single-threaded).
 */
import { errnoError, isLabError, LabError } from '../../../base/index.js';
import type { ErrnoName } from '../../../spec/index.js';
import { vfio } from '../../../spec/index.js';
import { MigrationStream, type ResumingSink, type SavingSource } from './migration-stream.js';
import { nextState, sessionOf } from './next-state.js';

type State = vfio.VfioDeviceMigState;

/** What one arc did. */
export type ArcResult =
  | { readonly kind: 'done' }
  /** A session-starting arc into the saving group: the new saving fd's data. */
  | { readonly kind: 'saving'; readonly source: SavingSource }
  /** STOP -> RESUMING: the new resume fd's consumer. */
  | { readonly kind: 'resuming'; readonly sink: ResumingSink }
  /** The arc failed; the device is still in `from` ('unchanged') or could not get back ('ERROR'). */
  | { readonly kind: 'failed'; readonly errno: ErrnoName; readonly deviceState: 'unchanged' | 'ERROR' };

/** A variant driver's migration ops (mig_ops), reduced to single arcs. */
export interface MigrationDriver {
  /** VFIO_MIGRATION_* bits; must include STOP_COPY. */
  readonly flags: number;
  /** Run exactly the arc `from -> to`; the FSM only asks for arcs of the table. */
  arc(from: State, to: State): ArcResult;
  /** migration_get_data_size: estimated bytes STOP_COPY will produce. May throw an errno LabError. */
  dataSize(): bigint;
}

export interface MigrationFsmOptions {
  /** Where WARN_ON splats go (a KernelLog's warn). */
  readonly warn: (text: string) => void;
}

/** A successful VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE SET. */
export interface SetStateOutcome {
  /** The states visited, from the one at the start to the requested one. */
  readonly path: readonly State[];
  /** The new data fd, when the last arc started a session. */
  readonly stream: MigrationStream | undefined;
}

/** A failed SET: the errno, where the device is now and the states it went through. */
export class MigrationSetStateError extends LabError {
  readonly path: readonly State[];
  readonly state: State;
  constructor(errno: ErrnoName, detail: string, path: readonly State[], state: State) {
    super('errno', errnoError(errno, detail).message, { errno });
    this.name = 'MigrationSetStateError';
    this.path = path;
    this.state = state;
  }
}

const RUNNING = vfio.VFIO_DEVICE_STATE_RUNNING;
const ERROR = vfio.VFIO_DEVICE_STATE_ERROR;
const name = (s: State): string => vfio.VFIO_DEVICE_STATE_NAMES[s];

export class MigrationFsm {
  readonly #driver: MigrationDriver;
  readonly #warn: (text: string) => void;
  #state: State = RUNNING;
  #stream: MigrationStream | undefined;

  private constructor(driver: MigrationDriver, options: MigrationFsmOptions) {
    this.#driver = driver;
    this.#warn = options.warn;
  }

  /**
   * vfio_pci_core_register_device's mig_ops check (§1.2): the ops must all be there and the flags must
   * include STOP_COPY, else EINVAL. A device without mig_ops has no MigrationFsm at all.
   */
  static register(driver: MigrationDriver, options: MigrationFsmOptions): MigrationFsm {
    if (typeof driver.arc !== 'function' || typeof driver.dataSize !== 'function') {
      throw errnoError('EINVAL', 'mig_ops without set_state or get_data_size');
    }
    if (!Number.isInteger(driver.flags) || (driver.flags & vfio.VFIO_MIGRATION_STOP_COPY) === 0) {
      throw errnoError(
        'EINVAL',
        `migration_flags 0x${driver.flags.toString(16)} lack VFIO_MIGRATION_STOP_COPY`,
      );
    }
    return new MigrationFsm(driver, options);
  }

  /** VFIO_MIGRATION_* bits (the MIGRATION feature). */
  get flags(): number {
    return this.#driver.flags;
  }

  /** migration_get_state. */
  get state(): State {
    return this.#state;
  }

  /** The data fd of the session in progress, if any. */
  get stream(): MigrationStream | undefined {
    return this.#stream?.ended === false ? this.#stream : undefined;
  }

  /** migration_set_state(requested): run arcs until the device is in `requested` or one fails. */
  setState(requested: number): SetStateOutcome {
    const path: State[] = [this.#state];
    const fail = (errno: ErrnoName, detail: string): MigrationSetStateError =>
      new MigrationSetStateError(errno, detail, path, this.#state);
    let stream: MigrationStream | undefined;
    while (this.#state !== requested) {
      const step = nextState(this.#state, requested, this.#driver.flags);
      if (!step.ok) {
        if (step.warn) this.#warn(`WARNING: vfio_mig_get_next_state: ${step.detail}`);
        throw fail(step.errno, step.detail);
      }
      const from = this.#state;
      const to = step.next;
      const result = this.#driver.arc(from, to);
      if (result.kind === 'failed') {
        if (result.deviceState === 'ERROR') this.#enter(ERROR, path);
        throw fail(result.errno, `arc ${name(from)} -> ${name(to)} failed`);
      }
      this.#enter(to, path);
      const starts = sessionOf(from) === 'none' && sessionOf(to) !== 'none';
      const handed = result.kind === 'done' ? undefined : this.#wrap(result);
      if (starts !== (handed !== undefined) || (handed !== undefined && handed.direction !== sessionOf(to))) {
        handed?.end();
        this.#warn(`WARNING: migration driver: arc ${name(from)} -> ${name(to)} returned ${result.kind}`);
        throw fail('EINVAL', `arc ${name(from)} -> ${name(to)} returned ${result.kind}`);
      }
      if (handed !== undefined) {
        this.#stream = handed;
        if (to !== requested) {
          this.#endSession();
          this.#warn(`WARNING: migration driver: data fd from interior arc ${name(from)} -> ${name(to)}`);
          throw fail('EINVAL', `data fd from interior arc ${name(from)} -> ${name(to)}`);
        }
        stream = handed;
      }
    }
    return { path, stream };
  }

  /** migration_get_data_size (MIG_DATA_SIZE, any state). */
  dataSize(): bigint {
    return this.#driver.dataSize();
  }

  /** reset_done after VFIO_DEVICE_RESET or an FLR (§1.8): RUNNING, every migration fd disabled. */
  reset(): void {
    this.#endSession();
    this.#state = RUNNING;
  }

  /** Device open (§1.8): mig_state = RUNNING. */
  open(): void {
    this.#endSession();
    this.#state = RUNNING;
  }

  /** Device close (§1.8): the migration fds are disabled. */
  close(): void {
    this.#endSession();
  }

  #enter(state: State, path: State[]): void {
    const from = this.#state;
    this.#state = state;
    path.push(state);
    if (state === ERROR || (sessionOf(from) !== 'none' && sessionOf(state) !== sessionOf(from))) {
      this.#endSession();
    }
  }

  #wrap(result: Exclude<ArcResult, { kind: 'done' | 'failed' }>): MigrationStream {
    return result.kind === 'saving'
      ? new MigrationStream({ direction: 'saving', source: result.source }, this)
      : new MigrationStream({ direction: 'resuming', sink: result.sink }, this);
  }

  #endSession(): void {
    this.#stream?.end();
    this.#stream = undefined;
  }
}

/** True for the error setState throws. */
export function isMigrationSetStateError(e: unknown): e is MigrationSetStateError {
  return isLabError(e) && e instanceof MigrationSetStateError;
}
