/**
 * The controller family lookup against bytes assembled by hand from the layouts of
 * include/uapi/linux/netlink.h and genetlink.h (one commented chunk per header or attribute,
 * little-endian, padding written out), not from the codec's own descriptors. The devlink family id
 * (0x14), maxattr (0xb7), mcast group id (4) and port id (0x1000) are values this model chose; the
 * kernel allocates them dynamically.
 */
import { describe, expect, it } from 'vitest';
import {
  CTRL_POLICY,
  decodeGenl,
  decodeMessages,
  dumpFamiliesRequest,
  encodeGenl,
  encodeMessages,
  fromNlMessage,
  type GenlFamilyInfo,
  getFamilyRequest,
  handleCtrlRequest,
  parseAck,
  parseDone,
  parseFamilyReply,
  staticFamilyRegistry,
} from '../../src/kernel/netlink/index.js';

function bytes(...chunks: number[][]): Uint8Array {
  return Uint8Array.from(chunks.flat());
}
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

const DEVLINK: GenlFamilyInfo = {
  name: 'devlink',
  id: 0x14,
  version: 1,
  hdrSizeBytes: 0,
  maxAttr: 0xb7,
  ops: [],
  mcastGroups: [{ name: 'config', id: 4 }],
};
const registry = staticFamilyRegistry([DEVLINK]);
const PORTID = 0x1000;

// CTRL_CMD_GETFAMILY for "devlink", NLM_F_REQUEST | NLM_F_ACK, seq 1, pid 0, genl version 1.
const REQUEST = bytes(
  [0x20, 0x00, 0x00, 0x00], // nlmsg_len 32
  [0x10, 0x00], // nlmsg_type GENL_ID_CTRL
  [0x05, 0x00], // nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
  [0x01, 0x00, 0x00, 0x00], // nlmsg_seq 1
  [0x00, 0x00, 0x00, 0x00], // nlmsg_pid 0
  [0x03, 0x01, 0x00, 0x00], // genlmsghdr: cmd CTRL_CMD_GETFAMILY, version 1, reserved
  [0x0c, 0x00, 0x02, 0x00], // nla_len 12, CTRL_ATTR_FAMILY_NAME
  [...ascii('devlink'), 0x00], // "devlink\0", already 4-aligned
);

// The reply: CTRL_CMD_NEWFAMILY, controller version 2, flags 0, to port 0x1000.
const REPLY = bytes(
  [0x5c, 0x00, 0x00, 0x00], // nlmsg_len 92
  [0x10, 0x00], // GENL_ID_CTRL
  [0x00, 0x00], // flags 0
  [0x01, 0x00, 0x00, 0x00], // seq 1
  [0x00, 0x10, 0x00, 0x00], // pid 0x1000
  [0x01, 0x02, 0x00, 0x00], // cmd CTRL_CMD_NEWFAMILY, version 2
  [0x0c, 0x00, 0x02, 0x00, ...ascii('devlink'), 0x00], // CTRL_ATTR_FAMILY_NAME
  [0x06, 0x00, 0x01, 0x00, 0x14, 0x00, 0x00, 0x00], // CTRL_ATTR_FAMILY_ID u16 0x14 + 2 pad
  [0x08, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00], // CTRL_ATTR_VERSION 1
  [0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00], // CTRL_ATTR_HDRSIZE 0
  [0x08, 0x00, 0x05, 0x00, 0xb7, 0x00, 0x00, 0x00], // CTRL_ATTR_MAXATTR 0xb7
  [0x1c, 0x00, 0x07, 0x00], // CTRL_ATTR_MCAST_GROUPS, len 28, no NLA_F_NESTED
  [0x18, 0x00, 0x01, 0x00], //   entry 1, len 24
  [0x08, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00], //     CTRL_ATTR_MCAST_GRP_ID 4
  [0x0b, 0x00, 0x01, 0x00, ...ascii('config'), 0x00, 0x00], //     CTRL_ATTR_MCAST_GRP_NAME "config\0" + 1 pad
);

