/**
 * vfio-pci binding rules (facts/kernel.md 3.8) through sysfs, the VFIO device names of the cdev and
 * group models (3.6), and open/close/reset costs with dev_set serialization (facts/costs.md).
 */
import { describe, expect, it } from 'vitest';
import { VfioFdTable } from '../../src/kernel/vfio/core/index.js';
import { Lab } from '../../src/lab/index.js';
import { errnoOf, hostWithVfioVfs, MS, openVf, User, VIRTIO_PF, vfName } from './support.js';

const FLR_NS = 100 * MS;

describe('vfio-pci binding', () => {
  it('binds VFs through driver_override + drivers_probe; the VFIO devices appear', () => {
    const { u, vfio } = hostWithVfioVfs(2);
    expect(u.boundTo(u.dev(vfName(0)))).toBe('vfio-pci');
    expect(u.boundTo(u.dev(vfName(1)))).toBe('vfio-pci');
    expect(vfio.devices.map((d) => [d.name, d.dev.name, d.cdevPath, d.groupPath])).toEqual([
      ['vfio0', '0000:01:00.1', '/dev/vfio/devices/vfio0', '/dev/vfio/0'],
      ['vfio1', '0000:01:00.2', '/dev/vfio/devices/vfio1', '/dev/vfio/1'],
    ]);
    expect(vfio.devNodes()).toEqual([
      '/dev/vfio/vfio',
      '/dev/vfio/0',
      '/dev/vfio/1',
      '/dev/vfio/devices/vfio0',
      '/dev/vfio/devices/vfio1',
    ]);
  });

  it('is never autoloaded and does not bind without driver_override', () => {
    const u = new User(Lab.default().host());
    expect(u.host.kernel.modules.aliases().filter((a) => a.module === 'vfio_pci')).toEqual([
      { alias: 'vfio_pci:v*d*sv*sd*bc*sc*i*', module: 'vfio_pci' },
    ]);
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`, '0');
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '1');
    expect(u.host.kernel.modules.isLoaded('vfio_pci')).toBe(false);
    u.host.kernel.modules.modprobe('vfio-pci');
    u.ok('/sys/bus/pci/drivers_probe', vfName(0));
    expect(u.boundTo(u.dev(vfName(0)))).toBeUndefined();
  });

  it('binds by new_id too, but not VFs whose PF has autoprobe off (pci_device_can_probe)', () => {
    const u = new User(Lab.default().host());
    u.host.kernel.modules.modprobe('vfio-pci');
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`, '0');
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '1');
    u.ok('/sys/bus/pci/drivers/vfio-pci/new_id', '1af4 1041');
    expect(u.boundTo(u.dev(vfName(0)))).toBeUndefined();
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '0');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', VIRTIO_PF);
    u.ok('/sys/bus/pci/drivers/vfio-pci/bind', VIRTIO_PF);
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('vfio-pci');
  });

  it('refuses a PF with VFs enabled: EBUSY and Linux’s message', () => {
    const u = new User(Lab.default().host());
    u.host.kernel.modules.modprobe('vfio-pci');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', VIRTIO_PF);
    // VFs left enabled with no PF driver (as firmware or a platform enable would leave them).
    u.host.kernel.pciEnableSriov(u.device(VIRTIO_PF), 1);
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, 'vfio-pci');
    expect(u.write('/sys/bus/pci/drivers/vfio-pci/bind', VIRTIO_PF)).toBe('EBUSY');
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBeUndefined();
    expect(u.host.log.records.map((r) => r.text)).toContain(
      'vfio-pci 0000:01:00.0: Cannot bind to PF with SR-IOV enabled',
    );
  });

  it('sriov_configure needs enable_sriov (ENOENT); with it, VFs get driver_override = vfio-pci and bind', () => {
    const u = new User(Lab.default().host());
    u.host.kernel.modules.modprobe('vfio-pci');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', VIRTIO_PF);
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, 'vfio-pci');
    u.ok('/sys/bus/pci/drivers_probe', VIRTIO_PF);
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('vfio-pci');
    expect(u.write(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '2')).toBe('ENOENT');
    // enable_sriov is 0644: root turns it on for the loaded module.
    expect(u.read('/sys/module/vfio_pci/parameters/enable_sriov')).toBe('N\n');
    u.ok('/sys/module/vfio_pci/parameters/enable_sriov', '1');
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '2');
    expect(u.read(`${u.dev(vfName(0))}/driver_override`)).toBe('vfio-pci\n');
    expect(u.boundTo(u.dev(vfName(0)))).toBe('vfio-pci');
    expect(u.boundTo(u.dev(vfName(1)))).toBe('vfio-pci');
    expect(u.host.log.records.map((r) => r.text)).toContain(
      'vfio-pci 0000:01:00.0: Captured SR-IOV VF 0000:01:00.1 driver_override',
    );
  });
});

