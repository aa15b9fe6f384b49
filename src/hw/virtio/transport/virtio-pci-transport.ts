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
 * Left out: RING_RESET (queue_reset reads 0), NOTIF_CONFIG_DATA, the packed ring, SUSPEND, shm regions.
 *
 * This file holds the transport object: its state and the register semantics. It delegates to
 * register-file.ts (BAR decode, common cfg), transport-rings.ts (ring configuration and checks),
 * transport-interrupts.ts (ISR, MSI-X, owed interrupts), transport-saved-state.ts (the snapshot) and
 * dma-queue-memory.ts (the DMA path); transport-types.ts has the backend contract and queue state.
 */
import { LabError } from '../../../base/index.js';
import { pci, virtio } from '../../../spec/index.js';
import type { Capability } from '../../capability-builder.js';
import type { DeviceModel, PciFunction } from '../../pci-function.js';
import { type QueueMemory, SplitQueue, type SplitQueueConfig, SplitQueueError } from '../split-queue.js';
import { DmaFaultError, deferredQueueMemory, FunctionDmaPath } from './dma-queue-memory.js';
import {
  barPeek,
  barRead,
  barWrite,
  type RegisterFileHooks,
  U32_MASK,
  WINDOW_BITS,
} from './register-file.js';
import { TransportInterrupts } from './transport-interrupts.js';
import {
  freshQueues,
  legacyRingAreas,
  progressFromMemory,
  ringConfigError,
  splitQueueConfig,
} from './transport-rings.js';
import { restoredQueue, type TransportSnapshot, transportSnapshot } from './transport-saved-state.js';
import type {
  NeedsResetCause,
  VirtioDeviceBackend,
  VirtioTransportOptions,
  VirtqueueState,
} from './transport-types.js';
import { NOTIFY_OFF_MULTIPLIER, virtioCapabilities } from './virtio-caps.js';

export type { QueueSnapshot, TransportSnapshot } from './transport-saved-state.js';
export type {
  ConfigField,
  NeedsResetCause,
  VirtioDeviceBackend,
  VirtioTransportOptions,
  VirtqueueState,
} from './transport-types.js';

const bit = (n: number): bigint => 1n << BigInt(n);
const EMPTY = new Uint8Array(0);

export class VirtioPciTransport implements DeviceModel {
  readonly options: VirtioTransportOptions;
  #backend: VirtioDeviceBackend | undefined;
  #fn: PciFunction | undefined;
  readonly #dma = new FunctionDmaPath();
  readonly #memory: QueueMemory;
  #deviceFeatureSelect = 0;
  #driverFeatureSelect = 0;
  #driverFeatures = 0n;
  #status = 0;
  #configGeneration = 0;
  #configMsixVector = virtio.VIRTIO_MSI_NO_VECTOR;
  #queueSelect = 0;
  #queues: VirtqueueState[];
  #stopped = false;
  readonly #irq: TransportInterrupts;
  /** What the register file (register-file.ts) may do that only the transport can. */
  readonly #hooks: RegisterFileHooks;
  #legacyInterface = false;
  #needsResetCause: NeedsResetCause | undefined;