// The ack that follows (NLM_F_ACK): error 0, capped, the request's header echoed.
const ACK = bytes(
  [0x24, 0x00, 0x00, 0x00], // nlmsg_len 36
  [0x02, 0x00], // NLMSG_ERROR
  [0x00, 0x01], // NLM_F_CAPPED
  [0x01, 0x00, 0x00, 0x00], // seq 1
  [0x00, 0x10, 0x00, 0x00], // pid 0x1000
  [0x00, 0x00, 0x00, 0x00], // error 0
  [0x20, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // request header
);

describe('CTRL_CMD_GETFAMILY "devlink"', () => {
  it('encodes the request byte for byte and decodes it back', () => {
    const req = getFamilyRequest({ name: 'devlink' }, 1);
    expect(encodeGenl(req)).toEqual(REQUEST);
    expect(decodeGenl(REQUEST, CTRL_POLICY)).toEqual(req);
  });

  it('answers with the hand-built reply followed by a capped ack', () => {
    const [request] = decodeMessages(REQUEST);
    const out = handleCtrlRequest(registry, request!, PORTID);
    expect(encodeMessages(out)).toEqual(bytes([...REPLY], [...ACK]));
  });

  it('parses the reply and the ack', () => {
    const [reply, ack] = decodeMessages(bytes([...REPLY], [...ACK]));
    expect(parseFamilyReply(fromNlMessage(reply!, CTRL_POLICY))).toEqual(DEVLINK);
    const a = parseAck(ack!);
    expect(a).toMatchObject({ error: 0, capped: true, requestPayload: undefined, ext: {} });
    expect(a.request).toEqual({ len: 32, type: 0x10, flags: 5, seq: 1, pid: 0 });
  });

  it('looks a family up by CTRL_ATTR_FAMILY_ID too', () => {
    const req = encodeGenl(getFamilyRequest({ id: 0x14 }, 7, 0, 0x01));
    const out = handleCtrlRequest(registry, decodeMessages(req)[0]!, PORTID);
    expect(out).toHaveLength(1);
    expect(parseFamilyReply(fromNlMessage(out[0]!, CTRL_POLICY)).name).toBe('devlink');
  });

  it('answers an unknown name with an uncapped -ENOENT ack echoing the request', () => {
    const req = bytes(
      [0x20, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
      [0x03, 0x01, 0x00, 0x00],
      [0x0b, 0x00, 0x02, 0x00, ...ascii('nosuch'), 0x00, 0x00], // nla_len 11 + 1 pad
    );
    const expected = bytes(
      [0x34, 0x00, 0x00, 0x00], // nlmsg_len 52
      [0x02, 0x00, 0x00, 0x00], // NLMSG_ERROR, flags 0 (not capped, no TLVs)
      [0x02, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00], // seq 2, pid 0x1000
      [0xfe, 0xff, 0xff, 0xff], // error -2 (-ENOENT)
      [...req], // the whole request: header + payload
    );
    const out = handleCtrlRequest(registry, decodeMessages(req)[0]!, PORTID);
    expect(encodeMessages(out)).toEqual(expected);
    expect(parseAck(out[0]!)).toMatchObject({ error: -2, capped: false, requestPayload: req.subarray(16) });
  });

  it('answers a malformed attribute with -EINVAL and NLMSGERR_ATTR_OFFS at the attribute', () => {
    // CTRL_ATTR_FAMILY_ID with a 4-byte payload where the policy says u16.
    const req = bytes(
      [0x1c, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
      [0x03, 0x01, 0x00, 0x00],
      [0x08, 0x00, 0x01, 0x00, 0x14, 0x00, 0x00, 0x00],
    );
    const out = handleCtrlRequest(registry, decodeMessages(req)[0]!, PORTID, { capAck: true, extAck: true });
    expect(encodeMessages(out)).toEqual(
      bytes(
        [0x2c, 0x00, 0x00, 0x00], // nlmsg_len 44
        [0x02, 0x00, 0x00, 0x03], // NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS
        [0x03, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00], // seq 3, pid 0x1000
        [0xea, 0xff, 0xff, 0xff], // -EINVAL (-22)
        [...req.subarray(0, 16)], // request header only
        [0x08, 0x00, 0x02, 0x00, 0x14, 0x00, 0x00, 0x00], // NLMSGERR_ATTR_OFFS 20
      ),
    );
  });

  it('dumps every family as NLM_F_MULTI messages ending in NLMSG_DONE', () => {
    const req = decodeMessages(encodeGenl(dumpFamiliesRequest(9)))[0]!;
    expect(req.flags).toBe(0x301);
    const out = handleCtrlRequest(registry, req, PORTID);
    expect(out.map((m) => [m.type, m.flags, m.seq])).toEqual([
      [0x10, 0x02, 9],
      [0x03, 0x02, 9],
    ]);
    expect(parseDone(out[1]!)).toBe(0);
    expect(encodeMessages([out[1]!])).toEqual(
      bytes(
        [0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00],
        [0, 0, 0, 0],
      ),
    );
  });
});
