/**
 * One host kernel: the driver core with the PCI and auxiliary buses, the PCI core, modules and udev,
 * the VFIO core (with its IOMMUFD binding), and the kernel log. It reaches hardware only through the
 * host bridge's config cycles.
 *
 * Boot follows Linux's order: scan the PCI hierarchy (devices exist, not yet matchable), assign
 * resources, add the devices to the bus (matching allowed), register built-in drivers, then udev's
 * coldplug replays the add events and loads modules for their MODALIAS, which binds drivers.
 */
import { type Bdf, type CostModel, errnoError, type VirtualClock } from '../base/index.js';
import { createAuxiliaryBus } from './auxiliary/auxiliary.js';
import { DevlinkRegistry, registerDevlinkFamily } from './devlink/index.js';
import { Device, type Driver } from './driver-core/device.js';
import { DriverCore } from './driver-core/driver-core.js';
import type { Uevent } from './driver-core/uevent.js';
import { shippedModules } from './drivers/index.js';
import { registerFnctlFamily } from './fnctl/family.js';
import { FunctionProviderRegistry } from './fnctl/provider.js';
import type { DmaCoherent, IoMem, KernelApi, KernelRam, MsixVector } from './kernel-api.js';
import {
  KernelIo,
  type KernelMemoryAccess,
  type KernelMmioAccess,
  type KernelMsiController,
} from './kernel-io.js';
import { KernelLog } from './log.js';
import { Modules } from './modules/modules.js';
import { Udev } from './modules/udev.js';
import { NetDevices } from './net/index.js';
import { NetlinkBus, nlmonLinkKind } from './netlink/index.js';
import type { PciConfigAccess } from './pci/config-access.js';
import { PciCore } from './pci/pci-core.js';
import type { PciDev } from './pci/pci-dev.js';
import { createPciBus, pdevOf } from './pci/pci-driver.js';
import { assignResources, type HostApertures } from './pci/setup-res.js';
import { Sysfs, staticDir } from './sysfs/index.js';
import { buildSysfsRoot } from './sysfs-tree/index.js';
import { registerVdpaFamily, VdpaRegistry } from './vdpa/index.js';
import { iommufdBinding, VfioCore, type VfioResetPolicy } from './vfio/index.js';

export interface KernelOptions {
  readonly access: PciConfigAccess;
  readonly domain: number;
  readonly clock: VirtualClock;
  /** Costs for the device at a BDF (host costs with that device's override). */
  readonly costsFor: (at: Bdf | undefined) => CostModel;
  readonly apertures: HostApertures;
  /** The host's memory requests (MMIO to BARs); absent: pci_iomap fails with ENOMEM. */
  readonly mmio?: KernelMmioAccess;
  /** Host RAM, for DMA-coherent buffers; absent: dma_alloc_coherent fails with ENOMEM. */
  readonly memory?: KernelMemoryAccess;
  /** The host's MSI controller, read at each vector request; absent: drivers poll. */
  readonly msi?: () => KernelMsiController | undefined;
  /** Whether VFs on one bus share a VFIO dev_set (before the fix) or not; absent: serialized-per-bus. */
  readonly vfioResetPolicy?: VfioResetPolicy;
}

export class Kernel implements KernelApi {
  readonly log: KernelLog;
  readonly core: DriverCore;
  readonly pci: PciCore;
  readonly modules: Modules;
  readonly udev: Udev;
  readonly clock: VirtualClock;
  readonly sysfs: Sysfs;
  /** /sys/devices/pci<domain>:00, the parent of bus 0's functions. */
  readonly pciRoot: Device;
  readonly #devices = new Map<PciDev, Device>();
  readonly #o: KernelOptions;
  readonly io: KernelIo;
  readonly netlink: NetlinkBus;
  readonly net = new NetDevices();
  readonly devlink = new DevlinkRegistry();
  readonly vdpa = new VdpaRegistry();
  readonly functions = new FunctionProviderRegistry();
  readonly vfio: VfioCore;

