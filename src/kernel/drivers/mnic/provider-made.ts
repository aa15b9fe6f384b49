/**
 * What the NIC's function provider keeps per function it made (provider.ts), and the small helpers
 * that turn functions into what the creation API reports and carves: a SIOV function's auxiliary
 * device data, RID text, the errno a failure carries, and
 * what the subsystem driver made of the function's device ("vfio3", a netdev name, "vdpa0").
 */
import { formatBdfShort } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { AuxiliaryDevice } from '../../auxiliary/auxiliary.js';
import type { Device } from '../../driver-core/device.js';
import type { CreatedFunction, FnDriver, FnKind } from '../../fnctl/provider.js';
import type { KernelApi } from '../../kernel-api.js';
import { NetlinkError, nlError } from '../../netlink/bus.js';
import type { MnicFw, MnicSiovHandle } from './fw-api.js';
import { MNIC_CORE } from './ids.js';
import type { SfRecord } from './sf-table.js';
import type { MnicAuxShared } from './shared.js';

const ext = (text: string): string => `${MNIC_CORE}: ${text}`;
export const DRIVERS: Readonly<Record<FnKind, readonly FnDriver[]>> = {
  vf: ['vfio', 'net', 'none'],
  sf: ['vfio', 'net', 'vdpa', 'none'],
  siov: ['vfio', 'none'],
};
/** Automatic sfnums of API-made SFs start here, away from the small numbers users pick. */
export const AUTO_SFNUM_BASE = 0x100000;

export type Made =
  | { readonly kind: 'vf'; readonly vfIndex: number; info: CreatedFunction }
  | { readonly kind: 'sf'; readonly rec: SfRecord; info: CreatedFunction }
  | {
      readonly kind: 'siov';
      readonly handle: MnicSiovHandle;
      adev: AuxiliaryDevice | undefined;
      adevId: number | undefined;
      enabled: boolean;
      info: CreatedFunction;
    };

export type SiovMade = Extract<Made, { readonly kind: 'siov' }>;

/** What a SIOV function's "mnic_core.vfio.<idx>" device carries: its RIDs and its window in BAR 4. */
export function siovShared(
  pfDev: Device,
  pfFw: MnicFw,
  handle: MnicSiovHandle,
  migratable: boolean,
  mac: Uint8Array,
): MnicAuxShared {
  const windowBytes = mnicfw.MNIC_WINDOW_BYTES;
  return {
    coreDev: pfDev,
    pciDev: pfDev,
    managerFw: pfFw,
    fn: handle,
    rid: handle.guestRid,
    hypervisorRid: handle.hypervisorRid,
    window: {
      bar: mnicfw.MNIC_SIOV_BAR,
      offset: (handle.fnId - mnicfw.MNIC_SIOV_BASE_ID) * windowBytes,
      sizeBytes: windowBytes,
    },
    migratable,
    mac,
  };
}

export const ridText = (rid: number): string =>
  formatBdfShort({ domain: 0, bus: rid >> 8, devfn: rid & 0xff } as never);

/** Turn a firmware or driver-core errno failure into the family's error, keeping NetlinkErrors. */
export function asNl(e: unknown, what: string): unknown {
  if (e instanceof NetlinkError) return e;
  const errno = (e as { errno?: string }).errno;
  return errno === undefined ? e : nlError(errno as never, ext(`${what}: ${(e as Error).message}`));
}

/** What the subsystem driver made of the function's device, if it is bound. */
export function boundAsOf(k: KernelApi, m: Made, dev: Device): string | undefined {
  if (dev.driver === undefined) return undefined;
  if (m.info.driver === 'vfio') {
    // The VFIO drivers keep their vfio_device in their driver data ({ vdev: { name } }).
    const vdev = (dev.driverData as { vdev?: { name?: unknown } } | undefined)?.vdev;
    return typeof vdev?.name === 'string' ? vdev.name : undefined;
  }
  if (m.info.driver === 'net') {
    // The netdev hangs off the eth piece the function's core device (VF or SF) carved.
    const core = (
      dev.driverData as { core?: { aux(name: 'eth'): { device?: Device } | undefined } } | undefined
    )?.core;
    const eth = core?.aux('eth')?.device;
    return eth === undefined ? undefined : k.net.byParent(eth)?.name;
  }
  if (m.info.driver === 'vdpa') {
    const mgmt = k.vdpa.findMgmtDev('auxiliary', dev.name);
    return mgmt === undefined ? undefined : k.vdpa.devices.find((d) => d.mgmt === mgmt)?.name;
  }
  return undefined;
}
