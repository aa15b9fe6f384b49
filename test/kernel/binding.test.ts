/**
 * Matching, probing and binding through sysfs (facts/kernel.md 5.6): driver_override, bind / unbind,
 * new_id / remove_id, drivers_probe and drivers_autoprobe on the bus, the order of pci_match_device
 * (override, dynamic ids, id table with override-only entries, the "any" id of an override), and
 * pci_iov_get_pf_drvdata (5.5). Expected errnos come from the facts file.
 */
import { describe, expect, it } from 'vitest';
import { Driver, type PciDeviceId, pciMatchDevice } from '../../src/kernel/index.js';
import { ACCEL_PF, defaultHost, errnoOf, MNIC_PF, MS, User, VIRTIO_PF } from './host-support.js';

const user = (): User => new User(defaultHost());
/** PCI_ANY_ID (include/linux/mod_devicetable.h). */
const ANY = 0xffff_ffff;

/** A PCI driver the tests register themselves; `probed` lists the devices its probe saw. */
function testDriver(name: string, idTable: PciDeviceId[]): { drv: Driver; probed: string[] } {
  const probed: string[] = [];
  const drv = new Driver({
    name,
    module: name,
    probeClass: 'vfio',
    data: { bus: 'pci', idTable, dynIds: [] },
    ops: {
      probe(dev) {
        probed.push(dev.name);
      },
    },
  });
  return { drv, probed };
}

const id = (vendor: number, device: number, extra: Partial<PciDeviceId> = {}): PciDeviceId => ({
  vendor,
  device,
  subvendor: ANY,
  subdevice: ANY,
  classCode: 0,
  classMask: 0,
  driverData: 0,
  ...extra,
});

describe('driver_override', () => {
  it('reads (null) when unset, keeps what is written up to the first newline, and "\\n" clears it', () => {
    const u = user();
    const f = `${u.dev(VIRTIO_PF)}/driver_override`;
    const table: [string, string][] = [
      ['pci-stub\n', 'pci-stub\n'],
      ['\n', '(null)\n'],
      ['vfio-pci', 'vfio-pci\n'],
      ['pci-stub\nignored', 'pci-stub\n'],
      ['\n', '(null)\n'],
    ];
    expect(u.read(f)).toBe('(null)\n');
    for (const [text, shown] of table) {
      u.ok(f, text);
      expect(u.read(f)).toBe(shown);
    }
  });

  it('must be shorter than PAGE_SIZE - 1 bytes (4095), trailing newline counted', () => {
    const u = user();
    const f = `${u.dev(VIRTIO_PF)}/driver_override`;
    expect(u.write(f, `${'x'.repeat(4094)}\n`)).toBe('EINVAL');
    expect(u.read(f)).toBe('(null)\n');
    expect(u.write(f, `${'x'.repeat(4093)}\n`)).toBeUndefined();
    expect(u.read(f)).toBe(`${'x'.repeat(4093)}\n`);
  });

  it('does not rebind a bound device; unbind then drivers_probe does', () => {
    const u = user();
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, 'pci-stub\n');
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('virtio-pci');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', `${VIRTIO_PF}\n`);
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBeUndefined();
    u.ok('/sys/bus/pci/drivers_probe', `${VIRTIO_PF}\n`);
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('pci-stub');
    expect(u.list('/sys/bus/pci/drivers/pci-stub')).toContain(VIRTIO_PF);
    expect(u.list('/sys/bus/pci/drivers/virtio-pci')).not.toContain(VIRTIO_PF);
  });

  it('naming another driver prevents matching: drivers_probe binds nothing, bind is ENODEV', () => {
    const u = user();
    // vfio-pci is not loaded: no driver on the bus may take the function.
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, 'vfio-pci\n');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', `${VIRTIO_PF}\n`);
    u.ok('/sys/bus/pci/drivers_probe', `${VIRTIO_PF}\n`);
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBeUndefined();
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/bind', `${VIRTIO_PF}\n`)).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/bind', `${VIRTIO_PF}\n`)).toBe('ENODEV');
    // Naming vfl_accel: its table does not list 1af4:1041, but the override's "any" id matches.
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, 'vfl_accel\n');
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/bind', `${VIRTIO_PF}\n`)).toBe('ENODEV');
    u.ok('/sys/bus/pci/drivers_probe', `${VIRTIO_PF}\n`);
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('vfl_accel');
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', `${VIRTIO_PF}\n`);
    // Cleared, the id table matches again.
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, '\n');
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/bind', `${VIRTIO_PF}\n`)).toBeUndefined();
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('virtio-pci');
  });
});

