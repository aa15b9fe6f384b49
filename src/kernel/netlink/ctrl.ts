/**
 * The generic netlink controller family (GENL_ID_CTRL, "nlctrl"): CTRL_CMD_GETFAMILY by name or id as a
 * doit, and as a dump of every family, as net/netlink/genetlink.c ctrl_getfamily / ctrl_dumpfamily /
 * ctrl_fill_info answer them (issue 6 §3; attribute names from include/uapi/linux/genetlink.h).
 *
 * Reply layout (ctrl_fill_info order): CTRL_ATTR_FAMILY_NAME, FAMILY_ID (u16), VERSION, HDRSIZE,
 * MAXATTR (u32 each), then CTRL_ATTR_OPS when the family has ops (a nest of nests indexed 1..n, each
 * OP_ID and OP_FLAGS), then CTRL_ATTR_MCAST_GROUPS when it has groups (a nest of nests indexed 1..n,
 * each MCAST_GRP_ID then MCAST_GRP_NAME). The controller opens these nests without NLA_F_NESTED
 * (nla_nest_start_noflag). A doit reply is CTRL_CMD_NEWFAMILY with flags 0 and the controller's version.
 *
 * Errors: neither FAMILY_ID nor FAMILY_NAME → -EINVAL; no such family → -ENOENT (FAMILY_NAME wins when
 * both are given); a command other than GETFAMILY → -EOPNOTSUPP; attributes that do not parse →
 * -EINVAL with the offending offset in NLMSGERR_ATTR_OFFS when the codec can name it.
 *
 * Left out: request_module() autoloading on a name miss, network-namespace visibility (netnsok),
 * CTRL_CMD_GETPOLICY and CTRL_ATTR_POLICY, and NEWFAMILY/DELFAMILY/NEWMCAST_GRP notifications.
 */
import { LabError } from '../../base/index.js';
import { Errno, netlink as nl } from '../../spec/index.js';
import {
  type AckSocketOptions,
  ackRequestOf,
  buildAck,
  buildDone,
  DEFAULT_ACK_SOCKET,
  type ExtAck,
} from './ack.js';
import {
  findAttr,
  fromNlMessage,
  type GenlMessage,
  type NlAttr,
  NlDecodeError,
  type NlMessage,
  type NlPolicy,
  nla,
  toNlMessage,
} from './codec.js';

/** What the controller reports about one registered family. */
export interface GenlFamilyInfo {
  readonly name: string;
  readonly id: number;
  readonly version: number;
  readonly hdrSizeBytes: number;
  readonly maxAttr: number;
  readonly ops: readonly GenlOpInfo[];
  readonly mcastGroups: readonly GenlMcastGroupInfo[];
}
export interface GenlOpInfo {
  readonly cmd: number;
  /** GENL_ADMIN_PERM, GENL_CMD_CAP_DO, ... */
  readonly flags: number;
}
export interface GenlMcastGroupInfo {
  readonly name: string;
  readonly id: number;
}

/** The registry the controller answers from (the kernel's genl_fam_idr). */
export interface GenlFamilyRegistry {
  byName(name: string): GenlFamilyInfo | undefined;
  byId(id: number): GenlFamilyInfo | undefined;
  /** Every family in id order, for the dump. */
  all(): readonly GenlFamilyInfo[];
}

/** Decoding policy of the controller's attributes, request and reply. */
export const CTRL_POLICY: NlPolicy = {
  [nl.CTRL_ATTR_FAMILY_ID]: 'u16',
  [nl.CTRL_ATTR_FAMILY_NAME]: 'string',
  [nl.CTRL_ATTR_VERSION]: 'u32',
  [nl.CTRL_ATTR_HDRSIZE]: 'u32',
  [nl.CTRL_ATTR_MAXATTR]: 'u32',
  [nl.CTRL_ATTR_OPS]: {
    kind: 'nested-array',
    policy: { [nl.CTRL_ATTR_OP_ID]: 'u32', [nl.CTRL_ATTR_OP_FLAGS]: 'u32' },
  },
  [nl.CTRL_ATTR_MCAST_GROUPS]: {
    kind: 'nested-array',
    policy: { [nl.CTRL_ATTR_MCAST_GRP_NAME]: 'string', [nl.CTRL_ATTR_MCAST_GRP_ID]: 'u32' },
  },
};

