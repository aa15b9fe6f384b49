/**
 * vfl_accel: the driver of the small accelerator PF and its VFs (a core-class probe, SR-IOV through
 * sriov_configure). The migration register window arrives with a later issue.
 */
import { Driver, type PciDeviceId } from '../driver-core/device.js';
import type { KernelApi } from '../kernel-api.js';
import type { ModuleDef } from '../modules/modules.js';
import { disableSriovOnRemove, pciDeviceId, simpleSriovConfigure } from './sriov-pf.js';

export const ACCEL_VENDOR = 0x1f00;
export const ACCEL_PF_DEVICE = 0x3000;
export const ACCEL_VF_DEVICE = 0x3001;

const id = (device: number): PciDeviceId => pciDeviceId(ACCEL_VENDOR, device);

export function accelModule(k: KernelApi): ModuleDef {
  const driver = new Driver({
    name: 'vfl_accel',
    module: 'vfl_accel',
    probeClass: 'core',
    data: {
      bus: 'pci',
      idTable: [id(ACCEL_PF_DEVICE), id(ACCEL_VF_DEVICE)],
      dynIds: [],
      sriovConfigure: simpleSriovConfigure(k),
    },
    ops: {
      probe(dev) {
        k.pciEnableDevice(dev);
        k.pciSetMaster(dev);
        dev.driverData = { kind: 'vfl-accel' };
      },
      remove(dev) {
        disableSriovOnRemove(k, dev);
        k.pciDisableDevice(dev);
      },
    },
  });
  return { name: 'vfl_accel', builtin: false, sizeBytes: 40960, depends: [], drivers: [driver] };
}