describe('bind and unbind', () => {
  it('bind of a bound, matching device is EBUSY; of a device the driver does not match, ENODEV', () => {
    const u = user();
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/bind', `${VIRTIO_PF}\n`)).toBe('EBUSY');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/bind', `${VIRTIO_PF}\n`)).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/bind', `${ACCEL_PF}\n`)).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/bind', '0000:99:00.0\n')).toBe('ENODEV');
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('virtio-pci');
  });

  it('unbind of a device not bound to that driver is ENODEV', () => {
    const u = user();
    expect(u.write('/sys/bus/pci/drivers/pci-stub/unbind', `${VIRTIO_PF}\n`)).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/unbind', '0000:99:00.0\n')).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/unbind', '0000:00:01.0\n')).toBe('ENODEV');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', `${VIRTIO_PF}\n`);
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/unbind', `${VIRTIO_PF}\n`)).toBe('ENODEV');
  });

  it('unbind removes both links and bind restores them, with the probe cost charged', () => {
    const u = user();
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', `${ACCEL_PF}\n`);
    expect(u.exists(`${u.dev(ACCEL_PF)}/driver`)).toBe(false);
    expect(u.exists(`/sys/bus/pci/drivers/vfl_accel/${ACCEL_PF}`)).toBe(false);
    const ns = u.timed(() => u.ok('/sys/bus/pci/drivers/vfl_accel/bind', `${ACCEL_PF}\n`));
    // vfl_accel is a core-class probe: 50 ms.
    expect(ns).toBeGreaterThanOrEqual(50 * MS);
    expect(ns).toBeLessThan(51 * MS);
    expect(u.readlink(`/sys/bus/pci/drivers/vfl_accel/${ACCEL_PF}`)).toBe(
      '../../../../devices/pci0000:00/0000:00:03.0/0000:20:00.0',
    );
  });
});

describe('new_id and remove_id', () => {
  it('new_id needs vendor and device: fewer fields are EINVAL', () => {
    const u = user();
    for (const text of ['1af4\n', '\n', 'zz 1041\n', '1af4 zz\n']) {
      expect(u.write('/sys/bus/pci/drivers/pci-stub/new_id', text)).toBe('EINVAL');
    }
  });

  it('new_id of an id the driver already matches is EEXIST, unless all seven fields are given', () => {
    const u = user();
    const f = '/sys/bus/pci/drivers/virtio-pci/new_id';
    expect(u.write(f, '1af4 1041\n')).toBe('EEXIST');
    expect(u.write(f, '1af4 1000 1af4 1100\n')).toBe('EEXIST');
    expect(u.write(f, '1af4 1041 ffffffff ffffffff 0 0 0\n')).toBeUndefined();
  });

  it('driver_data must be in the id table of a driver that has one', () => {
    const u = user();
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/new_id', '1af4 2000 ffffffff ffffffff 0 0 5\n')).toBe(
      'EINVAL',
    );
    // pci-stub has no id table: any driver_data is taken.
    expect(
      u.write('/sys/bus/pci/drivers/pci-stub/new_id', 'abcd 2000 ffffffff ffffffff 0 0 5\n'),
    ).toBeUndefined();
  });

  it('new_id to pci-stub binds matching unbound devices at once; a second one is EEXIST', () => {
    const u = user();
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', `${ACCEL_PF}\n`);
    u.ok('/sys/bus/pci/drivers/pci-stub/new_id', '1f00 3000\n');
    expect(u.boundTo(u.dev(ACCEL_PF))).toBe('pci-stub');
    // Bound devices are not taken away from their driver.
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('virtio-pci');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/new_id', '1f00 3000\n')).toBe('EEXIST');
  });

  it('remove_id removes a dynamic id (ENODEV when absent), after which the id table decides', () => {
    const u = user();
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', `${ACCEL_PF}\n`);
    u.ok('/sys/bus/pci/drivers/pci-stub/new_id', '1f00 3000\n');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/remove_id', '1f00 3001\n')).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/remove_id', '1f00\n')).toBe('EINVAL');
    // pci-stub (built in, registered first) wins while its dynamic id is there.
    u.ok('/sys/bus/pci/drivers/pci-stub/unbind', `${ACCEL_PF}\n`);
    u.ok('/sys/bus/pci/drivers_probe', `${ACCEL_PF}\n`);
    expect(u.boundTo(u.dev(ACCEL_PF))).toBe('pci-stub');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/remove_id', '1f00 3000\n')).toBeUndefined();
    expect(u.write('/sys/bus/pci/drivers/pci-stub/remove_id', '1f00 3000\n')).toBe('ENODEV');
    u.ok('/sys/bus/pci/drivers/pci-stub/unbind', `${ACCEL_PF}\n`);
    u.ok('/sys/bus/pci/drivers_probe', `${ACCEL_PF}\n`);
    expect(u.boundTo(u.dev(ACCEL_PF))).toBe('vfl_accel');
  });

  it('remove_id matches subvendor/subdevice when given', () => {
    const u = user();
    u.ok('/sys/bus/pci/drivers/pci-stub/new_id', 'abcd 0001 1111 2222\n');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/remove_id', 'abcd 0001 1111 3333\n')).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers/pci-stub/remove_id', 'abcd 0001 1111 2222\n')).toBeUndefined();
  });
});

