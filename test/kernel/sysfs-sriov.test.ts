/**
 * The SR-IOV sysfs files of a PF, driven as a user drives them (facts/kernel.md 5.4 and 5.6): the
 * sriov_numvfs parse and check order with its errnos, the read-only attributes, the virtfnN / physfn
 * links and where VF directories appear, sriov_drivers_autoprobe, and the modeled waits of enable and
 * disable. Every expected value is written out from the facts file and the default topology.
 */
import { describe, expect, it } from 'vitest';
import {
  ACCEL_PF,
  CORE_PROBE_NS,
  DISABLE_WAIT_NS,
  defaultHost,
  ENABLE_WAIT_NS,
  MNIC_PF,
  MS,
  NETDEV_PROBE_NS,
  PCI_DEVICES,
  RP_ACCEL_DIR,
  RP_VIRTIO_DIR,
  User,
  VIRTIO_PF,
} from './host-support.js';

/** Slack for the config cycles around a modeled wait (1 µs each in the default cost model). */
const CONFIG_SLACK_NS = 5 * MS;

const user = (): User => new User(defaultHost());
const virtfnLinks = (u: User, pf: string): string[] => u.list(u.dev(pf)).filter((n) => /^virtfn\d+$/.test(n));

describe('sriov read-only attributes', () => {
  // PF, sriov_totalvfs, sriov_offset, sriov_stride, sriov_vf_device (hex without 0x), from the topology.
  const table: [string, string, string, string, string][] = [
    [VIRTIO_PF, '1024\n', '1\n', '1\n', '1041\n'],
    [MNIC_PF, '127\n', '1\n', '1\n', '1022\n'],
    [ACCEL_PF, '16\n', '256\n', '8\n', '3001\n'],
  ];
  it.each(table)(
    '%s shows totalvfs %j offset %j stride %j vf_device %j',
    (pf, total, offset, stride, vfDev) => {
      const u = user();
      expect(u.read(`${u.dev(pf)}/sriov_totalvfs`)).toBe(total);
      expect(u.read(`${u.dev(pf)}/sriov_offset`)).toBe(offset);
      expect(u.read(`${u.dev(pf)}/sriov_stride`)).toBe(stride);
      expect(u.read(`${u.dev(pf)}/sriov_vf_device`)).toBe(vfDev);
      expect(u.read(`${u.dev(pf)}/sriov_numvfs`)).toBe('0\n');
      expect(u.read(`${u.dev(pf)}/sriov_drivers_autoprobe`)).toBe('1\n');
    },
  );

  it('are absent on functions without SR-IOV (root ports) and on VFs', () => {
    const u = user();
    expect(u.list(u.dev('0000:00:01.0'))).not.toContain('sriov_numvfs');
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '1\n');
    const vf = u.list(u.dev('0000:21:00.0'));
    expect(vf).toContain('physfn');
    expect(vf.filter((n) => n.startsWith('sriov_'))).toEqual([]);
  });

  it('refuses writes to read-only attributes (no write bit: EACCES)', () => {
    const u = user();
    expect(u.write(`${u.dev(ACCEL_PF)}/sriov_totalvfs`, '4\n')).toBe('EACCES');
    expect(u.read(`${u.dev(ACCEL_PF)}/sriov_totalvfs`)).toBe('16\n');
  });
});

