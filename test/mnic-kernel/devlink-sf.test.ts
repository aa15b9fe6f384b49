/**
 * mnic_core's devlink instance, ports and the SF lifecycle (facts/kernel.md 7.1-7.3), called through
 * DevlinkOps as the devlink family calls them. Expected texts, errnos, indexes and states are written
 * out from the facts and from mlx5's sf/devlink.c extack strings (prefixed "mnic_core: ").
 */
import { describe, expect, it } from 'vitest';
import type { DevlinkInstance, DevlinkPortNewRequest } from '../../src/kernel/devlink/registry.js';
import { FakeNic } from './fake-fw.js';
import { type FakeHost, fakeHost, MNIC_PF, mac, nlErr, residue } from './support.js';

const PCISF = 7;
const PCIVF = 4;
const PCIPF = 3;
const PHYSICAL = 0;

const inst = (h: FakeHost): DevlinkInstance => h.k.devlink.find('pci', MNIC_PF)!;
const ports = (i: DevlinkInstance): [number, number][] => i.ports.map((p) => [p.index, p.flavour]);
const sfReq = (o: Partial<DevlinkPortNewRequest> = {}): DevlinkPortNewRequest => ({
  flavour: PCISF,
  pfnum: 0,
  sfnum: 88,
  ...o,
});

function switchdev(h: FakeHost): DevlinkInstance {
  const i = inst(h);
  i.ops.eswitchModeSet!(1);
  return i;
}

describe('the PF devlink instance', () => {
  it('is pci/<bdf> with the uplink port in legacy mode; switchdev adds the PF and VF ports', () => {
    const h = fakeHost();
    const i = inst(h);
    expect(h.k.devlink.instances.map((x) => x.handle)).toEqual(['pci/0000:10:00.0']);
    expect(i.ops.eswitchModeGet!()).toBe(0);
    expect(ports(i)).toEqual([[65535, PHYSICAL]]);
    expect(i.port(65535)).toMatchObject({ netdevName: 'enp16s0f0', pfnum: 0, type: 2 });
    h.k.sysfs.write(`/sys/bus/pci/devices/${MNIC_PF}/sriov_numvfs`, '2');
    expect(ports(i)).toEqual([[65535, PHYSICAL]]);
    i.ops.eswitchModeSet!(1);
    expect(i.ops.eswitchModeGet!()).toBe(1);
    expect(ports(i)).toEqual([
      [0, PCIPF],
      [1, PCIVF],
      [2, PCIVF],
      [65535, PHYSICAL],
    ]);
    expect(i.port(2)!.vfnum).toBe(1);
    h.k.sysfs.write(`/sys/bus/pci/devices/${MNIC_PF}/sriov_numvfs`, '0');
    expect(ports(i)).toEqual([
      [0, PCIPF],
      [65535, PHYSICAL],
    ]);
    expect(nlErr(() => i.ops.eswitchModeSet!(7))).toBe('EINVAL: mnic_core: Unsupported eswitch mode');
    i.ops.eswitchModeSet!(0);
    expect(ports(i)).toEqual([[65535, PHYSICAL]]);
  });
});

describe('PORT_NEW rules (facts 7.1, 7.3), checked in mlx5 order with state unchanged', () => {
  it('refuses SF ports outside switchdev mode', () => {
    const h = fakeHost();
    expect(nlErr(() => inst(h).ops.portNew!(sfReq()))).toBe(
      'EOPNOTSUPP: mnic_core: SF ports are only supported in eswitch switchdev mode.',
    );
  });

  it.each([
    [{ flavour: PCIVF }, 'EOPNOTSUPP: mnic_core: Driver supports only SF port addition'],
    [{ index: 5 }, 'EOPNOTSUPP: mnic_core: Driver does not support user defined port index assignment'],
    [
      { sfnum: undefined },
      'EOPNOTSUPP: mnic_core: User must provide unique sfnum. Driver does not support auto assignment',
    ],
    [{ controller: 1 }, 'EOPNOTSUPP: mnic_core: External controller is unsupported'],
    [{ pfnum: 1 }, 'EOPNOTSUPP: mnic_core: Invalid pfnum supplied'],
  ])('%o → %s', (o, expected) => {
    const h = fakeHost();
    const i = switchdev(h);
    const before = ports(i);
    expect(nlErr(() => i.ops.portNew!(sfReq(o)))).toBe(expected);
    expect(ports(i)).toEqual(before);
    expect(h.nic.sfCount).toBe(0);
  });

  it('flavour is checked before the index, the index before sfnum', () => {
    const h = fakeHost();
    const i = switchdev(h);
    expect(nlErr(() => i.ops.portNew!(sfReq({ flavour: PCIVF, index: 3, sfnum: undefined })))).toMatch(
      /only SF port addition/,
    );
    expect(nlErr(() => i.ops.portNew!(sfReq({ index: 3, sfnum: undefined })))).toMatch(
      /user defined port index/,
    );
  });

  it('an sfnum in use is EEXIST; controller 0 is accepted', () => {
    const h = fakeHost();
    const i = switchdev(h);
    i.ops.portNew!(sfReq({ controller: 0 }));
    expect(nlErr(() => i.ops.portNew!(sfReq()))).toBe(
      'EEXIST: mnic_core: SF already exist. Choose different sfnum',
    );
    expect(h.nic.sfCount).toBe(1);
  });

  it('a full SF table is ENOSPC and leaves no port', () => {
    const h = fakeHost(new FakeNic({ maxSfs: 1 }));
    const i = switchdev(h);
    i.ops.portNew!(sfReq({ sfnum: 1 }));
    const before = ports(i);
    expect(nlErr(() => i.ops.portNew!(sfReq({ sfnum: 2 })))).toMatch(/^ENOSPC/);
    expect(ports(i)).toEqual(before);
  });

  it('a device without SFs says so first', () => {
    const h = fakeHost(new FakeNic({ maxSfs: 0 }));
    expect(nlErr(() => switchdev(h).ops.portNew!(sfReq()))).toBe(
      'EOPNOTSUPP: mnic_core: SF ports are not supported.',
    );
  });
});

