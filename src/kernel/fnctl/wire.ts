/**
 * The fnctl family's wire side (spec/fnctl.ts): the decoding policy, the kind and driver enums in both
 * directions, one function as its FNCTL_ATTR_FUNCTION nest, and the packing of many nests into parts
 * no larger than FNCTL_PART_MAX_BYTES.
 *
 * Linear by construction: each function's nest is built once, its encoded size is computed from the
 * attribute tree without encoding it, and parts are cut in one pass. The bus encodes each part once.
 */
import { fnctl as F, netlink as nl } from '../../spec/index.js';
import type { NlAttr, NlPolicy } from '../netlink/index.js';
import { nla } from '../netlink/index.js';
import type { CreatedFunction, FnDriver, FnKind } from './provider.js';

export const FNCTL_FN_POLICY: NlPolicy = {
  [F.FNCTL_FN_ATTR_ID]: 'u32',
  [F.FNCTL_FN_ATTR_KIND]: 'u8',
  [F.FNCTL_FN_ATTR_DEV_NAME]: 'string',
  [F.FNCTL_FN_ATTR_RID]: 'u16',
  [F.FNCTL_FN_ATTR_HV_RID]: 'u16',
  [F.FNCTL_FN_ATTR_MAC]: 'binary',
  [F.FNCTL_FN_ATTR_MIGRATABLE]: 'u8',
  [F.FNCTL_FN_ATTR_DRIVER]: 'u8',
  [F.FNCTL_FN_ATTR_BOUND_AS]: 'string',
};

export const FNCTL_CAPS_POLICY: NlPolicy = {
  [F.FNCTL_CAPS_ATTR_KIND]: 'u8',
  [F.FNCTL_CAPS_ATTR_DRIVERS]: 'u32',
  [F.FNCTL_CAPS_ATTR_CAPACITY]: 'u32',
  [F.FNCTL_CAPS_ATTR_MAC]: 'u8',
  [F.FNCTL_CAPS_ATTR_MIGRATABLE]: 'u8',
};

/** The policy of the whole family (requests, replies and notifications share one attribute space). */
export const FNCTL_POLICY: NlPolicy = {
  [F.FNCTL_ATTR_BUS_NAME]: 'string',
  [F.FNCTL_ATTR_DEV_NAME]: 'string',
  [F.FNCTL_ATTR_KIND]: 'u8',
  [F.FNCTL_ATTR_COUNT]: 'u32',
  [F.FNCTL_ATTR_DRIVER]: 'u8',
  [F.FNCTL_ATTR_MAC]: 'binary',
  [F.FNCTL_ATTR_MIGRATABLE]: 'u8',
  [F.FNCTL_ATTR_FUNCTION]: { kind: 'nested', policy: FNCTL_FN_POLICY },
  [F.FNCTL_ATTR_ID]: 'u32',
  [F.FNCTL_ATTR_ALL]: 'flag',
  [F.FNCTL_ATTR_KIND_CAPS]: { kind: 'nested', policy: FNCTL_CAPS_POLICY },
};

const KIND_VALUES: Readonly<Record<FnKind, number>> = {
  vf: F.FNCTL_KIND_VF,
  sf: F.FNCTL_KIND_SF,
  siov: F.FNCTL_KIND_SIOV,
};
const DRIVER_VALUES: Readonly<Record<FnDriver, number>> = {
  none: F.FNCTL_DRIVER_NONE,
  vfio: F.FNCTL_DRIVER_VFIO,
  net: F.FNCTL_DRIVER_NET,
  vdpa: F.FNCTL_DRIVER_VDPA,
};

export const fnKindValue = (k: FnKind): number => KIND_VALUES[k];
export const fnDriverValue = (d: FnDriver): number => DRIVER_VALUES[d];

export function fnKindOf(value: number): FnKind | undefined {
  return (Object.keys(KIND_VALUES) as FnKind[]).find((k) => KIND_VALUES[k] === value);
}
export function fnDriverOf(value: number): FnDriver | undefined {
  return (Object.keys(DRIVER_VALUES) as FnDriver[]).find((d) => DRIVER_VALUES[d] === value);
}

/** FNCTL_CAPS_ATTR_DRIVERS: bit n set for driver value n. */
export function fnDriverBitmap(drivers: readonly FnDriver[]): number {
  let bits = 0;
  for (const d of drivers) bits |= 1 << DRIVER_VALUES[d];
  return bits >>> 0;
}

