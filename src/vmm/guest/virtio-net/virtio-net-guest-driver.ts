/**
 * A guest virtio-net driver (virtio 1.4 device-types/net; facts/virtio.md 1.9-1.12, section 2), as
 * Linux's virtio_net + virtio_pci run it with one queue pair: init sequence, feature negotiation,
 * MSI-X or INTx, receive queue refill, transmit with a virtio_net_hdr, control queue commands, device
 * config, reset.
 *
 * Interrupt model: the driver never waits. Whoever delivers interrupts (a VMM's MSI routing, a test)
 * calls `handleInterrupt(vector)` for an MSI-X vector, or `handleInterrupt('intx')` for the INTx line;
 * a caller without interrupts calls `poll()`, and `pendingWork()` says, without touching a register,
 * whether a used ring has entries waiting. Each returns what happened: received frames, transmit and
 * control completions, config changes. Control commands therefore complete asynchronously too: they
 * return an id, and the completion comes back from `poll`/`handleInterrupt` (Linux spins on the control
 * queue instead; a modeled device may answer later in virtual time, so spinning could never end).
 *
 * Left out: multiqueue, mergeable RX buffers, offloads (csum, GSO: every header sent is zero and every
 * header received is reported as it came), VLAN and MAC table commands, ANNOUNCE acks, suppression of
 * used notifications, retry of MSI-X with fewer vectors after a refused vector (init fails instead).
 */
import { decodeStruct, encodeStruct, errnoError, LabError } from '../../../base/index.js';
import { virtio, vring } from '../../../spec/index.js';
import { VirtqueueDriver } from '../virtqueue-driver.js';
import type { GuestDmaMemory, GuestPciAccess, GuestRegionAllocator } from './guest-access.js';
import {
  disableMsix,
  enableFunction,
  enableMsix,
  findMsix,
  findVirtioCaps,
  type MsixCapability,
} from './pci-capabilities.js';
import {
  type CtrlCompletion,
  type InterruptRouting,
  type ReceivedFrame,
  type SetMacResult,
  type VirtioNetCounters,
  type VirtioNetDriverSnapshot,
  type VirtioNetEvents,
  type VirtioNetHdrValue,
  type VirtioNetInitOptions,
  zeroCounters,
} from './virtio-net-types.js';
import {
  LegacyTransport,
  ModernTransport,
  type QueueRings,
  type VirtioTransport,
} from './virtio-transport.js';

const bit = (n: number): bigint => 1n << BigInt(n);

/** Features this driver can use; init accepts their intersection with what the device offers. */
export const VIRTIO_NET_DRIVER_FEATURES: bigint =
  bit(virtio.VIRTIO_NET_F_MAC) |
  bit(virtio.VIRTIO_NET_F_STATUS) |
  bit(virtio.VIRTIO_NET_F_CTRL_VQ) |
  bit(virtio.VIRTIO_NET_F_CTRL_RX) |
  bit(virtio.VIRTIO_NET_F_CTRL_MAC_ADDR) |
  bit(virtio.VIRTIO_RING_F_EVENT_IDX) |
  bit(virtio.VIRTIO_F_ANY_LAYOUT) |
  bit(virtio.VIRTIO_F_VERSION_1) |
  bit(virtio.VIRTIO_F_ACCESS_PLATFORM);

/** Legacy drivers see only feature bits 0-31 (facts 1.11). */
const LEGACY_FEATURE_MASK = 0xffff_ffffn;

// Queue indexes with one queue pair (facts 1.12): receiveq1, transmitq1, controlq.
const RX_QUEUE = 0;
const TX_QUEUE = 1;
const CTRL_QUEUE = 2;