export type FamilySelector = { readonly name: string } | { readonly id: number };

/** A GETFAMILY doit request, flags NLM_F_REQUEST | NLM_F_ACK and genl version 1 as resolvers send it. */
export function getFamilyRequest(
  select: FamilySelector,
  seq: number,
  pid = 0,
  flags = nl.NLM_F_REQUEST | nl.NLM_F_ACK,
): GenlMessage {
  const attr =
    'name' in select
      ? nla.string(nl.CTRL_ATTR_FAMILY_NAME, select.name)
      : nla.u16(nl.CTRL_ATTR_FAMILY_ID, select.id);
  return {
    familyId: nl.GENL_ID_CTRL,
    flags,
    seq,
    pid,
    cmd: nl.CTRL_CMD_GETFAMILY,
    version: 1,
    attrs: [attr],
  };
}

/** A GETFAMILY dump request (NLM_F_REQUEST | NLM_F_DUMP, no attributes). */
export function dumpFamiliesRequest(seq: number, pid = 0): GenlMessage {
  return {
    familyId: nl.GENL_ID_CTRL,
    flags: nl.NLM_F_REQUEST | nl.NLM_F_DUMP,
    seq,
    pid,
    cmd: nl.CTRL_CMD_GETFAMILY,
    version: 1,
    attrs: [],
  };
}

/** ctrl_fill_info's attributes for one family. */
export function familyAttrs(f: GenlFamilyInfo): NlAttr[] {
  const attrs: NlAttr[] = [
    nla.string(nl.CTRL_ATTR_FAMILY_NAME, f.name),
    nla.u16(nl.CTRL_ATTR_FAMILY_ID, f.id),
    nla.u32(nl.CTRL_ATTR_VERSION, f.version),
    nla.u32(nl.CTRL_ATTR_HDRSIZE, f.hdrSizeBytes),
    nla.u32(nl.CTRL_ATTR_MAXATTR, f.maxAttr),
  ];
  if (f.ops.length > 0) {
    attrs.push(
      nla.nestNoflag(
        nl.CTRL_ATTR_OPS,
        f.ops.map((op, i) =>
          nla.nestNoflag(i + 1, [
            nla.u32(nl.CTRL_ATTR_OP_ID, op.cmd),
            nla.u32(nl.CTRL_ATTR_OP_FLAGS, op.flags),
          ]),
        ),
      ),
    );
  }
  if (f.mcastGroups.length > 0) {
    attrs.push(
      nla.nestNoflag(
        nl.CTRL_ATTR_MCAST_GROUPS,
        f.mcastGroups.map((g, i) =>
          nla.nestNoflag(i + 1, [
            nla.u32(nl.CTRL_ATTR_MCAST_GRP_ID, g.id),
            nla.string(nl.CTRL_ATTR_MCAST_GRP_NAME, g.name),
          ]),
        ),
      ),
    );
  }
  return attrs;
}

function familyMessage(f: GenlFamilyInfo, seq: number, portid: number, flags: number): NlMessage {
  return toNlMessage({
    familyId: nl.GENL_ID_CTRL,
    flags,
    seq,
    pid: portid,
    cmd: nl.CTRL_CMD_NEWFAMILY,
    version: nl.GENL_CTRL_VERSION,
    attrs: familyAttrs(f),
  });
}

/**
 * Handle one request addressed to GENL_ID_CTRL from socket `portid`; returns the messages the kernel
 * queues back, in order: a reply then an ack if NLM_F_ACK was set, an error ack alone, or a dump's
 * NLM_F_MULTI messages followed by NLMSG_DONE.
 */