  constructor(options: VirtioTransportOptions) {
    this.options = options;
    this.#queues = this.#freshQueues();
    this.#memory = deferredQueueMemory(() => {
      const p = this.#dmaPort();
      if (p === undefined) throw new LabError('invalid-state', `${options.name}: no DMA path`);
      return p;
    });
    this.#irq = new TransportInterrupts({
      msix: options.msix,
      fn: () => this.#fn,
      stopped: () => this.#stopped,
      queueVector: (index) => this.#queues[index]?.msixVector,
      configVector: () => this.#configMsixVector,
    });
    this.#hooks = {
      setDeviceFeatureSelect: (value) => {
        this.#deviceFeatureSelect = value;
      },
      setDriverFeatureSelect: (value) => {
        this.#driverFeatureSelect = value;
      },
      enableQueue: (q) => this.#enableQueue(q),
      deviceConfig: () => this.#backend?.configBytes() ?? EMPTY,
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
        peek: (bar, offset, width) => barPeek(this, this.#hooks, bar, offset, width),
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
    return this.#irq.isr;
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
    if (needed) this.#irq.signalQueue(index);
  }

  /** The device type changed its config: bump config_generation and send a config change interrupt. */
  configChanged(): void {
    this.#configGeneration = (this.#configGeneration + 1) & 0xff;
    if ((this.#status & virtio.VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#irq.signalConfig();
  }

  /** Enter or leave the stopped mode (facts 4.1). Leaving sends owed interrupts and rescans queues. */
  setStopped(stopped: boolean): void {
    if (stopped === this.#stopped) return;
    this.#stopped = stopped;
    if (stopped) return;
    this.#irq.sendOwed();
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
    return barRead(this, this.#hooks, bar, offset, width);
  }

  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    barWrite(this, this.#hooks, bar, offset, width, value);
  }

  reset(kind: 'flr' | 'conventional'): void {
    this.#stopped = false;
    this.#deviceReset(kind === 'flr' ? 'flr' : 'device');
  }

  // ---- register semantics shared with the legacy view ----

  /** Read the ISR: returns it and clears it (and the Interrupt Status the ISR drives). */
  readAndClearIsr(): number {
    return this.#irq.readAndClear();
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
    const areas = legacyRingAreas(pfn, q.size);
    q.desc = areas.desc;
    q.driver = areas.driver;
    q.device = areas.device;
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
    return transportSnapshot(this, this.#queues);
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
    // No part names the driver's interface: one that started without VERSION_1 is legacy (a modern
    // driver cannot reach FEATURES_OK without it), so the device resumes speaking legacy.
    this.#legacyInterface = s.status !== 0 && (s.driverFeatures & bit(virtio.VIRTIO_F_VERSION_1)) === 0n;
    this.#needsResetCause = undefined;
    this.#queues = s.queues.map((v) =>
      restoredQueue(
        v,
        (q) => new SplitQueue(this.#memory, this.#ringConfig(q)),
        (q) => this.guard(() => progressFromMemory(this.#memory, q)),
      ),
    );
  }

  /** Check that a ring configuration is one the device can run (same rules as queue_enable). */
  ringConfigError(
    q: Pick<VirtqueueState, 'size' | 'desc' | 'driver' | 'device'>,
    features: bigint,
  ): string | undefined {
    return ringConfigError(this.#memory, q, features);
  }

  // ---- internals ----

  #freshQueues(): VirtqueueState[] {
    return freshQueues(this.totalQueues, this.options.queueMaxSize);
  }

  #deviceReset(kind: 'device' | 'flr'): void {
    this.#deviceFeatureSelect = 0;
    this.#driverFeatureSelect = 0;
    this.#driverFeatures = 0n;
    this.#status = 0;
    this.#configMsixVector = virtio.VIRTIO_MSI_NO_VECTOR;
    this.#queueSelect = 0;
    this.#irq.clear();
    this.#queues = this.#freshQueues();
    this.#legacyInterface = false;
    this.#needsResetCause = undefined;
    this.#irq.updateIntxStatus();
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
    if (!had && (this.#status & virtio.VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.#irq.signalConfig();
  }

  #ringConfig(q: VirtqueueState): SplitQueueConfig {
    return splitQueueConfig(
      q,
      this.negotiated(virtio.VIRTIO_RING_F_EVENT_IDX),
      this.negotiated(virtio.VIRTIO_RING_F_INDIRECT_DESC),
    );
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

  #busMaster(): boolean {
    const fn = this.#fn;
    return fn !== undefined && (fn.config.get(pci.PCI_COMMAND, 2) & pci.PCI_COMMAND_MASTER) !== 0;
  }

  #dmaPort(): QueueMemory | undefined {
    return this.#dma.memory(this.#fn);
  }
}

/** Feature bit number → the bit in a 64-bit feature word. */
export function featureBit(n: number): bigint {
  return bit(n);
}
