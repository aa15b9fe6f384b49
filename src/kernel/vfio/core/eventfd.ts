/**
 * eventfd as VFIO uses it (fs/eventfd.c, eventfd_signal): a 64-bit counter the kernel adds 1 to on
 * each signal, and a waiter — here a callback run synchronously on every signal. Userspace hands
 * VFIO an eventfd by number in VFIO_DEVICE_SET_IRQS; `VfioFdTable` is the per-process table that
 * resolves those numbers.
 *
 * Left out: read() semantics (reset to 0, EFD_SEMAPHORE), poll, overflow at 2^64 - 2.
 */
import { errnoError } from '../../../base/index.js';

export class EventFd {
  /** The eventfd counter (what a read() would return and reset). */
  count = 0;
  readonly #onSignal: ((count: number) => void) | undefined;

  constructor(onSignal?: (count: number) => void) {
    this.#onSignal = onSignal;
  }

  /** eventfd_signal: add 1 and wake the waiter. */
  signal(): void {
    this.count++;
    this.#onSignal?.(this.count);
  }
}

/** A process's file table for the objects VFIO ioctls name by fd number (eventfds, data fds). */
export class VfioFdTable {
  readonly #files = new Map<number, unknown>();
  /** fds 0-2 are stdin/stdout/stderr. */
  #next = 3;

  install(file: unknown): number {
    const fd = this.#next++;
    this.#files.set(fd, file);
    return fd;
  }

  /** A new eventfd installed in the table. */
  eventfd(onSignal?: (count: number) => void): { fd: number; eventfd: EventFd } {
    const eventfd = new EventFd(onSignal);
    return { fd: this.install(eventfd), eventfd };
  }

  get(fd: number): unknown {
    return this.#files.get(fd);
  }

  /** eventfd_ctx_fdget: EBADF for a number that names nothing, EINVAL for a file that is no eventfd. */
  getEventFd(fd: number): EventFd {
    const f = this.#files.get(fd);
    if (f === undefined) throw errnoError('EBADF', `fd ${fd}`);
    if (!(f instanceof EventFd)) throw errnoError('EINVAL', `fd ${fd} is not an eventfd`);
    return f;
  }

  close(fd: number): void {
    if (!this.#files.delete(fd)) throw errnoError('EBADF', `fd ${fd}`);
  }
}
