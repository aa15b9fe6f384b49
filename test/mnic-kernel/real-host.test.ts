/**
 * The mnic drivers on a Lab.default() host, over the NIC's real firmware (the hardware model and the
 * mailbox client): the facts 7.2 user flow with udev autoload of mnic_vdpa and vfio_mnic_aux, the SF's
 * netdev counters through `ethtool -S`, vDPA add/del through the management device, and rmmod of
 * everything with SFs up leaving nothing behind. Expectations are written out from the facts.
 */
import { describe, expect, it } from 'vitest';
import type { Kernel, Netdev } from '../../src/kernel/index.js';
import { ethtoolCommand } from '../../src/lab/commands/ethtool.js';
import { type Host, Lab } from '../../src/lab/index.js';
import { MNIC_PF, MS, mac, nlErr, residue } from './support.js';

function real(): { host: Host; k: Kernel } {
  const host = Lab.default().host();
  return { host, k: host.kernel };
}

function ethtool(k: Kernel, name: string): string {
  let out = '';
  ethtoolCommand(k).run(['-S', name], { out: (t) => (out += t), err: (t) => (out += t) });
  return out;
}

const pfInst = (k: Kernel) => k.devlink.find('pci', MNIC_PF)!;

describe('facts 7.2 on the default host', () => {
  it('activating an SF autoloads mnic_vdpa for its vnet piece; its netdev counts from firmware', () => {
    const { k } = real();
    const clean = residue(k);
    expect(clean).toEqual({
      aux: ['mnic_core.eth.0'],
      devlink: ['pci/0000:10:00.0'],
      vdpaMgmt: [],
      vdpa: [],
      netdevs: ['enp16s0f0'],
    });
    expect(k.modules.isLoaded('mnic_vdpa')).toBe(false);
    const i = pfInst(k);
    i.ops.eswitchModeSet!(1);
    const port = i.ops.portNew!({ flavour: 7, pfnum: 0, sfnum: 88 });
    expect(port.index).toBe(32768);
    i.ops.portFnHwAddrSet!(port, mac('00:00:00:00:88:88'));
    const mark = k.udev.events.length;
    i.ops.portFnStateSet!(port, 'active');
    k.settle();
    expect(k.modules.isLoaded('mnic_vdpa')).toBe(true);
    expect(
      k.udev.events
        .slice(mark)
        .filter((e) => e.action === 'add')
        .map((e) => Object.fromEntries(e.env)['MODALIAS']),
    ).toEqual(['auxiliary:mnic_core.sf', 'auxiliary:mnic_core.eth', 'auxiliary:mnic_core.vnet']);
    expect(port.fn!()).toMatchObject({
      state: 'active',
      opstate: 'attached',
      hwAddr: mac('00:00:00:00:88:88'),
    });
    expect(residue(k)).toEqual({
      aux: ['mnic_core.eth.0', 'mnic_core.sf.0', 'mnic_core.eth.1', 'mnic_core.vnet.1'],
      devlink: ['pci/0000:10:00.0', 'auxiliary/mnic_core.sf.0'],
      vdpaMgmt: ['auxiliary/mnic_core.sf.0'],
      vdpa: [],
      netdevs: ['enp16s0f0', 'enp16s0f0s88'],
    });
    expect(k.core.findDevice('auxiliary', 'mnic_core.vnet.1')!.driver?.name).toBe('mnic_vdpa.vnet');
    expect((k.net.byName('enp16s0f0s88') as Netdev).mac).toEqual(mac('00:00:00:00:88:88'));
    expect(ethtool(k, 'enp16s0f0s88')).toMatch(
      /^NIC statistics:\n {5}rx_packets: \d+\n {5}rx_bytes: \d+\n {5}tx_packets: \d+\n {5}tx_bytes: \d+\n$/,
    );
    i.ops.portFnStateSet!(port, 'inactive');
    expect(port.fn!()).toMatchObject({ state: 'inactive', opstate: 'detached' });
    i.ops.portDel!(port);
    k.settle();
    expect(residue(k)).toEqual(clean);
    expect(k.sysfs.list('/sys/bus/auxiliary/devices')).toEqual(['mnic_core.eth.0']);
    expect(k.sysfs.list('/sys/bus/auxiliary/drivers/mnic_core.sf')).not.toContain('mnic_core.sf.0');
  });

  it('an SF with enable_vfio gets a VFIO device from vfio_mnic_aux, autoloaded; deactivation removes it', () => {
    const { k } = real();
    const i = pfInst(k);
    i.ops.eswitchModeSet!(1);
    for (const [name, v] of [
      ['sf_enable_eth', false],
      ['sf_enable_vnet', false],
      ['sf_enable_vfio', true],
    ] as const)
      i.ops.params!()
        .find((p) => p.name === name)!
        .set('runtime', v);
    const port = i.ops.portNew!({ flavour: 7, pfnum: 0, sfnum: 5 });
    i.ops.portFnStateSet!(port, 'active');
    k.settle();
    const dev = k.core.findDevice('auxiliary', 'mnic_core.vfio.1')!;
    expect(dev.parent?.name).toBe('mnic_core.sf.0');
    expect(dev.driver?.name).toBe('vfio_mnic_aux.vfio');
    expect(k.vfio.devices.map((d) => d.dev.name)).toEqual(['mnic_core.vfio.1']);
    // No netdev for the SF: the list holds the virtio PF's and the NIC PF's.
    expect(k.net.driverNetdevs.map((n) => n.name)).toEqual(['enp1s0f0', 'enp16s0f0']);
    i.ops.portFnStateSet!(port, 'inactive');
    expect(k.core.findDevice('auxiliary', 'mnic_core.vfio.1')).toBeUndefined();
    expect(k.vfio.devices).toEqual([]);
  });

  it('vdpa dev add/del through the SF management device, with its rules', () => {
    const { k } = real();
    const i = pfInst(k);
    i.ops.eswitchModeSet!(1);
    i.ops.portFnStateSet!(i.ops.portNew!({ flavour: 7, pfnum: 0, sfnum: 1 }), 'active');
    k.settle();
    const m = k.vdpa.findMgmtDev('auxiliary', 'mnic_core.sf.0')!;
    expect(m.supportedClasses).toBe(1n << 1n);
    expect(m.maxSupportedVqs).toBe(17);
    expect(nlErr(() => m.ops.devAdd('vdpa0', { maxVqPairs: 9 }))).toBe(
      'EINVAL: mnic_vdpa: max_vqp must be 1..8',
    );
    expect(nlErr(() => m.ops.devAdd('vdpa0', { mtu: 67 }))).toBe('EINVAL: mnic_vdpa: mtu must be 68..9000');
    expect(k.vdpa.devices).toEqual([]);
    const d = m.ops.devAdd('vdpa0', { mac: mac('02:00:00:00:00:aa'), mtu: 9000, maxVqPairs: 4 });
    expect(d.config()).toEqual({ mac: mac('02:00:00:00:00:aa'), mtu: 9000, maxVqPairs: 4 });
    expect(k.vdpa.devices.map((x) => [x.name, x.mgmt.dev, x.maxVqs])).toEqual([
      ['vdpa0', 'mnic_core.sf.0', 17],
    ]);
    expect(nlErr(() => m.ops.devAdd('vdpa0', {}))).toBe('EEXIST: mnic_vdpa: device vdpa0 exists');
    expect(nlErr(() => m.ops.devAdd('vdpa1', {}))).toBe(
      'ENOSPC: mnic_vdpa: the management device already has its vDPA device',
    );
    m.ops.devDel(d);
    expect(k.vdpa.devices).toEqual([]);
    // A device left on the SF goes with the SF.
    m.ops.devAdd('vdpa1', {});
    i.ops.eswitchModeSet!(0);
    expect(residue(k)).toMatchObject({ vdpaMgmt: [], vdpa: [] });
  });

  it('removing the modules with SFs up leaves nothing: aux devices, devlink, vdpa, netdevs', () => {
    const { k } = real();
    const i = pfInst(k);
    i.ops.eswitchModeSet!(1);
    for (const sfnum of [1, 2])
      i.ops.portFnStateSet!(i.ops.portNew!({ flavour: 7, pfnum: 0, sfnum }), 'active');
    k.settle();
    k.vdpa.findMgmtDev('auxiliary', 'mnic_core.sf.1')!.ops.devAdd('vdpa0', {});
    k.modules.rmmod('mnic_vdpa');
    expect(residue(k)).toMatchObject({ vdpaMgmt: [], vdpa: [] });
    k.modules.rmmod('mnic_en');
    expect(residue(k).netdevs).toEqual([]);
    k.modules.rmmod('mnic_core');
    k.settle();
    expect(residue(k)).toEqual({ aux: [], devlink: [], vdpaMgmt: [], vdpa: [], netdevs: [] });
    expect(k.sysfs.list('/sys/bus/auxiliary/devices')).toEqual([]);
    expect(k.sysfs.list(`/sys/bus/pci/devices/${MNIC_PF}`).filter((n) => n.startsWith('mnic_core'))).toEqual(
      [],
    );
    expect(k.functions.find('pci', MNIC_PF)).toBeUndefined();
    // Loading it again starts from scratch: legacy mode (firmware kept switchdev, the driver reads it).
    k.modules.modprobe('mnic_core');
    k.settle();
    expect(residue(k).aux).toEqual(['mnic_core.eth.0']);
  });
});

