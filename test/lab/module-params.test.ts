/**
 * Module parameters through the host shell, as a root user meets them: `modprobe NAME key=value`,
 * /sys/module/NAME/parameters (Y/N, permissions, kstrtobool on store), the kernel's warning for an
 * unknown parameter and its refusal of a bad value. Expected text is written out by hand from
 * kernel/params.c's messages and kmod's error line.
 */
import { describe, expect, it } from 'vitest';
import { createHostShell } from '../../src/lab/commands/index.js';
import { Lab } from '../../src/lab/index.js';

const PARAMS = '/sys/module/vfio_pci/parameters';

function setup() {
  const host = Lab.default().host();
  const shell = createHostShell(host, { readFile: () => '', wallNowNs: () => 0 });
  const dmesg = (): string[] => host.log.records.map((r) => r.text);
  return { host, shell, dmesg };
}

describe('modprobe NAME key=value', () => {
  it('sets a bool parameter at load; sysfs shows it as Y, the other parameters keep their defaults', () => {
    const { shell } = setup();
    expect(shell.execute('modprobe vfio-pci enable_sriov=1')).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(shell.execute(`cat ${PARAMS}/enable_sriov`).stdout).toBe('Y\n');
    expect(shell.execute(`cat ${PARAMS}/disable_denylist`).stdout).toBe('N\n');
    expect(shell.execute(`ls ${PARAMS}`).stdout).toBe('disable_denylist\nenable_sriov\n');
  });

  it('takes a bare bool name as true and spells the name with - or _', () => {
    const { shell } = setup();
    expect(shell.execute('modprobe vfio_pci enable-sriov').status).toBe(0);
    expect(shell.execute(`cat ${PARAMS}/enable_sriov`).stdout).toBe('Y\n');
  });

  it('starts from the defaults again after rmmod', () => {
    const { shell } = setup();
    shell.execute('modprobe vfio_pci enable_sriov=y');
    expect(shell.execute('rmmod vfio_pci').status).toBe(0);
    expect(shell.execute('modprobe vfio_pci').status).toBe(0);
    expect(shell.execute(`cat ${PARAMS}/enable_sriov`).stdout).toBe('N\n');
  });

  it('loads with an unknown parameter, which the kernel warns about and ignores', () => {
    const { host, shell, dmesg } = setup();
    expect(shell.execute('modprobe vfio_pci bogus=3 enable_sriov=on')).toEqual({
      stdout: '',
      stderr: '',
      status: 0,
    });
    expect(host.kernel.modules.isLoaded('vfio_pci')).toBe(true);
    expect(dmesg()).toContain("vfio_pci: unknown parameter 'bogus' ignored");
    expect(shell.execute(`cat ${PARAMS}/enable_sriov`).stdout).toBe('Y\n');
    expect(shell.execute(`ls ${PARAMS}/bogus`).status).not.toBe(0);
  });

  it('refuses a bad bool: EINVAL from init_module, nothing loaded, no driver registered', () => {
    const { host, shell, dmesg } = setup();
    expect(shell.execute('modprobe vfio_pci enable_sriov=maybe')).toEqual({
      stdout: '',
      stderr: "modprobe: ERROR: could not insert 'vfio_pci': Invalid argument\n",
      status: 1,
    });
    expect(dmesg()).toContain("vfio_pci: 'maybe' invalid for parameter 'enable_sriov'");
    expect(host.kernel.modules.isLoaded('vfio_pci')).toBe(false);
    expect(host.kernel.core.drivers('pci').map((d) => d.name)).not.toContain('vfio-pci');
    expect(shell.execute('ls /sys/module/vfio_pci').status).not.toBe(0);
    expect(shell.execute('lsmod | grep -c vfio_pci').stdout).toBe('0\n');
  });

  it('refuses a bool given as an empty value', () => {
    const { host, shell } = setup();
    expect(shell.execute('modprobe vfio_pci enable_sriov=').status).toBe(1);
    expect(host.kernel.modules.isLoaded('vfio_pci')).toBe(false);
  });
});

describe('/sys/module/NAME/parameters', () => {
  it('shows the declared permissions: enable_sriov 0644, disable_denylist 0444', () => {
    const { host, shell } = setup();
    shell.execute('modprobe vfio_pci');
    expect(host.kernel.sysfs.stat(`${PARAMS}/enable_sriov`).mode).toBe(0o644);
    expect(host.kernel.sysfs.stat(`${PARAMS}/disable_denylist`).mode).toBe(0o444);
  });

  it('stores a writable bool with kstrtobool (first character decides; on/off), EINVAL otherwise', () => {
    const { shell } = setup();
    shell.execute('modprobe vfio_pci');
    const cases: [string, string][] = [
      ['1', 'Y'],
      ['n', 'N'],
      ['yes-please', 'Y'],
      ['off', 'N'],
      ['on', 'Y'],
      ['F', 'N'],
    ];
    for (const [text, shown] of cases) {
      expect(shell.execute(`echo ${text} > ${PARAMS}/enable_sriov`).status).toBe(0);
      expect(shell.execute(`cat ${PARAMS}/enable_sriov`).stdout).toBe(`${shown}\n`);
    }
    expect(shell.execute(`echo maybe > ${PARAMS}/enable_sriov`)).toEqual({
      stdout: '',
      stderr: 'vfiolab: echo: write error: Invalid argument\n',
      status: 1,
    });
    expect(shell.execute(`cat ${PARAMS}/enable_sriov`).stdout).toBe('N\n');
  });

  it('refuses a write to a 0444 parameter at open with EACCES; the value is unchanged', () => {
    const { shell } = setup();
    shell.execute('modprobe vfio_pci disable_denylist=1');
    expect(shell.execute(`echo 0 > ${PARAMS}/disable_denylist`)).toEqual({
      stdout: '',
      stderr: `vfiolab: ${PARAMS}/disable_denylist: Permission denied\n`,
      status: 1,
    });
    expect(shell.execute(`cat ${PARAMS}/disable_denylist`).stdout).toBe('Y\n');
  });

  it('gates vfio-pci sriov_configure on the live value of enable_sriov', () => {
    const { shell } = setup();
    const pf = '/sys/bus/pci/devices/0000:01:00.0';
    shell.execute('modprobe vfio_pci');
    shell.execute('echo 0000:01:00.0 > /sys/bus/pci/drivers/virtio-pci/unbind');
    shell.execute(`echo vfio-pci > ${pf}/driver_override`);
    shell.execute('echo 0000:01:00.0 > /sys/bus/pci/drivers_probe');
    expect(shell.execute(`readlink ${pf}/driver`).stdout).toBe('../../../../bus/pci/drivers/vfio-pci\n');
    expect(shell.execute(`echo 1 > ${pf}/sriov_numvfs`).stderr).toBe(
      'vfiolab: echo: write error: No such file or directory\n',
    );
    shell.execute(`echo Y > ${PARAMS}/enable_sriov`);
    expect(shell.execute(`echo 1 > ${pf}/sriov_numvfs`).status).toBe(0);
    expect(shell.execute(`cat ${pf}/sriov_numvfs`).stdout).toBe('1\n');
  });
});