describe('sriov_numvfs parsing (kstrtou16, base 0)', () => {
  // Refused inputs and their errno. > 65535 is ERANGE: kstrtou16 overflow (the code documents this
  // as a correction of facts 5.4, which says EINVAL); > sriov_totalvfs (1024) is ERANGE (facts 5.4).
  const refused: [string, string][] = [
    ['junk\n', 'EINVAL'],
    ['-1\n', 'EINVAL'],
    [' 4\n', 'EINVAL'],
    ['4x\n', 'EINVAL'],
    ['4\n\n', 'EINVAL'],
    ['\n', 'EINVAL'],
    ['08\n', 'EINVAL'], // octal has no digit 8
    ['0x\n', 'EINVAL'], // "0x" without a hex digit is octal 0 followed by junk
    ['1025\n', 'ERANGE'],
    ['2000\n', 'ERANGE'],
    ['65535\n', 'ERANGE'],
    ['65536\n', 'ERANGE'],
    ['0x10000\n', 'ERANGE'],
    ['99999999999999999999999\n', 'ERANGE'],
  ];
  it.each(refused)('%j → %s, nothing changes', (text, errno) => {
    const u = user();
    expect(u.write(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, text)).toBe(errno);
    expect(u.read(`${u.dev(VIRTIO_PF)}/sriov_numvfs`)).toBe('0\n');
    expect(virtfnLinks(u, VIRTIO_PF)).toEqual([]);
  });

  // Accepted spellings of eight: decimal, hex, octal, with and without the newline.
  it.each(['8\n', '8', '0x8\n', '0X8\n', '010\n'])('%j enables 8 VFs', (text) => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, text);
    expect(u.read(`${u.dev(ACCEL_PF)}/sriov_numvfs`)).toBe('8\n');
    expect(virtfnLinks(u, ACCEL_PF)).toHaveLength(8);
  });
});

describe('sriov_numvfs check order (facts 5.4)', () => {
  it('checks the range before the driver: with no PF driver 2000 is ERANGE, 4 is ENOENT, 0 succeeds', () => {
    const u = user();
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', `${VIRTIO_PF}\n`);
    expect(u.exists(`${u.dev(VIRTIO_PF)}/driver`)).toBe(false);
    expect(u.write(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '2000\n')).toBe('ERANGE');
    expect(u.write(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '4\n')).toBe('ENOENT');
    // The same value as now is a successful no-op, even without a driver.
    expect(u.write(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '0\n')).toBeUndefined();
    expect(u.read(`${u.dev(VIRTIO_PF)}/sriov_numvfs`)).toBe('0\n');
  });

  it('answers ENOENT for a driver without sriov_configure (pci-stub bound through driver_override)', () => {
    const u = user();
    u.ok(`${u.dev(VIRTIO_PF)}/driver_override`, 'pci-stub\n');
    u.ok('/sys/bus/pci/drivers/virtio-pci/unbind', `${VIRTIO_PF}\n`);
    u.ok('/sys/bus/pci/drivers_probe', `${VIRTIO_PF}\n`);
    expect(u.readlink(`${u.dev(VIRTIO_PF)}/driver`)).toBe('../../../../bus/pci/drivers/pci-stub');
    expect(u.write(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '4\n')).toBe('ENOENT');
    expect(u.read(`${u.dev(VIRTIO_PF)}/sriov_numvfs`)).toBe('0\n');
    expect(u.host.log.dmesg()).toContain('Driver does not support SRIOV configuration via sysfs');
  });

  it('refuses non-zero to non-zero with EBUSY; the same value is a no-op; 0 disables', () => {
    const u = user();
    const pf = u.dev(ACCEL_PF);
    u.ok(`${pf}/sriov_numvfs`, '2\n');
    expect(u.write(`${pf}/sriov_numvfs`, '3\n')).toBe('EBUSY');
    expect(u.read(`${pf}/sriov_numvfs`)).toBe('2\n');
    expect(u.host.log.dmesg()).toContain('2 VFs already enabled. Disable before enabling 3 VFs');
    // Writing the current value again does nothing, not even the 100 ms wait.
    const noop = u.timed(() => u.ok(`${pf}/sriov_numvfs`, '2\n'));
    expect(noop).toBeLessThan(ENABLE_WAIT_NS);
    expect(virtfnLinks(u, ACCEL_PF)).toEqual(['virtfn0', 'virtfn1']);
    u.ok(`${pf}/sriov_numvfs`, '0\n');
    expect(u.read(`${pf}/sriov_numvfs`)).toBe('0\n');
    expect(virtfnLinks(u, ACCEL_PF)).toEqual([]);
    expect(u.exists(`${PCI_DEVICES}/0000:21:00.0`)).toBe(false);
    expect(u.list(RP_ACCEL_DIR).filter((n) => n.startsWith('0000:'))).toEqual([ACCEL_PF]);
    // And through 0, a new count is accepted.
    u.ok(`${pf}/sriov_numvfs`, '3\n');
    expect(u.read(`${pf}/sriov_numvfs`)).toBe('3\n');
  });
});

