/**
 * The modern virtio PCI transport as Linux's drivers/virtio/virtio_pci_modern_dev.c drives it
 * (facts/virtio.md §1): find the vendor capabilities by config cycles (virtio_pci_find_capability:
 * the first capability of a type whose BAR is a valid, assigned memory BAR), map common, ISR, notify
 * and device config (vp_modern_map_capability's bounds and alignment checks), and the common-config
 * accessors (features in two 32-bit windows, status, queue select/size/addresses/enable/vector,
 * notify offset, admin queue index and number).
 *
 * Left out: I/O-port BARs (the model's virtio functions have memory BARs only), the PCI_CFG access
 * capability (Linux uses it only from firmware paths), shared memory regions, per-queue notify
 * mapping when the notify region is larger than a page (the whole region is mapped once).
 */
import { errnoError } from '../../../base/index.js';
import { pci, virtio } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { IoMem, KernelApi } from '../../kernel-api.js';

/** sizeof(struct virtio_pci_common_cfg): Linux's minimum common length (up to queue_used_hi). */
const COMMON_CFG_MIN_BYTES = 56;
/** sizeof(struct virtio_pci_modern_common_cfg): through admin_queue_num. */
const MODERN_COMMON_CFG_BYTES = 64;
const COMMON_CFG_ALIGN = 4;
const ISR_BYTES = 1;
const NOTIFY_MIN_BYTES = 2;
const NOTIFY_ALIGN = 2;
/** Linux maps at most a page of device config. */
const DEVICE_CFG_MAX_BYTES = 4096;
const DEVICE_CFG_ALIGN = 4;
const MAX_CAPS = 48;
const U32_MASK = 0xffff_ffffn;
/** virtio_reset_device polls status until 0; the model bounds the loop (Linux sleeps 1 ms a round). */
const RESET_POLL_LIMIT = 1000;

interface CapLocation {
  readonly pos: number;
  readonly bar: number;
  readonly offset: number;
  readonly length: number;
}

export interface ModernDev {
  readonly common: IoMem;
  readonly isr: IoMem;
  readonly notify: IoMem;
  readonly notifyOffMultiplier: number;
  readonly device: IoMem | undefined;
  /** Length of the common structure as mapped (vp_check_common_size compares it with 64). */
  readonly commonLenBytes: number;
  /** The virtio device type (1 = net): device ID - 0x1040, or the subsystem ID for transitional IDs. */
  readonly deviceType: number;
}

/** virtio_pci_find_capability: the first vendor cap of `cfgType` with a usable memory BAR. */
function findCapability(k: KernelApi, dev: Device, cfgType: number): CapLocation | undefined {
  const p = k.pdev(dev);
  if ((k.pciReadConfig(dev, pci.PCI_STATUS, 2) & pci.PCI_STATUS_CAP_LIST) === 0) return undefined;
  let pos = k.pciReadConfig(dev, pci.PCI_CAPABILITY_LIST, 1) & ~3;
  for (let n = 0; pos !== 0 && n < MAX_CAPS; n++) {
    const id = k.pciReadConfig(dev, pos + pci.PCI_CAP_LIST_ID, 1);
    const next = k.pciReadConfig(dev, pos + pci.PCI_CAP_LIST_NEXT, 1) & ~3;
    if (id === pci.PCI_CAP_ID_VNDR) {
      const type = k.pciReadConfig(dev, pos + virtio.VIRTIO_PCI_CAP_CFG_TYPE, 1);
      const bar = k.pciReadConfig(dev, pos + virtio.VIRTIO_PCI_CAP_BAR, 1);
      const r = bar <= virtio.VIRTIO_PCI_CAP_BAR_MAX ? p.resources[bar] : undefined;
      if (type === cfgType && r !== undefined && r.flags !== 0 && r.end > r.start) {
        return {
          pos,
          bar,
          offset: k.pciReadConfig(dev, pos + virtio.VIRTIO_PCI_CAP_OFFSET, 4) >>> 0,
          length: k.pciReadConfig(dev, pos + virtio.VIRTIO_PCI_CAP_LENGTH, 4) >>> 0,
        };
      }
    }
    pos = next;
  }
  return undefined;
}

