/**
 * nlmon, the netlink monitor link (drivers/net/nlmon.c), and its rtnl_link_ops for `ip link add ...
 * type nlmon`; the links live in the kernel's one net device list (kernel/net).
 *
 * An nlmon device is a netdev of type ARPHRD_NETLINK with no address, flags IFF_NOARP, no queue
 * (IFF_NO_QUEUE: qdisc noqueue when up) and an MTU of NLMSG_GOODSIZE. While it is UP (ndo_open →
 * netlink_add_tap) every netlink message that crosses the bus, both directions, multicast included, is
 * handed to it (af_netlink.c __netlink_deliver_tap_skb); ndo_stop removes the tap. Its xmit counts the
 * message (dev_lstats_add) and drops it; ndo_get_stats64 reports those counts as RX, TX as 0. Packet
 * sockets bound to the device (tcpdump) see each message on the way to xmit (dev_queue_xmit_nit), with
 * skb->protocol = the socket's netlink protocol and pkt_type PACKET_OUTGOING, which libpcap turns into
 * the LINKTYPE_NETLINK cooked header (see lab/pcap).
 *
 * Left out: network namespaces, MTU changes, link renames, qlen changes.
 */
import { LabError } from '../../base/index.js';
import { netdev } from '../../spec/index.js';
import type { LinkKindOps, LinkStats, NlmonLink, OperState } from '../net/index.js';
import type { NetlinkBus, NetlinkDirection } from './bus.js';

/** include/uapi/linux/if_packet.h: what dev_queue_xmit_nit sets on a clone for packet sockets. */
export const PACKET_OUTGOING = 4;
/**
 * NLMSG_GOODSIZE = SKB_WITH_OVERHEAD(min(PAGE_SIZE, 8192)): 4096 less the skb_shared_info overhead
 * (320 bytes on x86-64), the MTU `ip link` shows for nlmon on 4 KiB-page hosts.
 */
export const NLMSG_GOODSIZE = 3776;

/** What a packet socket bound to an nlmon device receives for one message. */
export interface NlmonPacket {
  readonly bytes: Uint8Array;
  /** skb->protocol: the netlink protocol of the sending socket (NETLINK_GENERIC = 16). */
  readonly protocol: number;
  /** PACKET_OUTGOING: the message was transmitted by the device. */
  readonly pktType: number;
  /** Where the message itself was going (not on the wire; the capture loses it as Linux does). */
  readonly direction: NetlinkDirection;
  readonly timeNs: number;
}
export type PacketTap = (p: NlmonPacket) => void;

/** One nlmon device. */
export class NlmonDevice implements NlmonLink {
  readonly ifindex: number;
  readonly name: string;
  readonly kind = 'nlmon';
  readonly arphrd = netdev.ARPHRD_NETLINK;
  readonly mtu = NLMSG_GOODSIZE;
  readonly txQueueLen = netdev.DEFAULT_TX_QUEUE_LEN;
  readonly #bus: NetlinkBus;
  readonly #packetTaps = new Set<PacketTap>();
  #detach: (() => void) | undefined;
  #packets = 0;
  #bytes = 0;

  constructor(bus: NetlinkBus, name: string, ifindex: number) {
    this.#bus = bus;
    this.name = name;
    this.ifindex = ifindex;
  }

  get up(): boolean {
    return this.#detach !== undefined;
  }

  get flags(): number {
    return netdev.IFF_NOARP | (this.up ? netdev.IFF_UP | netdev.IFF_LOWER_UP : 0);
  }

  /** No driver sets an operstate for nlmon, so an up link is UNKNOWN. */
  get operstate(): OperState {
    return this.up ? netdev.IF_OPER_UNKNOWN : netdev.IF_OPER_DOWN;
  }

  /** IFF_NO_QUEUE: noqueue once up, noop while down. */
  get qdisc(): string {
    return this.up ? 'noqueue' : 'noop';
  }

  get stats(): LinkStats {
    return { rxPackets: this.#packets, rxBytes: this.#bytes, txPackets: 0, txBytes: 0 };
  }

  /** ndo_open: netlink_add_tap. Opening an open device does nothing (dev_open's IFF_UP check). */
  open(): void {
    if (this.#detach !== undefined) return;
    this.#detach = this.#bus.addTap((f) => {
      const packet: NlmonPacket = {
        bytes: f.bytes,
        protocol: f.protocol,
        pktType: PACKET_OUTGOING,
        direction: f.direction,
        timeNs: f.timeNs,
      };
      for (const t of this.#packetTaps) t(packet);
      this.#packets += 1;
      this.#bytes += f.bytes.length;
    });
  }

  /** ndo_stop: netlink_remove_tap. */
  stop(): void {
    this.#detach?.();
    this.#detach = undefined;
  }

  /**
   * Bind a packet socket to the device. It receives only while the device is up; binding to a down
   * device is refused (packet_do_bind reports ENETDOWN through SO_ERROR; libpcap: "That device is not
   * up") with LabError('invalid-state'). Returns the unbind function.
   */
  bindPacketSocket(tap: PacketTap): () => void {
    if (!this.up) throw new LabError('invalid-state', `${this.name}: That device is not up`);
    this.#packetTaps.add(tap);
    return () => this.#packetTaps.delete(tap);
  }

  /** unregister_netdevice: stop, and every bound packet socket loses the device. */
  unregister(): void {
    this.stop();
    this.#packetTaps.clear();
  }
}

/** nlmon's rtnl_link_ops: `ip link add NAME type nlmon` makes an NlmonDevice on `bus`. */
export function nlmonLinkKind(bus: NetlinkBus): LinkKindOps {
  return { kind: 'nlmon', create: (name, ifindex) => new NlmonDevice(bus, name, ifindex) };
}
