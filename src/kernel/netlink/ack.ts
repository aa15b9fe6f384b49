/**
 * NLMSG_ERROR acknowledgements and NLMSG_DONE, as net/netlink/af_netlink.c netlink_ack() and
 * netlink_dump_done() build them and include/uapi/linux/netlink.h describes them (issue 6 §3):
 *
 * - payload `struct nlmsgerr { int error; struct nlmsghdr msg; }`: error is 0 (a plain ack) or a
 *   negative errno; msg is the request's header as received.
 * - An error ack also carries the request's payload after the header unless the socket set
 *   NETLINK_CAP_ACK; a success ack never does. Either way without the payload the ack sets NLM_F_CAPPED.
 * - With NETLINK_EXT_ACK set, extended-ack TLVs follow (at NLMSG_ALIGN), flagged by NLM_F_ACK_TLVS:
 *   NLMSGERR_ATTR_MSG (string, also on success as a warning), NLMSGERR_ATTR_OFFS (u32 byte offset of the
 *   offending attribute from the start of the request's nlmsghdr, errors only), NLMSGERR_ATTR_COOKIE.
 * - The ack goes to the requester's port id with the request's sequence number.
 *
 * Left out: NLMSGERR_ATTR_POLICY / MISS_TYPE / MISS_NEST (parsed as opaque when present, never built).
 */
import { badInput, decodeStruct, encodeStruct } from '../../base/index.js';
import { netlink as nl } from '../../spec/index.js';
import {
  concatBytes,
  decodeAttrs,
  encodeAttrs,
  findAttr,
  type NlAttr,
  type NlMessage,
  nla,
  nlmsgAlign,
} from './codec.js';

/** What the handler reported beside the errno (struct netlink_ext_ack's user-visible part). */
export interface ExtAck {
  readonly message?: string;
  /** Byte offset of the offending attribute from the start of the request's nlmsghdr. */
  readonly badAttrOffset?: number;
  readonly cookie?: Uint8Array;
}

/** The requesting socket's options that shape the ack. */
export interface AckSocketOptions {
  /** NETLINK_CAP_ACK: never echo the request payload. */
  readonly capAck: boolean;
  /** NETLINK_EXT_ACK: append extended-ack TLVs. */
  readonly extAck: boolean;
}

/** The request's nlmsghdr as echoed in an ack (its nlmsg_len is the request's, not recomputed). */
export interface NlHeader {
  readonly len: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
}

export interface AckRequest {
  readonly header: NlHeader;
  readonly payload: Uint8Array;
  /** The sender's port id (NETLINK_CB(skb).portid), where the ack is addressed. */
  readonly portid: number;
}

export const DEFAULT_ACK_SOCKET: AckSocketOptions = { capAck: false, extAck: true };

function checkErrno(error: number): void {
  if (!Number.isInteger(error) || error > 0 || error < -4095) {
    throw badInput(`nlmsgerr.error must be 0 or a negative errno, got ${error}`);
  }
}

/** The ack's TLVs in netlink_ack_tlv_fill order: message, offset (errors only), cookie. */
function ackTlvs(error: number, ext: ExtAck): NlAttr[] {
  const out: NlAttr[] = [];
  if (ext.message !== undefined) out.push(nla.string(nl.NLMSGERR_ATTR_MSG, ext.message));
  if (error !== 0 && ext.badAttrOffset !== undefined)
    out.push(nla.u32(nl.NLMSGERR_ATTR_OFFS, ext.badAttrOffset));
  if (ext.cookie !== undefined && ext.cookie.length > 0)
    out.push(nla.binary(nl.NLMSGERR_ATTR_COOKIE, ext.cookie));
  return out;
}

/** Build the NLMSG_ERROR message answering `request` with `error` (0 or -errno). */
export function buildAck(
  request: AckRequest,
  error: number,
  ext: ExtAck = {},
  socket: AckSocketOptions = DEFAULT_ACK_SOCKET,
): NlMessage {
  checkErrno(error);
  const capped = error === 0 || socket.capAck;
  const tlvs = socket.extAck ? ackTlvs(error, ext) : [];
  const flags = (capped ? nl.NLM_F_CAPPED : 0) | (tlvs.length > 0 ? nl.NLM_F_ACK_TLVS : 0);
  const h = request.header;
  const head = encodeStruct(nl.Nlmsgerr, {
    error: error >>> 0,
    msg: { nlmsgLen: h.len, nlmsgType: h.type, nlmsgFlags: h.flags, nlmsgSeq: h.seq, nlmsgPid: h.pid },
  });
  const echoed = new Uint8Array(capped ? 0 : nlmsgAlign(request.payload.length));
  if (!capped) echoed.set(request.payload);
  return {
    type: nl.NLMSG_ERROR,
    flags,
    seq: h.seq,
    pid: request.portid,
    payload: concatBytes([head, echoed, encodeAttrs(tlvs)]),
  };
}

