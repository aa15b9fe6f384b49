/**
 * The contracts of the modern virtio PCI transport (virtio-pci-transport.ts): the device type behind it
 * (`VirtioDeviceBackend`) with its config fields, the options a transport is built with, one
 * virtqueue's registers, and why the device set DEVICE_NEEDS_RESET.
 */
import type { Msix } from '../../caps/msix.js';
import type { SplitQueue, SplitQueueError } from '../split-queue.js';
import type { DmaFaultError } from './dma-queue-memory.js';

/** One device-config field, for the legacy interface's one-field rule (facts 3.9). */
export interface ConfigField {
  readonly offset: number;
  readonly sizeBytes: number;
  /** A legacy driver may write it (net: mac, facts 1.11). */
  readonly legacyWritable: boolean;
}

/** The device type behind the transport. */
export interface VirtioDeviceBackend {
  /** Device config as the driver reads it (little-endian, modern layout). */
  configBytes(): Uint8Array;
  readonly configFields: readonly ConfigField[];
  /** A legacy driver's write inside one legacy-writable field. */
  legacyConfigWrite(offset: number, bytes: Uint8Array): void;
  /** Device-type feature dependencies, checked when the driver sets FEATURES_OK. */
  acceptFeatures(features: bigint): boolean;
  /** Buffers may wait on queue `index`: consume them. Runs only when the device may do DMA. */
  processQueue(index: number): void;
  /** Device reset (status 0) or FLR: device-type state back to its reset values. */
  reset(kind: 'device' | 'flr'): void;
}

export interface VirtioTransportOptions {
  readonly name: string;
  /** Offered features, transport bits included. */
  readonly deviceFeatures: bigint;
  /** num_queues: virtqueues of the device type, admin queues excluded. */
  readonly numQueues: number;
  /** Admin queues after the others (admin_queue_index = numQueues). */
  readonly adminQueueNum: number;
  /** Largest queue size offered (queue_size at reset). */
  readonly queueMaxSize: number;
  readonly deviceCfgLength: number;
  readonly msix: Msix;
}

/** One virtqueue's registers and, while enabled, its ring. */
export interface VirtqueueState {
  size: number;
  msixVector: number;
  enabled: boolean;
  desc: bigint;
  driver: bigint;
  device: bigint;
  ring: SplitQueue | undefined;
}

/** Why the device set DEVICE_NEEDS_RESET, for tests and traces. */
export type NeedsResetCause =
  | { readonly kind: 'ring'; readonly error: SplitQueueError }
  | { readonly kind: 'dma'; readonly error: DmaFaultError };
