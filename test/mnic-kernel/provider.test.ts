/**
 * The NIC's FunctionProvider (issue 6 §4): kinds and drivers, capacity, all-or-nothing batched
 * creation (a firmware failure injected midway leaves no function, device, port or binding), destroy
 * rules, and deterministic modeled cost. VFIO drivers are test stubs that only record their probes:
 * the provider's job ends at the device the VFIO driver binds to.
 */
import { describe, expect, it } from 'vitest';
import { pciDeviceId } from '../../src/kernel/drivers/sriov-pf.js';
import type { FunctionProvider } from '../../src/kernel/fnctl/provider.js';
import { auxiliaryDriver, Driver } from '../../src/kernel/index.js';
import { FakeNic } from './fake-fw.js';
import { type FakeHost, fakeHost, MNIC_PF, MS, mac, nlErr, residue } from './support.js';

const provider = (h: FakeHost): FunctionProvider => h.k.functions.find('pci', MNIC_PF)!;

/** Stand-ins for vfio_mnic_aux and mnic_vfio_pci: they bind and name a "vfio<N>" device. */
function vfioStubs(h: FakeHost): string[] {
  const probed: string[] = [];
  let minor = 0;
  const probe = (dev: { name: string; driverData: unknown }) => {
    probed.push(dev.name);
    dev.driverData = { vdev: { name: `vfio${minor++}` } };
  };
  h.k.core.driverRegister(
    auxiliaryDriver({
      modname: 'vfio_mnic_aux',
      name: 'vfio',
      idTable: [{ name: 'mnic_core.vfio', driverData: 0 }],
      probeClass: 'vfio',
      ops: { probe },
    }),
  );
  h.k.core.driverRegister(
    new Driver({
      name: 'mnic_vfio_pci',
      module: 'mnic_vfio_pci',
      probeClass: 'vfio',
      ops: { probe },
      data: { bus: 'pci', idTable: [{ ...pciDeviceId(0x1f00, 0x1022), overrideOnly: true }], dynIds: [] },
    }),
  );
  return probed;
}

const params = (
  driver: 'vfio' | 'net' | 'vdpa' | 'none',
  extra: { mac?: Uint8Array; migratable?: boolean } = {},
) => ({
  driver,
  migratable: false,
  ...extra,
});

describe('kinds, drivers and capacity', () => {
  it('offers vf, sf and siov with the drivers that fit each', () => {
    const p = provider(fakeHost(new FakeNic({ maxSfs: 8, maxSiovFns: 100 })));
    expect(p.kinds).toEqual(['vf', 'sf', 'siov']);
    expect(p.driversFor('vf')).toEqual(['vfio', 'net', 'none']);
    expect(p.driversFor('sf')).toEqual(['vfio', 'net', 'vdpa', 'none']);
    expect(p.driversFor('siov')).toEqual(['vfio', 'none']);
    expect(p.capacity('vf')).toBe(127);
    expect(p.capacity('sf')).toBe(0); // legacy eswitch mode
    expect(p.capacity('siov')).toBe(100);
  });

  it.each([
    ['siov', 'net', 'EINVAL: mnic_core: siov functions take drivers vfio, none'],
    ['siov', 'vdpa', 'EINVAL: mnic_core: siov functions take drivers vfio, none'],
    ['vf', 'vdpa', 'EINVAL: mnic_core: vf functions take drivers vfio, net, none'],
    ['sf', 'vfio', 'EOPNOTSUPP: mnic_core: SF ports are only supported in eswitch switchdev mode.'],
  ] as const)('%s with driver %s: %s', (kind, driver, expected) => {
    const h = fakeHost();
    const before = residue(h.k);
    expect(nlErr(() => provider(h).create(kind, 2, params(driver)))).toBe(expected);
    expect(residue(h.k)).toEqual(before);
  });

  it('bad counts, capacity and a missing migration capability are refused before anything is made', () => {
    const h = fakeHost(new FakeNic({ maxSiovFns: 4, migration: false }));
    const p = provider(h);
    expect(nlErr(() => p.create('siov', 0, params('vfio')))).toBe(
      'EINVAL: mnic_core: count must be at least 1',
    );
    expect(nlErr(() => p.create('siov', 5, params('vfio')))).toBe(
      'ENOSPC: mnic_core: only 4 more siov functions fit',
    );
    expect(nlErr(() => p.create('siov', 1, params('vfio', { migratable: true })))).toBe(
      "EOPNOTSUPP: mnic_core: Device doesn't support migration",
    );
    expect(h.nic.calls).not.toContain('CREATE_SIOV_FNS');
  });
});

