/**
 * The two ways a guest driver reaches a virtio PCI device's registers, behind one interface:
 *
 * - modern (virtio 1.x; transport-pci.tex; facts/virtio.md 1.2-1.6): common cfg, notify, ISR and device
 *   cfg structures found through vendor capabilities, 64-bit feature windows, per-queue size, addresses
 *   and enable;
 * - legacy (transitional; "Legacy Interfaces", facts 1.11): the virtio header at BAR0 offset 0, 32 feature
 *   bits, a fixed queue size, the queue given as one page frame number of a 4096-aligned legacy layout,
 *   and device config at 20 or 24 depending on whether MSI-X is enabled.
 *
 * Register access order follows Linux (virtio_pci_modern_dev.c, virtio_pci_legacy_dev.c): the hand-written
 * sequences in test/guest check it access by access.
 *
 * SPEC-DEVIATION: legacy rings and device config are in the guest's native endianness; the modeled
 * guest is little-endian (x86), so both transports read and write little-endian.
 *
 * Left out: VIRTIO_F_NOTIFICATION_DATA and NOTIF_CONFIG_DATA (never negotiated by this driver), queue
 * reset, admin queues, the PCI_CFG window.
 */
import { errnoError, LabError } from '../../../base/index.js';
import { virtio, vring } from '../../../spec/index.js';
import { legacyVirtqueueLayout, type VirtqueueAreas, virtqueueAreaBytes } from '../virtqueue-driver.js';
import type { GuestPciAccess, GuestRegionAllocator } from './guest-access.js';
import type { VirtioModernCaps } from './pci-capabilities.js';

export type VirtioTransportMode = 'modern' | 'legacy';

/** Rings placed for one queue, and the regions that hold them. */
export interface QueueRings extends VirtqueueAreas {
  readonly size: number;
  /** Regions to give back to the allocator on reset. */
  readonly regions: readonly bigint[];
}

export interface VirtioTransport {
  readonly mode: VirtioTransportMode;
  /** Write 0 to device_status, then read it until it reads 0 (facts 1.3 driver rules). */
  reset(): void;
  readStatus(): number;
  writeStatus(status: number): void;
  readDeviceFeatures(): bigint;
  writeDriverFeatures(features: bigint): void;
  /** Read-and-clear the ISR byte. */
  readIsr(): number;
  /** The transport's view of whether MSI-X is enabled (legacy config offset depends on it). */
  setMsixEnabled(enabled: boolean): void;
  /** Write config_msix_vector; returns the value read back (NO_VECTOR on refusal). */
  setConfigVector(vector: number): number;
  /** Select queue `index` and read its (maximum) size; 0 = no such queue. */
  queueMaxSize(index: number): number;
  /** Lay out and zero rings for a queue of at most `maxSize` entries (the transport decides the size). */
  allocateRings(index: number, maxSize: number, allocator: GuestRegionAllocator): QueueRings;
  /** Tell the device the queue's size and addresses; returns the vector read back. */
  configureQueue(index: number, rings: QueueRings, vector: number): number;
  /** Modern: queue_enable = 1. Legacy: nothing (writing the PFN activated the queue). */
  enableQueue(index: number): void;
  /** Available buffer notification for queue `index`. */
  notify(index: number): void;
  /** Device-specific config, `width` bytes at `offset`. */
  readDeviceConfig(offset: number, width: 1 | 2 | 4): number;
  writeDeviceConfig(offset: number, width: 1 | 2 | 4, value: number): void;
  /** config_generation, or undefined where the transport has none (legacy). */
  configGeneration(): number | undefined;
}

/** Bounded wait for a reset to complete: a device that never reads back 0 fails init. */
const RESET_POLL_LIMIT = 1000;
const U32_MASK = 0xffff_ffffn;
const WINDOW_BITS = BigInt(virtio.VIRTIO_PCI_FEATURE_WINDOW_BITS);

