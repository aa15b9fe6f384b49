/**
 * The attribute and message codec: hand-built vectors for every attribute kind and flag bit, the
 * extended-ack layout, and hostile input (each malformation rejected as LabError('bad-input') naming
 * its offset). Expected bytes are literal arrays, independent of spec/netlink.ts.
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../src/base/index.js';
import {
  ackRequestOf,
  buildAck,
  decodeAttrs,
  decodeMessage,
  decodeMessages,
  encodeAttrs,
  encodeMessage,
  NlDecodeError,
  nla,
  parseAck,
} from '../../src/kernel/netlink/index.js';

function bytes(...chunks: number[][]): Uint8Array {
  return Uint8Array.from(chunks.flat());
}
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

function rejectsAt(fn: () => unknown, offset: number, text: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NlDecodeError);
    expect((e as LabError).code).toBe('bad-input');
    expect((e as NlDecodeError).offset).toBe(offset);
    expect((e as Error).message).toMatch(text);
    return;
  }
  throw new Error('expected a bad-input error');
}

describe('attribute kinds', () => {
  const attrs = [
    nla.u8(1, 0xab),
    nla.u16(2, 0x1234),
    nla.u32(3, 0xdeadbeef),
    nla.u64(4, 0x0102030405060708n),
    nla.be16(5, 0x1234),
    nla.string(6, 'eth0'),
    nla.binary(7, Uint8Array.of(0, 0, 0, 0, 0x88, 0x88)),
    nla.flag(8),
    nla.nest(9, [nla.u8(1, 1)]),
    nla.nestNoflag(10, []),
  ];
  const wire = bytes(
    [0x05, 0x00, 0x01, 0x00, 0xab, 0, 0, 0], // u8 + 3 pad
    [0x06, 0x00, 0x02, 0x00, 0x34, 0x12, 0, 0], // u16 LE + 2 pad
    [0x08, 0x00, 0x03, 0x00, 0xef, 0xbe, 0xad, 0xde], // u32 LE
    [0x0c, 0x00, 0x04, 0x00, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01], // u64 LE
    [0x06, 0x00, 0x05, 0x40, 0x12, 0x34, 0, 0], // NLA_F_NET_BYTEORDER u16 big-endian
    [0x09, 0x00, 0x06, 0x00, ...ascii('eth0'), 0, 0, 0, 0], // "eth0\0" + 3 pad
    [0x0a, 0x00, 0x07, 0x00, 0, 0, 0, 0, 0x88, 0x88, 0, 0], // 6 bytes + 2 pad
    [0x04, 0x00, 0x08, 0x00], // flag: header only
    [0x0c, 0x00, 0x09, 0x80, 0x05, 0x00, 0x01, 0x00, 0x01, 0, 0, 0], // NLA_F_NESTED, inner u8 padded
    [0x04, 0x00, 0x0a, 0x00], // empty nest without the flag
  );
  const policy = {
    1: 'u8',
    2: 'u16',
    3: 'u32',
    4: 'u64',
    5: 'u16',
    6: 'string',
    7: 'binary',
    8: 'flag',
    9: { kind: 'nested', policy: { 1: 'u8' } },
    10: { kind: 'nested', policy: {} },
  } as const;

  it('encodes each kind with its width and padding', () => {
    expect(encodeAttrs(attrs)).toEqual(wire);
  });
  it('decodes them back through a policy', () => {
    expect(decodeAttrs(wire, policy)).toEqual(attrs);
  });
  it('decodes unknown types as binary, and NLA_F_NESTED ones as nests', () => {
    const out = decodeAttrs(wire.subarray(0, 8 + 8));
    expect(out).toEqual([nla.binary(1, Uint8Array.of(0xab)), nla.binary(2, Uint8Array.of(0x34, 0x12))]);
    expect(decodeAttrs(wire.subarray(wire.length - 16, wire.length - 4))).toEqual([
      { type: 9, kind: 'nested', nestedFlag: true, attrs: [nla.binary(1, Uint8Array.of(1))] },
    ]);
  });
  it('accepts a last attribute whose padding the container omits', () => {
    expect(decodeAttrs(bytes([0x05, 0x00, 0x01, 0x00, 0x07]), { 1: 'u8' })).toEqual([nla.u8(1, 7)]);
  });
});

describe('malformed input', () => {
  it('truncated nlmsghdr', () => {
    rejectsAt(() => decodeMessages(new Uint8Array(15)), 0, /truncated nlmsghdr/);
  });
  it('nlmsg_len smaller than the header', () => {
    rejectsAt(
      () => decodeMessages(bytes([0x0f, 0, 0, 0], new Array(12).fill(0))),
      0,
      /smaller than nlmsghdr/,
    );
  });
  it('nlmsg_len past the end, in the second message', () => {
    const first = encodeMessage({ type: 0x10, flags: 1, seq: 1, pid: 0, payload: new Uint8Array(4) });
    const second = bytes([0x40, 0, 0, 0], new Array(12).fill(0));
    rejectsAt(() => decodeMessages(bytes([...first], [...second])), 20, /runs past the buffer end/);
  });
  it('exactly one message where one is expected', () => {
    const m = encodeMessage({ type: 3, flags: 2, seq: 0, pid: 0, payload: new Uint8Array(4) });
    expect(() => decodeMessage(bytes([...m], [...m]))).toThrow(LabError);
  });
  it('attribute header cut short', () => {
    rejectsAt(
      () => decodeAttrs(bytes([0x05, 0x00, 0x01, 0x00, 0x07, 0, 0, 0, 0x04, 0x00])),
      8,
      /shorter than nlattr header/,
    );
  });
  it('nla_len smaller than its header', () => {
    rejectsAt(() => decodeAttrs(bytes([0x03, 0x00, 0x01, 0x00])), 0, /smaller than header/);
  });
  it('nla_len past the end of its nest, offset absolute', () => {
    // outer nest len 12 holds an inner attribute claiming 16 bytes
    const wire = bytes([0x0c, 0x00, 0x01, 0x80], [0x10, 0x00, 0x01, 0x00, 0, 0, 0, 0]);
    rejectsAt(() => decodeAttrs(wire, {}, 20), 24, /runs past its container end at 32/);
  });
  it('NLA_F_NESTED on a scalar, wrong widths, missing NUL, payload on a flag', () => {
    rejectsAt(
      () => decodeAttrs(bytes([0x05, 0x00, 0x01, 0x80, 1, 0, 0, 0]), { 1: 'u8' }),
      0,
      /NLA_F_NESTED on a u8/,
    );
    rejectsAt(
      () => decodeAttrs(bytes([0x06, 0x00, 0x01, 0x00, 1, 0, 0, 0]), { 1: 'u32' }),
      0,
      /u32 with 2-byte/,
    );
    rejectsAt(
      () => decodeAttrs(bytes([0x06, 0x00, 0x01, 0x00, 0x41, 0x42, 0, 0]), { 1: 'string' }),
      0,
      /without NUL/,
    );
    rejectsAt(
      () => decodeAttrs(bytes([0x05, 0x00, 0x01, 0x00, 0, 0, 0, 0]), { 1: 'flag' }),
      0,
      /flag with 1-byte/,
    );
  });
  it('refuses to encode what the wire cannot carry', () => {
    expect(() => encodeAttrs([nla.string(1, 'a\0b')])).toThrow(LabError);
    expect(() => encodeAttrs([nla.u8(1, 256)])).toThrow(LabError);
    expect(() => encodeAttrs([nla.u8(0x4000, 1)])).toThrow(LabError);
  });
});

describe('extended acks', () => {
  const request = { type: 0x14, flags: 0x05, seq: 0x11, pid: 0, payload: bytes([0x07, 0x01, 0x00, 0x00]) };

  it('builds an uncapped error ack with message and offset TLVs', () => {
    const ack = buildAck(ackRequestOf(request, 0x1000), -95, { message: 'bad', badAttrOffset: 20 });
    expect(encodeMessage(ack)).toEqual(
      bytes(
        [0x38, 0, 0, 0, 0x02, 0x00, 0x00, 0x02], // len 56 = 16 + 20 + 4 + 8 + 8, NLMSG_ERROR, NLM_F_ACK_TLVS
        [0x11, 0, 0, 0, 0x00, 0x10, 0, 0], // seq, pid
        [0xa1, 0xff, 0xff, 0xff], // -EOPNOTSUPP (-95)
        [0x14, 0, 0, 0, 0x14, 0x00, 0x05, 0x00, 0x11, 0, 0, 0, 0, 0, 0, 0], // request header
        [0x07, 0x01, 0x00, 0x00], // request payload echoed
        [0x08, 0x00, 0x01, 0x00, ...ascii('bad'), 0x00], // NLMSGERR_ATTR_MSG
        [0x08, 0x00, 0x02, 0x00, 0x14, 0, 0, 0], // NLMSGERR_ATTR_OFFS 20
      ),
    );
    expect(parseAck(ack)).toEqual({
      error: -95,
      request: { len: 20, type: 0x14, flags: 5, seq: 0x11, pid: 0 },
      capped: false,
      requestPayload: request.payload,
      ext: { message: 'bad', badAttrOffset: 20 },
    });
  });

  it('caps on success and sends a warning message but no offset', () => {
    const ack = buildAck(ackRequestOf(request, 7), 0, { message: 'warn', badAttrOffset: 20 });
    expect(ack.flags).toBe(0x300);
    expect(parseAck(ack)).toMatchObject({ error: 0, capped: true, ext: { message: 'warn' } });
    expect(parseAck(ack).ext.badAttrOffset).toBeUndefined();
  });

  it('sends no TLVs without NETLINK_EXT_ACK, and no payload with NETLINK_CAP_ACK', () => {
    const ack = buildAck(ackRequestOf(request, 7), -22, { message: 'x' }, { capAck: true, extAck: false });
    expect(ack.flags).toBe(0x100);
    expect(ack.payload.length).toBe(20);
  });

  it('rejects an ack whose echoed request runs past its end', () => {
    const ack = buildAck(ackRequestOf(request, 7), -22, {}, { capAck: true, extAck: false });
    expect(() => parseAck({ ...ack, flags: 0 })).toThrow(LabError);
  });
});
