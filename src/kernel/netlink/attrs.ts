/**
 * Netlink attributes (include/uapi/linux/netlink.h struct nlattr): constructors, the stream encoder,
 * and the policy-driven decoder with nesting, as the kernel's nla_put_* helpers and strict validation
 * shape them. Every malformation throws NlDecodeError naming the absolute byte offset. The message
 * layer (nlmsghdr, genlmsghdr) is codec.ts.
 */
import { badInput, LabError } from '../../base/index.js';
import { netlink as nl } from '../../spec/index.js';

export type NlAttrKind = 'u8' | 'u16' | 'u32' | 'u64' | 'string' | 'binary' | 'flag' | 'nested';

/** One attribute. `type` excludes the NLA_F_* bits; those are the `nestedFlag` / `netByteorder` fields. */
export type NlAttr =
  | {
      readonly type: number;
      readonly kind: 'u8' | 'u16' | 'u32';
      readonly value: number;
      readonly netByteorder: boolean;
    }
  | { readonly type: number; readonly kind: 'u64'; readonly value: bigint; readonly netByteorder: boolean }
  | { readonly type: number; readonly kind: 'string'; readonly value: string }
  | { readonly type: number; readonly kind: 'binary'; readonly value: Uint8Array }
  | { readonly type: number; readonly kind: 'flag' }
  | {
      readonly type: number;
      readonly kind: 'nested';
      readonly attrs: readonly NlAttr[];
      /** NLA_F_NESTED on the wire: nla_nest_start (and libmnl's mnl_attr_nest_start) set it; nla_nest_start_noflag does not. */
      readonly nestedFlag: boolean;
    };

/** How to decode each attribute type of one attribute space. */
export interface NlPolicy {
  readonly [type: number]: NlPolicyEntry | undefined;
}
export type NlPolicyEntry =
  | Exclude<NlAttrKind, 'nested'>
  | { readonly kind: 'nested'; readonly policy: NlPolicy }
  /** A nest of entries whose types are indexes (1, 2, ...), each a nest in `policy`: CTRL_ATTR_OPS style. */
  | { readonly kind: 'nested-array'; readonly policy: NlPolicy };

/** Attribute constructors, so call sites read like nla_put_*. */
export const nla = {
  u8: (type: number, value: number): NlAttr => ({ type, kind: 'u8', value, netByteorder: false }),
  u16: (type: number, value: number): NlAttr => ({ type, kind: 'u16', value, netByteorder: false }),
  u32: (type: number, value: number): NlAttr => ({ type, kind: 'u32', value, netByteorder: false }),
  u64: (type: number, value: bigint): NlAttr => ({ type, kind: 'u64', value, netByteorder: false }),
  /** NLA_F_NET_BYTEORDER integers (nla_put_be16 / be32 / be64). */
  be16: (type: number, value: number): NlAttr => ({ type, kind: 'u16', value, netByteorder: true }),
  be32: (type: number, value: number): NlAttr => ({ type, kind: 'u32', value, netByteorder: true }),
  be64: (type: number, value: bigint): NlAttr => ({ type, kind: 'u64', value, netByteorder: true }),
  string: (type: number, value: string): NlAttr => ({ type, kind: 'string', value }),
  binary: (type: number, value: Uint8Array): NlAttr => ({ type, kind: 'binary', value }),
  flag: (type: number): NlAttr => ({ type, kind: 'flag' }),
  /** nla_nest_start: sets NLA_F_NESTED. */
  nest: (type: number, attrs: readonly NlAttr[]): NlAttr => ({
    type,
    kind: 'nested',
    attrs,
    nestedFlag: true,
  }),
  /** nla_nest_start_noflag: no NLA_F_NESTED, as the controller family emits its OPS and MCAST_GROUPS. */
  nestNoflag: (type: number, attrs: readonly NlAttr[]): NlAttr => ({
    type,
    kind: 'nested',
    attrs,
    nestedFlag: false,
  }),
} as const;

/**
 * Malformed netlink input: LabError('bad-input') plus the byte offset of the offending header or
 * attribute, which the kernel would report as NLMSGERR_ATTR_OFFS.
 */
export class NlDecodeError extends LabError {
  readonly offset: number;
  constructor(offset: number, message: string, cause?: unknown) {
    super('bad-input', message, { cause });
    this.offset = offset;
  }
}

/** @internal */
export function malformed(offset: number, message: string, cause?: unknown): NlDecodeError {
  return new NlDecodeError(offset, message, cause);
}

const INT_WIDTH = { u8: 1, u16: 2, u32: 4, u64: 8 } as const;