describe('bus files: drivers_probe and drivers_autoprobe', () => {
  it('drivers_probe of an unknown device is ENODEV', () => {
    const u = user();
    expect(u.write('/sys/bus/pci/drivers_probe', '0000:99:00.0\n')).toBe('ENODEV');
    expect(u.write('/sys/bus/pci/drivers_probe', 'junk\n')).toBe('ENODEV');
  });

  it('drivers_probe of a bound device changes nothing', () => {
    const u = user();
    expect(u.write('/sys/bus/pci/drivers_probe', `${VIRTIO_PF}\n`)).toBeUndefined();
    expect(u.boundTo(u.dev(VIRTIO_PF))).toBe('virtio-pci');
  });

  it('drivers_autoprobe 0 stops binding of new devices and new drivers; drivers_probe still binds', () => {
    const u = user();
    expect(u.read('/sys/bus/pci/drivers_autoprobe')).toBe('1\n');
    u.ok('/sys/bus/pci/drivers_autoprobe', '0\n');
    expect(u.read('/sys/bus/pci/drivers_autoprobe')).toBe('0\n');
    // New VFs (the PF's own sriov_drivers_autoprobe is still 1) are not attached.
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '2\n');
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBeUndefined();
    u.ok('/sys/bus/pci/drivers_probe', '0000:21:00.0\n');
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBe('vfl_accel');
    // A driver registered now attaches to nothing.
    u.host.kernel.modules.rmmod('mnic_en');
    u.host.kernel.modules.rmmod('mnic_core');
    u.host.kernel.modules.modprobe('mnic_core');
    u.host.kernel.settle();
    expect(u.boundTo(u.dev(MNIC_PF))).toBeUndefined();
    u.ok('/sys/bus/pci/drivers_autoprobe', '1\n');
    expect(u.boundTo(u.dev(MNIC_PF))).toBeUndefined();
    u.ok('/sys/bus/pci/drivers_probe', `${MNIC_PF}\n`);
    expect(u.boundTo(u.dev(MNIC_PF))).toBe('mnic_core');
  });

  // bus.c drivers_autoprobe_store tests only buf[0] == '0'; any other text turns autoprobe on.
  // facts/kernel.md does not say how the file parses; the model uses kstrtobool and answers EINVAL.
  it('drivers_autoprobe takes any text other than a leading 0 as 1 (bus.c)', () => {
    const u = user();
    u.ok('/sys/bus/pci/drivers_autoprobe', '0\n');
    expect(u.write('/sys/bus/pci/drivers_autoprobe', 'n\n')).toBeUndefined();
    expect(u.read('/sys/bus/pci/drivers_autoprobe')).toBe('1\n');
  });
});

