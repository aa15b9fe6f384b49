/**
 * Sparse physical memory: a byte-addressable memory of up to 2^52 bytes (the architectural physical
 * address limit of x86-64 and Armv8, MAXPHYADDR 52) that costs nothing until it is written.
 *
 * - Memory is kept in 4 KiB pages. A page is allocated on its first write; a read of a page that was
 *   never written returns zeros and allocates nothing. Accesses may cross pages.
 * - Addresses are `bigint` behind a brand (`Hpa` for host physical, `Gpa` for guest physical) so that
 *   address spaces cannot be mixed. Inside, addresses are plain numbers: every address below 2^52 is
 *   an exact double, so the hot path does no bigint arithmetic.
 * - The CPU dirty log: while it is on, each page a CPU write touches is recorded, and the migration code
 *   reads and clears the set (KVM_GET_DIRTY_LOG in spirit). Writes made with origin `'dma'` are not
 *   recorded: KVM's dirty log sees only vCPU writes, and device writes are seen only by the IOMMU's or
 *   the device's own dirty tracking (facts/kernel.md section 2). A migration that forgets those trackers
 *   therefore loses device-written pages, as it would on a real host.
 *
 * Left out: access permissions, memory types and caches, page sizes other than 4 KiB, freeing pages
 * (a page once written stays resident, even if it is written back to zeros).
 */
import { type Brand, errnoError, LabError } from '../../base/index.js';

/** Granule of residency and of the dirty log (x86 and Arm base page size). */
export const PAGE_SIZE_BYTES = 4096;
/** Largest physical address width modeled: 52 bits (x86-64 MAXPHYADDR limit, Armv8.2 LPA). */
export const MAX_PHYS_ADDR_BITS = 52;
/** Largest memory a SparseMemory models: 2^52 bytes. */
export const MAX_MEMORY_BYTES = 2n ** BigInt(MAX_PHYS_ADDR_BITS);

/** A host physical address. */
export type Hpa = Brand<bigint, 'Hpa'>;
/** A guest physical address. */
export type Gpa = Brand<bigint, 'Gpa'>;
/** Either physical address space; a SparseMemory is addressed by one of them. */
export type PhysAddr = Hpa | Gpa;

/** Who wrote: CPU writes go to the dirty log, device (DMA) writes do not (see the file comment). */
export type WriteOrigin = 'cpu' | 'dma';

function physAddr(value: bigint | number, what: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new LabError('bad-input', `${what} ${value} is not an integer`);
  const v = BigInt(value);
  if (v < 0n || v >= MAX_MEMORY_BYTES)
    throw new LabError('bad-input', `${what} 0x${v.toString(16)} outside 0..2^${MAX_PHYS_ADDR_BITS}-1`);
  return v;
}

/** Below this many bytes a loop beats making a subarray view for `set` (descriptors, ring entries). */
const SMALL_COPY_BYTES = 64;

function copy(from: Uint8Array, fromOff: number, to: Uint8Array, toOff: number, n: number): void {
  if (n < SMALL_COPY_BYTES) {
    for (let i = 0; i < n; i++) to[toOff + i] = from[fromOff + i]!;
  } else if (fromOff === 0 && n === from.length) {
    to.set(from, toOff);
  } else {
    to.set(from.subarray(fromOff, fromOff + n), toOff);
  }
}

/** A host physical address, checked to be in 0..2^52-1. */
export function hpa(value: bigint | number): Hpa {
  return physAddr(value, 'host physical address') as Hpa;
}

/** A guest physical address, checked to be in 0..2^52-1. */
export function gpa(value: bigint | number): Gpa {
  return physAddr(value, 'guest physical address') as Gpa;
}

export interface SparseMemoryOptions {
  /** Size in bytes, 1..2^52. */
  readonly sizeBytes: bigint | number;
  /** Used in error messages ("host0 RAM"). */
  readonly name?: string;
}