describe('virtfnN and physfn links', () => {
  it('link the accelerator PF and its VFs on bus 0x21 (offset 0x100, stride 8)', () => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '3\n');
    // VF i is at RID 0x2000 + 0x100 + 8 i: 21:00.0, 21:01.0, 21:02.0.
    const vfs = ['0000:21:00.0', '0000:21:01.0', '0000:21:02.0'];
    expect(virtfnLinks(u, ACCEL_PF)).toEqual(['virtfn0', 'virtfn1', 'virtfn2']);
    vfs.forEach((vf, i) => {
      expect(u.readlink(`${u.dev(ACCEL_PF)}/virtfn${i}`)).toBe(`../${vf}`);
      expect(u.realpath(`${u.dev(ACCEL_PF)}/virtfn${i}`)).toBe(`${RP_ACCEL_DIR}/${vf}`);
      expect(u.readlink(`${u.dev(vf)}/physfn`)).toBe(`../${ACCEL_PF}`);
      expect(u.realpath(`${u.dev(vf)}/physfn`)).toBe(`${RP_ACCEL_DIR}/${ACCEL_PF}`);
      expect(u.readlink(u.dev(vf))).toBe(`../../../devices/pci0000:00/0000:00:03.0/${vf}`);
      expect(u.read(`${u.dev(vf)}/vendor`)).toBe('0x1f00\n');
      expect(u.read(`${u.dev(vf)}/device`)).toBe('0x3001\n');
    });
    // The VF directories sit next to the PF's, under the root port.
    expect(u.list(RP_ACCEL_DIR).filter((n) => n.startsWith('0000:'))).toEqual([ACCEL_PF, ...vfs]);
  });

  it('put VFs that spill onto buses 02 and beyond under the PF root port too (virtio-net, ARI)', () => {
    const u = user();
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '300\n');
    // RID 0x0100 + 1 + i: VF0 01:00.1, VF254 01:1f.7, VF255 02:00.0, VF299 = 0x022c = 02:05.4.
    const table: [number, string][] = [
      [0, '0000:01:00.1'],
      [254, '0000:01:1f.7'],
      [255, '0000:02:00.0'],
      [299, '0000:02:05.4'],
    ];
    for (const [i, vf] of table) {
      expect(u.readlink(`${u.dev(VIRTIO_PF)}/virtfn${i}`)).toBe(`../${vf}`);
      expect(u.realpath(u.dev(vf))).toBe(`${RP_VIRTIO_DIR}/${vf}`);
      expect(u.realpath(`${u.dev(vf)}/physfn`)).toBe(`${RP_VIRTIO_DIR}/${VIRTIO_PF}`);
    }
    expect(virtfnLinks(u, VIRTIO_PF)).toHaveLength(300);
    expect(u.exists(`${u.dev(VIRTIO_PF)}/virtfn300`)).toBe(false);
  });

  it('keep the VF index in the link name when one VF is removed (virtfn<i> is VF i, facts 5.3)', () => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '3\n');
    u.ok(`${u.dev('0000:21:00.0')}/remove`, '1\n');
    expect(u.readlink(`${u.dev(ACCEL_PF)}/virtfn1`)).toBe('../0000:21:01.0');
    expect(u.readlink(`${u.dev(ACCEL_PF)}/virtfn2`)).toBe('../0000:21:02.0');
    // No link renumbering: whatever virtfn0 is now, it is not VF 1.
    const links = virtfnLinks(u, ACCEL_PF).map((l) => [l, u.readlink(`${u.dev(ACCEL_PF)}/${l}`)]);
    expect(links.filter(([, target]) => target === '../0000:21:01.0')).toEqual([
      ['virtfn1', '../0000:21:01.0'],
    ]);
    // Disabling still removes the remaining VFs and clears NumVFs.
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '0\n');
    expect(virtfnLinks(u, ACCEL_PF)).toEqual([]);
    expect(u.exists(u.dev('0000:21:01.0'))).toBe(false);
  });
});

