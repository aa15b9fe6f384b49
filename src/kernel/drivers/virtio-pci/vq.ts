/**
 * One split virtqueue of a host virtio driver, set up as Linux's setup_vq (virtio_pci_modern.c) does:
 * select the queue, read its size (0 or already enabled: ENOENT), allocate the rings in DMA-coherent
 * memory (vring_create_virtqueue_split: descriptors, avail, then used at the next SMP_CACHE_BYTES
 * boundary), write the size and the three addresses, read the notify offset, program the MSI-X
 * vector and read it back (NO_VECTOR after a real vector: EBUSY). Enabling is a separate step
 * (vp_modern_find_vqs enables every queue after all are set up).
 *
 * Interrupts: when the host has an MSI controller the queue's vector calls `onInterrupt`; otherwise
 * the vector stays NO_VECTOR and the driver polls the used ring after each kick.
 * SPEC-DEVIATION: Linux falls back to INTx without MSI-X; the model has no INTx and polls instead.
 */
import { errnoError } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import {
  type IndirectTableArea,
  indirectTableAreaBytes,
  VirtqueueDriver,
  virtqueueAreaBytes,
} from '../../../vmm/guest/index.js';
import type { Device } from '../../driver-core/device.js';
import type { DmaCoherent, KernelApi } from '../../kernel-api.js';
import {
  getQueueEnable,
  getQueueSize,
  type ModernDev,
  queueNotifyOffset,
  setQueueAddress,
  setQueueEnable,
  setQueueSize,
  setQueueVector,
} from './modern-dev.js';

/** SMP_CACHE_BYTES on x86-64: Linux's vring alignment for the used ring. */
const VRING_ALIGN_BYTES = 64;
const NOTIFY_WIDTH_16 = 2;
const NOTIFY_WIDTH_32 = 4;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const bit = (b: number): bigint => 1n << BigInt(b);

export interface HostVqOptions {
  readonly index: number;
  /** MSI-X table entry for this queue, or NO_VECTOR. */
  readonly vector: number;
  readonly features: bigint;
  /** Segments per indirect table (0: no indirect tables even if INDIRECT_DESC was negotiated). */
  readonly indirectMaxSegments: number;
  /** Queue size cap (the driver's choice); 0 = the device's size. */
  readonly maxSize?: number;
}

export class HostVq<T> {
  readonly index: number;
  readonly size: number;
  readonly driver: VirtqueueDriver<T>;
  readonly vector: number;
  readonly #k: KernelApi;
  readonly #dev: Device;
  readonly #m: ModernDev;
  readonly #buf: DmaCoherent;
  readonly #notifyOffset: number;
  readonly #notificationData: boolean;

  constructor(k: KernelApi, dev: Device, m: ModernDev, o: HostVqOptions) {
    this.#k = k;
    this.#dev = dev;
    this.#m = m;
    this.index = o.index;
    const deviceSize = getQueueSize(m, o.index);
    if (deviceSize === 0 || getQueueEnable(m, o.index)) {
      throw errnoError('ENOENT', `queue ${o.index} is unavailable or already enabled`);
    }
    let size = deviceSize;
    while (o.maxSize !== undefined && o.maxSize > 0 && size > o.maxSize) size >>= 1;
    this.size = size;
    const bytes = virtqueueAreaBytes(size);
    const usedAt = alignUp(bytes.descTableBytes + bytes.availRingBytes, VRING_ALIGN_BYTES);
    const indirectAt = alignUp(usedAt + bytes.usedRingBytes, VRING_ALIGN_BYTES);
    const useIndirect =
      (o.features & bit(virtio.VIRTIO_RING_F_INDIRECT_DESC)) !== 0n && o.indirectMaxSegments > 0;
    const maxSegments = Math.min(o.indirectMaxSegments, size);
    const total = indirectAt + (useIndirect ? indirectTableAreaBytes(size, maxSegments) : 0);
    this.#buf = k.dmaAllocCoherent(dev, total);
    const base = this.#buf.iova;
    const indirectTables: IndirectTableArea | undefined = useIndirect
      ? { addr: base + BigInt(indirectAt), maxSegments }
      : undefined;
    this.driver = new VirtqueueDriver<T>(k.ram, {
      size,
      eventIdx: (o.features & bit(virtio.VIRTIO_RING_F_EVENT_IDX)) !== 0n,
      descAddr: base,
      availAddr: base + BigInt(bytes.descTableBytes),
      usedAddr: base + BigInt(usedAt),
      ...(indirectTables === undefined ? {} : { indirectTables }),
    });
    setQueueSize(m, o.index, size);
    setQueueAddress(m, o.index, base, base + BigInt(bytes.descTableBytes), base + BigInt(usedAt));
    this.#notifyOffset = queueNotifyOffset(m, o.index);
    this.#notificationData = (o.features & bit(virtio.VIRTIO_F_NOTIFICATION_DATA)) !== 0n;
    this.vector = virtio.VIRTIO_MSI_NO_VECTOR;
    if (o.vector !== virtio.VIRTIO_MSI_NO_VECTOR) {
      const got = setQueueVector(m, o.index, o.vector);
      if (got === virtio.VIRTIO_MSI_NO_VECTOR) {
        k.dmaFreeCoherent(dev, this.#buf);
        throw errnoError('EBUSY', `queue ${o.index}: device refused MSI-X vector ${o.vector}`);
      }
      this.vector = got;
    }
  }

  enable(): void {
    setQueueEnable(this.#m, this.index);
  }

  /** virtqueue_kick: publish, then notify if the device wants it (vp_notify). True if notified. */
  kick(): boolean {
    this.driver.publish();
    if (!this.driver.kickNeeded()) return false;
    if (this.#notificationData) {
      this.#m.notify.write(this.#notifyOffset, NOTIFY_WIDTH_32, this.driver.notificationData(this.index));
    } else {
      this.#m.notify.write(this.#notifyOffset, NOTIFY_WIDTH_16, this.index);
    }
    return true;
  }

  /** vring_del_virtqueue: the rings' memory goes back (after the device was reset). */
  free(): void {
    this.#k.dmaFreeCoherent(this.#dev, this.#buf);
  }
}
