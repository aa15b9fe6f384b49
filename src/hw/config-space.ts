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
  /** bytes, writable and rw1c back to back in one buffer (one allocation per function). */
  readonly #store: Uint8Array;
  /**
   * The sealed reset state: the first `length` bytes of each of the three arrays (everything after
   * them was zero when sealed), packed the same way. Most functions use a few hundred bytes of 4 KiB,
   * so a host with 10000 VFs does not keep 120 MB of zeros around.
   */
  #resetImage: { readonly length: number; readonly packed: Uint8Array } | undefined;

  constructor(size: number = pci.PCI_CFG_SPACE_EXP_SIZE) {
    if (size !== pci.PCI_CFG_SPACE_SIZE && size !== pci.PCI_CFG_SPACE_EXP_SIZE) {
      throw new LabError('internal', `config space size must be 256 or 4096, not ${size}`);
    }
    this.size = size;
    this.#store = new Uint8Array(3 * size);
    this.#bytes = this.#store.subarray(0, size);
    this.#writable = this.#store.subarray(size, 2 * size);
    this.#rw1c = this.#store.subarray(2 * size, 3 * size);
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
    const length = this.#usedLength();
    const packed = new Uint8Array(3 * length);
    packed.set(this.#bytes.subarray(0, length), 0);
    packed.set(this.#writable.subarray(0, length), length);
    packed.set(this.#rw1c.subarray(0, length), 2 * length);
    this.#resetImage = { length, packed };
  }

  /** Return every byte and mask to the sealed reset state (conventional reset or FLR). */
  resetToSealed(): void {
    const image = this.#resetImage;
    if (image === undefined) throw new LabError('internal', 'config space reset before it was sealed');
    const { length, packed } = image;
    this.#store.fill(0);
    this.#bytes.set(packed.subarray(0, length));
    this.#writable.set(packed.subarray(length, 2 * length));
    this.#rw1c.set(packed.subarray(2 * length, 3 * length));
  }

  /** One past the last byte that is not zero in the contents or either mask, rounded up to 4 bytes. */
  #usedLength(): number {
    const words = new Uint32Array(this.#store.buffer, this.#store.byteOffset, (3 * this.size) / 4);
    const n = this.size / 4;
    for (let w = n - 1; w >= 0; w--) {
      if ((words[w]! | words[n + w]! | words[2 * n + w]!) !== 0) return (w + 1) * 4;
    }
    return 0;
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
