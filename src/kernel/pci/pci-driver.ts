/**
 * The PCI bus type (drivers/pci/pci-driver.c; facts/kernel.md 5.6): matching with driver_override,
 * dynamic ids and the id table; the probe gate for VFs (pci_device_can_probe); the uevent variables
 * and the modalias string.
 */
import { errnoError, hex } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { Device, Driver, PciDeviceId } from '../driver-core/device.js';
import type { Bus } from '../driver-core/driver-core.js';
import type { PciDev } from './pci-dev.js';

const HEX8 = (n: number): string => hex(n, 8).toUpperCase();
const HEX4 = (n: number): string => hex(n, 4).toUpperCase();
const HEX2 = (n: number): string => hex(n, 2).toUpperCase();

export function pdevOf(dev: Device): PciDev {
  if (dev.data.bus !== 'pci') throw errnoError('EINVAL', `${dev.name} is not a PCI device`);
  return dev.data.pdev;
}

/** MODALIAS of a PCI device: pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X. */
export function pciModalias(p: PciDev): string {
  return (
    `pci:v${HEX8(p.vendor)}d${HEX8(p.device)}sv${HEX8(p.subsystemVendor)}sd${HEX8(p.subsystemDevice)}` +
    `bc${HEX2(p.classCode >> 16)}sc${HEX2((p.classCode >> 8) & 0xff)}i${HEX2(p.classCode & 0xff)}`
  );
}

/** One id entry against a device (pci_match_one_device). */
export function pciIdMatches(id: PciDeviceId, p: PciDev): boolean {
  const field = (want: number, have: number): boolean => want === pci.PCI_ANY_ID || want === have;
  return (
    field(id.vendor, p.vendor) &&
    field(id.device, p.device) &&
    field(id.subvendor, p.subsystemVendor) &&
    field(id.subdevice, p.subsystemDevice) &&
    ((id.classCode ^ p.classCode) & id.classMask) === 0
  );
}

/** The dummy id a driver_override match gets when no table entry matched (pci_device_id_any). */
const ANY_ID: PciDeviceId = {
  vendor: pci.PCI_ANY_ID,
  device: pci.PCI_ANY_ID,
  subvendor: pci.PCI_ANY_ID,
  subdevice: pci.PCI_ANY_ID,
  classCode: 0,
  classMask: 0,
  driverData: 0,
};

/** pci_match_device: which id of `drv` matches `dev`, or undefined. */
export function pciMatchDevice(drv: Driver, dev: Device): PciDeviceId | undefined {
  if (drv.data.bus !== 'pci' || dev.data.bus !== 'pci') return undefined;
  const p = dev.data.pdev;
  // 1. driver_override names another driver: no match.
  if (dev.driverOverride !== undefined && dev.driverOverride !== drv.name) return undefined;
  // 2. Dynamic ids first.
  const dyn = drv.data.dynIds.find((id) => pciIdMatches(id, p));
  if (dyn !== undefined) return dyn;
  // 3. The static table; override-only entries need driver_override.
  for (const id of drv.data.idTable) {
    if (!pciIdMatches(id, p)) continue;
    if (id.overrideOnly && dev.driverOverride === undefined) continue;
    return id;
  }
  // 4. driver_override equals this driver: match anything.
  if (dev.driverOverride === drv.name) return ANY_ID;
  return undefined;
}

/** pci_device_can_probe: a VF probes only when its PF autoprobes VFs or it has a driver_override. */
export function pciDeviceCanProbe(dev: Device): boolean {
  const p = pdevOf(dev);
  return !p.isVirtfn || (p.physfn?.sriov?.driversAutoprobe ?? true) || dev.driverOverride !== undefined;
}

export interface PciBusHooks {
  /** pci_iov_remove's warning: a PF driver removed while VFs are still enabled. */
  readonly warn: (text: string) => void;
}

export function createPciBus(hooks: PciBusHooks): Bus {
  return {
    name: 'pci',
    driversAutoprobe: true,
    match: (dev, drv) => pciMatchDevice(drv, dev) !== undefined,
    canProbe(dev) {
      if (!pciDeviceCanProbe(dev)) throw errnoError('ENODEV', `${dev.name}: VF autoprobe is off`);
    },
    probe: (dev, drv) => drv.ops.probe(dev),
    remove(dev, drv) {
      drv.ops.remove?.(dev);
      const p = pdevOf(dev);
      if ((p.sriov?.numVfs ?? 0) > 0) hooks.warn(`pci ${dev.name}: driver left SR-IOV enabled after remove`);
    },
    ueventEnv(dev) {
      const p = pdevOf(dev);
      return [
        ['PCI_CLASS', p.classCode.toString(16).toUpperCase()],
        ['PCI_ID', `${HEX4(p.vendor)}:${HEX4(p.device)}`],
        ['PCI_SUBSYS_ID', `${HEX4(p.subsystemVendor)}:${HEX4(p.subsystemDevice)}`],
        ['PCI_SLOT_NAME', p.name],
        ['MODALIAS', pciModalias(p)],
      ];
    },
  };
}
