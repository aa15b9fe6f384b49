/**
 * The modern virtio PCI transport, device side (virtio 1.4 transport-pci.tex, content.tex "Device
 * Status Field" and "Feature Bits"; facts/virtio.md §1): the register file behind BAR4 that any virtio
 * device type sits on. It owns device status, feature negotiation, the per-queue configuration and the
 * split rings, notifications in both directions, the ISR and the stopped mode of device parts (facts
 * 4.1); the device type (the `VirtioDeviceBackend`) owns device config and what a queue's buffers mean.
 *
 * - common cfg: natural-width accesses as the spec requires; a write of another width, or to a
 *   read-only field, is absorbed as hardware absorbs it. Reads of any width see the field bytes.
 * - device_status: 0 resets; FEATURES_OK is kept only if the accepted features are a subset of the
 *   offered ones, include VERSION_1 and ACCESS_PLATFORM, and satisfy the device type's dependencies;
 *   DEVICE_NEEDS_RESET is the device's bit and survives driver writes until reset.
 * - queue_enable: the ring is checked when enabled (SPEC-DEVIATION of split-queue.ts); a bad one sets
 *   DEVICE_NEEDS_RESET. So does a malformed chain or a refused DMA while the device works a queue.
 * - Notifications: a 16-bit (or with VIRTIO_F_NOTIFICATION_DATA 32-bit) write in the notify region;
 *   the queue is the value's vq index, as the legacy notify address (one address for all queues)
 *   needs. Buffers are consumed only with DRIVER_OK (a legacy driver: DRIVER), Bus Master Enable, and
 *   not stopped; they are looked at again when that becomes true.
 * - Interrupts: MSI-X when enabled (the queue's or config vector; NO_VECTOR suppresses), else the ISR
 *   bits and the PCI Status Interrupt bit (INTx itself is not modeled).
 * - Stopped mode: no DMA, no interrupts (owed ones go out on resume); notifications are accepted.
 *   The device never holds a popped chain between calls, so every used entry is written when a stop
 *   arrives.
 *
 * Left out: VIRTIO_F_RING_RESET (queue_reset reads 0), NOTIF_CONFIG_DATA, the packed ring, SUSPEND,
 * shared memory regions.
 */
import { LabError, type Rid, readLe, writeLe } from '../../../base/index.js';
import { pci, virtio } from '../../../spec/index.js';
import type { Capability } from '../../capability-builder.js';
import type { Msix } from '../../caps/msix.js';
import type { DmaPort } from '../../dma/index.js';
import type { DeviceModel, PciFunction } from '../../pci-function.js';
import { type QueueMemory, SplitQueue, SplitQueueError } from '../split-queue.js';
import { DmaFaultError, dmaQueueMemory } from './dma-queue-memory.js';
import {
  COMMON_CFG_LENGTH,
  COMMON_CFG_OFFSET,
  DEVICE_CFG_OFFSET,
  ISR_CFG_OFFSET,
  NOTIFY_CFG_OFFSET,
  NOTIFY_OFF_MULTIPLIER,
  REGION_SPAN_BYTES,
  VIRTIO_BAR,
  virtioCapabilities,
} from './virtio-caps.js';

const bit = (n: number): bigint => 1n << BigInt(n);
const U32_MASK = 0xffff_ffffn;
const WINDOW_BITS = BigInt(virtio.VIRTIO_PCI_FEATURE_WINDOW_BITS);

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

const EMPTY = new Uint8Array(0);

export class VirtioPciTransport implements DeviceModel {
  readonly options: VirtioTransportOptions;
  #backend: VirtioDeviceBackend | undefined;
  #fn: PciFunction | undefined;
  #port: { rid: Rid; port: DmaPort; memory: QueueMemory } | undefined;
  readonly #memory: QueueMemory;
  #deviceFeatureSelect = 0;
  #driverFeatureSelect = 0;
  #driverFeatures = 0n;
  #status = 0;
  #configGeneration = 0;
  #configMsixVector = virtio.VIRTIO_MSI_NO_VECTOR;
  #queueSelect = 0;
  #isr = 0;
  #queues: VirtqueueState[];
  #stopped = false;
  #owedConfigIrq = false;
  #owedQueueIrqs = new Set<number>();
  #legacyInterface = false;
  #needsResetCause: NeedsResetCause | undefined;

