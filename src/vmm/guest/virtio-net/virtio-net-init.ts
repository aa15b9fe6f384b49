/**
 * The guest virtio-net driver's bring-up (virtio-net-guest-driver.ts): the features it can use, feature
 * negotiation, and the init sequence of facts 1.9 with its failure path.
 */
import { errnoError } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import { VirtqueueDriver } from '../virtqueue-driver.js';
import {
  disableMsix,
  enableFunction,
  enableMsix,
  findMsix,
  findVirtioCaps,
  type MsixCapability,
} from './pci-capabilities.js';
import { refillRx } from './virtio-net-datapath.js';
import { readMac, VIRTIO_NET_CONFIG_STATUS } from './virtio-net-device-config.js';
import {
  bit,
  CTRL_QUEUE,
  CTRL_SLOT_BYTES,
  type CtrlToken,
  type DriverState,
  type Queue,
  type Running,
  RX_QUEUE,
  type SlotPool,
  TX_QUEUE,
  type TxToken,
} from './virtio-net-driver-state.js';
import type { InterruptRouting, VirtioNetCounters, VirtioNetInitOptions } from './virtio-net-types.js';
import { LegacyTransport, ModernTransport, type VirtioTransport } from './virtio-transport.js';

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

/** Largest queue the driver asks for in modern mode (Linux leaves the device's size; 256 is typical). */
const DEFAULT_MAX_QUEUE_SIZE = 256;
/** Ethernet frame without FCS, with one VLAN tag: what one RX/TX buffer must hold. */
const DEFAULT_FRAME_BYTES = 1518;
const BUFFER_ALIGN = 64;
/** Used when VIRTIO_NET_F_MAC is not negotiated: a fixed locally administered address (Linux picks a random one). */
const FALLBACK_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);

/**
 * The full init sequence (facts 1.9): reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK and its check
 * (modern), MSI-X vectors, device config, queues, DRIVER_OK, RX refill. On failure the device is left
 * with FAILED set, the driver's memory is given back, and the error is thrown.
 */
export function initDriver(
  options: VirtioNetInitOptions,
  counters: VirtioNetCounters,
  setState: (state: DriverState) => void,
): void {
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
    const features = negotiate(t, options);
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
        if (got !== 0) throw errnoError('EBUSY', `virtio-net: device refused config vector 0 (read ${got})`);
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
    setState(running);
    refillRx(running, counters);
  } catch (error) {
    // virtio_add_status(FAILED): read-modify-write, so bits the device refused stay clear.
    if (transport && status !== 0) {
      transport.writeStatus(transport.readStatus() | virtio.VIRTIO_CONFIG_S_FAILED);
    }
    if (msix) disableMsix(access, msix);
    for (const r of regions) allocator.free(r);
    setState({ kind: 'failed', error, transport });
    throw error;
  }
}

function negotiate(t: VirtioTransport, options: VirtioNetInitOptions): bigint {
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

function roundUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
