/**
 * The vdpa family's rules (drivers/vdpa/vdpa.c) through the bus, and two messages against bytes written
 * by hand from include/uapi/linux/vdpa.h: the DEV_NEW request `vdpa dev add` sends and the extended ack
 * of a failed lookup. The family is the bus's first dynamic one (0x13); the tool's request is seq 2.
 */
import { describe, expect, it } from 'vitest';
import { GenlClient, type GenlResult, type NlAttr, type NlPolicy, nla } from '../../src/kernel/index.js';
import { Errno, vdpa as vd } from '../../src/spec/index.js';
import { ascii, bytes, strz } from '../devlink/support.js';
import { vdpaWorld } from './support.js';

const POLICY: NlPolicy = {
  [vd.VDPA_ATTR_MGMTDEV_BUS_NAME]: 'string',
  [vd.VDPA_ATTR_MGMTDEV_DEV_NAME]: 'string',
  [vd.VDPA_ATTR_DEV_NAME]: 'string',
  [vd.VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES]: 'u64',
  [vd.VDPA_ATTR_DEV_MGMTDEV_MAX_VQS]: 'u32',
  [vd.VDPA_ATTR_DEV_SUPPORTED_FEATURES]: 'u64',
};
const PCI = [
  nla.string(vd.VDPA_ATTR_MGMTDEV_BUS_NAME, 'pci'),
  nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, '0000:65:00.1'),
];
const name = (n: string) => nla.string(vd.VDPA_ATTR_DEV_NAME, n);

function setup() {
  const w = vdpaWorld();
  const c = GenlClient.open(w.bus, 'vdpa', POLICY);
  const call = (cmd: number, attrs: readonly NlAttr[], dump = false): GenlResult =>
    c.call(cmd, attrs, { dump });
  return { w, call };
}
function failure(r: GenlResult) {
  if (r.ok) throw new Error('expected a failure');
  return { errno: r.errno, extack: r.extack, off: r.badAttrOffset };
}

describe('vdpa family', () => {
  it('"vdpa", version 1, no multicast groups', () => {
    const { w } = setup();
    const f = w.bus.registry.byName('vdpa')!;
    expect([f.id, f.version, f.mcastGroups]).toEqual([0x13, 1, []]);
  });

  it('MGMTDEV_GET: doit by handle (bus name exactly when the device has a bus), dump of all', () => {
    const { call } = setup();
    const one = call(vd.VDPA_CMD_MGMTDEV_GET, PCI);
    expect(one.ok && one.replies.map((m) => [m.cmd, m.attrs])).toEqual([
      [
        vd.VDPA_CMD_MGMTDEV_NEW,
        [
          ...PCI,
          nla.u64(vd.VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES, 2n),
          nla.u32(vd.VDPA_ATTR_DEV_MGMTDEV_MAX_VQS, 17),
          nla.u64(vd.VDPA_ATTR_DEV_SUPPORTED_FEATURES, (1n << 32n) | (1n << 5n)),
        ],
      ],
    ]);
    const all = call(vd.VDPA_CMD_MGMTDEV_GET, [], true);
    expect(all.ok && all.replies.length).toBe(2);
    const msg = 'vdpa: Fail to find the specified mgmt device';
    expect(failure(call(vd.VDPA_CMD_MGMTDEV_GET, []))).toMatchObject({ errno: Errno.EINVAL, extack: msg });
    expect(failure(call(vd.VDPA_CMD_MGMTDEV_GET, [PCI[1]!]))).toMatchObject({
      errno: Errno.ENODEV,
      extack: msg,
    });
    const simWithBus = [
      nla.string(vd.VDPA_ATTR_MGMTDEV_BUS_NAME, 'pci'),
      nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, 'vdpasim_net'),
    ];
    expect(failure(call(vd.VDPA_CMD_MGMTDEV_GET, simWithBus))).toMatchObject({ errno: Errno.ENODEV });
    expect(call(vd.VDPA_CMD_MGMTDEV_GET, [nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, 'vdpasim_net')]).ok).toBe(
      true,
    );
  });

  it('DEV_NEW rules: name, max_vqp >= 1, lookup, supported attributes, unique name, policy', () => {
    const { w, call } = setup();
    const mgmtMsg = 'vdpa: Fail to find the specified management device';
    expect(failure(call(vd.VDPA_CMD_DEV_NEW, PCI))).toEqual({
      errno: Errno.EINVAL,
      extack: undefined,
      off: undefined,
    });
    expect(
      failure(call(vd.VDPA_CMD_DEV_NEW, [...PCI, name('v0'), nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 0)])),
    ).toMatchObject({
      errno: Errno.EINVAL,
      extack: 'vdpa: At least one pair of VQs is required',
    });
    expect(failure(call(vd.VDPA_CMD_DEV_NEW, [name('v0')]))).toMatchObject({
      errno: Errno.EINVAL,
      extack: mgmtMsg,
    });
    expect(
      failure(call(vd.VDPA_CMD_DEV_NEW, [nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, 'nope'), name('v0')])),
    ).toMatchObject({
      errno: Errno.ENODEV,
      extack: mgmtMsg,
    });
    const sim = nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, 'vdpasim_net');
    expect(
      failure(call(vd.VDPA_CMD_DEV_NEW, [sim, name('v0'), nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MTU, 9000)])),
    ).toMatchObject({
      errno: Errno.EOPNOTSUPP,
      extack: 'vdpa: All provided attributes are not supported',
    });
    expect(
      failure(call(vd.VDPA_CMD_DEV_NEW, [...PCI, name('v0'), nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MTU, 67)])),
    ).toEqual({
      errno: Errno.EINVAL,
      extack: 'integer out of range',
      off: 16 + 4 + 8 + 20 + 8, // headers, bus, dev (13 bytes + pad), name
    });
    expect(
      failure(
        call(vd.VDPA_CMD_DEV_NEW, [
          ...PCI,
          name('v0'),
          nla.binary(vd.VDPA_ATTR_DEV_NET_CFG_MACADDR, new Uint8Array(5)),
        ]),
      ),
    ).toMatchObject({ errno: Errno.EINVAL });
    expect(w.registry.devices).toEqual([]);
    expect(call(vd.VDPA_CMD_DEV_NEW, [...PCI, name('v0')]).ok).toBe(true);
    expect(failure(call(vd.VDPA_CMD_DEV_NEW, [sim, name('v0')]))).toEqual({
      errno: Errno.EEXIST,
      extack: undefined,
      off: undefined,
    });
    expect(w.registry.devices.map((d) => d.mgmt.dev)).toEqual(['0000:65:00.1']);
  });

  it('DEV_GET / DEV_CONFIG_GET / DEV_DEL of an unknown name: ENODEV "vdpa: device not found"', () => {
    const { call } = setup();
    for (const cmd of [vd.VDPA_CMD_DEV_GET, vd.VDPA_CMD_DEV_CONFIG_GET, vd.VDPA_CMD_DEV_DEL]) {
      expect(failure(call(cmd, [name('ghost')]))).toMatchObject({
        errno: Errno.ENODEV,
        extack: 'vdpa: device not found',
      });
      expect(failure(call(cmd, []))).toMatchObject({ errno: Errno.EINVAL, extack: undefined });
    }
  });

  it('DEV_GET replies as DEV_NEW with the fill order of vdpa_dev_fill', () => {
    const { call } = setup();
    call(vd.VDPA_CMD_DEV_NEW, [...PCI, name('vdpa0'), nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 2)]);
    const r = call(vd.VDPA_CMD_DEV_GET, [name('vdpa0')]);
    expect(r.ok && r.replies[0]!.cmd).toBe(vd.VDPA_CMD_DEV_NEW);
    expect(r.ok && r.replies[0]!.attrs.map((a) => a.type)).toEqual([1, 2, 4, 5, 6, 7, 8, 9]);
  });
});