/**
 * A sparse memory addressed by `A` (`Hpa` by default). Access outside 0..sizeBytes-1 is an EFAULT
 * LabError: callers that model hardware (the DMA engine) check bounds first and turn a miss into the
 * completion hardware would give.
 */
export class SparseMemory<A extends PhysAddr = Hpa> {
  readonly sizeBytes: bigint;
  readonly name: string;
  readonly #size: number;
  readonly #pages = new Map<number, Uint8Array>();
  /** Pages written by the CPU since the last read-and-clear; undefined while the dirty log is off. */
  #dirty: Set<number> | undefined;

  constructor(options: SparseMemoryOptions) {
    const size = typeof options.sizeBytes === 'bigint' ? options.sizeBytes : BigInt(options.sizeBytes);
    if (size <= 0n || size > MAX_MEMORY_BYTES)
      throw new LabError('bad-input', `memory size ${size} outside 1..2^${MAX_PHYS_ADDR_BITS} bytes`);
    this.sizeBytes = size;
    this.#size = Number(size);
    this.name = options.name ?? 'memory';
  }

  /** Pages that hold bytes (written at least once). */
  get residentPages(): number {
    return this.#pages.size;
  }

  // ---- ranges ----

  read(addr: A, lengthBytes: number): Uint8Array {
    const out = new Uint8Array(lengthBytes);
    this.readInto(addr, out);
    return out;
  }

  /** Read `out.length` bytes at `addr` into `out` (no allocation). */
  readInto(addr: A, out: Uint8Array): void {
    let a = this.#check(addr, out.length);
    let done = 0;
    while (done < out.length) {
      const pageIndex = Math.floor(a / PAGE_SIZE_BYTES);
      const off = a - pageIndex * PAGE_SIZE_BYTES;
      const n = Math.min(PAGE_SIZE_BYTES - off, out.length - done);
      const page = this.#pages.get(pageIndex);
      if (page === undefined) out.fill(0, done, done + n);
      else copy(page, off, out, done, n);
      done += n;
      a += n;
    }
  }

  write(addr: A, bytes: Uint8Array, origin: WriteOrigin = 'cpu'): void {
    let a = this.#check(addr, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const pageIndex = Math.floor(a / PAGE_SIZE_BYTES);
      const off = a - pageIndex * PAGE_SIZE_BYTES;
      const n = Math.min(PAGE_SIZE_BYTES - off, bytes.length - done);
      copy(bytes, done, this.#pageForWrite(pageIndex, origin), off, n);
      done += n;
      a += n;
    }
  }

  // ---- little-endian scalars (a written value is cut to the width, as a register write would be) ----

  readU8(addr: A): number {
    return this.#readScalar(addr, 1);
  }

  readU16(addr: A): number {
    return this.#readScalar(addr, 2);
  }

  readU32(addr: A): number {
    return this.#readScalar(addr, 4);
  }

  readU64(addr: A): bigint {
    const a = this.#check(addr, 8);
    const lo = this.#readScalarAt(a, 4);
    const hi = this.#readScalarAt(a + 4, 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  writeU8(addr: A, value: number, origin: WriteOrigin = 'cpu'): void {
    this.#writeScalar(addr, 1, value, origin);
  }

  writeU16(addr: A, value: number, origin: WriteOrigin = 'cpu'): void {
    this.#writeScalar(addr, 2, value, origin);
  }

  writeU32(addr: A, value: number, origin: WriteOrigin = 'cpu'): void {
    this.#writeScalar(addr, 4, value, origin);
  }

  writeU64(addr: A, value: bigint, origin: WriteOrigin = 'cpu'): void {
    const a = this.#check(addr, 8);
    const v = BigInt.asUintN(64, value);
    this.#writeScalarAt(a, 4, Number(v & 0xffff_ffffn), origin);
    this.#writeScalarAt(a + 4, 4, Number(v >> 32n), origin);
  }

  // ---- residency ----

