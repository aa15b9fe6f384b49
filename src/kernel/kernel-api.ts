/**
 * What drivers may use of the kernel: the PCI core's SR-IOV calls, pci_iov_get_pf_drvdata, config
 * access to their own device, the auxiliary bus, and the log. Drivers receive this at module load,
 * as real drivers link against exported symbols.
 */
import type { Device, Driver } from './driver-core/device.js';
import type { DriverCore } from './driver-core/driver-core.js';
import type { KernelLog } from './log.js';
import type { PciDev } from './pci/pci-dev.js';

export interface KernelApi {
  readonly log: KernelLog;
  readonly core: DriverCore;
  /** pci_enable_sriov: throws the errno sriov_enable returns. */
  pciEnableSriov(dev: Device, numVfs: number): void;
  /** pci_disable_sriov. */
  pciDisableSriov(dev: Device): void;
  /** pci_num_vf. */
  pciNumVf(dev: Device): number;
  /** pci_sriov_set_totalvfs: a driver may lower what sriov_totalvfs reports (0 restores TotalVFs). */
  pciSriovSetTotalVfs(dev: Device, numVfs: number): void;
  /** pci_iov_get_pf_drvdata (facts/kernel.md 5.5): EINVAL unless `vf` is a VF whose PF is bound to `pfDriver`. */
  pciIovGetPfDrvdata(vf: Device, pfDriver: Driver): unknown;
  /** The pci_dev behind a PCI device. */
  pdev(dev: Device): PciDev;
  /** pci_enable_device / pci_disable_device / pci_set_master. */
  pciEnableDevice(dev: Device): void;
  pciDisableDevice(dev: Device): void;
  pciSetMaster(dev: Device): void;
  /** pci_read_config_* / pci_write_config_* on the device's own function. */
  pciReadConfig(dev: Device, offset: number, width: 1 | 2 | 4): number;
  pciWriteConfig(dev: Device, offset: number, width: 1 | 2 | 4, value: number): void;
}
