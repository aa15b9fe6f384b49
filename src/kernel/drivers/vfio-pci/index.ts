/**
 * vfio-pci (drivers/vfio/pci/vfio_pci.c + the binding side of vfio_pci_core.c; facts/kernel.md 3.8):
 *
 * - id table: one override-only entry for any device (PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID,
 *   PCI_ANY_ID)), written to modules.alias with the `vfio_pci:` prefix no uevent carries, so the module
 *   is never autoloaded and binds only through driver_override or new_id.
 * - probe: refuses non-normal header types (EINVAL), and a PF with VFs enabled ("Cannot bind to PF
 *   with SR-IOV enabled", EBUSY); otherwise registers a vfio_device with the VFIO core.
 * - sriov_configure: only with the enable_sriov module parameter, else ENOENT. VFs created while the
 *   PF is bound here get driver_override = "vfio-pci" ("Captured SR-IOV VF ... driver_override"), as
 *   the PCI bus notifier of vfio_pci_core does, so they go straight to VFIO.
 * - remove: signals REQ, closes what users left open, unregisters.
 *
 * SPEC-DEVIATION: the driver core has no bus notifiers; the VF capture runs inside sriov_configure
 * with VF autoprobe held off while the VFs are added, then probes them, which leaves the same result
 * (driver_override set before any driver could match) with bind uevents after all add uevents.
 *
 * Module parameters (module_param in vfio_pci.c): enable_sriov (bool, 0644) gates sriov_configure;
 * disable_denylist (bool, 0444) is declared as Linux declares it, but no modeled device is on the
 * denylist (vfio_pci_dev_in_denylist lists Intel QAT functions), so it changes nothing here.
 * Left out: ids (perm 0, no sysfs file; driver_override and new_id are the modeled ways to bind),
 * nointxmask, disable_vga, disable_idle_d3.
 */
import { errnoError, formatBdf } from '../../../base/index.js';
import { pci } from '../../../spec/index.js';
import { type Device, Driver, type PciDeviceId } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import type { ModuleParamDef } from '../../modules/params.js';
import type { VfioDevice } from '../../vfio/core/index.js';
import { VfioPciCoreDevice, vfioPciCoreCheckDevice } from './vfio-pci-core.js';

export * from './config.js';
export * from './vfio-pci-core.js';

export const VFIO_PCI_DRIVER_NAME = 'vfio-pci';
export const VFIO_PCI_MODULE_NAME = 'vfio_pci';

/** PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID). */
const VFIO_ANY_ID: PciDeviceId = {
  vendor: pci.PCI_ANY_ID,
  device: pci.PCI_ANY_ID,
  subvendor: pci.PCI_ANY_ID,
  subdevice: pci.PCI_ANY_ID,
  classCode: 0,
  classMask: 0,
  driverData: 0,
  overrideOnly: true,
};

/** vfio-pci's module parameters, with vfio_pci.c's permissions (descriptions in our words). */
export const VFIO_PCI_PARAM_ENABLE_SRIOV = 'enable_sriov';
const VFIO_PCI_PARAMS: readonly ModuleParamDef[] = [
  {
    name: VFIO_PCI_PARAM_ENABLE_SRIOV,
    type: 'bool',
    default: false,
    mode: 0o644,
    description:
      'Allow sriov_numvfs on PFs bound to vfio-pci; the VFs then depend on a userspace PF driver to work.',
  },
  {
    name: 'disable_denylist',
    type: 'bool',
    default: false,
    mode: 0o444,
    description:
      'Ignore the list of devices vfio-pci refuses because of known errata (unsafe with untrusted users).',
  },
];

/** What vfio-pci keeps per bound device (its drvdata). */
export interface VfioPciDrvdata {
  readonly core: VfioPciCoreDevice;
  readonly vdev: VfioDevice;
}

export function vfioPciModule(k: KernelApi): ModuleDef {
  const drvdata = (dev: Device): VfioPciDrvdata => dev.driverData as VfioPciDrvdata;
  const driver: Driver = new Driver({
    name: VFIO_PCI_DRIVER_NAME,
    module: VFIO_PCI_MODULE_NAME,
    probeClass: 'vfio',
    data: {
      bus: 'pci',
      idTable: [VFIO_ANY_ID],
      dynIds: [],
      sriovConfigure: (dev, numVfs) => sriovConfigure(dev, numVfs),
    },
    ops: {
      probe(dev) {
        const p = vfioPciCoreCheckDevice(k, dev, 'vfio-pci');
        const vfio = k.vfio;
        const core = new VfioPciCoreDevice(dev, {
          k,
          chargeNs: (ns) => vfio.clock.advance(ns),
        });
        const vdev = vfio.registerDevice({
          dev,
          ops: core,
          busKey: `${p.bdf.domain}:${p.bdf.bus}`,
          isVirtfn: p.isVirtfn,
        });
        dev.driverData = { core, vdev } satisfies VfioPciDrvdata;
      },
      remove(dev) {
        const d = drvdata(dev);
        d.core.request();
        k.vfio.unregisterDevice(d.vdev);
        // vfio_pci_core_unregister_device disables SR-IOV the PF driver enabled.
        if (k.pdev(dev).sriov !== undefined && k.pciNumVf(dev) > 0) k.pciDisableSriov(dev);
      },
    },
  });

  /** vfio_pci_sriov_configure → vfio_pci_core_sriov_configure. */
  function sriovConfigure(dev: Device, numVfs: number): number {
    if (k.modules.param(VFIO_PCI_MODULE_NAME, VFIO_PCI_PARAM_ENABLE_SRIOV) !== true)
      throw errnoError('ENOENT', 'vfio-pci enable_sriov=0');
    if (numVfs === 0) {
      k.pciDisableSriov(dev);
      return 0;
    }
    const iov = k.pdev(dev).sriov;
    if (iov === undefined) throw errnoError('ENODEV', `${dev.name} is not a PF`);
    const autoprobe = iov.driversAutoprobe;
    iov.driversAutoprobe = false;
    try {
      k.pciEnableSriov(dev, numVfs);
    } finally {
      iov.driversAutoprobe = autoprobe;
    }
    for (const vf of iov.vfs) {
      const vfDev = k.core.findDevice('pci', vf.name);
      if (vfDev === undefined) continue;
      k.log.info(`vfio-pci ${dev.name}: Captured SR-IOV VF ${formatBdf(vf.bdf)} driver_override`);
      vfDev.driverOverride = drvdata(dev).core.name;
      if (autoprobe) k.core.deviceAttach(vfDev);
    }
    return numVfs;
  }

  return {
    name: VFIO_PCI_MODULE_NAME,
    builtin: false,
    sizeBytes: 16384,
    depends: [],
    drivers: [driver],
    params: VFIO_PCI_PARAMS,
  };
}
