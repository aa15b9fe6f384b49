/**
 * Every devlink rule of facts/kernel.md 7.1 (and the handle, policy and parameter rules of
 * net/devlink/netlink.c, port.c and param.c) through the family on the bus: errno, extended-ack text,
 * offending attribute, and that a refused request changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { GenlClient, type GenlResult, type NlAttr, nla } from '../../src/kernel/index.js';
import { DEVLINK_REPLY_POLICY } from '../../src/lab/commands/devlink/policy.js';
import { devlink as dl, Errno } from '../../src/spec/index.js';
import { devlinkWorld } from './support.js';

const H = [
  nla.string(dl.DEVLINK_ATTR_BUS_NAME, 'netdevsim'),
  nla.string(dl.DEVLINK_ATTR_DEV_NAME, 'netdevsim10'),
];
const BARE = [
  nla.string(dl.DEVLINK_ATTR_BUS_NAME, 'netdevsim'),
  nla.string(dl.DEVLINK_ATTR_DEV_NAME, 'bare0'),
];
const port = (i: number) => nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, i);
const fn = (...attrs: NlAttr[]) => nla.nest(dl.DEVLINK_ATTR_PORT_FUNCTION, attrs);
const caps = (value: number, selector: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, value, true);
  new DataView(b.buffer).setUint32(4, selector, true);
  return nla.binary(dl.DEVLINK_PORT_FN_ATTR_CAPS, b);
};
const sfAdd = [
  ...H,
  nla.u16(dl.DEVLINK_ATTR_PORT_FLAVOUR, dl.DEVLINK_PORT_FLAVOUR_PCI_SF),
  nla.u16(dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER, 0),
  nla.u32(dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER, 88),
];

function setup() {
  const w = devlinkWorld();
  w.registry.register('netdevsim', 'bare0', {});
  const c = GenlClient.open(w.bus, 'devlink', DEVLINK_REPLY_POLICY);
  const call = (cmd: number, attrs: readonly NlAttr[], dump = false): GenlResult =>
    c.call(cmd, attrs, { dump });
  return { w, c, call };
}

function failure(r: GenlResult): { errno: number; extack: string | undefined; off: number | undefined } {
  if (r.ok) throw new Error('expected a failure');
  return { errno: r.errno, extack: r.extack, off: r.badAttrOffset };
}

describe('handles', () => {
  it('no BUS_NAME/DEV_NAME is EINVAL, an unknown instance ENODEV, both without a message', () => {
    const { call } = setup();
    expect(failure(call(dl.DEVLINK_CMD_GET, []))).toEqual({
      errno: Errno.EINVAL,
      extack: undefined,
      off: undefined,
    });
    expect(failure(call(dl.DEVLINK_CMD_GET, [H[0]!]))).toMatchObject({ errno: Errno.EINVAL });
    const nodev = [
      nla.string(dl.DEVLINK_ATTR_BUS_NAME, 'pci'),
      nla.string(dl.DEVLINK_ATTR_DEV_NAME, '0000:99:00.0'),
    ];
    expect(failure(call(dl.DEVLINK_CMD_GET, nodev))).toEqual({
      errno: Errno.ENODEV,
      extack: undefined,
      off: undefined,
    });
    expect(failure(call(dl.DEVLINK_CMD_PORT_GET, nodev, true))).toMatchObject({ errno: Errno.ENODEV });
  });

  it('GET replies as DEVLINK_CMD_NEW; the dump lists every instance in registration order', () => {
    const { call } = setup();
    const one = call(dl.DEVLINK_CMD_GET, H);
    expect(one.ok && one.replies.map((m) => m.cmd)).toEqual([dl.DEVLINK_CMD_NEW]);
    const all = call(dl.DEVLINK_CMD_GET, [], true);
    expect(
      all.ok && all.replies.map((m) => m.attrs.find((a) => a.type === dl.DEVLINK_ATTR_DEV_NAME)),
    ).toEqual([
      nla.string(dl.DEVLINK_ATTR_DEV_NAME, 'netdevsim10'),
      nla.string(dl.DEVLINK_ATTR_DEV_NAME, 'bare0'),
    ]);
  });

  it('port commands: no PORT_INDEX is EINVAL, an unknown port ENODEV', () => {
    const { call } = setup();
    expect(failure(call(dl.DEVLINK_CMD_PORT_GET, H))).toMatchObject({ errno: Errno.EINVAL });
    expect(failure(call(dl.DEVLINK_CMD_PORT_GET, [...H, port(5)]))).toMatchObject({ errno: Errno.ENODEV });
    expect(failure(call(dl.DEVLINK_CMD_PORT_DEL, [...H, port(5)]))).toMatchObject({ errno: Errno.ENODEV });
    expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...H, port(5), fn()]))).toMatchObject({
      errno: Errno.ENODEV,
    });
    const ok = call(dl.DEVLINK_CMD_PORT_GET, [...H, port(0)]);
    expect(ok.ok && ok.replies.map((m) => m.cmd)).toEqual([dl.DEVLINK_CMD_PORT_NEW]);
  });

  it('a command the family does not have is EOPNOTSUPP', () => {
    const { call } = setup();
    expect(failure(call(dl.DEVLINK_CMD_RELOAD, H))).toMatchObject({ errno: Errno.EOPNOTSUPP });
  });
});

describe('PORT_NEW', () => {
  it('without a port_new op: EOPNOTSUPP, before the attribute checks', () => {
    const { call } = setup();
    expect(failure(call(dl.DEVLINK_CMD_PORT_NEW, BARE))).toEqual({
      errno: Errno.EOPNOTSUPP,
      extack: undefined,
      off: undefined,
    });
  });

  it('flavour and PCI PF are mandatory: EINVAL "Port flavour or PCI PF are not specified"', () => {
    const { w, call } = setup();
    const msg = 'Port flavour or PCI PF are not specified';
    expect(failure(call(dl.DEVLINK_CMD_PORT_NEW, H))).toMatchObject({ errno: Errno.EINVAL, extack: msg });
    expect(failure(call(dl.DEVLINK_CMD_PORT_NEW, [...H, sfAdd[2]!]))).toMatchObject({
      errno: Errno.EINVAL,
      extack: msg,
    });
    expect(failure(call(dl.DEVLINK_CMD_PORT_NEW, [...H, sfAdd[3]!]))).toMatchObject({
      errno: Errno.EINVAL,
      extack: msg,
    });
    expect(w.nic.inst.ports.map((p) => p.index)).toEqual([0]);
  });

  it('the driver sees PORT_INDEX, the controller (low 16 bits) and the sfnum only for PCI_SF', () => {
    const { w, call } = setup();
    const seen: unknown[] = [];
    w.registry.register('netdevsim', 'rec0', {
      portNew: (req) => {
        seen.push(req);
        throw new Error('unreachable');
      },
    });
    const rec = [
      nla.string(dl.DEVLINK_ATTR_BUS_NAME, 'netdevsim'),
      nla.string(dl.DEVLINK_ATTR_DEV_NAME, 'rec0'),
    ];
    const attrs = (flavour: number) => [
      ...rec,
      nla.u16(dl.DEVLINK_ATTR_PORT_FLAVOUR, flavour),
      nla.u16(dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER, 1),
      nla.u32(dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER, 9),
      nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, 40),
      nla.u32(dl.DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, 0x10002),
    ];
    expect(() => call(dl.DEVLINK_CMD_PORT_NEW, attrs(dl.DEVLINK_PORT_FLAVOUR_PCI_VF))).toThrow('unreachable');
    expect(() => call(dl.DEVLINK_CMD_PORT_NEW, attrs(dl.DEVLINK_PORT_FLAVOUR_PCI_SF))).toThrow('unreachable');
    expect(seen).toEqual([
      { flavour: dl.DEVLINK_PORT_FLAVOUR_PCI_VF, pfnum: 1, index: 40, controller: 2 },
      { flavour: dl.DEVLINK_PORT_FLAVOUR_PCI_SF, pfnum: 1, index: 40, controller: 2, sfnum: 9 },
    ]);
  });

  it("the driver's refusal passes through with its extack; success replies with DEVLINK_CMD_PORT_NEW (6.12)", () => {
    const { w, call } = setup();
    expect(failure(call(dl.DEVLINK_CMD_PORT_NEW, sfAdd))).toMatchObject({
      errno: Errno.EOPNOTSUPP,
      extack: 'Port add is only supported in eswitch switchdev mode',
    });
    w.nic.mode = dl.DEVLINK_ESWITCH_MODE_SWITCHDEV;
    const r = call(dl.DEVLINK_CMD_PORT_NEW, sfAdd);
    expect(
      r.ok && r.replies.map((m) => [m.cmd, m.attrs.find((a) => a.type === dl.DEVLINK_ATTR_PORT_INDEX)]),
    ).toEqual([[dl.DEVLINK_CMD_PORT_NEW, nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, 32768)]]);
  });
});

describe('PORT_SET with PORT_FUNCTION', () => {
  function withSf() {
    const s = setup();
    s.w.nic.mode = dl.DEVLINK_ESWITCH_MODE_SWITCHDEV;
    expect(s.call(dl.DEVLINK_CMD_PORT_NEW, sfAdd).ok).toBe(true);
    return { ...s, sf: s.w.nic.sfs.get(32768)! };
  }
  const P = [...H, port(32768)];

  it('members that do not parse: EINVAL "Fail to parse port function attributes" at the nest', () => {
    const { call, sf } = withSf();
    const msg = 'Fail to parse port function attributes';
    const off = 16 + 4 + 16 + 16 + 8; // nlmsghdr, genlmsghdr, bus, dev, port index
    for (const bad of [
      fn(nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, 2)),
      fn(nla.u16(dl.DEVLINK_PORT_FN_ATTR_STATE, 1)),
      fn(nla.u32(dl.DEVLINK_PORT_FN_ATTR_CAPS, 1)),
      fn(caps(0, 0x10)),
      fn(nla.u8(99, 0)),
    ]) {
      expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, bad]))).toEqual({
        errno: Errno.EINVAL,
        extack: msg,
        off,
      });
    }
    expect(sf.state).toBe('inactive');
  });

  it('hw_addr checks for an Ethernet port', () => {
    const { call, sf } = withSf();
    const hw = (n: number, first = 0) =>
      fn(nla.binary(dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, new Uint8Array(n).fill(first)));
    expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, hw(33)]))).toMatchObject({
      errno: Errno.EINVAL,
      extack: 'Port function hardware address too long',
    });
    expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, hw(5)]))).toMatchObject({
      errno: Errno.EINVAL,
      extack: 'Address must be 6 bytes for Ethernet device',
    });
    expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, hw(6, 1)]))).toMatchObject({
      errno: Errno.EINVAL,
      extack: 'Non-unicast hardware address unsupported',
    });
    expect(sf.mac).toEqual(new Uint8Array(6));
  });

  it('ops are checked before anything is applied; state is applied last', () => {
    const { w, call, sf } = withSf();
    // The PF port (index 0) belongs to the same ops; the fake refuses non-SF ports itself.
    const mac = nla.binary(dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, Uint8Array.of(0, 0, 0, 0, 0x88, 0x88));
    expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, fn(mac, caps(2, 2))]))).toMatchObject({
      errno: Errno.EOPNOTSUPP,
      extack: 'migratable function attribute supported for VFs only',
    });
    expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, fn(caps(4, 4))]))).toMatchObject({
      errno: Errno.EOPNOTSUPP,
      extack: "Port doesn't support ipsec_crypto function attribute",
    });
    expect(sf.mac).toEqual(new Uint8Array(6));
    const active = nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, 1);
    expect(call(dl.DEVLINK_CMD_PORT_SET, [...P, fn(active, mac, caps(0, 1))]).ok).toBe(true);
    expect([sf.state, [...sf.mac], sf.roce]).toEqual(['active', [0, 0, 0, 0, 0x88, 0x88], false]);
    expect(
      failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, nla.u16(dl.DEVLINK_ATTR_PORT_TYPE, 2)])),
    ).toMatchObject({
      errno: Errno.EOPNOTSUPP,
    });
    expect(
      failure(call(dl.DEVLINK_CMD_PORT_SET, [...P, nla.u16(dl.DEVLINK_ATTR_PORT_TYPE, 0)])),
    ).toMatchObject({
      errno: Errno.EINVAL,
      extack: 'integer out of range',
    });
    expect(w.nic.inst.ports.length).toBe(2);
  });

  it('a driver without the function ops: the kernel messages', () => {
    const { w, call } = setup();
    const inst = w.registry.find('netdevsim', 'bare0')!;
    inst.portRegister({
      index: 1,
      flavour: 4,
      type: 2,
      controller: 0,
      pfnum: 0,
      vfnum: 0,
      external: false,
      splittable: false,
    });
    const B = [...BARE, port(1)];
    const mac = nla.binary(dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, new Uint8Array(6));
    const cases: Array<[NlAttr, string]> = [
      [fn(mac), "Port doesn't support function attributes"],
      [fn(nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, 1)), 'Function does not support state setting'],
      [fn(caps(1, 1)), "Port doesn't support RoCE function attribute"],
      [fn(caps(2, 2)), "Port doesn't support migratable function attribute"],
    ];
    for (const [attr, extack] of cases)
      expect(failure(call(dl.DEVLINK_CMD_PORT_SET, [...B, attr]))).toMatchObject({
        errno: Errno.EOPNOTSUPP,
        extack,
      });
    expect(failure(call(dl.DEVLINK_CMD_PORT_DEL, B))).toMatchObject({ errno: Errno.EOPNOTSUPP });
  });
});

describe('eswitch', () => {
  it('mode outside LEGACY..SWITCHDEV is a policy error with the offset; no op is EOPNOTSUPP', () => {
    const { w, call } = setup();
    expect(
      failure(call(dl.DEVLINK_CMD_ESWITCH_SET, [...H, nla.u16(dl.DEVLINK_ATTR_ESWITCH_MODE, 2)])),
    ).toEqual({
      errno: Errno.EINVAL,
      extack: 'integer out of range',
      off: 16 + 4 + 16 + 16,
    });
    expect(w.nic.mode).toBe(0);
    expect(
      failure(call(dl.DEVLINK_CMD_ESWITCH_SET, [...BARE, nla.u16(dl.DEVLINK_ATTR_ESWITCH_MODE, 1)])),
    ).toMatchObject({
      errno: Errno.EOPNOTSUPP,
    });
    const get = call(dl.DEVLINK_CMD_ESWITCH_GET, BARE);
    expect(get.ok && get.replies[0]!.attrs.map((a) => a.type)).toEqual([
      dl.DEVLINK_ATTR_BUS_NAME,
      dl.DEVLINK_ATTR_DEV_NAME,
    ]);
  });
});

describe('parameters', () => {
  const name = (n: string) => nla.string(dl.DEVLINK_ATTR_PARAM_NAME, n);
  const type = (t: number) => nla.u8(dl.DEVLINK_ATTR_PARAM_TYPE, t);
  const cmode = (c: number) => nla.u8(dl.DEVLINK_ATTR_PARAM_VALUE_CMODE, c);
  const data = (...b: number[]) => nla.binary(dl.DEVLINK_ATTR_PARAM_VALUE_DATA, Uint8Array.from(b));
  const U32 = dl.DEVLINK_PARAM_TYPE_U32;
  const DI = dl.DEVLINK_PARAM_CMODE_DRIVERINIT;

  it('GET needs an existing name (EINVAL)', () => {
    const { call } = setup();
    expect(failure(call(dl.DEVLINK_CMD_PARAM_GET, H))).toMatchObject({ errno: Errno.EINVAL });
    expect(failure(call(dl.DEVLINK_CMD_PARAM_GET, [...H, name('nope')]))).toMatchObject({
      errno: Errno.EINVAL,
    });
    const r = call(dl.DEVLINK_CMD_PARAM_GET, [...H, name('max_macs')]);
    expect(r.ok && r.replies[0]!.cmd).toBe(dl.DEVLINK_CMD_PARAM_GET);
  });

  it('SET: type, width, cmode checks; the driver decides the value', () => {
    const { w, call } = setup();
    const cases: Array<[NlAttr[], number]> = [
      [[name('max_macs'), data(1, 0, 0, 0), cmode(DI)], Errno.EINVAL], // no type
      [[name('max_macs'), type(dl.DEVLINK_PARAM_TYPE_U8), data(1), cmode(DI)], Errno.EINVAL], // wrong type
      [[name('max_macs'), type(U32), data(1, 0), cmode(DI)], Errno.EINVAL], // wrong width
      [[name('max_macs'), type(U32), cmode(DI)], Errno.EINVAL], // no value
      [[name('max_macs'), type(U32), data(1, 0, 0, 0)], Errno.EINVAL], // no cmode
      [
        [name('max_macs'), type(U32), data(1, 0, 0, 0), cmode(dl.DEVLINK_PARAM_CMODE_RUNTIME)],
        Errno.EOPNOTSUPP,
      ],
      [[name('enable_vnet'), type(dl.DEVLINK_PARAM_TYPE_BOOL), data(1), cmode(DI)], Errno.EINVAL], // flag with payload
    ];
    for (const [attrs, errno] of cases)
      expect(failure(call(dl.DEVLINK_CMD_PARAM_SET, [...H, ...attrs])).errno).toBe(errno);
    expect(
      failure(
        call(dl.DEVLINK_CMD_PARAM_SET, [...H, name('max_macs'), type(U32), data(0, 16, 0, 0), cmode(DI)]),
      ),
    ).toMatchObject({
      errno: Errno.EINVAL,
      extack: 'max_macs out of range',
    });
    expect(w.nic.params).toEqual({ enableVnet: true, maxMacs: 128 });
    expect(
      call(dl.DEVLINK_CMD_PARAM_SET, [...H, name('max_macs'), type(U32), data(0, 1, 0, 0), cmode(DI)]).ok,
    ).toBe(true);
    expect(
      call(dl.DEVLINK_CMD_PARAM_SET, [...H, name('enable_vnet'), type(dl.DEVLINK_PARAM_TYPE_BOOL), cmode(DI)])
        .ok,
    ).toBe(true);
    expect(w.nic.params).toEqual({ enableVnet: false, maxMacs: 256 });
  });
});

describe('notifications on "config"', () => {
  it('PORT_NEW / PORT_DEL for ports, PORT_NEW after a function set, PARAM_NEW, NEW / DEL for instances', () => {
    const { w, c, call } = setup();
    const mon = GenlClient.open(w.bus, 'devlink', DEVLINK_REPLY_POLICY);
    mon.join('config');
    w.nic.mode = 1;
    call(dl.DEVLINK_CMD_PORT_NEW, sfAdd);
    call(dl.DEVLINK_CMD_PORT_SET, [...H, port(32768), fn(nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, 1))]);
    call(dl.DEVLINK_CMD_PARAM_SET, [
      ...H,
      nla.string(dl.DEVLINK_ATTR_PARAM_NAME, 'enable_vnet'),
      nla.u8(dl.DEVLINK_ATTR_PARAM_TYPE, dl.DEVLINK_PARAM_TYPE_BOOL),
      nla.u8(dl.DEVLINK_ATTR_PARAM_VALUE_CMODE, 1),
    ]);
    call(dl.DEVLINK_CMD_PORT_DEL, [...H, port(32768)]);
    const extra = w.registry.register('netdevsim', 'extra0', {});
    w.registry.unregister(extra);
    const got = mon.drainNotifications().map((m) => [m.cmd, m.pid, m.seq]);
    expect(got).toEqual([
      [dl.DEVLINK_CMD_PORT_NEW, 0, 0],
      [dl.DEVLINK_CMD_PORT_NEW, 0, 0],
      [dl.DEVLINK_CMD_PARAM_NEW, 0, 0],
      [dl.DEVLINK_CMD_PORT_DEL, 0, 0],
      [dl.DEVLINK_CMD_NEW, 0, 0],
      [dl.DEVLINK_CMD_DEL, 0, 0],
    ]);
    expect(c.drainNotifications()).toEqual([]);
  });
});
