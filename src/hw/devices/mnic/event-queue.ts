/**
 * The eswitch manager's event queue: vhca state-change events (facts/kernel.md 7.3) written by DMA as
 * 16-byte entries (spec/mnic-fw.ts MnicEqe) into a ring in host memory, then one MSI-X message.
 * Registers (in the PF window): ring base, log2 size, MSI-X vector, consumer index (the driver writes
 * how far it consumed), producer index (read-only), control (enable latches base/size/vector and zeroes
 * both indices), overflow count.
 *
 * An entry's owner byte carries the pass's phase (1 on the first pass, 0 on the second, …) so the driver
 * tells new entries from old without reading the producer index. Events arrive while the queue is off,
 * while it is full, or whose DMA faults are dropped and counted in the overflow register — the driver
 * can re-query states (QUERY_VHCA_STATE) after an overflow. Firmware posts the events a command caused
 * after the command completes, in bursts that fit the ring (flush below), and signals once per burst
 * that filled the ring and once at the end.
 * Left out: more than one queue, other event types, interrupt moderation, arming.
 */
import { offsetOf } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { Msix } from '../../caps/msix.js';
import type { DmaPort } from '../../dma/index.js';
import type { Iova } from '../../iommu/index.js';

export interface VhcaEventRecord {
  readonly fnId: number;
  readonly vhcaId: number;
  readonly state: number;
}

/** MnicEqe field offsets (spec/mnic-fw.ts), for the hand-written burst encoder/decoder. */
const field = (name: 'type' | 'owner' | 'fnId' | 'vhcaId' | 'state'): number =>
  offsetOf(mnicfw.MnicEqe, name);
const EQE_TYPE = field('type');
const EQE_OWNER = field('owner');
const EQE_FN_ID = field('fnId');
const EQE_VHCA_ID = field('vhcaId');
const EQE_STATE = field('state');

interface Latched {
  readonly base: bigint;
  readonly logSize: number;
  readonly vector: number;
}

export class MnicEventQueue {
  #baseLo = 0;
  #baseHi = 0;
  #logSize = 0;
  #vector = 0;
  #ci = 0;
  #pi = 0;
  #overflow = 0;
  #latched: Latched | undefined;
  readonly #pending: VhcaEventRecord[] = [];
  #flushing = false;

  get enabled(): boolean {
    return this.#latched !== undefined;
  }

  get overflowCount(): number {
    return this.#overflow;
  }

  read(offset: number): number {
    switch (offset) {
      case mnicfw.MNIC_EQ_BASE_LO:
        return this.#baseLo;
      case mnicfw.MNIC_EQ_BASE_HI:
        return this.#baseHi;
      case mnicfw.MNIC_EQ_LOG_SIZE:
        return this.#logSize;
      case mnicfw.MNIC_EQ_MSIX_VECTOR:
        return this.#vector;
      case mnicfw.MNIC_EQ_CONSUMER_INDEX:
        return this.#ci;
      case mnicfw.MNIC_EQ_PRODUCER_INDEX:
        return this.#pi;
      case mnicfw.MNIC_EQ_CTRL:
        return this.enabled ? mnicfw.MNIC_EQ_CTRL_ENABLE : 0;
      case mnicfw.MNIC_EQ_OVERFLOW_COUNT:
        return this.#overflow;
      default:
        return 0;
    }
  }

  write(offset: number, value: number): void {
    switch (offset) {
      case mnicfw.MNIC_EQ_BASE_LO:
        this.#baseLo = value >>> 0;
        break;
      case mnicfw.MNIC_EQ_BASE_HI:
        this.#baseHi = value >>> 0;
        break;
      case mnicfw.MNIC_EQ_LOG_SIZE:
        this.#logSize = value >>> 0;
        break;
      case mnicfw.MNIC_EQ_MSIX_VECTOR:
        this.#vector = value >>> 0;
        break;
      case mnicfw.MNIC_EQ_CONSUMER_INDEX:
        this.#ci = value >>> 0;
        break;
      case mnicfw.MNIC_EQ_CTRL:
        this.#setEnable((value & mnicfw.MNIC_EQ_CTRL_ENABLE) !== 0);
        break;
      default:
        // Read-only and reserved registers absorb writes.
        break;
    }
  }

