/**
 * The migration data fd (facts/kernel.md §1.5, §1.7): a stream file that a session-starting arc
 * returns. Saving streams (STOP->STOP_COPY, RUNNING->PRE_COPY, RUNNING_P2P->PRE_COPY_P2P) are read-only;
 * the resuming stream (STOP->RESUMING) is write-only. The driver supplies the bytes (SavingSource) or
 * takes them (ResumingSink); this class owns the file semantics every driver shares:
 *
 * - read() returns an empty array (read returns 0) at the true end of stream in STOP_COPY, and fails
 *   with ENOMSG at the temporary end of data while PRE_COPY(_P2P);
 * - once the session ends (session-ending arc, device reset, device close, ERROR) read/write give ENODEV;
 * - pread/pwrite give ESPIPE (stream_open clears FMODE_PREAD/PWRITE, checked before anything else);
 * - the wrong direction gives EBADF (the file is O_RDONLY or O_WRONLY), and so does any use after the
 *   user closed the fd;
 * - VFIO_MIG_GET_PRECOPY_INFO on a saving stream, in mlx5's order: other ioctl -> ENOTTY, argsz < 24 ->
 *   EINVAL, device not in PRE_COPY(_P2P) -> EINVAL, session ended -> ENODEV. A resuming stream has no
 *   ioctl handler (ENOTTY).
 *
 * Left out: O_CLOEXEC and the fd number, which the VFIO core's fd table owns; poll; blocking reads.
 */
import { decodeStruct, encodeStruct, errnoError, LabError } from '../../../base/index.js';
import { vfio } from '../../../spec/index.js';

/** The driver side of a saving session. */
export interface SavingSource {
  /**
   * Up to `maxBytes` (>= 1) of the data that is ready now. Empty means none: in PRE_COPY(_P2P) the
   * temporary end of data, in STOP_COPY the true end of stream. `inStopCopy` says which phase.
   */
  read(maxBytes: number, inStopCopy: boolean): Uint8Array;
  /** The PRE_COPY estimates (§1.7): initial data not yet read, and state changed since last read. */
  precopyInfo(): { readonly initialBytes: bigint; readonly dirtyBytes: bigint };
  /** The session ended (fput of the last reference): drop what it holds. */
  release(): void;
}

/** The driver side of a resuming session. */
export interface ResumingSink {
  /** Take the bytes of one write(); may throw a LabError with an errno (e.g. too much data). */
  write(data: Uint8Array): void;
  /** The session ended: drop what it holds. */
  release(): void;
}

/** What a stream needs to know about its device: the current migration state. */
export interface MigrationStreamHost {
  readonly state: vfio.VfioDeviceMigState;
}

type Backend =
  | { readonly direction: 'saving'; readonly source: SavingSource }
  | {
      readonly direction: 'resuming';
      readonly sink: ResumingSink;
    };

type Life = 'active' | 'ended' | 'closed';

export class MigrationStream {
  readonly #backend: Backend;
  readonly #host: MigrationStreamHost;
  #life: Life = 'active';

  /** Built by MigrationFsm when a session-starting arc hands over a source or sink. */
  constructor(backend: Backend, host: MigrationStreamHost) {
    this.#backend = backend;
    this.#host = host;
  }

  get direction(): 'saving' | 'resuming' {
    return this.#backend.direction;
  }

  /** True once the session has ended or the fd was closed. */
  get ended(): boolean {
    return this.#life !== 'active';
  }

  /** read(2). An empty result is read() returning 0. */
  read(count: number): Uint8Array {
    this.#checkOpen();
    if (this.#backend.direction !== 'saving') throw errnoError('EBADF', 'the resume data fd is write-only');
    if (this.#life === 'ended') throw errnoError('ENODEV', 'the saving session has ended');
    if (!Number.isInteger(count) || count < 0) throw errnoError('EINVAL', `read count ${count}`);
    if (count === 0) return new Uint8Array(0);
    const inStopCopy = this.#host.state === vfio.VFIO_DEVICE_STATE_STOP_COPY;
    const data = this.#backend.source.read(count, inStopCopy);
    if (data.length > count) {
      throw new LabError('internal', `saving source returned ${data.length} bytes for a read of ${count}`);
    }
    if (data.length === 0 && !inStopCopy) throw errnoError('ENOMSG', 'no pre-copy data ready now');
    return data;
  }

  /** write(2): returns the number of bytes taken (all of them, or an errno). */
  write(data: Uint8Array): number {
    this.#checkOpen();
    if (this.#backend.direction !== 'resuming') throw errnoError('EBADF', 'the saving data fd is read-only');
    if (this.#life === 'ended') throw errnoError('ENODEV', 'the resuming session has ended');
    this.#backend.sink.write(data);
    return data.length;
  }

  /** pread(2): a stream file has no position. */
  pread(_count: number, _offset: bigint): Uint8Array {
    this.#checkOpen();
    throw errnoError('ESPIPE', 'the migration data fd is a stream');
  }

  /** pwrite(2): a stream file has no position. */
  pwrite(_data: Uint8Array, _offset: bigint): number {
    this.#checkOpen();
    throw errnoError('ESPIPE', 'the migration data fd is a stream');
  }

  /** ioctl(2) on the data fd; `arg` is the user buffer, the reply is what is copied back. */
  ioctl(cmd: number, arg: Uint8Array): Uint8Array {
    this.#checkOpen();
    if (this.#backend.direction !== 'saving' || cmd !== vfio.VFIO_MIG_GET_PRECOPY_INFO) {
      throw errnoError('ENOTTY', `ioctl 0x${cmd.toString(16)} on a migration data fd`);
    }
    if (arg.length < vfio.VfioPrecopyInfo.sizeBytes) throw errnoError('EINVAL', 'short vfio_precopy_info');
    const info = decodeStruct(vfio.VfioPrecopyInfo, arg);
    if (info.argsz < vfio.VfioPrecopyInfo.sizeBytes) throw errnoError('EINVAL', `argsz ${info.argsz} < 24`);
    const state = this.#host.state;
    if (state !== vfio.VFIO_DEVICE_STATE_PRE_COPY && state !== vfio.VFIO_DEVICE_STATE_PRE_COPY_P2P) {
      throw errnoError('EINVAL', `PRECOPY_INFO in ${vfio.VFIO_DEVICE_STATE_NAMES[state]}`);
    }
    if (this.#life === 'ended') throw errnoError('ENODEV', 'the saving session has ended');
    const { initialBytes, dirtyBytes } = this.#backend.source.precopyInfo();
    return encodeStruct(vfio.VfioPrecopyInfo, { argsz: info.argsz, flags: 0, initialBytes, dirtyBytes });
  }

  /** close(2) by the user: the fd is gone; the session's driver state is released. */
  close(): void {
    this.#checkOpen();
    this.#release();
    this.#life = 'closed';
  }

  /** The session ended (arc, reset, device close, ERROR): the fd stays open but is disabled. */
  end(): void {
    if (this.#life !== 'active') return;
    this.#release();
    this.#life = 'ended';
  }

  #checkOpen(): void {
    if (this.#life === 'closed') throw errnoError('EBADF', 'the migration data fd is closed');
  }

  #release(): void {
    if (this.#life !== 'active') return;
    if (this.#backend.direction === 'saving') this.#backend.source.release();
    else this.#backend.sink.release();
  }
}