/** Largest queue the driver asks for in modern mode (Linux leaves the device's size; 256 is typical). */
const DEFAULT_MAX_QUEUE_SIZE = 256;
/** Ethernet frame without FCS, with one VLAN tag: what one RX/TX buffer must hold. */
const DEFAULT_FRAME_BYTES = 1518;
const BUFFER_ALIGN = 64;
/** One control request slot: header at 0, data from 2, ack in the last byte. */
const CTRL_SLOT_BYTES = 64;
const CTRL_HDR_BYTES = virtio.VirtioNetCtrlHdr.sizeBytes;
const CTRL_DATA_MAX = CTRL_SLOT_BYTES - CTRL_HDR_BYTES - 1;
/** Ack value before the device writes one (Linux presets ~0). */
const CTRL_ACK_UNSET = 0xff;
const MAC_BYTES = 6;
/** Used when VIRTIO_NET_F_MAC is not negotiated: a fixed locally administered address (Linux picks a random one). */
const FALLBACK_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);
/** Bounded retries of a config read that races a config change. */
const CONFIG_READ_RETRIES = 100;
const VIRTIO_NET_CONFIG_MAC = 0;
const VIRTIO_NET_CONFIG_STATUS = 6;

interface TxToken {
  readonly id: number;
  readonly slot: number;
  readonly bytes: number;
}
interface CtrlToken {
  readonly id: number;
  readonly slot: number;
  readonly class: number;
  readonly command: number;
}
interface Queue<T> {
  readonly index: number;
  readonly vq: VirtqueueDriver<T>;
  readonly rings: QueueRings;
  readonly vector: number;
}
interface SlotPool {
  readonly base: bigint;
  readonly slotBytes: number;
  readonly free: number[];
}

interface Running {
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

type DriverState =
  | { readonly kind: 'down' }
  | { readonly kind: 'failed'; readonly error: unknown; readonly transport: VirtioTransport | undefined }
  | Running;

export class VirtioNetGuestDriver {
  #state: DriverState = { kind: 'down' };
  readonly #counters = zeroCounters();

  get state(): DriverState['kind'] {
    return this.#state.kind;
  }

  /** Features negotiated at init. */
  get features(): bigint {
    return this.#up().features;
  }

  get mac(): Uint8Array {
    return this.#up().mac.slice();
  }

