/**
 * The VFIO core of one kernel (drivers/vfio/vfio_main.c, group.c, device_cdev.c; facts/kernel.md 3.6):
 * drivers register vfio_devices; each gets a cdev name `vfioN` and an IOMMU group `/dev/vfio/<n>`;
 * userspace opens a device through its group (GROUP_GET_DEVICE_FD) or its cdev (open, then
 * VFIO_DEVICE_BIND_IOMMUFD). The first open runs the driver's open_device, whose FLR (vfio-pci) is
 * charged on the modeled clock; the last close runs close_device.
 *
 * dev_set serialization (facts/costs.md): `resetPolicy` says whether VFs on one bus share a dev_set
 * (before the 2025 fix; open_device runs under its lock) or each VF has its own (after). `openMany`
 * opens many devices at once as parallel openers would: the config cycles of each open run in order
 * on the clock (they are microseconds), and the FLR completion waits are scheduled with
 * runConcurrently, each holding its dev_set lock, so the modeled time is the makespan.
 *
 * SPEC-DEVIATION: IOMMU groups are not modeled by the kernel; each vfio_device gets its own group
 * number, allocated in registration order (what ACS-isolated functions get). The group model's
 * container (/dev/vfio/vfio, SET_CONTAINER, SET_IOMMU) is not modeled: GET_DEVICE_FD works on a
 * viable group without one. IOMMUFD binding is delegated to hooks the kernel passes at construction
 * (`vfio/iommufd-binding.ts`), keeping this folder free of the iommufd one.
 *
 * Each Kernel owns one core as `k.vfio`; nothing is shared between kernels.
 */
import {
  errnoError,
  LabError,
  runConcurrently,
  type ScheduleResult,
  type VirtualClock,
} from '../../../base/index.js';
import type { Device } from '../../driver-core/device.js';
import { VfioDeviceFile } from './device-file.js';
import type { VfioDeviceOps, VfioWait } from './device-ops.js';
import type { VfioFdTable } from './eventfd.js';
import { VfioDevice, type VfioResetPolicy } from './vfio-device.js';

/** What the IOMMUFD side provides for the cdev model's BIND / ATTACH / DETACH. */
export interface VfioIommufdHooks {
  /** VFIO_DEVICE_BIND_IOMMUFD: resolve the iommufd number, bind, return the devid. Throws an errno error. */
  bind(iommufd: number, device: VfioDevice, fds: VfioFdTable): number;
  /** VFIO_DEVICE_ATTACH_IOMMUFD_PT: returns the pt_id written back. */
  attach(device: VfioDevice, ptId: number): number;
  detach(device: VfioDevice): void;
  /** The bound file closed. */
  unbind?(device: VfioDevice): void;
}

export interface VfioCoreOptions {
  readonly clock: VirtualClock;
  readonly resetPolicy?: VfioResetPolicy;
  /** The cdev model's BIND / ATTACH / DETACH; absent: BIND fails with EBADF. */
  readonly iommufd?: VfioIommufdHooks;
}

/** What registering a device needs to know about it. */
export interface VfioRegistration {
  readonly dev: Device;
  readonly ops: VfioDeviceOps;
  /** `<domain>:<bus>` of the function (its pre-fix dev_set). */
  readonly busKey: string;
  readonly isVirtfn: boolean;
  /**
   * The RID the device's DMA carries when it is not the PCI function's own (a SIOV function's guest
   * RID, an SF's parent RID): what the cdev model binds to an iommufd. Absent: the PCI device's RID.
   */
  readonly dmaRid?: number;
}

export interface VfioOpenManyResult {
  readonly files: VfioDeviceFile[];
  /** Modeled time from the first open's start to the last open's end. */
  readonly makespanNs: number;
  /** The FLR waits as scheduled under the dev_set locks. */
  readonly flrSchedule: ScheduleResult;
}

export class VfioCore {
  readonly clock: VirtualClock;
  /** Per host: before or after the VF dev_set fix. Default: the 6.12 kernel this lab models is before it. */
  resetPolicy: VfioResetPolicy;
  /** Given by the kernel at construction; absent: BIND fails with EBADF. */
  readonly iommufd: VfioIommufdHooks | undefined;
  readonly #devices: VfioDevice[] = [];
  /** Indexes over #devices, so that registering or finding one of 10000 devices scans none of them. */
  readonly #byDev = new Map<Device, VfioDevice>();
  /** By cdev name (`vfio3`) and by device name (`0000:01:00.1`); the two name spaces never meet. */
  readonly #byName = new Map<string, VfioDevice>();
  readonly #byGroup = new Map<number, VfioDevice[]>();
  #nextMinor = 0;
  #nextGroup = 0;

  constructor(o: VfioCoreOptions) {
    this.clock = o.clock;
    this.resetPolicy = o.resetPolicy ?? 'serialized-per-bus';
    this.iommufd = o.iommufd;
  }

