/**
 * What both mnic VFIO drivers share: the names and ids they bind by, and hooking a migration driver up
 * to a registered vfio_device (the MigrationFsm, its three VFIO_DEVICE_FEATURE handlers, and open /
 * close / reset_done). The VFIO core they register with is the kernel's own, `k.vfio`.
 */
import type { KernelApi } from '../../kernel-api.js';
import type { VfioDevice } from '../../vfio/core/index.js';
import { MigrationFsm, migrationFeatureHandlers } from '../../vfio/migration/index.js';
import { MNIC_CORE, MNIC_VENDOR, MNIC_VF_DEVICE } from '../mnic/index.js';
import { adaptMigrationFeatures } from '../virtio-vfio-pci/index.js';
import { MnicMigrationDriver, type MnicMigrationTarget } from './migrate.js';

/** The NIC's ids, from the mnic drivers (vfiolab's unassigned vendor ID 0x1f00; VF 0x1022). */
export const MNIC_VENDOR_ID = MNIC_VENDOR;
export const MNIC_VF_DEVICE_ID = MNIC_VF_DEVICE;
/** The PF driver whose drvdata pci_iov_get_pf_drvdata must find (KBUILD_MODNAME of mnic_core). */
export const MNIC_CORE_DRIVER_NAME = MNIC_CORE;
/** The auxiliary device name prefix mnic_core gives the VFIO piece of a function. */
export const MNIC_CORE_VFIO_AUX_ID = 'mnic_core.vfio';

/** A device's migration: the driver and the FSM that walks it. */
export interface MnicMigration {
  readonly driver: MnicMigrationDriver;
  readonly fsm: MigrationFsm;
}

/** mig_ops for `target`: the FSM is checked at registration (EINVAL for bad flags), as vfio_pci_core does. */
export function mnicMigration(k: KernelApi, target: Omit<MnicMigrationTarget, 'warn'>): MnicMigration {
  const warn = (t: string) => k.log.warn(t);
  const driver = new MnicMigrationDriver({ ...target, warn });
  return { driver, fsm: MigrationFsm.register(driver, { warn }) };
}

/** Register the migration features on `vdev` (none when the device does not migrate: ENOTTY). */
export function registerMigrationFeatures(vdev: VfioDevice, m: MnicMigration | undefined): void {
  if (m !== undefined) vdev.registerFeatureHandlers(adaptMigrationFeatures(migrationFeatureHandlers(m.fsm)));
}