function waitForReset(read: () => number): void {
  for (let i = 0; i < RESET_POLL_LIMIT; i++) if (read() === 0) return;
  throw errnoError('ETIMEDOUT', `virtio-pci: device_status did not read 0 after reset`);
}

export class ModernTransport implements VirtioTransport {
  readonly mode = 'modern';
  readonly #access: GuestPciAccess;
  readonly #caps: VirtioModernCaps;
  readonly #notifyOff = new Map<number, number>();

  constructor(access: GuestPciAccess, caps: VirtioModernCaps) {
    this.#access = access;
    this.#caps = caps;
  }

  #read(offset: number, width: 1 | 2 | 4): number {
    return this.#access.barRead(this.#caps.common.bar, this.#caps.common.offset + offset, width);
  }

  #write(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#access.barWrite(this.#caps.common.bar, this.#caps.common.offset + offset, width, value);
  }

  #write64(loOffset: number, hiOffset: number, value: bigint): void {
    this.#write(loOffset, 4, Number(value & U32_MASK));
    this.#write(hiOffset, 4, Number((value >> 32n) & U32_MASK));
  }

  reset(): void {
    this.#write(virtio.VIRTIO_PCI_COMMON_STATUS, 1, 0);
    waitForReset(() => this.readStatus());
    this.#notifyOff.clear();
  }

  readStatus(): number {
    return this.#read(virtio.VIRTIO_PCI_COMMON_STATUS, 1);
  }

  writeStatus(status: number): void {
    this.#write(virtio.VIRTIO_PCI_COMMON_STATUS, 1, status);
  }

  readDeviceFeatures(): bigint {
    this.#write(virtio.VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
    const lo = BigInt(this.#read(virtio.VIRTIO_PCI_COMMON_DF, 4) >>> 0);
    this.#write(virtio.VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    const hi = BigInt(this.#read(virtio.VIRTIO_PCI_COMMON_DF, 4) >>> 0);
    return lo | (hi << WINDOW_BITS);
  }

  writeDriverFeatures(features: bigint): void {
    this.#write(virtio.VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    this.#write(virtio.VIRTIO_PCI_COMMON_GF, 4, Number(features & U32_MASK));
    this.#write(virtio.VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    this.#write(virtio.VIRTIO_PCI_COMMON_GF, 4, Number((features >> WINDOW_BITS) & U32_MASK));
  }

  readIsr(): number {
    return this.#access.barRead(this.#caps.isr.bar, this.#caps.isr.offset, 1);
  }

  setMsixEnabled(_enabled: boolean): void {
    // The modern layout does not move with MSI-X.
  }

  setConfigVector(vector: number): number {
    this.#write(virtio.VIRTIO_PCI_COMMON_MSIX, 2, vector);
    return this.#read(virtio.VIRTIO_PCI_COMMON_MSIX, 2);
  }

  queueMaxSize(index: number): number {
    this.#write(virtio.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    return this.#read(virtio.VIRTIO_PCI_COMMON_Q_SIZE, 2);
  }

  allocateRings(index: number, maxSize: number, allocator: GuestRegionAllocator): QueueRings {
    const offered = this.queueMaxSize(index);
    if (offered === 0) throw errnoError('ENOENT', `virtio-pci: queue ${index} is not available`);
    // Split rings need a power of 2 (facts 1.3); take the largest one within both limits.
    let size = 1;
    while (size * 2 <= Math.min(offered, maxSize)) size *= 2;
    const bytes = virtqueueAreaBytes(size);
    const descAddr = allocator.alloc(bytes.descTableBytes, vring.DESC_TABLE_ALIGN);
    const availAddr = allocator.alloc(bytes.availRingBytes, vring.AVAIL_RING_ALIGN);
    const usedAddr = allocator.alloc(bytes.usedRingBytes, vring.USED_RING_ALIGN);
    return { size, descAddr, availAddr, usedAddr, regions: [descAddr, availAddr, usedAddr] };
  }

  configureQueue(index: number, rings: QueueRings, vector: number): number {
    const v = virtio;
    this.#write(v.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    this.#write(v.VIRTIO_PCI_COMMON_Q_SIZE, 2, rings.size);
    this.#write64(v.VIRTIO_PCI_COMMON_Q_DESCLO, v.VIRTIO_PCI_COMMON_Q_DESCHI, rings.descAddr);
    this.#write64(v.VIRTIO_PCI_COMMON_Q_AVAILLO, v.VIRTIO_PCI_COMMON_Q_AVAILHI, rings.availAddr);
    this.#write64(v.VIRTIO_PCI_COMMON_Q_USEDLO, v.VIRTIO_PCI_COMMON_Q_USEDHI, rings.usedAddr);
    this.#notifyOff.set(index, this.#read(v.VIRTIO_PCI_COMMON_Q_NOFF, 2));
    if (vector === v.VIRTIO_MSI_NO_VECTOR) return vector;
    this.#write(v.VIRTIO_PCI_COMMON_Q_MSIX, 2, vector);
    return this.#read(v.VIRTIO_PCI_COMMON_Q_MSIX, 2);
  }

  enableQueue(index: number): void {
    this.#write(virtio.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
    this.#write(virtio.VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
  }

  notify(index: number): void {
    const off = this.#notifyOff.get(index);
    if (off === undefined) throw new LabError('invalid-state', `virtio-pci: queue ${index} is not set up`);
    const { bar, offset, length, notifyOffMultiplier } = this.#caps.notify;
    const at = off * notifyOffMultiplier;
    if (at + 2 > length) {
      throw errnoError('EIO', `virtio-pci: notify offset ${at} of queue ${index} is outside the notify area`);
    }
    this.#access.barWrite(bar, offset + at, 2, index);
  }

  readDeviceConfig(offset: number, width: 1 | 2 | 4): number {
    const dev = this.#deviceCfg(offset, width);
    return this.#access.barRead(dev.bar, dev.offset + offset, width);
  }

  writeDeviceConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    const dev = this.#deviceCfg(offset, width);
    this.#access.barWrite(dev.bar, dev.offset + offset, width, value);
  }

  configGeneration(): number {
    return this.#read(virtio.VIRTIO_PCI_COMMON_CFGGENERATION, 1);
  }

  #deviceCfg(offset: number, width: number) {
    const dev = this.#caps.device;
    if (!dev || offset + width > dev.length) {
      throw errnoError('EINVAL', `virtio-pci: device config ${offset}+${width} is outside the structure`);
    }
    return dev;
  }
}

