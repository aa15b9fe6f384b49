/**
 * Live migration of one mnic function (a VF, an SF or a SIOV function) through the NIC's firmware
 * commands, shared by mnic_vfio_pci and vfio_mnic_aux: the single arcs of the full flag set
 * (STOP_COPY | P2P | PRE_COPY) mapped onto MnicFw as mlx5_vfio_pci maps them (facts/kernel.md
 * Appendix A):
 *
 *   RUNNING -> RUNNING_P2P, PRE_COPY -> PRE_COPY_P2P   SUSPEND_VHCA(initiator)
 *   RUNNING_P2P -> STOP                                SUSPEND_VHCA(responder)
 *   STOP -> RUNNING_P2P                                RESUME_VHCA(responder)
 *   RUNNING_P2P -> RUNNING, PRE_COPY_P2P -> PRE_COPY   RESUME_VHCA(initiator)
 *   STOP -> STOP_COPY                                  QUERY_VHCA_MIGRATION_STATE + SAVE_VHCA_STATE:
 *                                                      one FINAL record; the stream is complete
 *   RUNNING -> PRE_COPY, RUNNING_P2P -> PRE_COPY_P2P   QUERY + SAVE while running: one PRECOPY record
 *   PRE_COPY_P2P -> STOP_COPY                          SUSPEND_VHCA(responder) (STOP_COPY is a stopped
 *                                                      state), QUERY + SAVE: the FINAL record
 *   STOP_COPY -> STOP, PRE_COPY -> RUNNING,
 *   PRE_COPY_P2P -> RUNNING_P2P                        nothing: the FSM ends the session
 *   STOP -> RESUMING                                   no command: a host buffer and the stream parser
 *   RESUMING -> STOP                                   LOAD_VHCA_STATE of the last FINAL image, once,
 *                                                      after the whole stream validated
 *
 * Decisions: the load happens at RESUMING -> STOP (Appendix A leaves the moment open), so a hostile or
 * truncated stream never reaches firmware; that arc then fails with EINVAL and the device goes to ERROR
 * (its function untouched); VFIO_DEVICE_RESET recovers. PRECOPY_INFO: initial_bytes = the PRECOPY
 * record not yet read; dirty_bytes = 0, because the firmware has no incremental save: the whole state
 * comes again in the FINAL record (SPEC-DEVIATION from mlx5, whose final save is incremental).
 * Left out: chunked images, the firmware page tracker (log_ops), the deferred_reset lock dance.
 */
import { errnoError, isLabError } from '../../../base/index.js';
import { vfio } from '../../../spec/index.js';
import {
  type ArcResult,
  ChunkQueue,
  type MigrationDriver,
  type ResumingSink,
  type SavingSource,
} from '../../vfio/migration/index.js';
import type { MnicFnHandle, MnicFw } from '../mnic/index.js';
import {
  encodeMnicRecord,
  MNIC_VFIO_RECORD_HEADER_BYTES,
  MNIC_VFIO_TAG_FINAL,
  MNIC_VFIO_TAG_PRECOPY,
  MnicStreamParser,
} from './stream.js';

type State = vfio.VfioDeviceMigState;

const STOP: State = vfio.VFIO_DEVICE_STATE_STOP;
const RUNNING: State = vfio.VFIO_DEVICE_STATE_RUNNING;
const STOP_COPY: State = vfio.VFIO_DEVICE_STATE_STOP_COPY;
const RESUMING: State = vfio.VFIO_DEVICE_STATE_RESUMING;
const RUNNING_P2P: State = vfio.VFIO_DEVICE_STATE_RUNNING_P2P;
const PRE_COPY: State = vfio.VFIO_DEVICE_STATE_PRE_COPY;
const PRE_COPY_P2P: State = vfio.VFIO_DEVICE_STATE_PRE_COPY_P2P;

/** What the function's quiescing looks like to firmware, as far as this driver asked for it. */
type Suspension = 'none' | 'initiator' | 'initiator+responder';

/** The firmware a migration driver commands and the function it commands it about. */
export interface MnicMigrationTarget {
  /** The mailbox allowed to command `fn` (the PF's: the manager function). */
  readonly fw: MnicFw;
  readonly fn: MnicFnHandle;
  readonly warn: (text: string) => void;
}

