/**
 * What a VFIO driver registers (struct vfio_device_ops, include/linux/vfio.h) in the typed form the
 * core calls, and the typed requests and replies of the device ioctls (facts/kernel.md 3.2-3.5).
 * The core turns uAPI bytes into these and back (device-file.ts); a variant driver wraps vfio-pci's
 * ops and overrides what it changes (config space, a BAR, features).
 */
import type { VfioFdTable } from './eventfd.js';
import type { VfioFeatureHandlers } from './feature.js';

/** Modeled time a device operation still has to wait (an FLR's completion), for the caller to charge. */
export interface VfioWait {
  readonly waitNs: number;
}

export interface VfioDeviceInfoReply {
  readonly flags: number;
  readonly numRegions: number;
  readonly numIrqs: number;
}

/** One capability of a region info chain: id, version and the bytes after the 8-byte header. */
export interface VfioInfoCap {
  readonly id: number;
  readonly version: number;
  readonly body: Uint8Array;
}

export interface VfioRegionInfoReply {
  readonly index: number;
  readonly flags: number;
  readonly sizeBytes: bigint;
  /** Offset of the region in the device file (index << VFIO_PCI_OFFSET_SHIFT for vfio-pci). */
  readonly offset: bigint;
  readonly caps: readonly VfioInfoCap[];
}

export interface VfioIrqInfoReply {
  readonly index: number;
  readonly flags: number;
  readonly count: number;
}

/** A validated VFIO_DEVICE_SET_IRQS (vfio_set_irqs_validate_and_prepare has run). */
export interface VfioIrqSetRequest {
  readonly flags: number;
  readonly index: number;
  readonly start: number;
  readonly count: number;
  /** count × (0, 1 or 4) bytes as the data type says. */
  readonly data: Uint8Array;
}

export interface VfioDeviceOps {
  /** vfio_device_ops.name ("vfio-pci"); the VF capture writes it into driver_override. */
  readonly name: string;
  /** open_device for the first opener: enable, reset, build state. Returns the wait to charge. */
  openDevice(): VfioWait;
  /** close_device for the last closer: tear down, reset. Returns the wait to charge. */
  closeDevice(): VfioWait;
  getInfo(): VfioDeviceInfoReply;
  /** EINVAL for an index past the device's regions. */
  getRegionInfo(index: number): VfioRegionInfoReply;
  /** EINVAL for an index the device does not have. */
  getIrqInfo(index: number): VfioIrqInfoReply;
  /** Number of interrupts at `index` (vfio_pci_get_irq_count), for SET_IRQS validation. */
  irqCount(index: number): number;
  /** Number of IRQ index types (VFIO_PCI_NUM_IRQS), the max_irq_type of the validation. */
  readonly numIrqTypes: number;
  setIrqs(req: VfioIrqSetRequest, fds: VfioFdTable): void;
  /** VFIO_DEVICE_RESET: EINVAL when the device cannot reset. */
  reset(): VfioWait;
  /** read() on the device file at a region offset. */
  read(offset: bigint, lengthBytes: number): Uint8Array;
  /** write() on the device file; returns the bytes written. */
  write(offset: bigint, bytes: Uint8Array): number;
  /** The device_feature hook's handlers; undefined: no hook at all (EINVAL from the core). */
  readonly features: VfioFeatureHandlers | undefined;
}