export function handleCtrlRequest(
  registry: GenlFamilyRegistry,
  request: NlMessage,
  portid: number,
  socket: AckSocketOptions = DEFAULT_ACK_SOCKET,
): NlMessage[] {
  const fail = (errno: number, ext: ExtAck = {}): NlMessage[] => [
    buildAck(ackRequestOf(request, portid), -errno, ext, socket),
  ];
  let msg: GenlMessage;
  try {
    msg = fromNlMessage(request, CTRL_POLICY);
  } catch (e) {
    if (!(e instanceof NlDecodeError)) throw e;
    return fail(Errno.EINVAL, { badAttrOffset: e.offset });
  }
  if (msg.cmd !== nl.CTRL_CMD_GETFAMILY) return fail(Errno.EOPNOTSUPP);
  if ((request.flags & nl.NLM_F_DUMP) === nl.NLM_F_DUMP) {
    return [
      ...registry.all().map((f) => familyMessage(f, request.seq, portid, nl.NLM_F_MULTI)),
      buildDone(request.seq, portid),
    ];
  }
  const id = findAttr(msg.attrs, nl.CTRL_ATTR_FAMILY_ID);
  const name = findAttr(msg.attrs, nl.CTRL_ATTR_FAMILY_NAME);
  let family: GenlFamilyInfo | undefined;
  if (name?.kind === 'string') family = registry.byName(name.value);
  else if (id?.kind === 'u16') family = registry.byId(id.value);
  else return fail(Errno.EINVAL);
  if (family === undefined) return fail(Errno.ENOENT);
  const reply = familyMessage(family, request.seq, portid, 0);
  return (request.flags & nl.NLM_F_ACK) !== 0
    ? [reply, buildAck(ackRequestOf(request, portid), 0, {}, socket)]
    : [reply];
}

/** Read a NEWFAMILY reply (already decoded with CTRL_POLICY) back into a GenlFamilyInfo. */
export function parseFamilyReply(msg: GenlMessage): GenlFamilyInfo {
  const num = (attrs: readonly NlAttr[], type: number, what: string): number => {
    const a = findAttr(attrs, type);
    if (a === undefined || (a.kind !== 'u8' && a.kind !== 'u16' && a.kind !== 'u32')) {
      throw new LabError('bad-input', `controller reply: missing ${what}`);
    }
    return a.value;
  };
  const str = (attrs: readonly NlAttr[], type: number, what: string): string => {
    const a = findAttr(attrs, type);
    if (a?.kind !== 'string') throw new LabError('bad-input', `controller reply: missing ${what}`);
    return a.value;
  };
  const items = (type: number): readonly NlAttr[][] => {
    const a = findAttr(msg.attrs, type);
    if (a === undefined) return [];
    if (a.kind !== 'nested')
      throw new LabError('bad-input', `controller reply: attribute ${type} is not nested`);
    return a.attrs.map((item) => (item.kind === 'nested' ? [...item.attrs] : []));
  };
  return {
    name: str(msg.attrs, nl.CTRL_ATTR_FAMILY_NAME, 'CTRL_ATTR_FAMILY_NAME'),
    id: num(msg.attrs, nl.CTRL_ATTR_FAMILY_ID, 'CTRL_ATTR_FAMILY_ID'),
    version: num(msg.attrs, nl.CTRL_ATTR_VERSION, 'CTRL_ATTR_VERSION'),
    hdrSizeBytes: num(msg.attrs, nl.CTRL_ATTR_HDRSIZE, 'CTRL_ATTR_HDRSIZE'),
    maxAttr: num(msg.attrs, nl.CTRL_ATTR_MAXATTR, 'CTRL_ATTR_MAXATTR'),
    ops: items(nl.CTRL_ATTR_OPS).map((op) => ({
      cmd: num(op, nl.CTRL_ATTR_OP_ID, 'CTRL_ATTR_OP_ID'),
      flags: num(op, nl.CTRL_ATTR_OP_FLAGS, 'CTRL_ATTR_OP_FLAGS'),
    })),
    mcastGroups: items(nl.CTRL_ATTR_MCAST_GROUPS).map((g) => ({
      name: str(g, nl.CTRL_ATTR_MCAST_GRP_NAME, 'CTRL_ATTR_MCAST_GRP_NAME'),
      id: num(g, nl.CTRL_ATTR_MCAST_GRP_ID, 'CTRL_ATTR_MCAST_GRP_ID'),
    })),
  };
}

/** A registry over a fixed list of families. */
export function staticFamilyRegistry(families: readonly GenlFamilyInfo[]): GenlFamilyRegistry {
  const sorted = [...families].sort((a, b) => a.id - b.id);
  return {
    byName: (name) => sorted.find((f) => f.name === name),
    byId: (id) => sorted.find((f) => f.id === id),
    all: () => sorted,
  };
}