describe('siov: one firmware command, then VFIO devices carved directly', () => {
  it('makes N "mnic_core.vfio.<idx>" devices with guest and hypervisor RIDs and no other probe', () => {
    const h = fakeHost();
    const probed = vfioStubs(h);
    const mark = h.nic.calls.length;
    const made = provider(h).create(
      'siov',
      3,
      params('vfio', { mac: mac('02:00:00:00:10:00'), migratable: true }),
    );
    expect(h.nic.calls.slice(mark).filter((c) => c === 'CREATE_SIOV_FNS')).toHaveLength(1);
    expect(made.map((f) => [f.id, f.devName, f.rid, f.hypervisorRid, f.boundAs])).toEqual([
      [0, 'mnic_core.vfio.1', '40:00.0', '40:00.1', 'vfio0'],
      [1, 'mnic_core.vfio.2', '40:00.2', '40:00.3', 'vfio1'],
      [2, 'mnic_core.vfio.3', '40:00.4', '40:00.5', 'vfio2'],
    ]);
    expect(made[2]!.mac).toEqual(mac('02:00:00:00:10:02'));
    expect(probed).toEqual(['mnic_core.vfio.1', 'mnic_core.vfio.2', 'mnic_core.vfio.3']);
    expect(residue(h.k).netdevs).toEqual(['enp16s0f0']);
    const dev = h.k.core.findDevice('auxiliary', 'mnic_core.vfio.2')!;
    expect(dev.parent).toBe(h.pf);
    expect(h.nic.fns.get(0x10001)).toMatchObject({ state: 2, caps: { migratable: true } });
    expect(provider(h).capacity('siov')).toBe(2048 - 3);
  });

  it('enables all N with one ENABLE_HCA list and disables them with one DISABLE_HCA list', () => {
    const h = fakeHost();
    vfioStubs(h);
    const mark = h.nic.calls.length;
    const made = provider(h).create('siov', 4, params('vfio'));
    const calls = () => h.nic.calls.slice(mark);
    expect(calls()).toEqual(['CREATE_SIOV_FNS', 'ENABLE_HCA_LIST']);
    expect([...h.nic.fns.values()].filter((f) => f.handle.kind === 'siov').map((f) => f.state)).toEqual([
      2, 2, 2, 2,
    ]);
    provider(h).destroy(made.map((f) => f.id));
    expect(calls()).toEqual(['CREATE_SIOV_FNS', 'ENABLE_HCA_LIST', 'DISABLE_HCA_LIST', 'DESTROY_SIOV_FNS']);
    expect(h.nic.siovCount).toBe(0);
  });

  it.each([
    ['the ENABLE_HCA list', 'ENABLE_HCA_LIST', 1],
    ['the 3rd SET_FN_HW_ADDR', 'SET_FN_HW_ADDR', 3],
    ['the 2nd SET_FN_CAPS', 'SET_FN_CAPS', 2],
  ])('a failure at %s leaves nothing: no device, no firmware function', (_what, cmd, nth) => {
    const h = fakeHost();
    vfioStubs(h);
    const before = residue(h.k);
    h.nic.failNth(cmd, nth, 'EIO');
    const p = params('vfio', { mac: mac('02:00:00:00:50:00'), migratable: true });
    expect(nlErr(() => provider(h).create('siov', 5, p))).toMatch(/^EIO: mnic_core: creating 5 siov/);
    expect(residue(h.k)).toEqual(before);
    expect(h.nic.siovCount).toBe(0);
    expect(provider(h).list()).toEqual([]);
    // Nothing was enabled, so the unwind disables nothing.
    expect(h.nic.calls).not.toContain('DISABLE_HCA_LIST');
    // The ids freed by the unwind are reused: the next creation looks like the first.
    expect(provider(h).create('siov', 1, params('vfio'))[0]!.devName).toBe('mnic_core.vfio.1');
  });

  it('destroy checks every id first (ENOENT, nothing destroyed), then removes devices and functions', () => {
    const h = fakeHost();
    vfioStubs(h);
    const before = residue(h.k);
    const p = provider(h);
    const made = p.create('siov', 4, params('vfio'));
    expect(nlErr(() => p.destroy([made[0]!.id, 99]))).toBe('ENOENT: mnic_core: no function 99');
    expect(p.list()).toHaveLength(4);
    p.destroy([made[1]!.id, made[2]!.id]);
    expect(p.list().map((f) => f.devName)).toEqual(['mnic_core.vfio.1', 'mnic_core.vfio.4']);
    expect(h.nic.siovCount).toBe(2);
    p.destroy(p.list().map((f) => f.id));
    expect(residue(h.k)).toEqual(before);
    expect(h.nic.siovCount).toBe(0);
  });

  it('the eswitch cannot leave switchdev mode while SIOV functions exist', () => {
    const h = fakeHost();
    const i = h.k.devlink.find('pci', MNIC_PF)!;
    i.ops.eswitchModeSet!(1);
    const made = provider(h).create('siov', 1, params('none'));
    expect(nlErr(() => i.ops.eswitchModeSet!(0))).toBe(
      "EBUSY: mnic_core: Can't change E-Switch mode to legacy while SIOV functions exist",
    );
    expect(i.ops.eswitchModeGet!()).toBe(1);
    provider(h).destroy([made[0]!.id]);
    i.ops.eswitchModeSet!(0);
  });

  it('driver none makes the functions and no device', () => {
    const h = fakeHost();
    const before = residue(h.k);
    const made = provider(h).create('siov', 2, params('none'));
    expect(made.map((f) => f.devName)).toEqual(['', '']);
    expect(residue(h.k)).toEqual(before);
    expect(h.nic.siovCount).toBe(2);
  });
});

