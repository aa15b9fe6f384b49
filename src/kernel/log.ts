/**
 * The kernel log (printk ring) with modeled timestamps, printed as dmesg prints it:
 * `[    0.100123] pci 0000:01:00.0: [1af4:1041] type 00 class 0x020000`.
 */
import type { VirtualClock } from '../base/index.js';

export interface LogRecord {
  readonly modeledNs: number;
  readonly level: 'err' | 'warn' | 'info' | 'debug';
  readonly text: string;
}

export class KernelLog {
  readonly #clock: VirtualClock;
  readonly #records: LogRecord[] = [];

  constructor(clock: VirtualClock) {
    this.#clock = clock;
  }

  info(text: string): void {
    this.#records.push({ modeledNs: this.#clock.nowNs, level: 'info', text });
  }

  warn(text: string): void {
    this.#records.push({ modeledNs: this.#clock.nowNs, level: 'warn', text });
  }

  /**
   * dev_dbg output. Recorded as if dynamic debug were on for the driver core, so that binds, probes
   * and removals show in dmesg (see docs/decisions.md).
   */
  debug(text: string): void {
    this.#records.push({ modeledNs: this.#clock.nowNs, level: 'debug', text });
  }

  err(text: string): void {
    this.#records.push({ modeledNs: this.#clock.nowNs, level: 'err', text });
  }

  /** dmesg -c: empty the ring. */
  clear(): void {
    this.#records.length = 0;
  }

  get records(): readonly LogRecord[] {
    return this.#records;
  }

  /** dmesg's default format: seconds with microseconds, right-aligned in 12 columns. */
  format(record: LogRecord): string {
    const us = Math.floor(record.modeledNs / 1000);
    const secs = Math.floor(us / 1e6);
    const frac = String(us % 1e6).padStart(6, '0');
    return `[${`${secs}.${frac}`.padStart(12, ' ')}] ${record.text}`;
  }

  dmesg(): string {
    return this.#records.map((r) => `${this.format(r)}\n`).join('');
  }
}
