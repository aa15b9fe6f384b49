/**
 * The modern transport's saved state (virtio-pci-transport.ts): the transport and queue state device
 * parts carry (facts 4.3), and the conversion of one queue to and from it.
 */
import type { SplitQueue } from '../split-queue.js';
import type { VirtqueueState } from './transport-types.js';
import type { VirtioPciTransport } from './virtio-pci-transport.js';

/** Transport state as device parts carry it (facts 4.3). */
export interface TransportSnapshot {
  readonly deviceFeatureSelect: number;
  readonly driverFeatureSelect: number;
  readonly driverFeatures: bigint;
  readonly configMsixVector: number;
  readonly queueSelect: number;
  readonly status: number;
  readonly configGeneration: number;
  readonly queues: readonly QueueSnapshot[];
}

export interface QueueSnapshot {
  readonly size: number;
  readonly msixVector: number;
  readonly enabled: boolean;
  readonly desc: bigint;
  readonly driver: bigint;
  readonly device: bigint;
  /** Ring progress; undefined for a disabled queue, or when no part carried it. */
  readonly progress: { readonly lastAvailIdx: number; readonly usedIdx: number } | undefined;
}

/** Ring progress of a queue: the next avail entry the device reads and the used.idx it last wrote. */
type RingProgress = { readonly lastAvailIdx: number; readonly usedIdx: number };

/** The transport's state a device-parts image carries (registers and queues). Reads no guest memory. */
export function transportSnapshot(
  t: Pick<
    VirtioPciTransport,
    | 'deviceFeatureSelect'
    | 'driverFeatureSelect'
    | 'driverFeatures'
    | 'configMsixVector'
    | 'queueSelect'
    | 'status'
    | 'configGeneration'
  >,
  queues: readonly VirtqueueState[],
): TransportSnapshot {
  return {
    deviceFeatureSelect: t.deviceFeatureSelect,
    driverFeatureSelect: t.driverFeatureSelect,
    driverFeatures: t.driverFeatures,
    configMsixVector: t.configMsixVector,
    queueSelect: t.queueSelect,
    status: t.status,
    configGeneration: t.configGeneration,
    queues: queues.map(queueSnapshot),
  };
}

/** One queue as a snapshot carries it. Reads no guest memory. */
export function queueSnapshot(q: VirtqueueState): QueueSnapshot {
  return {
    size: q.size,
    msixVector: q.msixVector,
    enabled: q.enabled,
    desc: q.desc,
    driver: q.driver,
    device: q.device,
    progress:
      q.ring === undefined ? undefined : { lastAvailIdx: q.ring.lastAvailIdx, usedIdx: q.ring.usedIdx },
  };
}

/**
 * One queue back from a snapshot: an enabled queue gets its ring from `openRing`, and its progress from
 * the snapshot or, when none was carried, from `progressFromMemory` (undefined: the ring keeps its own).
 */
export function restoredQueue(
  v: QueueSnapshot,
  openRing: (q: VirtqueueState) => SplitQueue,
  progressFromMemory: (q: VirtqueueState) => RingProgress | undefined,
): VirtqueueState {
  const q: VirtqueueState = { ...v, ring: undefined };
  if (!v.enabled) return q;
  q.ring = openRing(q);
  const progress = v.progress ?? progressFromMemory(q);
  if (progress !== undefined) {
    q.ring.restoreState({
      ...q.ring.saveState(),
      lastAvailIdx: progress.lastAvailIdx,
      usedIdx: progress.usedIdx,
      inFlightHeads: [],
    });
  }
  return q;
}