  /** vfio_register_group_dev: name the device, give it a group. */
  registerDevice(r: VfioRegistration): VfioDevice {
    if (this.#byDev.has(r.dev)) throw errnoError('EEXIST', `${r.dev.name} already registered`);
    const vdev = new VfioDevice({
      core: this,
      dev: r.dev,
      ops: r.ops,
      name: `vfio${this.#nextMinor++}`,
      group: this.#nextGroup++,
      busKey: r.busKey,
      isVirtfn: r.isVirtfn,
      dmaRid: r.dmaRid,
    });
    this.#devices.push(vdev);
    this.#byDev.set(r.dev, vdev);
    if (!this.#byName.has(vdev.name)) this.#byName.set(vdev.name, vdev);
    if (!this.#byName.has(r.dev.name)) this.#byName.set(r.dev.name, vdev);
    const group = this.#byGroup.get(vdev.group);
    if (group === undefined) this.#byGroup.set(vdev.group, [vdev]);
    else group.push(vdev);
    return vdev;
  }

  /**
   * vfio_unregister_group_dev: Linux sends the REQ interrupt and waits for the files to close; the
   * model closes them on the user's behalf after the driver's request (the caller signals REQ).
   */
  unregisterDevice(vdev: VfioDevice): void {
    for (const f of [...vdev.files]) if (f.isOpen) f.close();
    vdev.files.clear();
    this.#devices.splice(this.#devices.indexOf(vdev), 1);
    this.#byDev.delete(vdev.dev);
    for (const name of [vdev.name, vdev.dev.name]) {
      if (this.#byName.get(name) !== vdev) continue;
      // Another device may answer to the name too (only if names ever overlapped): the earliest.
      const next = this.#devices.find((d) => d.name === name || d.dev.name === name);
      if (next === undefined) this.#byName.delete(name);
      else this.#byName.set(name, next);
    }
    const group = this.#byGroup.get(vdev.group)?.filter((d) => d !== vdev) ?? [];
    if (group.length === 0) this.#byGroup.delete(vdev.group);
    else this.#byGroup.set(vdev.group, group);
  }

  get devices(): readonly VfioDevice[] {
    return this.#devices;
  }

  /** By cdev name (`vfio3`) or by device name (`0000:01:00.1`). */
  find(name: string): VfioDevice | undefined {
    return this.#byName.get(name);
  }

  /** The /dev entries VFIO makes: /dev/vfio/vfio, one per group, one per device cdev. */
  devNodes(): string[] {
    const groups = [...new Set(this.#devices.map((d) => d.group))].sort((a, b) => a - b);
    return [
      '/dev/vfio/vfio',
      ...groups.map((g) => `/dev/vfio/${g}`),
      ...this.#devices.map((d) => d.cdevPath),
    ];
  }

  // ---- the group model ----

  /** VFIO_GROUP_GET_STATUS flags: VIABLE when every device of the group is bound to a VFIO driver. */
  groupViable(group: number): boolean {
    return this.#byGroup.has(group);
  }

  /** open(/dev/vfio/<group>) + VFIO_GROUP_GET_DEVICE_FD("<BDF>"): opens the device (FLR charged). */
  groupGetDeviceFd(group: number, deviceName: string, fds: VfioFdTable): VfioDeviceFile {
    if (!this.groupViable(group)) throw errnoError('ENOENT', `/dev/vfio/${group}`);
    const vdev = this.#byGroup.get(group)?.find((d) => d.dev.name === deviceName);
    if (vdev === undefined) throw errnoError('ENODEV', `${deviceName} is not in group ${group}`);
    this.openDeviceNow(vdev);
    const f = new VfioDeviceFile(vdev, 'group', fds, true);
    vdev.files.add(f);
    return f;
  }

  // ---- the cdev model ----

  /** open(/dev/vfio/devices/vfioN): the file is inert until VFIO_DEVICE_BIND_IOMMUFD. */
  openCdev(path: string, fds: VfioFdTable): VfioDeviceFile {
    const vdev = this.#devices.find((d) => d.cdevPath === path || d.name === path);
    if (vdev === undefined) throw errnoError('ENOENT', path);
    const f = new VfioDeviceFile(vdev, 'cdev', fds, false);
    vdev.files.add(f);
    return f;
  }

  // ---- open, close, costs ----

  /** vfio_df_open: the first opener runs open_device; its wait is charged now. */
  openDeviceNow(vdev: VfioDevice): void {
    this.charge(this.#openDevice(vdev));
  }

  /** vfio_df_close: the last closer runs close_device. */
  closeDeviceNow(vdev: VfioDevice, file: VfioDeviceFile): void {
    vdev.files.delete(file);
    if (vdev.openCount === 0) throw new LabError('internal', `${vdev.name}: close without open`);
    if (--vdev.openCount === 0) this.charge(vdev.ops.closeDevice());
  }

  /** A file that never opened the device went away. */
  forgetFile(vdev: VfioDevice, file: VfioDeviceFile): void {
    vdev.files.delete(file);
  }

  charge(w: VfioWait): void {
    this.clock.advance(w.waitNs);
  }

  #openDevice(vdev: VfioDevice): VfioWait {
    if (vdev.openCount > 0) {
      vdev.openCount++;
      return { waitNs: 0 };
    }
    const w = vdev.ops.openDevice();
    vdev.openCount = 1;
    return w;
  }

  /**
   * Open every device through its group at once, as many threads of a VMM would: the returned
   * makespan is the modeled time the whole batch took under the host's reset policy.
   */
  openMany(devices: readonly VfioDevice[], fds: VfioFdTable): VfioOpenManyResult {
    const startNs = this.clock.nowNs;
    const tasks = devices.map((vdev) => {
      const w = this.#openDevice(vdev);
      return { name: vdev.name, steps: [{ costNs: w.waitNs, lock: vdev.devSetKey(this.resetPolicy) }] };
    });
    const files = devices.map((vdev) => {
      const f = new VfioDeviceFile(vdev, 'group', fds, true);
      vdev.files.add(f);
      return f;
    });
    const flrSchedule = runConcurrently(this.clock, tasks);
    return { files, makespanNs: this.clock.nowNs - startNs, flrSchedule };
  }
}