  constructor(o: KernelOptions) {
    this.#o = o;
    this.io = new KernelIo({
      mmio: o.mmio,
      memory: o.memory,
      msi: o.msi,
      readConfig: (p, offset, width) => this.pci.cfg.read(p.rid, offset, width),
      writeConfig: (p, offset, width, value) => this.pci.cfg.write(p.rid, offset, width, value),
    });
    this.clock = o.clock;
    this.vfio = new VfioCore({ clock: o.clock, resetPolicy: o.vfioResetPolicy, iommufd: iommufdBinding() });
    this.netlink = new NetlinkBus({ nowNs: () => o.clock.nowNs });
    // nlmon is built in: its rtnl_link_ops are there from boot (no rtnl-link-nlmon autoload).
    this.net.registerLinkKind(nlmonLinkKind(this.netlink));
    registerDevlinkFamily(this.netlink, this.devlink);
    registerVdpaFamily(this.netlink, this.vdpa);
    registerFnctlFamily(this.netlink, this.functions, {
      requestModule: (name) => this.modules.modprobe(name),
    });
    this.log = new KernelLog(o.clock);
    let udev: Udev | undefined;
    this.core = new DriverCore({
      clock: o.clock,
      costsFor: (dev) => o.costsFor(dev.data.bus === 'pci' ? dev.data.pdev.bdf : this.#pciAncestor(dev)?.bdf),
      log: this.log,
      emit: (e: Uevent) => udev?.receive(e),
    });
    this.core.registerBus(createPciBus({ warn: (t) => this.log.warn(t) }));
    this.core.registerBus(createAuxiliaryBus());
    this.pciRoot = new Device(`pci${o.domain.toString(16).padStart(4, '0')}:00`, undefined, { bus: 'none' });
    this.pci = new PciCore({
      access: o.access,
      domain: o.domain,
      clock: o.clock,
      costsFor: o.costsFor,
      log: this.log,
      events: {
        added: (p) => this.#pciDeviceAdd(p),
        ready: (p) => this.core.enableMatching(this.pciDevice(p)),
        removed: (p) => this.#pciDeviceRemove(p),
      },
    });
    this.modules = new Modules(shippedModules(this), this.core, this.log);
    // request_module for the creation API: a provider may need a driver nobody loaded yet.
    this.functions.setModuleLoader((name) => {
      this.modules.modprobe(name, true);
    });
    udev = new Udev(this.modules);
    this.udev = udev;
    // The filesystem root holds only /sys: the shell's world is the kernel's sysfs.
    this.sysfs = new Sysfs(staticDir({ sys: buildSysfsRoot(this) }));
  }

  boot(): void {
    this.pci.scan();
    assignResources(this.pci, this.#o.apertures);
    this.pci.busAddDevices();
    this.modules.loadBuiltins();
    this.settle();
  }

  /** Let udev handle what is queued (module autoload); run after each user-visible operation. */
  settle(): void {
    this.udev.settle();
  }

  /** The driver-core device of a pci_dev. */
  pciDevice(p: PciDev): Device {
    const d = this.#devices.get(p);
    if (d === undefined) throw errnoError('ENODEV', `${p.name} is not registered`);
    return d;
  }

  findPciDevice(name: string): Device | undefined {
    return this.core.findDevice('pci', name);
  }

  #pciDeviceAdd(p: PciDev): void {
    const parent = p.isVirtfn
      ? this.pciDevice(p.physfn!).parent
      : p.upstream
        ? this.pciDevice(p.upstream)
        : this.pciRoot;
    const dev = new Device(p.name, parent, { bus: 'pci', pdev: p });
    this.#devices.set(p, dev);
    this.core.deviceAdd(dev);
  }

  #pciDeviceRemove(p: PciDev): void {
    const dev = this.#devices.get(p);
    if (dev === undefined) return;
    this.core.deviceDel(dev);
    this.#devices.delete(p);
  }