  /**
   * Visit every resident page in ascending address order. `bytes` is the page itself (the last page is
   * cut at the end of memory), valid during the call only: copy it to keep it, and never write through
   * it (that would bypass the dirty log). Pages that become resident during the walk are not visited.
   */
  forEachResidentPage(visit: (pageAddr: A, bytes: Uint8Array) => void): void {
    const indices = [...this.#pages.keys()].sort((x, y) => x - y);
    for (const i of indices) {
      const page = this.#pages.get(i)!;
      const start = i * PAGE_SIZE_BYTES;
      const len = Math.min(PAGE_SIZE_BYTES, this.#size - start);
      visit(BigInt(start) as A, len === PAGE_SIZE_BYTES ? page : page.subarray(0, len));
    }
  }

  // ---- CPU dirty log ----

  /** Whether CPU writes are being logged. */
  get dirtyLogActive(): boolean {
    return this.#dirty !== undefined;
  }

  /** Start logging CPU writes, with an empty log (a running log is emptied). */
  startDirtyLog(): void {
    this.#dirty = new Set();
  }

  /** Stop logging; the pages logged so far are dropped. */
  stopDirtyLog(): void {
    this.#dirty = undefined;
  }

  /**
   * The start addresses of the pages the CPU wrote since the log started or since the previous call,
   * ascending; the log is emptied. Throws `invalid-state` when the log is off.
   */
  readAndClearDirtyPages(): A[] {
    if (this.#dirty === undefined)
      throw new LabError('invalid-state', `${this.name}: dirty log is not running`);
    const indices = [...this.#dirty].sort((x, y) => x - y);
    this.#dirty.clear();
    return indices.map((i) => BigInt(i * PAGE_SIZE_BYTES) as A);
  }

  // ---- internals ----

  /** Bounds-check an access and return its start as a number. */
  #check(addr: A, lengthBytes: number): number {
    if (!Number.isInteger(lengthBytes) || lengthBytes < 0)
      throw new LabError('internal', `${this.name}: bad access length ${lengthBytes}`);
    // Exact below 2^53; a bigger address may round, but never down to within memory (≤ 2^52 bytes).
    const a = Number(addr);
    if (a < 0 || a + lengthBytes > this.#size) throw this.#outside(addr, lengthBytes);
    return a;
  }

  #outside(addr: bigint, lengthBytes: number): LabError {
    return errnoError(
      'EFAULT',
      `${this.name}: ${lengthBytes} bytes at 0x${addr.toString(16)} ` +
        `outside 0x${this.sizeBytes.toString(16)} bytes`,
    );
  }

  #pageForWrite(pageIndex: number, origin: WriteOrigin): Uint8Array {
    let page = this.#pages.get(pageIndex);
    if (page === undefined) {
      page = new Uint8Array(PAGE_SIZE_BYTES);
      this.#pages.set(pageIndex, page);
    }
    if (origin === 'cpu') this.#dirty?.add(pageIndex);
    return page;
  }

  #readScalar(addr: A, width: 1 | 2 | 4): number {
    return this.#readScalarAt(this.#check(addr, width), width);
  }

  #writeScalar(addr: A, width: 1 | 2 | 4, value: number, origin: WriteOrigin): void {
    this.#writeScalarAt(this.#check(addr, width), width, value, origin);
  }

  /** Little-endian read at a checked address; a scalar may straddle two pages. */
  #readScalarAt(a: number, width: 1 | 2 | 4): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) {
      const at = a + i;
      const pageIndex = Math.floor(at / PAGE_SIZE_BYTES);
      const page = this.#pages.get(pageIndex);
      v = v * 256 + (page === undefined ? 0 : page[at - pageIndex * PAGE_SIZE_BYTES]!);
    }
    return v;
  }

  #writeScalarAt(a: number, width: 1 | 2 | 4, value: number, origin: WriteOrigin): void {
    let v = value >>> 0;
    for (let i = 0; i < width; i++) {
      const at = a + i;
      const pageIndex = Math.floor(at / PAGE_SIZE_BYTES);
      this.#pageForWrite(pageIndex, origin)[at - pageIndex * PAGE_SIZE_BYTES] = v & 0xff;
      v >>>= 8;
    }
  }
}