describe('the user flow of facts 7.2', () => {
  it('add, set hw_addr, activate, deactivate, delete: devices appear and go, nothing is left', () => {
    const h = fakeHost();
    const clean = residue(h.k);
    const i = switchdev(h);
    // 2. devlink port add pci/0000:10:00.0 flavour pcisf pfnum 0 sfnum 88
    const port = i.ops.portNew!(sfReq());
    expect(port).toMatchObject({
      index: 32768,
      flavour: PCISF,
      controller: 0,
      pfnum: 0,
      sfnum: 88,
      external: false,
    });
    expect(i.port(32768)).toBe(port);
    expect(port.fn!()).toEqual({
      hwAddr: new Uint8Array(6),
      state: 'inactive',
      opstate: 'detached',
      caps: { roce: true, migratable: false },
    });
    expect(residue(h.k)).toEqual(clean);
    // 3. hw_addr while inactive
    i.ops.portFnHwAddrSet!(port, mac('00:00:00:00:88:88'));
    expect(port.fn!().hwAddr).toEqual(mac('00:00:00:00:88:88'));
    // 4. state active: the SF becomes mnic_core.sf.0, its driver probes, opstate attached
    i.ops.portFnStateSet!(port, 'active');
    expect(port.fn!()).toMatchObject({ state: 'active', opstate: 'attached' });
    const sf = h.k.core.findDevice('auxiliary', 'mnic_core.sf.0')!;
    expect(sf.parent).toBe(h.pf);
    expect(sf.driver?.name).toBe('mnic_core.sf');
    expect(residue(h.k)).toEqual({
      aux: ['mnic_core.eth.0', 'mnic_core.sf.0', 'mnic_core.eth.1', 'mnic_core.vnet.1'],
      devlink: ['pci/0000:10:00.0', 'auxiliary/mnic_core.sf.0'],
      vdpaMgmt: ['auxiliary/mnic_core.sf.0'],
      vdpa: [],
      netdevs: ['enp16s0f0', 'enp16s0f0s88'],
    });
    const eth = h.k.core.findDevice('auxiliary', 'mnic_core.eth.1')!;
    expect(eth.parent).toBe(sf);
    expect(eth.driver?.name).toBe('mnic_en.eth');
    expect(h.k.core.findDevice('auxiliary', 'mnic_core.vnet.1')!.driver?.name).toBe('mnic_vdpa.vnet');
    // Activating again is a no-op.
    expect(nlErr(() => i.ops.portFnStateSet!(port, 'active'))).toBeUndefined();
    // 5. teardown: inactive → detached at once (the SF driver let go), then delete.
    i.ops.portFnStateSet!(port, 'inactive');
    expect(port.fn!()).toMatchObject({ state: 'inactive', opstate: 'detached' });
    expect(residue(h.k)).toEqual(clean);
    i.ops.portDel!(port);
    expect(i.port(32768)).toBeUndefined();
    expect(h.nic.sfCount).toBe(0);
    expect(residue(h.k)).toEqual(clean);
  });

  it('firmware sees ENABLE_HCA, INIT_HCA from the SF, then DISABLE_HCA, TEARDOWN_HCA, DEALLOC_SF', () => {
    const h = fakeHost();
    const i = switchdev(h);
    const port = i.ops.portNew!(sfReq());
    const mark = h.nic.calls.length;
    i.ops.portFnStateSet!(port, 'active');
    i.ops.portFnStateSet!(port, 'inactive');
    i.ops.portDel!(port);
    expect(h.nic.calls.slice(mark).filter((c) => c !== 'QUERY_COUNTERS')).toEqual([
      'ENABLE_HCA',
      'INIT_HCA',
      'DISABLE_HCA',
      'TEARDOWN_HCA',
      'DEALLOC_SF',
    ]);
  });

  it('deleting an active port removes its devices and frees the SF after firmware reports ALLOCATED', () => {
    const h = fakeHost();
    const clean = residue(h.k);
    const i = switchdev(h);
    const port = i.ops.portNew!(sfReq());
    i.ops.portFnStateSet!(port, 'active');
    const mark = h.nic.calls.length;
    i.ops.portDel!(port);
    expect(h.nic.calls.slice(mark)).toEqual(['DISABLE_HCA', 'TEARDOWN_HCA', 'DEALLOC_SF']);
    expect(i.ports.some((p) => p.flavour === PCISF)).toBe(false);
    expect(residue(h.k)).toEqual(clean);
    expect(h.nic.sfCount).toBe(0);
  });

  it('a function still attached after deactivation cannot be activated (EBUSY) and is freed later on delete', () => {
    const h = fakeHost();
    const i = switchdev(h);
    const port = i.ops.portNew!(sfReq());
    i.ops.portFnStateSet!(port, 'active');
    h.nic.failNth('TEARDOWN_HCA', 1, 'EIO');
    i.ops.portFnStateSet!(port, 'inactive');
    // The SF driver is gone, but firmware never heard TEARDOWN_HCA: TEARDOWN_REQUEST, attached.
    expect(port.fn!()).toMatchObject({ state: 'inactive', opstate: 'attached' });
    expect(h.k.core.findDevice('auxiliary', 'mnic_core.sf.0')).toBeUndefined();
    expect(nlErr(() => i.ops.portFnStateSet!(port, 'active'))).toBe(
      'EBUSY: mnic_core: SF is inactivated but it is still attached',
    );
    i.ops.portDel!(port);
    expect(i.port(32768)).toBeUndefined();
    // Deferred free: the hardware SF stays until firmware reports ALLOCATED.
    expect(h.nic.sfCount).toBe(1);
  });

  it('switching back to legacy deletes every SF with its devices', () => {
    const h = fakeHost();
    const clean = residue(h.k);
    const i = switchdev(h);
    i.ops.portFnStateSet!(i.ops.portNew!(sfReq({ sfnum: 1 })), 'active');
    i.ops.portNew!(sfReq({ sfnum: 2 }));
    i.ops.eswitchModeSet!(0);
    expect(ports(i)).toEqual([[65535, PHYSICAL]]);
    expect(h.nic.sfCount).toBe(0);
    expect(residue(h.k)).toEqual(clean);
  });

  it('unbinding mnic_core from the PF leaves nothing: no aux device, devlink, vdpa or netdev', () => {
    const h = fakeHost();
    const i = switchdev(h);
    h.k.sysfs.write(`/sys/bus/pci/devices/${MNIC_PF}/sriov_numvfs`, '1');
    const port = i.ops.portNew!(sfReq());
    i.ops.portFnStateSet!(port, 'active');
    const mgmt = h.k.vdpa.findMgmtDev('auxiliary', 'mnic_core.sf.0')!;
    mgmt.ops.devAdd('vdpa0', {});
    h.k.sysfs.write('/sys/bus/pci/drivers/mnic_core/unbind', MNIC_PF);
    expect(h.pf.driver).toBeUndefined();
    expect(residue(h.k)).toEqual({ aux: [], devlink: [], vdpaMgmt: [], vdpa: [], netdevs: [] });
    expect(h.nic.sfCount).toBe(0);
    expect(h.k.functions.find('pci', MNIC_PF)).toBeUndefined();
  });
});

