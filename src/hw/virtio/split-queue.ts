/**
 * The device side of a split virtqueue (virtio 1.4 split-ring.tex, "Split Virtqueues"; facts/virtio.md
 * section 2): the device reads the available ring and the descriptor table the driver wrote, and writes
 * the used ring. Every value it reads is guest input; a malformed ring is reported as a typed
 * `SplitQueueError` and the device model decides what happens (typically DEVICE_NEEDS_RESET, facts 1.9).
 *
 * - Memory is reached only through `QueueMemory` (a DMA port on a device, guest memory in tests).
 *   Its DMA faults propagate unchanged. A failed pop or push changes no queue state.
 * - Chains are checked as a careful device checks them: indexes inside the table, no loops, no chain
 *   longer than the Queue Size (counting indirect entries, split-ring.tex "Indirect Descriptors"),
 *   readable before writable, at most one indirect table, not nested, never with NEXT, only when
 *   VIRTIO_F_INDIRECT_DESC was negotiated, no buffer past the end of the 64-bit address space, no more
 *   than 2^32 bytes in total. A head that is still in flight and an avail index that runs more than
 *   Queue Size ahead are rejected as well: both break the ring's accounting.
 * - Notifications: used buffer notifications follow avail.flags (NO_INTERRUPT) or, with
 *   VIRTIO_F_EVENT_IDX, used_event and the wrap-safe `vringNeedEvent`. Available buffer notifications
 *   are suppressed through used.flags (NO_NOTIFY) or avail_event, which a pop advances while they are on.
 * - Ring progress (`lastAvailIdx`, `usedIdx`, heads in flight) is saved and restored with the queue's
 *   configuration. No standard device part carries it (facts 4.3, open point 8.5).
 *
 * Left out: the packed ring, VIRTIO_F_IN_ORDER batching, legacy guest-endian rings (little-endian
 * only), VIRTIO_F_NOTIFY_ON_EMPTY, and memory barriers (accesses happen in program order).
 *
 * SPEC-DEVIATION: a misaligned or out-of-range ring address is rejected when the queue is configured;
 * the spec only says the driver MUST align the areas and leaves a device's reaction open.
 *
 * This file holds the ring itself; the configuration and its checks are in split-queue-config.ts, the
 * faults in split-queue-fault.ts, the saved-state format and its parser in split-queue-saved-state.ts.
 */
import { LabError, u16, u32, u64, writeLe } from '../../base/index.js';
import { vring } from '../../spec/index.js';
import {
  ADDRESS_SPACE_END,
  checkConfig,
  type QueueMemory,
  type SplitQueueConfig,
  wrap16,
} from './split-queue-config.js';
import { type DescriptorTableKind, SplitQueueError } from './split-queue-fault.js';
import {
  parseSavedState,
  SPLIT_QUEUE_STATE_VERSION,
  type SplitQueueSavedState,
} from './split-queue-saved-state.js';

export type { QueueMemory, SplitQueueConfig } from './split-queue-config.js';
export {
  type DescriptorTableKind,
  type SplitQueueArea,
  SplitQueueError,
  type SplitQueueFault,
} from './split-queue-fault.js';
export { SPLIT_QUEUE_STATE_VERSION, type SplitQueueSavedState } from './split-queue-saved-state.js';

const {
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_USED_F_NO_NOTIFY,
  VIRTQ_MAX_SIZE,
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

export {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
};

const U32_MAX = 0xffff_ffff;
/** "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in total" (split-ring.tex). */
const CHAIN_MAX_BYTES = 2 ** 32;

/** One contiguous buffer element of a chain. */
export interface ChainSegment {
  readonly addr: bigint;
  readonly len: number;
}

/** A descriptor chain the device took from the available ring. */
export interface DescriptorChain {
  /** Index of the head descriptor: the `id` the used ring gives back. */
  readonly head: number;
  /** Device-readable elements, in chain order. */
  readonly readable: readonly ChainSegment[];
  /** Device-writable elements, in chain order (all after the readable ones). */
  readonly writable: readonly ChainSegment[];
  readonly readableBytes: number;
  readonly writableBytes: number;
}

/**
 * The event-index test of split-ring.tex: true if `eventIdx` is one of the indexes old..new-1 (mod 2^16),
 * that is, if the entry the other side asked to hear about was written in this batch.
 */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return wrap16(newIdx - eventIdx - 1) < wrap16(newIdx - oldIdx);
}

