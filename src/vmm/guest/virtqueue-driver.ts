/**
 * The driver side of a split virtqueue (virtio 1.4 split-ring.tex; facts/virtio.md section 2), as a
 * guest driver (or the host PF driver, for its admin queue) runs it: lay the rings out in memory,
 * place buffers (device-readable `out` segments, then device-writable `in` segments) in free
 * descriptors or in an indirect table, publish them through avail.idx, decide whether the device
 * needs a notification, and take used buffers back in the order the device returned them.
 *
 * - Descriptor ownership lives in driver-private state (a free list and per-head records), never in
 *   what the device can write: a used `id` is checked against it before anything is freed.
 * - A device that breaks the used ring (idx running ahead, unknown or idle ids) makes the queue
 *   broken, as Linux's BAD_RING does; every call then throws until `reset`.
 * - Indirect tables live in an area the caller provides: one table of `maxSegments` descriptors per
 *   head, so a table needs no allocator (a head owns its table while in flight).
 * - Notification data (VIRTIO_F_NOTIFICATION_DATA, facts 1.4) is computed for the transport.
 *
 * The ring constants and struct offsets are written out here because a guest driver must not import
 * the device model (hw/) and spec/ has no split-ring file yet; both sides should take them from one
 * spec/ file once it exists.
 *
 * Left out: the packed ring, VIRTIO_F_IN_ORDER, legacy guest-endian rings (little-endian only),
 * memory barriers (accesses happen in program order), and used-length validation (Linux dropped it:
 * devices, legacy ones above all, report `len` loosely; callers see `len` as the device wrote it).
 *
 * This file holds the queue; where its areas go and the checks of that layout are in
 * virtqueue-layout.ts.
 */
import { errnoError, LabError, u32, writeLe, writeU64 } from '../../base/index.js';
import { vring } from '../../spec/index.js';
import {
  ADDRESS_SPACE_END,
  checkLayout,
  IDX_MODULUS,
  type VirtqueueDriverOptions,
  virtqueueAreaBytes,
} from './virtqueue-layout.js';

export {
  type IndirectTableArea,
  indirectTableAreaBytes,
  legacyVirtqueueLayout,
  type VirtqueueAreas,
  type VirtqueueDriverOptions,
  virtqueueAreaBytes,
} from './virtqueue-layout.js';

const {
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_USED_F_NO_NOTIFY,
  DESC_BYTES,
  DESC_ADDR,
  DESC_LEN,
  DESC_FLAGS,
  DESC_NEXT,
  AVAIL_FLAGS,
  AVAIL_IDX,
  AVAIL_RING,
  AVAIL_ELEM_BYTES,
  USED_FLAGS,
  USED_IDX,
  USED_RING,
  USED_ELEM_BYTES,
  USED_ELEM_ID,
  USED_ELEM_LEN,
} = vring;

// split-ring.tex / virtio-queue.h constants (facts/virtio.md sections 2 and 7).

// Notification data for a split ring (facts/virtio.md 1.4): vq index in bits 0-15, next_off (avail idx
// bits 0-14) in bits 16-30, next_wrap (avail idx bit 15) in bit 31.
const NOTIFY_VQ_MASK = 0xffff;
const NOTIFY_NEXT_OFF_SHIFT = 16;
const NOTIFY_NEXT_OFF_MASK = 0x7fff;
const NOTIFY_NEXT_WRAP_SHIFT = 31;
const AVAIL_IDX_WRAP_BIT = 15;

const U32_MAX = 0xffff_ffff;
const CHAIN_MAX_BYTES = 2 ** 32;

/**
 * The little-endian accessors a driver needs over the memory the rings live in (guest memory for a
 * guest driver). hw/'s QueueMemory for the device side has the same shape, so one object serves both.
 */
export interface DriverQueueMemory {
  read(addr: bigint, length: number): Uint8Array;
  write(addr: bigint, bytes: Uint8Array): void;
  readU16(addr: bigint): number;
  writeU16(addr: bigint, v: number): void;
}