  /** Link status from device config (always up without VIRTIO_NET_F_STATUS). */
  get linkUp(): boolean {
    return (this.#up().netStatus & virtio.VIRTIO_NET_S_LINK_UP) !== 0;
  }

  get interrupts(): InterruptRouting {
    return this.#up().irq;
  }

  counters(): Readonly<VirtioNetCounters> {
    return { ...this.#counters };
  }

  /**
   * The full init sequence (facts 1.9): reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK and its check
   * (modern), MSI-X vectors, device config, queues, DRIVER_OK, RX refill. On failure the device is left
   * with FAILED set, the driver's memory is given back, and the error is thrown.
   */
  init(options: VirtioNetInitOptions): void {
    if (this.#state.kind === 'up') throw new LabError('invalid-state', 'virtio-net: already initialized');
    const { access, allocator } = options;
    const regions: bigint[] = [];
    let transport: VirtioTransport | undefined;
    let status = 0;
    let msix: MsixCapability | undefined;
    try {
      enableFunction(access, options.mode === 'modern' ? 'memory' : 'io');
      transport =
        options.mode === 'modern'
          ? new ModernTransport(access, findVirtioCaps(access))
          : new LegacyTransport(access);
      const t = transport;
      t.reset();
      const addStatus = (s: number) => {
        status |= s;
        t.writeStatus(status);
      };
      addStatus(virtio.VIRTIO_CONFIG_S_ACKNOWLEDGE);
      addStatus(virtio.VIRTIO_CONFIG_S_DRIVER);
      const features = this.#negotiate(t, options);
      if (t.mode === 'modern') {
        addStatus(virtio.VIRTIO_CONFIG_S_FEATURES_OK);
        const readBack = t.readStatus();
        if ((readBack & virtio.VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
          throw errnoError(
            'ENODEV',
            `virtio-net: device refused features 0x${features.toString(16)} (status 0x${readBack.toString(16)})`,
          );
        }
      }
      const has = (f: number) => (features & bit(f)) !== 0n;
      const queueIndexes = has(virtio.VIRTIO_NET_F_CTRL_VQ)
        ? [RX_QUEUE, TX_QUEUE, CTRL_QUEUE]
        : [RX_QUEUE, TX_QUEUE];
      const found = options.msix ? findMsix(access) : undefined;
      let irq: InterruptRouting = { kind: 'intx' };
      if (options.msix && found) {
        const nq = queueIndexes.length;
        const layout = found.tableSize >= 1 + nq ? 'per-queue' : found.tableSize >= 2 ? 'shared' : undefined;
        if (layout) {
          irq = {
            kind: 'msix',
            layout,
            configVector: 0,
            queueVectors: queueIndexes.map((_, i) => (layout === 'per-queue' ? 1 + i : 1)),
          };
          enableMsix(access, found, layout === 'per-queue' ? 1 + nq : 2, options.msix);
          msix = found;
          t.setMsixEnabled(true);
          const got = t.setConfigVector(0);
          if (got !== 0)
            throw errnoError('EBUSY', `virtio-net: device refused config vector 0 (read ${got})`);
        }
      }
      const mac = has(virtio.VIRTIO_NET_F_MAC) ? readMac(t) : FALLBACK_MAC.slice();
      const netStatus = has(virtio.VIRTIO_NET_F_STATUS)
        ? t.readDeviceConfig(VIRTIO_NET_CONFIG_STATUS, 2)
        : virtio.VIRTIO_NET_S_LINK_UP;

      const eventIdx = has(virtio.VIRTIO_RING_F_EVENT_IDX);
      const maxSize = options.maxQueueSize ?? DEFAULT_MAX_QUEUE_SIZE;
      const setup = <T>(index: number, i: number): Queue<T> => {
        const rings = t.allocateRings(index, maxSize, allocator);
        regions.push(...rings.regions);
        const vq = new VirtqueueDriver<T>(options.memory, { ...rings, eventIdx });
        const vector = irq.kind === 'msix' ? irq.queueVectors[i]! : virtio.VIRTIO_MSI_NO_VECTOR;
        const got = t.configureQueue(index, rings, vector);
        if (got !== vector) {
          throw errnoError(
            'EBUSY',
            `virtio-net: device refused vector ${vector} for queue ${index} (read ${got})`,
          );
        }
        return { index, vq, rings, vector };
      };
      const rx = setup<number>(RX_QUEUE, 0);
      const tx = setup<TxToken>(TX_QUEUE, 1);
      const ctrlQueue = queueIndexes.length > 2 ? setup<CtrlToken>(CTRL_QUEUE, 2) : undefined;
      for (const index of queueIndexes) t.enableQueue(index);

      const hdrBytes =
        t.mode === 'modern' || has(virtio.VIRTIO_NET_F_MRG_RXBUF)
          ? virtio.VirtioNetHdr.sizeBytes
          : virtio.VIRTIO_NET_HDR_LEGACY_SIZE;
      const frameBytes = options.frameBytes ?? DEFAULT_FRAME_BYTES;
      const pool = (slots: number, slotBytes: number): SlotPool => {
        const bytes = roundUp(slotBytes, BUFFER_ALIGN);
        const base = allocator.alloc(slots * bytes, BUFFER_ALIGN);
        regions.push(base);
        return { base, slotBytes: bytes, free: Array.from({ length: slots }, (_, i) => slots - 1 - i) };
      };
      const running: Running = {
        kind: 'up',
        transport: t,
        access,
        memory: options.memory,
        allocator,
        msix,
        irq,
        features,
        hdrBytes,
        anyLayout: t.mode === 'modern' || has(virtio.VIRTIO_F_ANY_LAYOUT),
        frameBytes,
        rx,
        rxPool: pool(rx.rings.size, hdrBytes + frameBytes),
        tx,
        txPool: pool(tx.rings.size, hdrBytes + frameBytes),
        ctrl: ctrlQueue ? { queue: ctrlQueue, pool: pool(ctrlQueue.rings.size, CTRL_SLOT_BYTES) } : undefined,
        regions,
        txInFlight: new Map(),
        ctrlInFlight: new Map(),
        pendingMac: new Map(),
        txReaped: [],
        ctrlReaped: [],
        mac,
        netStatus,
        nextTxId: 0,
        nextCtrlId: 0,
      };
      addStatus(virtio.VIRTIO_CONFIG_S_DRIVER_OK);
      this.#state = running;
      this.#refillRx(running);
    } catch (error) {
      // virtio_add_status(FAILED): read-modify-write, so bits the device refused stay clear.
      if (transport && status !== 0) {
        transport.writeStatus(transport.readStatus() | virtio.VIRTIO_CONFIG_S_FAILED);
      }
      if (msix) disableMsix(access, msix);
      for (const r of regions) allocator.free(r);
      this.#state = { kind: 'failed', error, transport };
      throw error;
    }
  }

  /** Queue one Ethernet frame behind a zeroed virtio_net_hdr. Returns its transmit id. ENOSPC when full. */
  send(frame: Uint8Array): number {
    const r = this.#up();
    if (frame.length === 0 || frame.length > r.frameBytes) {
      throw new LabError('bad-input', `virtio-net: frame of ${frame.length} bytes (1..${r.frameBytes})`);
    }
    const segments = r.anyLayout ? 1 : 2;
    if (r.txPool.free.length === 0 || r.tx.vq.numFree < segments) this.#reapTx(r, r.txReaped);
    const slot = r.txPool.free.pop();
    if (slot === undefined || r.tx.vq.numFree < segments) {
      if (slot !== undefined) r.txPool.free.push(slot);
      throw errnoError('ENOSPC', 'virtio-net: transmit queue full');
    }
    const addr = r.txPool.base + BigInt(slot * r.txPool.slotBytes);
    const hdr = encodeStruct(virtio.VirtioNetHdr, zeroHdr()).subarray(0, r.hdrBytes);
    r.memory.write(addr, hdr);
    r.memory.write(addr + BigInt(r.hdrBytes), frame);
    const token: TxToken = { id: r.nextTxId, slot, bytes: frame.length };
    r.nextTxId++;
    const out = r.anyLayout
      ? [{ addr, len: r.hdrBytes + frame.length }]
      : [
          { addr, len: r.hdrBytes },
          { addr: addr + BigInt(r.hdrBytes), len: frame.length },
        ];
    r.tx.vq.add(out, [], token, { indirect: false });
    r.txInFlight.set(token.id, token);
    this.#counters.txFrames++;
    this.#counters.txBytes += frame.length;
    this.#publish(r, r.tx);
    return token.id;
  }

  /** VIRTIO_NET_CTRL_MAC_ADDR_SET, or on a legacy device without it, a write of the config mac. */
  setMac(mac: Uint8Array): SetMacResult {
    const r = this.#up();
    if (mac.length !== MAC_BYTES) throw new LabError('bad-input', `MAC address of ${mac.length} bytes`);
    if (r.ctrl && this.#has(r, virtio.VIRTIO_NET_F_CTRL_MAC_ADDR)) {
      return {
        kind: 'ctrl',
        id: this.#ctrl(r, virtio.VIRTIO_NET_CTRL_MAC, virtio.VIRTIO_NET_CTRL_MAC_ADDR_SET, mac),
      };
    }
    if (r.transport.mode === 'legacy' && this.#has(r, virtio.VIRTIO_NET_F_MAC)) {
      mac.forEach((b, i) => {
        r.transport.writeDeviceConfig(VIRTIO_NET_CONFIG_MAC + i, 1, b);
      });
      r.mac = mac.slice();
      return { kind: 'config-written' };
    }
    throw errnoError('EOPNOTSUPP', 'virtio-net: the device cannot change its MAC address');
  }

  setPromisc(on: boolean): number {
    return this.#rxMode(virtio.VIRTIO_NET_CTRL_RX_PROMISC, on);
  }

  setAllmulti(on: boolean): number {
    return this.#rxMode(virtio.VIRTIO_NET_CTRL_RX_ALLMULTI, on);
  }

  /** Whether a used ring has entries the driver has not taken (reads guest memory only). */
  pendingWork(): boolean {
    const r = this.#state;
    if (r.kind !== 'up') return false;
    return (
      r.txReaped.length > 0 ||
      r.ctrlReaped.length > 0 ||
      this.#queues(r).some((q) => usedWaiting(r.memory, q))
    );
  }

  /** Take everything the device returned. Without MSI-X, reads (and so clears) the ISR first. */
  poll(): VirtioNetEvents {
    const r = this.#up();
    let configChanged = false;
    if (r.irq.kind === 'intx') {
      configChanged = (r.transport.readIsr() & virtio.VIRTIO_PCI_ISR_CONFIG) !== 0;
    }
    return this.#collect(r, this.#queues(r), configChanged);
  }

  /** An interrupt arrived: an MSI-X vector number, or 'intx' for the INTx line. */
  handleInterrupt(vector: number | 'intx'): VirtioNetEvents {
    const r = this.#up();
    this.#counters.interrupts++;
    if (r.irq.kind === 'intx') {
      if (vector !== 'intx')
        throw new LabError('bad-input', `virtio-net: MSI-X vector ${vector} while on INTx`);
      const isr = r.transport.readIsr();
      if (isr === 0) {
        this.#counters.spuriousInterrupts++;
        return this.#collect(r, [], false);
      }
      const queues = (isr & virtio.VIRTIO_PCI_ISR_QUEUE) !== 0 ? this.#queues(r) : [];
      return this.#collect(r, queues, (isr & virtio.VIRTIO_PCI_ISR_CONFIG) !== 0);
    }
    const queues = this.#queues(r).filter((q) => q.vector === vector);
    const config = vector === r.irq.configVector;
    if (queues.length === 0 && !config) this.#counters.spuriousInterrupts++;
    return this.#collect(r, queues, config);
  }

  /** Read mac and status again from device config (with the generation loop in modern mode). */
  readConfig(): { mac: Uint8Array; linkUp: boolean } {
    const r = this.#up();
    this.#refreshConfig(r);
    return { mac: r.mac.slice(), linkUp: this.linkUp };
  }

  /**
   * Reset the device and drop the driver's queues and memory. Returns the transmit and control ids that
   * were still in flight: the device never completed them.
   */
  reset(): { droppedTx: number[]; droppedCtrl: number[] } {
    const s = this.#state;
    switch (s.kind) {
      case 'down':
        return { droppedTx: [], droppedCtrl: [] };
      case 'failed':
        s.transport?.reset();
        this.#state = { kind: 'down' };
        return { droppedTx: [], droppedCtrl: [] };
      case 'up': {
        s.transport.reset();
        if (s.msix) disableMsix(s.access, s.msix);
        for (const q of this.#queues(s)) q.vq.reset();
        for (const region of s.regions) s.allocator.free(region);
        this.#state = { kind: 'down' };
        return {
          droppedTx: [...s.txInFlight.keys()].sort((a, b) => a - b),
          droppedCtrl: [...s.ctrlInFlight.keys()].sort((a, b) => a - b),
        };
      }
    }
  }

  snapshot(): VirtioNetDriverSnapshot {
    const counters = { ...this.#counters };
    const s = this.#state;
    if (s.kind !== 'up') return { version: 1, state: s.kind, counters };
    const names = ['rx', 'tx', 'ctrl'] as const;
    return {
      version: 1,
      state: 'up',
      mode: s.transport.mode,
      features: s.features,
      queues: this.#queues(s).map((q) => ({
        name: names[q.index]!,
        index: q.index,
        size: q.rings.size,
        availIdx: q.vq.availIdx,
        lastUsedIdx: q.vq.lastUsedIdx,
        inFlight: q.vq.inFlightCount,
      })),
      txInFlight: [...s.txInFlight.values()]
        .map((t) => ({ id: t.id, bytes: t.bytes }))
        .sort((a, b) => a.id - b.id),
      txCompletedUnreported: [...s.txReaped],
      rxPosted: s.rx.vq.inFlightCount,
      ctrlInFlight: [...s.ctrlInFlight.values()]
        .map((c) => ({ id: c.id, class: c.class, command: c.command }))
        .sort((a, b) => a.id - b.id),
      counters,
    };
  }

  // ---- internals ----

  #up(): Running {
    const s = this.#state;
    if (s.kind !== 'up') throw new LabError('invalid-state', `virtio-net: driver is ${s.kind}`);
    return s;
  }

  #has(r: Running, feature: number): boolean {
    return (r.features & bit(feature)) !== 0n;
  }

  #queues(r: Running): Array<Queue<unknown>> {
    const qs: Array<Queue<unknown>> = [r.rx, r.tx];
    if (r.ctrl) qs.push(r.ctrl.queue);
    return qs;
  }

