/**
 * The `vdpa` tool: mgmtdev show, dev add/show/config show/del with the text and JSON iproute2's
 * vdpa/vdpa.c prints (including its trailing spaces and the "link " JSON keys), and its errors.
 * Expected output written by hand.
 */
import { describe, expect, it } from 'vitest';
import { vdpaWorld } from './support.js';

describe('vdpa tool', () => {
  it('mgmtdev show: text and JSON', () => {
    const w = vdpaWorld();
    expect(w.vdpa('mgmtdev show')).toEqual({
      status: 0,
      out:
        'pci/0000:65:00.1: \n  supported_classes net\n  max_supported_vqs 17\n  dev_features MAC VERSION_1\n' +
        'vdpasim_net: \n  supported_classes net\n  max_supported_vqs 17\n  dev_features MAC VERSION_1\n',
      err: '',
    });
    expect(w.vdpa('-j mgmtdev show pci/0000:65:00.1').out).toBe(
      '{"mgmtdev":{"pci/0000:65:00.1":{"supported_classes":["net"],"max_supported_vqs":17,' +
        '"dev_features":["MAC","VERSION_1"]}}}\n',
    );
    expect(w.vdpa('-jp mgmtdev show vdpasim_net').out).toBe(
      [
        '{',
        '    "mgmtdev": {',
        '        "vdpasim_net": {',
        '            "supported_classes": [',
        '                "net"',
        '            ],',
        '            "max_supported_vqs": 17,',
        '            "dev_features": [',
        '                "MAC",',
        '                "VERSION_1"',
        '            ]',
        '        }',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('dev add, show, config show, del', () => {
    const w = vdpaWorld();
    expect(
      w.vdpa('dev add name vdpa0 mgmtdev pci/0000:65:00.1 mac 00:11:22:33:44:55 mtu 9000 max_vqp 2'),
    ).toEqual({
      status: 0,
      out: '',
      err: '',
    });
    expect(w.vdpa('dev add mgmtdev vdpasim_net name vdpa1').status).toBe(0);
    expect(w.vdpa('dev show').out).toBe(
      'vdpa0: type network mgmtdev pci/0000:65:00.1 vendor_id 5555 max_vqs 5 max_vq_size 256\n' +
        'vdpa1: type network mgmtdev vdpasim_net vendor_id 0 max_vqs 3 max_vq_size 256\n',
    );
    expect(w.vdpa('-j dev show vdpa0').out).toBe(
      '{"dev":{"vdpa0":{"type":"network","mgmtdev":"pci/0000:65:00.1","vendor_id":5555,"max_vqs":5,"max_vq_size":256}}}\n',
    );
    expect(w.vdpa('dev config show vdpa0').out).toBe(
      'vdpa0: mac 00:11:22:33:44:55 link up link_announce false max_vq_pairs 2 mtu 9000 \n',
    );
    expect(w.vdpa('-j dev config show').out).toBe(
      '{"config":{"vdpa0":{"mac":"00:11:22:33:44:55","link ":"up","link_announce ":false,"max_vq_pairs":2,"mtu":9000},' +
        '"vdpa1":{"mac":"00:00:00:00:00:00","link ":"up","link_announce ":false,"max_vq_pairs":1,"mtu":1500}}}\n',
    );
    expect(w.vdpa('dev del vdpa0')).toEqual({ status: 0, out: '', err: '' });
    expect(w.vdpa('dev').out).toBe(
      'vdpa1: type network mgmtdev vdpasim_net vendor_id 0 max_vqs 3 max_vq_size 256\n',
    );
  });

  it('errors from the kernel and from the tool', () => {
    const w = vdpaWorld();
    const run = (line: string) => w.vdpa(line);
    expect(run('dev add name v mgmtdev pci/0000:99:00.0')).toEqual({
      status: 1,
      out: '',
      err: 'Error: vdpa: Fail to find the specified management device.\nkernel answers: No such device\n',
    });
    expect(run('dev add name v mgmtdev vdpasim_net mtu 9000').err).toBe(
      'Error: vdpa: All provided attributes are not supported.\nkernel answers: Operation not supported\n',
    );
    expect(run('dev add name v mgmtdev pci/0000:65:00.1 max_vqp 0').err).toBe(
      'Error: vdpa: At least one pair of VQs is required.\nkernel answers: Invalid argument\n',
    );
    expect(run('dev add name v mgmtdev pci/0000:65:00.1 mtu 60').err).toBe(
      'Error: integer out of range.\nkernel answers: Invalid argument\n',
    );
    run('dev add name v mgmtdev pci/0000:65:00.1');
    expect(run('dev add name v mgmtdev vdpasim_net')).toEqual({
      status: 1,
      out: '',
      err: 'kernel answers: File exists\n',
    });
    expect(run('dev del ghost').err).toBe('Error: vdpa: device not found.\nkernel answers: No such device\n');
    expect(run('-j dev show ghost')).toEqual({
      status: 1,
      out: '{"dev":{}}\n',
      err: 'Error: vdpa: device not found.\nkernel answers: No such device\n',
    });
    expect(run('dev add name v2')).toMatchObject({ status: 1, err: 'management device handle not set.\n' });
    expect(run('dev add mgmtdev vdpasim_net')).toMatchObject({ status: 1, err: 'device name is not set.\n' });
    expect(run('dev add name v2 mgmtdev a/b/c').err).toBe(
      'Wrong vdpa mgmtdev identification string format\nExpected "mgmtdev_bus_name/mgmtdev_name"\nExpected "mgmtdev_name"\n',
    );
    expect(run('dev add name v2 mgmtdev vdpasim_net mac zz').err).toBe('"zz" is invalid lladdr.\n');
    expect(run('dev add name v2 mgmtdev vdpasim_net color red').err).toBe('Unknown option "color"\n');
    expect(run('dev frob')).toMatchObject({ status: 1, err: 'Command "frob" not found\n' });
    expect(run('bridge')).toMatchObject({ status: 1, err: 'Object "bridge" not found\n' });
    expect(run('mgmtdev')).toMatchObject({ status: 0, err: 'Usage: vdpa mgmtdev show [ DEV ]\n' });
  });
});