/** One guest buffer element. */
export interface BufferSegment {
  readonly addr: bigint;
  readonly len: number;
}

/** A buffer the device returned. */
export interface UsedBuffer<T> {
  /** Head descriptor index (the used element's `id`). */
  readonly id: number;
  /** Bytes the device says it wrote into the device-writable part. */
  readonly len: number;
  readonly token: T;
}

export interface AddOptions {
  /** Use an indirect table. Default: when tables are configured and the buffer has several segments. */
  readonly indirect?: boolean;
}

/** Why the driver gave up on the device's used ring. */
export type VirtqueueDriverFault = Readonly<
  | { kind: 'used-index-jump'; lastUsedIdx: number; usedIdx: number; outstanding: number }
  | { kind: 'used-id-out-of-range'; id: number }
  | { kind: 'used-id-not-in-flight'; id: number }
>;

function describeDriverFault(f: VirtqueueDriverFault): string {
  switch (f.kind) {
    case 'used-index-jump':
      return `used idx moved from ${f.lastUsedIdx} to ${f.usedIdx} with ${f.outstanding} buffers outstanding`;
    case 'used-id-out-of-range':
      return `used id ${f.id} is not a descriptor index`;
    case 'used-id-not-in-flight':
      return `used id ${f.id} is not a head the device owns`;
  }
}

/** The device broke the used ring; the queue is broken until reset. */
export class VirtqueueDriverError extends LabError {
  readonly fault: VirtqueueDriverFault;

  constructor(fault: VirtqueueDriverFault) {
    super('bad-input', `virtqueue driver: ${describeDriverFault(fault)}`);
    this.name = 'VirtqueueDriverError';
    this.fault = fault;
  }
}

/** The split-ring.tex event test: was entry `eventIdx` among old..new-1 (mod 2^16)? */
function needEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return wrap16(newIdx - eventIdx - 1) < wrap16(newIdx - oldIdx);
}

const wrap16 = (n: number): number => ((n % IDX_MODULUS) + IDX_MODULUS) % IDX_MODULUS;

function encodeDescriptor(
  out: Uint8Array,
  at: number,
  addr: bigint,
  len: number,
  flags: number,
  next: number,
): void {
  writeU64(out, at + DESC_ADDR, addr);
  writeLe(out, at + DESC_LEN, 4, len);
  writeLe(out, at + DESC_FLAGS, 2, flags);
  writeLe(out, at + DESC_NEXT, 2, next);
}

interface InFlight<T> {
  readonly token: T;
  /** Descriptors of the queue table the buffer holds (1 for an indirect buffer). */
  readonly descCount: number;
  /** The last of them: the free list continues from it when they are returned. */
  readonly lastDesc: number;
  published: boolean;
}

export class VirtqueueDriver<T = void> {
  readonly #memory: DriverQueueMemory;
  readonly #options: VirtqueueDriverOptions;
  /** Free-list links, private to the driver: nextFree[i] is the free descriptor after i. */
  readonly #nextFree: Uint16Array;
  readonly #heads: Array<InFlight<T> | undefined>;
  #freeHead = 0;
  #numFree = 0;
  #inFlightCount = 0;
  /** avail.idx including added but not yet published buffers. */
  #shadowAvailIdx = 0;
  #availIdx = 0;
  /** avail.idx at the last kick check. */
  #kickCheckedIdx = 0;
  #lastUsedIdx = 0;
  #unpublished: number[] = [];
  #usedNotifications = true;
  #broken: VirtqueueDriverError | undefined;

  /** Checks the layout and writes the rings out zeroed (the driver's "allocate zeroed areas"). */
  constructor(memory: DriverQueueMemory, options: VirtqueueDriverOptions) {
    checkLayout(options);
    this.#memory = memory;
    this.#options = Object.freeze({ ...options });
    this.#nextFree = new Uint16Array(options.size);
    this.#heads = new Array<InFlight<T> | undefined>(options.size).fill(undefined);
    this.#initRings(options.startIdx ?? 0);
  }

  get size(): number {
    return this.#options.size;
  }