export function nlaAlign(lengthBytes: number): number {
  return (lengthBytes + nl.NLA_ALIGNTO - 1) & ~(nl.NLA_ALIGNTO - 1);
}
export function nlmsgAlign(lengthBytes: number): number {
  return (lengthBytes + nl.NLMSG_ALIGNTO - 1) & ~(nl.NLMSG_ALIGNTO - 1);
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** @internal */
export function checkUint(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw badInput(`${what}: ${value} out of range 0..${max}`);
}

/** UTF-8 length of a string without encoding it (lone surrogates count 3, as TextEncoder writes U+FFFD). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Payload length of one attribute, validating its value as nla_put_* would refuse it. */
function payloadLength(attr: NlAttr): number {
  switch (attr.kind) {
    case 'u8':
    case 'u16':
    case 'u32': {
      const width = INT_WIDTH[attr.kind];
      checkUint(`attribute ${attr.type} (${attr.kind})`, attr.value, 2 ** (8 * width) - 1);
      return width;
    }
    case 'u64':
      if (attr.value < 0n || attr.value > 0xffff_ffff_ffff_ffffn) {
        throw badInput(`attribute ${attr.type} (u64): ${attr.value} out of range`);
      }
      return 8;
    case 'string':
      if (attr.value.includes('\0')) throw badInput(`attribute ${attr.type} (string): embedded NUL`);
      return utf8Length(attr.value) + 1;
    case 'binary':
      return attr.value.length;
    case 'flag':
      return 0;
    case 'nested':
      return attrsLength(attr.attrs);
  }
}

/** Bytes an attribute stream takes, padding included. */
function attrsLength(attrs: readonly NlAttr[]): number {
  let n = 0;
  for (const a of attrs) {
    const nlaLen = nl.NLA_HDRLEN + payloadLength(a);
    if (nlaLen > 0xffff) throw badInput(`attribute ${a.type}: nla_len ${nlaLen} exceeds 65535`);
    n += nlaAlign(nlaLen);
  }
  return n;
}

/** Write `attrs` at `at` (the buffer is zeroed, so padding needs no writes); returns the end offset. */
function writeAttrs(out: Uint8Array, view: DataView, at: number, attrs: readonly NlAttr[]): number {
  for (const a of attrs) {
    const start = at;
    at += nl.NLA_HDRLEN;
    switch (a.kind) {
      case 'u8':
        out[at] = a.value;
        at += 1;
        break;
      case 'u16':
        view.setUint16(at, a.value, !a.netByteorder);
        at += 2;
        break;
      case 'u32':
        view.setUint32(at, a.value, !a.netByteorder);
        at += 4;
        break;
      case 'u64':
        view.setBigUint64(at, a.value, !a.netByteorder);
        at += 8;
        break;
      case 'string':
        at += utf8.encodeInto(a.value, out.subarray(at)).written + 1;
        break;
      case 'binary':
        out.set(a.value, at);
        at += a.value.length;
        break;
      case 'flag':
        break;
      case 'nested':
        at = writeAttrs(out, view, at, a.attrs);
        break;
    }
    view.setUint16(start, at - start, true);
    view.setUint16(start + 2, wireType(a), true);
    at = nlaAlign(at);
  }
  return at;
}

function wireType(attr: NlAttr): number {
  checkUint('nla_type', attr.type, nl.NLA_TYPE_MASK);
  switch (attr.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64':
      return attr.type | (attr.netByteorder ? nl.NLA_F_NET_BYTEORDER : 0);
    case 'nested':
      return attr.type | (attr.nestedFlag ? nl.NLA_F_NESTED : 0);
    case 'string':
    case 'binary':
    case 'flag':
      return attr.type;
  }
}

/** An attribute stream: each attribute's header, payload, and zero padding to NLA_ALIGN. */
export function encodeAttrs(attrs: readonly NlAttr[]): Uint8Array {
  const out = new Uint8Array(attrsLength(attrs));
  writeAttrs(out, new DataView(out.buffer), 0, attrs);
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One attribute as framed, before its payload is interpreted. `offset` is absolute in the buffer. */
export interface NlRawAttr {
  readonly offset: number;
  readonly wireType: number;
  readonly payload: Uint8Array;
}

/**
 * Split `bytes[start, end)` into attributes. `end` is the container's end; the last attribute may omit
 * its trailing padding when the container ends first (the kernel's nla_for_each_attr does the same).
 */
export function splitAttrs(bytes: Uint8Array, start: number, end: number): NlRawAttr[] {
  const out: NlRawAttr[] = [];
  let at = start;
  while (at < end) {
    if (end - at < nl.NLA_HDRLEN) {
      throw malformed(
        at,
        `netlink attribute at offset ${at}: ${end - at} trailing bytes, shorter than nlattr header`,
      );
    }
    const nlaLen = bytes[at]! | (bytes[at + 1]! << 8);
    const nlaType = bytes[at + 2]! | (bytes[at + 3]! << 8);
    if (nlaLen < nl.NLA_HDRLEN) {
      throw malformed(
        at,
        `netlink attribute at offset ${at}: nla_len ${nlaLen} smaller than header (${nl.NLA_HDRLEN})`,
      );
    }
    if (nlaLen > end - at) {
      throw malformed(
        at,
        `netlink attribute at offset ${at}: nla_len ${nlaLen} runs past its container end at ${end}`,
      );
    }
    out.push({ offset: at, wireType: nlaType, payload: bytes.subarray(at + nl.NLA_HDRLEN, at + nlaLen) });
    at = Math.min(at + nlaAlign(nlaLen), end);
  }
  return out;
}

/** The first `length` bytes as text when they are all ASCII (the common case, without a decoder call). */
function asciiText(bytes: Uint8Array, length: number): string | undefined {
  let text = '';
  for (let i = 0; i < length; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return undefined;
    text += String.fromCharCode(c);
  }
  return text;
}

function decodeOne(bytes: Uint8Array, raw: NlRawAttr, policy: NlPolicy): NlAttr {
  const type = raw.wireType & nl.NLA_TYPE_MASK;
  const nestedFlag = (raw.wireType & nl.NLA_F_NESTED) !== 0;
  const netByteorder = (raw.wireType & nl.NLA_F_NET_BYTEORDER) !== 0;
  const entry = policy[type];
  const where = (): string => `netlink attribute ${type} at offset ${raw.offset}`;
  const payloadStart = raw.offset + nl.NLA_HDRLEN;
  const kind: NlAttrKind | 'nested-array' =
    entry === undefined ? (nestedFlag ? 'nested' : 'binary') : typeof entry === 'string' ? entry : entry.kind;
  const subPolicy: NlPolicy = entry !== undefined && typeof entry !== 'string' ? entry.policy : {};
  if (nestedFlag && kind !== 'nested' && kind !== 'nested-array')
    throw malformed(raw.offset, `${where()}: NLA_F_NESTED on a ${kind} attribute`);
  if (netByteorder && !(kind in INT_WIDTH))
    throw malformed(raw.offset, `${where()}: NLA_F_NET_BYTEORDER on a ${kind} attribute`);
  switch (kind) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64': {
      const width = INT_WIDTH[kind];
      if (raw.payload.length !== width)
        throw malformed(raw.offset, `${where()}: ${kind} with ${raw.payload.length}-byte payload`);
      const p = raw.payload;
      const view = new DataView(p.buffer, p.byteOffset, width);
      const le = !netByteorder;
      if (kind === 'u64') return { type, kind, value: view.getBigUint64(0, le), netByteorder };
      const value = kind === 'u8' ? p[0]! : kind === 'u16' ? view.getUint16(0, le) : view.getUint32(0, le);
      return { type, kind, value, netByteorder };
    }
    case 'string': {
      const nul = raw.payload.indexOf(0);
      if (nul !== raw.payload.length - 1) {
        throw malformed(
          raw.offset,
          `${where()}: string ${nul < 0 ? 'without NUL terminator' : 'with embedded NUL'}`,
        );
      }
      const ascii = asciiText(raw.payload, nul);
      if (ascii !== undefined) return { type, kind, value: ascii };
      try {
        return { type, kind, value: utf8Strict.decode(raw.payload.subarray(0, nul)) };
      } catch (cause) {
        throw malformed(raw.offset, `${where()}: string is not valid UTF-8`, cause);
      }
    }
    case 'binary':
      return { type, kind, value: raw.payload.slice() };
    case 'flag':
      if (raw.payload.length !== 0)
        throw malformed(raw.offset, `${where()}: flag with ${raw.payload.length}-byte payload`);
      return { type, kind };
    case 'nested':
      return {
        type,
        kind: 'nested',
        attrs: decodeAttrsIn(bytes, payloadStart, payloadStart + raw.payload.length, subPolicy),
        nestedFlag,
      };
    case 'nested-array': {
      // Each entry's type is its index; every entry is a nest in the sub-policy.
      const items = splitAttrs(bytes, payloadStart, payloadStart + raw.payload.length).map((item) =>
        decodeOne(bytes, item, { [item.wireType & nl.NLA_TYPE_MASK]: { kind: 'nested', policy: subPolicy } }),
      );
      return { type, kind: 'nested', attrs: items, nestedFlag };
    }
  }
}

function decodeAttrsIn(bytes: Uint8Array, start: number, end: number, policy: NlPolicy): NlAttr[] {
  return splitAttrs(bytes, start, end).map((raw) => decodeOne(bytes, raw, policy));
}

/**
 * Decode an attribute stream. `baseOffset` is where `bytes` sits in the enclosing message, so error
 * offsets (and NLMSGERR_ATTR_OFFS computed from them) are message-relative.
 */
export function decodeAttrs(bytes: Uint8Array, policy: NlPolicy = {}, baseOffset = 0): NlAttr[] {
  if (baseOffset === 0) return decodeAttrsIn(bytes, 0, bytes.length, policy);
  const framed = new Uint8Array(baseOffset + bytes.length);
  framed.set(bytes, baseOffset);
  return decodeAttrsIn(framed, baseOffset, framed.length, policy);
}

/** First attribute of `type` in a decoded list, or undefined. */
export function findAttr(attrs: readonly NlAttr[], type: number): NlAttr | undefined {
  return attrs.find((a) => a.type === type);
}
