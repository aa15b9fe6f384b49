/**
 * The guest virtio-net driver's state while it runs (virtio-net-guest-driver.ts): queue indexes, the
 * buffer slot pools, the in-flight tokens, and the helpers every part of the driver shares (feature
 * test, the list of queues, publish-and-kick, the used-ring peek).
 */
import { virtio, vring } from '../../../spec/index.js';
import type { VirtqueueDriver } from '../virtqueue-driver.js';
import type { GuestDmaMemory, GuestPciAccess, GuestRegionAllocator } from './guest-access.js';
import type { MsixCapability } from './pci-capabilities.js';
import type { CtrlCompletion, InterruptRouting, VirtioNetCounters } from './virtio-net-types.js';
import type { QueueRings, VirtioTransport } from './virtio-transport.js';

export const bit = (n: number): bigint => 1n << BigInt(n);

// Queue indexes with one queue pair (facts 1.12): receiveq1, transmitq1, controlq.
export const RX_QUEUE = 0;
export const TX_QUEUE = 1;
export const CTRL_QUEUE = 2;

/** One control request slot: header at 0, data from 2, ack in the last byte. */
export const CTRL_SLOT_BYTES = 64;
export const CTRL_HDR_BYTES = virtio.VirtioNetCtrlHdr.sizeBytes;

export interface TxToken {
  readonly id: number;
  readonly slot: number;
  readonly bytes: number;
}
export interface CtrlToken {
  readonly id: number;
  readonly slot: number;
  readonly class: number;
  readonly command: number;
}
export interface Queue<T> {
  readonly index: number;
  readonly vq: VirtqueueDriver<T>;
  readonly rings: QueueRings;
  readonly vector: number;
}
export interface SlotPool {
  readonly base: bigint;
  readonly slotBytes: number;
  readonly free: number[];
}

export interface Running {
  readonly kind: 'up';
  readonly transport: VirtioTransport;
  readonly access: GuestPciAccess;
  readonly memory: GuestDmaMemory;
  readonly allocator: GuestRegionAllocator;
  readonly msix: MsixCapability | undefined;
  readonly irq: InterruptRouting;
  readonly features: bigint;
  readonly hdrBytes: number;
  readonly anyLayout: boolean;
  readonly frameBytes: number;
  readonly rx: Queue<number>;
  readonly rxPool: SlotPool;
  readonly tx: Queue<TxToken>;
  readonly txPool: SlotPool;
  readonly ctrl: { queue: Queue<CtrlToken>; pool: SlotPool } | undefined;
  readonly regions: bigint[];
  readonly txInFlight: Map<number, TxToken>;
  readonly ctrlInFlight: Map<number, CtrlToken>;
  /** MAC addresses of MAC_ADDR_SET requests in flight: the driver's MAC changes when one is acked. */
  readonly pendingMac: Map<number, Uint8Array>;
  readonly txReaped: number[];
  /** Control completions taken early (by a submission short of space) and not yet reported. */
  readonly ctrlReaped: CtrlCompletion[];
  mac: Uint8Array;
  netStatus: number;
  nextTxId: number;
  nextCtrlId: number;
}

export type DriverState =
  | { readonly kind: 'down' }
  | { readonly kind: 'failed'; readonly error: unknown; readonly transport: VirtioTransport | undefined }
  | Running;

export function hasFeature(r: Running, feature: number): boolean {
  return (r.features & bit(feature)) !== 0n;
}

export function queuesOf(r: Running): Array<Queue<unknown>> {
  const qs: Array<Queue<unknown>> = [r.rx, r.tx];
  if (r.ctrl) qs.push(r.ctrl.queue);
  return qs;
}

export function publish<T>(r: Running, counters: VirtioNetCounters, q: Queue<T>): void {
  q.vq.publish();
  if (q.vq.kickNeeded()) {
    r.transport.notify(q.index);
    counters.kicks++;
  } else {
    counters.kicksSuppressed++;
  }
}

export function usedWaiting(memory: GuestDmaMemory, q: Queue<unknown>): boolean {
  return memory.readU16(q.rings.usedAddr + BigInt(vring.USED_IDX)) !== q.vq.lastUsedIdx;
}
