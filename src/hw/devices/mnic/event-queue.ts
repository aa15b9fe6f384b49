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
 * after the command completes, and signals once per batch.
 * Left out: more than one queue, other event types, interrupt moderation, arming.
 */
import { encodeStruct } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { Msix } from '../../caps/msix.js';
import type { DmaPort } from '../../dma/index.js';
import type { Iova } from '../../iommu/index.js';

export interface VhcaEventRecord {
  readonly fnId: number;
  readonly vhcaId: number;
  readonly state: number;
}

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

  /** Write the pending events to the ring through `port` (the PF's DMA) and signal once. */
  flush(port: DmaPort | undefined, msix: Msix | undefined): void {
    if (this.#pending.length === 0) return;
    const events = this.#pending.splice(0);
    const q = this.#latched;
    let wrote = false;
    for (const e of events) {
      if (q === undefined || port === undefined || this.#pi - this.#ci >= 1 << q.logSize) {
        this.#overflow++;
        continue;
      }
      const slot = this.#pi & ((1 << q.logSize) - 1);
      const owner = ((this.#pi >>> q.logSize) & 1) ^ 1;
      const bytes = encodeStruct(mnicfw.MnicEqe, {
        type: mnicfw.MNIC_EVENT_TYPE_VHCA_STATE_CHANGE,
        owner,
        fnId: e.fnId,
        vhcaId: e.vhcaId,
        state: e.state,
      });
      const w = port.write((q.base + BigInt(slot * mnicfw.MNIC_EQE_BYTES)) as Iova, bytes);
      if (!w.ok) {
        this.#overflow++;
        continue;
      }
      this.#pi = (this.#pi + 1) >>> 0;
      wrote = true;
    }
    if (wrote && msix !== undefined && q !== undefined && q.vector < msix.options.vectors)
      msix.signal(q.vector);
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
