/**
 * virtio_vfio_pci (drivers/vfio/pci/virtio/main.c; facts/kernel.md 4.1): the VFIO variant driver for
 * virtio-net VFs.
 *
 * - id table: one override-only entry, PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x1af4, 0x1041), so the alias is
 *   `vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*`: never autoloaded, bound only through driver_override.
 *   (The later 0x1042 virtio-blk entry is left out: no catalog device has it and facts mark it
 *   UNVERIFIED.)
 * - probe: vfio_pci_core_register_device's refusals (non-normal header EINVAL, a PF with VFs enabled
 *   EBUSY); then, for a VF whose PF is bound to virtio-pci (virtio_pci_vf_get_pf_dev):
 *   legacy I/O emulation when the PF's admin queue has all five legacy opcodes, the VF has no BAR0 and
 *   it is virtio-net 0x1041 (LEGACY_NOTIFY_INFO is read now, OWNER_MEM entry); live migration when the
 *   PF has the device-parts commands. Ops: "virtio-vfio-pci-trans-lm" (transitional, plus LM when
 *   supported — named -trans-lm either way, as Linux), "virtio-vfio-pci-lm", or plain
 *   "virtio-vfio-pci" pass-through (also for PFs and VFs of a PF without virtio-pci).
 * - migration: MigrationFsm over migrate.ts's arcs, its three VFIO_DEVICE_FEATURE handlers adapted to
 *   the core's handler shape and registered on the vfio_device.
 */
import { pci, vadmin, vfio as vfioSpec } from '../../../spec/index.js';
import { type Device, Driver, type PciDeviceId } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import { resourceSize } from '../../pci/resource.js';
import type { VfioDevice, VfioFeatureHandler, VfioFeatureHandlers } from '../../vfio/core/index.js';
import {
  type FeatureHandler,
  MigrationFsm,
  migrationFeatureHandlers,
  VfioFeatureCopyBackError,
} from '../../vfio/migration/index.js';
import { VfioPciCoreDevice, vfioPciCoreCheckDevice } from '../vfio-pci/vfio-pci-core.js';
import {
  virtioPciAdminHasDevParts,
  virtioPciAdminHasLegacyIo,
  virtioPciAdminLegacyIoNotifyInfo,
  virtioPciVfGetPfDev,
} from '../virtio-pci/admin-api.js';
import { type VirtioVfioOpsName, VirtioVfioPciDevice } from './legacy-io.js';
import { VirtioMigrationDriver } from './migrate.js';

export { VIRTIO_VFIO_LEGACY_BAR0_BYTES, type VirtioVfioOpsName, VirtioVfioPciDevice } from './legacy-io.js';
export * from './migrate.js';

export const VIRTIO_VFIO_PCI_DRIVER_NAME = 'virtio-vfio-pci';
export const VIRTIO_VFIO_PCI_MODULE_NAME = 'virtio_vfio_pci';

const VIRTIO_NET_MODERN_ID = 0x1041;

/** PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1041). */
const VIRTIO_NET_VFIO_ID: PciDeviceId = {
  vendor: 0x1af4,
  device: VIRTIO_NET_MODERN_ID,
  subvendor: pci.PCI_ANY_ID,
  subdevice: pci.PCI_ANY_ID,
  classCode: 0,
  classMask: 0,
  driverData: 0,
  overrideOnly: true,
};

/** What the driver keeps per bound device. */
export interface VirtioVfioDrvdata {
  readonly ops: VirtioVfioPciDevice;
  readonly vdev: VfioDevice;
  readonly migration: VirtioMigrationDriver | undefined;
}

/** The drvdata of a device bound to virtio-vfio-pci, or undefined. */
export function virtioVfioDrvdata(dev: Device): VirtioVfioDrvdata | undefined {
  if (dev.driver?.name !== VIRTIO_VFIO_PCI_DRIVER_NAME) return undefined;
  return dev.driverData as VirtioVfioDrvdata;
}

/**
 * The migration uAPI's handlers (flags + payload → reply) in the VFIO core's shape (payload in place):
 * the reply, or on a failed MIG_DEVICE_STATE SET the copy-back struct, is written into the payload.
 */