describe('open, close, reset', () => {
  it('the first open and the last close each cost one FLR; a second open costs nothing', () => {
    const { u, vfio } = hostWithVfioVfs(1);
    const t0 = u.host.clock.nowNs;
    const f1 = openVf(vfio, vfName(0));
    const tOpen = u.host.clock.nowNs - t0;
    // 100 ms FLR plus microseconds of config cycles.
    expect(tOpen).toBeGreaterThanOrEqual(FLR_NS);
    expect(tOpen).toBeLessThan(FLR_NS + 10 * MS);
    const t1 = u.host.clock.nowNs;
    const f2 = openVf(vfio, vfName(0));
    expect(u.host.clock.nowNs - t1).toBeLessThan(MS);
    f2.close();
    const t2 = u.host.clock.nowNs;
    f1.close();
    expect(u.host.clock.nowNs - t2).toBeGreaterThanOrEqual(FLR_NS);
    expect(errnoOf(() => f1.close())).toBe('EBADF');
  });

  it('VFIO_DEVICE_RESET costs an FLR and returns 0', () => {
    const { u, vfio } = hostWithVfioVfs(1);
    const f = openVf(vfio, vfName(0));
    const t0 = u.host.clock.nowNs;
    expect(f.ioctl(0x3b6f, new Uint8Array(0))).toBe(0);
    expect(u.host.clock.nowNs - t0).toBeGreaterThanOrEqual(FLR_NS);
  });

  it('the cdev file is inert until BIND_IOMMUFD (EINVAL)', () => {
    const { vfio } = hostWithVfioVfs(1);
    const f = vfio.openCdev('/dev/vfio/devices/vfio0', new VfioFdTable());
    const info = new Uint8Array(24);
    info[0] = 24;
    expect(f.ioctl(0x3b6b, info)).toBe(-22);
    // No IOMMUFD hooks installed in this kernel: BIND cannot resolve the fd.
    const bind = new Uint8Array(24);
    bind[0] = 24;
    expect(f.ioctl(0x3b76, bind)).toBe(-9);
  });
});

describe('opening 1000 VFs: dev_set serialized per bus vs parallel', () => {
  /** A default host without config-cycle and MMIO costs, so only FLR waits are left to compare. */
  function freeCyclesHost() {
    return Lab.fromTopology(
      {
        hosts: [
          {
            name: 'h',
            costs: { configReadNs: 0, configWriteNs: 0, mmioReadNs: 0, mmioWriteNs: 0 },
            rootPorts: [
              {
                name: 'rp-virtio',
                address: '00:01.0',
                secondaryBus: 0x01,
                subordinateBus: 0x08,
                devices: [{ kind: 'virtio-net', name: 'virtio-net0', address: '01:00.0', totalVfs: 1024 }],
              },
            ],
          },
        ],
      },
      'test',
    ).host();
  }

  // VFs 0..254 sit on bus 01 (01:00.1-01:1f.7), 255..510 on bus 02, 511..766 on bus 03, 767..999 on
  // bus 04: the largest bus holds 256 VFs.
  const cases: [policy: 'serialized-per-bus' | 'parallel', makespanNs: number][] = [
    ['serialized-per-bus', 256 * FLR_NS],
    ['parallel', 1 * FLR_NS],
  ];
  for (const [policy, expected] of cases) {
    it(`${policy}: makespan ${expected / MS} ms`, () => {
      const { u, vfio } = hostWithVfioVfs(1000, freeCyclesHost());
      vfio.resetPolicy = policy;
      expect(vfio.devices).toHaveLength(1000);
      const t0 = u.host.clock.nowNs;
      const r = vfio.openMany(vfio.devices, new VfioFdTable());
      expect(r.makespanNs).toBe(expected);
      expect(u.host.clock.nowNs - t0).toBe(expected);
      expect(r.files.every((f) => f.isOpen)).toBe(true);
    });
  }
});
