/**
 * Property: random sequences of what a user does to a host through sysfs and the module tools
 * (sriov_numvfs, sriov_drivers_autoprobe, driver_override, bind / unbind, drivers_probe, the bus's
 * drivers_autoprobe, new_id / remove_id, remove / rescan, rmmod / modprobe) fail only with LabError
 * (ModuleError for the module tools), and leave a tree that agrees with itself and with the hardware:
 * - every /sys/bus/{pci,auxiliary}/devices link resolves to a directory of that bus;
 * - a device has a `driver` link iff the kernel says it is bound, to that driver's directory, which
 *   links back; every device link in a driver directory is a device bound to it;
 * - a PF has exactly sriov_numvfs virtfnN links, N = 0 … numvfs-1, each to a VF whose physfn is the PF;
 * - NumVFs and VF Enable read from the PF's SR-IOV capability by config cycles (a capability walk
 *   written here, not the kernel's) match the kernel, and the VF routing IDs computed from the
 *   hardware's offset and stride are exactly the kernel's VFs;
 * - after a rescan, the functions a brute-force config scan finds are the kernel's non-VF devices.
 *
 * Left out of the random operations: removing a bridge (see the it.fails below) and removing a single
 * VF (Linux keeps num_VFs then, so the virtfn count no longer equals sriov_numvfs by design).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabError, type Rid } from '../../src/base/index.js';
import { ModuleError } from '../../src/kernel/index.js';
import type { Host } from '../../src/lab/index.js';
import { Lab } from '../../src/lab/index.js';
import { AUX_DEVICES, AUX_DRIVERS, PCI_DEVICES, PCI_DRIVERS, User } from './host-support.js';

/** One host shaped like a default-topology host (three root ports, three PFs). */
const TOPOLOGY = {
  hosts: [
    {
      name: 'prop',
      rootPorts: [
        {
          name: 'rp-virtio',
          address: '00:01.0',
          secondaryBus: 0x01,
          subordinateBus: 0x08,
          devices: [{ kind: 'virtio-net', name: 'virtio-net0', address: '01:00.0', totalVfs: 1024 }],
        },
        {
          name: 'rp-mnic',
          address: '00:02.0',
          secondaryBus: 0x10,
          subordinateBus: 0x11,
          devices: [{ kind: 'mnic', name: 'mnic0', address: '10:00.0', totalVfs: 127 }],
        },
        {
          name: 'rp-accel',
          address: '00:03.0',
          secondaryBus: 0x20,
          subordinateBus: 0x21,
          ariForwarding: false,
          devices: [{ kind: 'accel', name: 'accel0', address: '20:00.0', totalVfs: 16 }],
        },
      ],
    },
  ],
};
/** Buses a brute-force scan reads: the root bus and each root port's range. */
const SCAN_BUSES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x11, 0x20, 0x21];

const PFS = ['0000:01:00.0', '0000:10:00.0', '0000:20:00.0'];
const BDFS = [
  '0000:00:00.0',
  '0000:00:01.0',
  ...PFS,
  '0000:01:00.1',
  '0000:01:00.2',
  '0000:10:00.1',
  '0000:21:00.0',
  '0000:21:01.0',
  '0000:99:00.0',
];
/** Functions `remove` may take: endpoints that are not VFs. */
const REMOVABLE = ['0000:00:00.0', ...PFS];
const DRIVERS = ['pci-stub', 'virtio-pci', 'mnic_core', 'vfl_accel', 'no_such_driver'];
const MODULES = ['virtio_pci', 'mnic_core', 'mnic_en', 'vfl_accel', 'pci_stub'];
const NUMVFS = ['0\n', '1\n', '2\n', '3\n', '0x2\n', '2000\n', 'junk\n'];
const BOOLS = ['0\n', '1\n', 'n\n', 'y\n', 'x\n'];
const OVERRIDES = ['pci-stub\n', '\n', 'virtio-pci\n', 'vfl_accel\n', 'mnic_core\n', 'vfio-pci\n'];
const IDS = [
  '1f00 3000\n',
  '1f00 3001\n',
  '1af4 1041\n',
  '1f00 1022\n',
  '1af4\n',
  '1f00 3001 ffffffff ffffffff 0 0 0\n',
];

