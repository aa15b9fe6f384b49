/**
 * The kernel's generic netlink plumbing (net/netlink/af_netlink.c, genetlink.c): families register
 * with ops and multicast groups and get ids; tools open NETLINK_GENERIC sockets, send request bytes,
 * and read back reply bytes; handlers answer with replies, errors with extended acks, or dumps; the
 * kernel multicasts notifications to sockets that joined a group; taps (nlmon) see every message in
 * both directions.
 *
 * Ids: GENL_ID_CTRL (0x10) is the controller; 0x11 and 0x12 are Linux's two static ids (VFS_DQUOT,
 * PMCRAID), so dynamic families start at 0x13 (GENL_START_ALLOC) in registration order. Multicast
 * group ids: the controller's "notify" is 0x10; dynamic groups start after Linux's static ones, at 0x13.
 *
 * Handlers throw a NetlinkError (errno + extack message + offending attribute) or any LabError with an
 * errno; anything else is a bug and propagates. A request that does not decode as the family's policy
 * is answered with EINVAL and the offending attribute's offset, as the kernel's policy validation does.
 */
import { LabError } from '../../base/index.js';
import { Errno, type ErrnoName, netlink as nl } from '../../spec/index.js';
import { type AckSocketOptions, ackRequestOf, buildAck, buildDone, type ExtAck } from './ack.js';
import {
  decodeMessages,
  encodeMessage,
  fromNlMessage,
  type GenlMessage,
  type NlAttr,
  NlDecodeError,
  type NlMessage,
  type NlPolicy,
  toNlMessage,
} from './codec.js';
import {
  CTRL_POLICY,
  type GenlFamilyInfo,
  type GenlFamilyRegistry,
  type GenlMcastGroupInfo,
  handleCtrlRequest,
} from './ctrl.js';

/** An error a family handler reports: the errno, and what the extended ack carries. */
export class NetlinkError extends LabError {
  readonly errnoValue: number;
  readonly extack: string | undefined;
  /** The attribute type the error is about; the bus turns it into NLMSGERR_ATTR_OFFS. */
  readonly badAttrType: number | undefined;
  constructor(errno: ErrnoName, extack?: string, badAttrType?: number) {
    super('errno', `${errno}${extack === undefined ? '' : `: ${extack}`}`, { errno });
    this.errnoValue = Errno[errno];
    this.extack = extack;
    this.badAttrType = badAttrType;
  }
}

/** NL_SET_ERR_MSG-style constructor. */
export function nlError(errno: ErrnoName, extack?: string, badAttrType?: number): NetlinkError {
  return new NetlinkError(errno, extack, badAttrType);
}

/** One message a handler sends back: the genl command and attributes; the bus frames it. */
export interface GenlReply {
  readonly cmd: number;
  readonly attrs: readonly NlAttr[];
}

/** What a handler sees of the request. */
export interface GenlRequest {
  readonly msg: GenlMessage;
  readonly portid: number;
  /** The request's nlmsg flags (NLM_F_DUMP, NLM_F_ACK, ...). */
  readonly flags: number;
}

export interface GenlOp {
  readonly cmd: number;
  /** GENL_ADMIN_PERM etc.; the CAP_DO / CAP_DUMP / CAP_HASPOL bits are derived from the handlers. */
  readonly flags?: number;
  /** A doit: its replies (usually one, or none) are sent before the ack. */
  readonly doit?: (req: GenlRequest) => readonly GenlReply[] | undefined;
  /** A dumpit: every object as one NLM_F_MULTI message, then NLMSG_DONE. */
  readonly dumpit?: (req: GenlRequest) => readonly GenlReply[];
}

export interface GenlFamilyDef {
  readonly name: string;
  readonly version: number;
  readonly maxAttr: number;
  readonly policy: NlPolicy;
  readonly ops: readonly GenlOp[];
  readonly mcastGroups?: readonly string[];
  /** Family-specific header bytes after genlmsghdr (0 for every family modeled here). */
  readonly hdrSizeBytes?: number;
}

