/**
 * The auxiliary bus (facts/kernel.md 6): device names "<modname>.<devname>.<id>", matching on the
 * prefix before the last '.', exactly; MODALIAS=auxiliary:<prefix>; the init → add → delete → uninit
 * lifecycle with its errnos and order; release exactly once; driver names "<modname>.<name>"; and the
 * parent owning the lifetime (unbinding mnic_core deletes its auxiliary device).
 */
import { describe, expect, it } from 'vitest';
import { AuxiliaryDevice, auxiliaryDriver, Device, type Driver } from '../../src/kernel/index.js';
import {
  ACCEL_PF,
  AUX_DEVICES,
  AUX_DRIVERS,
  defaultHost,
  errnoOf,
  MNIC_PF,
  RP_ACCEL_DIR,
  RP_MNIC_DIR,
  User,
} from './host-support.js';

const user = (): User => new User(defaultHost());

/** An auxiliary device under `parent` that counts its release calls. */
function auxDevice(o: { name?: string; id: number; parent?: Device }): {
  adev: AuxiliaryDevice;
  releases: () => number;
} {
  let released = 0;
  const adev = new AuxiliaryDevice({
    ...o,
    release: () => {
      released++;
    },
  });
  return { adev, releases: () => released };
}

function recordingAuxDriver(modname: string, name: string, ids: string[]): { drv: Driver; probed: string[] } {
  const probed: string[] = [];
  const drv = auxiliaryDriver({
    modname,
    name,
    idTable: ids.map((n) => ({ name: n, driverData: 0 })),
    ops: {
      probe(dev) {
        probed.push(dev.name);
      },
    },
    probeClass: 'vfio',
  });
  return { drv, probed };
}

describe('the mnic auxiliary device of the default topology', () => {
  it('is mnic_core.eth.0 under the PF, bound to mnic_en.eth, with the bus links', () => {
    const u = user();
    expect(u.list(AUX_DEVICES)).toEqual(['mnic_core.eth.0']);
    expect(u.readlink(`${AUX_DEVICES}/mnic_core.eth.0`)).toBe(
      '../../../devices/pci0000:00/0000:00:02.0/0000:10:00.0/mnic_core.eth.0',
    );
    const dir = `${RP_MNIC_DIR}/${MNIC_PF}/mnic_core.eth.0`;
    expect(u.list(`${RP_MNIC_DIR}/${MNIC_PF}`)).toContain('mnic_core.eth.0');
    expect(u.readlink(`${dir}/driver`)).toBe('../../../../../bus/auxiliary/drivers/mnic_en.eth');
    expect(u.readlink(`${dir}/subsystem`)).toBe('../../../../../bus/auxiliary');
    expect(u.list(AUX_DRIVERS)).toEqual(['mnic_core.sf', 'mnic_en.eth']);
    expect(u.list(`${AUX_DRIVERS}/mnic_en.eth`)).toEqual([
      'bind',
      'mnic_core.eth.0',
      'module',
      'uevent',
      'unbind',
    ]);
    expect(u.realpath(`${AUX_DRIVERS}/mnic_en.eth/mnic_core.eth.0`)).toBe(dir);
    expect(u.readlink(`${AUX_DRIVERS}/mnic_en.eth/module`)).toBe('../../../../module/mnic_en');
  });

  it('each mnic VF bound to mnic_core gets its own eth auxiliary device', () => {
    const u = user();
    u.ok(`${u.dev(MNIC_PF)}/sriov_numvfs`, '2\n');
    expect(u.list(AUX_DEVICES)).toEqual(['mnic_core.eth.0', 'mnic_core.eth.1', 'mnic_core.eth.2']);
    expect(u.realpath(`${AUX_DEVICES}/mnic_core.eth.1`)).toBe(`${RP_MNIC_DIR}/0000:10:00.1/mnic_core.eth.1`);
    expect(u.realpath(`${AUX_DEVICES}/mnic_core.eth.2`)).toBe(`${RP_MNIC_DIR}/0000:10:00.2/mnic_core.eth.2`);
    expect(u.boundTo(`${AUX_DEVICES}/mnic_core.eth.2`)).toBe('mnic_en.eth');
    u.ok(`${u.dev(MNIC_PF)}/sriov_numvfs`, '0\n');
    expect(u.list(AUX_DEVICES)).toEqual(['mnic_core.eth.0']);
  });

  it('goes away when mnic_core is unbound from the PF, taking its mnic_en binding with it', () => {
    const u = user();
    const mark = u.eventMark;
    u.ok('/sys/bus/pci/drivers/mnic_core/unbind', `${MNIC_PF}\n`);
    expect(u.list(AUX_DEVICES)).toEqual([]);
    expect(u.list(`${AUX_DRIVERS}/mnic_en.eth`)).toEqual(['bind', 'module', 'uevent', 'unbind']);
    expect(u.list(`${RP_MNIC_DIR}/${MNIC_PF}`).filter((n) => n.startsWith('mnic_core'))).toEqual([]);
    expect(u.eventsSince(mark).map((e) => `${e.action} ${e.devpath.split('/').at(-1)}`)).toEqual([
      'unbind mnic_core.eth.0',
      'remove mnic_core.eth.0',
      `unbind ${MNIC_PF}`,
    ]);
    // Probing the PF again carves a new one, which mnic_en (still loaded) binds.
    u.ok('/sys/bus/pci/drivers_probe', `${MNIC_PF}\n`);
    const [name] = u.list(AUX_DEVICES);
    expect(u.boundTo(`${AUX_DEVICES}/${name}`)).toBe('mnic_en.eth');
  });

  it('unbind / bind / drivers_probe work on the auxiliary bus as on PCI', () => {
    const u = user();
    u.ok(`${AUX_DRIVERS}/mnic_en.eth/unbind`, 'mnic_core.eth.0\n');
    expect(u.boundTo(`${AUX_DEVICES}/mnic_core.eth.0`)).toBeUndefined();
    expect(u.write(`${AUX_DRIVERS}/mnic_en.eth/unbind`, 'mnic_core.eth.0\n')).toBe('ENODEV');
    u.ok(`${AUX_DRIVERS}/mnic_en.eth/bind`, 'mnic_core.eth.0\n');
    expect(u.write(`${AUX_DRIVERS}/mnic_en.eth/bind`, 'mnic_core.eth.0\n')).toBe('EBUSY');
    u.ok(`${AUX_DRIVERS}/mnic_en.eth/unbind`, 'mnic_core.eth.0\n');
    u.ok('/sys/bus/auxiliary/drivers_probe', 'mnic_core.eth.0\n');
    expect(u.boundTo(`${AUX_DEVICES}/mnic_core.eth.0`)).toBe('mnic_en.eth');
    expect(u.write('/sys/bus/auxiliary/drivers_probe', 'mnic_core.eth.9\n')).toBe('ENODEV');
  });
});

