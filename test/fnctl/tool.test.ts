/**
 * The `fn` host-shell tool: text and -j JSON of create, show, caps and del on the default host's
 * virtio PF, iproute2's error lines from extended acks ("Error: <msg>." then "kernel answers:
 * <strerror>"), and command-line mistakes caught before anything is sent. Expected output is written
 * by hand.
 */
import { describe, expect, it } from 'vitest';
import { fnHost, PF } from './support.js';

describe('fn tool', () => {
  it('create prints each new function; show -j keys them by handle/id; del prints nothing', () => {
    const h = fnHost();
    expect(h.sh(`fn create pci/${PF} kind vf count 2 driver vfio migratable on`)).toEqual({
      out:
        'pci/0000:01:00.0/0: kind vf dev 0000:01:00.1 rid 01:00.1 driver vfio bound vfio0 migratable true\n' +
        'pci/0000:01:00.0/1: kind vf dev 0000:01:00.2 rid 01:00.2 driver vfio bound vfio1 migratable true\n',
      err: '',
      status: 0,
    });
    expect(JSON.parse(h.sh('fn show -j').out)).toEqual({
      function: {
        'pci/0000:01:00.0/0': {
          kind: 'vf',
          dev: '0000:01:00.1',
          rid: '01:00.1',
          driver: 'vfio',
          bound: 'vfio0',
          migratable: true,
        },
        'pci/0000:01:00.0/1': {
          kind: 'vf',
          dev: '0000:01:00.2',
          rid: '01:00.2',
          driver: 'vfio',
          bound: 'vfio1',
          migratable: true,
        },
      },
    });
    expect(h.sh(`fn show pci/${PF} id 1`).out).toBe(
      'pci/0000:01:00.0/1: kind vf dev 0000:01:00.2 rid 01:00.2 driver vfio bound vfio1 migratable true\n',
    );
    expect(h.sh(`fn -j show pci/${PF} id 0`).out).toBe(
      '{"function":{"pci/0000:01:00.0/0":{"kind":"vf","dev":"0000:01:00.1","rid":"01:00.1","driver":"vfio","bound":"vfio0","migratable":true}}}\n',
    );
    expect(h.sh(`fn del pci/${PF} all`)).toEqual({ out: '', err: '', status: 0 });
    expect(h.sh('fn show')).toEqual({ out: '', err: '', status: 0 });
    expect(h.sh('fn show -j').out).toBe('{"function":{}}\n');
  });

  it('caps in text, -j and -jp', () => {
    const h = fnHost();
    const caps = h.sh(`fn caps pci/${PF}`).out;
    expect(caps).toBe(
      'pci/0000:01:00.0: kind vf capacity 1024 drivers vfio,net,none mac false migratable true\n',
    );
    // The dump lists every parent; the virtio PF is one of them.
    expect(h.sh('fn caps').out).toContain(caps);
    expect(h.sh(`fn caps pci/${PF} -j`).out).toBe(
      '{"caps":{"pci/0000:01:00.0":[{"kind":"vf","capacity":1024,"drivers":["vfio","net","none"],"mac":false,"migratable":true}]}}\n',
    );
    expect(h.sh(`fn -jp caps pci/${PF}`).out).toBe(
      [
        '{',
        '    "caps": {',
        '        "pci/0000:01:00.0": [',
        '            {',
        '                "kind": "vf",',
        '                "capacity": 1024,',
        '                "drivers": [',
        '                    "vfio",',
        '                    "net",',
        '                    "none"',
        '                ],',
        '                "mac": false,',
        '                "migratable": true',
        '            }',
        '        ]',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('kernel refusals print the extended ack and the errno, status 1', () => {
    const h = fnHost();
    expect(h.sh(`fn create pci/${PF} kind vf count 2000 driver vfio`)).toEqual({
      out: '',
      err:
        'Error: count 2000 exceeds the capacity of pci/0000:01:00.0 for vf functions (1024).\n' +
        'kernel answers: No space left on device\n',
      status: 1,
    });
    expect(h.sh(`fn create pci/${PF} kind siov count 2 driver vfio`).err).toBe(
      'Error: pci/0000:01:00.0 cannot create siov functions (kinds: vf).\nkernel answers: Operation not supported\n',
    );
    expect(h.sh(`fn create pci/${PF} kind vf count 2 driver vdpa`).err).toBe(
      'Error: driver vdpa does not fit kind vf on pci/0000:01:00.0 (fits: vfio, net, none).\n' +
        'kernel answers: Invalid argument\n',
    );
    expect(h.sh(`fn create pci/${PF} kind vf count 1 mac 02:00:00:00:00:01`).err).toBe(
      'Error: virtio admin commands cannot provision a VF MAC.\nkernel answers: Operation not supported\n',
    );
    expect(h.sh('fn del pci/0000:01:00.0 id 4').err).toBe(
      'Error: function 4 does not exist on pci/0000:01:00.0.\nkernel answers: No such file or directory\n',
    );
  });

  it('command-line mistakes are caught by the tool, nothing is sent', () => {
    const h = fnHost();
    const before = h.snapshot();
    const cases: [string, string][] = [
      [
        'fn create 0000:01:00.0 kind vf count 1',
        'Error: "0000:01:00.0" is not a parent handle (BUS/NAME, e.g. pci/0000:01:00.0).\n',
      ],
      [`fn create pci/${PF} kind pf count 1`, 'Error: kind "pf" is unknown (vf, sf, siov).\n'],
      [`fn create pci/${PF} kind vf count many`, 'Error: count "many" is not a valid number.\n'],
      [`fn create pci/${PF} kind vf`, 'Error: kind and count are required.\n'],
      [
        `fn create pci/${PF} kind vf count 1 driver ib`,
        'Error: driver "ib" is unknown (vfio, net, vdpa, none).\n',
      ],
      [`fn create pci/${PF} kind vf count 1 mac 02:00`, 'Error: "02:00" is not a valid MAC address.\n'],
      [`fn create pci/${PF} kind vf count 1 migratable yes`, 'Error: migratable "yes" is not on or off.\n'],
      [`fn create pci/${PF} kind vf count 1 colour blue`, 'Error: unknown option "colour".\n'],
      [`fn del pci/${PF}`, 'Error: del needs DEV and "id ID" or "all".\n'],
      ['fn frobnicate', 'Error: object "frobnicate" is unknown, try "fn help".\n'],
    ];
    for (const [line, err] of cases) expect(h.sh(line)).toEqual({ out: '', err, status: 1 });
    expect(h.snapshot()).toEqual(before);
    expect(h.sh('fn help').out).toMatch(/^Usage: fn \[ OPTIONS \] OBJECT/);
  });
});
