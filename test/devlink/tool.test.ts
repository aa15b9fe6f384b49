/**
 * The `devlink` tool on the fake NIC: the facts/kernel.md 7.2 user flow with the text iproute2 prints
 * (lines as in Documentation/networking/devlink/devlink-port.rst and the iproute2 commit messages that
 * added port function state), -j / -p JSON, iproute2's own argument errors, and errors from extended
 * acks ("Error: <msg>." then "kernel answers: <strerror>", status 1). Expected text is written by hand.
 */
import { describe, expect, it } from 'vitest';
import { NetlinkBus } from '../../src/kernel/index.js';
import { devlinkCommand } from '../../src/lab/commands/devlink.js';
import { vdpaCommand } from '../../src/lab/commands/vdpa.js';
import { devlinkWorld } from './support.js';

const DEV = 'netdevsim/netdevsim10';
const PF_LINE =
  'netdevsim/netdevsim10/0: type eth netdev eni10np0 flavour pcipf controller 0 pfnum 0 external false splittable false\n' +
  '  function:\n' +
  '    hw_addr 02:00:00:00:00:10\n';
const SF_LINE = (mac: string, state: string, opstate: string) =>
  'netdevsim/netdevsim10/32768: type eth netdev eth1 flavour pcisf controller 0 pfnum 0 sfnum 88 splittable false\n' +
  '  function:\n' +
  `    hw_addr ${mac} state ${state} opstate ${opstate} roce enable\n`;