const same = (a: State, b: State, c: State, d: State) => (x: State, y: State) =>
  (x === a && y === b) || (x === c && y === d);
const isSuspendInitiator = same(RUNNING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P);
const isResumeInitiator = same(RUNNING_P2P, RUNNING, PRE_COPY_P2P, PRE_COPY);
const isPrecopyStart = same(RUNNING, PRE_COPY, RUNNING_P2P, PRE_COPY_P2P);
const isSessionEnd = (x: State, y: State) =>
  (x === STOP_COPY && y === STOP) ||
  (x === PRE_COPY && y === RUNNING) ||
  (x === PRE_COPY_P2P && y === RUNNING_P2P);

export class MnicMigrationDriver implements MigrationDriver {
  readonly flags = vfio.VFIO_MIGRATION_STOP_COPY | vfio.VFIO_MIGRATION_P2P | vfio.VFIO_MIGRATION_PRE_COPY;
  readonly #t: MnicMigrationTarget;
  #suspension: Suspension = 'none';
  #saving: SavingSession | undefined;
  #resuming: ResumingSession | undefined;
  /** The firmware commands the arcs sent, in order, for tests and tools. */
  readonly commands: string[] = [];

  constructor(target: MnicMigrationTarget) {
    this.#t = target;
  }

  get fn(): MnicFnHandle {
    return this.#t.fn;
  }

  arc(from: State, to: State): ArcResult {
    try {
      return this.#arc(from, to);
    } catch (e) {
      if (isLabError(e) && e.errno !== undefined) {
        return { kind: 'failed', errno: e.errno, deviceState: 'unchanged' };
      }
      throw e;
    }
  }