  #negotiate(t: VirtioTransport, options: VirtioNetInitOptions): bigint {
    const offered = t.readDeviceFeatures();
    let wanted = options.features ?? VIRTIO_NET_DRIVER_FEATURES;
    if (t.mode === 'modern') {
      if ((offered & bit(virtio.VIRTIO_F_VERSION_1)) === 0n) {
        throw errnoError('ENODEV', 'virtio-net: device does not offer VIRTIO_F_VERSION_1 (legacy only)');
      }
      // A device behind a translation requires the driver to accept ACCESS_PLATFORM; our addresses are
      // already bus addresses, so accepting it costs nothing.
      wanted |= bit(virtio.VIRTIO_F_VERSION_1) | (offered & bit(virtio.VIRTIO_F_ACCESS_PLATFORM));
    } else {
      wanted &= LEGACY_FEATURE_MASK;
    }
    const accepted = offered & wanted;
    t.writeDriverFeatures(accepted);
    return accepted;
  }

  #rxMode(command: number, on: boolean): number {
    const r = this.#up();
    if (!r.ctrl || !this.#has(r, virtio.VIRTIO_NET_F_CTRL_RX)) {
      throw errnoError('EOPNOTSUPP', 'virtio-net: VIRTIO_NET_F_CTRL_RX was not negotiated');
    }
    return this.#ctrl(r, virtio.VIRTIO_NET_CTRL_RX, command, Uint8Array.of(on ? 1 : 0));
  }

  /** Queue a control request: out = [header, data], in = [ack]. */
  #ctrl(r: Running, cls: number, command: number, data: Uint8Array): number {
    const ctrl = r.ctrl!;
    if (data.length > CTRL_DATA_MAX) throw new LabError('internal', `control data of ${data.length} bytes`);
    if (ctrl.pool.free.length === 0 || ctrl.queue.vq.numFree < 3) this.#collectCtrl(r, r.ctrlReaped);
    const slot = ctrl.pool.free.pop();
    if (slot === undefined || ctrl.queue.vq.numFree < 3) {
      if (slot !== undefined) ctrl.pool.free.push(slot);
      throw errnoError('ENOSPC', 'virtio-net: control queue full');
    }
    const addr = ctrl.pool.base + BigInt(slot * ctrl.pool.slotBytes);
    const ackAddr = addr + BigInt(CTRL_SLOT_BYTES - 1);
    r.memory.write(addr, encodeStruct(virtio.VirtioNetCtrlHdr, { class: cls, command }));
    r.memory.write(addr + BigInt(CTRL_HDR_BYTES), data);
    r.memory.write(ackAddr, Uint8Array.of(CTRL_ACK_UNSET));
    const token: CtrlToken = { id: r.nextCtrlId, slot, class: cls, command };
    r.nextCtrlId++;
    ctrl.queue.vq.add(
      [
        { addr, len: CTRL_HDR_BYTES },
        { addr: addr + BigInt(CTRL_HDR_BYTES), len: data.length },
      ],
      [{ addr: ackAddr, len: 1 }],
      token,
      { indirect: false },
    );
    r.ctrlInFlight.set(token.id, token);
    if (cls === virtio.VIRTIO_NET_CTRL_MAC) r.pendingMac.set(token.id, data.slice());
    this.#publish(r, ctrl.queue);
    return token.id;
  }

  #publish<T>(r: Running, q: Queue<T>): void {
    q.vq.publish();
    if (q.vq.kickNeeded()) {
      r.transport.notify(q.index);
      this.#counters.kicks++;
    } else {
      this.#counters.kicksSuppressed++;
    }
  }

  #refillRx(r: Running): void {
    const segments = r.anyLayout ? 1 : 2;
    let added = 0;
    while (r.rxPool.free.length > 0 && r.rx.vq.numFree >= segments) {
      const slot = r.rxPool.free.pop()!;
      const addr = r.rxPool.base + BigInt(slot * r.rxPool.slotBytes);
      const inSegs = r.anyLayout
        ? [{ addr, len: r.hdrBytes + r.frameBytes }]
        : [
            { addr, len: r.hdrBytes },
            { addr: addr + BigInt(r.hdrBytes), len: r.frameBytes },
          ];
      r.rx.vq.add([], inSegs, slot, { indirect: false });
      added++;
    }
    if (added > 0) this.#publish(r, r.rx);
  }

  #reapTx(r: Running, out: number[]): void {
    for (let u = r.tx.vq.getUsed(); u; u = r.tx.vq.getUsed()) {
      r.txPool.free.push(u.token.slot);
      r.txInFlight.delete(u.token.id);
      this.#counters.txCompleted++;
      out.push(u.token.id);
    }
  }

  #collectCtrl(r: Running, out: CtrlCompletion[]): void {
    const ctrl = r.ctrl;
    if (!ctrl) return;
    for (let u = ctrl.queue.vq.getUsed(); u; u = ctrl.queue.vq.getUsed()) {
      const { token } = u;
      const addr = ctrl.pool.base + BigInt(token.slot * ctrl.pool.slotBytes);
      const ack = r.memory.read(addr + BigInt(CTRL_SLOT_BYTES - 1), 1)[0]!;
      ctrl.pool.free.push(token.slot);
      r.ctrlInFlight.delete(token.id);
      const mac = r.pendingMac.get(token.id);
      r.pendingMac.delete(token.id);
      if (ack === virtio.VIRTIO_NET_OK) {
        this.#counters.ctrlOk++;
        if (mac) r.mac = mac;
      } else {
        this.#counters.ctrlErr++;
      }
      out.push({ id: token.id, class: token.class, command: token.command, ack });
    }
  }

  #collect(r: Running, queues: ReadonlyArray<Queue<unknown>>, configChanged: boolean): VirtioNetEvents {
    const received: ReceivedFrame[] = [];
    const txCompleted: number[] = r.txReaped.splice(0);
    const ctrlCompleted: CtrlCompletion[] = r.ctrlReaped.splice(0);
    if (configChanged) {
      this.#counters.configChanges++;
      this.#refreshConfig(r);
    }
    for (const q of queues) {
      if (q === r.rx) {
        for (let u = r.rx.vq.getUsed(); u; u = r.rx.vq.getUsed()) {
          const addr = r.rxPool.base + BigInt(u.token * r.rxPool.slotBytes);
          r.rxPool.free.push(u.token);
          if (u.len < r.hdrBytes || u.len > r.hdrBytes + r.frameBytes) {
            this.#counters.rxErrors++;
            continue;
          }
          const bytes = r.memory.read(addr, u.len);
          const hdr = decodeStruct(virtio.VirtioNetHdr, bytes.subarray(0, r.hdrBytes), { missing: 'zero' });
          received.push({ hdr, frame: bytes.slice(r.hdrBytes) });
          this.#counters.rxFrames++;
          this.#counters.rxBytes += u.len - r.hdrBytes;
        }
        this.#refillRx(r);
      } else if (q === r.tx) {
        this.#reapTx(r, txCompleted);
      } else {
        this.#collectCtrl(r, ctrlCompleted);
      }
    }
    return { received, txCompleted, ctrlCompleted, configChanged };
  }

  #refreshConfig(r: Running): void {
    if (this.#has(r, virtio.VIRTIO_NET_F_MAC)) r.mac = readMac(r.transport);
    if (this.#has(r, virtio.VIRTIO_NET_F_STATUS)) {
      r.netStatus = r.transport.readDeviceConfig(VIRTIO_NET_CONFIG_STATUS, 2);
    }
  }
}

/**
 * The mac field, read consistently: between two equal config_generation reads (modern), or until two
 * reads agree (legacy has no generation; facts 1.11).
 */
function readMac(t: VirtioTransport): Uint8Array {
  const once = () =>
    Uint8Array.from({ length: MAC_BYTES }, (_, i) => t.readDeviceConfig(VIRTIO_NET_CONFIG_MAC + i, 1));
  for (let i = 0; i < CONFIG_READ_RETRIES; i++) {
    const before = t.configGeneration();
    const mac = once();
    const after = before === undefined ? once() : undefined;
    if (before !== undefined ? t.configGeneration() === before : sameBytes(mac, after!)) return mac;
  }
  throw errnoError('EIO', 'virtio-net: device config kept changing while the MAC was read');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function usedWaiting(memory: GuestDmaMemory, q: Queue<unknown>): boolean {
  return memory.readU16(q.rings.usedAddr + BigInt(vring.USED_IDX)) !== q.vq.lastUsedIdx;
}

function zeroHdr(): VirtioNetHdrValue {
  return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0 };
}

function roundUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