  #pciAncestor(dev: Device): PciDev | undefined {
    for (let d: Device | undefined = dev; d !== undefined; d = d.parent)
      if (d.data.bus === 'pci') return d.data.pdev;
    return undefined;
  }

  // ---- KernelApi ----

  pdev(dev: Device): PciDev {
    return pdevOf(dev);
  }

  /** sriov_enable ends with a KOBJ_CHANGE on the PF (facts/kernel.md 5.3 step 8); 0 VFs: no-op. */
  pciEnableSriov(dev: Device, numVfs: number): void {
    this.pci.enableSriov(pdevOf(dev), numVfs);
    if (numVfs > 0) this.core.uevent(dev, 'change');
  }

  /** sriov_disable sends no uevent of its own: only the VFs' unbind and remove (facts/kernel.md 5.3). */
  pciDisableSriov(dev: Device): void {
    this.pci.disableSriov(pdevOf(dev));
  }

  pciNumVf(dev: Device): number {
    return pdevOf(dev).sriov?.numVfs ?? 0;
  }

  pciSriovSetTotalVfs(dev: Device, numVfs: number): void {
    const iov = pdevOf(dev).sriov;
    if (iov === undefined) throw errnoError('ENOSYS', `${dev.name} is not a PF`);
    if (numVfs > iov.totalVfs) throw errnoError('EINVAL', `${numVfs} > TotalVFs ${iov.totalVfs}`);
    iov.driverMaxVfs = numVfs === 0 ? iov.totalVfs : numVfs;
  }

  pciIovGetPfDrvdata(vf: Device, pfDriver: Driver): unknown {
    const p = pdevOf(vf);
    if (!p.isVirtfn || p.physfn === undefined) throw errnoError('EINVAL', `${vf.name} is not a VF`);
    const pf = this.pciDevice(p.physfn);
    if (pf.driver !== pfDriver) throw errnoError('EINVAL', `PF ${pf.name} is not bound to ${pfDriver.name}`);
    return pf.driverData;
  }

  pciEnableDevice(dev: Device): void {
    this.pci.enableDevice(pdevOf(dev));
  }

  pciDisableDevice(dev: Device): void {
    this.pci.disableDevice(pdevOf(dev));
  }

  pciSetMaster(dev: Device): void {
    this.pci.setMaster(pdevOf(dev));
  }

  pciResetFunction(dev: Device, chargeWait = true): number {
    return this.pci.resetFunction(pdevOf(dev), chargeWait);
  }

  pciReadConfig(dev: Device, offset: number, width: 1 | 2 | 4): number {
    const p = pdevOf(dev);
    return this.pci.cfg.read(p.rid, offset, width);
  }

  pciWriteConfig(dev: Device, offset: number, width: 1 | 2 | 4, value: number): void {
    const p = pdevOf(dev);
    this.pci.cfg.write(p.rid, offset, width, value);
  }

  pciIomap(dev: Device, bar: number, offset?: number, length?: number): IoMem {
    return this.io.pciIomap(dev, bar, offset, length);
  }

  get ram(): KernelRam {
    return this.io.ram;
  }

  dmaAllocCoherent(dev: Device, sizeBytes: number, alignBytes?: number): DmaCoherent {
    return this.io.dmaAllocCoherent(dev, sizeBytes, alignBytes);
  }

  dmaFreeCoherent(dev: Device, buf: DmaCoherent): void {
    this.io.dmaFreeCoherent(dev, buf);
  }

  pciRequestMsixVector(dev: Device, index: number, handler: () => void): MsixVector | undefined {
    return this.io.pciRequestMsixVector(dev, index, handler);
  }

  pciFreeMsixVectors(dev: Device): void {
    this.io.pciFreeMsixVectors(dev);
  }
}
