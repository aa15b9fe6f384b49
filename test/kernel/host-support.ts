/**
 * Test support for the host kernel scenarios: hosts built from the default topology or a small one, a
 * shell-like way to drive sysfs (write, then let udev settle, as the shell does after each command),
 * and errno capture. Expected values in the tests are written out by hand from facts/kernel.md; nothing
 * here calls the kernel's own formatting or matching helpers.
 */
import { LabError } from '../../src/base/index.js';
import type { Device, Driver } from '../../src/kernel/index.js';
import { type Host, Lab } from '../../src/lab/index.js';

export const PCI_DEVICES = '/sys/bus/pci/devices';
export const PCI_DRIVERS = '/sys/bus/pci/drivers';
export const AUX_DEVICES = '/sys/bus/auxiliary/devices';
export const AUX_DRIVERS = '/sys/bus/auxiliary/drivers';

/** The default topology's PFs (DESIGN.md "Default topology"). */
export const VIRTIO_PF = '0000:01:00.0';
export const MNIC_PF = '0000:10:00.0';
export const ACCEL_PF = '0000:20:00.0';

/** Canonical directories of the default topology's root ports. */
export const RP_VIRTIO_DIR = '/sys/devices/pci0000:00/0000:00:01.0';
export const RP_MNIC_DIR = '/sys/devices/pci0000:00/0000:00:02.0';
export const RP_ACCEL_DIR = '/sys/devices/pci0000:00/0000:00:03.0';

/** Modeled costs of the default cost model (docs/cost-model.md), written out. */
export const MS = 1_000_000;
export const ENABLE_WAIT_NS = 100 * MS;
export const DISABLE_WAIT_NS = 1000 * MS;
export const NETDEV_PROBE_NS = 400 * MS;
export const CORE_PROBE_NS = 50 * MS;

export function defaultHost(): Host {
  return Lab.default().host();
}

/** One host with only the accelerator (no ARI, VFs on bus 0x21) and the virtio-net PF. */
export function smallHost(): Host {
  return Lab.fromTopology(
    {
      hosts: [
        {
          name: 'small',
          rootPorts: [
            {
              name: 'rp-virtio',
              address: '00:01.0',
              secondaryBus: 0x01,
              subordinateBus: 0x02,
              devices: [{ kind: 'virtio-net', name: 'v0', address: '01:00.0', totalVfs: 16 }],
            },
            {
              name: 'rp-accel',
              address: '00:03.0',
              secondaryBus: 0x20,
              subordinateBus: 0x21,
              ariForwarding: false,
              devices: [{ kind: 'accel', name: 'a0', address: '20:00.0', totalVfs: 8 }],
            },
          ],
        },
      ],
    },
    'test',
  ).host();
}

/** The errno a call fails with, or undefined when it succeeds; anything but a LabError is rethrown. */
export function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof LabError) return e.errno ?? `LabError:${e.code}`;
    throw e;
  }
  return undefined;
}

/** A shell user: every write is followed by udev settling (module autoload), even when it fails. */
export class User {
  readonly host: Host;

  constructor(host: Host) {
    this.host = host;
  }

  /** `echo VALUE > PATH`; returns the errno of the write, or undefined. */
  write(path: string, value: string): string | undefined {
    try {
      return errnoOf(() => this.host.kernel.sysfs.write(path, value));
    } finally {
      this.host.kernel.settle();
    }
  }

  /** Like write, but the write must succeed. */
  ok(path: string, value: string): void {
    const errno = this.write(path, value);
    if (errno !== undefined) throw new Error(`write '${value.trim()}' > ${path} failed with ${errno}`);
  }

  read(path: string): string {
    const v = this.host.kernel.sysfs.read(path);
    if (typeof v !== 'string') throw new Error(`${path} is binary`);
    return v;
  }

  list(path: string): string[] {
    return this.host.kernel.sysfs.list(path);
  }

  readlink(path: string): string {
    return this.host.kernel.sysfs.readlink(path);
  }

  /** `readlink -e`: every component must exist. */
  realpath(path: string): string {
    return this.host.kernel.sysfs.realpath(path, 'existing');
  }

  exists(path: string): boolean {
    return errnoOf(() => this.host.kernel.sysfs.stat(path, { follow: false })) === undefined;
  }

  /** Modeled nanoseconds a step took. */
  timed(f: () => void): number {
    const t0 = this.host.clock.nowNs;
    f();
    return this.host.clock.nowNs - t0;
  }

  dev(name: string): string {
    return `${PCI_DEVICES}/${name}`;
  }

  drv(name: string): string {
    return `${PCI_DRIVERS}/${name}`;
  }

  device(name: string): Device {
    const d = this.host.kernel.findPciDevice(name);
    if (d === undefined) throw new Error(`no PCI device ${name}`);
    return d;
  }

  driver(bus: 'pci' | 'auxiliary', name: string): Driver {
    const d = this.host.kernel.core.findDriver(bus, name);
    if (d === undefined) throw new Error(`no ${bus} driver ${name}`);
    return d;
  }

  /** The driver a device's `driver` link names, or undefined without the link. */
  boundTo(devicePath: string): string | undefined {
    if (!this.exists(`${devicePath}/driver`)) return undefined;
    return this.realpath(`${devicePath}/driver`).split('/').at(-1);
  }

  /** The uevents sent from now on. */
  eventsSince(mark: number): { action: string; devpath: string; env: Record<string, string> }[] {
    return this.host.kernel.udev.events.slice(mark).map((e) => ({
      action: e.action,
      devpath: e.devpath,
      env: Object.fromEntries(e.env),
    }));
  }

  get eventMark(): number {
    return this.host.kernel.udev.events.length;
  }
}
