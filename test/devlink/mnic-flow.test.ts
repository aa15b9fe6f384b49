/**
 * The facts/kernel.md 7.2 user flow on the default host's real NIC (mnic PF at 0000:10:00.0), typed
 * into the host shell: switchdev, add an SF port, set its MAC, activate it (the SF becomes an auxiliary
 * device with its own devlink instance and a vdpa management device), create a vDPA device on it, then
 * tear everything down and find nothing left. The iproute2 line shapes are written by hand; the parts
 * the driver chooses (representor netdev, its SF instance number) are matched loosely.
 */
import { describe, expect, it } from 'vitest';
import { createHostShell } from '../../src/lab/commands/index.js';
import { Lab } from '../../src/lab/index.js';

function host() {
  const h = Lab.default().host();
  let wall = 0;
  const shell = createHostShell(h, { readFile: () => '', wallNowNs: () => (wall += 1000) });
  const sh = (line: string) => {
    const r = shell.execute(line);
    return { out: r.stdout, err: r.stderr, status: r.status };
  };
  return { h, sh };
}

const PF = 'pci/0000:10:00.0';
const sfLine = (mac: string, state: string, opstate: string) =>
  new RegExp(
    `^pci/0000:10:00\\.0/32768: type eth( netdev \\S+)? flavour pcisf controller 0 pfnum 0 sfnum 88 splittable false\\n` +
      `  function:\\n    hw_addr ${mac} state ${state} opstate ${opstate}( roce (enable|disable))?\\n$`,
  );

