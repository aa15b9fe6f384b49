/**
 * Modules, aliases and autoload (facts/kernel.md 5.6 "Module autoload", 6): MODALIAS strings as the PCI
 * and auxiliary buses format them, modules.alias in file2alias format (override-only ids as vfio_pci:
 * aliases that no uevent can load), rmmod / modprobe and what they do to bindings, lsmod, and the
 * uevents udev sees. Expected strings are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  auxiliaryDriver,
  Driver,
  ModuleError,
  Modules,
  type PciDeviceId,
  Udev,
} from '../../src/kernel/index.js';
import {
  ACCEL_PF,
  AUX_DEVICES,
  AUX_DRIVERS,
  CORE_PROBE_NS,
  defaultHost,
  MNIC_PF,
  RP_MNIC_DIR,
  User,
  VIRTIO_PF,
} from './host-support.js';

const user = (): User => new User(defaultHost());
const ANY = 0xffff_ffff;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The message of the ModuleError a module tool call fails with. */
function moduleError(f: () => unknown): string | undefined {
  const e = thrown(f);
  if (e === undefined) return undefined;
  if (!(e instanceof ModuleError)) throw e;
  return e.message;
}

const pciDriver = (name: string, idTable: PciDeviceId[]): Driver =>
  new Driver({
    name,
    module: name,
    probeClass: 'vfio',
    data: { bus: 'pci', idTable, dynIds: [] },
    ops: { probe: () => undefined },
  });

const pciId = (o: Partial<PciDeviceId>): PciDeviceId => ({
  vendor: ANY,
  device: ANY,
  subvendor: ANY,
  subdevice: ANY,
  classCode: 0,
  classMask: 0,
  driverData: 0,
  ...o,
});

describe('MODALIAS (pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X)', () => {
  const table: [string, string][] = [
    ['0000:00:00.0', 'pci:v00001F00d00000B00sv00000000sd00000000bc06sc00i00'],
    ['0000:00:01.0', 'pci:v00001F00d00000B01sv00000000sd00000000bc06sc04i00'],
    [VIRTIO_PF, 'pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00'],
    [MNIC_PF, 'pci:v00001F00d00001021sv00001F00sd00000001bc02sc00i00'],
    [ACCEL_PF, 'pci:v00001F00d00003000sv00001F00sd00000001bc12sc00i00'],
  ];
  it.each(table)('%s: %s', (bdf, modalias) => {
    const u = user();
    expect(u.read(`${u.dev(bdf)}/modalias`)).toBe(`${modalias}\n`);
    expect(u.read(`${u.dev(bdf)}/uevent`)).toContain(`MODALIAS=${modalias}\n`);
  });

  it('a VF carries the PF vendor and the VF Device ID (facts 5.3)', () => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '1\n');
    expect(u.read(`${u.dev('0000:21:00.0')}/modalias`)).toBe(
      'pci:v00001F00d00003001sv00001F00sd00000001bc12sc00i00\n',
    );
  });

  it('the uevent file lists DRIVER and the PCI variables in the kernel order', () => {
    const u = user();
    expect(u.read(`${u.dev(VIRTIO_PF)}/uevent`)).toBe(
      'DRIVER=virtio-pci\n' +
        'PCI_CLASS=20000\n' +
        'PCI_ID=1AF4:1041\n' +
        'PCI_SUBSYS_ID=1AF4:1100\n' +
        'PCI_SLOT_NAME=0000:01:00.0\n' +
        'MODALIAS=pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00\n',
    );
    expect(u.read(`${AUX_DEVICES}/mnic_core.eth.0/uevent`)).toBe(
      'DRIVER=mnic_en.eth\nMODALIAS=auxiliary:mnic_core.eth\n',
    );
  });
});

