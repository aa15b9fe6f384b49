/**
 * The mnic_core module (mlx5_core's role): the PCI driver "mnic_core" for the NIC's PF and VFs, and
 * the auxiliary driver "mnic_core.sf" for its subfunctions (sf-driver.ts).
 *
 * PF probe: enable the function, open its firmware mailbox, then MnicPf (caps, devlink instance and
 * ports, the PF's "eth" piece, the function provider). VF probe (a VF bound to mnic_core: the full
 * native path the seed mail calls too slow): its own mailbox, devlink instance "pci/<vf>", and its
 * "eth" piece, which mnic_en autoloads for — a core-class probe followed by a netdev-class probe.
 * sriov_configure enables or disables VFs and keeps the PF's VF ports in step.
 * Remove undoes probe in reverse; nothing is left in sysfs, the driver core, devlink, vdpa or netdevs.
 */

import type { DevlinkInstance } from '../../devlink/registry.js';
import { type Device, Driver } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import { resourceSize } from '../../pci/resource.js';
import { disableSriovOnRemove, pciDeviceId } from '../sriov-pf.js';
import { MnicCoreDev, type MnicCtx } from './core-dev.js';
import type { MnicFwOpener } from './fw-api.js';
import { Ida, MNIC_CORE, MNIC_PF_DEVICE, MNIC_VENDOR, MNIC_VF_DEVICE } from './ids.js';
import { enableParams } from './params.js';
import { MnicPf } from './pf.js';
import { mnicSfDriver } from './sf-driver.js';

/** mnic_core's driver data on a VF. */
export interface MnicVfCore {
  readonly kind: 'mnic-core-vf';
  readonly core: MnicCoreDev;
  readonly devlink: DevlinkInstance;
}

export function isMnicPf(x: unknown): x is MnicPf {
  return x instanceof MnicPf;
}

function probeVf(ctx: MnicCtx, opener: MnicFwOpener, dev: Device): void {
  const k = ctx.k;
  k.pciEnableDevice(dev);
  k.pciSetMaster(dev);
  const fw = opener.openPci(dev);
  const p = k.pdev(dev);
  const bar0 = p.resources[0];
  const core = new MnicCoreDev(ctx, {
    dev,
    pciDev: dev,
    fw,
    managerFw: fw,
    fn: fw.self,
    rid: p.rid as number,
    window: { bar: 0, offset: 0, sizeBytes: bar0 === undefined ? 0 : Number(resourceSize(bar0)) },
    enables: { eth: true, vnet: false, vfio: false },
    mac: new Uint8Array(6),
    migratable: false,
  });
  const devlink = k.devlink.register('pci', dev.name, {
    params: () =>
      enableParams(
        () => core,
        (f) => f(),
      ),
  });
  const data: MnicVfCore = { kind: 'mnic-core-vf', core, devlink };
  dev.driverData = data;
  try {
    core.attachAll();
  } catch (e) {
    core.destroy();
    k.devlink.unregister(devlink);
    k.pciDisableDevice(dev);
    throw e;
  }
}

export function mnicCoreModule(k: KernelApi, opener: () => MnicFwOpener): ModuleDef {
  const ctx: MnicCtx = { k, adevIda: new Ida() };
  const pfOf = (dev: Device): MnicPf | undefined => (isMnicPf(dev.driverData) ? dev.driverData : undefined);
  const pciDriver = new Driver({
    name: MNIC_CORE,
    module: MNIC_CORE,
    probeClass: 'core',
    data: {
      bus: 'pci',
      idTable: [pciDeviceId(MNIC_VENDOR, MNIC_PF_DEVICE), pciDeviceId(MNIC_VENDOR, MNIC_VF_DEVICE)],
      dynIds: [],
      sriovConfigure(dev: Device, numVfs: number): number {
        const pf = pfOf(dev)!;
        if (numVfs === 0) {
          pf.hold(() => {
            pf.provider.forgetVfs();
            pf.vfsDisabling();
            k.pciDisableSriov(dev);
          });
          return 0;
        }
        pf.hold(() => {
          k.pciEnableSriov(dev, numVfs);
          pf.vfsEnabled(numVfs);
        });
        return numVfs;
      },
    },
    ops: {
      probe(dev: Device) {
        if (k.pdev(dev).isVirtfn) return probeVf(ctx, opener(), dev);
        k.pciEnableDevice(dev);
        k.pciSetMaster(dev);
        let pf: MnicPf;
        try {
          pf = new MnicPf(ctx, dev, opener().openPci(dev));
        } catch (e) {
          k.pciDisableDevice(dev);
          throw e;
        }
        dev.driverData = pf;
        try {
          pf.start();
        } catch (e) {
          pf.stop(() => disableSriovOnRemove(k, dev));
          k.pciFreeMsixVectors(dev);
          k.pciDisableDevice(dev);
          throw e;
        }
      },
      remove(dev: Device) {
        const data = dev.driverData;
        if (isMnicPf(data)) {
          data.stop(() => disableSriovOnRemove(k, dev));
        } else if ((data as MnicVfCore | undefined)?.kind === 'mnic-core-vf') {
          const vf = data as MnicVfCore;
          vf.core.destroy();
          k.devlink.unregister(vf.devlink);
        }
        // free_irq for the event queue's vector the firmware client requested.
        k.pciFreeMsixVectors(dev);
        k.pciDisableDevice(dev);
      },
    },
  });
  return {
    name: MNIC_CORE,
    builtin: false,
    sizeBytes: 1957888,
    depends: [],
    drivers: [pciDriver, mnicSfDriver(ctx, opener)],
  };
}
