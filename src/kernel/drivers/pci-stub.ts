/**
 * pci-stub (drivers/pci/pci-stub.c): Linux's do-nothing driver that claims a device so nothing else
 * does. Its id table is empty unless the `ids=` parameter fills it, so it binds only through new_id or
 * driver_override. Built in here (as in several distributions' kernels), so it is always available.
 */
import { Driver } from '../driver-core/device.js';
import type { KernelApi } from '../kernel-api.js';
import type { ModuleDef } from '../modules/modules.js';

export function pciStubModule(k: KernelApi): ModuleDef {
  const driver = new Driver({
    name: 'pci-stub',
    module: 'pci_stub',
    probeClass: 'stub',
    data: { bus: 'pci', idTable: [], dynIds: [] },
    ops: {
      probe(dev) {
        k.log.info(`pci-stub ${dev.name}: claimed by stub`);
      },
    },
  });
  return { name: 'pci_stub', builtin: true, sizeBytes: 12288, depends: [], drivers: [driver] };
}
