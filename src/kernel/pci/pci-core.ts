/**
 * The PCI core of one host kernel for one PCI domain: scans the hierarchy by config cycles, keeps the
 * pci_dev list, enables and disables SR-IOV. Driver binding, sysfs and uevents build on it (issue 3).
 */
import {
  type Bdf,
  type CostModel,
  compareBdf,
  errnoError,
  hex,
  type Rid,
  sameBdf,
  type VirtualClock,
} from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { KernelLog } from '../log.js';
import type { PciConfigAccess } from './config-access.js';
import { checkSriovEnable, describeBusError, setNumVfs, sriovInit, vfResource, virtfnRid } from './iov.js';
import type { PciDev } from './pci-dev.js';
import { bdfAt, ConfigCycles, formatResource, functionPresent, setupDevice } from './probe.js';
import { IORESOURCE_IO, IORESOURCE_MEM } from './resource.js';

export interface PciCoreOptions {
  readonly access: PciConfigAccess;
  readonly domain: number;
  readonly clock: VirtualClock;
  /** Costs for the device at a BDF (host costs with that device's override). */
  readonly costsFor: (at: Bdf | undefined) => CostModel;
  readonly log: KernelLog;
  /** The driver core's view: device_add, pci_bus_add_device (matching allowed), removal. */
  readonly events?: PciDeviceEvents;
}

export interface PciDeviceEvents {
  /** pci_device_add: the device exists (sysfs, uevent) but does not match drivers yet. */
  added(dev: PciDev): void;
  /** pci_bus_add_device: matching is allowed and drivers are tried. */
  ready(dev: PciDev): void;
  /** pci_stop_and_remove_bus_device: unbind and delete. */
  removed(dev: PciDev): void;
}

export class PciCore {
  readonly cfg: ConfigCycles;
  readonly #o: PciCoreOptions;
  #devices: PciDev[] = [];
  /** The same devices by routing ID (one domain per core): find() without a scan of the list. */
  readonly #byRid = new Map<number, PciDev>();

  constructor(o: PciCoreOptions) {
    this.#o = o;
    this.cfg = new ConfigCycles(o.access, o.domain);
  }

  get log(): KernelLog {
    return this.#o.log;
  }

  /** Every pci_dev, sorted by domain, bus, devfn (the order of /sys/bus/pci/devices). */
  get devices(): readonly PciDev[] {
    return this.#devices;
  }

  find(at: Bdf): PciDev | undefined {
    const dev = this.#byRid.get((at.bus << 8) | at.devfn);
    return dev !== undefined && sameBdf(dev.bdf, at) ? dev : undefined;
  }

  /** pci_scan_root_bus: scan bus 0 and everything behind its bridges. */
  scan(): void {
    this.#scanBus(0, undefined, false);
  }

