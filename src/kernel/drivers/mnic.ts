/**
 * The multi-subsystem NIC's drivers, after mlx5: `mnic_core` binds the PF and its VFs, brings up the
 * function (a core-class probe) and carves it into auxiliary devices — here `mnic_core.eth.<n>`, one
 * per function; `mnic_en` (a separate module, like mlx5_vdpa) registers the auxiliary driver
 * `mnic_en.eth` for "mnic_core.eth", which autoloads when such a device appears and registers a netdev.
 * Firmware commands, SFs, vdpa and VFIO pieces arrive with the carving issue (#6).
 */

import { AuxiliaryDevice, auxiliaryDriver } from '../auxiliary/auxiliary.js';
import { type Device, Driver, type PciDeviceId } from '../driver-core/device.js';
import type { KernelApi } from '../kernel-api.js';
import type { ModuleDef } from '../modules/modules.js';
import { disableSriovOnRemove, pciDeviceId, simpleSriovConfigure } from './sriov-pf.js';

export const MNIC_VENDOR = 0x1f00;
export const MNIC_PF_DEVICE = 0x1021;
export const MNIC_VF_DEVICE = 0x1022;

const id = (device: number): PciDeviceId => pciDeviceId(MNIC_VENDOR, device);

/** What mnic_core keeps per bound function. */
export interface MnicCoreData {
  readonly kind: 'mnic-core';
  readonly auxDevices: AuxiliaryDevice[];
}

export function mnicCoreModule(k: KernelApi): ModuleDef {
  let nextAuxId = 0;
  const driver = new Driver({
    name: 'mnic_core',
    module: 'mnic_core',
    probeClass: 'core',
    data: {
      bus: 'pci',
      idTable: [id(MNIC_PF_DEVICE), id(MNIC_VF_DEVICE)],
      dynIds: [],
      sriovConfigure: simpleSriovConfigure(k),
    },
    ops: {
      probe(dev: Device) {
        k.pciEnableDevice(dev);
        k.pciSetMaster(dev);
        const data: MnicCoreData = { kind: 'mnic-core', auxDevices: [] };
        dev.driverData = data;
        const adev = new AuxiliaryDevice({
          name: 'eth',
          id: nextAuxId++,
          parent: dev,
          release: () => {},
          shared: dev,
        });
        adev.init();
        try {
          adev.add(k.core, 'mnic_core');
        } catch (e) {
          adev.uninit();
          throw e;
        }
        data.auxDevices.push(adev);
      },
      remove(dev: Device) {
        const data = dev.driverData as MnicCoreData | undefined;
        for (const adev of data?.auxDevices ?? []) {
          adev.delete(k.core);
          adev.uninit();
        }
        disableSriovOnRemove(k, dev);
        k.pciDisableDevice(dev);
      },
    },
  });
  return { name: 'mnic_core', builtin: false, sizeBytes: 1957888, depends: [], drivers: [driver] };
}

export function mnicEnModule(k: KernelApi): ModuleDef {
  const driver = auxiliaryDriver({
    modname: 'mnic_en',
    name: 'eth',
    idTable: [{ name: 'mnic_core.eth', driverData: 0 }],
    probeClass: 'netdev',
    ops: {
      probe(dev) {
        k.log.info(`mnic_en ${dev.name}: netdev registered`);
      },
    },
  });
  return { name: 'mnic_en', builtin: false, sizeBytes: 131072, depends: ['mnic_core'], drivers: [driver] };
}
