/**
 * The vhca event work queue of one PF (mlx5's vhca_event notifier chain, run from a workqueue): the
 * firmware's state-change events are queued and handled in order, never inside a command that is
 * still running. Every driver entry point that issues firmware commands runs under `hold`, like the
 * SF table lock in mlx5, so an event that a command triggers is handled after the command's own
 * bookkeeping is done (activate sets ACTIVE before the ACTIVE event creates the auxiliary device).
 * Left out: real concurrency; events are handled synchronously once the outermost hold ends.
 */
import type { VhcaStateEvent } from './fw-api.js';

export class VhcaEventQueue {
  readonly #handler: (e: VhcaStateEvent) => void;
  #queue: VhcaStateEvent[] = [];
  #head = 0;
  #holds = 0;
  #draining = false;

  constructor(handler: (e: VhcaStateEvent) => void) {
    this.#handler = handler;
  }

  /** The firmware's event interrupt. */
  push(e: VhcaStateEvent): void {
    this.#queue.push(e);
    if (this.#holds === 0) this.flush();
  }

  /** Run `f` with event handling deferred until the outermost hold returns. */
  hold<T>(f: () => T): T {
    this.#holds++;
    try {
      return f();
    } finally {
      this.#holds--;
      if (this.#holds === 0) this.flush();
    }
  }

  /** Handle every queued event, including those handling them raises. */
  flush(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#head < this.#queue.length) {
        const e = this.#queue[this.#head++]!;
        this.#handler(e);
      }
    } finally {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
      this.#draining = false;
    }
  }
}
