/**
 * The "mnic_core.sf" auxiliary driver inside mnic_core (mlx5 sf/dev/driver.c; facts/kernel.md 7.3):
 * it probes "mnic_core.sf.<id>", opens the SF's own mailbox in its window of the PF's SF BAR, runs
 * INIT_HCA (firmware then reports IN_USE: opstate attached), registers the SF's devlink instance
 * "auxiliary/mnic_core.sf.<id>" with its enable_* parameters, and carves the SF's own auxiliary
 * devices (eth and vnet by default, vfio when enabled) — the two-level auxiliary hierarchy.
 * Remove: delete those devices (their drivers unbind), unregister devlink, TEARDOWN_HCA.
 * Left out: the SF's rdma device, its own eswitch.
 */

import { errnoError } from '../../../base/index.js';
import { auxiliaryDriver, toAuxiliaryDev } from '../../auxiliary/auxiliary.js';
import type { DevlinkInstance } from '../../devlink/registry.js';
import type { Device, Driver } from '../../driver-core/device.js';
import { MnicCoreDev, type MnicCtx, type MnicEnables } from './core-dev.js';
import type { MnicFw, MnicFwOpener, MnicHcaCaps } from './fw-api.js';
import { MNIC_CORE } from './ids.js';
import { enableParams } from './params.js';
import type { SfRecord, SfTable } from './sf-table.js';

/** What "mnic_core.sf.<id>" carries (mlx5_sf_dev: parent, SF id, fn id, BAR window, sfnum). */
export interface MnicSfDevShared {
  readonly kind: 'mnic-sf-dev';
  readonly pfDev: Device;
  readonly pfFw: MnicFw;
  readonly caps: MnicHcaCaps;
  readonly pfRid: number;
  readonly table: SfTable;
  readonly rec: SfRecord;
  readonly enables: MnicEnables;
  hold<T>(f: () => T): T;
}

/** The SF's driver data. */
export interface MnicSfCore {
  readonly kind: 'mnic-sf';
  readonly core: MnicCoreDev;
  readonly devlink: DevlinkInstance;
  readonly shared: MnicSfDevShared;
}

export function isMnicSfCore(x: unknown): x is MnicSfCore {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'mnic-sf';
}

export function mnicSfDriver(ctx: MnicCtx, opener: () => MnicFwOpener): Driver {
  const { k } = ctx;
  return auxiliaryDriver({
    modname: MNIC_CORE,
    name: 'sf',
    idTable: [{ name: `${MNIC_CORE}.sf`, driverData: 0 }],
    probeClass: 'core',
    ops: {
      probe(dev: Device) {
        const s = toAuxiliaryDev(dev)?.shared as MnicSfDevShared | undefined;
        if (s?.kind !== 'mnic-sf-dev') throw errnoError('ENODEV', `${dev.name}: not an mnic SF`);
        s.hold(() => {
          const fw = opener().openSf(s.pfDev, s.rec.handle);
          fw.initHca();
          const size = 2 ** (s.caps.logMinSfSize + 12);
          let core: MnicCoreDev | undefined;
          const devlink = k.devlink.register('auxiliary', dev.name, {
            params: () =>
              enableParams(
                () => core,
                (f) => s.hold(f),
              ),
          });
          core = new MnicCoreDev(ctx, {
            dev,
            pciDev: s.pfDev,
            fw,
            managerFw: s.pfFw,
            fn: s.rec.handle,
            rid: s.pfRid,
            window: { bar: s.caps.sfBar, offset: s.rec.handle.sfIndex * size, sizeBytes: size },
            enables: s.enables,
            mac: s.rec.mac,
            migratable: s.rec.caps.migratable,
            sfnum: s.rec.sfnum,
          });
          const data: MnicSfCore = { kind: 'mnic-sf', core, devlink, shared: s };
          dev.driverData = data;
          try {
            core.attachAll();
          } catch (e) {
            core.destroy();
            k.devlink.unregister(devlink);
            fw.teardownHca();
            throw e;
          }
          k.log.info(`${MNIC_CORE} ${dev.name}: SF sfnum ${s.rec.sfnum} up (fn ${s.rec.handle.fnId})`);
        });
      },
      remove(dev: Device) {
        const data = dev.driverData;
        if (!isMnicSfCore(data)) return;
        const s = data.shared;
        s.table.markDriverLeaving(s.rec, true);
        try {
          s.hold(() => {
            data.core.destroy();
            k.devlink.unregister(data.devlink);
            // remove cannot fail: a refused TEARDOWN_HCA leaves the function attached (opstate),
            // which devlink then reports, as mlx5 does when a function is not released.
            try {
              data.core.fw.teardownHca();
            } catch (e) {
              k.log.err(`${MNIC_CORE} ${dev.name}: TEARDOWN_HCA failed: ${(e as Error).message}`);
            }
          });
        } finally {
          s.table.markDriverLeaving(s.rec, false);
        }
      },
    },
  });
}