  /** pci_bus_add_devices: let every scanned device that is not yet matchable match drivers. */
  busAddDevices(): void {
    for (const d of [...this.#devices]) {
      if (this.#ready.has(d)) continue;
      this.#ready.add(d);
      this.#o.events?.ready(d);
    }
  }

  readonly #ready = new WeakSet<PciDev>();

  /** Insert in BDF order: VFs arrive in ascending order, so this is usually an append. */
  #add(dev: PciDev): void {
    const list = this.#devices;
    let lo = list.length;
    if (lo > 0 && compareBdf(list[lo - 1]!.bdf, dev.bdf) > 0) {
      lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareBdf(list[mid]!.bdf, dev.bdf) <= 0) lo = mid + 1;
        else hi = mid;
      }
    }
    list.splice(lo, 0, dev);
    this.#byRid.set(dev.rid, dev);
    this.#o.events?.added(dev);
  }

  /** Take devices out of the list and the index. */
  #forget(gone: ReadonlySet<PciDev>): void {
    this.#devices = this.#devices.filter((d) => !gone.has(d));
    for (const d of gone) if (this.#byRid.get(d.rid) === d) this.#byRid.delete(d.rid);
  }

  #scanBus(bus: number, upstream: PciDev | undefined, onlyOneChild: boolean): void {
    const cfg = this.cfg;
    let ari = false;
    if (upstream !== undefined) ari = this.#configureAri(upstream, bus);
    if (ari) {
      // With ARI the function numbers follow the Next Function Number chain from function 0.
      let fn = 0;
      for (let guard = 0; guard < 256; guard++) {
        const rid = ((bus << 8) | fn) as Rid;
        if (!functionPresent(cfg, rid)) break;
        this.#setupFunction(rid, upstream, ari);
        const ariPos = cfg.findExtCapability(rid, pci.PCI_EXT_CAP_ID_ARI);
        const next =
          ariPos === undefined
            ? 0
            : (cfg.read(rid, ariPos + pci.PCI_ARI_CAP, 2) >> pci.PCI_ARI_CAP_NFN_SHIFT) & 0xff;
        if (next <= fn) break;
        fn = next;
      }
      return;
    }
    const devices = onlyOneChild ? 1 : 32;
    for (let d = 0; d < devices; d++) {
      const fn0 = ((bus << 8) | (d << 3)) as Rid;
      if (!functionPresent(cfg, fn0)) continue;
      const multi = (cfg.read(fn0, pci.PCI_HEADER_TYPE, 1) & pci.PCI_HEADER_TYPE_MFD) !== 0;
      for (let f = 0; f < (multi ? 8 : 1); f++) {
        const rid = ((bus << 8) | (d << 3) | f) as Rid;
        if (f === 0 || functionPresent(cfg, rid)) this.#setupFunction(rid, upstream, false);
      }
    }
  }

  #setupFunction(rid: Rid, upstream: PciDev | undefined, ari: boolean): void {
    const known = this.#byRid.get(rid);
    if (known !== undefined && !known.isVirtfn) {
      if (known.hdrType === pci.PCI_HEADER_TYPE_BRIDGE)
        this.#scanBus(known.secondaryBus, known, known.pcieCap !== undefined);
      return;
    }
    const dev = setupDevice(
      this.cfg,
      bdfAt(this.#o.domain, rid),
      rid,
      { upstream, ariEnabled: ari },
      this.#o.log,
    );
    const pin = this.cfg.read(rid, pci.PCI_INTERRUPT_PIN, 1);
    if (pin !== 0) {
      // Legacy INTx swizzle onto GSIs 16-19; the line register holds what firmware routed.
      dev.irq = 16 + ((((rid >> 3) & 0x1f) + pin - 1 + (rid >> 8)) % 4);
      this.cfg.write(rid, pci.PCI_INTERRUPT_LINE, 1, dev.irq);
    }
    this.#add(dev);
    const pos = this.cfg.findExtCapability(rid, pci.PCI_EXT_CAP_ID_SRIOV);
    if (pos !== undefined && dev.hdrType === pci.PCI_HEADER_TYPE_NORMAL)
      dev.sriov = sriovInit(this.cfg, dev, pos, this.#o.log);
    if (dev.hdrType === pci.PCI_HEADER_TYPE_BRIDGE && dev.secondaryBus > rid >> 8) {
      const isPciePort = dev.pcieCap !== undefined;
      this.#scanBus(dev.secondaryBus, dev, isPciePort);
    }
  }

  /** pci_configure_ari: enable ARI forwarding on the bridge when the device at function 0 has ARI. */
  #configureAri(bridge: PciDev, bus: number): boolean {
    const cap = bridge.pcieCap;
    const fn0 = (bus << 8) as Rid;
    if (cap === undefined || !functionPresent(this.cfg, fn0)) return false;
    const supported =
      (this.cfg.read(bridge.rid, cap + pci.PCI_EXP_DEVCAP2, 4) & pci.PCI_EXP_DEVCAP2_ARI) !== 0;
    const devHasAri = this.cfg.findExtCapability(fn0, pci.PCI_EXT_CAP_ID_ARI) !== undefined;
    const ctl2 = this.cfg.read(bridge.rid, cap + pci.PCI_EXP_DEVCTL2, 2);
    const on = supported && devHasAri;
    this.cfg.write(
      bridge.rid,
      cap + pci.PCI_EXP_DEVCTL2,
      2,
      on ? ctl2 | pci.PCI_EXP_DEVCTL2_ARI : ctl2 & ~pci.PCI_EXP_DEVCTL2_ARI,
    );
    return on;
  }

  /**
   * sriov_enable (facts/kernel.md 5.3): checks, NumVFs, the bus-range check, VF Enable + VF MSE, the
   * 100 ms wait, then each VF is set up. Throws an errno error and leaves state unchanged on refusal.
   */
  enableSriov(dev: PciDev, n: number): void {
    const iov = dev.sriov;
    if (iov === undefined) throw errnoError('ENODEV', `${dev.name} has no SR-IOV capability`);
    if (n === 0) return;
    checkSriovEnable(dev, iov, n);
    setNumVfs(this.cfg, dev, iov, n);
    const lastBus = virtfnRid(dev, iov, n - 1) >> 8;
    const busStart = dev.upstream?.secondaryBus ?? 0;
    const busEnd = dev.upstream?.subordinateBus ?? 0;
    if (virtfnRid(dev, iov, n - 1) > 0xffff || lastBus > busEnd) {
      this.#o.log.err(describeBusError(dev, n, lastBus, busStart, busEnd));
      setNumVfs(this.cfg, dev, iov, 0);
      throw errnoError('ENOMEM', `last VF on bus ${hex(lastBus, 2)}, beyond bus ${hex(busEnd, 2)}`);
    }
    iov.ctrl |= pci.PCI_SRIOV_CTRL_VFE | pci.PCI_SRIOV_CTRL_MSE;
    this.cfg.write(dev.rid, iov.pos + pci.PCI_SRIOV_CTRL, 2, iov.ctrl);
    this.#o.clock.advance(this.#o.costsFor(dev.bdf).vfEnableWaitNs);
    const initial = Math.min(n, iov.initialVfs);
    for (let i = 0; i < initial; i++) this.#addVirtfn(dev, i);
    iov.numVfs = n;
  }

  /** pci_iov_add_virtfn: set up VF `index` and give it its share of the PF's IOV resources. */
  #addVirtfn(pf: PciDev, index: number): void {
    const iov = pf.sriov!;
    const rid = virtfnRid(pf, iov, index) as Rid;
    const vf = setupDevice(
      this.cfg,
      bdfAt(this.#o.domain, rid),
      rid,
      { upstream: pf.upstream, ariEnabled: pf.ariEnabled, virtfn: { pf, index } },
      this.#o.log,
    );
    for (let i = 0; i < pci.PCI_SRIOV_NUM_BARS; i++) {
      const r = vfResource(pf, iov, i, index);
      if (r === undefined) continue;
      vf.resources[i] = r;
      this.#o.log.info(`pci ${vf.name}: ${formatResource(r, `VF BAR ${i}`)}`);
    }
    iov.vfs.push(vf);
    this.#add(vf);
    this.#ready.add(vf);
    this.#o.events?.ready(vf);
  }

  /** sriov_disable: remove the VFs in ascending order, clear VF Enable + MSE, wait 1 s, NumVFs = 0. */
  disableSriov(dev: PciDev): void {
    const iov = dev.sriov;
    if (iov === undefined || iov.numVfs === 0) return;
    for (const vf of iov.vfs) this.#o.events?.removed(vf);
    this.#forget(new Set(iov.vfs));
    iov.vfs = [];
    iov.ctrl &= ~(pci.PCI_SRIOV_CTRL_VFE | pci.PCI_SRIOV_CTRL_MSE);
    this.cfg.write(dev.rid, iov.pos + pci.PCI_SRIOV_CTRL, 2, iov.ctrl);
    this.#o.clock.advance(this.#o.costsFor(dev.bdf).vfDisableWaitNs);
    setNumVfs(this.cfg, dev, iov, 0);
    iov.numVfs = 0;
  }

  /** pci_enable_device: the first enable turns on memory (and I/O) decoding. */
  enableDevice(dev: PciDev): void {
    if (dev.enableCnt++ > 0) return;
    const hasIo = dev.resources.slice(0, 6).some((r) => (r.flags & IORESOURCE_IO) !== 0);
    const hasMem = dev.resources.slice(0, 6).some((r) => (r.flags & IORESOURCE_MEM) !== 0);
    const cmd = this.cfg.read(dev.rid, pci.PCI_COMMAND, 2);
    const want = cmd | (hasMem ? pci.PCI_COMMAND_MEMORY : 0) | (hasIo ? pci.PCI_COMMAND_IO : 0);
    if (want !== cmd) this.cfg.write(dev.rid, pci.PCI_COMMAND, 2, want);
  }

  /** pci_disable_device: the last disable turns off bus mastering (decoding stays, as in Linux). */
  disableDevice(dev: PciDev): void {
    if (dev.enableCnt === 0) return;
    if (--dev.enableCnt > 0) return;
    const cmd = this.cfg.read(dev.rid, pci.PCI_COMMAND, 2);
    if ((cmd & pci.PCI_COMMAND_MASTER) !== 0)
      this.cfg.write(dev.rid, pci.PCI_COMMAND, 2, cmd & ~pci.PCI_COMMAND_MASTER);
  }

  /** pci_set_master. */
  setMaster(dev: PciDev): void {
    const cmd = this.cfg.read(dev.rid, pci.PCI_COMMAND, 2);
    this.cfg.write(dev.rid, pci.PCI_COMMAND, 2, cmd | pci.PCI_COMMAND_MASTER);
  }

  /** Whether the function can be reset by FLR (the only reset method modeled): DevCap FLR. */
  canFlr(dev: PciDev): boolean {
    if (dev.pcieCap === undefined) return false;
    return (this.cfg.read(dev.rid, dev.pcieCap + pci.PCI_EXP_DEVCAP, 4) & pci.PCI_EXP_DEVCAP_FLR) !== 0;
  }

  /**
   * pci_reset_function with FLR: save the header and PCIe control state, Initiate FLR, wait for
   * completion, restore; returns the completion wait (flrNs). The wait is charged on the clock unless
   * `chargeWait` is false — VFIO schedules it itself under its dev_set locks. A function without FLR
   * is refused with EINVAL.
   */
  resetFunction(dev: PciDev, chargeWait = true): number {
    const cap = dev.pcieCap;
    if (cap === undefined || !this.canFlr(dev)) throw errnoError('EINVAL', `${dev.name} has no reset method`);
    const saved: number[] = [];
    for (let at = 4; at < 0x40; at += 4) saved.push(this.cfg.read(dev.rid, at, 4));
    const devctl = this.cfg.read(dev.rid, cap + pci.PCI_EXP_DEVCTL, 2);
    this.cfg.write(dev.rid, cap + pci.PCI_EXP_DEVCTL, 2, devctl | pci.PCI_EXP_DEVCTL_BCR_FLR);
    const waitNs = this.#o.costsFor(dev.bdf).flrNs;
    if (chargeWait) this.#o.clock.advance(waitNs);
    this.cfg.write(dev.rid, cap + pci.PCI_EXP_DEVCTL, 2, devctl);
    // Restore as pci_restore_config_space does: from the top down, Command last.
    for (let i = saved.length - 1; i >= 0; i--) {
      const at = 4 + 4 * i;
      if (at !== pci.PCI_COMMAND) this.cfg.write(dev.rid, at, 4, saved[i]!);
    }
    this.cfg.write(dev.rid, pci.PCI_COMMAND, 2, saved[0]! & 0xffff);
    return waitNs;
  }

  /**
   * pci_stop_and_remove_bus_device for one function: its VFs go first (SR-IOV off), then the device
   * leaves the driver core and the list. A later rescan finds physical functions again.
   */
  removeDevice(dev: PciDev): void {
    // A bridge's subordinate buses go first, deepest devices first (pci_remove_bus).
    if (dev.hdrType === pci.PCI_HEADER_TYPE_BRIDGE) {
      for (const child of this.#devices.filter((d) => d.upstream === dev && !d.isVirtfn).reverse()) {
        if (this.#devices.includes(child)) this.removeDevice(child);
      }
    }
    if (dev.sriov !== undefined && dev.sriov.numVfs > 0) this.disableSriov(dev);
    if (dev.isVirtfn && dev.physfn?.sriov !== undefined) {
      dev.physfn.sriov.vfs = dev.physfn.sriov.vfs.filter((v) => v !== dev);
    }
    this.#o.events?.removed(dev);
    this.#forget(new Set([dev]));
  }

  /** pci_rescan_bus: scan again; only functions not already known are added. */
  rescan(): void {
    this.#scanBus(0, undefined, false);
    this.busAddDevices();
  }

  /** A config read on behalf of userspace (sysfs `config`): bytes beyond cfg_size read as absent. */
  readConfig(dev: PciDev, length: number): Uint8Array {
    const out = new Uint8Array(Math.min(length, dev.cfgSize));
    for (let at = 0; at < out.length; at += 4) {
      const v = this.cfg.read(dev.rid, at, 4);
      out[at] = v & 0xff;
      out[at + 1] = (v >>> 8) & 0xff;
      out[at + 2] = (v >>> 16) & 0xff;
      out[at + 3] = (v >>> 24) & 0xff;
    }
    return out;
  }
}