type Op =
  | { readonly kind: 'write'; readonly path: string; readonly value: string }
  | { readonly kind: 'rmmod' | 'modprobe'; readonly module: string };

const write = (path: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<Op> =>
  fc.record({ kind: fc.constant('write' as const), path, value });
const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: write(
      pick(PFS).map((b) => `${PCI_DEVICES}/${b}/sriov_numvfs`),
      pick(NUMVFS),
    ),
  },
  {
    weight: 2,
    arbitrary: write(
      pick(PFS).map((b) => `${PCI_DEVICES}/${b}/sriov_drivers_autoprobe`),
      pick(BOOLS),
    ),
  },
  {
    weight: 3,
    arbitrary: write(
      pick(BDFS).map((b) => `${PCI_DEVICES}/${b}/driver_override`),
      pick(OVERRIDES),
    ),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(pick(DRIVERS), pick(['bind', 'unbind']), pick(BDFS))
      .map(([d, f, b]): Op => ({ kind: 'write', path: `${PCI_DRIVERS}/${d}/${f}`, value: `${b}\n` })),
  },
  {
    weight: 3,
    arbitrary: write(
      fc.constant('/sys/bus/pci/drivers_probe'),
      pick(BDFS).map((b) => `${b}\n`),
    ),
  },
  { weight: 1, arbitrary: write(fc.constant('/sys/bus/pci/drivers_autoprobe'), pick(['0\n', '1\n'])) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(pick(DRIVERS), pick(['new_id', 'remove_id']), pick(IDS))
      .map(([d, f, t]): Op => ({ kind: 'write', path: `${PCI_DRIVERS}/${d}/${f}`, value: t })),
  },
  {
    weight: 1,
    arbitrary: write(
      pick(REMOVABLE).map((b) => `${PCI_DEVICES}/${b}/remove`),
      pick(['1\n', '0\n']),
    ),
  },
  { weight: 1, arbitrary: write(fc.constant('/sys/bus/pci/rescan'), fc.constant('1\n')) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: pick(['rmmod', 'modprobe'] as const), module: pick(MODULES) }),
  },
);

function apply(u: User, op: Op): void {
  if (op.kind === 'write') {
    // User.write lets only LabError through as an errno; anything else fails the property.
    u.write(op.path, op.value);
    return;
  }
  const m = u.host.kernel.modules;
  try {
    if (op.kind === 'rmmod') m.rmmod(op.module);
    else m.modprobe(op.module);
  } catch (e) {
    // The module tools fail with kmod's messages (ModuleError) or an errno (LabError); nothing else.
    if (!(e instanceof ModuleError) && !(e instanceof LabError)) throw e;
  } finally {
    u.host.kernel.settle();
  }
}

// ---- an independent view of the hardware, by config cycles ----

const PCI_EXT_CAP_START = 0x100;
const PCI_EXT_CAP_ID_SRIOV = 0x0010;
const PCI_SRIOV_CTRL = 0x08;
const PCI_SRIOV_CTRL_VFE = 0x01;
const PCI_SRIOV_NUM_VF = 0x10;
const PCI_SRIOV_VF_OFFSET = 0x14;
const PCI_SRIOV_VF_STRIDE = 0x16;

const cfg = (h: Host, rid: number, offset: number, width: 1 | 2 | 4): number =>
  h.fabric.configRead(rid as Rid, offset, width);

const ridOf = (bdf: string): number => {
  const [, bus, slotFn] = bdf.split(':') as [string, string, string];
  const [slot, fn] = slotFn.split('.') as [string, string];
  return (Number.parseInt(bus, 16) << 8) | (Number.parseInt(slot, 16) << 3) | Number(fn);
};
const bdfOf = (rid: number): string => {
  const hex2 = (n: number) => n.toString(16).padStart(2, '0');
  return `0000:${hex2(rid >> 8)}:${hex2((rid >> 3) & 0x1f)}.${rid & 7}`;
};