describe('auxiliary device naming and matching', () => {
  it('names a device <modname>.<devname>.<id> and announces MODALIAS=auxiliary:<modname>.<devname>', () => {
    const u = user();
    const k = u.host.kernel;
    const { adev } = auxDevice({ name: 'eth', id: 7, parent: u.device(ACCEL_PF) });
    adev.init();
    const mark = u.eventMark;
    adev.add(k.core, 'mnic_core');
    expect(adev.device?.name).toBe('mnic_core.eth.7');
    const devpath = '/devices/pci0000:00/0000:00:03.0/0000:20:00.0/mnic_core.eth.7';
    expect(k.udev.events.slice(mark).map((e) => [e.action, e.devpath, e.subsystem, e.env])).toEqual([
      ['add', devpath, 'auxiliary', [['MODALIAS', 'auxiliary:mnic_core.eth']]],
      [
        'bind',
        devpath,
        'auxiliary',
        [
          ['DRIVER', 'mnic_en.eth'],
          ['MODALIAS', 'auxiliary:mnic_core.eth'],
        ],
      ],
    ]);
    expect(u.realpath(`${AUX_DEVICES}/mnic_core.eth.7`)).toBe(`${RP_ACCEL_DIR}/${ACCEL_PF}/mnic_core.eth.7`);
  });

  // Device short name or modname → full name, and whether mnic_en.eth ("mnic_core.eth") binds it.
  const table: [string, string, string, boolean][] = [
    ['mnic_core', 'eth', 'mnic_core.eth.3', true],
    ['mnic_core', 'ethx', 'mnic_core.ethx.3', false],
    ['mnic_core', 'et', 'mnic_core.et.3', false],
    ['mnic_core', 'eth.x', 'mnic_core.eth.x.3', false],
    ['mnic_corex', 'eth', 'mnic_corex.eth.3', false],
    ['mnic', 'core.eth', 'mnic.core.eth.3', false],
  ];
  it.each(table)('%s + %s → %s binds: %s', (modname, name, full, binds) => {
    const u = user();
    const { adev } = auxDevice({ name, id: 3, parent: u.device(ACCEL_PF) });
    adev.init();
    adev.add(u.host.kernel.core, modname);
    u.host.kernel.settle();
    expect(u.list(AUX_DEVICES)).toContain(full);
    expect(u.boundTo(`${AUX_DEVICES}/${full}`)).toBe(binds ? 'mnic_en.eth' : undefined);
    expect(u.read(`${AUX_DEVICES}/${full}/uevent`)).toContain(`MODALIAS=auxiliary:${full.slice(0, -2)}\n`);
  });

  it('a device name without a dot matches nothing, even an id of the same name', () => {
    const u = user();
    const k = u.host.kernel;
    const { drv, probed } = recordingAuxDriver('probe_mod', 'nodot', ['nodot']);
    k.core.driverRegister(drv);
    const parent = u.device(ACCEL_PF);
    for (const name of ['nodot', 'nodot.0']) {
      const dev = new Device(name, parent, { bus: 'auxiliary', modname: 'nodot', devname: '', id: 0 });
      dev.matchEnabled = true;
      k.core.deviceAdd(dev);
    }
    // Only "nodot.0" has a prefix ("nodot") to compare.
    expect(probed).toEqual(['nodot.0']);
    expect(u.boundTo(`${AUX_DEVICES}/nodot`)).toBeUndefined();
    expect(u.boundTo(`${AUX_DEVICES}/nodot.0`)).toBe('probe_mod.nodot');
  });

  it('matches a device against every entry of the id table, not only the first', () => {
    const u = user();
    const { drv, probed } = recordingAuxDriver('vfl_vdpa', 'vnet', ['mnic_core.vnet', 'mnic_core.rdma']);
    u.host.kernel.core.driverRegister(drv);
    for (const name of ['rdma', 'vnet']) {
      const { adev } = auxDevice({ name, id: 0, parent: u.device(ACCEL_PF) });
      adev.init();
      adev.add(u.host.kernel.core, 'mnic_core');
    }
    expect(probed).toEqual(['mnic_core.rdma.0', 'mnic_core.vnet.0']);
  });

  it('refuses a second device of the same name with EEXIST; the caller then uninits (release once)', () => {
    const u = user();
    const { adev, releases } = auxDevice({ name: 'eth', id: 0, parent: u.device(ACCEL_PF) });
    adev.init();
    expect(errnoOf(() => adev.add(u.host.kernel.core, 'mnic_core'))).toBe('EEXIST');
    expect(adev.state).toBe('initialized');
    adev.uninit();
    expect(releases()).toBe(1);
    expect(adev.state).toBe('released');
    // The first device is untouched.
    expect(u.realpath(`${AUX_DEVICES}/mnic_core.eth.0`)).toBe(`${RP_MNIC_DIR}/${MNIC_PF}/mnic_core.eth.0`);
    expect(u.boundTo(`${AUX_DEVICES}/mnic_core.eth.0`)).toBe('mnic_en.eth');
  });
});

