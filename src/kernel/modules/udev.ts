/**
 * udev as far as the model needs it: it receives every kernel uevent, keeps them for
 * `udevadm monitor`, and for an "add" event with a MODALIAS runs `modprobe -b -q $MODALIAS` — which is
 * how drivers autoload. Real udev runs asynchronously; here queued events are handled when the kernel
 * settles (after each shell command or API call), in order, which is what `udevadm settle` waits for.
 */
import type { Uevent } from '../driver-core/uevent.js';
import type { Modules } from './modules.js';

export class Udev {
  readonly events: Uevent[] = [];
  /** Events not yet handled, `#queue[#head..]`: a head index, not shift(), so a long queue drains in O(n). */
  #queue: Uevent[] = [];
  #head = 0;
  readonly #modules: Modules;

  constructor(modules: Modules) {
    this.#modules = modules;
  }

  receive(e: Uevent): void {
    this.events.push(e);
    this.#queue.push(e);
  }

  /** Handle queued events until none are left (handling may cause more). */
  settle(): void {
    for (let guard = 0; this.#head < this.#queue.length && guard < 1_000_000; guard++) {
      const e = this.#queue[this.#head++]!;
      if (e.action !== 'add') continue;
      const alias = e.env.find(([k]) => k === 'MODALIAS')?.[1];
      if (alias !== undefined) this.#modules.modprobe(alias, true);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
  }
}

/** `udevadm monitor --kernel` lines; with `property`, each event's environment follows it. */
export function formatMonitor(events: readonly Uevent[], property: boolean): string {
  let out = '';
  for (const e of events) {
    const us = Math.floor(e.modeledNs / 1000);
    const stamp = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
    out += `KERNEL[${stamp}] ${e.action.padEnd(8)} ${e.devpath} (${e.subsystem})\n`;
    if (property) {
      out += `ACTION=${e.action}\nDEVPATH=${e.devpath}\nSUBSYSTEM=${e.subsystem}\n`;
      for (const [k, v] of e.env) out += `${k}=${v}\n`;
      out += `SEQNUM=${e.seqnum}\n\n`;
    }
  }
  return out;
}