describe('sf', () => {
  it('vfio: an SF port each, and the VFIO device carved directly (no SF driver, no netdev)', () => {
    const h = fakeHost();
    const probed = vfioStubs(h);
    const i = h.k.devlink.find('pci', MNIC_PF)!;
    i.ops.eswitchModeSet!(1);
    const made = provider(h).create('sf', 2, params('vfio'));
    expect(made.map((f) => [f.devName, f.rid, f.boundAs])).toEqual([
      ['mnic_core.vfio.1', '10:00.0', 'vfio0'],
      ['mnic_core.vfio.2', '10:00.0', 'vfio1'],
    ]);
    expect(probed).toEqual(['mnic_core.vfio.1', 'mnic_core.vfio.2']);
    expect(i.ports.filter((p) => p.flavour === 7).map((p) => [p.index, p.fn!().state])).toEqual([
      [32768, 'active'],
      [32769, 'active'],
    ]);
    expect(residue(h.k).aux).toEqual(['mnic_core.eth.0', 'mnic_core.vfio.1', 'mnic_core.vfio.2']);
    provider(h).destroy(made.map((f) => f.id));
    expect(i.ports.filter((p) => p.flavour === 7)).toEqual([]);
    expect(h.nic.sfCount).toBe(0);
  });

  it('SFs the API made and devlink then deleted are gone from the API too', () => {
    const h = fakeHost();
    vfioStubs(h);
    const i = h.k.devlink.find('pci', MNIC_PF)!;
    i.ops.eswitchModeSet!(1);
    const made = provider(h).create('sf', 2, params('vfio'));
    i.ops.portDel!(i.port(32768)!);
    expect(
      provider(h)
        .list()
        .map((f) => f.id),
    ).toEqual([made[1]!.id]);
    i.ops.eswitchModeSet!(0);
    expect(provider(h).list()).toEqual([]);
    expect(nlErr(() => provider(h).destroy([made[1]!.id]))).toMatch(/^ENOENT/);
    expect(h.nic.sfCount).toBe(0);
  });

  it('activates all SFs with one ENABLE_HCA list', () => {
    const h = fakeHost();
    vfioStubs(h);
    h.k.devlink.find('pci', MNIC_PF)!.ops.eswitchModeSet!(1);
    const mark = h.nic.calls.length;
    provider(h).create('sf', 3, params('vfio'));
    expect(h.nic.calls.slice(mark)).toEqual(['ALLOC_SF', 'ALLOC_SF', 'ALLOC_SF', 'ENABLE_HCA_LIST']);
  });

  it.each([
    ['the ENABLE_HCA list', 'ENABLE_HCA_LIST', 1],
    ['the 2nd ALLOC_SF', 'ALLOC_SF', 2],
  ])('a failure at %s unwinds every SF, its port and its device', (_what, cmd, nth) => {
    const h = fakeHost();
    vfioStubs(h);
    const i = h.k.devlink.find('pci', MNIC_PF)!;
    i.ops.eswitchModeSet!(1);
    const before = residue(h.k);
    const ports = i.ports.length;
    h.nic.failNth(cmd, nth, 'EIO');
    expect(nlErr(() => provider(h).create('sf', 3, params('vfio')))).toMatch(/^EIO/);
    expect(residue(h.k)).toEqual(before);
    expect(i.ports.length).toBe(ports);
    expect(h.nic.sfCount).toBe(0);
    expect(provider(h).list()).toEqual([]);
  });

  it('net and vdpa go through the SF driver with only eth or only vnet; vdpa also makes the vDPA device', () => {
    const h = fakeHost();
    h.k.devlink.find('pci', MNIC_PF)!.ops.eswitchModeSet!(1);
    const net = provider(h).create('sf', 1, params('net'));
    expect(net[0]).toMatchObject({ devName: 'mnic_core.sf.0', boundAs: 'enp16s0f0s1048576' });
    const vdpa = provider(h).create('sf', 1, params('vdpa', { mac: mac('02:00:00:00:20:00') }));
    expect(vdpa[0]).toMatchObject({ devName: 'mnic_core.sf.1', boundAs: 'vdpa0' });
    expect(residue(h.k)).toMatchObject({
      aux: ['mnic_core.eth.0', 'mnic_core.sf.0', 'mnic_core.eth.1', 'mnic_core.sf.1', 'mnic_core.vnet.2'],
      vdpa: ['vdpa0'],
    });
    expect(h.k.vdpa.device('vdpa0')!.config().mac).toEqual(mac('02:00:00:00:20:00'));
    provider(h).destroy([...net, ...vdpa].map((f) => f.id));
    expect(residue(h.k)).toMatchObject({ aux: ['mnic_core.eth.0'], vdpa: [], vdpaMgmt: [] });
  });
});

