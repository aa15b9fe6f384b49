/**
 * A driver's directory under /sys/bus/<bus>/drivers/<name> (drivers/base/bus.c, drivers/pci/pci-driver.c):
 * bind, unbind, uevent, new_id and remove_id (PCI), a `module` link, and one link per bound device.
 */
import { errnoError } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { Device, Driver, PciDeviceId } from '../driver-core/device.js';
import type { Kernel } from '../kernel.js';
import type { PciDev } from '../pci/pci-dev.js';
import { pciIdMatches } from '../pci/pci-driver.js';
import { attr, dir, link, type SysfsNode } from '../sysfs/index.js';
import { scanHexFields } from './kstrto.js';
import { devicePath, driverPath, modulePath, relativeTarget } from './paths.js';

/** The device name a bind/unbind buffer names (bus_find_device_by_name uses sysfs_streq). */
const deviceName = (text: string): string => (text.endsWith('\n') ? text.slice(0, -1) : text);

export function driverDir(k: Kernel, drv: Driver): SysfsNode {
  const here = driverPath(drv);
  const files = (): [string, SysfsNode][] => {
    const out: [string, SysfsNode][] = [
      ['bind', attr({ mode: 0o200, store: (t) => k.core.bind(drv, deviceName(t)) })],
      ['unbind', attr({ mode: 0o200, store: (t) => k.core.unbind(drv, deviceName(t)) })],
      ['uevent', attr({ mode: 0o200, store: () => undefined })],
      ['module', link(relativeTarget(here, modulePath(drv.module)))],
    ];
    if (drv.data.bus === 'pci') {
      out.push(['new_id', attr({ mode: 0o200, store: (t) => newIdStore(k, drv, t) })]);
      out.push(['remove_id', attr({ mode: 0o200, store: (t) => removeIdStore(drv, t) })]);
    }
    return out;
  };
  const deviceLink = (dev: Device): SysfsNode => link(() => relativeTarget(here, devicePath(dev)));
  return dir(
    () => {
      const out = files();
      for (const dev of k.core.devices(drv.data.bus)) {
        if (dev.driver === drv) out.push([dev.name, deviceLink(dev)]);
      }
      return out;
    },
    // A path walk (`echo BDF > unbind`) looks one name up without listing every bound device.
    (name) => {
      const file = files().find(([n]) => n === name);
      if (file !== undefined) return file[1];
      const dev = k.core.findDevice(drv.data.bus, name);
      return dev !== undefined && dev.driver === drv ? deviceLink(dev) : undefined;
    },
  );
}

/**
 * new_id_store: "vendor device [subvendor [subdevice [class [class_mask [driver_data]]]]]" in hex.
 * Fewer than 2 fields: EINVAL. Unless all 7 are given, an id the driver already matches: EEXIST.
 * driver_data must equal an existing id table entry's (when the driver has a table): EINVAL.
 * Then the dynamic id is added and the driver attaches to matching unbound devices.
 */
function newIdStore(k: Kernel, drv: Driver, text: string): void {
  if (drv.data.bus !== 'pci') throw errnoError('EINVAL');
  const f = scanHexFields(text, 7);
  if (f.length < 2) throw errnoError('EINVAL', 'new_id needs at least vendor and device');
  const id: PciDeviceId = {
    vendor: f[0]!,
    device: f[1]!,
    subvendor: f[2] ?? pci.PCI_ANY_ID,
    subdevice: f[3] ?? pci.PCI_ANY_ID,
    classCode: f[4] ?? 0,
    classMask: f[5] ?? 0,
    driverData: f[6] ?? 0,
  };
  if (f.length !== 7) {
    // A throwaway pci_dev with these IDs (subsystem fields are 16 bits in struct pci_dev).
    const probe = {
      vendor: id.vendor & 0xffff,
      device: id.device & 0xffff,
      subsystemVendor: id.subvendor & 0xffff,
      subsystemDevice: id.subdevice & 0xffff,
      classCode: id.classCode,
    } as PciDev;
    const known = [...drv.data.dynIds, ...drv.data.idTable.filter((x) => !x.overrideOnly)];
    if (known.some((x) => pciIdMatches(x, probe))) throw errnoError('EEXIST', 'id already handled');
  }
  if (drv.data.idTable.length > 0 && !drv.data.idTable.some((x) => x.driverData === id.driverData)) {
    throw errnoError('EINVAL', `driver_data ${id.driverData} is not in the id table`);
  }
  drv.data.dynIds.push(id);
  k.core.driverAttach(drv);
}

/** remove_id_store: the same fields (without driver_data); ENODEV when no dynamic id matches. */
function removeIdStore(drv: Driver, text: string): void {
  if (drv.data.bus !== 'pci') throw errnoError('EINVAL');
  const f = scanHexFields(text, 6);
  if (f.length < 2) throw errnoError('EINVAL', 'remove_id needs at least vendor and device');
  const subvendor = f[2] ?? pci.PCI_ANY_ID;
  const subdevice = f[3] ?? pci.PCI_ANY_ID;
  const classCode = f[4] ?? 0;
  const classMask = f[5] ?? 0;
  const i = drv.data.dynIds.findIndex(
    (id) =>
      id.vendor === f[0] &&
      id.device === f[1] &&
      (subvendor === pci.PCI_ANY_ID || id.subvendor === subvendor) &&
      (subdevice === pci.PCI_ANY_ID || id.subdevice === subdevice) &&
      !((id.classCode ^ classCode) & classMask),
  );
  if (i < 0) throw errnoError('ENODEV', 'no such dynamic id');
  drv.data.dynIds.splice(i, 1);
}
