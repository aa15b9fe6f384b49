/**
 * vfio_mnic_aux: a VFIO driver that lives in the VFIO layer and probes to the auxiliary device
 * "mnic_core.vfio.<id>" that mnic_core creates for a function it was asked to hand to VFIO — the seed
 * mail's proposal (facts/kernel.md 6, 7.4, 8). No upstream counterpart exists; this is a design made
 * runnable, documented in docs/vfio-aux-vs-pf-drvdata.md.
 *
 * - id table: { "mnic_core.vfio" }, so modules.alias has `auxiliary:mnic_core.vfio` and the module
 *   AUTOLOADS when such a device appears (uevent MODALIAS=auxiliary:mnic_core.vfio): no sysfs write,
 *   no driver_override, no native driver probed first.
 * - probe: refuses a piece that stands for the PF itself (EINVAL: its window is the eswitch manager's
 *   mailbox, which the core driver uses). Everything comes from the device itself — `shared` (MnicAuxShared: the parent PCI function,
 *   the function's window in the parent's BAR, the managing mailbox, the function handle, migratable).
 *   Nothing is looked up by driver identity: the bus match is the contract. The window is mapped with
 *   pci_iomap of the parent's BAR range; a vfio_device is registered (aux-device.ts presents it as a
 *   vfio-pci device); migration is offered when the piece is migratable and firmware can save state.
 * - lifetime: the parent owns it. Deleting the auxiliary device (port deactivated or deleted, mnic_core
 *   unbound) runs remove: REQ is signalled, open files are closed, the vfio_device is unregistered —
 *   before the parent frees what `shared` points to.
 */
import { errnoError } from '../../../base/index.js';
import { auxiliaryDriver, toAuxiliaryDev } from '../../auxiliary/auxiliary.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import type { VfioDevice } from '../../vfio/core/index.js';
import type { MnicAuxShared, MnicFnKind } from '../mnic/index.js';
import { VfioMnicAuxDevice } from './aux-device.js';
import {
  MNIC_CORE_VFIO_AUX_ID,
  MNIC_VENDOR_ID,
  MNIC_VF_DEVICE_ID,
  type MnicMigration,
  mnicMigration,
  registerMigrationFeatures,
} from './common.js';

export const VFIO_MNIC_AUX_MODULE_NAME = 'vfio_mnic_aux';
/** "<modname>.<name>" as __auxiliary_driver_register names it. */
export const VFIO_MNIC_AUX_DRIVER_NAME = `${VFIO_MNIC_AUX_MODULE_NAME}.vfio`;

/** Subsystem IDs of the emulated config space: which kind of function is behind the device. */
export const MNIC_AUX_SUBSYSTEM_ID: Readonly<Record<MnicFnKind, number>> = { pf: 0, vf: 1, sf: 2, siov: 3 };

export interface VfioMnicAuxDrvdata {
  readonly ops: VfioMnicAuxDevice;
  readonly vdev: VfioDevice;
}

export function vfioMnicAuxDrvdata(dev: Device): VfioMnicAuxDrvdata | undefined {
  if (dev.driver?.name !== VFIO_MNIC_AUX_DRIVER_NAME) return undefined;
  return dev.driverData as VfioMnicAuxDrvdata;
}

/** The shared API of an "mnic_core.vfio" device, checked for shape (a wrong parent is EINVAL). */
function sharedOf(dev: Device): MnicAuxShared {
  const s = toAuxiliaryDev(dev)?.shared as Partial<MnicAuxShared> | undefined;
  if (
    s === undefined ||
    s.pciDev === undefined ||
    s.managerFw === undefined ||
    s.fn === undefined ||
    s.window === undefined
  ) {
    throw errnoError('EINVAL', `${dev.name}: no mnic shared API`);
  }
  return s as MnicAuxShared;
}

function auxMigration(k: KernelApi, s: MnicAuxShared): MnicMigration | undefined {
  if (!s.migratable || !s.managerFw.queryHcaCaps().migration) return undefined;
  return mnicMigration(k, { fw: s.managerFw, fn: s.fn });
}

export function vfioMnicAuxModule(k: KernelApi): ModuleDef {
  const driver = auxiliaryDriver({
    modname: VFIO_MNIC_AUX_MODULE_NAME,
    name: 'vfio',
    idTable: [{ name: MNIC_CORE_VFIO_AUX_ID, driverData: 0 }],
    probeClass: 'vfio',
    ops: {
      probe(dev) {
        const shared = sharedOf(dev);
        if (shared.fn.kind === 'pf') {
          // The PF's window holds the eswitch manager's mailbox, which mnic_core itself drives: handing
          // it to userspace would give a VMM the manager's powers over every function.
          k.log.warn(`vfio_mnic_aux ${dev.name}: refusing the manager function's own window`);
          throw errnoError('EINVAL', `${dev.name}: the PF's own function`);
        }
        const w = shared.window;
        const window = k.pciIomap(shared.pciDev, w.bar, w.offset, w.sizeBytes);
        const migration = auxMigration(k, shared);
        const ops = new VfioMnicAuxDevice({
          dev,
          shared,
          window,
          identity: {
            vendorId: MNIC_VENDOR_ID,
            deviceId: MNIC_VF_DEVICE_ID,
            subsystemVendorId: MNIC_VENDOR_ID,
            subsystemId: MNIC_AUX_SUBSYSTEM_ID[shared.fn.kind],
          },
          migration,
        });
        const vfio = k.vfio;
        const vdev = vfio.registerDevice({
          dev,
          ops,
          busKey: `auxiliary:${dev.name}`,
          isVirtfn: false,
          // A SIOV function's DMA carries its own (guest) RID, which the cdev model can bind to an
          // iommufd; an SF's carries the parent PF's, which is the host driver's: nothing to bind.
          ...(shared.fn.kind === 'siov' ? { dmaRid: shared.rid } : {}),
        });
        registerMigrationFeatures(vdev, migration);
        k.log.info(
          `vfio_mnic_aux ${dev.name}: ${vdev.name} (${shared.fn.kind} ${shared.fn.fnId})${migration === undefined ? '' : ', migration supported'}`,
        );
        dev.driverData = { ops, vdev } satisfies VfioMnicAuxDrvdata;
      },
      remove(dev) {
        const d = dev.driverData as VfioMnicAuxDrvdata;
        d.ops.request();
        k.vfio.unregisterDevice(d.vdev);
      },
    },
  });
  return {
    name: VFIO_MNIC_AUX_MODULE_NAME,
    builtin: false,
    sizeBytes: 24576,
    depends: [],
    drivers: [driver],
  };
}
