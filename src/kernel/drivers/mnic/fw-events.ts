/**
 * Event delivery of the mnic firmware client (fw.ts): the eswitch manager's event queue — a 64 KiB ring
 * of MnicEqe entries in DMA-coherent memory, MSI-X vector 0 — drained by the interrupt handler into
 * `onVhcaEvent` subscribers, and the per-kernel guard that holds events while a command is in flight
 * (so a subscriber may issue commands; they run after the outermost command returns). Opening the PF
 * again re-arms the queue with a new ring and vector; its subscribers stay. Without MSI-X the events
 * are drained after each command, as a polling driver would.
 */
import { offsetOf } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { DmaCoherent, KernelApi } from '../../kernel-api.js';
import type { VhcaState, VhcaStateEvent } from './fw-api.js';
import type { MnicMailbox } from './fw-mailbox.js';

/**
 * 4096 entries (64 KiB), mlx5's async EQ size (MLX5_NUM_ASYNC_EQE 0x1000, mlx5/core/eq.c): a list
 * command's events (ENABLE_HCA of 4096 functions, DISABLE_HCA of 2048) fit without an interrupt in
 * between, so a polled driver (no MSI-X) loses none of them either; longer lists rely on the interrupt.
 */
const EQ_LOG_SIZE = 12;
const EQ_MSIX_VECTOR = 0;
const EQE = mnicfw.MNIC_EQE_BYTES;
/** Entries read from the ring at once (1 KiB). */
const READ_CHUNK_ENTRIES = 64;
/** MnicEqe field offsets (spec/mnic-fw.ts), for the hand-written burst encoder/decoder. */
const field = (name: 'type' | 'owner' | 'fnId' | 'vhcaId' | 'state'): number =>
  offsetOf(mnicfw.MnicEqe, name);
const EQE_TYPE = field('type');
const EQE_OWNER = field('owner');
const EQE_FN_ID = field('fnId');
const EQE_VHCA_ID = field('vhcaId');
const EQE_STATE = field('state');

/** Per-kernel: the in-flight guard and per-PF event delivery. */
export interface KernelFwState {
  readonly guard: { depth: number; afterOutermost(): void };
  readonly held: (() => void)[];
  readonly pfEvents: Map<Device, PfEvents>;
}

export interface PfEvents {
  readonly subscribers: Set<(e: VhcaStateEvent) => void>;
  ring: DmaCoherent | undefined;
  ci: number;
  polled: boolean;
  drain(): void;
}

const STATES = new WeakMap<KernelApi, KernelFwState>();

export function kernelState(k: KernelApi): KernelFwState {
  let s = STATES.get(k);
  if (s === undefined) {
    const held: (() => void)[] = [];
    const pfEvents = new Map<Device, PfEvents>();
    s = {
      held,
      pfEvents,
      guard: {
        depth: 0,
        afterOutermost: () => {
          for (const ev of pfEvents.values()) if (ev.polled) ev.drain();
          while (held.length > 0) held.shift()!();
        },
      },
    };
    STATES.set(k, s);
  }
  return s;
}

/** Arm the PF's event queue and route its interrupt to the PF's subscribers. */
export function armEvents(k: KernelApi, st: KernelFwState, dev: Device, mb: MnicMailbox): PfEvents {
  const prev = st.pfEvents.get(dev);
  const io = mb.io;
  io.write(mnicfw.MNIC_EQ_CTRL, 4, 0);
  if (prev?.ring !== undefined) k.dmaFreeCoherent(dev, prev.ring);
  const size = 1 << EQ_LOG_SIZE;
  const ring = k.dmaAllocCoherent(dev, size * mnicfw.MNIC_EQE_BYTES, 4096);
  const ev: PfEvents = {
    subscribers: prev?.subscribers ?? new Set(),
    ring,
    ci: 0,
    polled: false,
    drain: () => {
      const got: VhcaStateEvent[] = [];
      const ci0 = ev.ci;
      // Read the ring in chunks of consecutive slots (one CPU read each), entries by hand (hot).
      let chunk: DataView | undefined;
      let chunkSlot = 0;
      for (;;) {
        const slot = ev.ci & (size - 1);
        if (chunk === undefined || slot < chunkSlot || slot >= chunkSlot + chunk.byteLength / EQE) {
          const n = Math.min(READ_CHUNK_ENTRIES, size - slot);
          const raw = k.ram.read(ring.cpuAddr + BigInt(slot * EQE), n * EQE);
          chunk = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
          chunkSlot = slot;
        }
        const at = (slot - chunkSlot) * EQE;
        if ((chunk.getUint8(at + EQE_OWNER) & 1) !== (((ev.ci >>> EQ_LOG_SIZE) & 1) ^ 1)) break;
        const state = chunk.getUint8(at + EQE_STATE);
        if (
          chunk.getUint8(at + EQE_TYPE) === mnicfw.MNIC_EVENT_TYPE_VHCA_STATE_CHANGE &&
          state <= mnicfw.MNIC_VHCA_STATE_TEARDOWN_REQUEST
        ) {
          const fnId = chunk.getUint32(at + EQE_FN_ID, true);
          got.push({ fnId, vhcaId: chunk.getUint32(at + EQE_VHCA_ID, true), state: state as VhcaState });
        }
        ev.ci = (ev.ci + 1) >>> 0;
      }
      // Entries of other types are consumed too: the consumer index covers them.
      if (ev.ci !== ci0) io.write(mnicfw.MNIC_EQ_CONSUMER_INDEX, 4, ev.ci);
      if (got.length === 0) return;
      const deliver = (): void => {
        for (const e of got) {
          for (const h of [...ev.subscribers]) {
            try {
              h(e);
            } catch (err) {
              k.log.err(`mnic: vhca event handler failed: ${(err as Error).message}`);
            }
          }
        }
      };
      if (st.guard.depth > 0) st.held.push(deliver);
      else deliver();
    },
  };
  io.write(mnicfw.MNIC_EQ_BASE_LO, 4, Number(ring.iova & 0xffffffffn));
  io.write(mnicfw.MNIC_EQ_BASE_HI, 4, Number(ring.iova >> 32n));
  io.write(mnicfw.MNIC_EQ_LOG_SIZE, 4, EQ_LOG_SIZE);
  io.write(mnicfw.MNIC_EQ_MSIX_VECTOR, 4, EQ_MSIX_VECTOR);
  io.write(mnicfw.MNIC_EQ_CTRL, 4, mnicfw.MNIC_EQ_CTRL_ENABLE);
  const vector = k.pciRequestMsixVector(dev, EQ_MSIX_VECTOR, () => ev.drain());
  ev.polled = vector === undefined;
  st.pfEvents.set(dev, ev);
  return ev;
}