/** A registered family: what it was given plus its ids. */
export interface GenlFamily extends GenlFamilyDef {
  readonly id: number;
  readonly groups: readonly GenlMcastGroupInfo[];
}

/** Where a message was going when a tap saw it. */
export type NetlinkDirection = 'to-kernel' | 'from-kernel';

/** What an nlmon tap receives: one netlink message as it crossed, with the modeled time. */
export interface NetlinkTapFrame {
  readonly bytes: Uint8Array;
  /** Netlink protocol of the socket (NETLINK_GENERIC = 16). */
  readonly protocol: number;
  readonly direction: NetlinkDirection;
  readonly timeNs: number;
}
export type NetlinkTap = (frame: NetlinkTapFrame) => void;

/** GENL_START_ALLOC: the first dynamic family id. */
export const GENL_FIRST_DYNAMIC_ID = 0x13;
/** The first dynamic multicast group id (after Linux's static ctrl/quota/pmcraid groups). */
export const GENL_FIRST_DYNAMIC_GROUP = 0x13;

export interface NetlinkBusOptions {
  /** Modeled time for tap frames. */
  readonly nowNs: () => number;
}

export class NetlinkBus {
  readonly #families: GenlFamily[] = [];
  readonly #sockets = new Map<number, NetlinkSocket>();
  readonly #taps = new Set<NetlinkTap>();
  readonly #nowNs: () => number;
  #nextFamilyId = GENL_FIRST_DYNAMIC_ID;
  #nextGroupId = GENL_FIRST_DYNAMIC_GROUP;
  #nextPortid = 1;