describe('vf', () => {
  it('vfio: VFs go straight to mnic_vfio_pci through driver_override, no native probe', () => {
    const h = fakeHost();
    const probed = vfioStubs(h);
    const made = provider(h).create('vf', 3, params('vfio', { mac: mac('02:00:00:00:30:00') }));
    expect(made.map((f) => [f.devName, f.rid, f.boundAs])).toEqual([
      ['0000:10:00.1', '10:00.1', 'vfio0'],
      ['0000:10:00.2', '10:00.2', 'vfio1'],
      ['0000:10:00.3', '10:00.3', 'vfio2'],
    ]);
    expect(probed).toEqual(['0000:10:00.1', '0000:10:00.2', '0000:10:00.3']);
    expect(residue(h.k).aux).toEqual(['mnic_core.eth.0']);
    expect(h.nic.fns.get(3)!.mac).toEqual(mac('02:00:00:00:30:02'));
    // VF autoprobe is back as it was.
    expect(h.k.sysfs.read(`/sys/bus/pci/devices/${MNIC_PF}/sriov_drivers_autoprobe`)).toBe('1\n');
    expect(nlErr(() => provider(h).create('vf', 1, params('vfio')))).toBe(
      'EBUSY: mnic_core: VFs are already enabled; destroy them before creating others',
    );
    expect(nlErr(() => provider(h).destroy([made[0]!.id]))).toBe(
      'EINVAL: mnic_core: VFs are destroyed together: name all of them',
    );
    provider(h).destroy(made.map((f) => f.id));
    expect(h.k.pciNumVf(h.pf)).toBe(0);
  });

  it('net: each VF takes the full native path (core probe, then a netdev)', () => {
    const h = fakeHost();
    const made = provider(h).create('vf', 2, params('net'));
    expect(made.map((f) => f.boundAs)).toEqual(['enp16s0f1', 'enp16s0f2']);
    expect(residue(h.k).aux).toEqual(['mnic_core.eth.0', 'mnic_core.eth.1', 'mnic_core.eth.2']);
  });

  it('a firmware failure at the 2nd VF turns SR-IOV off again: no VF, no binding, no port', () => {
    const h = fakeHost();
    vfioStubs(h);
    h.k.devlink.find('pci', MNIC_PF)!.ops.eswitchModeSet!(1);
    const before = residue(h.k);
    const ports = h.k.devlink.find('pci', MNIC_PF)!.ports.length;
    h.nic.failNth('SET_FN_HW_ADDR', 2, 'EIO');
    expect(
      nlErr(() => provider(h).create('vf', 3, params('vfio', { mac: mac('02:00:00:00:40:00') }))),
    ).toMatch(/^EIO/);
    expect(h.k.pciNumVf(h.pf)).toBe(0);
    expect(h.k.devlink.find('pci', MNIC_PF)!.ports.length).toBe(ports);
    expect(residue(h.k)).toEqual(before);
    expect(provider(h).list()).toEqual([]);
  });

  it('without the VFIO driver nothing is made', () => {
    const h = fakeHost();
    const before = residue(h.k);
    expect(nlErr(() => provider(h).create('vf', 2, params('vfio')))).toBe(
      'EOPNOTSUPP: mnic_core: driver mnic_vfio_pci is not available',
    );
    expect(h.k.pciNumVf(h.pf)).toBe(0);
    expect(residue(h.k)).toEqual(before);
  });
});

describe('modeled cost', () => {
  it('is deterministic and orders the paths as the seed mail says', () => {
    const cost = (kind: 'vf' | 'siov', driver: 'vfio' | 'net', n: number): number => {
      const h = fakeHost();
      vfioStubs(h);
      const t0 = h.host.clock.nowNs;
      provider(h).create(kind, n, params(driver));
      return h.host.clock.nowNs - t0;
    };
    expect(cost('siov', 'vfio', 20)).toBe(cost('siov', 'vfio', 20));
    // siov → VFIO: one vfio-class probe per function (1 ms), firmware commands aside.
    expect(cost('siov', 'vfio', 20)).toBeGreaterThanOrEqual(20 * MS);
    expect(cost('siov', 'vfio', 20)).toBeLessThan(30 * MS);
    // VF → net: the 100 ms enable wait, then per VF a core probe (50 ms) and a netdev probe (400 ms).
    expect(cost('vf', 'net', 4)).toBeGreaterThanOrEqual(100 * MS + 4 * 450 * MS);
  });
});