/** The legacy virtio header lives in BAR0 (facts 1.11). */
const LEGACY_BAR = 0;
/** A queue PFN register is 32 bits wide. */
const LEGACY_PFN_MAX = 0xffff_ffffn;

export class LegacyTransport implements VirtioTransport {
  readonly mode = 'legacy';
  readonly #access: GuestPciAccess;
  #msixEnabled = false;

  constructor(access: GuestPciAccess) {
    this.#access = access;
  }

  #read(offset: number, width: 1 | 2 | 4): number {
    return this.#access.barRead(LEGACY_BAR, offset, width);
  }

  #write(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#access.barWrite(LEGACY_BAR, offset, width, value);
  }

  reset(): void {
    this.#write(virtio.VIRTIO_PCI_STATUS, 1, 0);
    waitForReset(() => this.readStatus());
  }

  readStatus(): number {
    return this.#read(virtio.VIRTIO_PCI_STATUS, 1);
  }

  writeStatus(status: number): void {
    this.#write(virtio.VIRTIO_PCI_STATUS, 1, status);
  }

  readDeviceFeatures(): bigint {
    return BigInt(this.#read(virtio.VIRTIO_PCI_HOST_FEATURES, 4) >>> 0);
  }

  writeDriverFeatures(features: bigint): void {
    if (features >> WINDOW_BITS !== 0n) {
      throw new LabError('internal', 'legacy transport: feature bits above 31 cannot be written');
    }
    this.#write(virtio.VIRTIO_PCI_GUEST_FEATURES, 4, Number(features));
  }

  readIsr(): number {
    return this.#read(virtio.VIRTIO_PCI_ISR, 1);
  }

  setMsixEnabled(enabled: boolean): void {
    this.#msixEnabled = enabled;
  }

  setConfigVector(vector: number): number {
    this.#requireMsix();
    this.#write(virtio.VIRTIO_MSI_CONFIG_VECTOR, 2, vector);
    return this.#read(virtio.VIRTIO_MSI_CONFIG_VECTOR, 2);
  }

  queueMaxSize(index: number): number {
    this.#write(virtio.VIRTIO_PCI_QUEUE_SEL, 2, index);
    return this.#read(virtio.VIRTIO_PCI_QUEUE_NUM, 2);
  }

  /** Legacy cannot negotiate the size: the queue has QUEUE_NUM entries whatever `maxSize` says. */
  allocateRings(index: number, _maxSize: number, allocator: GuestRegionAllocator): QueueRings {
    const size = this.queueMaxSize(index);
    if (size === 0) throw errnoError('ENOENT', `virtio-pci legacy: queue ${index} is not available`);
    // Linux's setup_vq refuses a queue that is already active.
    if (this.#read(virtio.VIRTIO_PCI_QUEUE_PFN, 4) !== 0) {
      throw errnoError('ENOENT', `virtio-pci legacy: queue ${index} is already active`);
    }
    const probe = legacyVirtqueueLayout(0n, size, virtio.VIRTIO_PCI_VRING_ALIGN);
    const base = allocator.alloc(probe.totalBytes, virtio.VIRTIO_PCI_VRING_ALIGN);
    const layout = legacyVirtqueueLayout(base, size, virtio.VIRTIO_PCI_VRING_ALIGN);
    if (base >> BigInt(virtio.VIRTIO_PCI_QUEUE_ADDR_SHIFT) > LEGACY_PFN_MAX) {
      allocator.free(base);
      throw errnoError('ENOMEM', `virtio-pci legacy: ring at 0x${base.toString(16)} is beyond a 32-bit PFN`);
    }
    return {
      size,
      descAddr: layout.descAddr,
      availAddr: layout.availAddr,
      usedAddr: layout.usedAddr,
      regions: [base],
    };
  }

  configureQueue(index: number, rings: QueueRings, vector: number): number {
    this.#write(virtio.VIRTIO_PCI_QUEUE_SEL, 2, index);
    this.#write(
      virtio.VIRTIO_PCI_QUEUE_PFN,
      4,
      Number(rings.descAddr >> BigInt(virtio.VIRTIO_PCI_QUEUE_ADDR_SHIFT)),
    );
    if (vector === virtio.VIRTIO_MSI_NO_VECTOR) return vector;
    this.#requireMsix();
    this.#write(virtio.VIRTIO_MSI_QUEUE_VECTOR, 2, vector);
    return this.#read(virtio.VIRTIO_MSI_QUEUE_VECTOR, 2);
  }

  enableQueue(_index: number): void {
    // A legacy queue is live once its PFN is written.
  }

  notify(index: number): void {
    this.#write(virtio.VIRTIO_PCI_QUEUE_NOTIFY, 2, index);
  }

  readDeviceConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#read(virtio.VIRTIO_PCI_CONFIG_OFF(this.#msixEnabled) + offset, width);
  }

  writeDeviceConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#write(virtio.VIRTIO_PCI_CONFIG_OFF(this.#msixEnabled) + offset, width, value);
  }

  configGeneration(): undefined {
    return undefined;
  }

  #requireMsix(): void {
    if (!this.#msixEnabled) {
      throw new LabError(
        'invalid-state',
        'legacy transport: MSI-X vector fields exist only while MSI-X is on',
      );
    }
  }
}
