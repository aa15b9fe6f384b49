/**
 * The register file behind BAR4 of the modern transport (virtio-pci-transport.ts; transport-pci.tex
 * "Virtio Structure PCI Capabilities"): the decode of a BAR access into the common cfg, the notify
 * region, the ISR and device config; the common cfg image a driver reads, built from the transport's
 * registers; and the decode of a common cfg write into the register it sets. A write of another width
 * than the field's, or to a read-only field, is absorbed; so is a write to a queue field while that
 * queue is enabled.
 */
import { readLe, writeLe } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import type { VirtqueueState } from './transport-types.js';
import {
  COMMON_CFG_LENGTH,
  COMMON_CFG_OFFSET,
  DEVICE_CFG_OFFSET,
  ISR_CFG_OFFSET,
  NOTIFY_CFG_OFFSET,
  NOTIFY_OFF_MULTIPLIER,
  REGION_SPAN_BYTES,
  VIRTIO_BAR,
} from './virtio-caps.js';
import type { VirtioPciTransport } from './virtio-pci-transport.js';

export const U32_MASK = 0xffff_ffffn;
/** Bits in one device_feature / driver_feature window. */
export const WINDOW_BITS = BigInt(virtio.VIRTIO_PCI_FEATURE_WINDOW_BITS);

/** The transport as the register file sees it: its registers and its register semantics. */
export type RegisterFileTransport = Pick<
  VirtioPciTransport,
  | 'options'
  | 'totalQueues'
  | 'adminQueueIndex'
  | 'deviceFeatureSelect'
  | 'driverFeatureSelect'
  | 'driverFeatures'
  | 'configMsixVector'
  | 'status'
  | 'configGeneration'
  | 'queueSelect'
  | 'queue'
  | 'isr'
  | 'readAndClearIsr'
  | 'notifyQueue'
  | 'writeDriverFeatures'
  | 'setConfigMsixVector'
  | 'writeStatus'
  | 'setQueueSelect'
  | 'acceptVector'
>;

/** What only the transport itself can do: set registers without semantics, enable a queue, device config. */
export interface RegisterFileHooks {
  setDeviceFeatureSelect(value: number): void;
  setDriverFeatureSelect(value: number): void;
  /** queue_enable = 1: check the ring and enable the queue, or set DEVICE_NEEDS_RESET. */
  enableQueue(q: VirtqueueState): void;
  /** Device config bytes from the device type (empty without one). */
  deviceConfig(): Uint8Array;
}

/** A driver's read of the BAR: reading the ISR clears it. */
export function barRead(
  t: RegisterFileTransport,
  hooks: RegisterFileHooks,
  bar: number,
  offset: number,
  width: 1 | 2 | 4,
): number {
  if (bar !== VIRTIO_BAR) return 0;
  if (offset >= ISR_CFG_OFFSET && offset < ISR_CFG_OFFSET + REGION_SPAN_BYTES) {
    return offset === ISR_CFG_OFFSET ? t.readAndClearIsr() : 0;
  }
  return barPeek(t, hooks, bar, offset, width) ?? 0;
}

/** A driver's write to the BAR: the common cfg, or a notification. */
export function barWrite(
  t: RegisterFileTransport,
  hooks: RegisterFileHooks,
  bar: number,
  offset: number,
  width: 1 | 2 | 4,
  value: number,
): void {
  if (bar !== VIRTIO_BAR) return;
  if (offset >= COMMON_CFG_OFFSET && offset < COMMON_CFG_OFFSET + COMMON_CFG_LENGTH) {
    commonCfgWrite(t, hooks, offset - COMMON_CFG_OFFSET, width, value);
  } else if (
    offset >= NOTIFY_CFG_OFFSET &&
    offset < NOTIFY_CFG_OFFSET + t.totalQueues * NOTIFY_OFF_MULTIPLIER
  ) {
    t.notifyQueue(value & virtio.VIRTIO_NOTIFICATION_DATA_VQN_MASK);
  }
  // Device config is read-only for a modern driver; the ISR is read-only: absorbed.
}

/** Side-effect-free read of the BAR (the ISR reads without clearing). */
export function barPeek(
  t: RegisterFileTransport,
  hooks: RegisterFileHooks,
  bar: number,
  offset: number,
  width: 1 | 2 | 4,
): number | undefined {
  if (bar !== VIRTIO_BAR) return undefined;
  if (offset >= COMMON_CFG_OFFSET && offset + width <= COMMON_CFG_OFFSET + COMMON_CFG_LENGTH) {
    return readLe(commonCfgImage(t), offset - COMMON_CFG_OFFSET, width);
  }
  if (offset === ISR_CFG_OFFSET) return t.isr;
  if (offset >= DEVICE_CFG_OFFSET && offset + width <= DEVICE_CFG_OFFSET + t.options.deviceCfgLength) {
    const bytes = hooks.deviceConfig();
    const at = offset - DEVICE_CFG_OFFSET;
    return at + width <= bytes.length ? readLe(bytes, at, width) : 0;
  }
  if (offset >= NOTIFY_CFG_OFFSET && offset < NOTIFY_CFG_OFFSET + t.totalQueues * NOTIFY_OFF_MULTIPLIER)
    return 0;
  return undefined;
}

