/**
 * The split rings behind the modern transport's queues (virtio-pci-transport.ts): queue registers at
 * reset, the ring configuration a queue's registers and the negotiated features give, the check
 * queue_enable runs (the SPEC-DEVIATION of split-queue.ts), the legacy one-block ring layout at a page
 * frame number (facts 1.11), and ring progress read back from guest memory.
 */
import { virtio } from '../../../spec/index.js';
import { type QueueMemory, SplitQueue, type SplitQueueConfig, SplitQueueError } from '../split-queue.js';
import type { VirtqueueState } from './transport-types.js';

const bit = (n: number): bigint => 1n << BigInt(n);

type RingRegisters = Pick<VirtqueueState, 'size' | 'desc' | 'driver' | 'device'>;

/** The registers of `count` queues at reset: no ring, queue_size the largest offered. */
export function freshQueues(count: number, maxSize: number): VirtqueueState[] {
  return Array.from({ length: count }, () => ({
    size: maxSize,
    msixVector: virtio.VIRTIO_MSI_NO_VECTOR,
    enabled: false,
    desc: 0n,
    driver: 0n,
    device: 0n,
    ring: undefined,
  }));
}

/** The SplitQueue configuration of a queue's registers. */
export function splitQueueConfig(q: RingRegisters, eventIdx: boolean, indirect: boolean): SplitQueueConfig {
  return {
    size: q.size,
    descAddr: q.desc,
    availAddr: q.driver,
    usedAddr: q.device,
    eventIdx,
    indirect,
  };
}

/** Why a ring configuration is not one the device can run (same rules as queue_enable), or undefined. */
export function ringConfigError(memory: QueueMemory, q: RingRegisters, features: bigint): string | undefined {
  try {
    new SplitQueue(
      memory,
      splitQueueConfig(
        q,
        (features & bit(virtio.VIRTIO_RING_F_EVENT_IDX)) !== 0n,
        (features & bit(virtio.VIRTIO_RING_F_INDIRECT_DESC)) !== 0n,
      ),
    );
    return undefined;
  } catch (e) {
    if (e instanceof SplitQueueError) return e.message;
    throw e;
  }
}

/** Legacy Queue Address: the ring in one block at pfn * 4096, areas as the legacy layout places them. */
export function legacyRingAreas(
  pfn: number,
  size: number,
): Pick<VirtqueueState, 'desc' | 'driver' | 'device'> {
  const base = BigInt(pfn >>> 0) << BigInt(virtio.VIRTIO_PCI_QUEUE_ADDR_SHIFT);
  const align = BigInt(virtio.VIRTIO_PCI_VRING_ALIGN);
  const availEnd = base + BigInt(16 * size) + BigInt(2 * (3 + size));
  return {
    desc: base,
    driver: base + BigInt(16 * size),
    device: ((availEnd + align - 1n) / align) * align,
  };
}

/** Ring progress when no part carried it: the used ring's idx, with nothing in flight. */
export function progressFromMemory(
  memory: QueueMemory,
  q: VirtqueueState,
): { lastAvailIdx: number; usedIdx: number } {
  // struct virtq_used: le16 idx @2.
  const usedIdx = memory.readU16(q.device + 2n);
  return { lastAvailIdx: usedIdx, usedIdx };
}
