/**
 * What drivers may use of the kernel: the PCI core's SR-IOV calls, pci_iov_get_pf_drvdata, config
 * access to their own device, MMIO to its BARs, DMA-coherent memory, MSI-X vectors, the auxiliary
 * bus, the VFIO core, and the log. Drivers receive this at module load, as real drivers link against
 * exported symbols.
 */
import type { DevlinkRegistry } from './devlink/registry.js';
import type { Device, Driver } from './driver-core/device.js';
import type { DriverCore } from './driver-core/driver-core.js';
import type { FunctionProviderRegistry } from './fnctl/provider.js';
import type { KernelLog } from './log.js';
import type { Modules } from './modules/modules.js';
import type { NetDevices } from './net/index.js';
import type { NetlinkBus } from './netlink/bus.js';
import type { PciDev } from './pci/pci-dev.js';
import type { VdpaRegistry } from './vdpa/registry.js';
import type { VfioCore } from './vfio/core/vfio-core.js';

export interface KernelApi extends KernelIoApi {
  readonly log: KernelLog;
  readonly core: DriverCore;
  /** Generic netlink: families register here; tools open sockets. */
  readonly netlink: NetlinkBus;
  /** The one list of net devices (lo, driver netdevs, nlmon links): register_netdev and friends. */
  readonly net: NetDevices;
  /** devlink instances and ports drivers register. */
  readonly devlink: DevlinkRegistry;
  /** vDPA management devices and devices. */
  readonly vdpa: VdpaRegistry;
  /** Parents that can create functions through the common creation API. */
  readonly functions: FunctionProviderRegistry;
  /** The VFIO core: vfio_device registration, the group and cdev models, open/close with their FLR. */
  readonly vfio: VfioCore;
  /** Loaded modules: a driver reads its own module's parameters here (`param`). */
  readonly modules: Pick<Modules, 'param'>;
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
  /** pci_reset_function (FLR): returns the completion wait, charged on the clock unless `chargeWait` is false. */
  pciResetFunction(dev: Device, chargeWait?: boolean): number;
  /** pci_read_config_* / pci_write_config_* on the device's own function. */
  pciReadConfig(dev: Device, offset: number, width: 1 | 2 | 4): number;
  pciWriteConfig(dev: Device, offset: number, width: 1 | 2 | 4, value: number): void;
}

/**
 * A mapped BAR range (pci_iomap / ioremap): accessors at BAR + offset. Widths 1, 2 and 4 are one
 * memory request each; 64-bit accesses are two 32-bit ones, low half first, as Linux's
 * lo_hi_writeq/readq and virtio's vp_iowrite64_twopart do.
 */
export interface IoMem {
  readonly bar: number;
  /** Bus address of offset 0 (the BAR's start plus the mapped offset). */
  readonly busAddr: bigint;
  readonly sizeBytes: number;
  read(offset: number, width: 1 | 2 | 4): number;
  write(offset: number, width: 1 | 2 | 4, value: number): void;
  read64(offset: number): bigint;
  write64(offset: number, value: bigint): void;
}

/** CPU access to host RAM (kernel virtual addresses of DMA-coherent buffers, here their HPA). */
export interface KernelRam {
  read(addr: bigint, lengthBytes: number): Uint8Array;
  write(addr: bigint, bytes: Uint8Array): void;
  readU16(addr: bigint): number;
  writeU16(addr: bigint, value: number): void;
  readU32(addr: bigint): number;
  writeU32(addr: bigint, value: number): void;
}

/**
 * A dma_alloc_coherent buffer: zeroed host RAM the device reaches at `iova`. Under the identity
 * domain the host uses by default, IOVA = HPA = the CPU address the driver writes through `ram`.
 */
export interface DmaCoherent {
  readonly iova: bigint;
  readonly cpuAddr: bigint;
  readonly sizeBytes: number;
}

/** One MSI-X vector a driver requested (pci_alloc_irq_vectors + request_irq). */
export interface MsixVector {
  /** MSI-X table entry index. */
  readonly index: number;
}

/** What drivers use of the hardware besides config cycles: MMIO, DMA-coherent memory, MSI-X. */
export interface KernelIoApi {
  /** pci_iomap_range: BAR `bar` from `offset` for `length` bytes (0 = to the end). ENOMEM if unassigned. */
  pciIomap(dev: Device, bar: number, offset?: number, length?: number): IoMem;
  /** CPU view of host RAM for the buffers below. */
  readonly ram: KernelRam;
  /** dma_alloc_coherent: ENOMEM when the pool is exhausted or the host has no RAM wired. */
  dmaAllocCoherent(dev: Device, sizeBytes: number, alignBytes?: number): DmaCoherent;
  dmaFreeCoherent(dev: Device, buf: DmaCoherent): void;
  /**
   * pci_alloc_irq_vectors(MSI-X) + request_irq for table entry `index`: programs the entry with a
   * message from the host's MSI controller, unmasks it and enables MSI-X. Returns undefined when the
   * host has no MSI controller or the function no MSI-X (the driver then polls).
   */
  pciRequestMsixVector(dev: Device, index: number, handler: () => void): MsixVector | undefined;
  /** free_irq + pci_free_irq_vectors for every vector of `dev`; MSI-X Enable is cleared. */
  pciFreeMsixVectors(dev: Device): void;
}