describe('devlink + vdpa on the default NIC', () => {
  it('SF lifecycle and a vDPA device on it', () => {
    const { sh } = host();
    expect(sh('devlink dev show')).toEqual({ status: 0, out: `${PF}\n`, err: '' });
    expect(sh(`devlink dev eswitch show ${PF}`).out).toBe(`${PF}: mode legacy\n`);
    const legacy = sh(`devlink port add ${PF} flavour pcisf pfnum 0 sfnum 88`);
    expect(legacy.status).toBe(1);
    expect(legacy.err).toMatch(/kernel answers: Operation not supported\n$/);

    expect(sh(`devlink dev eswitch set ${PF} mode switchdev`)).toEqual({ status: 0, out: '', err: '' });
    expect(sh(`devlink dev eswitch show ${PF}`).out).toBe(`${PF}: mode switchdev\n`);
    const add = sh(`devlink port add ${PF} flavour pcisf pfnum 0 sfnum 88`);
    expect(add.status).toBe(0);
    expect(add.out).toMatch(sfLine('00:00:00:00:00:00', 'inactive', 'detached'));

    expect(sh(`devlink port function set ${PF}/32768 hw_addr 00:00:00:00:88:88`).status).toBe(0);
    expect(sh(`devlink port function set ${PF}/32768 state active`).status).toBe(0);
    expect(sh(`devlink port show ${PF}/32768`).out).toMatch(
      sfLine('00:00:00:00:88:88', 'active', 'attached'),
    );
    const json = JSON.parse(sh(`devlink -j port show ${PF}/32768`).out) as {
      port: Record<string, { flavour: string; sfnum: number; function: Record<string, string> }>;
    };
    expect(json.port[`${PF}/32768`]).toMatchObject({
      flavour: 'pcisf',
      sfnum: 88,
      function: { hw_addr: '00:00:00:00:88:88', state: 'active', opstate: 'attached' },
    });

    const devs = sh('devlink dev show')
      .out.split('\n')
      .filter((l) => l !== '');
    expect(devs[0]).toBe(PF);
    const sfDev = devs.find((d) => /^auxiliary\/mnic_core\.sf\.\d+$/.test(d));
    expect(sfDev).toBeDefined();

    const mgmt = sh('vdpa mgmtdev show').out;
    expect(mgmt).toContain(`${sfDev}: \n  supported_classes net\n  max_supported_vqs `);
    expect(sh(`vdpa dev add name vdpa0 mgmtdev ${sfDev} mac 00:11:22:33:44:55`)).toEqual({
      status: 0,
      out: '',
      err: '',
    });
    expect(sh('vdpa dev show vdpa0').out).toMatch(
      new RegExp(`^vdpa0: type network mgmtdev ${sfDev} vendor_id \\d+ max_vqs \\d+ max_vq_size \\d+\\n$`),
    );
    expect(sh('vdpa dev config show vdpa0').out).toMatch(
      /^vdpa0: mac 00:11:22:33:44:55 link up link_announce false /,
    );
    expect(sh(`vdpa dev add name vdpa0 mgmtdev ${sfDev}`)).toMatchObject({
      status: 1,
      err: 'kernel answers: File exists\n',
    });

    // Teardown in the order devlink-port.rst gives: deactivate, wait for detached, delete.
    expect(sh('vdpa dev del vdpa0').status).toBe(0);
    expect(sh(`devlink port function set ${PF}/32768 state inactive`).status).toBe(0);
    expect(sh(`devlink port show ${PF}/32768`).out).toMatch(
      sfLine('00:00:00:00:88:88', 'inactive', 'detached'),
    );
    expect(sh(`devlink port del ${PF}/32768`)).toEqual({ status: 0, out: '', err: '' });
    expect(sh(`devlink port show ${PF}/32768`)).toMatchObject({
      status: 1,
      err: 'kernel answers: No such device\n',
    });
    expect(sh('devlink dev show').out).toBe(`${PF}\n`);
    expect(sh('vdpa mgmtdev show').out).not.toContain('mnic_core.sf');
    expect(sh('vdpa dev show').out).toBe('');
  });

  it("the driver's PORT_NEW refusals reach the user as iproute2 prints them", () => {
    const { sh } = host();
    sh(`devlink dev eswitch set ${PF} mode switchdev`);
    for (const line of [
      `devlink port add ${PF} flavour pcivf pfnum 0`,
      `devlink port add ${PF} flavour pcisf pfnum 0`,
      `devlink port add ${PF} flavour pcisf pfnum 3 sfnum 1`,
    ]) {
      const r = sh(line);
      expect(r.status).toBe(1);
      expect(r.err).toMatch(/^(Error: .*\.\n)?kernel answers: (Operation not supported|Invalid argument)\n$/);
    }
    expect(sh(`devlink port add ${PF} flavour pcisf`)).toMatchObject({
      status: 1,
      err: 'Port PCI PF number is expected.\n',
    });
    expect(
      sh('devlink port show')
        .out.split('\n')
        .filter((l) => l.includes('pcisf')),
    ).toEqual([]);
  });
  it('VF port function: migratable, set while no driver is bound (devlink-port.rst)', () => {
    const { sh } = host();
    sh(`devlink dev eswitch set ${PF} mode switchdev`);
    expect(sh('echo 0 > /sys/bus/pci/devices/0000:10:00.0/sriov_drivers_autoprobe').status).toBe(0);
    expect(sh('echo 1 > /sys/bus/pci/devices/0000:10:00.0/sriov_numvfs').status).toBe(0);
    const vf = (caps: string) =>
      new RegExp(
        `^pci/0000:10:00\\.0/1: type eth( netdev \\S+)? flavour pcivf controller 0 pfnum 0 vfnum 0 external false ` +
          `splittable false\\n  function:\\n    hw_addr 00:00:00:00:00:00 roce enable migratable ${caps}\\n$`,
      );
    expect(sh(`devlink port show ${PF}/1`).out).toMatch(vf('disable'));
    expect(sh(`devlink port function set ${PF}/1 migratable enable`)).toEqual({
      status: 0,
      out: '',
      err: '',
    });
    expect(sh(`devlink port show ${PF}/1`).out).toMatch(vf('enable'));
    expect(sh(`devlink port function set ${PF}/1 state active`)).toMatchObject({ status: 1 });
  });
});
