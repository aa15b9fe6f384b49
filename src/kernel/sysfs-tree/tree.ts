/**
 * The /sys tree of one kernel, generated from the live objects on every lookup: /sys/devices (the
 * canonical device directories), /sys/bus/{pci,auxiliary} (device links, driver directories and the
 * bus files), /sys/module. Because nothing is cached, links, bound drivers and VF lists always agree
 * with the kernel's state.
 */
import { errnoError } from '../../base/index.js';
import type { Device } from '../driver-core/device.js';
import type { Kernel } from '../kernel.js';
import { formatParamValue, type ModuleParamDef } from '../modules/params.js';
import type { PciDev } from '../pci/pci-dev.js';
import { attr, dir, link, type SysfsDir, type SysfsNode, staticDir } from '../sysfs/index.js';
import { driverDir } from './driver-attrs.js';
import { kstrtoul, sysfsStrip } from './kstrto.js';
import { busPath, devicePath, driverPath, modulePath, relativeTarget } from './paths.js';
import { pciDeviceAttrs } from './pci-attrs.js';

type BusName = 'pci' | 'auxiliary';

export function buildSysfsRoot(k: Kernel): SysfsDir {
  return staticDir({
    bus: staticDir({ pci: busDir(k, 'pci'), auxiliary: busDir(k, 'auxiliary') }),
    devices: staticDir({ [k.pciRoot.name]: deviceDir(k, k.pciRoot) }),
    module: dir(() => k.modules.loadedNames().map((m) => [m, moduleDir(k, m)] as const)),
    class: staticDir({}),
    kernel: staticDir({}),
  });
}

function allDevices(k: Kernel): Device[] {
  return [...k.core.devices('pci'), ...k.core.devices('auxiliary')];
}

function deviceDir(k: Kernel, dev: Device): SysfsNode {
  const here = devicePath(dev);
  const own = (): [string, SysfsNode][] => {
    const out: [string, SysfsNode][] = [];
    const data = dev.data;
    if (data.bus !== 'none') {
      out.push(['subsystem', link(() => relativeTarget(here, busPath(data.bus)))]);
      out.push(['uevent', attr({ show: () => ueventText(k, dev), store: (t) => ueventStore(k, dev, t) })]);
      const drv = dev.driver;
      if (drv !== undefined) out.push(['driver', link(() => relativeTarget(here, driverPath(drv)))]);
    }
    if (data.bus === 'pci') {
      const p = data.pdev;
      out.push(...pciDeviceAttrs(k, dev, p));
      const pf = p.physfn;
      if (p.isVirtfn && pf !== undefined) {
        out.push(['physfn', link(() => relativeTarget(here, devicePath(k.pciDevice(pf))))]);
      }
    }
    return out;
  };
  const virtfnLink = (vf: PciDev): SysfsNode => link(() => relativeTarget(here, devicePath(k.pciDevice(vf))));
  // "virtfn<i>" is named after the VF's index (pci_iov_sysfs_link), not its place in the list.
  const virtfns = (): [string, SysfsNode][] =>
    dev.data.bus === 'pci'
      ? (dev.data.pdev.sriov?.vfs ?? []).map((vf) => [`virtfn${vf.vfIndex}`, virtfnLink(vf)])
      : [];
  /** One virtfn link by name, without making the other (up to 65535) links. */
  const virtfn = (name: string): SysfsNode | undefined => {
    const m = /^virtfn(0|[1-9][0-9]*)$/.exec(name);
    if (m === null || dev.data.bus !== 'pci') return undefined;
    const index = Number(m[1]);
    const vfs = dev.data.pdev.sriov?.vfs ?? [];
    const vf = vfs[index]?.vfIndex === index ? vfs[index] : vfs.find((v) => v.vfIndex === index);
    return vf === undefined ? undefined : virtfnLink(vf);
  };
  const children = (): Device[] => allDevices(k).filter((c) => c.parent === dev);
  return dir(
    () => [
      ...own(),
      ...virtfns(),
      ...children().map((c) => [c.name, deviceDir(k, c)] as [string, SysfsNode]),
    ],
    (name) => {
      const child = k.core.findDevice('pci', name) ?? k.core.findDevice('auxiliary', name);
      if (child !== undefined && child.parent === dev) return deviceDir(k, child);
      // virtfn links first: building the attributes reads config space (the reset attribute's FLR check).
      return virtfn(name) ?? own().find(([n]) => n === name)?.[1];
    },
  );
}