describe('pci_match_device order (facts 5.6)', () => {
  it('tries dynamic ids before the id table', () => {
    const u = user();
    const { drv } = testDriver('prec_drv', [
      id(0x1f00, 0x3000, { driverData: 1 }),
      id(0x1f00, ANY, { driverData: 2 }),
    ]);
    u.host.kernel.core.driverRegister(drv);
    // All seven fields: no EEXIST check; driver_data 2 is in the table.
    u.ok('/sys/bus/pci/drivers/prec_drv/new_id', '1f00 3000 1f00 0001 0 0 2\n');
    const m = pciMatchDevice(drv, u.device(ACCEL_PF));
    expect(m?.subvendor).toBe(0x1f00);
    expect(m?.subdevice).toBe(0x0001);
    expect(m?.driverData).toBe(2);
  });

  it('skips override-only entries unless driver_override names the driver', () => {
    const u = user();
    const { drv, probed } = testDriver('vfl_vfio', [id(0x1f00, 0x3001, { overrideOnly: true })]);
    u.host.kernel.core.driverRegister(drv);
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '2\n');
    // vfl_accel (registered earlier, plain entry) took both VFs; vfl_vfio took nothing.
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBe('vfl_accel');
    expect(probed).toEqual([]);
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', '0000:21:00.0\n');
    expect(u.write('/sys/bus/pci/drivers/vfl_vfio/bind', '0000:21:00.0\n')).toBe('ENODEV');
    u.ok('/sys/bus/pci/drivers_probe', '0000:21:00.0\n');
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBe('vfl_accel');
    // With the override, only vfl_vfio matches; its probe is a vfio-class one (1 ms).
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', '0000:21:00.0\n');
    u.ok(`${u.dev('0000:21:00.0')}/driver_override`, 'vfl_vfio\n');
    expect(u.write('/sys/bus/pci/drivers/vfl_accel/bind', '0000:21:00.0\n')).toBe('ENODEV');
    const ns = u.timed(() => u.ok('/sys/bus/pci/drivers_probe', '0000:21:00.0\n'));
    expect(ns).toBeGreaterThanOrEqual(MS);
    expect(ns).toBeLessThan(2 * MS);
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBe('vfl_vfio');
    expect(probed).toEqual(['0000:21:00.0']);
  });

  it('an override naming a driver whose table does not match still matches (the "any" id)', () => {
    const u = user();
    const { drv, probed } = testDriver('vfl_vfio', [id(0x1f00, 0x3001, { overrideOnly: true })]);
    u.host.kernel.core.driverRegister(drv);
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, 'vfl_vfio\n');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', `${VIRTIO_PF}\n`);
    u.ok('/sys/bus/pci/drivers/vfl_vfio/bind', `${VIRTIO_PF}\n`);
    expect(probed).toEqual([VIRTIO_PF]);
  });

  it('a driver registered later attaches to matching unbound devices (driver_attach)', () => {
    const u = user();
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', `${ACCEL_PF}\n`);
    const { drv, probed } = testDriver('late_drv', [id(0x1f00, 0x3000)]);
    u.host.kernel.core.driverRegister(drv);
    expect(probed).toEqual([ACCEL_PF]);
    expect(u.boundTo(u.dev(ACCEL_PF))).toBe('late_drv');
    expect(u.list('/sys/bus/pci/drivers')).toContain('late_drv');
  });

  it('one driver name per bus: registering it twice is EBUSY', () => {
    const u = user();
    const { drv } = testDriver('pci-stub', []);
    expect(errnoOf(() => u.host.kernel.core.driverRegister(drv))).toBe('EBUSY');
  });
});

describe('pci_iov_get_pf_drvdata (facts 5.5)', () => {
  it('returns the PF driver data only for a VF whose PF is bound to the named driver', () => {
    const u = user();
    const k = u.host.kernel;
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '2\n');
    const vf = u.device('0000:01:00.2');
    const pf = u.device(VIRTIO_PF);
    const virtio = u.driver('pci', 'virtio-pci');
    expect(pf.driverData).toBeDefined();
    expect(k.pciIovGetPfDrvdata(vf, virtio)).toBe(pf.driverData);
    // Not a VF: the PF itself, a root port, an auxiliary device.
    expect(errnoOf(() => k.pciIovGetPfDrvdata(pf, virtio))).toBe('EINVAL');
    expect(errnoOf(() => k.pciIovGetPfDrvdata(u.device('0000:00:01.0'), virtio))).toBe('EINVAL');
    const aux = k.core.findDevice('auxiliary', 'mnic_core.eth.0')!;
    expect(errnoOf(() => k.pciIovGetPfDrvdata(aux, virtio))).toBe('EINVAL');
    // The PF is bound to another driver than the one named.
    expect(errnoOf(() => k.pciIovGetPfDrvdata(vf, u.driver('pci', 'mnic_core')))).toBe('EINVAL');
    expect(errnoOf(() => k.pciIovGetPfDrvdata(vf, u.driver('pci', 'pci-stub')))).toBe('EINVAL');
  });

  it('answers for the accelerator and mnic VFs with their own PF data', () => {
    const u = user();
    const k = u.host.kernel;
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '1\n');
    u.ok(`${u.dev(MNIC_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(MNIC_PF)}/sriov_numvfs`, '1\n');
    const accelData = k.pciIovGetPfDrvdata(u.device('0000:21:00.0'), u.driver('pci', 'vfl_accel'));
    const mnicData = k.pciIovGetPfDrvdata(u.device('0000:10:00.1'), u.driver('pci', 'mnic_core'));
    expect(accelData).toBe(u.device(ACCEL_PF).driverData);
    expect(mnicData).toBe(u.device(MNIC_PF).driverData);
    expect(accelData).not.toBe(mnicData);
    expect(errnoOf(() => k.pciIovGetPfDrvdata(u.device('0000:21:00.0'), u.driver('pci', 'mnic_core')))).toBe(
      'EINVAL',
    );
  });
});