interface Descriptor {
  readonly addr: bigint;
  readonly len: number;
  readonly flags: number;
  readonly next: number;
}

export class SplitQueue {
  readonly #memory: QueueMemory;
  #config: SplitQueueConfig;
  #lastAvailIdx = 0;
  #usedIdx = 0;
  /** Insertion order is pop order. */
  #inFlight = new Set<number>();
  #availNotifications = true;
  /** used.idx at the last `needsInterrupt`; undefined after a restore (the next check says yes). */
  #signalledUsedIdx: number | undefined = 0;

  /** Throws `SplitQueueError` if the configuration is one the device cannot run. */
  constructor(memory: QueueMemory, config: SplitQueueConfig) {
    const fault = checkConfig(config);
    if (fault) throw new SplitQueueError(fault);
    this.#memory = memory;
    this.#config = Object.freeze({ ...config });
  }

  get config(): SplitQueueConfig {
    return this.#config;
  }

  get lastAvailIdx(): number {
    return this.#lastAvailIdx;
  }

  get usedIdx(): number {
    return this.#usedIdx;
  }

  /** Heads taken and not yet returned, in the order they were taken. */
  get inFlightHeads(): readonly number[] {
    return [...this.#inFlight];
  }

  /**
   * True if the driver has made buffers available that the device has not taken yet. Throws
   * `SplitQueueError` if avail.idx is more than the queue size ahead.
   */
  hasAvailable(): boolean {
    return this.#readAvailIdx() !== this.#lastAvailIdx;
  }

  /** Take the next available chain, or undefined if there is none. */
  popAvailable(): DescriptorChain | undefined {
    const { size, availAddr, eventIdx } = this.#config;
    const availIdx = this.#readAvailIdx();
    if (availIdx === this.#lastAvailIdx) return undefined;
    const slot = this.#lastAvailIdx % size;
    const head = this.#memory.readU16(availAddr + BigInt(AVAIL_RING + AVAIL_ELEM_BYTES * slot));
    if (head < size && this.#inFlight.has(head)) throw new SplitQueueError({ kind: 'head-in-flight', head });
    const chain = this.readChain(head);
    const next = wrap16(this.#lastAvailIdx + 1);
    // "Notify me when you write entry `next`": the first entry not yet seen.
    if (eventIdx && this.#availNotifications) this.#memory.writeU16(this.#availEventAddr(), next);
    this.#lastAvailIdx = next;
    this.#inFlight.add(head);
    return chain;
  }

  /**
   * Walk and check the chain that starts at `head` without taking it. A device uses this to rebuild
   * its in-flight chains after a restore.
   */
  readChain(head: number): DescriptorChain {
    const { size, descAddr, indirect } = this.#config;
    const readable: ChainSegment[] = [];
    const writable: ChainSegment[] = [];
    let readableBytes = 0;
    let writableBytes = 0;
    let buffers = 0;
    let table: DescriptorTableKind = 'queue';
    let tableAddr = descAddr;
    let tableEntries = size;
    let visited = 0;
    let index = head;
    for (;;) {
      if (!Number.isInteger(index) || index < 0 || index >= tableEntries) {
        throw new SplitQueueError({ kind: 'index-out-of-range', head, table, index, limit: tableEntries });
      }
      // A walk that visits more entries than the table holds has gone round a loop.
      if (++visited > tableEntries) {
        throw new SplitQueueError({ kind: 'chain-too-long', head, table, limit: tableEntries });
      }
      const d = this.#readDescriptor(tableAddr, index);
      if ((d.flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (table === 'indirect') throw new SplitQueueError({ kind: 'indirect-nested', head, index });
        if (!indirect) throw new SplitQueueError({ kind: 'indirect-not-negotiated', head, index });
        if ((d.flags & VIRTQ_DESC_F_NEXT) !== 0)
          throw new SplitQueueError({ kind: 'indirect-with-next', head, index });
        if (d.len === 0 || d.len % DESC_BYTES !== 0) {
          throw new SplitQueueError({ kind: 'indirect-bad-length', head, index, len: d.len });
        }
        if (d.addr + BigInt(d.len) > ADDRESS_SPACE_END) {
          throw new SplitQueueError({ kind: 'buffer-beyond-address-space', head, addr: d.addr, len: d.len });
        }
        // The WRITE flag of the descriptor that points at the table is ignored (split-ring.tex).
        table = 'indirect';
        tableAddr = d.addr;
        tableEntries = d.len / DESC_BYTES;
        visited = 0;
        index = 0;
        continue;
      }
      if (++buffers > size) throw new SplitQueueError({ kind: 'chain-too-long', head, table, limit: size });
      if (d.addr + BigInt(d.len) > ADDRESS_SPACE_END) {
        throw new SplitQueueError({ kind: 'buffer-beyond-address-space', head, addr: d.addr, len: d.len });
      }
      if ((d.flags & VIRTQ_DESC_F_WRITE) !== 0) {
        writable.push({ addr: d.addr, len: d.len });
        writableBytes += d.len;
      } else {
        if (writable.length > 0) throw new SplitQueueError({ kind: 'readable-after-writable', head, index });
        readable.push({ addr: d.addr, len: d.len });
        readableBytes += d.len;
      }
      if (readableBytes + writableBytes > CHAIN_MAX_BYTES) {
        throw new SplitQueueError({ kind: 'chain-bytes-overflow', head });
      }
      if ((d.flags & VIRTQ_DESC_F_NEXT) === 0) break;
      index = d.next;
    }
    return { head, readable, writable, readableBytes, writableBytes };
  }

  /**
   * The chain's device-readable bytes, at most `limitBytes` of them (a device reads no more than it
   * can use: a chain may describe up to 4 GiB).
   */
  gatherReadable(chain: DescriptorChain, limitBytes: number = chain.readableBytes): Uint8Array {
    checkByteCount(limitBytes, 'limitBytes');
    const total = Math.min(limitBytes, chain.readableBytes);
    const out = new Uint8Array(total);
    let at = 0;
    for (const s of chain.readable) {
      if (at >= total) break;
      const n = Math.min(s.len, total - at);
      if (n > 0) out.set(this.#memory.read(s.addr, n), at);
      at += n;
    }
    return out;
  }

  /**
   * Write `bytes` into the chain's device-writable part, starting `offsetBytes` into it. Returns how
   * many bytes fit (the rest is dropped).
   */
  scatterWritable(chain: DescriptorChain, bytes: Uint8Array, offsetBytes = 0): number {
    checkByteCount(offsetBytes, 'offsetBytes');
    let skip = offsetBytes;
    let written = 0;
    for (const s of chain.writable) {
      if (written >= bytes.length) break;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, bytes.length - written);
      this.#memory.write(s.addr + BigInt(skip), bytes.subarray(written, written + n));
      written += n;
      skip = 0;
    }
    return written;
  }

  /** Return chain `head` to the driver with `len` bytes written: used element first, then used.idx. */
  pushUsed(head: number, len: number): void {
    if (!Number.isInteger(len) || len < 0 || len > U32_MAX) {
      throw new LabError('bad-input', `used length ${len} is not a 32-bit unsigned integer`);
    }
    if (!this.#inFlight.has(head))
      throw new LabError('invalid-state', `virtqueue: head ${head} is not in flight`);
    const { size, usedAddr } = this.#config;
    const elem = new Uint8Array(USED_ELEM_BYTES);
    writeLe(elem, USED_ELEM_ID, 4, head);
    writeLe(elem, USED_ELEM_LEN, 4, len);
    this.#memory.write(usedAddr + BigInt(USED_RING + USED_ELEM_BYTES * (this.#usedIdx % size)), elem);
    const next = wrap16(this.#usedIdx + 1);
    this.#memory.writeU16(usedAddr + BigInt(USED_IDX), next);
    this.#usedIdx = next;
    this.#inFlight.delete(head);
  }

  /**
   * Whether the used entries written since the last call need a used buffer notification. Without
   * VIRTIO_F_EVENT_IDX: yes unless avail.flags has NO_INTERRUPT; with it: yes if used_event was one of
   * the entries. Nothing written since the last call needs none.
   */
  needsInterrupt(): boolean {
    const { availAddr, eventIdx, size } = this.#config;
    const newIdx = this.#usedIdx;
    const oldIdx = this.#signalledUsedIdx;
    let needed: boolean;
    if (eventIdx) {
      const usedEvent = this.#memory.readU16(availAddr + BigInt(AVAIL_RING + AVAIL_ELEM_BYTES * size));
      needed = oldIdx === undefined || vringNeedEvent(usedEvent, newIdx, oldIdx);
    } else {
      const flags = this.#memory.readU16(availAddr + BigInt(AVAIL_FLAGS));
      needed = newIdx !== oldIdx && (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    }
    this.#signalledUsedIdx = newIdx;
    return needed;
  }

  /**
   * Ask the driver for available buffer notifications again. Returns true if buffers are already
   * available, which the caller must take: no notification will come for them.
   */
  enableAvailNotifications(): boolean {
    this.#availNotifications = true;
    const { eventIdx, usedAddr } = this.#config;
    if (eventIdx) this.#memory.writeU16(this.#availEventAddr(), this.#readAvailIdx());
    else this.#memory.writeU16(usedAddr + BigInt(USED_FLAGS), 0);
    return this.hasAvailable();
  }

  /**
   * Tell the driver notifications are not needed: used.flags NO_NOTIFY, or (with EVENT_IDX, where
   * flags must stay 0) stop moving avail_event, so the driver's next batches do not cross it.
   */
  disableAvailNotifications(): void {
    this.#availNotifications = false;
    const { eventIdx, usedAddr } = this.#config;
    if (!eventIdx) this.#memory.writeU16(usedAddr + BigInt(USED_FLAGS), VIRTQ_USED_F_NO_NOTIFY);
  }

  /** The queue's configuration and progress. Reads no guest memory and changes nothing. */
  saveState(): SplitQueueSavedState {
    return {
      version: SPLIT_QUEUE_STATE_VERSION,
      config: { ...this.#config },
      lastAvailIdx: this.#lastAvailIdx,
      usedIdx: this.#usedIdx,
      inFlightHeads: [...this.#inFlight],
      availNotifications: this.#availNotifications,
    };
  }

  /**
   * Replace configuration and progress with a saved state from an untrusted source. All of it is
   * checked first (configuration by the same rules as the constructor); on error nothing changes.
   * Guest memory is neither read nor written: the rings arrive with guest memory.
   */
  restoreState(saved: unknown): void {
    const s = parseSavedState(saved);
    this.#config = Object.freeze({ ...s.config });
    this.#lastAvailIdx = s.lastAvailIdx;
    this.#usedIdx = s.usedIdx;
    this.#inFlight = new Set(s.inFlightHeads);
    this.#availNotifications = s.availNotifications;
    // Which used.idx the driver last heard about is not known: the first check after a restore says yes.
    this.#signalledUsedIdx = undefined;
  }

  #readAvailIdx(): number {
    const availIdx = this.#memory.readU16(this.#config.availAddr + BigInt(AVAIL_IDX));
    if (wrap16(availIdx - this.#lastAvailIdx) > this.#config.size) {
      throw new SplitQueueError({ kind: 'avail-index-jump', lastAvailIdx: this.#lastAvailIdx, availIdx });
    }
    return availIdx;
  }

  #availEventAddr(): bigint {
    return this.#config.usedAddr + BigInt(USED_RING + USED_ELEM_BYTES * this.#config.size);
  }

  #readDescriptor(tableAddr: bigint, index: number): Descriptor {
    const b = this.#memory.read(tableAddr + BigInt(DESC_BYTES * index), DESC_BYTES);
    return {
      addr: u64(b, DESC_ADDR),
      len: u32(b, DESC_LEN),
      flags: u16(b, DESC_FLAGS),
      next: u16(b, DESC_NEXT),
    };
  }
}

function checkByteCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new LabError('bad-input', `${what} ${n} is not a byte count`);
}
