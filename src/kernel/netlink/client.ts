/**
 * The userspace side of generic netlink, as libmnl-based tools (iproute2's devlink and vdpa) use it:
 * resolve a family by name through the controller, send one request, read until its ack or
 * NLMSG_DONE, and hand back the decoded replies or the error with its extended-ack text. Everything
 * crosses the socket as bytes, so taps see exactly what a real tool and kernel exchange.
 */
import { LabError } from '../../base/index.js';
import { netlink as nl } from '../../spec/index.js';
import { parseAck, parseDone } from './ack.js';
import type { NetlinkBus, NetlinkSocket } from './bus.js';
import {
  decodeMessages,
  encodeGenl,
  fromNlMessage,
  type GenlMessage,
  type NlAttr,
  type NlPolicy,
} from './codec.js';
import { CTRL_POLICY, type GenlFamilyInfo, getFamilyRequest, parseFamilyReply } from './ctrl.js';

/** A request the kernel refused: errno (positive) and the extended ack's message, if any. */
export interface GenlFailure {
  readonly errno: number;
  readonly extack: string | undefined;
  readonly badAttrOffset: number | undefined;
}

export type GenlResult =
  | { readonly ok: true; readonly replies: readonly GenlMessage[] }
  | ({ readonly ok: false } & GenlFailure);

export interface GenlCallOptions {
  readonly dump?: boolean;
  /** NLM_F_ACK (tools set it on doit requests). Default true. */
  readonly ack?: boolean;
  /** Extra nlmsg flags (NLM_F_CREATE, NLM_F_EXCL, ...). */
  readonly extraFlags?: number;
}

/** A tool's session with one family: one socket, the family resolved once, sequence numbers. */
export class GenlClient {
  readonly sock: NetlinkSocket;
  readonly family: GenlFamilyInfo;
  readonly #policy: NlPolicy;
  #seq: number;

  private constructor(sock: NetlinkSocket, family: GenlFamilyInfo, policy: NlPolicy, seq: number) {
    this.sock = sock;
    this.family = family;
    this.#policy = policy;
    this.#seq = seq;
  }

  /**
   * Open a socket with NETLINK_EXT_ACK and NETLINK_CAP_ACK (as iproute2 does), and resolve `name`.
   * ENOENT when the family is not registered (the tool prints its own message).
   */
  static open(bus: NetlinkBus, name: string, policy: NlPolicy, seqStart = 1): GenlClient {
    const sock = bus.openSocket();
    sock.setAckOptions({ extAck: true, capAck: true });
    const seq = seqStart;
    sock.send(encodeGenl(getFamilyRequest({ name }, seq, 0)));
    const { replies, failure } = collect(sock, seq, CTRL_POLICY);
    if (failure !== undefined || replies.length !== 1) {
      sock.close();
      throw new LabError('errno', `generic netlink family ${name} not found`, { errno: 'ENOENT' });
    }
    return new GenlClient(sock, parseFamilyReply(replies[0]!), policy, seq + 1);
  }

  /** Send one request and read its answers. */
  call(cmd: number, attrs: readonly NlAttr[], o: GenlCallOptions = {}): GenlResult {
    const seq = this.#seq++;
    const flags =
      nl.NLM_F_REQUEST |
      (o.dump === true ? nl.NLM_F_DUMP : 0) |
      ((o.ack ?? true) ? nl.NLM_F_ACK : 0) |
      (o.extraFlags ?? 0);
    this.sock.send(
      encodeGenl({
        familyId: this.family.id,
        flags,
        seq,
        pid: 0,
        cmd,
        version: this.family.version,
        attrs,
      }),
    );
    const { replies, failure } = collect(this.sock, seq, this.#policy);
    return failure === undefined ? { ok: true, replies } : { ok: false, ...failure };
  }

  /** Join a multicast group of the family by name (for `devlink monitor`-style listeners). */
  join(group: string): void {
    const g = this.family.mcastGroups.find((x) => x.name === group);
    if (g === undefined) throw new LabError('errno', `no multicast group ${group}`, { errno: 'ENOENT' });
    this.sock.addMembership(g.id);
  }

  /** Notifications queued on the socket (multicast), decoded with the family's policy. */
  drainNotifications(): GenlMessage[] {
    const out: GenlMessage[] = [];
    for (let b = this.sock.recv(); b !== undefined; b = this.sock.recv()) {
      for (const m of decodeMessages(b))
        if (m.type === this.family.id) out.push(fromNlMessage(m, this.#policy));
    }
    return out;
  }

  close(): void {
    this.sock.close();
  }
}

/** Read everything queued for `seq`: replies until the ack (doit) or NLMSG_DONE (dump). */
function collect(
  sock: NetlinkSocket,
  seq: number,
  policy: NlPolicy,
): { replies: GenlMessage[]; failure: GenlFailure | undefined } {
  const replies: GenlMessage[] = [];
  for (let b = sock.recv(); b !== undefined; b = sock.recv()) {
    for (const m of decodeMessages(b)) {
      if (m.seq !== seq && m.type !== nl.NLMSG_ERROR) continue;
      if (m.type === nl.NLMSG_ERROR) {
        const ack = parseAck(m);
        if (ack.error === 0) continue;
        return {
          replies,
          failure: { errno: -ack.error, extack: ack.ext.message, badAttrOffset: ack.ext.badAttrOffset },
        };
      }
      if (m.type === nl.NLMSG_DONE) {
        const status = parseDone(m);
        if (status < 0)
          return { replies, failure: { errno: -status, extack: undefined, badAttrOffset: undefined } };
        continue;
      }
      replies.push(fromNlMessage(m, policy));
    }
  }
  return { replies, failure: undefined };
}
