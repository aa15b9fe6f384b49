/**
 * Creating and destroying VFs of the default topology's virtio-net PF (0000:01:00.0) through the fnctl
 * family: driver vfio goes straight to virtio-vfio-pci (driver_override set before any probe, no
 * native probe), none leaves the VFs unbound, net binds virtio-pci; the PF's sriov_drivers_autoprobe
 * is left as the user set it; notifications on "config"; a failure forced half-way leaves nothing;
 * migratable needs the PF's device-parts commands (a fake PF without an admin queue); the parent
 * disappears with the PF driver.
 */
import { describe, expect, it } from 'vitest';
import { FNCTL_POLICY, GenlClient, nla, VirtioFnProvider } from '../../src/kernel/index.js';
import { Errno } from '../../src/spec/errno.js';
import { fnctl as F } from '../../src/spec/index.js';
import { bit, DEFAULT_FEATURES, fakeHost, F as VF } from '../virtio-kernel/fake-virtio.js';
import { createReq, fnHost, PF } from './support.js';

const sys = (k: ReturnType<typeof fnHost>['k'], path: string) => String(k.sysfs.read(path)).trim();
const DEV = '/sys/bus/pci/devices';

describe('virtio PF: create and destroy', () => {
  it('driver vfio: VFs bound to virtio-vfio-pci by driver_override, VFIO devices registered, no native probe', () => {
    const h = fnHost();
    const k = h.k;
    const r = h.client.call(
      F.FNCTL_CMD_CREATE,
      createReq({ kind: 1, count: 4, driver: F.FNCTL_DRIVER_VFIO }),
    );
    expect(r.ok).toBe(true);
    for (const vf of ['0000:01:00.1', '0000:01:00.2', '0000:01:00.3', '0000:01:00.4']) {
      expect(k.sysfs.readlink(`${DEV}/${vf}/driver`)).toMatch(/drivers\/virtio-vfio-pci$/);
      expect(sys(k, `${DEV}/${vf}/driver_override`)).toBe('virtio-vfio-pci');
    }
    expect(k.vfio.devices.map((d) => `${d.name}=${d.dev.name}`)).toEqual([
      'vfio0=0000:01:00.1',
      'vfio1=0000:01:00.2',
      'vfio2=0000:01:00.3',
      'vfio3=0000:01:00.4',
    ]);
    // virtio-pci never bound a VF: no virtio_net registered for any of them.
    expect(k.log.dmesg()).not.toMatch(/virtio_net 0000:01:00\.[1-4]/);
    expect(sys(k, `${DEV}/${PF}/sriov_numvfs`)).toBe('4');
    expect(sys(k, `${DEV}/${PF}/sriov_drivers_autoprobe`)).toBe('1');
    const d = h.client.call(F.FNCTL_CMD_DESTROY, [
      nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'),
      nla.string(F.FNCTL_ATTR_DEV_NAME, PF),
      nla.flag(F.FNCTL_ATTR_ALL),
    ]);
    expect(d.ok).toBe(true);
    expect(sys(k, `${DEV}/${PF}/sriov_numvfs`)).toBe('0');
    expect(k.vfio.devices).toEqual([]);
  });

  it('driver none: VFs exist unbound even with autoprobe on; net: bound to virtio-pci with autoprobe off', () => {
    const h = fnHost();
    const k = h.k;
    expect(h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 2, driver: 0 })).ok).toBe(true);
    for (const vf of ['0000:01:00.1', '0000:01:00.2']) {
      expect(() => k.sysfs.readlink(`${DEV}/${vf}/driver`)).toThrow();
      expect(sys(k, `${DEV}/${vf}/driver_override`)).toBe('(null)');
    }
    expect(h.sh(`fn del pci/${PF} all`).status).toBe(0);
    k.sysfs.write(`${DEV}/${PF}/sriov_drivers_autoprobe`, '0\n');
    expect(
      h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 2, driver: F.FNCTL_DRIVER_NET })).ok,
    ).toBe(true);
    for (const vf of ['0000:01:00.1', '0000:01:00.2'])
      expect(k.sysfs.readlink(`${DEV}/${vf}/driver`)).toMatch(/drivers\/virtio-pci$/);
    expect(sys(k, `${DEV}/${PF}/sriov_drivers_autoprobe`)).toBe('0');
    expect(h.sh(`fn show pci/${PF}`).out).toBe(
      'pci/0000:01:00.0/0: kind vf dev 0000:01:00.1 rid 01:00.1 driver net bound enp1s0f1 migratable true\n' +
        'pci/0000:01:00.0/1: kind vf dev 0000:01:00.2 rid 01:00.2 driver net bound enp1s0f2 migratable true\n',
    );
  });

  it('listeners on "config" get CREATE and DESTROY notifications with every function', () => {
    const h = fnHost();
    const listener = GenlClient.open(h.k.netlink, 'fnctl', FNCTL_POLICY);
    listener.join(F.FNCTL_MCGRP_CONFIG);
    h.sh(`fn create pci/${PF} kind vf count 3 driver vfio`);
    h.sh(`fn del pci/${PF} all`);
    const notes = listener.drainNotifications();
    expect(
      notes.map((n) => [n.cmd, n.seq, n.pid, n.attrs.filter((a) => a.type === F.FNCTL_ATTR_FUNCTION).length]),
    ).toEqual([
      [F.FNCTL_CMD_CREATE, 0, 0, 3],
      [F.FNCTL_CMD_DESTROY, 0, 0, 3],
    ]);
  });
});

