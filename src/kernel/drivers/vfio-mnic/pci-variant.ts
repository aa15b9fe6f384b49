/**
 * mnic_vfio_pci: the VFIO variant driver for the NIC's VFs, built like mlx5_vfio_pci
 * (drivers/vfio/pci/mlx5/main.c; facts/kernel.md Appendix A, 5.5, 3.8) — the pci_iov_get_pf_drvdata
 * design the seed mail calls a short cut.
 *
 * - id table: one override-only entry, PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x1f00, 0x1022), so the alias is
 *   `vfio_pci:v00001F00d00001022sv*sd*bc*sc*i*`: never autoloaded, bound only through driver_override.
 * - probe: vfio_pci_core_register_device's refusals (non-normal header EINVAL, a PF with VFs EBUSY);
 *   then, for a VF, the PF's MnicCoreApi through pci_iov_get_pf_drvdata(vf, mnic_core's driver) — it
 *   fails (EINVAL) unless the PF is bound to exactly that driver. Migration is offered when the lookup
 *   succeeds, firmware reports the migration capability, and the VF's devlink port function has the
 *   `migratable` cap (facts 7.2); otherwise the device is plain pass-through and the migration
 *   features answer ENOTTY (no mig_ops), as mlx5_vfio_pci does.
 * - lifetime: the MnicCoreApi pointer stays valid while this driver is bound, because mnic_core must
 *   disable SR-IOV (which removes this driver from every VF first) before it frees its drvdata.
 * - ops: vfio-pci-core's, plus migration: open sets RUNNING, close ends sessions, VFIO_DEVICE_RESET
 *   (FLR) runs reset_done (RUNNING, fds disabled, the function resumed if this driver suspended it).
 */
import { isLabError } from '../../../base/index.js';
import { pci } from '../../../spec/index.js';
import { type Device, Driver, type PciDeviceId } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import type { VfioDevice, VfioWait } from '../../vfio/core/index.js';
import { MNIC_VFIO_PCI, type MnicCoreApi } from '../mnic/index.js';
import { VfioPciCoreDevice, type VfioPciEnv, vfioPciCoreCheckDevice } from '../vfio-pci/index.js';
import {
  MNIC_CORE_DRIVER_NAME,
  MNIC_VENDOR_ID,
  MNIC_VF_DEVICE_ID,
  type MnicMigration,
  mnicMigration,
  registerMigrationFeatures,
} from './common.js';

/** pci_driver.name = KBUILD_MODNAME, as mlx5_vfio_pci: what driver_override must say. */
export const MNIC_VFIO_PCI_DRIVER_NAME = MNIC_VFIO_PCI;
export const MNIC_VFIO_PCI_MODULE_NAME = MNIC_VFIO_PCI;
/** vfio_device_ops.name (Appendix A's naming pattern: "mlx5-vfio-pci"). */
export const MNIC_VFIO_PCI_OPS_NAME = 'mnic-vfio-pci';

/** PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x1f00, 0x1022). */
const MNIC_VF_VFIO_ID: PciDeviceId = {
  vendor: MNIC_VENDOR_ID,
  device: MNIC_VF_DEVICE_ID,
  subvendor: pci.PCI_ANY_ID,
  subdevice: pci.PCI_ANY_ID,
  classCode: 0,
  classMask: 0,
  driverData: 0,
  overrideOnly: true,
};

/** vfio-pci-core's ops for one VF with the migration hooks (struct mlx5vf_pci_core_device). */
export class MnicVfioPciDevice extends VfioPciCoreDevice {
  readonly migration: MnicMigration | undefined;

  constructor(dev: Device, env: VfioPciEnv, migration: MnicMigration | undefined) {
    super(dev, env, MNIC_VFIO_PCI_OPS_NAME);
    this.migration = migration;
  }

  override openDevice(): VfioWait {
    const w = super.openDevice();
    this.migration?.fsm.open();
    return w;
  }

  override closeDevice(): VfioWait {
    this.migration?.fsm.close();
    return super.closeDevice();
  }

