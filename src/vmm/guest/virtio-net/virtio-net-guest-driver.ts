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
 *
 * This file holds the driver object and its interrupt entry points; the parts it delegates to are
 * virtio-net-init.ts (features, init sequence), virtio-net-datapath.ts (transmit, receive, collecting
 * used buffers), virtio-net-ctrl.ts (control queue), virtio-net-device-config.ts (mac and status reads)
 * and virtio-net-driver-state.ts (the running state they share).
 */
import { LabError } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import { disableMsix } from './pci-capabilities.js';
import { rxMode, setMac } from './virtio-net-ctrl.js';
import { collect, sendFrame } from './virtio-net-datapath.js';
import { refreshConfig } from './virtio-net-device-config.js';
import { type DriverState, queuesOf, type Running, usedWaiting } from './virtio-net-driver-state.js';
import { initDriver } from './virtio-net-init.js';
import type {
  InterruptRouting,
  SetMacResult,
  VirtioNetCounters,
  VirtioNetDriverSnapshot,
  VirtioNetEvents,
  VirtioNetInitOptions,
} from './virtio-net-types.js';
import { zeroCounters } from './virtio-net-types.js';

export { VIRTIO_NET_DRIVER_FEATURES } from './virtio-net-init.js';

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
    initDriver(options, this.#counters, (state) => {
      this.#state = state;
    });
  }

  /** Queue one Ethernet frame behind a zeroed virtio_net_hdr. Returns its transmit id. ENOSPC when full. */
  send(frame: Uint8Array): number {
    return sendFrame(this.#up(), this.#counters, frame);
  }

  /** VIRTIO_NET_CTRL_MAC_ADDR_SET, or on a legacy device without it, a write of the config mac. */
  setMac(mac: Uint8Array): SetMacResult {
    return setMac(this.#up(), this.#counters, mac);
  }

  setPromisc(on: boolean): number {
    return rxMode(this.#up(), this.#counters, virtio.VIRTIO_NET_CTRL_RX_PROMISC, on);
  }

  setAllmulti(on: boolean): number {
    return rxMode(this.#up(), this.#counters, virtio.VIRTIO_NET_CTRL_RX_ALLMULTI, on);
  }

  /** Whether a used ring has entries the driver has not taken (reads guest memory only). */
  pendingWork(): boolean {
    const r = this.#state;
    if (r.kind !== 'up') return false;
    return (
      r.txReaped.length > 0 || r.ctrlReaped.length > 0 || queuesOf(r).some((q) => usedWaiting(r.memory, q))
    );
  }

  /** Take everything the device returned. Without MSI-X, reads (and so clears) the ISR first. */
  poll(): VirtioNetEvents {
    const r = this.#up();
    let configChanged = false;
    if (r.irq.kind === 'intx') {
      configChanged = (r.transport.readIsr() & virtio.VIRTIO_PCI_ISR_CONFIG) !== 0;
    }
    return collect(r, this.#counters, queuesOf(r), configChanged);
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
        return collect(r, this.#counters, [], false);
      }
      const queues = (isr & virtio.VIRTIO_PCI_ISR_QUEUE) !== 0 ? queuesOf(r) : [];
      return collect(r, this.#counters, queues, (isr & virtio.VIRTIO_PCI_ISR_CONFIG) !== 0);
    }
    const queues = queuesOf(r).filter((q) => q.vector === vector);
    const config = vector === r.irq.configVector;
    if (queues.length === 0 && !config) this.#counters.spuriousInterrupts++;
    return collect(r, this.#counters, queues, config);
  }

  /** Read mac and status again from device config (with the generation loop in modern mode). */
  readConfig(): { mac: Uint8Array; linkUp: boolean } {
    const r = this.#up();
    refreshConfig(r);
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
        for (const q of queuesOf(s)) q.vq.reset();
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
      queues: queuesOf(s).map((q) => ({
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
}