/** vp_modern_map_capability: check bounds and alignment, map at most `maxLen` bytes. */
function mapCapability(
  k: KernelApi,
  dev: Device,
  cap: CapLocation,
  minLen: number,
  align: number,
  maxLen: number,
  what: string,
): IoMem {
  const name = dev.name;
  if (cap.length < minLen) {
    k.log.err(`virtio_pci ${name}: bad capability len ${cap.length} (>=${minLen} expected)`);
    throw errnoError('EINVAL', `${what} capability too short`);
  }
  if (cap.offset % align !== 0) {
    k.log.err(`virtio_pci ${name}: bad capability offset 0x${cap.offset.toString(16)} (${align} aligned)`);
    throw errnoError('EINVAL', `${what} capability misaligned`);
  }
  const length = Math.min(cap.length, maxLen);
  try {
    return k.pciIomap(dev, cap.bar, cap.offset, length);
  } catch (e) {
    k.log.err(`virtio_pci ${name}: unable to map virtio ${length}@${cap.offset} on bar ${cap.bar}`);
    throw e;
  }
}

/**
 * vp_modern_probe. Returns undefined when the function has no common-config capability (Linux's
 * "leaving for legacy driver", -ENODEV from the modern path); throws EINVAL when ISR or notify are
 * missing, as Linux does.
 */
export function vpModernProbe(k: KernelApi, dev: Device): ModernDev | undefined {
  const p = k.pdev(dev);
  if (p.device < virtio.VIRTIO_PCI_DEVICE_ID_MIN || p.device > virtio.VIRTIO_PCI_DEVICE_ID_MAX) {
    throw errnoError('ENODEV', `device id ${p.device.toString(16)} is not virtio`);
  }
  const deviceType =
    p.device < virtio.VIRTIO_PCI_MODERN_DEVICE_ID_BASE
      ? p.subsystemDevice
      : p.device - virtio.VIRTIO_PCI_MODERN_DEVICE_ID_BASE;
  const common = findCapability(k, dev, virtio.VIRTIO_PCI_CAP_COMMON_CFG);
  if (common === undefined) {
    k.log.info(`virtio_pci ${dev.name}: leaving for legacy driver`);
    return undefined;
  }
  const isr = findCapability(k, dev, virtio.VIRTIO_PCI_CAP_ISR_CFG);
  const notify = findCapability(k, dev, virtio.VIRTIO_PCI_CAP_NOTIFY_CFG);
  if (isr === undefined || notify === undefined) {
    k.log.err(
      `virtio_pci ${dev.name}: missing capabilities ${isr?.pos ?? 0}/${common.pos}/${notify?.pos ?? 0}`,
    );
    throw errnoError('EINVAL', 'missing virtio capabilities');
  }
  const deviceCap = findCapability(k, dev, virtio.VIRTIO_PCI_CAP_DEVICE_CFG);
  const commonMem = mapCapability(
    k,
    dev,
    common,
    COMMON_CFG_MIN_BYTES,
    COMMON_CFG_ALIGN,
    MODERN_COMMON_CFG_BYTES,
    'common',
  );
  const isrMem = mapCapability(k, dev, isr, ISR_BYTES, 1, ISR_BYTES, 'isr');
  const notifyOffMultiplier = k.pciReadConfig(dev, notify.pos + virtio.VIRTIO_PCI_NOTIFY_CAP_MULT, 4) >>> 0;
  const notifyMem = mapCapability(k, dev, notify, NOTIFY_MIN_BYTES, NOTIFY_ALIGN, notify.length, 'notify');
  const deviceMem =
    deviceCap === undefined
      ? undefined
      : mapCapability(k, dev, deviceCap, 0, DEVICE_CFG_ALIGN, DEVICE_CFG_MAX_BYTES, 'device');
  return {
    common: commonMem,
    isr: isrMem,
    notify: notifyMem,
    notifyOffMultiplier,
    device: deviceMem,
    commonLenBytes: commonMem.sizeBytes,
    deviceType,
  };
}

// ---- common configuration accessors (virtio_pci_modern_dev.c) ----

export function getStatus(m: ModernDev): number {
  return m.common.read(virtio.VIRTIO_PCI_COMMON_STATUS, 1);
}

export function setStatus(m: ModernDev, status: number): void {
  m.common.write(virtio.VIRTIO_PCI_COMMON_STATUS, 1, status);
}

/** virtio_add_status: read, OR in the bit, write back. */
export function addStatus(m: ModernDev, bit: number): void {
  setStatus(m, getStatus(m) | bit);
}

/** vp_modern_set_status(0) then poll until the device reads back 0. Throws EIO if it never does. */
export function resetDevice(m: ModernDev): void {
  setStatus(m, 0);
  for (let i = 0; i < RESET_POLL_LIMIT; i++) if (getStatus(m) === 0) return;
  throw errnoError('EIO', 'device did not complete reset');
}