describe('auxiliary device lifecycle (facts 6, steps 1-4)', () => {
  it('init needs a parent and a name (EINVAL)', () => {
    const u = user();
    expect(errnoOf(() => auxDevice({ name: 'eth', id: 0 }).adev.init())).toBe('EINVAL');
    expect(errnoOf(() => auxDevice({ id: 0, parent: u.device(ACCEL_PF) }).adev.init())).toBe('EINVAL');
  });

  it('add needs a module name (EINVAL) and leaves the device to uninit', () => {
    const u = user();
    for (const modname of [undefined, '']) {
      const { adev, releases } = auxDevice({ name: 'eth', id: 1, parent: u.device(ACCEL_PF) });
      adev.init();
      expect(errnoOf(() => adev.add(u.host.kernel.core, modname))).toBe('EINVAL');
      expect(u.list(AUX_DEVICES)).toEqual(['mnic_core.eth.0']);
      adev.uninit();
      expect(releases()).toBe(1);
    }
  });

  it('delete unbinds and leaves the bus; uninit then calls release exactly once', () => {
    const u = user();
    const k = u.host.kernel;
    const { adev, releases } = auxDevice({ name: 'eth', id: 4, parent: u.device(ACCEL_PF) });
    adev.init();
    adev.add(k.core, 'mnic_core');
    expect(u.boundTo(`${AUX_DEVICES}/mnic_core.eth.4`)).toBe('mnic_en.eth');
    const mark = u.eventMark;
    adev.delete(k.core);
    expect(u.eventsSince(mark).map((e) => e.action)).toEqual(['unbind', 'remove']);
    expect(u.exists(`${AUX_DEVICES}/mnic_core.eth.4`)).toBe(false);
    expect(releases()).toBe(0);
    adev.uninit();
    expect(releases()).toBe(1);
    expect(errnoOf(() => adev.uninit())).toBe('LabError:invalid-state');
    expect(releases()).toBe(1);
  });

  it('enforces the order: no add before init, no second init, no delete before add, no uninit while added', () => {
    const u = user();
    const k = u.host.kernel;
    const parent = u.device(ACCEL_PF);
    const order: [string, (a: AuxiliaryDevice) => void][] = [
      ['add before init', (a) => a.add(k.core, 'mnic_core')],
      ['delete before init', (a) => a.delete(k.core)],
      ['uninit before init', (a) => a.uninit()],
    ];
    for (const [what, step] of order) {
      const { adev, releases } = auxDevice({ name: 'eth', id: 5, parent });
      expect([what, errnoOf(() => step(adev))]).toEqual([what, 'LabError:invalid-state']);
      expect(releases()).toBe(0);
    }
    const { adev, releases } = auxDevice({ name: 'eth', id: 5, parent });
    adev.init();
    expect(errnoOf(() => adev.init())).toBe('LabError:invalid-state');
    expect(errnoOf(() => adev.delete(k.core))).toBe('LabError:invalid-state');
    adev.add(k.core, 'mnic_core');
    expect(errnoOf(() => adev.add(k.core, 'mnic_core'))).toBe('LabError:invalid-state');
    expect(errnoOf(() => adev.uninit())).toBe('LabError:invalid-state');
    expect(releases()).toBe(0);
    adev.delete(k.core);
    expect(errnoOf(() => adev.delete(k.core))).toBe('LabError:invalid-state');
    adev.uninit();
    expect(releases()).toBe(1);
  });
});