  constructor(o: NetlinkBusOptions) {
    this.#nowNs = o.nowNs;
    this.#families.push({
      name: 'nlctrl',
      id: nl.GENL_ID_CTRL,
      version: nl.GENL_CTRL_VERSION,
      maxAttr: nl.CTRL_ATTR_OP,
      policy: CTRL_POLICY,
      ops: [{ cmd: nl.CTRL_CMD_GETFAMILY, dumpit: () => [], doit: () => [] }],
      mcastGroups: ['notify'],
      groups: [{ name: 'notify', id: nl.GENL_ID_CTRL }],
    });
  }

  /** genl_register_family: EEXIST for a name already registered. */
  registerFamily(def: GenlFamilyDef): GenlFamily {
    if (this.#families.some((f) => f.name === def.name))
      throw nlError('EEXIST', `generic netlink family ${def.name} exists`);
    if (def.name.length >= nl.GENL_NAMSIZ) throw nlError('EINVAL', `family name ${def.name} is too long`);
    const groups = (def.mcastGroups ?? []).map((name) => ({ name, id: this.#nextGroupId++ }));
    const family: GenlFamily = { ...def, id: this.#nextFamilyId++, groups };
    this.#families.push(family);
    return family;
  }

  unregisterFamily(name: string): void {
    const at = this.#families.findIndex((f) => f.name === name);
    if (at <= 0) throw nlError('ENOENT', `no generic netlink family ${name}`);
    this.#families.splice(at, 1);
  }

  family(name: string): GenlFamily | undefined {
    return this.#families.find((f) => f.name === name);
  }

  /** The controller's view (ops with their capability bits). */
  get registry(): GenlFamilyRegistry {
    const info = (f: GenlFamily): GenlFamilyInfo => ({
      name: f.name,
      id: f.id,
      version: f.version,
      hdrSizeBytes: f.hdrSizeBytes ?? 0,
      maxAttr: f.maxAttr,
      ops: f.ops.map((op) => ({ cmd: op.cmd, flags: opFlags(op) })),
      mcastGroups: f.groups,
    });
    return {
      byName: (name) => {
        const f = this.family(name);
        return f === undefined ? undefined : info(f);
      },
      byId: (id) => {
        const f = this.#families.find((x) => x.id === id);
        return f === undefined ? undefined : info(f);
      },
      all: () => [...this.#families].sort((a, b) => a.id - b.id).map(info),
    };
  }

  /** socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC) + bind: the kernel assigns the port id. */
  openSocket(): NetlinkSocket {
    const portid = this.#nextPortid++;
    const sock = new NetlinkSocket(this, portid);
    this.#sockets.set(portid, sock);
    return sock;
  }

  /** nlmon: every message, both directions. Returns the detach function. */
  addTap(tap: NetlinkTap): () => void {
    this.#taps.add(tap);
    return () => this.#taps.delete(tap);
  }

  /** genlmsg_multicast: one notification to every socket in the group (pid 0, seq 0). */
  notify(familyName: string, groupName: string, reply: GenlReply): void {
    const f = this.family(familyName);
    const group = f?.groups.find((g) => g.name === groupName);
    if (f === undefined || group === undefined)
      throw new LabError('internal', `no multicast group ${familyName}/${groupName}`);
    const listeners = [...this.#sockets.values()].filter((s) => s.groups.has(group.id));
    if (listeners.length === 0 && this.#taps.size === 0) return;
    const bytes = encodeMessage(
      toNlMessage({
        familyId: f.id,
        flags: 0,
        seq: 0,
        pid: 0,
        cmd: reply.cmd,
        version: f.version,
        attrs: reply.attrs,
      }),
    );
    this.#tap(bytes, 'from-kernel');
    for (const s of listeners) s.deliver(bytes);
  }

  /** @internal A socket closed. */
  release(portid: number): void {
    this.#sockets.delete(portid);
  }

  /** @internal netlink_sendmsg → genl_rcv: handle every message in `bytes`, queue the answers. */
  receive(sock: NetlinkSocket, bytes: Uint8Array): void {
    this.#tap(bytes, 'to-kernel');
    let msgs: NlMessage[];
    try {
      msgs = decodeMessages(bytes);
    } catch (e) {
      // netlink_rcv_skb drops a buffer whose framing is broken; nothing is answered.
      if (e instanceof NlDecodeError) return;
      throw e;
    }
    for (const m of msgs) {
      if ((m.flags & nl.NLM_F_REQUEST) === 0 || m.type < nl.NLMSG_MIN_TYPE) continue;
      for (const out of this.#handle(m, sock)) {
        const framed = encodeMessage(out);
        this.#tap(framed, 'from-kernel');
        sock.deliver(framed);
      }
    }
  }

  #tap(bytes: Uint8Array, direction: NetlinkDirection): void {
    if (this.#taps.size === 0) return;
    const frame = { bytes, protocol: nl.NETLINK_GENERIC, direction, timeNs: this.#nowNs() };
    for (const t of this.#taps) t(frame);
  }

  #handle(m: NlMessage, sock: NetlinkSocket): NlMessage[] {
    const socket = sock.ackOptions;
    const ackFor = (errno: number, ext: ExtAck = {}) =>
      buildAck(ackRequestOf(m, sock.portid), -errno, ext, socket);
    if (m.type === nl.GENL_ID_CTRL) return handleCtrlRequest(this.registry, m, sock.portid, socket);
    const f = this.#families.find((x) => x.id === m.type);
    if (f === undefined) return [ackFor(Errno.ENOENT)];
    let msg: GenlMessage;
    try {
      msg = fromNlMessage(m, f.policy);
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      const offset = e instanceof NlDecodeError ? e.offset : undefined;
      return [ackFor(Errno.EINVAL, { badAttrOffset: offset })];
    }
    const op = f.ops.find((o) => o.cmd === msg.cmd);
    if (op === undefined) return [ackFor(Errno.EOPNOTSUPP)];
    const dump = (m.flags & nl.NLM_F_DUMP) === nl.NLM_F_DUMP;
    const frame = (r: GenlReply, flags: number): NlMessage =>
      toNlMessage({
        familyId: f.id,
        flags,
        seq: m.seq,
        pid: sock.portid,
        cmd: r.cmd,
        version: f.version,
        attrs: r.attrs,
      });
    const req: GenlRequest = { msg, portid: sock.portid, flags: m.flags };
    try {
      if (dump) {
        if (op.dumpit === undefined) return [ackFor(Errno.EOPNOTSUPP)];
        const replies = op.dumpit(req).map((r) => frame(r, nl.NLM_F_MULTI));
        return [...replies, buildDone(m.seq, sock.portid)];
      }
      if (op.doit === undefined) return [ackFor(Errno.EOPNOTSUPP)];
      const replies = (op.doit(req) ?? []).map((r) => frame(r, 0));
      return (m.flags & nl.NLM_F_ACK) !== 0 ? [...replies, ackFor(0)] : replies;
    } catch (e) {
      if (e instanceof NetlinkError) {
        return [
          ackFor(e.errnoValue, {
            message: e.extack,
            badAttrOffset: e.badAttrType === undefined ? undefined : attrOffset(m, e.badAttrType),
          }),
        ];
      }
      if (e instanceof LabError && e.errno !== undefined) return [ackFor(Errno[e.errno])];
      throw e;
    }
  }
}

function opFlags(op: GenlOp): number {
  return (
    (op.flags ?? 0) |
    (op.doit !== undefined ? nl.GENL_CMD_CAP_DO : 0) |
    (op.dumpit !== undefined ? nl.GENL_CMD_CAP_DUMP : 0) |
    nl.GENL_CMD_CAP_HASPOL
  );
}

/** Offset from the nlmsghdr of the first top-level attribute of `type` in a request, if present. */
function attrOffset(m: NlMessage, type: number): number | undefined {
  let at = nl.GENL_HDRLEN;
  const p = m.payload;
  while (at + nl.NLA_HDRLEN <= p.length) {
    const len = p[at]! | (p[at + 1]! << 8);
    const t = (p[at + 2]! | (p[at + 3]! << 8)) & nl.NLA_TYPE_MASK;
    if (len < nl.NLA_HDRLEN) return undefined;
    if (t === type) return nl.NLMSG_HDRLEN + at;
    at += (len + 3) & ~3;
  }
  return undefined;
}

/** One NETLINK_GENERIC socket of a tool. */
export class NetlinkSocket {
  readonly portid: number;
  readonly groups = new Set<number>();
  ackOptions: AckSocketOptions = { capAck: false, extAck: false };
  readonly #bus: NetlinkBus;
  readonly #queue: Uint8Array[] = [];
  #open = true;

  constructor(bus: NetlinkBus, portid: number) {
    this.#bus = bus;
    this.portid = portid;
  }

  /** setsockopt(SOL_NETLINK, NETLINK_EXT_ACK / NETLINK_CAP_ACK). */
  setAckOptions(o: Partial<AckSocketOptions>): void {
    this.ackOptions = { ...this.ackOptions, ...o };
  }

  /** NETLINK_ADD_MEMBERSHIP. */
  addMembership(groupId: number): void {
    this.groups.add(groupId);
  }

  /** sendmsg: the kernel handles the messages synchronously and queues its answers. */
  send(bytes: Uint8Array): void {
    if (!this.#open) throw new LabError('errno', 'send on a closed netlink socket', { errno: 'EBADF' });
    this.#bus.receive(this, bytes);
  }

  /** recvmsg: the next queued datagram, or undefined when nothing is queued (EAGAIN). */
  recv(): Uint8Array | undefined {
    return this.#queue.shift();
  }

  /** @internal */
  deliver(bytes: Uint8Array): void {
    if (this.#open) this.#queue.push(bytes);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#queue.length = 0;
    this.#bus.release(this.portid);
  }
}