  override reset(): VfioWait {
    const w = super.reset();
    this.resetDone();
    return w;
  }

  /** mlx5vf_pci_aer_reset_done. */
  resetDone(): void {
    if (this.migration === undefined) return;
    this.migration.fsm.reset();
    this.migration.driver.resetDone();
  }
}

/** What the driver keeps per bound VF. */
export interface MnicVfioPciDrvdata {
  readonly ops: MnicVfioPciDevice;
  readonly vdev: VfioDevice;
  /** The PF's core API, when the lookup succeeded. */
  readonly core: MnicCoreApi | undefined;
}

export function mnicVfioPciDrvdata(dev: Device): MnicVfioPciDrvdata | undefined {
  if (dev.driver?.name !== MNIC_VFIO_PCI_DRIVER_NAME) return undefined;
  return dev.driverData as MnicVfioPciDrvdata;
}

/** mlx5_vf_get_core_dev: the PF's MnicCoreApi, or undefined when the lookup is refused. */
export function mnicVfGetCoreApi(k: KernelApi, vf: Device): MnicCoreApi | undefined {
  const drv = k.core.findDriver('pci', MNIC_CORE_DRIVER_NAME);
  if (drv === undefined) return undefined;
  let data: unknown;
  try {
    data = k.pciIovGetPfDrvdata(vf, drv);
  } catch (e) {
    if (isLabError(e) && e.errno !== undefined) return undefined;
    throw e;
  }
  const api = data as Partial<MnicCoreApi> | undefined;
  return api?.kind === 'mnic-core' && typeof api.vfHandle === 'function' ? (api as MnicCoreApi) : undefined;
}

/** The migration of `vf` if everything it needs is there (mlx5vf_cmd_set_migratable's checks). */
function vfMigration(k: KernelApi, vf: Device, api: MnicCoreApi): MnicMigration | undefined {
  const vfIndex = k.pdev(vf).vfIndex;
  if (vfIndex === undefined) return undefined;
  try {
    if (!api.fw.queryHcaCaps().migration) return undefined;
    if (!api.vfMigratable(vfIndex)) return undefined;
    return mnicMigration(k, { fw: api.fw, fn: api.vfHandle(vfIndex) });
  } catch (e) {
    if (isLabError(e) && e.errno !== undefined) return undefined;
    throw e;
  }
}

export function mnicVfioPciModule(k: KernelApi): ModuleDef {
  const driver: Driver = new Driver({
    name: MNIC_VFIO_PCI_DRIVER_NAME,
    module: MNIC_VFIO_PCI_MODULE_NAME,
    probeClass: 'vfio',
    data: { bus: 'pci', idTable: [MNIC_VF_VFIO_ID], dynIds: [] },
    ops: {
      probe(dev) {
        const p = vfioPciCoreCheckDevice(k, dev, 'mnic_vfio_pci');
        const core = p.isVirtfn ? mnicVfGetCoreApi(k, dev) : undefined;
        const migration = core === undefined ? undefined : vfMigration(k, dev, core);
        const vfio = k.vfio;
        const ops = new MnicVfioPciDevice(dev, { k, chargeNs: (ns) => vfio.clock.advance(ns) }, migration);
        const vdev = vfio.registerDevice({
          dev,
          ops,
          busKey: `${p.bdf.domain}:${p.bdf.bus}`,
          isVirtfn: p.isVirtfn,
        });
        registerMigrationFeatures(vdev, migration);
        k.log.info(
          `mnic_vfio_pci ${dev.name}: ${vdev.name}${migration === undefined ? '' : ', migration supported'}`,
        );
        dev.driverData = { ops, vdev, core } satisfies MnicVfioPciDrvdata;
      },
      remove(dev) {
        const d = dev.driverData as MnicVfioPciDrvdata;
        d.ops.request();
        k.vfio.unregisterDevice(d.vdev);
      },
    },
  });
  return {
    name: MNIC_VFIO_PCI_MODULE_NAME,
    builtin: false,
    sizeBytes: 45056,
    depends: [MNIC_CORE_DRIVER_NAME],
    drivers: [driver],
  };
}
