/**
 * What lspci sees of a modeled host on a live system: each function's config space as the sysfs
 * `config` file returns it (read by config cycles, so reading costs modeled time), and the sysfs
 * attributes pciutils reads beside it: vendor/device (a VF's real IDs), class, irq, `resource`.
 * pciutils reads 64 bytes of config by default, 256 with -xxx, and everything with -xxxx or when
 * it decodes capabilities (-v and up); the view reads the same amount.
 */
import { formatBdf } from '../../base/index.js';
import { type PciDev, pciModalias } from '../../kernel/index.js';
import type { LspciDevice } from '../lspci/index.js';
import type { Host } from './host.js';

/** How many config bytes an lspci invocation needs, from its short options. */
export function configBytesFor(argv: readonly string[]): 64 | 256 | 4096 {
  let v = 0;
  let x = 0;
  for (const a of argv) {
    if (!/^-[a-zA-Z]+$/.test(a)) continue;
    v += (a.match(/v/g) ?? []).length;
    x += (a.match(/x/g) ?? []).length;
  }
  if (x >= 4 || v >= 1) return 4096;
  return x >= 3 ? 256 : 64;
}

export function lspciDevice(host: Host, dev: PciDev, bytes: number): LspciDevice {
  const kdev = host.kernel.findPciDevice(dev.name);
  const driver = kdev?.driver?.name;
  // pciutils finds "Kernel modules" by matching the modalias against modules.alias.
  const modules = host.kernel.modules.resolve(pciModalias(dev));
  return {
    bdf: dev.bdf,
    config: host.pci.readConfig(dev, bytes),
    sysfs: {
      vendor: dev.vendor,
      device: dev.device,
      subsystemVendor: dev.subsystemVendor,
      subsystemDevice: dev.subsystemDevice,
      classCode: dev.classCode,
      irq: dev.irq,
      resources: dev.resources.map((r) => ({ start: r.start, end: r.end, flags: BigInt(r.flags) })),
      isVirtfn: dev.isVirtfn,
      ...(driver === undefined ? {} : { driver }),
      ...(modules.length === 0 ? {} : { modules }),
    },
  };
}

/** Every function of the host, as lspci would find them under /sys/bus/pci/devices. */
export function lspciDevices(host: Host, argv: readonly string[]): LspciDevice[] {
  const bytes = configBytesFor(argv);
  return host.pci.devices.map((d) => lspciDevice(host, d, bytes));
}

export function functionName(host: Host, dev: PciDev): string {
  return `${formatBdf(dev.bdf)} ${host.deviceAt(dev.bdf)?.name ?? ''}`.trim();
}
