/**
 * The kernel's netlink bus: family ids, doit/dumpit framing, errors with extended acks, multicast,
 * taps, and the tool-side client. Expected bytes are literal arrays built from the netlink headers'
 * layout by hand (nlmsghdr 16 bytes LE, genlmsghdr 4, nlattr 4 + padding to 4).
 */
import { describe, expect, it } from 'vitest';
import {
  GenlClient,
  type GenlReply,
  NetlinkBus,
  type NetlinkTapFrame,
  nla,
  nlError,
} from '../../src/kernel/netlink/index.js';

const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

/** A toy family: cmd 1 echoes attribute 1 (u32) + 1; cmd 2 dumps two objects; cmd 3 fails with extack. */
function toyBus(): { bus: NetlinkBus; id: number; notify: (r: GenlReply) => void } {
  const bus = new NetlinkBus({ nowNs: () => 42 });
  const f = bus.registerFamily({
    name: 'toy',
    version: 1,
    maxAttr: 2,
    policy: { 1: 'u32', 2: 'string' },
    mcastGroups: ['events'],
    ops: [
      {
        cmd: 1,
        doit: (req) => {
          const a = req.msg.attrs.find((x) => x.type === 1);
          if (a?.kind !== 'u32') throw nlError('EINVAL', 'value missing');
          return [{ cmd: 1, attrs: [nla.u32(1, a.value + 1)] }];
        },
      },
      { cmd: 2, dumpit: () => [0, 1].map((i) => ({ cmd: 2, attrs: [nla.u32(1, i)] })) },
      {
        cmd: 3,
        doit: () => {
          throw nlError('EBUSY', 'toy is busy', 2);
        },
      },
    ],
  });
  return { bus, id: f.id, notify: (r) => bus.notify('toy', 'events', r) };
}

describe('NetlinkBus', () => {
  it('gives the first dynamic family id 0x13 and the next 0x14', () => {
    const { bus, id } = toyBus();
    expect(id).toBe(0x13);
    expect(bus.registerFamily({ name: 'toy2', version: 1, maxAttr: 0, policy: {}, ops: [] }).id).toBe(0x14);
    expect(() => bus.registerFamily({ name: 'toy', version: 1, maxAttr: 0, policy: {}, ops: [] })).toThrow(
      /EEXIST/,
    );
  });

  it('answers a doit with its reply then an ack, byte for byte', () => {
    const { bus } = toyBus();
    const sock = bus.openSocket(); // portid 1
    // nlmsghdr(len 28, type 0x13, flags REQUEST|ACK, seq 7, pid 0) genl(cmd 1, ver 1) attr u32 type 1 = 41
    const req = Uint8Array.from([
      ...le32(28),
      ...le16(0x13),
      ...le16(0x05),
      ...le32(7),
      ...le32(0),
      1,
      1,
      0,
      0,
      ...le16(8),
      ...le16(1),
      ...le32(41),
    ]);
    sock.send(req);
    const reply = sock.recv()!;
    expect([...reply]).toEqual([
      ...le32(28),
      ...le16(0x13),
      ...le16(0),
      ...le32(7),
      ...le32(1),
      1,
      1,
      0,
      0,
      ...le16(8),
      ...le16(1),
      ...le32(42),
    ]);
    const ack = sock.recv()!;
    // NLMSG_ERROR, error 0, the request's header echoed, payload not echoed for success (capped).
    expect([...ack]).toEqual([
      ...le32(36),
      ...le16(2),
      ...le16(0x100),
      ...le32(7),
      ...le32(1),
      ...le32(0),
      ...le32(28),
      ...le16(0x13),
      ...le16(0x05),
      ...le32(7),
      ...le32(0),
    ]);
    expect(sock.recv()).toBeUndefined();
  });

  it('frames a dump as NLM_F_MULTI messages and NLMSG_DONE', () => {
    const { bus } = toyBus();
    const c = GenlClient.open(bus, 'toy', { 1: 'u32' });
    const r = c.call(2, [], { dump: true });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.replies.map((m) => m.attrs[0])).toEqual([nla.u32(1, 0), nla.u32(1, 1)]);
  });

  it('turns a handler error into an ack with the extack message and the attribute offset', () => {
    const { bus } = toyBus();
    const c = GenlClient.open(bus, 'toy', {});
    const r = c.call(3, [nla.u32(1, 5), nla.string(2, 'x')]);
    expect(r).toEqual({ ok: false, errno: 16, extack: 'toy is busy', badAttrOffset: 16 + 4 + 8 });
  });

  it('rejects attributes that break the policy with EINVAL and an unknown command with EOPNOTSUPP', () => {
    const { bus } = toyBus();
    const c = GenlClient.open(bus, 'toy', {});
    const bad = c.call(1, [nla.string(1, 'not a u32')]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errno).toBe(22);
    const unknown = c.call(9, []);
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.errno).toBe(95);
  });

  it('resolving a family that does not exist is ENOENT', () => {
    const { bus } = toyBus();
    expect(() => GenlClient.open(bus, 'nope', {})).toThrow(/not found/);
  });

  it('multicasts to members only, and taps see both directions with the modeled time', () => {
    const { bus, notify } = toyBus();
    const frames: NetlinkTapFrame[] = [];
    const detach = bus.addTap((f) => frames.push(f));
    const member = GenlClient.open(bus, 'toy', { 1: 'u32' });
    member.join('events');
    const other = GenlClient.open(bus, 'toy', { 1: 'u32' });
    notify({ cmd: 5, attrs: [nla.u32(1, 9)] });
    const got = member.drainNotifications();
    expect(got.map((m) => [m.cmd, m.seq, m.pid])).toEqual([[5, 0, 0]]);
    expect(other.drainNotifications()).toEqual([]);
    // two lookups (request + reply + ack each) and one notification
    expect(frames.map((f) => f.direction)).toEqual([
      'to-kernel',
      'from-kernel',
      'from-kernel',
      'to-kernel',
      'from-kernel',
      'from-kernel',
      'from-kernel',
    ]);
    expect(frames.every((f) => f.protocol === 16 && f.timeNs === 42)).toBe(true);
    detach();
    notify({ cmd: 5, attrs: [] });
    expect(frames).toHaveLength(7);
  });

  it('drops a buffer with broken framing without answering', () => {
    const { bus } = toyBus();
    const sock = bus.openSocket();
    sock.send(Uint8Array.from([...le32(400), ...le16(0x13), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(sock.recv()).toBeUndefined();
  });

  it('the controller lists registered families', () => {
    const { bus } = toyBus();
    const c = GenlClient.open(bus, 'toy', {});
    expect(c.family).toMatchObject({ name: 'toy', id: 0x13, version: 1, maxAttr: 2 });
    expect(c.family.mcastGroups).toEqual([{ name: 'events', id: 0x13 }]);
    expect(bus.registry.all().map((f) => f.name)).toEqual(['nlctrl', 'toy']);
  });
});