/** Build the ack for a request message as decodeMessages returned it. */
export function ackRequestOf(msg: NlMessage, portid: number): AckRequest {
  return {
    header: {
      len: nl.NLMSG_HDRLEN + msg.payload.length,
      type: msg.type,
      flags: msg.flags,
      seq: msg.seq,
      pid: msg.pid,
    },
    payload: msg.payload,
    portid,
  };
}

export interface ParsedAck {
  /** 0 or a negative errno. */
  readonly error: number;
  readonly request: NlHeader;
  readonly capped: boolean;
  /** The echoed request payload, when not capped. */
  readonly requestPayload: Uint8Array | undefined;
  readonly ext: ExtAck;
}

const ACK_TLV_POLICY = {
  [nl.NLMSGERR_ATTR_MSG]: 'string',
  [nl.NLMSGERR_ATTR_OFFS]: 'u32',
  [nl.NLMSGERR_ATTR_COOKIE]: 'binary',
} as const;

/** Parse an NLMSG_ERROR message; offsets in errors are relative to the ack's nlmsghdr. */
export function parseAck(msg: NlMessage): ParsedAck {
  if (msg.type !== nl.NLMSG_ERROR) throw badInput(`netlink message type ${msg.type} is not NLMSG_ERROR`);
  const p = msg.payload;
  if (p.length < nl.NLMSGERR_SIZE_BYTES) {
    throw badInput(
      `nlmsgerr at offset ${nl.NLMSG_HDRLEN}: truncated (${p.length} of ${nl.NLMSGERR_SIZE_BYTES} bytes)`,
    );
  }
  const e = decodeStruct(nl.Nlmsgerr, p.subarray(0, nl.NLMSGERR_SIZE_BYTES));
  const error = e.error | 0;
  const request: NlHeader = {
    len: e.msg.nlmsgLen,
    type: e.msg.nlmsgType,
    flags: e.msg.nlmsgFlags,
    seq: e.msg.nlmsgSeq,
    pid: e.msg.nlmsgPid,
  };
  const capped = (msg.flags & nl.NLM_F_CAPPED) !== 0;
  let at = nl.NLMSGERR_SIZE_BYTES;
  let requestPayload: Uint8Array | undefined;
  if (!capped) {
    if (request.len < nl.NLMSG_HDRLEN) {
      throw badInput(
        `nlmsgerr.msg at offset ${nl.NLMSG_HDRLEN + 4}: nlmsg_len ${request.len} smaller than nlmsghdr`,
      );
    }
    const echoedLen = request.len - nl.NLMSG_HDRLEN;
    if (at + echoedLen > p.length) {
      throw badInput(
        `nlmsgerr at offset ${nl.NLMSG_HDRLEN + at}: echoed request of ${echoedLen} bytes runs past the ack`,
      );
    }
    requestPayload = p.slice(at, at + echoedLen);
    at = Math.min(at + nlmsgAlign(echoedLen), p.length);
  }
  let ext: ExtAck = {};
  if ((msg.flags & nl.NLM_F_ACK_TLVS) !== 0) {
    const tlvs = decodeAttrs(p.subarray(at), ACK_TLV_POLICY, nl.NLMSG_HDRLEN + at);
    const m = findAttr(tlvs, nl.NLMSGERR_ATTR_MSG);
    const o = findAttr(tlvs, nl.NLMSGERR_ATTR_OFFS);
    const c = findAttr(tlvs, nl.NLMSGERR_ATTR_COOKIE);
    ext = {
      ...(m?.kind === 'string' ? { message: m.value } : {}),
      ...(o?.kind === 'u32' ? { badAttrOffset: o.value } : {}),
      ...(c?.kind === 'binary' ? { cookie: c.value } : {}),
    };
  } else if (at < p.length) {
    throw badInput(
      `nlmsgerr at offset ${nl.NLMSG_HDRLEN + at}: ${p.length - at} trailing bytes without NLM_F_ACK_TLVS`,
    );
  }
  return { error, request, capped, requestPayload, ext };
}

/** NLMSG_DONE ending a dump: payload is the int dump status (0 on success), flag NLM_F_MULTI. */
export function buildDone(seq: number, portid: number, status = 0): NlMessage {
  checkErrno(status);
  const payload = encodeStruct(nl.NlmsgDone, { status: status >>> 0 });
  return { type: nl.NLMSG_DONE, flags: nl.NLM_F_MULTI, seq, pid: portid, payload };
}

/** The status of an NLMSG_DONE message (0 or -errno). */
export function parseDone(msg: NlMessage): number {
  if (msg.type !== nl.NLMSG_DONE) throw badInput(`netlink message type ${msg.type} is not NLMSG_DONE`);
  if (msg.payload.length < 4) throw badInput(`NLMSG_DONE at offset ${nl.NLMSG_HDRLEN}: truncated status`);
  return decodeStruct(nl.NlmsgDone, msg.payload.subarray(0, 4)).status | 0;
}