describe('modeled time of enable and disable (facts 5.3, 8)', () => {
  it('enable waits 100 ms once (not per VF) when no driver probes the VFs', () => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_drivers_autoprobe`, '0\n');
    const ns = u.timed(() => u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '8\n'));
    expect(ns).toBeGreaterThanOrEqual(ENABLE_WAIT_NS);
    expect(ns).toBeLessThan(ENABLE_WAIT_NS + CONFIG_SLACK_NS);
  });

  it('disable waits 1 s', () => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '8\n');
    const ns = u.timed(() => u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '0\n'));
    expect(ns).toBeGreaterThanOrEqual(DISABLE_WAIT_NS);
    expect(ns).toBeLessThan(DISABLE_WAIT_NS + CONFIG_SLACK_NS);
  });

  it('with autoprobe each VF also pays its driver probe: virtio-pci 400 ms (netdev), vfl_accel 50 ms (core)', () => {
    const u = user();
    const virtio = u.timed(() => u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '2\n'));
    expect(virtio).toBeGreaterThanOrEqual(ENABLE_WAIT_NS + 2 * NETDEV_PROBE_NS);
    expect(virtio).toBeLessThan(ENABLE_WAIT_NS + 2 * NETDEV_PROBE_NS + CONFIG_SLACK_NS);
    const accel = u.timed(() => u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '4\n'));
    expect(accel).toBeGreaterThanOrEqual(ENABLE_WAIT_NS + 4 * CORE_PROBE_NS);
    expect(accel).toBeLessThan(ENABLE_WAIT_NS + 4 * CORE_PROBE_NS + CONFIG_SLACK_NS);
  });

  it('a refused write costs no wait', () => {
    const u = user();
    const ns = u.timed(() => expect(u.write(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '17\n')).toBe('ERANGE'));
    expect(ns).toBeLessThan(MS);
  });
});

describe('sriov_drivers_autoprobe (facts 5.6)', () => {
  it('parses with kstrtobool and shows 0 or 1', () => {
    const u = user();
    const f = `${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`;
    const table: [string, string | undefined, string][] = [
      ['0\n', undefined, '0\n'],
      ['y\n', undefined, '1\n'],
      ['n\n', undefined, '0\n'],
      ['on\n', undefined, '1\n'],
      ['off\n', undefined, '0\n'],
      ['1\n', undefined, '1\n'],
      ['maybe\n', 'EINVAL', '1\n'],
    ];
    for (const [text, errno, after] of table) {
      expect(u.write(f, text)).toBe(errno);
      expect(u.read(f)).toBe(after);
    }
  });

  it('with 0 new VFs stay unbound; bind without override is ENODEV; drivers_probe binds nothing', () => {
    const u = user();
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`, '0\n');
    const ns = u.timed(() => u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '4\n'));
    expect(ns).toBeLessThan(ENABLE_WAIT_NS + CONFIG_SLACK_NS);
    for (const vf of ['0000:01:00.1', '0000:01:00.2', '0000:01:00.3', '0000:01:00.4']) {
      expect(u.exists(`${u.dev(vf)}/driver`)).toBe(false);
    }
    // virtio-pci matches the VF, but pci_device_probe refuses it (autoprobe off, no override).
    expect(u.write('/sys/bus/pci/drivers/virtio-pci/bind', '0000:01:00.2\n')).toBe('ENODEV');
    // drivers_probe succeeds as a write, and binds nothing.
    expect(u.write('/sys/bus/pci/drivers_probe', '0000:01:00.2\n')).toBeUndefined();
    expect(u.exists(`${u.dev('0000:01:00.2')}/driver`)).toBe(false);
    expect(u.list('/sys/bus/pci/drivers/virtio-pci').filter((n) => n.startsWith('0000:'))).toEqual([
      VIRTIO_PF,
    ]);
  });

  it('with 0, driver_override=pci-stub then drivers_probe binds the VF to pci-stub', () => {
    const u = user();
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '2\n');
    u.ok(`${u.dev('0000:01:00.1')}/driver_override`, 'pci-stub\n');
    u.ok('/sys/bus/pci/drivers_probe', '0000:01:00.1\n');
    expect(u.boundTo(u.dev('0000:01:00.1'))).toBe('pci-stub');
    expect(u.exists(`${u.dev('0000:01:00.2')}/driver`)).toBe(false);
  });

  it('with 1, every new VF binds to virtio-pci', () => {
    const u = user();
    u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, '3\n');
    for (const vf of ['0000:01:00.1', '0000:01:00.2', '0000:01:00.3']) {
      expect(u.boundTo(u.dev(vf))).toBe('virtio-pci');
    }
  });

  it('is read at each probe: VFs already bound stay bound when it goes to 0', () => {
    const u = user();
    u.ok(`${u.dev(ACCEL_PF)}/sriov_numvfs`, '2\n');
    u.ok(`${u.dev(ACCEL_PF)}/sriov_drivers_autoprobe`, '0\n');
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBe('vfl_accel');
    // An unbind followed by a probe now finds the gate closed.
    u.ok('/sys/bus/pci/drivers/vfl_accel/unbind', '0000:21:00.0\n');
    u.ok('/sys/bus/pci/drivers_probe', '0000:21:00.0\n');
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBeUndefined();
    expect(u.boundTo(u.dev('0000:21:01.0'))).toBe('vfl_accel');
  });

  it('the issue example: autoprobe off, 8 VFs, one overridden to pci-stub and probed', () => {
    const u = user();
    const pf = u.dev(VIRTIO_PF);
    u.ok(`${pf}/sriov_drivers_autoprobe`, '0\n');
    u.ok(`${pf}/sriov_numvfs`, '8\n');
    // Eight VFs: 01:00.1 … 01:00.7 and 01:01.0 (ARI: function numbers 1..8).
    const vfs = [1, 2, 3, 4, 5, 6, 7].map((f) => `0000:01:00.${f}`).concat('0000:01:01.0');
    expect(
      virtfnLinks(u, VIRTIO_PF)
        .map((l) => u.readlink(`${pf}/${l}`).slice(3))
        .sort(),
    ).toEqual(vfs);
    expect(u.read(`${u.dev('0000:01:00.3')}/driver_override`)).toBe('(null)\n');
    u.ok(`${u.dev('0000:01:00.3')}/driver_override`, 'pci-stub\n');
    expect(u.read(`${u.dev('0000:01:00.3')}/driver_override`)).toBe('pci-stub\n');
    u.ok('/sys/bus/pci/drivers_probe', '0000:01:00.3\n');
    expect(u.readlink(`${u.dev('0000:01:00.3')}/driver`)).toBe('../../../../bus/pci/drivers/pci-stub');
    expect(u.readlink('/sys/bus/pci/drivers/pci-stub/0000:01:00.3')).toBe(
      '../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.3',
    );
    expect(u.realpath('/sys/bus/pci/drivers/pci-stub/0000:01:00.3')).toBe(`${RP_VIRTIO_DIR}/0000:01:00.3`);
    expect(u.read(`${u.dev('0000:01:00.3')}/uevent`)).toMatch(/^DRIVER=pci-stub\n/);
    for (const vf of vfs.filter((v) => v !== '0000:01:00.3'))
      expect(u.exists(`${u.dev(vf)}/driver`)).toBe(false);
  });

  it('does not stop module autoload for VFs, only their binding (facts 5.6)', () => {
    const u = user();
    u.host.kernel.modules.rmmod('vfl_accel');
    expect(u.host.kernel.modules.isLoaded('vfl_accel')).toBe(false);
    u.ok(`${u.dev(ACCEL_PF)}/sriov_drivers_autoprobe`, '0\n');
    // As a PF driver's max_vfs parameter would, enable VFs on the now driverless PF.
    u.host.kernel.pciEnableSriov(u.device(ACCEL_PF), 2);
    u.host.kernel.settle();
    expect(u.host.kernel.modules.isLoaded('vfl_accel')).toBe(true);
    expect(u.boundTo(u.dev(ACCEL_PF))).toBe('vfl_accel');
    expect(u.boundTo(u.dev('0000:21:00.0'))).toBeUndefined();
    expect(u.boundTo(u.dev('0000:21:01.0'))).toBeUndefined();
  });
});