  constructor(options: VirtioTransportOptions) {
    this.options = options;
    this.#queues = this.#freshQueues();
    const mem = (): QueueMemory => {
      const p = this.#dmaPort();
      if (p === undefined) throw new LabError('invalid-state', `${options.name}: no DMA path`);
      return p;
    };
    this.#memory = {
      read: (a, n) => mem().read(a, n),
      write: (a, b) => mem().write(a, b),
      readU16: (a) => mem().readU16(a),
      readU32: (a) => mem().readU32(a),
      readU64: (a) => mem().readU64(a),
      writeU16: (a, v) => mem().writeU16(a, v),
      writeU32: (a, v) => mem().writeU32(a, v),
    };
  }

  /** Connect the device type; done once, before the function is used. */
  attachBackend(backend: VirtioDeviceBackend): void {
    this.#backend = backend;
  }

  /** Connect the PCI function (for its Command register, RID, DMA and MSI-X). */
  bindFunction(fn: PciFunction): void {
    this.#fn = fn;
  }

  get fn(): PciFunction | undefined {
    return this.#fn;
  }

  /** The vendor capabilities to place in the function's capability list. */
  capabilities(): Capability[] {
    return virtioCapabilities(
      {
        deviceCfgLength: this.options.deviceCfgLength,
        notifyLength: this.totalQueues * NOTIFY_OFF_MULTIPLIER,
      },
      {
        peek: (bar, offset, width) => this.#peek(bar, offset, width),
        windowWrite: (bar, offset, width, value) => this.barWrite(bar, offset, width, value),
      },
    );
  }

  get totalQueues(): number {
    return this.options.numQueues + this.options.adminQueueNum;
  }

  get adminQueueIndex(): number {
    return this.options.numQueues;
  }

  // ---- device-side view of the state ----

  get status(): number {
    return this.#status;
  }

  get driverFeatures(): bigint {
    return this.#driverFeatures;
  }

  /** Features both sides agreed on (after FEATURES_OK; for a legacy driver, what it wrote). */
  negotiated(feature: number): boolean {
    return (this.#driverFeatures & this.options.deviceFeatures & bit(feature)) !== 0n;
  }

  /** A legacy driver drives the device: it used the legacy interface and did not accept VERSION_1. */
  get legacyMode(): boolean {
    return this.#legacyInterface && !this.negotiated(virtio.VIRTIO_F_VERSION_1);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get isr(): number {
    return this.#isr;
  }

  get needsResetCause(): NeedsResetCause | undefined {
    return this.#needsResetCause;
  }

  queue(index: number): VirtqueueState | undefined {
    return this.#queues[index];
  }

  get queueSelect(): number {
    return this.#queueSelect;
  }

  get configMsixVector(): number {
    return this.#configMsixVector;
  }

  get configGeneration(): number {
    return this.#configGeneration;
  }

  get deviceFeatureSelect(): number {
    return this.#deviceFeatureSelect;
  }

  get driverFeatureSelect(): number {
    return this.#driverFeatureSelect;
  }

  get memory(): QueueMemory {
    return this.#memory;
  }

  /** Whether the device may consume buffers and do DMA now. */
  get active(): boolean {
    const s = this.#status;
    const started = this.legacyMode
      ? (s & virtio.VIRTIO_CONFIG_S_DRIVER) !== 0
      : (s & virtio.VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
    return (
      started &&
      (s & (virtio.VIRTIO_CONFIG_S_NEEDS_RESET | virtio.VIRTIO_CONFIG_S_FAILED)) === 0 &&
      !this.#stopped &&
      this.#busMaster() &&
      this.#dmaPort() !== undefined
    );
  }

  /** The ring of queue `index` if the device may work it now. */
  activeRing(index: number): SplitQueue | undefined {
    if (!this.active) return undefined;
    const q = this.#queues[index];
    return q?.enabled ? q.ring : undefined;
  }

  /**
   * Run device work that touches rings or buffers. A malformed ring or a refused DMA ends it and
   * sets DEVICE_NEEDS_RESET; the result is then undefined.
   */
  guard<T>(work: () => T): T | undefined {
    try {
      return work();
    } catch (e) {
      if (e instanceof SplitQueueError) this.#setNeedsReset({ kind: 'ring', error: e });
      else if (e instanceof DmaFaultError) this.#setNeedsReset({ kind: 'dma', error: e });
      else throw e;
      return undefined;
    }
  }

  /** After used entries were written on queue `index`: a used buffer notification unless suppressed. */
  usedBuffersWritten(index: number): void {
    const ring = this.activeRing(index);
    if (ring === undefined) return;
    const needed = this.guard(() => ring.needsInterrupt());
    if (needed) this.#signalQueue(index);
  }

  /** The device type changed its config: bump config_generation and send a config change interrupt. */
  configChanged(): void {
    this.#configGeneration = (this.#configGeneration + 1) & 0xff;
    if ((this.#status & virtio.VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#signalConfig();
  }

  /** Enter or leave the stopped mode (facts 4.1). Leaving sends owed interrupts and rescans queues. */
  setStopped(stopped: boolean): void {
    if (stopped === this.#stopped) return;
    this.#stopped = stopped;
    if (stopped) return;
    if (this.#owedConfigIrq) {
      this.#owedConfigIrq = false;
      this.#signalConfig();
    }
    const owed = [...this.#owedQueueIrqs];
    this.#owedQueueIrqs.clear();
    for (const i of owed) this.#signalQueue(i);
    this.rescan();
  }

  /** Look at every enabled queue for buffers that arrived while the device could not work. */
  rescan(): void {
    for (let i = 0; i < this.#queues.length; i++) this.notifyQueue(i);
  }

  /** A driver notification for queue `index` (MMIO, legacy Queue Notify, or the legacy notify address). */
  notifyQueue(index: number): void {
    const q = this.#queues[index];
    if (q === undefined || !q.enabled || !this.active) return;
    this.guard(() => this.#backend?.processQueue(index));
  }

  // ---- DeviceModel ----

  barRead(bar: number, offset: number, width: 1 | 2 | 4): number {
    if (bar !== VIRTIO_BAR) return 0;
    if (offset >= ISR_CFG_OFFSET && offset < ISR_CFG_OFFSET + REGION_SPAN_BYTES) {
      return offset === ISR_CFG_OFFSET ? this.readAndClearIsr() : 0;
    }
    return this.#peek(bar, offset, width) ?? 0;
  }

  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    if (bar !== VIRTIO_BAR) return;
    if (offset >= COMMON_CFG_OFFSET && offset < COMMON_CFG_OFFSET + COMMON_CFG_LENGTH) {
      this.#commonWrite(offset - COMMON_CFG_OFFSET, width, value);
    } else if (
      offset >= NOTIFY_CFG_OFFSET &&
      offset < NOTIFY_CFG_OFFSET + this.totalQueues * NOTIFY_OFF_MULTIPLIER
    ) {
      this.notifyQueue(value & virtio.VIRTIO_NOTIFICATION_DATA_VQN_MASK);
    }
    // Device config is read-only for a modern driver; the ISR is read-only: absorbed.
  }

  reset(kind: 'flr' | 'conventional'): void {
    this.#stopped = false;
    this.#deviceReset(kind === 'flr' ? 'flr' : 'device');
  }

  // ---- register semantics shared with the legacy view ----

  /** Read the ISR: returns it and clears it (and the Interrupt Status the ISR drives). */
  readAndClearIsr(): number {
    const v = this.#isr;
    this.#isr = 0;
    this.#updateIntxStatus();
    return v;
  }

  /** A driver's device_status write (modern or legacy): 0 resets. */
  writeStatus(value: number, legacy: boolean): void {
    const v = value & 0xff;
    if (v === 0) {
      this.#deviceReset('device');
      return;
    }
    const before = this.#status;
    let next = (v & ~virtio.VIRTIO_CONFIG_S_NEEDS_RESET) | (before & virtio.VIRTIO_CONFIG_S_NEEDS_RESET);
    const featuresOk = virtio.VIRTIO_CONFIG_S_FEATURES_OK;
    if (!legacy && (next & featuresOk) !== 0 && (before & featuresOk) === 0 && !this.#featuresAcceptable()) {
      next &= ~featuresOk;
    }
    this.#status = next;
    if (legacy) this.#legacyInterface = true;
    const started = next & ~before & (virtio.VIRTIO_CONFIG_S_DRIVER_OK | virtio.VIRTIO_CONFIG_S_DRIVER);
    if (started !== 0) this.rescan();
  }

  /** Accept driver features (a window of 32 bits at `select`, or the legacy low 32 bits). */
  writeDriverFeatures(select: number, value: number): void {
    if ((this.#status & virtio.VIRTIO_CONFIG_S_FEATURES_OK) !== 0) return;
    if (select > 1) return;
    const shift = BigInt(select) * WINDOW_BITS;
    const mask = U32_MASK << shift;
    this.#driverFeatures = (this.#driverFeatures & ~mask) | ((BigInt(value >>> 0) << shift) & mask);
  }

  /** Legacy GUEST_FEATURES: bits 32 and up are not acked (facts 1.11). */
  writeLegacyDriverFeatures(value: number): void {
    this.#legacyInterface = true;
    this.#driverFeatures = BigInt(value >>> 0);
  }

  /** Map an MSI-X vector as the device can: beyond the table reads back NO_VECTOR (facts 1.8). */
  acceptVector(value: number): number {
    if (value === virtio.VIRTIO_MSI_NO_VECTOR) return value;
    return value < this.options.msix.options.vectors ? value : virtio.VIRTIO_MSI_NO_VECTOR;
  }

  setConfigMsixVector(value: number): void {
    this.#configMsixVector = this.acceptVector(value);
  }

  setQueueSelect(value: number): void {
    this.#queueSelect = value & 0xffff;
  }

  /** Legacy Queue Address: the ring in one block at pfn * 4096, queue size fixed (facts 1.11). */
  setLegacyQueuePfn(pfn: number): void {
    this.#legacyInterface = true;
    if (pfn === 0) {
      // QEMU: a PFN write of 0 resets the device.
      this.#deviceReset('device');
      return;
    }
    const q = this.#queues[this.#queueSelect];
    if (q === undefined || q.enabled) return;
    const base = BigInt(pfn >>> 0) << BigInt(virtio.VIRTIO_PCI_QUEUE_ADDR_SHIFT);
    const align = BigInt(virtio.VIRTIO_PCI_VRING_ALIGN);
    const availEnd = base + BigInt(16 * q.size) + BigInt(2 * (3 + q.size));
    q.desc = base;
    q.driver = base + BigInt(16 * q.size);
    q.device = ((availEnd + align - 1n) / align) * align;
    this.#enableQueue(q);
  }

  /** Queue Address as the legacy register reads it. */
  legacyQueuePfn(): number {
    const q = this.#queues[this.#queueSelect];
    if (q === undefined || !q.enabled) return 0;
    return Number(q.desc >> BigInt(virtio.VIRTIO_PCI_QUEUE_ADDR_SHIFT));
  }

  /** A legacy driver touched the legacy interface (the device now speaks legacy). */
  markLegacyInterface(): void {
    this.#legacyInterface = true;
  }

  // ---- restore (device parts) ----

  /** The transport's state a device-parts image carries. Reads no guest memory. */
  snapshot(): TransportSnapshot {
    return {
      deviceFeatureSelect: this.#deviceFeatureSelect,
      driverFeatureSelect: this.#driverFeatureSelect,
      driverFeatures: this.#driverFeatures,
      configMsixVector: this.#configMsixVector,
      queueSelect: this.#queueSelect,
      status: this.#status,
      configGeneration: this.#configGeneration,
      queues: this.#queues.map((q) => ({
        size: q.size,
        msixVector: q.msixVector,
        enabled: q.enabled,
        desc: q.desc,
        driver: q.driver,
        device: q.device,
        progress:
          q.ring === undefined ? undefined : { lastAvailIdx: q.ring.lastAvailIdx, usedIdx: q.ring.usedIdx },
      })),
    };
  }

  /**
   * Replace the transport state with a validated snapshot (parts applied on resume). A queue without
   * known ring progress takes it from the used ring's idx in memory. Throws SplitQueueError on a ring
   * the constructor refuses (the caller validated, so that is a bug).
   */
  restore(s: TransportSnapshot): void {
    this.#deviceFeatureSelect = s.deviceFeatureSelect;
    this.#driverFeatureSelect = s.driverFeatureSelect;
    this.#driverFeatures = s.driverFeatures;
    this.#configMsixVector = s.configMsixVector;
    this.#queueSelect = s.queueSelect;
    this.#status = s.status;
    this.#configGeneration = s.configGeneration;
    this.#needsResetCause = undefined;
    this.#queues = s.queues.map((v) => {
      const q: VirtqueueState = { ...v, ring: undefined };
      if (!v.enabled) return q;
      q.ring = new SplitQueue(this.#memory, this.#ringConfig(q));
      const progress = v.progress ?? this.guard(() => this.#progressFromMemory(q));
      if (progress !== undefined) {
        q.ring.restoreState({
          ...q.ring.saveState(),
          lastAvailIdx: progress.lastAvailIdx,
          usedIdx: progress.usedIdx,
          inFlightHeads: [],
        });
      }
      return q;
    });
  }

  /** Check that a ring configuration is one the device can run (same rules as queue_enable). */
  ringConfigError(
    q: Pick<VirtqueueState, 'size' | 'desc' | 'driver' | 'device'>,
    features: bigint,
  ): string | undefined {
    try {
      new SplitQueue(this.#memory, {
        size: q.size,
        descAddr: q.desc,
        availAddr: q.driver,
        usedAddr: q.device,
        eventIdx: (features & bit(virtio.VIRTIO_RING_F_EVENT_IDX)) !== 0n,
        indirect: (features & bit(virtio.VIRTIO_RING_F_INDIRECT_DESC)) !== 0n,
      });
      return undefined;
    } catch (e) {
      if (e instanceof SplitQueueError) return e.message;
      throw e;
    }
  }

  // ---- internals ----

  #freshQueues(): VirtqueueState[] {
    return Array.from({ length: this.totalQueues }, () => ({
      size: this.options.queueMaxSize,
      msixVector: virtio.VIRTIO_MSI_NO_VECTOR,
      enabled: false,
      desc: 0n,
      driver: 0n,
      device: 0n,
      ring: undefined,
    }));
  }

  #deviceReset(kind: 'device' | 'flr'): void {
    this.#deviceFeatureSelect = 0;
    this.#driverFeatureSelect = 0;
    this.#driverFeatures = 0n;
    this.#status = 0;
    this.#configMsixVector = virtio.VIRTIO_MSI_NO_VECTOR;
    this.#queueSelect = 0;
    this.#isr = 0;
    this.#queues = this.#freshQueues();
    this.#owedConfigIrq = false;
    this.#owedQueueIrqs.clear();
    this.#legacyInterface = false;
    this.#needsResetCause = undefined;
    this.#updateIntxStatus();
    this.#backend?.reset(kind);
  }

  #featuresAcceptable(): boolean {
    const f = this.#driverFeatures;
    const offered = this.options.deviceFeatures;
    if ((f & ~offered) !== 0n) return false;
    for (const required of [virtio.VIRTIO_F_VERSION_1, virtio.VIRTIO_F_ACCESS_PLATFORM]) {
      if ((offered & bit(required)) !== 0n && (f & bit(required)) === 0n) return false;
    }
    return this.#backend?.acceptFeatures(f) ?? true;
  }

  #setNeedsReset(cause: NeedsResetCause): void {
    this.#needsResetCause = cause;
    const had = (this.#status & virtio.VIRTIO_CONFIG_S_NEEDS_RESET) !== 0;
    this.#status |= virtio.VIRTIO_CONFIG_S_NEEDS_RESET;
    if (!had && (this.#status & virtio.VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#signalConfig();
  }

  #ringConfig(q: VirtqueueState): ConstructorParameters<typeof SplitQueue>[1] {
    return {
      size: q.size,
      descAddr: q.desc,
      availAddr: q.driver,
      usedAddr: q.device,
      eventIdx: this.negotiated(virtio.VIRTIO_RING_F_EVENT_IDX),
      indirect: this.negotiated(virtio.VIRTIO_RING_F_INDIRECT_DESC),
    };
  }

  #enableQueue(q: VirtqueueState): void {
    try {
      q.ring = new SplitQueue(this.#memory, this.#ringConfig(q));
      q.enabled = true;
    } catch (e) {
      if (!(e instanceof SplitQueueError)) throw e;
      this.#setNeedsReset({ kind: 'ring', error: e });
    }
  }

  #progressFromMemory(q: VirtqueueState): { lastAvailIdx: number; usedIdx: number } {
    // struct virtq_used: le16 idx @2.
    const usedIdx = this.#memory.readU16(q.device + 2n);
    return { lastAvailIdx: usedIdx, usedIdx };
  }

  #busMaster(): boolean {
    const fn = this.#fn;
    return fn !== undefined && (fn.config.get(pci.PCI_COMMAND, 2) & pci.PCI_COMMAND_MASTER) !== 0;
  }

  #dmaPort(): QueueMemory | undefined {
    const fn = this.#fn;
    const placement = fn?.placement;
    const dma = fn?.ctx.dma;
    if (fn === undefined || placement === undefined || dma === undefined) return undefined;
    if (this.#port?.rid !== placement.rid) {
      const port = dma.port({ rid: placement.rid, deviceName: fn.name });
      this.#port = { rid: placement.rid, port, memory: dmaQueueMemory(port) };
    }
    return this.#port.memory;
  }

  #signalQueue(index: number): void {
    if (this.#stopped) {
      this.#owedQueueIrqs.add(index);
      return;
    }
    const msix = this.options.msix;
    if (msix.enabled) {
      const v = this.#queues[index]?.msixVector ?? virtio.VIRTIO_MSI_NO_VECTOR;
      if (v !== virtio.VIRTIO_MSI_NO_VECTOR) msix.signal(v);
      return;
    }
    this.#isr |= virtio.VIRTIO_PCI_ISR_QUEUE;
    this.#updateIntxStatus();
  }

  #signalConfig(): void {
    if (this.#stopped) {
      this.#owedConfigIrq = true;
      return;
    }
    this.#isr |= virtio.VIRTIO_PCI_ISR_CONFIG;
    const msix = this.options.msix;
    if (msix.enabled) {
      if (this.#configMsixVector !== virtio.VIRTIO_MSI_NO_VECTOR) msix.signal(this.#configMsixVector);
      return;
    }
    this.#updateIntxStatus();
  }

  #updateIntxStatus(): void {
    const fn = this.#fn;
    if (fn === undefined || fn.isVf) return;
    const asserted = this.#isr !== 0 && !this.options.msix.enabled;
    fn.config.setBits(pci.PCI_STATUS, 2, pci.PCI_STATUS_INTERRUPT, asserted);
  }

  /** Side-effect-free read of the BAR (the ISR reads without clearing). */
  #peek(bar: number, offset: number, width: 1 | 2 | 4): number | undefined {
    if (bar !== VIRTIO_BAR) return undefined;
    if (offset >= COMMON_CFG_OFFSET && offset + width <= COMMON_CFG_OFFSET + COMMON_CFG_LENGTH) {
      return readLe(this.#commonImage(), offset - COMMON_CFG_OFFSET, width);
    }
    if (offset === ISR_CFG_OFFSET) return this.#isr;
    if (offset >= DEVICE_CFG_OFFSET && offset + width <= DEVICE_CFG_OFFSET + this.options.deviceCfgLength) {
      const bytes = this.#backend?.configBytes() ?? EMPTY;
      const at = offset - DEVICE_CFG_OFFSET;
      return at + width <= bytes.length ? readLe(bytes, at, width) : 0;
    }
    if (offset >= NOTIFY_CFG_OFFSET && offset < NOTIFY_CFG_OFFSET + this.totalQueues * NOTIFY_OFF_MULTIPLIER)
      return 0;
    return undefined;
  }

  #commonImage(): Uint8Array {
    const b = new Uint8Array(COMMON_CFG_LENGTH);
    const c = virtio;
    const features = this.options.deviceFeatures;
    const window = (f: bigint, sel: number): number =>
      sel > 1 ? 0 : Number((f >> (BigInt(sel) * WINDOW_BITS)) & U32_MASK);
    writeLe(b, c.VIRTIO_PCI_COMMON_DFSELECT, 4, this.#deviceFeatureSelect);
    writeLe(b, c.VIRTIO_PCI_COMMON_DF, 4, window(features, this.#deviceFeatureSelect));
    writeLe(b, c.VIRTIO_PCI_COMMON_GFSELECT, 4, this.#driverFeatureSelect);
    writeLe(b, c.VIRTIO_PCI_COMMON_GF, 4, window(this.#driverFeatures, this.#driverFeatureSelect));
    writeLe(b, c.VIRTIO_PCI_COMMON_MSIX, 2, this.#configMsixVector);
    writeLe(b, c.VIRTIO_PCI_COMMON_NUMQ, 2, this.options.numQueues);
    writeLe(b, c.VIRTIO_PCI_COMMON_STATUS, 1, this.#status);
    writeLe(b, c.VIRTIO_PCI_COMMON_CFGGENERATION, 1, this.#configGeneration);
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_SELECT, 2, this.#queueSelect);
    const q = this.#queues[this.#queueSelect];
    if (q !== undefined) {
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_SIZE, 2, q.size);
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_MSIX, 2, q.msixVector);
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_ENABLE, 2, q.enabled ? 1 : 0);
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_NOFF, 2, this.#queueSelect);
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_DESCLO, 4, Number(q.desc & U32_MASK));
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_DESCHI, 4, Number(q.desc >> 32n));
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_AVAILLO, 4, Number(q.driver & U32_MASK));
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_AVAILHI, 4, Number(q.driver >> 32n));
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_USEDLO, 4, Number(q.device & U32_MASK));
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_USEDHI, 4, Number(q.device >> 32n));
      writeLe(b, c.VIRTIO_PCI_COMMON_Q_NDATA, 2, this.#queueSelect);
    }
    const admin = this.options.adminQueueNum > 0;
    writeLe(b, c.VIRTIO_PCI_COMMON_ADM_Q_IDX, 2, admin ? this.adminQueueIndex : 0);
    writeLe(b, c.VIRTIO_PCI_COMMON_ADM_Q_NUM, 2, this.options.adminQueueNum);
    return b;
  }

  #commonWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    const c = virtio;
    const q = this.#queues[this.#queueSelect];
    const queueField = (f: (q: VirtqueueState) => void): void => {
      if (q !== undefined && !q.enabled) f(q);
    };
    const setLo = (old: bigint): bigint => (old & ~U32_MASK) | BigInt(value >>> 0);
    const setHi = (old: bigint): bigint => (old & U32_MASK) | (BigInt(value >>> 0) << 32n);
    const w4 = width === 4;
    const w2 = width === 2;
    switch (offset) {
      case c.VIRTIO_PCI_COMMON_DFSELECT:
        if (w4) this.#deviceFeatureSelect = value >>> 0;
        return;
      case c.VIRTIO_PCI_COMMON_GFSELECT:
        if (w4) this.#driverFeatureSelect = value >>> 0;
        return;
      case c.VIRTIO_PCI_COMMON_GF:
        if (w4) this.writeDriverFeatures(this.#driverFeatureSelect, value);
        return;
      case c.VIRTIO_PCI_COMMON_MSIX:
        if (w2) this.setConfigMsixVector(value);
        return;
      case c.VIRTIO_PCI_COMMON_STATUS:
        if (width === 1) this.writeStatus(value, false);
        return;
      case c.VIRTIO_PCI_COMMON_Q_SELECT:
        if (w2) this.setQueueSelect(value);
        return;
      case c.VIRTIO_PCI_COMMON_Q_SIZE:
        if (w2) queueField((x) => (x.size = value & 0xffff));
        return;
      case c.VIRTIO_PCI_COMMON_Q_MSIX:
        if (w2 && q !== undefined) q.msixVector = this.acceptVector(value & 0xffff);
        return;
      case c.VIRTIO_PCI_COMMON_Q_ENABLE:
        // Writing 0 is forbidden to the driver; the device ignores it.
        if (w2 && value === 1) queueField((x) => this.#enableQueue(x));
        return;
      case c.VIRTIO_PCI_COMMON_Q_DESCLO:
        if (w4) queueField((x) => (x.desc = setLo(x.desc)));
        return;
      case c.VIRTIO_PCI_COMMON_Q_DESCHI:
        if (w4) queueField((x) => (x.desc = setHi(x.desc)));
        return;
      case c.VIRTIO_PCI_COMMON_Q_AVAILLO:
        if (w4) queueField((x) => (x.driver = setLo(x.driver)));
        return;
      case c.VIRTIO_PCI_COMMON_Q_AVAILHI:
        if (w4) queueField((x) => (x.driver = setHi(x.driver)));
        return;
      case c.VIRTIO_PCI_COMMON_Q_USEDLO:
        if (w4) queueField((x) => (x.device = setLo(x.device)));
        return;
      case c.VIRTIO_PCI_COMMON_Q_USEDHI:
        if (w4) queueField((x) => (x.device = setHi(x.device)));
        return;
      default:
        // device_feature, num_queues, config_generation, queue_notify_off, queue_notif_config_data,
        // queue_reset (RING_RESET not offered), admin_queue_*: read-only, absorbed.
        return;
    }
  }
}

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

/** Feature bit number → the bit in a 64-bit feature word. */
export function featureBit(n: number): bigint {
  return bit(n);
}
