/**
 * The generic netlink codec: nlmsghdr framing, genlmsghdr, and attribute streams with nesting, as
 * include/uapi/linux/netlink.h and genetlink.h lay them out (issue 6 §3). Encode and decode share the
 * struct descriptors of spec/netlink.ts; attribute payload widths and padding follow NLA_ALIGN and the
 * kernel's nla_put_* helpers (strings NUL-terminated like nla_put_string, flags zero-length).
 *
 * Attributes carry no type on the wire, so decoding takes a policy: the kind per attribute type, with a
 * sub-policy for nested ones. Types the policy does not name decode as `binary`, unless NLA_F_NESTED is
 * set, in which case they must parse as a nested stream. Every malformation (truncated header, a length
 * smaller than its header or past the end of its container, trailing bytes that are not an attribute,
 * a payload of the wrong width for its policy kind) throws LabError('bad-input') naming the absolute
 * byte offset in the decoded buffer.
 *
 * SPEC-DEVIATION: the kernel's non-strict validation accepts integers longer than their type and
 * strings without a NUL (NLA_STRING); this codec is strict everywhere (widths exact, NUL required),
 * which is what NLA_NUL_STRING and strict validation (GENL_DONT_VALIDATE_STRICT unset) enforce.
 *
 * Left out: family-specific user headers after genlmsghdr (hdrsize > 0), NLA_BITFIELD32 and s8-s64
 * kinds (callers use binary / u32 and convert), and padding-content checks (padding is ignored on
 * decode and written as zero).
 */
import { badInput, decodeStruct, encodeStruct } from '../../base/index.js';
import { netlink as nl } from '../../spec/index.js';
import {
  checkUint,
  concatBytes,
  decodeAttrs,
  encodeAttrs,
  malformed,
  type NlAttr,
  type NlPolicy,
  nlmsgAlign,
} from './attrs.js';

export * from './attrs.js';

// --- Messages ---

/** One netlink message: the nlmsghdr fields and its payload (nlmsg_len is derived on encode). */
export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Uint8Array;
}

/** A message with its absolute offset and declared length, as decodeMessages found it. */
export interface NlFramedMessage extends NlMessage {
  readonly offset: number;
  readonly lenBytes: number;
}

/** nlmsghdr + payload, padded to NLMSG_ALIGN; nlmsg_len counts header and payload, not the padding. */
export function encodeMessage(msg: NlMessage): Uint8Array {
  checkUint('nlmsg_type', msg.type, 0xffff);
  checkUint('nlmsg_flags', msg.flags, 0xffff);
  checkUint('nlmsg_seq', msg.seq, 0xffffffff);
  checkUint('nlmsg_pid', msg.pid, 0xffffffff);
  const nlmsgLen = nl.NLMSG_HDRLEN + msg.payload.length;
  const out = new Uint8Array(nlmsgAlign(nlmsgLen));
  out.set(
    encodeStruct(nl.Nlmsghdr, {
      nlmsgLen,
      nlmsgType: msg.type,
      nlmsgFlags: msg.flags,
      nlmsgSeq: msg.seq,
      nlmsgPid: msg.pid,
    }),
  );
  out.set(msg.payload, nl.NLMSG_HDRLEN);
  return out;
}

/** A buffer of messages back to back, as one recvmsg returns them (a dump, a reply and its ack). */
export function encodeMessages(msgs: readonly NlMessage[]): Uint8Array {
  return concatBytes(msgs.map(encodeMessage));
}

