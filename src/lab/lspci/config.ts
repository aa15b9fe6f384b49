/**
 * One function's config space as lspci sees it: the bytes that were read, and nothing beyond. pciutils
 * reads lazily and checks each range before decoding it (config_fetch); here a range is available when
 * it lies inside the bytes given, which models both a short dump and a non-root read of sysfs `config`
 * (64 bytes). Like pciutils, the view remembers which bytes were fetched, for the one decoder (EA) that
 * reads past what it fetched and makes real lspci stop with an internal error.
 */
import { die, hx } from './text.js';

export class ConfigView {
  readonly bytes: Uint8Array;
  readonly #present: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#present = new Uint8Array(bytes.length);
  }

  /** Bytes lspci has read up front (the standard header). */
  markPresent(pos: number, len: number): void {
    this.#present.fill(1, pos, Math.min(pos + len, this.bytes.length));
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Whether `len` bytes at `pos` were read (pciutils: config_fetch succeeds). */
  has(pos: number, len: number): boolean {
    const ok = pos >= 0 && len >= 0 && pos + len <= this.bytes.length;
    if (ok) this.markPresent(pos, len);
    return ok;
  }

  /** A 32-bit read that, like pciutils' get_conf_long, stops lspci if a byte was never fetched. */
  strictLong(pos: number): number {
    for (let i = pos; i < pos + 4; i++) {
      if (this.#present[i] !== 1)
        die(`Internal bug: Accessing non-read configuration byte at position ${hx(i, 1)}`);
    }
    return this.long(pos);
  }

  /** A byte; a byte that was not read reads as all-ones, like a failed config read. */
  byte(pos: number): number {
    return pos >= 0 && pos < this.bytes.length ? this.bytes[pos]! : 0xff;
  }

  word(pos: number): number {
    return this.byte(pos) | (this.byte(pos + 1) << 8);
  }

  long(pos: number): number {
    return (this.word(pos) | (this.word(pos + 2) << 16)) >>> 0;
  }
}