  #setEnable(on: boolean): void {
    if (!on) {
      this.#latched = undefined;
      return;
    }
    const base = (BigInt(this.#baseHi) << 32n) | BigInt(this.#baseLo);
    const valid =
      this.#logSize >= 1 &&
      this.#logSize <= mnicfw.MNIC_EQ_MAX_LOG_SIZE &&
      base % BigInt(mnicfw.MNIC_EQE_BYTES) === 0n;
    // An invalid ring stays off, as a queue-creation command would fail.
    this.#latched = valid ? { base, logSize: this.#logSize, vector: this.#vector } : undefined;
    this.#ci = 0;
    this.#pi = 0;
  }

  queue(e: VhcaEventRecord): void {
    this.#pending.push(e);
  }

  /**
   * Write the pending events to the ring through `port` (the PF's DMA) and signal. Firmware writes
   * bursts of consecutive slots — as many events as the ring has room for, up to its end — one DMA
   * write each, and signals after a burst that filled the ring while events remain, then goes on with
   * the room the driver's handler made (in this model the handler runs at once); events that still find
   * no room, find the queue off, or whose DMA faults are dropped and counted. One signal at the end.
   * Events queued while a flush signals (a handler issuing commands) are written after the current ones.
   */
  flush(port: DmaPort | undefined, msix: Msix | undefined): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const events = this.#pending.splice(0);
        let next = 0;
        let unsignalled = false;
        while (next < events.length) {
          const q = this.#latched;
          if (q === undefined || port === undefined) break;
          const size = 1 << q.logSize;
          const room = size - ((this.#pi - this.#ci) >>> 0);
          if (room <= 0) {
            // Full: signal so the driver consumes; with no progress the rest is dropped.
            if (!unsignalled || !this.#signal(msix)) break;
            unsignalled = false;
            if (size - ((this.#pi - this.#ci) >>> 0) <= 0) break;
            continue;
          }
          const slot = this.#pi & (size - 1);
          const n = Math.min(room, events.length - next, size - slot);
          const bytes = this.#encode(events, next, n, q.logSize);
          next += n;
          const w = port.write((q.base + BigInt(slot * mnicfw.MNIC_EQE_BYTES)) as Iova, bytes);
          if (!w.ok) {
            this.#overflow += n;
            continue;
          }
          this.#pi = (this.#pi + n) >>> 0;
          unsignalled = true;
        }
        this.#overflow += events.length - next;
        if (unsignalled) this.#signal(msix);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** `n` entries from `events[from]` for the slots from the producer index on (MnicEqe, by hand: hot). */
  #encode(events: readonly VhcaEventRecord[], from: number, n: number, logSize: number): Uint8Array {
    const bytes = new Uint8Array(n * mnicfw.MNIC_EQE_BYTES);
    const v = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) {
      const e = events[from + i]!;
      const at = i * mnicfw.MNIC_EQE_BYTES;
      bytes[at + EQE_TYPE] = mnicfw.MNIC_EVENT_TYPE_VHCA_STATE_CHANGE;
      bytes[at + EQE_OWNER] = (((this.#pi + i) >>> logSize) & 1) ^ 1;
      v.setUint32(at + EQE_FN_ID, e.fnId, true);
      v.setUint32(at + EQE_VHCA_ID, e.vhcaId, true);
      bytes[at + EQE_STATE] = e.state;
    }
    return bytes;
  }

  /** Raise the queue's vector; false when it cannot be (no MSI-X, vector outside the table). */
  #signal(msix: Msix | undefined): boolean {
    const q = this.#latched;
    if (msix === undefined || q === undefined || q.vector >= msix.options.vectors) return false;
    msix.signal(q.vector);
    return true;
  }

  reset(): void {
    this.#baseLo = 0;
    this.#baseHi = 0;
    this.#logSize = 0;
    this.#vector = 0;
    this.#ci = 0;
    this.#pi = 0;
    this.#overflow = 0;
    this.#latched = undefined;
    this.#pending.length = 0;
  }
}