export function getFeatures(m: ModernDev): bigint {
  m.common.write(virtio.VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
  const lo = BigInt(m.common.read(virtio.VIRTIO_PCI_COMMON_DF, 4) >>> 0);
  m.common.write(virtio.VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
  const hi = BigInt(m.common.read(virtio.VIRTIO_PCI_COMMON_DF, 4) >>> 0);
  return (hi << 32n) | lo;
}

export function setFeatures(m: ModernDev, features: bigint): void {
  m.common.write(virtio.VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
  m.common.write(virtio.VIRTIO_PCI_COMMON_GF, 4, Number(features & U32_MASK));
  m.common.write(virtio.VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
  m.common.write(virtio.VIRTIO_PCI_COMMON_GF, 4, Number((features >> 32n) & U32_MASK));
}

export function getNumQueues(m: ModernDev): number {
  return m.common.read(virtio.VIRTIO_PCI_COMMON_NUMQ, 2);
}

/** vp_modern_config_vector: write, then read back (NO_VECTOR = the device had no room). */
export function setConfigVector(m: ModernDev, vector: number): number {
  m.common.write(virtio.VIRTIO_PCI_COMMON_MSIX, 2, vector);
  return m.common.read(virtio.VIRTIO_PCI_COMMON_MSIX, 2);
}

export function selectQueue(m: ModernDev, index: number): void {
  m.common.write(virtio.VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
}

export function getQueueSize(m: ModernDev, index: number): number {
  selectQueue(m, index);
  return m.common.read(virtio.VIRTIO_PCI_COMMON_Q_SIZE, 2);
}

export function getQueueEnable(m: ModernDev, index: number): boolean {
  selectQueue(m, index);
  return m.common.read(virtio.VIRTIO_PCI_COMMON_Q_ENABLE, 2) !== 0;
}

export function setQueueSize(m: ModernDev, index: number, size: number): void {
  selectQueue(m, index);
  m.common.write(virtio.VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
}

/** vp_modern_queue_address: the three areas, each as two 32-bit halves, low first. */
export function setQueueAddress(
  m: ModernDev,
  index: number,
  desc: bigint,
  avail: bigint,
  used: bigint,
): void {
  selectQueue(m, index);
  m.common.write64(virtio.VIRTIO_PCI_COMMON_Q_DESCLO, desc);
  m.common.write64(virtio.VIRTIO_PCI_COMMON_Q_AVAILLO, avail);
  m.common.write64(virtio.VIRTIO_PCI_COMMON_Q_USEDLO, used);
}

/** vp_modern_queue_vector: write, then read back. */
export function setQueueVector(m: ModernDev, index: number, vector: number): number {
  selectQueue(m, index);
  m.common.write(virtio.VIRTIO_PCI_COMMON_Q_MSIX, 2, vector);
  return m.common.read(virtio.VIRTIO_PCI_COMMON_Q_MSIX, 2);
}

export function setQueueEnable(m: ModernDev, index: number): void {
  selectQueue(m, index);
  m.common.write(virtio.VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

/** vp_modern_get_queue_notify_off + the notify address: offset into the notify region, in bytes. */
export function queueNotifyOffset(m: ModernDev, index: number): number {
  selectQueue(m, index);
  const off = m.common.read(virtio.VIRTIO_PCI_COMMON_Q_NOFF, 2);
  const at = off * m.notifyOffMultiplier;
  if (at + NOTIFY_MIN_BYTES > m.notify.sizeBytes) {
    throw errnoError('EINVAL', `queue ${index} notify offset ${at} outside the notify region`);
  }
  return at;
}

export function adminQueueIndex(m: ModernDev): number {
  return m.common.read(virtio.VIRTIO_PCI_COMMON_ADM_Q_IDX, 2);
}

export function adminQueueNum(m: ModernDev): number {
  return m.common.read(virtio.VIRTIO_PCI_COMMON_ADM_Q_NUM, 2);
}

/** Read device-specific config bytes (virtio_cread_bytes), with the generation loop of §1.6. */
export function readDeviceConfig(m: ModernDev, offset: number, lengthBytes: number): Uint8Array {
  const out = new Uint8Array(lengthBytes);
  const dev = m.device;
  if (dev === undefined || offset + lengthBytes > dev.sizeBytes) return out;
  for (let tries = 0; tries < RESET_POLL_LIMIT; tries++) {
    const before = m.common.read(virtio.VIRTIO_PCI_COMMON_CFGGENERATION, 1);
    for (let i = 0; i < lengthBytes; i++) out[i] = dev.read(offset + i, 1);
    if (m.common.read(virtio.VIRTIO_PCI_COMMON_CFGGENERATION, 1) === before) break;
  }
  return out;
}