describe('modules.alias', () => {
  it('lists every loadable module id in file2alias format', () => {
    const u = user();
    expect(u.host.kernel.modules.aliases()).toEqual([
      { alias: 'pci:v00001AF4d*sv*sd*bc*sc*i*', module: 'virtio_pci' },
      { alias: 'pci:v00001F00d00001021sv*sd*bc*sc*i*', module: 'mnic_core' },
      { alias: 'pci:v00001F00d00001022sv*sd*bc*sc*i*', module: 'mnic_core' },
      // mnic_core's own SF driver, then mnic_en and mnic_vdpa for the pieces it carves.
      { alias: 'auxiliary:mnic_core.sf', module: 'mnic_core' },
      { alias: 'auxiliary:mnic_core.eth', module: 'mnic_en' },
      { alias: 'auxiliary:mnic_core.vnet', module: 'mnic_vdpa' },
      { alias: 'pci:v00001F00d00003000sv*sd*bc*sc*i*', module: 'vfl_accel' },
      { alias: 'pci:v00001F00d00003001sv*sd*bc*sc*i*', module: 'vfl_accel' },
      // vfio-pci's override-only "any device" entry (facts 3.8): no uevent ever carries this prefix.
      { alias: 'vfio_pci:v*d*sv*sd*bc*sc*i*', module: 'vfio_pci' },
      { alias: 'vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*', module: 'virtio_vfio_pci' },
      // mnic_vfio_pci: override-only, never autoloaded; vfio_mnic_aux: autoloads for "mnic_core.vfio".
      { alias: 'vfio_pci:v00001F00d00001022sv*sd*bc*sc*i*', module: 'mnic_vfio_pci' },
      { alias: 'auxiliary:mnic_core.vfio', module: 'vfio_mnic_aux' },
    ]);
  });

  it('resolves a MODALIAS by glob, and a module name with - or _', () => {
    const m = user().host.kernel.modules;
    const table: [string, string[]][] = [
      ['pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00', ['virtio_pci']],
      ['pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00', ['virtio_pci']],
      ['pci:v00001F00d00001022sv00001F00sd00000001bc02sc00i00', ['mnic_core']],
      ['pci:v00001F00d00003001sv00001F00sd00000001bc12sc00i00', ['vfl_accel']],
      ['pci:v00008086d00001234sv00008086sd00000001bc02sc00i00', []],
      ['auxiliary:mnic_core.eth', ['mnic_en']],
      ['auxiliary:mnic_core.ethx', []],
      ['auxiliary:mnic_core.et', []],
      ['mnic-en', ['mnic_en']],
      ['virtio_pci', ['virtio_pci']],
    ];
    for (const [query, modules] of table) expect([query, m.resolve(query)]).toEqual([query, modules]);
  });

  it('formats subsystem ids, class bytes under a 0xff mask, and override-only ids as vfio_pci:', () => {
    const u = user();
    const drv = pciDriver('alias_probe', [
      pciId({ vendor: 0x1af4, device: 0x1041, subvendor: 0x1af4, subdevice: 0x1100 }),
      pciId({ classCode: 0x020000, classMask: 0xff0000 }),
      pciId({ vendor: 0x1f00, device: 0x3001, overrideOnly: true }),
    ]);
    const aux = auxiliaryDriver({
      modname: 'x_vdpa',
      name: 'vnet',
      idTable: [{ name: 'x_core.vnet', driverData: 0 }],
      ops: { probe: () => undefined },
      probeClass: 'vfio',
    });
    const mods = new Modules(
      [
        { name: 'alias_probe', builtin: false, sizeBytes: 4096, depends: [], drivers: [drv] },
        { name: 'x_vdpa', builtin: false, sizeBytes: 4096, depends: [], drivers: [aux] },
      ],
      u.host.kernel.core,
      u.host.kernel.log,
    );
    expect(mods.aliases()).toEqual([
      { alias: 'pci:v00001AF4d00001041sv00001AF4sd00001100bc*sc*i*', module: 'alias_probe' },
      { alias: 'pci:v*d*sv*sd*bc02sc*i*', module: 'alias_probe' },
      { alias: 'vfio_pci:v00001F00d00003001sv*sd*bc*sc*i*', module: 'alias_probe' },
      { alias: 'auxiliary:x_core.vnet', module: 'x_vdpa' },
    ]);
  });

  // file2alias ends every PCI alias with a wildcard (add_wildcard, now module_alias_printf(mod, true,
  // ...)): an id with a full class mask gives "...bc02sc00i00*". The model writes no trailing '*'.
  // facts/kernel.md shows only an alias that already ends in '*'.
  it('appends file2alias trailing wildcard to an alias that does not end in one', () => {
    const u = user();
    const drv = pciDriver('alias_full', [pciId({ classCode: 0x020000, classMask: 0xffffff })]);
    const mods = new Modules(
      [{ name: 'alias_full', builtin: false, sizeBytes: 4096, depends: [], drivers: [drv] }],
      u.host.kernel.core,
      u.host.kernel.log,
    );
    expect(mods.aliases()).toEqual([{ alias: 'pci:v*d*sv*sd*bc02sc00i00*', module: 'alias_full' }]);
  });

  it('never autoloads an override-only (vfio_pci:) module from a uevent; a plain id loads', () => {
    const u = user();
    const vfio = pciDriver('vfl_vfio', [pciId({ vendor: 0x1f00, device: 0x3001, overrideOnly: true })]);
    const plain = pciDriver('vfl_plain', [pciId({ vendor: 0x1f00, device: 0x3001 })]);
    const mods = new Modules(
      [
        { name: 'vfl_vfio', builtin: false, sizeBytes: 4096, depends: [], drivers: [vfio] },
        { name: 'vfl_plain', builtin: false, sizeBytes: 4096, depends: [], drivers: [plain] },
      ],
      u.host.kernel.core,
      u.host.kernel.log,
    );
    const vfModalias = 'pci:v00001F00d00003001sv00001F00sd00000001bc12sc00i00';
    expect(mods.resolve(vfModalias)).toEqual(['vfl_plain']);
    const udev = new Udev(mods);
    udev.receive({
      seqnum: 1,
      modeledNs: 0,
      action: 'add',
      devpath: '/devices/pci0000:00/0000:00:03.0/0000:21:00.0',
      subsystem: 'pci',
      env: [['MODALIAS', vfModalias]],
    });
    udev.settle();
    expect(mods.isLoaded('vfl_plain')).toBe(true);
    expect(mods.isLoaded('vfl_vfio')).toBe(false);
    // By name it loads like any module.
    mods.modprobe('vfl_vfio');
    expect(mods.isLoaded('vfl_vfio')).toBe(true);
  });
});