describe('auxiliary drivers', () => {
  it('are named <modname>.<name>, or <modname> without a name', () => {
    const probe = () => undefined;
    const ids = [{ name: 'x_core.eth', driverData: 0 }];
    expect(
      auxiliaryDriver({ modname: 'x_en', name: 'eth', idTable: ids, ops: { probe }, probeClass: 'vfio' })
        .name,
    ).toBe('x_en.eth');
    expect(auxiliaryDriver({ modname: 'x_en', idTable: ids, ops: { probe }, probeClass: 'vfio' }).name).toBe(
      'x_en',
    );
  });

  it('need a probe and an id table (EINVAL); id names fit AUXILIARY_NAME_SIZE (32 with the NUL)', () => {
    const probe = () => undefined;
    const ok = [{ name: 'x_core.eth', driverData: 0 }];
    expect(errnoOf(() => auxiliaryDriver({ modname: 'x', idTable: ok, ops: {}, probeClass: 'vfio' }))).toBe(
      'EINVAL',
    );
    expect(
      errnoOf(() => auxiliaryDriver({ modname: 'x', idTable: [], ops: { probe }, probeClass: 'vfio' })),
    ).toBe('EINVAL');
    const name31 = `x_core.${'e'.repeat(24)}`;
    const name32 = `x_core.${'e'.repeat(25)}`;
    expect(name31).toHaveLength(31);
    expect(
      errnoOf(() =>
        auxiliaryDriver({
          modname: 'x',
          idTable: [{ name: name31, driverData: 0 }],
          ops: { probe },
          probeClass: 'vfio',
        }),
      ),
    ).toBeUndefined();
    expect(
      errnoOf(() =>
        auxiliaryDriver({
          modname: 'x',
          idTable: [{ name: name32, driverData: 0 }],
          ops: { probe },
          probeClass: 'vfio',
        }),
      ),
    ).toBe('EINVAL');
  });

  it('registered later, attach to the devices they match (driver_attach)', () => {
    const u = user();
    u.host.kernel.modules.rmmod('mnic_en');
    const { drv, probed } = recordingAuxDriver('other_en', 'eth', ['mnic_core.eth']);
    u.host.kernel.core.driverRegister(drv);
    expect(probed).toEqual(['mnic_core.eth.0']);
    expect(u.boundTo(`${AUX_DEVICES}/mnic_core.eth.0`)).toBe('other_en.eth');
  });
});