describe('port function attributes of VF and SF ports', () => {
  it('VF hw_addr and caps go to firmware; caps need an unbound VF and the migration capability', () => {
    const h = fakeHost();
    const i = switchdev(h);
    h.k.sysfs.write(`/sys/bus/pci/devices/${MNIC_PF}/sriov_drivers_autoprobe`, '0');
    h.k.sysfs.write(`/sys/bus/pci/devices/${MNIC_PF}/sriov_numvfs`, '1');
    const vfPort = i.port(1)!;
    i.ops.portFnHwAddrSet!(vfPort, mac('02:00:00:00:00:01'));
    expect(h.nic.fns.get(1)!.mac).toEqual(mac('02:00:00:00:00:01'));
    expect(vfPort.fn!().hwAddr).toEqual(mac('02:00:00:00:00:01'));
    i.ops.portFnCapsSet!(vfPort, { migratable: true });
    expect(vfPort.fn!().caps).toEqual({ roce: true, migratable: true });
    const pfData = h.pf.driverData as { vfMigratable(i: number): boolean };
    expect(pfData.vfMigratable(0)).toBe(true);
    h.k.sysfs.write('/sys/bus/pci/devices/0000:10:00.1/driver_override', 'mnic_core');
    h.k.sysfs.write('/sys/bus/pci/drivers/mnic_core/bind', '0000:10:00.1');
    expect(nlErr(() => i.ops.portFnCapsSet!(vfPort, { migratable: false }))).toBe(
      'EBUSY: mnic_core: VF is bound to a driver; unbind it before changing its caps',
    );
    expect(vfPort.fn!().caps!.migratable).toBe(true);
    expect(nlErr(() => i.ops.portFnStateSet!(vfPort, 'active'))).toBe(
      'EOPNOTSUPP: mnic_core: Port is not an SF port',
    );
  });

  it('SF caps: migratable needs the capability, and not while attached', () => {
    const h = fakeHost(new FakeNic({ migration: false }));
    const i = switchdev(h);
    const port = i.ops.portNew!(sfReq());
    expect(nlErr(() => i.ops.portFnCapsSet!(port, { migratable: true }))).toBe(
      "EOPNOTSUPP: mnic_core: Device doesn't support migration",
    );
    i.ops.portFnCapsSet!(port, { roce: false });
    expect(port.fn!().caps).toEqual({ roce: false, migratable: false });
    i.ops.portFnStateSet!(port, 'active');
    expect(nlErr(() => i.ops.portFnCapsSet!(port, { roce: true }))).toBe(
      'EBUSY: mnic_core: Function is attached to a driver; deactivate it first',
    );
  });
});