  /** Descriptors of the queue table not holding a buffer. */
  get numFree(): number {
    return this.#numFree;
  }

  /** Buffers added and not yet taken back. */
  get inFlightCount(): number {
    return this.#inFlightCount;
  }

  /** avail.idx as last published. */
  get availIdx(): number {
    return this.#availIdx;
  }

  /** Index of the next used ring entry the driver will read. */
  get lastUsedIdx(): number {
    return this.#lastUsedIdx;
  }

  /** The error that broke the queue, if the device broke it. */
  get broken(): VirtqueueDriverError | undefined {
    return this.#broken;
  }

  /**
   * Place a buffer of `outSegments` (device-readable) then `inSegments` (device-writable) and put its
   * head in the next available ring slot. It reaches the device at the next `publish`. Returns the
   * head. Throws ENOSPC when too few descriptors are free.
   */
  add(
    outSegments: readonly BufferSegment[],
    inSegments: readonly BufferSegment[],
    token: T,
    options: AddOptions = {},
  ): number {
    this.#checkUsable();
    const { size, indirectTables, availAddr } = this.#options;
    const segments = [...outSegments, ...inSegments];
    checkSegments(segments);
    const indirect = options.indirect ?? (indirectTables !== undefined && segments.length > 1);
    if (indirect && indirectTables === undefined) {
      throw new LabError('invalid-state', 'indirect buffer requested but no indirect tables were configured');
    }
    const limit = indirect ? Math.min(size, indirectTables!.maxSegments) : size;
    if (segments.length > limit) {
      throw new LabError('bad-input', `${segments.length} segments exceed the chain limit of ${limit}`);
    }
    const needed = indirect ? 1 : segments.length;
    if (this.#numFree < needed) {
      throw errnoError('ENOSPC', `virtqueue: ${needed} descriptors needed, ${this.#numFree} free`);
    }

    const descs: number[] = [];
    for (let i = 0, d = this.#freeHead; i < needed; i++, d = this.#nextFree[d]!) descs.push(d);
    const head = descs[0]!;
    // The chain's descriptors linked by `next`: table entries 0..n-1, or the free descriptors taken.
    const links = indirect ? segments.map((_, i) => i) : descs;
    const chain = new Uint8Array(segments.length * DESC_BYTES);
    segments.forEach((s, i) => {
      const last = i === segments.length - 1;
      const flags = (i >= outSegments.length ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      encodeDescriptor(chain, i * DESC_BYTES, s.addr, s.len, flags, last ? 0 : links[i + 1]!);
    });
    if (indirect) {
      const tableAddr = indirectTables!.addr + BigInt(head * indirectTables!.maxSegments * DESC_BYTES);
      this.#memory.write(tableAddr, chain);
      const pointer = new Uint8Array(DESC_BYTES);
      encodeDescriptor(pointer, 0, tableAddr, chain.length, VIRTQ_DESC_F_INDIRECT, 0);
      this.#memory.write(this.#descAddr(head), pointer);
    } else {
      descs.forEach((d, i) => {
        this.#memory.write(this.#descAddr(d), chain.subarray(i * DESC_BYTES, (i + 1) * DESC_BYTES));
      });
    }
    const slot = this.#shadowAvailIdx % size;
    this.#memory.writeU16(availAddr + BigInt(AVAIL_RING + AVAIL_ELEM_BYTES * slot), head);

    const lastDesc = descs[descs.length - 1]!;
    this.#freeHead = this.#nextFree[lastDesc]!;
    this.#numFree -= needed;
    this.#heads[head] = { token, descCount: needed, lastDesc, published: false };
    this.#inFlightCount++;
    this.#unpublished.push(head);
    this.#shadowAvailIdx = wrap16(this.#shadowAvailIdx + 1);
    return head;
  }

  /** Make the added buffers visible to the device: write avail.idx. */
  publish(): void {
    this.#checkUsable();
    this.#memory.writeU16(this.#options.availAddr + BigInt(AVAIL_IDX), this.#shadowAvailIdx);
    this.#availIdx = this.#shadowAvailIdx;
    for (const h of this.#unpublished) this.#heads[h]!.published = true;
    this.#unpublished = [];
  }

  /**
   * Whether the buffers published since the last check need an available buffer notification:
   * without VIRTIO_F_EVENT_IDX unless used.flags has NO_NOTIFY; with it if avail_event was among them.
   */
  kickNeeded(): boolean {
    this.#checkUsable();
    const { eventIdx, usedAddr, size } = this.#options;
    const newIdx = this.#availIdx;
    const oldIdx = this.#kickCheckedIdx;
    let needed: boolean;
    if (eventIdx) {
      const availEvent = this.#memory.readU16(usedAddr + BigInt(USED_RING + USED_ELEM_BYTES * size));
      needed = needEvent(availEvent, newIdx, oldIdx);
    } else {
      const flags = this.#memory.readU16(usedAddr + BigInt(USED_FLAGS));
      needed = newIdx !== oldIdx && (flags & VIRTQ_USED_F_NO_NOTIFY) === 0;
    }
    this.#kickCheckedIdx = newIdx;
    return needed;
  }

  /** The 32-bit value to write to the notify address with VIRTIO_F_NOTIFICATION_DATA (facts 1.4). */
  notificationData(vqIndex: number): number {
    if (!Number.isInteger(vqIndex) || vqIndex < 0 || vqIndex > NOTIFY_VQ_MASK) {
      throw new LabError('bad-input', `virtqueue index ${vqIndex} out of range 0..65535`);
    }
    const nextOff = this.#availIdx & NOTIFY_NEXT_OFF_MASK;
    const nextWrap = (this.#availIdx >> AVAIL_IDX_WRAP_BIT) & 1;
    return (vqIndex | (nextOff << NOTIFY_NEXT_OFF_SHIFT) | (nextWrap << NOTIFY_NEXT_WRAP_SHIFT)) >>> 0;
  }

  /** Take back the next used buffer and free its descriptors, or undefined if there is none. */
  getUsed(): UsedBuffer<T> | undefined {
    this.#checkUsable();
    const { size, usedAddr, availAddr, eventIdx } = this.#options;
    const usedIdx = this.#memory.readU16(usedAddr + BigInt(USED_IDX));
    if (usedIdx === this.#lastUsedIdx) return undefined;
    const outstanding = wrap16(this.#availIdx - this.#lastUsedIdx);
    if (wrap16(usedIdx - this.#lastUsedIdx) > outstanding) {
      this.#break({ kind: 'used-index-jump', lastUsedIdx: this.#lastUsedIdx, usedIdx, outstanding });
    }
    const slot = this.#lastUsedIdx % size;
    const elem = this.#memory.read(usedAddr + BigInt(USED_RING + USED_ELEM_BYTES * slot), USED_ELEM_BYTES);
    const id = u32(elem, USED_ELEM_ID);
    const len = u32(elem, USED_ELEM_LEN);
    if (id >= size) this.#break({ kind: 'used-id-out-of-range', id });
    const entry = this.#heads[id];
    if (!entry?.published) this.#break({ kind: 'used-id-not-in-flight', id });
    const next = wrap16(this.#lastUsedIdx + 1);
    // With EVENT_IDX, ask to hear about the entry after this one (Linux does the same in get_buf).
    if (eventIdx && this.#usedNotifications)
      this.#memory.writeU16(this.#usedEventAddr(availAddr, size), next);
    this.#lastUsedIdx = next;
    this.#release(id, entry!);
    return { id, len, token: entry!.token };
  }

  /**
   * Ask for used buffer notifications again. Returns true if used buffers are already waiting, which
   * the caller must take: no notification will come for them.
   */
  enableUsedNotifications(): boolean {
    this.#checkUsable();
    const { eventIdx, availAddr, size, usedAddr } = this.#options;
    this.#usedNotifications = true;
    if (eventIdx) this.#memory.writeU16(this.#usedEventAddr(availAddr, size), this.#lastUsedIdx);
    else this.#memory.writeU16(availAddr + BigInt(AVAIL_FLAGS), 0);
    return this.#memory.readU16(usedAddr + BigInt(USED_IDX)) !== this.#lastUsedIdx;
  }

  /**
   * Advise the device that used buffer notifications are not needed: avail.flags NO_INTERRUPT, or
   * (with EVENT_IDX, where flags must stay 0) stop moving used_event.
   */
  disableUsedNotifications(): void {
    this.#checkUsable();
    const { eventIdx, availAddr } = this.#options;
    this.#usedNotifications = false;
    if (!eventIdx) this.#memory.writeU16(availAddr + BigInt(AVAIL_FLAGS), VIRTQ_AVAIL_F_NO_INTERRUPT);
  }

  /**
   * After a device or queue reset: detach every buffer still out (returning their tokens, by head
   * index) and lay the rings out again, zeroed, with both indexes at 0. Clears a broken queue.
   */
  reset(): T[] {
    const tokens: T[] = [];
    for (const h of this.#heads) if (h) tokens.push(h.token);
    this.#broken = undefined;
    this.#initRings(0);
    return tokens;
  }

  #initRings(startIdx: number): void {
    const { size, descAddr, availAddr, usedAddr } = this.#options;
    const bytes = virtqueueAreaBytes(size);
    this.#memory.write(descAddr, new Uint8Array(bytes.descTableBytes));
    this.#memory.write(availAddr, new Uint8Array(bytes.availRingBytes));
    this.#memory.write(usedAddr, new Uint8Array(bytes.usedRingBytes));
    if (startIdx !== 0) {
      this.#memory.writeU16(availAddr + BigInt(AVAIL_IDX), startIdx);
      this.#memory.writeU16(usedAddr + BigInt(USED_IDX), startIdx);
    }
    for (let i = 0; i < size; i++) this.#nextFree[i] = (i + 1) % size;
    this.#heads.fill(undefined);
    this.#freeHead = 0;
    this.#numFree = size;
    this.#inFlightCount = 0;
    this.#shadowAvailIdx = startIdx;
    this.#availIdx = startIdx;
    this.#kickCheckedIdx = startIdx;
    this.#lastUsedIdx = startIdx;
    this.#unpublished = [];
    this.#usedNotifications = true;
  }

  #release(head: number, entry: InFlight<T>): void {
    this.#nextFree[entry.lastDesc] = this.#freeHead;
    this.#freeHead = head;
    this.#numFree += entry.descCount;
    this.#heads[head] = undefined;
    this.#inFlightCount--;
  }

  #descAddr(index: number): bigint {
    return this.#options.descAddr + BigInt(DESC_BYTES * index);
  }

  #usedEventAddr(availAddr: bigint, size: number): bigint {
    return availAddr + BigInt(AVAIL_RING + AVAIL_ELEM_BYTES * size);
  }

  #break(fault: VirtqueueDriverFault): never {
    this.#broken = new VirtqueueDriverError(fault);
    throw this.#broken;
  }

  #checkUsable(): void {
    if (this.#broken) {
      throw new LabError('invalid-state', `virtqueue is broken: ${this.#broken.message}`, {
        cause: this.#broken,
      });
    }
  }
}

function checkSegments(segments: readonly BufferSegment[]): void {
  if (segments.length === 0) throw new LabError('bad-input', 'a buffer needs at least one segment');
  let total = 0;
  for (const s of segments) {
    if (!Number.isInteger(s.len) || s.len < 0 || s.len > U32_MAX) {
      throw new LabError('bad-input', `segment length ${s.len} is not a 32-bit unsigned integer`);
    }
    if (s.addr < 0n || s.addr + BigInt(s.len) > ADDRESS_SPACE_END) {
      throw new LabError(
        'bad-input',
        `segment 0x${s.addr.toString(16)}+${s.len} is outside the address space`,
      );
    }
    total += s.len;
  }
  if (total > CHAIN_MAX_BYTES) throw new LabError('bad-input', `buffer of ${total} bytes exceeds 2^32 bytes`);
}
