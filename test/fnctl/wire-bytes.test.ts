/**
 * The fnctl family on the wire, against bytes written by hand from spec/fnctl.ts's numbers and the
 * netlink layout (nlmsghdr 16 bytes LE, genlmsghdr 4, nlattr 4 + payload padded to 4, NLA_F_NESTED
 * 0x8000 on nests): the CREATE request the `fn` tool sends, the reply part and the ack the kernel
 * answers, and the part size limit on a 1000-function reply. The family id is dynamic (registration
 * order), so it is read from the bus and spliced in.
 */
import { describe, expect, it } from 'vitest';
import type { NetlinkTapFrame } from '../../src/kernel/index.js';
import { fnctl as F } from '../../src/spec/index.js';
import { createReq, fnHost, PF } from './support.js';

const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** "0000:01:00.x" + NUL = 13 bytes: nla_len 17, padded to 20. */
const devNameAttr = (type: number, name: string) => [0x11, 0x00, type, 0x00, ...ascii(name), 0, 0, 0, 0];

const pidOf = (f: NetlinkTapFrame) =>
  f.bytes[12]! | (f.bytes[13]! << 8) | (f.bytes[14]! << 16) | (f.bytes[15]! << 24);

function capture(h: ReturnType<typeof fnHost>): NetlinkTapFrame[] {
  const frames: NetlinkTapFrame[] = [];
  h.k.netlink.addTap((f) => frames.push(f));
  return frames;
}

describe('fnctl bytes', () => {
  it('`fn create ... count 2 driver none` sends exactly this request', () => {
    const h = fnHost();
    const frames = capture(h);
    const famId = h.k.netlink.family('fnctl')!.id;
    expect(h.sh(`fn create pci/${PF} kind vf count 2 driver none`).status).toBe(0);
    const sent = frames.filter((f) => f.direction === 'to-kernel' && f.bytes[4] === famId);
    expect(sent).toHaveLength(1);
    // The tool's socket resolved the family with seq 1, so CREATE is seq 2; pid 0; REQUEST|ACK.
    // biome-ignore format: one row per header or attribute
    expect([...sent[0]!.bytes]).toEqual([
      ...le32(72), ...le16(famId), ...le16(0x0005), ...le32(2), ...le32(0),
      0x01, 0x01, 0x00, 0x00, // genlmsghdr: cmd CREATE, version 1
      0x08, 0x00, 0x01, 0x00, ...ascii('pci'), 0x00, // BUS_NAME
      ...devNameAttr(0x02, PF), // DEV_NAME
      0x05, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, // KIND vf
      0x08, 0x00, 0x04, 0x00, ...le32(2), // COUNT 2
      0x05, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, // DRIVER none
    ]);
  });

  it('the kernel answers one reply part listing both functions, then the capped ack', () => {
    const h = fnHost();
    const frames = capture(h);
    const famId = h.k.netlink.family('fnctl')!.id;
    const portid = h.client.sock.portid;
    const r = h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 2, driver: 0 }));
    expect(r.ok).toBe(true);
    const fromKernel = frames.filter((f) => f.direction === 'from-kernel');
    // The multicast notification goes to taps first (pid 0, seq 0); then the reply and the ack.
    const back = fromKernel.filter((f) => pidOf(f) === portid);
    const notes = fromKernel.filter((f) => pidOf(f) === 0);
    expect(back).toHaveLength(2);
    expect(notes).toHaveLength(1);
    // biome-ignore format: one row per attribute
    const fn = (id: number, dev: string, rid: number) => [
      0x40, 0x00, 0x08, 0x80, // FUNCTION, NLA_F_NESTED, 60 bytes inside
      0x08, 0x00, 0x01, 0x00, ...le32(id), // FN_ID
      0x05, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, // FN_KIND vf
      ...devNameAttr(0x03, dev), // FN_DEV_NAME
      0x06, 0x00, 0x04, 0x00, ...le16(rid), 0x00, 0x00, // FN_RID
      0x05, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, // FN_MIGRATABLE 1 (the PF has device parts)
      0x05, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, // FN_DRIVER none (no BOUND_AS)
    ];
    // biome-ignore format: one row per header or attribute
    expect([...back[0]!.bytes]).toEqual([
      ...le32(184), ...le16(famId), ...le16(0), ...le32(2), ...le32(portid),
      0x01, 0x01, 0x00, 0x00,
      0x08, 0x00, 0x01, 0x00, ...ascii('pci'), 0x00,
      ...devNameAttr(0x02, PF),
      0x08, 0x00, 0x04, 0x00, ...le32(2), // COUNT: 2 in total
      ...fn(0, '0000:01:00.1', 0x0101),
      ...fn(1, '0000:01:00.2', 0x0102),
    ]);
    // The notification is the same part with seq 0 and pid 0.
    expect([...notes[0]!.bytes.slice(16)]).toEqual([...back[0]!.bytes.slice(16)]);
    expect([...notes[0]!.bytes.slice(0, 16)]).toEqual([
      ...le32(184),
      ...le16(famId),
      0,
      0,
      ...le32(0),
      ...le32(0),
    ]);
    // NLMSG_ERROR 0 with NLM_F_CAPPED: the request's header echoed, not its payload.
    // biome-ignore format: one row per header
    expect([...back[1]!.bytes]).toEqual([
      ...le32(36), ...le16(2), ...le16(0x0100), ...le32(2), ...le32(portid),
      ...le32(0),
      ...le32(72), ...le16(famId), ...le16(0x0005), ...le32(2), ...le32(0),
    ]);
  });

  it('1000 functions come back in parts of at most FNCTL_PART_MAX_BYTES, every one listed once', () => {
    const h = fnHost();
    const frames = capture(h);
    const r = h.client.call(F.FNCTL_CMD_CREATE, createReq({ kind: 1, count: 1000, driver: 1 }));
    if (!r.ok) throw new Error(r.extack);
    const portid = h.client.sock.portid;
    const parts = frames.filter((f) => f.direction === 'from-kernel' && pidOf(f) === portid).slice(0, -1);
    expect(parts.length).toBe(r.replies.length);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.bytes.length).toBeLessThanOrEqual(F.FNCTL_PART_MAX_BYTES);
    const ids: number[] = [];
    for (const m of r.replies) {
      expect(m.attrs.slice(0, 3).map((a) => ('value' in a ? a.value : undefined))).toEqual(['pci', PF, 1000]);
      for (const a of m.attrs)
        if (a.type === F.FNCTL_ATTR_FUNCTION && a.kind === 'nested') {
          const id = a.attrs.find((x) => x.type === F.FNCTL_FN_ATTR_ID);
          ids.push(id?.kind === 'u32' ? id.value : -1);
        }
    }
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});
