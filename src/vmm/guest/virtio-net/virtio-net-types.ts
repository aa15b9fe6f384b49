/**
 * The public types of the guest virtio-net driver (virtio-net-guest-driver.ts): init options, events,
 * counters, interrupt routing and the in-flight snapshot.
 */
import type { StructValue } from '../../../base/index.js';
import type { virtio } from '../../../spec/index.js';
import type { GuestDmaMemory, GuestPciAccess, GuestRegionAllocator } from './guest-access.js';
import type { MsixMessages } from './pci-capabilities.js';
import type { VirtioTransportMode } from './virtio-transport.js';

export type VirtioNetHdrValue = StructValue<typeof virtio.VirtioNetHdr>;

export interface VirtioNetInitOptions {
  readonly mode: VirtioTransportMode;
  readonly access: GuestPciAccess;
  readonly memory: GuestDmaMemory;
  readonly allocator: GuestRegionAllocator;
  /** Use MSI-X when the function has it, with these messages; without, the driver uses INTx/ISR. */
  readonly msix?: MsixMessages;
  /** Features the driver wants (default VIRTIO_NET_DRIVER_FEATURES). */
  readonly features?: bigint;
  /** Upper bound on queue sizes in modern mode (legacy queues have the device's size). */
  readonly maxQueueSize?: number;
  /** Largest frame (without virtio_net_hdr) per RX and TX buffer. */
  readonly frameBytes?: number;
}

/** How device events reach the driver. */
export type InterruptRouting = Readonly<
  | { kind: 'intx' }
  | { kind: 'msix'; configVector: number; queueVectors: readonly number[]; layout: 'per-queue' | 'shared' }
>;

export interface ReceivedFrame {
  readonly frame: Uint8Array;
  readonly hdr: VirtioNetHdrValue;
}

export interface CtrlCompletion {
  readonly id: number;
  readonly class: number;
  readonly command: number;
  /** The ack byte the device wrote (VIRTIO_NET_OK = 0). */
  readonly ack: number;
}

/** What one `poll`/`handleInterrupt` found. */
export interface VirtioNetEvents {
  readonly received: readonly ReceivedFrame[];
  readonly txCompleted: readonly number[];
  readonly ctrlCompleted: readonly CtrlCompletion[];
  readonly configChanged: boolean;
}

export interface VirtioNetCounters {
  rxFrames: number;
  rxBytes: number;
  /** Used RX buffers shorter than a virtio_net_hdr. */
  rxErrors: number;
  txFrames: number;
  txBytes: number;
  txCompleted: number;
  kicks: number;
  kicksSuppressed: number;
  interrupts: number;
  spuriousInterrupts: number;
  configChanges: number;
  ctrlOk: number;
  ctrlErr: number;
}

/** What `setMac` did: a control command (completes later) or a legacy config write (done). */
export type SetMacResult = Readonly<{ kind: 'ctrl'; id: number } | { kind: 'config-written' }>;

export interface VirtioNetQueueSnapshot {
  readonly name: 'rx' | 'tx' | 'ctrl';
  readonly index: number;
  readonly size: number;
  readonly availIdx: number;
  readonly lastUsedIdx: number;
  readonly inFlight: number;
}

/** What the driver has in flight, for tests that move device state under it. Taking it changes nothing. */
export type VirtioNetDriverSnapshot = Readonly<
  | { version: 1; state: 'down' | 'failed'; counters: Readonly<VirtioNetCounters> }
  | {
      version: 1;
      state: 'up';
      mode: VirtioTransportMode;
      features: bigint;
      queues: readonly VirtioNetQueueSnapshot[];
      /** Transmitted frames not yet completed, by id. */
      txInFlight: readonly { id: number; bytes: number }[];
      /** Completed transmissions reaped early (by `send`) and not yet reported. */
      txCompletedUnreported: readonly number[];
      rxPosted: number;
      ctrlInFlight: readonly { id: number; class: number; command: number }[];
      counters: Readonly<VirtioNetCounters>;
    }
>;

export function zeroCounters(): VirtioNetCounters {
  return {
    rxFrames: 0,
    rxBytes: 0,
    rxErrors: 0,
    txFrames: 0,
    txBytes: 0,
    txCompleted: 0,
    kicks: 0,
    kicksSuppressed: 0,
    interrupts: 0,
    spuriousInterrupts: 0,
    configChanges: 0,
    ctrlOk: 0,
    ctrlErr: 0,
  };
}
