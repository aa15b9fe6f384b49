/**
 * The attributes of a PCI device directory (drivers/pci/pci-sysfs.c, iov.c; facts/kernel.md 5.4 and
 * 5.6) with Linux's formats and errors.
 */
import { errnoError, hex } from '../../base/index.js';
import type { Device } from '../driver-core/device.js';
import type { Kernel } from '../kernel.js';
import type { PciDev } from '../pci/pci-dev.js';
import { pciModalias } from '../pci/pci-driver.js';
import { attr, type SysfsNode } from '../sysfs/index.js';
import { kstrtobool, kstrtou16, kstrtoul } from './kstrto.js';

/** PAGE_SIZE - 1: the longest driver_override driver_set_override accepts, minus one. */
const DRIVER_OVERRIDE_MAX = 4095;
/** Resource lines: PCI_BRIDGE_RESOURCES (13) for endpoints, DEVICE_COUNT_RESOURCE (17) for bridges. */
const RESOURCE_LINES_ENDPOINT = 13;
const RESOURCE_LINES_BRIDGE = 17;

const h4 = (n: number): string => `0x${hex(n, 4)}\n`;

export function pciDeviceAttrs(k: Kernel, dev: Device, p: PciDev): [string, SysfsNode][] {
  const out: [string, SysfsNode][] = [
    ['vendor', attr({ show: () => h4(p.vendor) })],
    ['device', attr({ show: () => h4(p.device) })],
    ['subsystem_vendor', attr({ show: () => h4(p.subsystemVendor) })],
    ['subsystem_device', attr({ show: () => h4(p.subsystemDevice) })],
    ['class', attr({ show: () => `0x${hex(p.classCode, 6)}\n` })],
    ['revision', attr({ show: () => `0x${hex(p.revision, 2)}\n` })],
    ['irq', attr({ show: () => `${p.irq}\n` })],
    ['modalias', attr({ show: () => `${pciModalias(p)}\n` })],
    ['config', attr({ mode: 0o644, sizeBytes: p.cfgSize, show: () => k.pci.readConfig(p, p.cfgSize) })],
    ['resource', attr({ show: () => resourceText(p) })],
    [
      'enable',
      attr({ mode: 0o600, show: () => `${p.enableCnt}\n`, store: (t) => enableStore(k, dev, p, t) }),
    ],
    [
      'driver_override',
      attr({ show: () => `${dev.driverOverride ?? '(null)'}\n`, store: (t) => driverOverrideStore(dev, t) }),
    ],
    ['remove', attr({ mode: 0o200, store: (t) => removeStore(k, p, t) })],
  ];
  if (k.pci.canFlr(p)) out.push(['reset', attr({ mode: 0o200, store: (t) => resetStore(k, p, t) })]);
  const iov = p.sriov;
  if (iov !== undefined) {
    out.push(
      ['sriov_totalvfs', attr({ show: () => `${iov.driverMaxVfs}\n` })],
      ['sriov_numvfs', attr({ show: () => `${iov.numVfs}\n`, store: (t) => sriovNumvfsStore(k, dev, p, t) })],
      ['sriov_offset', attr({ show: () => `${iov.offset}\n` })],
      ['sriov_stride', attr({ show: () => `${iov.stride}\n` })],
      ['sriov_vf_device', attr({ show: () => `${iov.vfDevice.toString(16)}\n` })],
      [
        'sriov_drivers_autoprobe',
        attr({
          show: () => `${iov.driversAutoprobe ? 1 : 0}\n`,
          store: (t) => {
            iov.driversAutoprobe = kstrtobool(t);
          },
        }),
      ],
    );
  }
  return out;
}

function resourceText(p: PciDev): string {
  const lines = p.hdrType === 1 ? RESOURCE_LINES_BRIDGE : RESOURCE_LINES_ENDPOINT;
  let out = '';
  for (let i = 0; i < lines; i++) {
    const r = p.resources[i];
    const [s, e, f] = r === undefined || r.flags === 0 ? [0n, 0n, 0n] : [r.start, r.end, BigInt(r.flags)];
    out += `0x${hex(s, 16)} 0x${hex(e, 16)} 0x${hex(f, 16)}\n`;
  }
  return out;
}

/** driver_set_override: at most PAGE_SIZE-1 bytes; one trailing newline stripped; empty clears. */
function driverOverrideStore(dev: Device, text: string): void {
  if (text.length >= DRIVER_OVERRIDE_MAX) throw errnoError('EINVAL', 'driver_override too long');
  const cut = text.indexOf('\n');
  const value = cut >= 0 ? text.slice(0, cut) : text;
  dev.driverOverride = value === '' ? undefined : value;
}

/** sriov_numvfs_store (facts/kernel.md 5.4): parse, range, no-op, driver checks, then configure. */
function sriovNumvfsStore(k: Kernel, dev: Device, p: PciDev, text: string): void {
  const iov = p.sriov!;
  const n = kstrtou16(text, 0);
  if (n > iov.driverMaxVfs) throw errnoError('ERANGE', `${n} > sriov_totalvfs ${iov.driverMaxVfs}`);
  if (n === iov.numVfs) return;
  const drv = dev.driver;
  if (drv === undefined) throw errnoError('ENOENT', `${dev.name}: no driver bound`);
  if (drv.data.bus !== 'pci' || drv.data.sriovConfigure === undefined) {
    k.log.info(`pci ${dev.name}: Driver does not support SRIOV configuration via sysfs`);
    throw errnoError('ENOENT', `${drv.name} has no sriov_configure`);
  }
  if (n === 0) {
    drv.data.sriovConfigure(dev, 0);
    return;
  }
  if (iov.numVfs > 0) {
    k.log.warn(`pci ${dev.name}: ${iov.numVfs} VFs already enabled. Disable before enabling ${n} VFs`);
    throw errnoError('EBUSY', 'VFs already enabled');
  }
  const ret = drv.data.sriovConfigure(dev, n);
  if (ret !== n) k.log.warn(`pci ${dev.name}: ${n} VFs requested; only ${ret} enabled`);
}

function enableStore(k: Kernel, dev: Device, p: PciDev, text: string): void {
  const on = kstrtobool(text);
  if (on) {
    k.pciEnableDevice(dev);
    return;
  }
  if (p.enableCnt === 0) throw errnoError('EIO', `${dev.name} is not enabled`);
  k.pciDisableDevice(dev);
}

function resetStore(k: Kernel, p: PciDev, text: string): void {
  if (kstrtoul(text, 0) !== 1) throw errnoError('EINVAL', 'write 1 to reset');
  k.pci.resetFunction(p);
}

function removeStore(k: Kernel, p: PciDev, text: string): void {
  if (kstrtoul(text, 0) === 0) return;
  k.pci.removeDevice(p);
}