export function adaptMigrationFeatures(handlers: ReadonlyMap<number, FeatureHandler>): VfioFeatureHandlers {
  const GET = vfioSpec.VFIO_DEVICE_FEATURE_GET;
  const SET = vfioSpec.VFIO_DEVICE_FEATURE_SET;
  const out = new Map<number, VfioFeatureHandler>();
  const ops: Record<number, number> = {
    [vfioSpec.VFIO_DEVICE_FEATURE_MIGRATION]: GET,
    [vfioSpec.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE]: GET | SET,
    [vfioSpec.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE]: GET,
  };
  for (const [id, h] of handlers) {
    const run = (flag: number) => (payload: Uint8Array, ctx: { installFd(file: unknown): number }) => {
      try {
        const r = h(flag, payload, { installFd: (s) => ctx.installFd(s) });
        payload.set(r.payload.subarray(0, Math.min(r.payload.length, payload.length)));
      } catch (e) {
        if (e instanceof VfioFeatureCopyBackError) payload.set(e.copyBack.subarray(0, payload.length));
        throw e;
      }
    };
    out.set(id, { ops: ops[id] ?? GET, minPayloadBytes: 8, get: run(GET), set: run(SET) });
  }
  return out;
}

export function virtioVfioPciModule(k: KernelApi): ModuleDef {
  const driver: Driver = new Driver({
    name: VIRTIO_VFIO_PCI_DRIVER_NAME,
    module: VIRTIO_VFIO_PCI_MODULE_NAME,
    probeClass: 'vfio',
    data: { bus: 'pci', idTable: [VIRTIO_NET_VFIO_ID], dynIds: [] },
    ops: {
      probe(dev) {
        const p = vfioPciCoreCheckDevice(k, dev, 'virtio-vfio-pci');
        let legacy = false;
        let lm = false;
        if (p.isVirtfn && virtioPciVfGetPfDev(k, dev) !== undefined) {
          const bar0 = p.resources[0];
          const noBar0 = bar0 === undefined || resourceSize(bar0) === 0n;
          legacy = virtioPciAdminHasLegacyIo(k, dev) && noBar0 && p.device === VIRTIO_NET_MODERN_ID;
          lm = virtioPciAdminHasDevParts(k, dev);
        }
        const name: VirtioVfioOpsName = legacy
          ? 'virtio-vfio-pci-trans-lm'
          : lm
            ? 'virtio-vfio-pci-lm'
            : 'virtio-vfio-pci';
        let notify: { bar: number; offset: number } | undefined;
        if (legacy) {
          const info = virtioPciAdminLegacyIoNotifyInfo(
            k,
            dev,
            vadmin.VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_OWNER_MEM,
          );
          notify = { bar: info.bar, offset: Number(info.offset) };
        }
        const vfio = k.vfio;
        const migration = lm ? new VirtioMigrationDriver({ k, vf: dev, clock: vfio.clock }) : undefined;
        const fsm =
          migration === undefined
            ? undefined
            : MigrationFsm.register(migration, { warn: (t) => k.log.warn(t) });
        const core = new VfioPciCoreDevice(dev, { k, chargeNs: (ns) => vfio.clock.advance(ns) }, name);
        const ops = new VirtioVfioPciDevice({ k, dev, core, name, notify, fsm });
        const vdev = vfio.registerDevice({
          dev,
          ops,
          busKey: `${p.bdf.domain}:${p.bdf.bus}`,
          isVirtfn: p.isVirtfn,
        });
        if (fsm !== undefined)
          vdev.registerFeatureHandlers(adaptMigrationFeatures(migrationFeatureHandlers(fsm)));
        dev.driverData = { ops, vdev, migration } satisfies VirtioVfioDrvdata;
      },
      remove(dev) {
        const d = dev.driverData as VirtioVfioDrvdata;
        d.ops.core.request();
        k.vfio.unregisterDevice(d.vdev);
      },
    },
  });
  return {
    name: VIRTIO_VFIO_PCI_MODULE_NAME,
    builtin: false,
    sizeBytes: 20480,
    depends: [],
    drivers: [driver],
  };
}