function hwSriovPos(h: Host, rid: number): number | undefined {
  let at = PCI_EXT_CAP_START;
  for (let guard = 0; guard < 64 && at >= PCI_EXT_CAP_START; guard++) {
    const header = cfg(h, rid, at, 4);
    if (header === 0 || header === 0xffffffff) return undefined;
    if ((header & 0xffff) === PCI_EXT_CAP_ID_SRIOV) return at;
    at = (header >>> 20) & 0xffc;
  }
  return undefined;
}

/** Functions whose Vendor ID answers (VFs read ffff there, facts 5.3). */
function hwScan(h: Host): string[] {
  const found: string[] = [];
  for (const bus of SCAN_BUSES) {
    for (let devfn = 0; devfn < 256; devfn++) {
      const rid = (bus << 8) | devfn;
      if (cfg(h, rid, 0, 2) !== 0xffff) found.push(bdfOf(rid));
    }
  }
  return found;
}

// ---- the invariants ----

const isBdf = (name: string): boolean => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(name);

function checkBus(u: User, bus: 'pci' | 'auxiliary'): void {
  const k = u.host.kernel;
  const devicesDir = bus === 'pci' ? PCI_DEVICES : AUX_DEVICES;
  const driversDir = bus === 'pci' ? PCI_DRIVERS : AUX_DRIVERS;
  const listed = u.list(devicesDir);
  expect(listed).toEqual(
    k.core
      .devices(bus)
      .map((d) => d.name)
      .sort(),
  );
  for (const name of listed) {
    const canonical = u.realpath(`${devicesDir}/${name}`);
    expect(canonical.startsWith('/sys/devices/pci0000:00/')).toBe(true);
    expect(canonical.endsWith(`/${name}`)).toBe(true);
    expect(u.realpath(`${canonical}/subsystem`)).toBe(`/sys/bus/${bus}`);
    const dev = k.core.findDevice(bus, name)!;
    const hasLink = u.exists(`${canonical}/driver`);
    expect([name, hasLink]).toEqual([name, dev.driver !== undefined]);
    if (dev.driver !== undefined) {
      expect(u.realpath(`${canonical}/driver`)).toBe(`${driversDir}/${dev.driver.name}`);
      expect(u.realpath(`${driversDir}/${dev.driver.name}/${name}`)).toBe(canonical);
    }
  }
  for (const drv of u.list(driversDir)) {
    const devs = u.list(`${driversDir}/${drv}`).filter((n) => (bus === 'pci' ? isBdf(n) : n.includes('.')));
    for (const n of devs) expect([drv, n, u.boundTo(`${devicesDir}/${n}`)]).toEqual([drv, n, drv]);
  }
}