describe('which pieces an SF carves: enable_* parameters', () => {
  const param = (i: DevlinkInstance, name: string) => i.ops.params!().find((p) => p.name === name)!;

  it("the PF sf_enable_* defaults decide an SF's pieces; its own enable_* change them at runtime", () => {
    const h = fakeHost();
    const i = switchdev(h);
    expect(i.ops.params!().map((p) => `${p.name}=${p.get('runtime')}`)).toEqual([
      'enable_eth=true',
      'enable_vnet=false',
      'enable_vfio=false',
      'sf_enable_eth=true',
      'sf_enable_vnet=true',
      'sf_enable_vfio=false',
    ]);
    param(i, 'sf_enable_eth').set('runtime', false);
    param(i, 'sf_enable_vnet').set('runtime', false);
    param(i, 'sf_enable_vfio').set('runtime', true);
    i.ops.portFnStateSet!(i.ops.portNew!(sfReq()), 'active');
    expect(residue(h.k).aux).toEqual(['mnic_core.eth.0', 'mnic_core.sf.0', 'mnic_core.vfio.1']);
    const sfi = h.k.devlink.find('auxiliary', 'mnic_core.sf.0')!;
    param(sfi, 'enable_eth').set('runtime', true);
    param(sfi, 'enable_vfio').set('runtime', false);
    expect(residue(h.k).aux).toEqual(['mnic_core.eth.0', 'mnic_core.sf.0', 'mnic_core.eth.1']);
    expect(nlErr(() => param(sfi, 'enable_eth').set('runtime', 3))).toBe(
      'EINVAL: Parameter enable_eth takes a bool',
    );
  });

  it('a VF bound to mnic_core has its own instance; its enable_vnet names the management device after the VF', () => {
    const h = fakeHost();
    h.k.sysfs.write(`/sys/bus/pci/devices/${MNIC_PF}/sriov_numvfs`, '1');
    const vf = h.k.devlink.find('pci', '0000:10:00.1')!;
    expect(residue(h.k).netdevs).toEqual(['enp16s0f0', 'enp16s0f1']);
    param(vf, 'enable_vnet').set('runtime', true);
    expect(residue(h.k).vdpaMgmt).toEqual(['pci/0000:10:00.1']);
    h.k.sysfs.write(`/sys/bus/pci/devices/${MNIC_PF}/sriov_numvfs`, '0');
    expect(residue(h.k)).toMatchObject({
      devlink: ['pci/0000:10:00.0'],
      vdpaMgmt: [],
      netdevs: ['enp16s0f0'],
    });
  });

  it('enable_vnet on the PF carves mnic_core.vnet.0 and a management device pci/<bdf>', () => {
    const h = fakeHost();
    param(inst(h), 'enable_vnet').set('runtime', true);
    expect(residue(h.k).vdpaMgmt).toEqual(['pci/0000:10:00.0']);
    param(inst(h), 'enable_vnet').set('runtime', false);
    expect(residue(h.k).vdpaMgmt).toEqual([]);
  });
});