describe('virtio PF: all or nothing', () => {
  for (const driver of [F.FNCTL_DRIVER_VFIO, F.FNCTL_DRIVER_NET, F.FNCTL_DRIVER_NONE]) {
    it(`a failure at function 5 of 8 (driver ${driver}) leaves no VF, binding, override or VFIO device`, () => {
      const h = fnHost();
      // Loaded up front: request_module's effect outlives a failed request, as in Linux.
      h.k.modules.modprobe('virtio_vfio_pci');
      const before = h.snapshot();
      const p = h.k.functions.find('pci', PF);
      expect(p).toBeInstanceOf(VirtioFnProvider);
      (p as VirtioFnProvider).injectFault(5, 'EIO');
      const r = h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 8, driver }));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.errno).toBe(Errno.EIO);
      expect(r.extack).toBe(
        'creating 8 vf functions on pci/0000:01:00.0 failed: injected failure at function 5 (0000:01:00.6)',
      );
      expect(h.snapshot()).toEqual(before);
      // The fault fired once: the same request now succeeds.
      expect(h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 8, driver })).ok).toBe(true);
    });
  }
});

describe('virtio PF: capabilities', () => {
  it('a PF without an admin queue: caps report migratable false, migratable on is EOPNOTSUPP', () => {
    const fh = fakeHost({ features: DEFAULT_FEATURES & ~bit(VF.ADMIN_VQ) });
    const c = GenlClient.open(fh.kernel.netlink, 'fnctl', FNCTL_POLICY);
    const caps = c.call(F.FNCTL_CMD_CAPS_GET, [
      nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'),
      nla.string(F.FNCTL_ATTR_DEV_NAME, fh.pfName),
    ]);
    expect(caps.ok).toBe(true);
    if (!caps.ok) return;
    const kindCaps = caps.replies[0]!.attrs.find((a) => a.type === F.FNCTL_ATTR_KIND_CAPS);
    expect(
      kindCaps?.kind === 'nested' ? kindCaps.attrs.map((a) => ('value' in a ? a.value : 0)) : [],
    ).toEqual([
      F.FNCTL_KIND_VF,
      // vfio (bit 1), net (bit 2), none (bit 0)
      0b111,
      fh.kernel.pdev(fh.kernel.findPciDevice(fh.pfName)!).sriov!.totalVfs,
      0,
      0,
    ]);
    const r = c.call(F.FNCTL_CMD_CREATE, [
      nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'),
      nla.string(F.FNCTL_ATTR_DEV_NAME, fh.pfName),
      nla.u8(F.FNCTL_ATTR_KIND, 1),
      nla.u32(F.FNCTL_ATTR_COUNT, 1),
      nla.u8(F.FNCTL_ATTR_MIGRATABLE, 1),
    ]);
    expect(r.ok ? undefined : [r.errno, r.extack]).toEqual([
      Errno.EOPNOTSUPP,
      'pci/0000:01:00.0 has no device-parts admin commands, so its VFs cannot migrate',
    ]);
  });

  it('the parent goes away when virtio-pci unbinds from the PF, and comes back on bind', () => {
    const h = fnHost();
    const k = h.k;
    h.sh(`fn create pci/${PF} kind vf count 2 driver none`);
    k.sysfs.write('/sys/bus/pci/drivers/virtio-pci/unbind', `${PF}\n`);
    expect(k.functions.find('pci', PF)).toBeUndefined();
    expect(sys(k, `${DEV}/${PF}/sriov_numvfs`)).toBe('0');
    expect(h.sh(`fn caps pci/${PF}`).err).toBe(
      'Error: pci/0000:01:00.0 is not a function parent.\nkernel answers: No such device\n',
    );
    k.sysfs.write('/sys/bus/pci/drivers/virtio-pci/bind', `${PF}\n`);
    expect(h.sh(`fn caps pci/${PF}`).out).toBe(
      'pci/0000:01:00.0: kind vf capacity 1024 drivers vfio,net,none mac false migratable true\n',
    );
  });
});
