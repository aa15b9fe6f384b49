/**
 * struct pci_dev as far as the model needs it: identity read by config cycles at scan time, the
 * resources, and the SR-IOV state (struct pci_sriov) of a PF. For a VF, vendor and device are the PF's
 * vendor and the VF Device ID (facts/kernel.md 5.3), which is what sysfs shows while config space
 * reads all-ones.
 */
import { type Bdf, formatBdf, type Rid } from '../../base/index.js';
import type { Resource } from './resource.js';

export interface PciSriov {
  /** Offset of the SR-IOV extended capability. */
  readonly pos: number;
  readonly totalVfs: number;
  readonly initialVfs: number;
  readonly vfDevice: number;
  readonly capabilities: number;
  /** Last value written to SR-IOV Control. */
  ctrl: number;
  numVfs: number;
  offset: number;
  stride: number;
  /** sriov_drivers_autoprobe (default true). */
  driversAutoprobe: boolean;
  /** driver_max_VFs: what sriov_totalvfs shows; a PF driver may lower it. */
  driverMaxVfs: number;
  vfs: PciDev[];
}

export interface PciDev {
  readonly bdf: Bdf;
  readonly rid: Rid;
  /** pci_name(): `0000:01:00.0`. */
  readonly name: string;
  readonly vendor: number;
  readonly device: number;
  readonly subsystemVendor: number;
  readonly subsystemDevice: number;
  /** 24-bit class code. */
  readonly classCode: number;
  readonly revision: number;
  /** Header type without the multi-function bit. */
  readonly hdrType: number;
  readonly cfgSize: 256 | 4096;
  readonly pcieCap: number | undefined;
  readonly isVirtfn: boolean;
  readonly physfn: PciDev | undefined;
  /** VF index (0-based) for a VF. */
  readonly vfIndex: number | undefined;
  readonly resources: Resource[];
  irq: number;
  /** The bridge this device sits behind (undefined for bus 0 functions). */
  readonly upstream: PciDev | undefined;
  /** For bridges: the bus numbers behind it. */
  secondaryBus: number;
  subordinateBus: number;
  /** ARI forwarding enabled on the bus this device sits on. */
  readonly ariEnabled: boolean;
  sriov: PciSriov | undefined;
  /** pci_enable_device nesting count (the sysfs `enable` file shows it). */
  enableCnt: number;
}

export const pciName = (bdf: Bdf): string => formatBdf(bdf);
