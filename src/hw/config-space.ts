/**
 * A function's 4096-byte configuration space with per-bit write masks and RW1C bits (PCIe Base
 * 7.4 "Register attributes": RO, RW, RW1C, HwInit). Device models register write hooks for the
 * registers with side effects (Command, Initiate FLR, VF Enable, NumVFs, MSI-X Enable).
 *
 * Semantics of a write of `value` with mask `w` and RW1C mask `c`, per bit:
 *   RW  bits (w=1): take the written value;  RW1C bits (c=1): a written 1 clears, a written 0 keeps;
 *   RO  bits (w=0, c=0): keep their value.
 * Reads have no side effects here; a hook may refresh a register before it is read.
 */
import { isAlignedAccess, LabError, readLe, writeLe } from '../base/index.js';
import { pci } from '../spec/index.js';

export interface ConfigWriteHook {
  /** First byte of the register this hook watches, and its length in bytes. */
  readonly offset: number;
  readonly length: number;
  /**
   * Runs after the masked write landed. `written` is the raw value the requester wrote (so a hook can
   * see a one written to a self-clearing bit such as Initiate FLR), `offset` and `width` the access,
   * `previous` what the accessed bytes held before the write (so a hook can discard a written value).
   */
  onWrite(offset: number, width: 1 | 2 | 4, written: number, previous: number): void;
}

export class ConfigSpace {
  readonly size: number;
  readonly #bytes: Uint8Array;
  readonly #writable: Uint8Array;
  readonly #rw1c: Uint8Array;
  readonly #hooks: ConfigWriteHook[] = [];
  #resetImage: { bytes: Uint8Array; writable: Uint8Array; rw1c: Uint8Array } | undefined;

  constructor(size: number = pci.PCI_CFG_SPACE_EXP_SIZE) {
    if (size !== pci.PCI_CFG_SPACE_SIZE && size !== pci.PCI_CFG_SPACE_EXP_SIZE) {
      throw new LabError('internal', `config space size must be 256 or 4096, not ${size}`);
    }
    this.size = size;
    this.#bytes = new Uint8Array(size);
    this.#writable = new Uint8Array(size);
    this.#rw1c = new Uint8Array(size);
  }

  /** A config read as a requester sees it. Accesses must be naturally aligned, 1, 2 or 4 bytes. */
  read(offset: number, width: 1 | 2 | 4): number {
    this.#check(offset, width);
    return readLe(this.#bytes, offset, width);
  }

  /** A config write as a requester performs it: masks and RW1C apply, then hooks run. */
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#check(offset, width);
    const previous = readLe(this.#bytes, offset, width);
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      const v = (value >>> (8 * i)) & 0xff;
      const w = this.#writable[at]!;
      const c = this.#rw1c[at]!;
      const old = this.#bytes[at]!;
      this.#bytes[at] = ((old & ~w) | (v & w)) & ~(v & c) & 0xff;
    }
    for (const h of this.#hooks) {
      if (offset < h.offset + h.length && h.offset < offset + width)
        h.onWrite(offset, width, value, previous);
    }
  }

  // ---- device-side access (the silicon itself; no masks, no hooks) ----

  get(offset: number, width: 1 | 2 | 4): number {
    return readLe(this.#bytes, offset, width);
  }

  set(offset: number, width: 1 | 2 | 4, value: number): void {
    writeLe(this.#bytes, offset, width, value);
  }

  /** Set or clear bits of a register from the device side. */
  setBits(offset: number, width: 1 | 2 | 4, bits: number, on: boolean): void {
    const v = this.get(offset, width);
    this.set(offset, width, on ? v | bits : v & ~bits);
  }

  /** Declare which bits of a register the requester may write (RW). */
  setWritable(offset: number, width: 1 | 2 | 4, mask: number): void {
    writeLe(this.#writable, offset, width, mask);
  }

  writableMask(offset: number, width: 1 | 2 | 4): number {
    return readLe(this.#writable, offset, width);
  }

  /** Declare which bits of a register are RW1C (status bits cleared by writing one). */
  setRw1c(offset: number, width: 1 | 2 | 4, mask: number): void {
    writeLe(this.#rw1c, offset, width, mask);
  }

  rw1cMask(offset: number, width: 1 | 2 | 4): number {
    return readLe(this.#rw1c, offset, width);
  }

  addHook(hook: ConfigWriteHook): void {
    this.#hooks.push(hook);
  }

  /** Record the current contents and masks as the function's reset state (after building). */
  sealResetState(): void {
    this.#resetImage = {
      bytes: this.#bytes.slice(),
      writable: this.#writable.slice(),
      rw1c: this.#rw1c.slice(),
    };
  }

  /** Return every byte and mask to the sealed reset state (conventional reset or FLR). */
  resetToSealed(): void {
    if (this.#resetImage === undefined)
      throw new LabError('internal', 'config space reset before it was sealed');
    this.#bytes.set(this.#resetImage.bytes);
    this.#writable.set(this.#resetImage.writable);
    this.#rw1c.set(this.#resetImage.rw1c);
  }

  /** A copy of the raw bytes (what the sysfs `config` file returns for a full read). */
  snapshot(length: number = this.size): Uint8Array {
    return this.#bytes.slice(0, Math.min(length, this.size));
  }

  #check(offset: number, width: number): void {
    if (!isAlignedAccess(offset, width) || offset + width > this.size) {
      throw new LabError(
        'bad-input',
        `config access of ${width} bytes at 0x${offset.toString(16)} is not valid`,
      );
    }
  }
}
