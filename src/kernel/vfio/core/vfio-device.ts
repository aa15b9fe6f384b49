/**
 * struct vfio_device as the core keeps it (drivers/vfio/vfio_main.c): the driver's ops, the cdev name
 * `vfioN` (/dev/vfio/devices/vfioN, class "vfio-dev"), the IOMMU group it belongs to (/dev/vfio/<n>),
 * its dev_set (the reset domain whose lock serializes open and reset), the open count and the files.
 */
import { LabError } from '../../../base/index.js';
import type { Device } from '../../driver-core/device.js';
import type { VfioDeviceFile } from './device-file.js';
import type { VfioDeviceOps } from './device-ops.js';
import type { VfioFeatureHandler, VfioFeatureHandlers } from './feature.js';
import type { VfioCore } from './vfio-core.js';

export class VfioDevice {
  readonly core: VfioCore;
  /** The device the driver bound (a PCI function for vfio-pci). */
  readonly dev: Device;
  readonly ops: VfioDeviceOps;
  /** `vfioN`, the cdev name. */
  readonly name: string;
  /** The IOMMU group number (/dev/vfio/<group>). */
  readonly group: number;
  /** The bus a pre-fix dev_set would join: `<domain>:<bus>` (facts/costs.md, dev_set lock). */
  readonly busKey: string;
  /** Whether this device is a VF (the 2025 fix gives each VF its own dev_set). */
  readonly isVirtfn: boolean;
  /** The RID of the device's DMA when it has no PCI function of its own (VfioRegistration.dmaRid). */
  readonly dmaRid: number | undefined;
  /** open_count: files that have the device open. */
  openCount = 0;
  readonly files = new Set<VfioDeviceFile>();
  readonly #extraFeatures = new Map<number, VfioFeatureHandler>();

  constructor(o: {
    core: VfioCore;
    dev: Device;
    ops: VfioDeviceOps;
    name: string;
    group: number;
    busKey: string;
    isVirtfn: boolean;
    dmaRid?: number | undefined;
  }) {
    this.core = o.core;
    this.dev = o.dev;
    this.ops = o.ops;
    this.name = o.name;
    this.group = o.group;
    this.busKey = o.busKey;
    this.isVirtfn = o.isVirtfn;
    this.dmaRid = o.dmaRid;
  }

  /** /dev/vfio/devices/vfioN */
  get cdevPath(): string {
    return `/dev/vfio/devices/${this.name}`;
  }

  /** /dev/vfio/<group> */
  get groupPath(): string {
    return `/dev/vfio/${this.group}`;
  }

  /**
   * Add feature handlers (migration, DMA logging) from another part of the driver. A feature index
   * registered twice is a programming error.
   */
  registerFeatureHandlers(handlers: VfioFeatureHandlers): void {
    for (const [id, h] of handlers) {
      if (this.#extraFeatures.has(id) || this.ops.features?.has(id)) {
        throw new LabError('internal', `${this.name}: feature ${id} registered twice`);
      }
      this.#extraFeatures.set(id, h);
    }
  }

  /** The device_feature hook's table: the driver's own handlers plus the registered ones. */
  get featureHandlers(): VfioFeatureHandlers | undefined {
    if (this.ops.features === undefined && this.#extraFeatures.size === 0) return undefined;
    return new Map([...(this.ops.features ?? []), ...this.#extraFeatures]);
  }

  /** The dev_set lock name under a reset policy. */
  devSetKey(policy: VfioResetPolicy): string {
    switch (policy) {
      case 'serialized-per-bus':
        return `dev_set:bus:${this.busKey}`;
      case 'parallel':
        return this.isVirtfn ? `dev_set:vf:${this.dev.name}` : `dev_set:bus:${this.busKey}`;
    }
  }
}

/**
 * How VFs share reset domains (facts/costs.md; kvm list 2025, "vfio/pci: Separate SR-IOV VF dev_set"):
 * before the fix every function on a bus joins that bus's dev_set, so VF opens (each with its FLR)
 * run one at a time per bus; after it each VF has its own dev_set and the FLRs overlap.
 */
export type VfioResetPolicy = 'serialized-per-bus' | 'parallel';