describe('rmmod, modprobe, lsmod', () => {
  it('lsmod lists loaded modules newest first with size, use count and holders', () => {
    const u = user();
    // udev loaded them in the order the add events came: virtio_pci, mnic_core, vfl_accel, then
    // mnic_en for the auxiliary device mnic_core created; pci_stub is built in and not listed.
    expect(u.host.kernel.modules.lsmod()).toBe(
      'Module                  Size  Used by\n' +
        'mnic_en               131072  0\n' +
        'vfl_accel              40960  0\n' +
        'mnic_core            1957888  1 mnic_en\n' +
        'virtio_pci             24576  0\n',
    );
    expect(u.list('/sys/module')).toEqual(['mnic_core', 'mnic_en', 'pci_stub', 'vfl_accel', 'virtio_pci']);
    expect(u.list('/sys/module/mnic_core/holders')).toEqual(['mnic_en']);
    expect(u.read('/sys/module/mnic_core/refcnt')).toBe('1\n');
    expect(u.readlink('/sys/bus/pci/drivers/mnic_core/module')).toBe('../../../../module/mnic_core');
  });

  it('gives rmmod errors in kmod words', () => {
    const m = user().host.kernel.modules;
    expect(moduleError(() => m.rmmod('mnic_core'))).toBe(
      'rmmod: ERROR: Module mnic_core is in use by: mnic_en',
    );
    expect(moduleError(() => m.rmmod('pci_stub'))).toBe('rmmod: ERROR: Module pci_stub is builtin.');
    expect(moduleError(() => m.rmmod('nope'))).toBe('rmmod: ERROR: Module nope is not currently loaded');
    expect(moduleError(() => m.modprobe('nope'))).toMatch(
      /^modprobe: FATAL: Module nope not found in directory \/lib\/modules\//,
    );
    expect(m.isLoaded('mnic_core')).toBe(true);
  });

  it('rmmod mnic_en then mnic_core unbinds their devices; modprobe mnic_core brings both back', () => {
    const u = user();
    const m = u.host.kernel.modules;
    const aux = `${AUX_DEVICES}/mnic_core.eth.0`;
    expect(u.boundTo(aux)).toBe('mnic_en.eth');

    m.rmmod('mnic_en');
    u.host.kernel.settle();
    expect(u.exists(aux)).toBe(true);
    expect(u.exists(`${aux}/driver`)).toBe(false);
    // mnic_core's own SF driver stays with it.
    expect(u.list(AUX_DRIVERS)).toEqual(['mnic_core.sf']);
    expect(u.boundTo(u.dev(MNIC_PF))).toBe('mnic_core');

    m.rmmod('mnic_core');
    u.host.kernel.settle();
    expect(u.exists(`${u.dev(MNIC_PF)}/driver`)).toBe(false);
    expect(u.list(AUX_DEVICES)).toEqual([]);
    expect(u.list('/sys/bus/pci/drivers')).not.toContain('mnic_core');
    expect(u.list('/sys/module')).not.toContain('mnic_core');

    m.modprobe('mnic_core');
    u.host.kernel.settle();
    expect(u.boundTo(u.dev(MNIC_PF))).toBe('mnic_core');
    const [name] = u.list(AUX_DEVICES);
    expect(name).toMatch(/^mnic_core\.eth\.\d+$/);
    expect(u.realpath(`${AUX_DEVICES}/${name}`)).toBe(`${RP_MNIC_DIR}/${MNIC_PF}/${name}`);
    // udev saw MODALIAS=auxiliary:mnic_core.eth and loaded mnic_en, which bound the device.
    expect(m.isLoaded('mnic_en')).toBe(true);
    expect(u.boundTo(`${AUX_DEVICES}/${name}`)).toBe('mnic_en.eth');
    expect(m.lsmod().split('\n')[1]).toMatch(/^mnic_en /);
  });

  it('modprobe -r removes the module and the dependencies nobody else holds', () => {
    const u = user();
    const m = u.host.kernel.modules;
    m.modprobeRemove('mnic_en');
    expect(m.isLoaded('mnic_en')).toBe(false);
    expect(m.isLoaded('mnic_core')).toBe(false);
    expect(u.boundTo(u.dev(MNIC_PF))).toBeUndefined();
    expect(moduleError(() => m.modprobeRemove('pci_stub'))).toBe(
      'modprobe: FATAL: Module pci_stub is builtin.',
    );
  });

  it('rmmod of a PF driver with VFs enabled removes the VFs first', () => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '2\n');
    u.host.kernel.modules.rmmod('vfl_accel');
    u.host.kernel.settle();
    expect(u.exists(u.dev('0000:21:00.0'))).toBe(false);
    expect(u.read(`${u.dev(ACCEL_PF)}/sriov_numvfs`)).toBe('0\n');
    expect(u.boundTo(u.dev(ACCEL_PF))).toBeUndefined();
  });
});

