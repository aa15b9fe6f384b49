/** The drivers this kernel ships, as modules. */
import type { KernelApi } from '../kernel-api.js';
import type { ModuleDef } from '../modules/modules.js';
import { accelModule } from './accel.js';
import { mnicModules } from './mnic/index.js';
import { pciStubModule } from './pci-stub.js';
import { mnicVfioPciModule, vfioMnicAuxModule } from './vfio-mnic/index.js';
import { vfioPciModule } from './vfio-pci/index.js';
import { virtioPciModule } from './virtio-pci/index.js';
import { virtioVfioPciModule } from './virtio-vfio-pci/index.js';

export function shippedModules(k: KernelApi): ModuleDef[] {
  return [
    pciStubModule(k),
    virtioPciModule(k),
    ...mnicModules(k),
    accelModule(k),
    vfioPciModule(k),
    virtioVfioPciModule(k),
    mnicVfioPciModule(k),
    vfioMnicAuxModule(k),
  ];
}