/** The common cfg as the driver reads it (little-endian, COMMON_CFG_LENGTH bytes). */
export function commonCfgImage(t: RegisterFileTransport): Uint8Array {
  const b = new Uint8Array(COMMON_CFG_LENGTH);
  const c = virtio;
  const features = t.options.deviceFeatures;
  const window = (f: bigint, sel: number): number =>
    sel > 1 ? 0 : Number((f >> (BigInt(sel) * WINDOW_BITS)) & U32_MASK);
  writeLe(b, c.VIRTIO_PCI_COMMON_DFSELECT, 4, t.deviceFeatureSelect);
  writeLe(b, c.VIRTIO_PCI_COMMON_DF, 4, window(features, t.deviceFeatureSelect));
  writeLe(b, c.VIRTIO_PCI_COMMON_GFSELECT, 4, t.driverFeatureSelect);
  writeLe(b, c.VIRTIO_PCI_COMMON_GF, 4, window(t.driverFeatures, t.driverFeatureSelect));
  writeLe(b, c.VIRTIO_PCI_COMMON_MSIX, 2, t.configMsixVector);
  writeLe(b, c.VIRTIO_PCI_COMMON_NUMQ, 2, t.options.numQueues);
  writeLe(b, c.VIRTIO_PCI_COMMON_STATUS, 1, t.status);
  writeLe(b, c.VIRTIO_PCI_COMMON_CFGGENERATION, 1, t.configGeneration);
  writeLe(b, c.VIRTIO_PCI_COMMON_Q_SELECT, 2, t.queueSelect);
  const q = t.queue(t.queueSelect);
  if (q !== undefined) {
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_SIZE, 2, q.size);
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_MSIX, 2, q.msixVector);
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_ENABLE, 2, q.enabled ? 1 : 0);
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_NOFF, 2, t.queueSelect);
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_DESCLO, 4, Number(q.desc & U32_MASK));
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_DESCHI, 4, Number(q.desc >> 32n));
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_AVAILLO, 4, Number(q.driver & U32_MASK));
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_AVAILHI, 4, Number(q.driver >> 32n));
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_USEDLO, 4, Number(q.device & U32_MASK));
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_USEDHI, 4, Number(q.device >> 32n));
    writeLe(b, c.VIRTIO_PCI_COMMON_Q_NDATA, 2, t.queueSelect);
  }
  const admin = t.options.adminQueueNum > 0;
  writeLe(b, c.VIRTIO_PCI_COMMON_ADM_Q_IDX, 2, admin ? t.adminQueueIndex : 0);
  writeLe(b, c.VIRTIO_PCI_COMMON_ADM_Q_NUM, 2, t.options.adminQueueNum);
  return b;
}

/** A driver's write of `width` bytes at `offset` into the common cfg. */
export function commonCfgWrite(
  t: RegisterFileTransport,
  hooks: RegisterFileHooks,
  offset: number,
  width: 1 | 2 | 4,
  value: number,
): void {
  const c = virtio;
  const q = t.queue(t.queueSelect);
  const queueField = (f: (q: VirtqueueState) => void): void => {
    if (q !== undefined && !q.enabled) f(q);
  };
  const setLo = (old: bigint): bigint => (old & ~U32_MASK) | BigInt(value >>> 0);
  const setHi = (old: bigint): bigint => (old & U32_MASK) | (BigInt(value >>> 0) << 32n);
  const w4 = width === 4;
  const w2 = width === 2;
  switch (offset) {
    case c.VIRTIO_PCI_COMMON_DFSELECT:
      if (w4) hooks.setDeviceFeatureSelect(value >>> 0);
      return;
    case c.VIRTIO_PCI_COMMON_GFSELECT:
      if (w4) hooks.setDriverFeatureSelect(value >>> 0);
      return;
    case c.VIRTIO_PCI_COMMON_GF:
      if (w4) t.writeDriverFeatures(t.driverFeatureSelect, value);
      return;
    case c.VIRTIO_PCI_COMMON_MSIX:
      if (w2) t.setConfigMsixVector(value);
      return;
    case c.VIRTIO_PCI_COMMON_STATUS:
      if (width === 1) t.writeStatus(value, false);
      return;
    case c.VIRTIO_PCI_COMMON_Q_SELECT:
      if (w2) t.setQueueSelect(value);
      return;
    case c.VIRTIO_PCI_COMMON_Q_SIZE:
      if (w2) queueField((x) => (x.size = value & 0xffff));
      return;
    case c.VIRTIO_PCI_COMMON_Q_MSIX:
      if (w2 && q !== undefined) q.msixVector = t.acceptVector(value & 0xffff);
      return;
    case c.VIRTIO_PCI_COMMON_Q_ENABLE:
      // Writing 0 is forbidden to the driver; the device ignores it.
      if (w2 && value === 1) queueField((x) => hooks.enableQueue(x));
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
