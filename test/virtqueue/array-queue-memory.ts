/**
 * An in-memory address space for virtqueue tests: sparse 4 KiB pages over the whole 64-bit range,
 * zero until written, little-endian accessors, and ranges that fault like an unmapped DMA address.
 * It shares no code with src/: the tests read and write ring bytes through it independently.
 */
import { LabError } from '../../src/base/index.js';

const PAGE_BYTES = 4096;
const PAGE = BigInt(PAGE_BYTES);
const ADDRESS_SPACE_END = 1n << 64n;

export class ArrayQueueMemory {
  readonly #pages = new Map<bigint, Uint8Array>();
  readonly #faults: Array<{ start: bigint; end: bigint }> = [];
  /** Accesses so far (reads and writes), to show that an operation touched no memory. */
  accesses = 0;

  /** Make every access that touches [start, start + lengthBytes) fail with EFAULT. */
  failAccesses(start: bigint, lengthBytes: number): void {
    this.#faults.push({ start, end: start + BigInt(lengthBytes) });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  read(addr: bigint, length: number): Uint8Array {
    this.#check(addr, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = addr + BigInt(done);
      const offset = Number(at % PAGE);
      const n = Math.min(PAGE_BYTES - offset, length - done);
      const page = this.#pages.get(at / PAGE);
      if (page) out.set(page.subarray(offset, offset + n), done);
      done += n;
    }
    return out;
  }

  write(addr: bigint, bytes: Uint8Array): void {
    this.#check(addr, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const at = addr + BigInt(done);
      const offset = Number(at % PAGE);
      const n = Math.min(PAGE_BYTES - offset, bytes.length - done);
      let page = this.#pages.get(at / PAGE);
      if (!page) {
        page = new Uint8Array(PAGE_BYTES);
        this.#pages.set(at / PAGE, page);
      }
      page.set(bytes.subarray(done, done + n), offset);
      done += n;
    }
  }

  readU16(addr: bigint): number {
    const b = this.read(addr, 2);
    return b[0]! | (b[1]! << 8);
  }

  readU32(addr: bigint): number {
    const b = this.read(addr, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  readU64(addr: bigint): bigint {
    return BigInt(this.readU32(addr)) | (BigInt(this.readU32(addr + 4n)) << 32n);
  }

  writeU16(addr: bigint, v: number): void {
    this.write(addr, Uint8Array.of(v & 0xff, (v >> 8) & 0xff));
  }

  writeU32(addr: bigint, v: number): void {
    this.write(addr, Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff));
  }

  /** A copy of every page written so far, to compare memory before and after an operation. */
  snapshot(): Map<bigint, Uint8Array> {
    return new Map([...this.#pages].map(([k, v]) => [k, v.slice()]));
  }

  #check(addr: bigint, length: number): void {
    this.accesses++;
    const end = addr + BigInt(length);
    if (addr < 0n || end > ADDRESS_SPACE_END) {
      throw new LabError('errno', `DMA fault: 0x${addr.toString(16)}+${length} outside 64-bit space`, {
        errno: 'EFAULT',
      });
    }
    for (const f of this.#faults) {
      if (addr < f.end && f.start < end) {
        throw new LabError('errno', `DMA fault at 0x${addr.toString(16)}`, { errno: 'EFAULT' });
      }
    }
  }
}