  #arc(from: State, to: State): ArcResult {
    const done: ArcResult = { kind: 'done' };
    if (isSuspendInitiator(from, to)) {
      this.#suspend('initiator');
      return done;
    }
    if (from === RUNNING_P2P && to === STOP) {
      this.#suspend('responder');
      return done;
    }
    if (from === STOP && to === RUNNING_P2P) {
      this.#resume('responder');
      return done;
    }
    if (isResumeInitiator(from, to)) {
      this.#resume('initiator');
      return done;
    }
    if (from === STOP && to === STOP_COPY) {
      const s = new SavingSession(this, false);
      s.queue(this.#saveImage(), MNIC_VFIO_TAG_FINAL);
      this.#saving = s;
      return { kind: 'saving', source: s };
    }
    if (isPrecopyStart(from, to)) {
      const s = new SavingSession(this, true);
      s.queue(this.#saveImage(), MNIC_VFIO_TAG_PRECOPY);
      this.#saving = s;
      return { kind: 'saving', source: s };
    }
    if (from === PRE_COPY_P2P && to === STOP_COPY) {
      const s = this.#saving;
      if (s === undefined) throw errnoError('EINVAL', 'no saving session');
      this.#suspend('responder');
      s.queue(this.#saveImage(), MNIC_VFIO_TAG_FINAL);
      s.complete = true;
      return done;
    }
    if (isSessionEnd(from, to)) return done;
    if (from === STOP && to === RESUMING) {
      const r = new ResumingSession(this);
      this.#resuming = r;
      return { kind: 'resuming', sink: r };
    }
    if (from === RESUMING && to === STOP) {
      const verdict = this.#resuming?.parser.finish() ?? { ok: false as const, detail: 'no session' };
      if (!verdict.ok) {
        this.#t.warn(`mnic-vfio ${this.#t.fn.kind}${this.#t.fn.fnId}: resume refused: ${verdict.detail}`);
        return { kind: 'failed', errno: 'EINVAL', deviceState: 'ERROR' };
      }
      this.commands.push('LOAD_VHCA_STATE');
      try {
        this.#t.fw.loadVhcaState(this.#t.fn, verdict.image);
      } catch (e) {
        if (isLabError(e) && e.errno !== undefined)
          return { kind: 'failed', errno: e.errno, deviceState: 'ERROR' };
        throw e;
      }
      return done;
    }
    this.#t.warn(`WARNING: mnic-vfio: unexpected arc ${from} -> ${to}`);
    throw errnoError('EINVAL', `arc ${from} -> ${to}`);
  }

  /** migration_get_data_size: what STOP_COPY would produce now (firmware's size + one header). */
  dataSize(): bigint {
    this.commands.push('QUERY_VHCA_MIGRATION_STATE');
    return BigInt(this.#t.fw.queryVhcaMigrationState(this.#t.fn) + MNIC_VFIO_RECORD_HEADER_BYTES);
  }

  /**
   * reset_done (VFIO_DEVICE_RESET, FLR): the function must run again. Firmware is told to resume what
   * this driver suspended, in the reverse order; a function that the reset already resumed refuses
   * with an errno, which is fine.
   */
  resetDone(): void {
    const steps: Array<'responder' | 'initiator'> =
      this.#suspension === 'initiator+responder'
        ? ['responder', 'initiator']
        : this.#suspension === 'initiator'
          ? ['initiator']
          : [];
    for (const role of steps) {
      try {
        this.#resume(role);
      } catch (e) {
        if (!(isLabError(e) && e.errno !== undefined)) throw e;
      }
    }
    this.#suspension = 'none';
  }

  /** A session let go of its buffers. */
  forget(s: SavingSession | ResumingSession): void {
    if (this.#saving === s) this.#saving = undefined;
    if (this.#resuming === s) this.#resuming = undefined;
  }

  #suspend(role: 'initiator' | 'responder'): void {
    this.commands.push(`SUSPEND_VHCA(${role})`);
    this.#t.fw.suspendVhca(this.#t.fn, role);
    this.#suspension = role === 'initiator' ? 'initiator' : 'initiator+responder';
  }

  #resume(role: 'initiator' | 'responder'): void {
    this.commands.push(`RESUME_VHCA(${role})`);
    this.#t.fw.resumeVhca(this.#t.fn, role);
    this.#suspension = role === 'responder' ? 'initiator' : 'none';
  }

  #saveImage(): Uint8Array {
    this.commands.push('QUERY_VHCA_MIGRATION_STATE');
    const size = this.#t.fw.queryVhcaMigrationState(this.#t.fn);
    if (size === 0) throw errnoError('EINVAL', 'function state size 0');
    this.commands.push('SAVE_VHCA_STATE');
    return this.#t.fw.saveVhcaState(this.#t.fn);
  }
}

/** The saving side: records queued for read(). */
class SavingSession implements SavingSource {
  readonly #drv: MnicMigrationDriver;
  readonly #queue = new ChunkQueue();
  /** STOP_COPY's FINAL record is queued: an empty queue is the true end of stream. */
  complete: boolean;
  #initialBytes = 0;
  #released = false;

  constructor(drv: MnicMigrationDriver, precopy: boolean) {
    this.#drv = drv;
    this.complete = !precopy;
  }

  queue(image: Uint8Array, tag: number): void {
    const rec = encodeMnicRecord(image, { tag, fnKind: this.#drv.fn.kind });
    if (tag === MNIC_VFIO_TAG_PRECOPY) this.#initialBytes += rec.length;
    this.#queue.push(rec);
  }

  read(maxBytes: number, inStopCopy: boolean): Uint8Array {
    if (this.#released) throw errnoError('ENODEV', 'saving session released');
    if (this.#queue.isEmpty && inStopCopy && !this.complete)
      throw errnoError('EINVAL', 'stream not complete');
    return this.#queue.take(maxBytes);
  }

  precopyInfo(): { initialBytes: bigint; dirtyBytes: bigint } {
    return { initialBytes: BigInt(Math.max(0, this.#initialBytes - this.#queue.readBytes)), dirtyBytes: 0n };
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#queue.clear();
    this.#drv.forget(this);
  }
}

/** The resuming side: the validating parser; the load waits for RESUMING -> STOP. */
class ResumingSession implements ResumingSink {
  readonly #drv: MnicMigrationDriver;
  readonly parser = new MnicStreamParser();

  constructor(drv: MnicMigrationDriver) {
    this.#drv = drv;
  }

  write(data: Uint8Array): void {
    this.parser.write(data);
  }

  release(): void {
    this.#drv.forget(this);
  }
}
