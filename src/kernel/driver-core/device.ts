/**
 * struct device and struct device_driver as the driver core sees them (drivers/base): a device has a
 * name, a parent (its place under /sys/devices), a bus, and at most one bound driver; bus-specific data
 * rides in a discriminated union so a PCI device always has its pci_dev and an auxiliary device its
 * name and id.
 */
import type { CostModel } from '../../base/index.js';
import type { PciDev } from '../pci/pci-dev.js';

export type ProbeClass = keyof CostModel['driverProbeNs'];

/** Bus-specific part of a device. */
export type DeviceData =
  | { readonly bus: 'pci'; readonly pdev: PciDev }
  | { readonly bus: 'auxiliary'; readonly modname: string; readonly devname: string; readonly id: number }
  /** A device on no bus: the PCI host bridge directory `pci0000:00`, virtual parents. */
  | { readonly bus: 'none' };

export class Device {
  readonly name: string;
  readonly parent: Device | undefined;
  readonly data: DeviceData;
  /** The bound driver, if any (dev->driver). */
  driver: Driver | undefined;
  /** What the bound driver keeps (dev_get_drvdata); cleared when it unbinds. */
  driverData: unknown;
  /** driver_override (PCI and platform buses); undefined when not set. */
  driverOverride: string | undefined;
  /** match_driver: false between device_add and the bus's "add device" step (PCI's two phases). */
  matchEnabled = false;
  /** Added to its bus (device_add done, device_del not yet). */
  registered = false;

  constructor(name: string, parent: Device | undefined, data: DeviceData) {
    this.name = name;
    this.parent = parent;
    this.data = data;
  }

  /** The kobject path below /sys: `/devices/pci0000:00/0000:00:01.0/0000:01:00.0`. */
  get devpath(): string {
    // Name and parent never change, so neither does the path: made once (every uevent asks).
    this.#devpath ??= `${this.parent === undefined ? '/devices' : this.parent.devpath}/${this.name}`;
    return this.#devpath;
  }

  #devpath: string | undefined;

  get busName(): DeviceData['bus'] {
    return this.data.bus;
  }
}

/** A driver's callbacks; `probe` throws a LabError carrying an errno to fail. */
export interface DriverOps {
  probe(dev: Device): void;
  remove?(dev: Device): void;
}

/** One entry of a PCI driver's id table (struct pci_device_id). */
export interface PciDeviceId {
  readonly vendor: number;
  readonly device: number;
  readonly subvendor: number;
  readonly subdevice: number;
  readonly classCode: number;
  readonly classMask: number;
  readonly driverData: number;
  /** PCI_ID_F_VFIO_DRIVER_OVERRIDE: matches only when driver_override names the driver. */
  readonly overrideOnly?: boolean;
}

/** One entry of an auxiliary driver's id table: "modname.devname". */
export interface AuxDeviceId {
  readonly name: string;
  readonly driverData: number;
}

/** Bus-specific part of a driver. */
export type DriverData =
  | {
      readonly bus: 'pci';
      readonly idTable: readonly PciDeviceId[];
      /** Dynamic ids added through new_id, in the order added. */
      readonly dynIds: PciDeviceId[];
      /** sriov_configure(pdev, n): returns n on success, 0 after disabling; throws for an errno. */
      readonly sriovConfigure?: (dev: Device, numVfs: number) => number;
    }
  | { readonly bus: 'auxiliary'; readonly idTable: readonly AuxDeviceId[] };

export class Driver {
  readonly name: string;
  /** Which modeled probe cost this driver's probe charges. */
  readonly probeClass: ProbeClass;
  readonly ops: DriverOps;
  /** The module that registered it. */
  readonly module: string;
  readonly data: DriverData;

  constructor(o: { name: string; probeClass: ProbeClass; ops: DriverOps; module: string; data: DriverData }) {
    this.name = o.name;
    this.probeClass = o.probeClass;
    this.ops = o.ops;
    this.module = o.module;
    this.data = o.data;
  }

  get busName(): DriverData['bus'] {
    return this.data.bus;
  }
}