function ueventText(k: Kernel, dev: Device): string {
  const env: [string, string][] = [];
  if (dev.driver !== undefined) env.push(['DRIVER', dev.driver.name]);
  if (dev.data.bus !== 'none') env.push(...k.core.bus(dev.data.bus).ueventEnv(dev));
  return env.map(([a, b]) => `${a}=${b}\n`).join('');
}

/** Writing an action to `uevent` makes the kernel send that event again (udevadm trigger does this). */
function ueventStore(k: Kernel, dev: Device, text: string): void {
  const action = text.trim().split(/\s+/)[0];
  if (
    action !== 'add' &&
    action !== 'remove' &&
    action !== 'change' &&
    action !== 'bind' &&
    action !== 'unbind'
  ) {
    k.log.err(`synth uevent: ${dev.devpath}: unknown action`);
    throw errnoError('EINVAL', `unknown uevent action '${text.trim()}'`);
  }
  k.core.uevent(dev, action);
}

function busDir(k: Kernel, bus: BusName): SysfsNode {
  const here = busPath(bus);
  const busDeviceLink = (d: Device): SysfsNode =>
    link(() => relativeTarget(`${here}/devices`, devicePath(d)));
  const entries: Record<string, SysfsNode> = {
    devices: dir(
      () => k.core.devices(bus).map((d) => [d.name, busDeviceLink(d)] as const),
      (name) => {
        const d = k.core.findDevice(bus, name);
        return d === undefined ? undefined : busDeviceLink(d);
      },
    ),
    drivers: dir(
      () => k.core.drivers(bus).map((drv) => [drv.name, driverDir(k, drv)] as const),
      (name) => {
        const drv = k.core.findDriver(bus, name);
        return drv === undefined ? undefined : driverDir(k, drv);
      },
    ),
    drivers_autoprobe: attr({
      show: () => `${k.core.bus(bus).driversAutoprobe ? 1 : 0}\n`,
      // bus.c: a leading '0' turns autoprobe off; anything else turns it on.
      store: (t) => {
        k.core.bus(bus).driversAutoprobe = t[0] !== '0';
      },
    }),
    drivers_probe: attr({
      mode: 0o200,
      store: (t) => {
        // bus_find_device_by_name compares with sysfs_streq; names hold no newline, so a lookup will do.
        const dev = k.core.findDevice(bus, sysfsStrip(t));
        if (dev === undefined) throw errnoError('ENODEV', 'no such device');
        k.core.probeDevice(dev);
      },
    }),
    uevent: attr({ mode: 0o200, store: () => undefined }),
  };
  if (bus === 'pci') {
    entries['rescan'] = attr({
      mode: 0o200,
      store: (t) => {
        if (kstrtoul(t, 0) !== 0) k.pci.rescan();
      },
    });
  }
  return staticDir(entries);
}

function moduleDir(k: Kernel, name: string): SysfsNode {
  const here = modulePath(name);
  // module_param_sysfs_setup: only parameters with a permission get a file, and the directory exists
  // only when one does.
  const visible = k.modules.params(name).filter((p) => p.def.mode !== 0);
  const parameters: Record<string, SysfsNode> =
    visible.length === 0
      ? {}
      : {
          parameters: moduleParamsDir(
            k,
            name,
            visible.map((p) => p.def),
          ),
        };
  return staticDir({
    ...parameters,
    drivers: dir(() =>
      (k.modules.get(name)?.drivers ?? [])
        .filter((d) => k.core.drivers(d.data.bus).includes(d))
        .map(
          (d) => [`${d.data.bus}:${d.name}`, link(relativeTarget(`${here}/drivers`, driverPath(d)))] as const,
        ),
    ),
    holders: dir(() =>
      k.modules
        .holders(name)
        .map((h) => [h, link(relativeTarget(`${here}/holders`, modulePath(h)))] as const),
    ),
    initstate: attr({ show: () => 'live\n' }),
    refcnt: attr({ show: () => `${k.modules.holders(name).length}\n` }),
  });
}

/** /sys/module/NAME/parameters: param_attr_show (value + newline) and param_attr_store (the type's parser). */
function moduleParamsDir(k: Kernel, module: string, defs: readonly ModuleParamDef[]): SysfsNode {
  return staticDir(
    Object.fromEntries(
      defs.map((def) => [
        def.name,
        attr({
          mode: def.mode,
          show: () => `${formatParamValue(def, k.modules.param(module, def.name))}\n`,
          store: (t) => k.modules.setParam(module, def.name, t),
        }),
      ]),
    ),
  );
}
