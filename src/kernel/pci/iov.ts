/**
 * SR-IOV plumbing (drivers/pci/iov.c; facts/kernel.md 5.2-5.3): reading the capability at scan time
 * (sriov_init), and enabling and disabling VFs with the kernel's checks, waits and errnos.
 */
import { errnoError, hex } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { KernelLog } from '../log.js';
import type { PciDev, PciSriov } from './pci-dev.js';
import type { ConfigCycles } from './probe.js';
import { PCI_IOV_RESOURCES, type Resource, resourceSize } from './resource.js';

/**
 * sriov_init: read the capability, set ARI Capable Hierarchy when the PF's bus has ARI forwarding, size
 * the VF BARs (the IOV resources span TotalVFs VFs). Rejects a capability whose offset or stride is
 * zero where VFs would need them (facts 5.2; UNVERIFIED errno, the model logs and skips SR-IOV).
 */
export function sriovInit(cfg: ConfigCycles, dev: PciDev, pos: number, log: KernelLog): PciSriov | undefined {
  const rid = dev.rid;
  let ctrl = cfg.read(rid, pos + pci.PCI_SRIOV_CTRL, 2);
  if ((ctrl & pci.PCI_SRIOV_CTRL_VFE) !== 0) {
    // Firmware left VFs enabled: Linux turns them off and waits before taking over.
    cfg.write(rid, pos + pci.PCI_SRIOV_CTRL, 2, 0);
  }
  ctrl = dev.ariEnabled ? pci.PCI_SRIOV_CTRL_ARI : 0;
  cfg.write(rid, pos + pci.PCI_SRIOV_CTRL, 2, ctrl);
  const totalVfs = cfg.read(rid, pos + pci.PCI_SRIOV_TOTAL_VF, 2);
  if (totalVfs === 0) return undefined;
  // Lay out for the maximum to learn offset and stride, as compute_max_vf_buses does.
  cfg.write(rid, pos + pci.PCI_SRIOV_NUM_VF, 2, totalVfs);
  const offset = cfg.read(rid, pos + pci.PCI_SRIOV_VF_OFFSET, 2);
  const stride = cfg.read(rid, pos + pci.PCI_SRIOV_VF_STRIDE, 2);
  if (offset === 0 || (totalVfs > 1 && stride === 0)) {
    log.err(`pci ${dev.name}: SR-IOV: invalid VF offset ${offset} / stride ${stride}`);
    return undefined;
  }
  cfg.write(rid, pos + pci.PCI_SRIOV_NUM_VF, 2, 0);
  for (let i = 0; i < pci.PCI_SRIOV_NUM_BARS; ) {
    const { res, regs } = cfg.sizeBar(rid, pos + pci.PCI_SRIOV_BAR + 4 * i);
    if (res.flags !== 0) {
      const perVf = resourceSize(res);
      dev.resources[PCI_IOV_RESOURCES + i] = {
        start: res.start,
        end: res.start + perVf * BigInt(totalVfs) - 1n,
        flags: res.flags,
      };
    }
    i += regs;
  }
  return {
    pos,
    totalVfs,
    initialVfs: cfg.read(rid, pos + pci.PCI_SRIOV_INITIAL_VF, 2),
    vfDevice: cfg.read(rid, pos + pci.PCI_SRIOV_VF_DID, 2),
    capabilities: cfg.read(rid, pos + pci.PCI_SRIOV_CAP, 4),
    ctrl,
    numVfs: 0,
    offset: cfg.read(rid, pos + pci.PCI_SRIOV_VF_OFFSET, 2),
    stride: cfg.read(rid, pos + pci.PCI_SRIOV_VF_STRIDE, 2),
    driversAutoprobe: true,
    driverMaxVfs: totalVfs,
    vfs: [],
  };
}

/** pci_iov_set_numvfs: write NumVFs and re-read offset and stride, which may depend on it. */
export function setNumVfs(cfg: ConfigCycles, dev: PciDev, iov: PciSriov, n: number): void {
  cfg.write(dev.rid, iov.pos + pci.PCI_SRIOV_NUM_VF, 2, n);
  iov.offset = cfg.read(dev.rid, iov.pos + pci.PCI_SRIOV_VF_OFFSET, 2);
  iov.stride = cfg.read(dev.rid, iov.pos + pci.PCI_SRIOV_VF_STRIDE, 2);
}

/** pci_iov_virtfn_bus / pci_iov_virtfn_devfn. */
export function virtfnRid(dev: PciDev, iov: PciSriov, index: number): number {
  return dev.rid + iov.offset + iov.stride * index;
}

/** The resource VF `index` gets for IOV resource `bar` (PF's IOV resource start + index × per-VF size). */
export function vfResource(dev: PciDev, iov: PciSriov, bar: number, index: number): Resource | undefined {
  const r = dev.resources[PCI_IOV_RESOURCES + bar];
  if (r === undefined || r.flags === 0) return undefined;
  const perVf = resourceSize(r) / BigInt(iov.totalVfs);
  const start = r.start + perVf * BigInt(index);
  return { start, end: start + perVf - 1n, flags: r.flags };
}

/**
 * The checks of sriov_enable() that come before any write (facts 5.3 steps 1-3), in the kernel's order.
 * `busEnd` is the last bus number of the PF's bus range (the upstream bridge's subordinate bus).
 */
export function checkSriovEnable(dev: PciDev, iov: PciSriov, n: number): void {
  if (iov.numVfs > 0) throw errnoError('EINVAL', 'VFs already enabled');
  const migrationCapable = (iov.capabilities & pci.PCI_SRIOV_CAP_VFM) !== 0;
  const initial = iov.initialVfs;
  if (initial > iov.totalVfs || (!migrationCapable && initial !== iov.totalVfs)) {
    throw errnoError('EIO', `InitialVFs ${initial} inconsistent with TotalVFs ${iov.totalVfs}`);
  }
  if (n > iov.totalVfs || (!migrationCapable && n > initial)) {
    throw errnoError('EINVAL', `${n} VFs requested, ${iov.totalVfs} supported`);
  }
  for (let i = 0; i < pci.PCI_SRIOV_NUM_BARS; i++) {
    const r = dev.resources[PCI_IOV_RESOURCES + i];
    if (r !== undefined && r.flags !== 0 && r.start === 0n) {
      throw errnoError('ENOMEM', `${dev.name}: not enough MMIO resources for SR-IOV`);
    }
  }
}

export function describeBusError(
  dev: PciDev,
  n: number,
  bus: number,
  busStart: number,
  busEnd: number,
): string {
  return `pci ${dev.name}: can't enable ${n} VFs (bus ${hex(bus, 2)} out of range of [bus ${hex(busStart, 2)}-${hex(busEnd, 2)}])`;
}