function checkSriov(u: User): void {
  const h = u.host;
  for (const name of u.list(PCI_DEVICES)) {
    const dir = u.realpath(`${PCI_DEVICES}/${name}`);
    const entries = u.list(dir);
    if (entries.includes('physfn')) {
      const pf = u.realpath(`${dir}/physfn`);
      const back = u.list(pf).filter((n) => /^virtfn\d+$/.test(n));
      expect(back.some((l) => u.realpath(`${pf}/${l}`) === dir)).toBe(true);
    }
    if (!entries.includes('sriov_numvfs')) continue;
    const numVfs = Number(u.read(`${dir}/sriov_numvfs`));
    const links = entries.filter((n) => /^virtfn\d+$/.test(n));
    expect([name, links.length]).toEqual([name, numVfs]);
    const vfs = new Set<string>();
    for (let i = 0; i < numVfs; i++) {
      const vf = u.realpath(`${dir}/virtfn${i}`);
      expect(u.realpath(`${vf}/physfn`)).toBe(dir);
      vfs.add(vf.split('/').at(-1)!);
    }
    // The hardware agrees: NumVFs, VF Enable, and the routing IDs of the VFs.
    const rid = ridOf(name);
    const pos = hwSriovPos(h, rid);
    expect(pos).toBeDefined();
    const hwNum = cfg(h, rid, pos! + PCI_SRIOV_NUM_VF, 2);
    const vfe = (cfg(h, rid, pos! + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE) !== 0;
    expect([name, hwNum, vfe]).toEqual([name, numVfs, numVfs > 0]);
    const offset = cfg(h, rid, pos! + PCI_SRIOV_VF_OFFSET, 2);
    const stride = cfg(h, rid, pos! + PCI_SRIOV_VF_STRIDE, 2);
    const hwVfs = Array.from({ length: hwNum }, (_, i) => bdfOf(rid + offset + stride * i)).sort();
    expect(hwVfs).toEqual([...vfs].sort());
    const kernelVfs = h.kernel.pci.devices.filter((d) => d.physfn?.name === name).map((d) => d.name);
    expect(kernelVfs.sort()).toEqual(hwVfs);
  }
}

function checkTree(u: User): void {
  checkBus(u, 'pci');
  checkBus(u, 'auxiliary');
  checkSriov(u);
  // The kernel's pci_dev list and the sysfs view are one list.
  expect(u.host.kernel.pci.devices.map((d) => d.name).sort()).toEqual(u.list(PCI_DEVICES));
}

function checkAgainstScan(u: User): void {
  u.ok('/sys/bus/pci/rescan', '1\n');
  const physical = u.list(PCI_DEVICES).filter((n) => !u.list(u.dev(n)).includes('physfn'));
  expect(physical).toEqual(hwScan(u.host));
}

describe('sysfs consistency under random user operations', () => {
  it('the boot state is consistent and matches a config scan', () => {
    const u = new User(Lab.fromTopology(TOPOLOGY, 'test').host());
    checkTree(u);
    expect(hwScan(u.host)).toEqual([
      '0000:00:00.0',
      '0000:00:01.0',
      '0000:00:02.0',
      '0000:00:03.0',
      '0000:01:00.0',
      '0000:10:00.0',
      '0000:20:00.0',
    ]);
    checkAgainstScan(u);
  });

  // 60 short sequences keep the file near 2 s; for a longer search run with e.g.
  // PROP_RUNS=4000 PROP_TIMEOUT=900000 (4000 runs passed when this was written).
  it(
    'random sequences fail only with LabError and keep the tree consistent',
    () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 14 }), (ops) => {
          const u = new User(Lab.fromTopology(TOPOLOGY, 'test').host());
          for (const op of ops) {
            apply(u, op);
            checkTree(u);
          }
          checkAgainstScan(u);
          checkTree(u);
        }),
        { numRuns: Number(process.env.PROP_RUNS ?? 60) },
      );
    },
    Number(process.env.PROP_TIMEOUT ?? 20_000),
  );
});

describe('removing a bridge', () => {
  // pci_stop_and_remove_bus_device removes the devices on a bridge's subordinate bus first
  // (drivers/pci/remove.c). The model removes only the bridge: its children stay in the kernel's list
  // with /sys/bus/pci/devices links that no longer resolve, even after a rescan. Not covered by
  // facts/kernel.md.
  it('removes the devices behind it, and a rescan brings them back', () => {
    const u = new User(Lab.fromTopology(TOPOLOGY, 'test').host());
    u.ok(`${PCI_DEVICES}/0000:00:02.0/remove`, '1\n');
    expect(u.list(PCI_DEVICES)).not.toContain('0000:10:00.0');
    expect(u.list(AUX_DEVICES)).toEqual([]);
    checkTree(u);
    u.ok('/sys/bus/pci/rescan', '1\n');
    expect(u.realpath(`${PCI_DEVICES}/0000:10:00.0`)).toBe(
      '/sys/devices/pci0000:00/0000:00:02.0/0000:10:00.0',
    );
    checkTree(u);
  });
});