describe('the creation API on the default host', () => {
  it('siov → vfio: devices bound to vfio_mnic_aux, named vfio<N>, in one request', () => {
    const { k } = real();
    const p = k.functions.find('pci', MNIC_PF)!;
    k.modules.modprobe('vfio_mnic_aux');
    const made = p.create('siov', 4, { driver: 'vfio', migratable: false });
    expect(made.map((f) => [f.devName, f.boundAs])).toEqual([
      ['mnic_core.vfio.1', 'vfio0'],
      ['mnic_core.vfio.2', 'vfio1'],
      ['mnic_core.vfio.3', 'vfio2'],
      ['mnic_core.vfio.4', 'vfio3'],
    ]);
    expect(made.every((f) => f.hypervisorRid !== undefined && f.rid !== f.hypervisorRid)).toBe(true);
    p.destroy(made.map((f) => f.id));
    expect(k.vfio.devices).toEqual([]);
    expect(residue(k).aux).toEqual(['mnic_core.eth.0']);
  });
});

describe('modeled time on the default host', () => {
  it('is the same on fresh hosts for the same request, and SF activation costs two probes', () => {
    const activate = (): number => {
      const { host, k } = real();
      const i = pfInst(k);
      i.ops.eswitchModeSet!(1);
      const port = i.ops.portNew!({ flavour: 7, pfnum: 0, sfnum: 3 });
      const t0 = host.clock.nowNs;
      i.ops.portFnStateSet!(port, 'active');
      k.settle();
      return host.clock.nowNs - t0;
    };
    const a = activate();
    expect(activate()).toBe(a);
    // The SF core probe (50 ms), mnic_en's netdev probe (400 ms), mnic_vdpa's probe (10 ms), plus
    // firmware commands (100 µs each, a handful).
    expect(a).toBeGreaterThanOrEqual((50 + 400 + 10) * MS);
    expect(a).toBeLessThan((50 + 400 + 10 + 5) * MS);
  });
});