/** Split a buffer into messages (NLMSG_OK / NLMSG_NEXT), strictly: no trailing partial header. */
export function decodeMessages(bytes: Uint8Array): NlFramedMessage[] {
  const out: NlFramedMessage[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < nl.NLMSG_HDRLEN) {
      throw malformed(
        at,
        `netlink message at offset ${at}: truncated nlmsghdr (${bytes.length - at} of ${nl.NLMSG_HDRLEN} bytes)`,
      );
    }
    const h = decodeStruct(nl.Nlmsghdr, bytes.subarray(at, at + nl.NLMSG_HDRLEN));
    if (h.nlmsgLen < nl.NLMSG_HDRLEN) {
      throw malformed(
        at,
        `netlink message at offset ${at}: nlmsg_len ${h.nlmsgLen} smaller than nlmsghdr (${nl.NLMSG_HDRLEN})`,
      );
    }
    if (h.nlmsgLen > bytes.length - at) {
      throw malformed(
        at,
        `netlink message at offset ${at}: nlmsg_len ${h.nlmsgLen} runs past the buffer end at ${bytes.length}`,
      );
    }
    out.push({
      offset: at,
      lenBytes: h.nlmsgLen,
      type: h.nlmsgType,
      flags: h.nlmsgFlags,
      seq: h.nlmsgSeq,
      pid: h.nlmsgPid,
      payload: bytes.slice(at + nl.NLMSG_HDRLEN, at + h.nlmsgLen),
    });
    at = Math.min(at + nlmsgAlign(h.nlmsgLen), bytes.length);
  }
  return out;
}

/** Exactly one message; anything else in the buffer is bad input. */
export function decodeMessage(bytes: Uint8Array): NlFramedMessage {
  const msgs = decodeMessages(bytes);
  if (msgs.length !== 1) throw badInput(`expected one netlink message, found ${msgs.length}`);
  return msgs[0]!;
}

// --- Generic netlink ---

/** A generic netlink message: nlmsghdr (type = family id) + genlmsghdr + attributes. */
export interface GenlMessage {
  readonly familyId: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly cmd: number;
  readonly version: number;
  readonly attrs: readonly NlAttr[];
}

export function encodeGenl(msg: GenlMessage): Uint8Array {
  return encodeMessage(toNlMessage(msg));
}

export function toNlMessage(msg: GenlMessage): NlMessage {
  checkUint('genlmsghdr.cmd', msg.cmd, 0xff);
  checkUint('genlmsghdr.version', msg.version, 0xff);
  const genl = encodeStruct(nl.Genlmsghdr, { cmd: msg.cmd, version: msg.version, reserved: 0 });
  return {
    type: msg.familyId,
    flags: msg.flags,
    seq: msg.seq,
    pid: msg.pid,
    payload: concatBytes([genl, encodeAttrs(msg.attrs)]),
  };
}

/**
 * Interpret a decoded message as generic netlink. Attribute error offsets are relative to the start of
 * the message (nlmsghdr), which is what NLMSGERR_ATTR_OFFS reports.
 */
export function fromNlMessage(msg: NlMessage, policy: NlPolicy = {}): GenlMessage {
  if (msg.type < nl.NLMSG_MIN_TYPE) {
    throw badInput(`netlink message type ${msg.type} is a control message, not generic netlink`);
  }
  if (msg.payload.length < nl.GENL_HDRLEN) {
    throw malformed(
      nl.NLMSG_HDRLEN,
      `genlmsghdr at offset ${nl.NLMSG_HDRLEN}: truncated (${msg.payload.length} of ${nl.GENL_HDRLEN} bytes)`,
    );
  }
  const g = decodeStruct(nl.Genlmsghdr, msg.payload.subarray(0, nl.GENL_HDRLEN));
  const attrs = decodeAttrs(msg.payload.subarray(nl.GENL_HDRLEN), policy, nl.NLMSG_HDRLEN + nl.GENL_HDRLEN);
  return {
    familyId: msg.type,
    flags: msg.flags,
    seq: msg.seq,
    pid: msg.pid,
    cmd: g.cmd,
    version: g.version,
    attrs,
  };
}

/** Decode a buffer holding exactly one generic netlink message. */
export function decodeGenl(bytes: Uint8Array, policy: NlPolicy = {}): GenlMessage {
  return fromNlMessage(decodeMessage(bytes), policy);
}