describe('uevents (what udevadm monitor shows)', () => {
  const accelVfEnv = (slot: string) => [
    ['PCI_CLASS', '120000'],
    ['PCI_ID', '1F00:3001'],
    ['PCI_SUBSYS_ID', '1F00:0001'],
    ['PCI_SLOT_NAME', slot],
    ['MODALIAS', 'pci:v00001F00d00003001sv00001F00sd00000001bc12sc00i00'],
  ];
  const accelPfEnv = [
    ['PCI_CLASS', '120000'],
    ['PCI_ID', '1F00:3000'],
    ['PCI_SUBSYS_ID', '1F00:0001'],
    ['PCI_SLOT_NAME', ACCEL_PF],
    ['MODALIAS', 'pci:v00001F00d00003000sv00001F00sd00000001bc12sc00i00'],
  ];
  const vf0 = '/devices/pci0000:00/0000:00:03.0/0000:21:00.0';
  const vf1 = '/devices/pci0000:00/0000:00:03.0/0000:21:01.0';
  const pf = '/devices/pci0000:00/0000:00:03.0/0000:20:00.0';
  const drv = ['DRIVER', 'vfl_accel'];

  it('enable: add and bind per VF, then one change on the PF; disable: unbind and remove per VF', () => {
    const u = user();
    const k = u.host.kernel;
    let mark = k.udev.events.length;
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '2\n');
    const enable = k.udev.events.slice(mark);
    expect(enable.map((e) => [e.action, e.devpath, e.subsystem, e.env])).toEqual([
      ['add', vf0, 'pci', accelVfEnv('0000:21:00.0')],
      ['bind', vf0, 'pci', [drv, ...accelVfEnv('0000:21:00.0')]],
      ['add', vf1, 'pci', accelVfEnv('0000:21:01.0')],
      ['bind', vf1, 'pci', [drv, ...accelVfEnv('0000:21:01.0')]],
      ['change', pf, 'pci', [drv, ...accelPfEnv]],
    ]);
    // Sequence numbers rise by one; the probe (core class, 50 ms) lies between add and bind.
    expect(enable.map((e) => e.seqnum - enable[0]!.seqnum)).toEqual([0, 1, 2, 3, 4]);
    expect(enable[1]!.modeledNs - enable[0]!.modeledNs).toBeGreaterThanOrEqual(CORE_PROBE_NS);

    mark = k.udev.events.length;
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '0\n');
    // sriov_disable sends no change of its own (facts 5.3 lists it only for sriov_enable).
    expect(k.udev.events.slice(mark).map((e) => [e.action, e.devpath, e.env])).toEqual([
      ['unbind', vf0, accelVfEnv('0000:21:00.0')],
      ['remove', vf0, accelVfEnv('0000:21:00.0')],
      ['unbind', vf1, accelVfEnv('0000:21:01.0')],
      ['remove', vf1, accelVfEnv('0000:21:01.0')],
    ]);
  });

  it('the auxiliary device comes and goes with mnic_core, announced with its MODALIAS', () => {
    const u = user();
    const k = u.host.kernel;
    const auxPath = '/devices/pci0000:00/0000:00:02.0/0000:10:00.0/mnic_core.eth.0';
    const mnicPf = '/devices/pci0000:00/0000:00:02.0/0000:10:00.0';
    const alias = ['MODALIAS', 'auxiliary:mnic_core.eth'];
    let mark = k.udev.events.length;
    k.modules.rmmod('mnic_en');
    k.modules.rmmod('mnic_core');
    k.settle();
    expect(k.udev.events.slice(mark).map((e) => [e.action, e.devpath, e.subsystem, e.env])).toEqual([
      ['unbind', auxPath, 'auxiliary', [alias]],
      ['remove', auxPath, 'auxiliary', [alias]],
      [
        'unbind',
        mnicPf,
        'pci',
        [
          ['PCI_CLASS', '20000'],
          ['PCI_ID', '1F00:1021'],
          ['PCI_SUBSYS_ID', '1F00:0001'],
          ['PCI_SLOT_NAME', MNIC_PF],
          ['MODALIAS', 'pci:v00001F00d00001021sv00001F00sd00000001bc02sc00i00'],
        ],
      ],
    ]);
    mark = k.udev.events.length;
    k.modules.modprobe('mnic_core');
    k.settle();
    const back = k.udev.events.slice(mark).map((e) => [e.action, e.subsystem, e.env[0]]);
    expect(back).toEqual([
      ['add', 'auxiliary', alias],
      ['bind', 'pci', ['DRIVER', 'mnic_core']],
      ['bind', 'auxiliary', ['DRIVER', 'mnic_en.eth']],
    ]);
  });
});
