/**
 * The sriov_configure every PF driver here implements the same way (as most Linux PF drivers do):
 * 0 disables SR-IOV and returns 0; n enables n VFs through pci_enable_sriov and returns n.
 */
import { pci } from '../../spec/index.js';
import type { Device, PciDeviceId } from '../driver-core/device.js';
import type { KernelApi } from '../kernel-api.js';

export function simpleSriovConfigure(k: KernelApi): (dev: Device, numVfs: number) => number {
  return (dev, numVfs) => {
    if (numVfs === 0) {
      k.pciDisableSriov(dev);
      return 0;
    }
    k.pciEnableSriov(dev, numVfs);
    return numVfs;
  };
}

/** A PF driver's remove: SR-IOV must be off before the driver's data goes away (facts 5.5). */
export function disableSriovOnRemove(k: KernelApi, dev: Device): void {
  if (k.pdev(dev).sriov !== undefined && k.pciNumVf(dev) > 0) k.pciDisableSriov(dev);
}

/** PCI_DEVICE(vendor, device): any subsystem, any class. */
export function pciDeviceId(vendor: number, device: number): PciDeviceId {
  return {
    vendor,
    device,
    subvendor: pci.PCI_ANY_ID,
    subdevice: pci.PCI_ANY_ID,
    classCode: 0,
    classMask: 0,
    driverData: 0,
  };
}