/** "bb:dd.f" or "dddd:bb:dd.f" → bus << 8 | dev << 3 | fn; undefined when it is not a PCI address. */
export function ridFromText(text: string): number | undefined {
  const m = /^(?:[0-9a-f]{4}:)?([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/i.exec(text);
  if (m === null) return undefined;
  return (Number.parseInt(m[1]!, 16) << 8) | (Number.parseInt(m[2]!, 16) << 3) | Number.parseInt(m[3]!, 10);
}

/** One function as its FNCTL_ATTR_FUNCTION nest, in enum order. */
export function fnctlFunctionNest(f: CreatedFunction): NlAttr {
  const attrs: NlAttr[] = [
    nla.u32(F.FNCTL_FN_ATTR_ID, f.id),
    nla.u8(F.FNCTL_FN_ATTR_KIND, KIND_VALUES[f.kind]),
    nla.string(F.FNCTL_FN_ATTR_DEV_NAME, f.devName),
  ];
  const rid = ridFromText(f.rid);
  if (rid !== undefined) attrs.push(nla.u16(F.FNCTL_FN_ATTR_RID, rid));
  const hvRid = f.hypervisorRid === undefined ? undefined : ridFromText(f.hypervisorRid);
  if (hvRid !== undefined) attrs.push(nla.u16(F.FNCTL_FN_ATTR_HV_RID, hvRid));
  if (f.mac !== undefined) attrs.push(nla.binary(F.FNCTL_FN_ATTR_MAC, f.mac));
  attrs.push(nla.u8(F.FNCTL_FN_ATTR_MIGRATABLE, f.migratable ? 1 : 0));
  attrs.push(nla.u8(F.FNCTL_FN_ATTR_DRIVER, DRIVER_VALUES[f.driver]));
  if (f.boundAs !== undefined) attrs.push(nla.string(F.FNCTL_FN_ATTR_BOUND_AS, f.boundAs));
  return nla.nest(F.FNCTL_ATTR_FUNCTION, attrs);
}

const INT_BYTES = { u8: 1, u16: 2, u32: 4, u64: 8 } as const;
const utf8 = new TextEncoder();

/** NLA_ALIGN(nla_len) of an attribute, from its tree (no encoding). */
export function fnctlAttrSizeBytes(a: NlAttr): number {
  let payload: number;
  switch (a.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64':
      payload = INT_BYTES[a.kind];
      break;
    case 'string':
      // ASCII names are one byte a character; anything else is measured exactly.
      payload = (/^[\x20-\x7e]*$/.test(a.value) ? a.value.length : utf8.encode(a.value).length) + 1;
      break;
    case 'binary':
      payload = a.value.length;
      break;
    case 'flag':
      payload = 0;
      break;
    case 'nested':
      payload = 0;
      for (const x of a.attrs) payload += fnctlAttrSizeBytes(x);
      break;
  }
  return (nl.NLA_HDRLEN + payload + 3) & ~3;
}

/**
 * Cut `items` (FUNCTION nests) into parts: each part is `head` followed by as many items as keep the
 * message (nlmsghdr + genlmsghdr + attributes) within FNCTL_PART_MAX_BYTES; at least one part, and at
 * least one item per part even if a single item were larger than the budget.
 */
export function packFnctlParts(head: readonly NlAttr[], items: readonly NlAttr[]): NlAttr[][] {
  let headBytes = nl.NLMSG_HDRLEN + nl.GENL_HDRLEN;
  for (const a of head) headBytes += fnctlAttrSizeBytes(a);
  const parts: NlAttr[][] = [];
  let cur: NlAttr[] = [...head];
  let bytes = headBytes;
  let itemsInCur = 0;
  for (const item of items) {
    const size = fnctlAttrSizeBytes(item);
    if (itemsInCur > 0 && bytes + size > F.FNCTL_PART_MAX_BYTES) {
      parts.push(cur);
      cur = [...head];
      bytes = headBytes;
      itemsInCur = 0;
    }
    cur.push(item);
    bytes += size;
    itemsInCur++;
  }
  parts.push(cur);
  return parts;
}

/** The parent handle attributes every message of the family starts with. */
export function fnctlHandleAttrs(bus: string, dev: string): NlAttr[] {
  return [nla.string(F.FNCTL_ATTR_BUS_NAME, bus), nla.string(F.FNCTL_ATTR_DEV_NAME, dev)];
}

/** Readable attribute names for extack texts ("missing attribute count"). */
export const FNCTL_ATTR_NAMES: Readonly<Record<number, string>> = {
  [F.FNCTL_ATTR_BUS_NAME]: 'bus-name',
  [F.FNCTL_ATTR_DEV_NAME]: 'dev-name',
  [F.FNCTL_ATTR_KIND]: 'kind',
  [F.FNCTL_ATTR_COUNT]: 'count',
  [F.FNCTL_ATTR_DRIVER]: 'driver',
  [F.FNCTL_ATTR_MAC]: 'mac',
  [F.FNCTL_ATTR_MIGRATABLE]: 'migratable',
  [F.FNCTL_ATTR_ID]: 'id',
  [F.FNCTL_ATTR_ALL]: 'all',
};
