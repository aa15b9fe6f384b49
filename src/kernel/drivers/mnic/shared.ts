/**
 * What mnic_core shares with the drivers that use its pieces (the auxiliary bus's "shared API",
 * facts/kernel.md 6): the wrapper an auxiliary device carries in `shared`, and the PF driver data a
 * VF variant driver reaches through pci_iov_get_pf_drvdata.
 */
import type { Device } from '../../driver-core/device.js';
import type { MnicFnHandle, MnicFw } from './fw-api.js';

/** The piece of the NIC an auxiliary device stands for. */
export interface MnicAuxShared {
  /** The mnic_core device this piece belongs to: the PF, or an SF's auxiliary device. */
  readonly coreDev: Device;
  /** The PCI function underneath (the PF for SFs and SIOV functions). */
  readonly pciDev: Device;
  /** Firmware of the function that manages this piece (the PF's mailbox: it may command other functions). */
  readonly managerFw: MnicFw;
  /** The function itself. */
  readonly fn: MnicFnHandle;
  /** For SFs, the SF's own mailbox (the SF's driver initialises through it). */
  readonly fnFw?: MnicFw;
  /** RID of the function's DMA; for SIOV, the guest RID. */
  readonly rid: number;
  /** SIOV only: the hypervisor RID. */
  readonly hypervisorRid?: number;
  /** The function's MMIO window: BAR index of the PCI function and the window's offset and size. */
  readonly window: { readonly bar: number; readonly offset: number; readonly sizeBytes: number };
  readonly migratable: boolean;
  readonly mac: Uint8Array;
  /** SFs only: the user's sfnum (the SF auxiliary device's "sfnum"; netdev names end in s<sfnum>). */
  readonly sfnum?: number;
}

/** mnic_core's driver data on a PF (what pci_iov_get_pf_drvdata returns to a VF variant driver). */
export interface MnicCoreApi {
  readonly kind: 'mnic-core';
  readonly dev: Device;
  readonly fw: MnicFw;
  /** The VF's firmware function (EINVAL when `vfIndex` is not an enabled VF). */
  vfHandle(vfIndex: number): MnicFnHandle;
  /** The devlink port function's migratable cap of a VF (set through devlink). */
  vfMigratable(vfIndex: number): boolean;
}
