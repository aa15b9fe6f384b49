/**
 * virtio_pci (drivers/virtio/virtio_pci_common.c): binds every virtio PCI function (vendor 0x1AF4,
 * device IDs 0x1000-0x107F) and hands it to the virtio driver for its type; for net that is
 * virtio_net, which registers a netdev, so a probe costs a netdev-class probe. Its sriov_configure
 * enables VFs on a PF. The modern transport, feature negotiation and the admin virtqueue arrive with
 * the virtio issue (#4); until then the probe only claims the function.
 */
import { errnoError } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import { Driver } from '../driver-core/device.js';
import type { KernelApi } from '../kernel-api.js';
import type { ModuleDef } from '../modules/modules.js';
import { disableSriovOnRemove, simpleSriovConfigure } from './sriov-pf.js';

/** PCI_VENDOR_ID_REDHAT_QUMRANET and the virtio device ID range. */
export const VIRTIO_PCI_VENDOR = 0x1af4;
const VIRTIO_DEVICE_ID_FIRST = 0x1000;
const VIRTIO_DEVICE_ID_LAST = 0x107f;

export function virtioPciModule(k: KernelApi): ModuleDef {
  const driver = new Driver({
    name: 'virtio-pci',
    module: 'virtio_pci',
    probeClass: 'netdev',
    data: {
      bus: 'pci',
      idTable: [
        {
          vendor: VIRTIO_PCI_VENDOR,
          device: pci.PCI_ANY_ID,
          subvendor: pci.PCI_ANY_ID,
          subdevice: pci.PCI_ANY_ID,
          classCode: 0,
          classMask: 0,
          driverData: 0,
        },
      ],
      dynIds: [],
      sriovConfigure: simpleSriovConfigure(k),
    },
    ops: {
      probe(dev) {
        const p = k.pdev(dev);
        if (p.device < VIRTIO_DEVICE_ID_FIRST || p.device > VIRTIO_DEVICE_ID_LAST) {
          throw errnoError('ENODEV', `device id ${p.device.toString(16)} is not virtio`);
        }
        k.pciEnableDevice(dev);
        k.pciSetMaster(dev);
        dev.driverData = { kind: 'virtio-pci' };
      },
      remove(dev) {
        disableSriovOnRemove(k, dev);
        k.pciDisableDevice(dev);
      },
    },
  });
  return { name: 'virtio_pci', builtin: false, sizeBytes: 24576, depends: [], drivers: [driver] };
}