describe('devlink: the SF user flow (facts 7.2)', () => {
  it('eswitch, add, configure, activate, deactivate, delete — text', () => {
    const w = devlinkWorld();
    expect(w.devlink('dev show')).toEqual({ status: 0, out: 'netdevsim/netdevsim10\n', err: '' });
    expect(w.devlink(`dev eswitch show ${DEV}`).out).toBe('netdevsim/netdevsim10: mode legacy\n');
    expect(w.devlink(`dev eswitch set ${DEV} mode switchdev`)).toEqual({ status: 0, out: '', err: '' });
    expect(w.devlink(`dev eswitch show ${DEV}`).out).toBe('netdevsim/netdevsim10: mode switchdev\n');

    expect(w.devlink(`port add ${DEV} flavour pcisf pfnum 0 sfnum 88`)).toEqual({
      status: 0,
      out: SF_LINE('00:00:00:00:00:00', 'inactive', 'detached'),
      err: '',
    });
    expect(w.devlink('port show').out).toBe(PF_LINE + SF_LINE('00:00:00:00:00:00', 'inactive', 'detached'));
    expect(w.devlink(`port function set ${DEV}/32768 hw_addr 00:00:00:00:88:88`).status).toBe(0);
    expect(w.devlink(`port function set ${DEV}/32768 state active`).status).toBe(0);
    expect(w.devlink(`port show ${DEV}/32768`).out).toBe(SF_LINE('00:00:00:00:88:88', 'active', 'attached'));
    expect(w.devlink(`port function set ${DEV}/32768 state inactive`).status).toBe(0);
    expect(w.devlink(`port sh ${DEV}/32768`).out).toBe(SF_LINE('00:00:00:00:88:88', 'inactive', 'detached'));
    expect(w.devlink(`port del ${DEV}/32768`)).toEqual({ status: 0, out: '', err: '' });
    expect(w.devlink('port show').out).toBe(PF_LINE);
  });

  it('-j and -j -p', () => {
    const w = devlinkWorld();
    w.devlink(`dev eswitch set ${DEV} mode switchdev`);
    w.devlink(`port add ${DEV} flavour pcisf pfnum 0 sfnum 88`);
    expect(w.devlink('-j dev show').out).toBe('{"dev":{"netdevsim/netdevsim10":{}}}\n');
    expect(w.devlink(`-j dev eswitch show ${DEV}`).out).toBe(
      '{"dev":{"netdevsim/netdevsim10":{"mode":"switchdev"}}}\n',
    );
    expect(w.devlink(`-j port show ${DEV}/32768`).out).toBe(
      '{"port":{"netdevsim/netdevsim10/32768":{"type":"eth","netdev":"eth1","flavour":"pcisf","controller":0,' +
        '"pfnum":0,"sfnum":88,"splittable":false,"function":{"hw_addr":"00:00:00:00:00:00",' +
        '"state":"inactive","opstate":"detached","roce":"enable"}}}}\n',
    );
    expect(w.devlink(`-jp port show ${DEV}/32768`).out).toBe(w.devlink(`-j -p port show ${DEV}/32768`).out);
    expect(w.devlink(`-j -p port show ${DEV}/32768`).out).toBe(
      [
        '{',
        '    "port": {',
        '        "netdevsim/netdevsim10/32768": {',
        '            "type": "eth",',
        '            "netdev": "eth1",',
        '            "flavour": "pcisf",',
        '            "controller": 0,',
        '            "pfnum": 0,',
        '            "sfnum": 88,',
        '            "splittable": false,',
        '            "function": {',
        '                "hw_addr": "00:00:00:00:00:00",',
        '                "state": "inactive",',
        '                "opstate": "detached",',
        '                "roce": "enable"',
        '            }',
        '        }',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
    // A command that prints nothing still ends its (empty) JSON document with a newline.
    expect(w.devlink(`-j port function set ${DEV}/32768 state active`)).toEqual({
      status: 0,
      out: '\n',
      err: '',
    });
  });

  it('parameters: show and set (text and JSON); set sends nothing when the value is unchanged', () => {
    const w = devlinkWorld();
    expect(w.devlink('dev param show').out).toBe(
      [
        'netdevsim/netdevsim10:',
        '  name enable_vnet type generic',
        '    values:',
        '      cmode driverinit value true',
        '  name max_macs type generic',
        '    values:',
        '      cmode driverinit value 128',
        '',
      ].join('\n'),
    );
    expect(w.devlink(`-j dev param show ${DEV} name max_macs`).out).toBe(
      '{"param":{"netdevsim/netdevsim10":[{"name":"max_macs","type":"generic","values":[{"cmode":"driverinit","value":128}]}]}}\n',
    );
    expect(w.devlink(`dev param set ${DEV} name enable_vnet value false cmode driverinit`).status).toBe(0);
    expect(w.devlink(`dev param set ${DEV} name max_macs value 64 cmode driverinit`).status).toBe(0);
    expect(w.nic.params).toEqual({ enableVnet: false, maxMacs: 64 });
    const sent: number[] = [];
    w.bus.addTap((f) => {
      if (f.direction === 'to-kernel') sent.push(f.bytes[16]!);
    });
    expect(w.devlink(`dev param set ${DEV} name max_macs value 64 cmode driverinit`).status).toBe(0);
    expect(sent).toEqual([3, 38]); // CTRL_CMD_GETFAMILY, DEVLINK_CMD_PARAM_GET: no PARAM_SET
  });
});

describe('devlink: errors', () => {
  it('from the kernel: the extack line, then "kernel answers", status 1', () => {
    const w = devlinkWorld();
    expect(w.devlink(`port add ${DEV} flavour pcisf pfnum 0 sfnum 88`)).toEqual({
      status: 1,
      out: '',
      err: 'Error: Port add is only supported in eswitch switchdev mode.\nkernel answers: Operation not supported\n',
    });
    expect(w.devlink('port show pci/0000:99:00.0/1')).toEqual({
      status: 1,
      out: '',
      err: 'kernel answers: No such device\n',
    });
    expect(w.devlink(`port show ${DEV}/7`).err).toBe('kernel answers: No such device\n');
    expect(w.devlink(`-j port show ${DEV}/7`)).toEqual({
      status: 1,
      out: '{"port":{}}\n',
      err: 'kernel answers: No such device\n',
    });
    expect(w.devlink(`port function set ${DEV}/0 state active`)).toEqual({
      status: 1,
      out: '',
      err: 'Error: Port function is not an SF.\nkernel answers: Operation not supported\n',
    });
    expect(w.devlink(`dev param set ${DEV} name max_macs value 4096 cmode driverinit`).err).toBe(
      'Error: max_macs out of range.\nkernel answers: Invalid argument\n',
    );
  });

  it("iproute2's own argument errors", () => {
    const w = devlinkWorld();
    const err = (line: string) => {
      const r = w.devlink(line);
      expect(r.status).toBe(1);
      return r.err;
    };
    expect(err(`port add ${DEV} flavour pcisf`)).toBe('Port PCI PF number is expected.\n');
    expect(err(`port add ${DEV} pfnum 0`)).toBe('Port flavour is expected.\n');
    expect(err(`port add ${DEV} flavour pcisf pfnum 70000`)).toBe(
      '"70000" is not a number or not within range\n',
    );
    expect(err(`port add ${DEV} flavour pcisf pfnum 0 bogus 1`)).toBe('Unknown option "bogus"\n');
    expect(err('port add netdevsim')).toBe('Netdevice "netdevsim" not found\n');
    expect(err('port del netdevsim/netdevsim10')).toBe(
      'Wrong port identification string format.\nExpected "bus_name/dev_name/port_index" or "netdev_ifname".\n',
    );
    expect(err(`port del ${DEV}/x`)).toBe('Port index "x" is not a number or not within range\n');
    expect(err('dev eswitch show a/b/c')).toBe(
      'Wrong devlink identification string format.\nExpected "bus_name/dev_name".\n',
    );
    expect(err(`dev eswitch set ${DEV} mode bridge`)).toBe('Unknown eswitch mode "bridge"\n');
    expect(err(`dev eswitch set ${DEV}`)).toBe('Need to set at least one option\n');
    expect(err(`dev param set ${DEV} name max_macs value 1`)).toBe('Configuration mode expected.\n');
    expect(err(`dev param set ${DEV} name max_macs value x cmode driverinit`)).toBe(
      'Value "x" is not a number or not within range\n',
    );
    expect(err(`dev param set ${DEV} name max_macs value 1 cmode boot`)).toBe(
      'Unknown configuration mode "boot"\n',
    );
    expect(err('port frob')).toBe('Command "frob" not found\n');
    expect(err(`port function set ${DEV}/0 hw_addr 00:zz:11`)).toBe('"zz" is invalid lladdr.\n');
    expect(err(`port function set ${DEV}/0 hw_addr 00:100`)).toBe('"100" is invalid lladdr.\n');
    expect(err('sb show')).toBe('Object "sb" not found\n');
    expect(w.devlink('port help')).toMatchObject({ status: 0, out: '' });
  });
});

describe('tools on a kernel without the families', () => {
  it('"Failed to connect to ... Netlink", status 1', () => {
    const bus = new NetlinkBus({ nowNs: () => 0 });
    for (const [cmd, name] of [
      [devlinkCommand({ netlink: bus }), 'devlink'],
      [vdpaCommand({ netlink: bus }), 'vdpa'],
    ] as const) {
      let err = '';
      const status = cmd.run(['dev', 'show'], { out: () => undefined, err: (t) => (err += t) });
      expect([status, err]).toEqual([1, `Failed to connect to ${name} Netlink\n`]);
    }
  });
});