describe('vdpa byte vectors', () => {
  it('`vdpa dev add name vdpa0 mgmtdev pci/0000:65:00.1 mac 00:11:22:33:44:55` sends exactly this DEV_NEW', () => {
    const w = vdpaWorld();
    const seen: Uint8Array[] = [];
    w.bus.addTap((f) => {
      if (f.direction === 'to-kernel') seen.push(f.bytes);
    });
    expect(w.vdpa('dev add name vdpa0 mgmtdev pci/0000:65:00.1 mac 00:11:22:33:44:55').status).toBe(0);
    expect(seen[1]).toEqual(
      bytes(
        [0x48, 0x00, 0x00, 0x00], // nlmsg_len 72
        [0x13, 0x00], // vdpa
        [0x05, 0x00], // NLM_F_REQUEST | NLM_F_ACK
        [0x02, 0x00, 0x00, 0x00], // seq 2
        [0x00, 0x00, 0x00, 0x00], // pid 0
        [0x03, 0x01, 0x00, 0x00], // VDPA_CMD_DEV_NEW, version 1
        [0x08, 0x00, 0x01, 0x00], // nla_len 8, VDPA_ATTR_MGMTDEV_BUS_NAME
        strz('pci'), // "pci\0"
        [0x11, 0x00, 0x02, 0x00], // nla_len 17, VDPA_ATTR_MGMTDEV_DEV_NAME
        strz('0000:65:00.1'), // 12 chars + NUL + 3 pad
        [0x0a, 0x00, 0x04, 0x00], // nla_len 10, VDPA_ATTR_DEV_NAME
        strz('vdpa0'), // "vdpa0\0" + 2 pad
        [0x0a, 0x00, 0x0a, 0x00], // nla_len 10, VDPA_ATTR_DEV_NET_CFG_MACADDR
        [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00], // MAC + 2 pad
      ),
    );
  });

  it('a DEV_DEL of an unknown device: NLMSG_ERROR -ENODEV with "vdpa: device not found"', () => {
    const w = vdpaWorld();
    const sock = w.bus.openSocket();
    sock.setAckOptions({ extAck: true, capAck: true });
    sock.send(
      bytes(
        [0x20, 0x00, 0x00, 0x00], // nlmsg_len 32
        [0x13, 0x00], // vdpa
        [0x05, 0x00], // NLM_F_REQUEST | NLM_F_ACK
        [0x04, 0x00, 0x00, 0x00], // seq 4
        [0x00, 0x00, 0x00, 0x00], // pid 0
        [0x04, 0x01, 0x00, 0x00], // VDPA_CMD_DEV_DEL, version 1
        [0x0a, 0x00, 0x04, 0x00], // VDPA_ATTR_DEV_NAME
        strz('ghost'),
      ),
    );
    expect(sock.recv()).toEqual(
      bytes(
        [0x40, 0x00, 0x00, 0x00], // nlmsg_len 64
        [0x02, 0x00], // NLMSG_ERROR
        [0x00, 0x03], // NLM_F_CAPPED | NLM_F_ACK_TLVS
        [0x04, 0x00, 0x00, 0x00], // seq 4
        [0x01, 0x00, 0x00, 0x00], // port id 1
        [0xed, 0xff, 0xff, 0xff], // -19 (ENODEV)
        [0x20, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00], // request header
        [0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x1b, 0x00, 0x01, 0x00], // nla_len 27, NLMSGERR_ATTR_MSG
        [...ascii('vdpa: device not found'), 0x00, 0x00], // 22 chars + NUL + 1 pad
      ),
    );
  });
});
