/**
 * nlmon, the netlink monitor link (drivers/net/nlmon.c) and the small link table `ip link` works on.
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
 * The table holds `lo` (ifindex 1, always there and up) and the nlmon links; ifindexes are handed out
 * in creation order from 2 and never reused, as dev_new_index does.
 *
 * SPEC-DEVIATION: the table is not yet the kernel's one netdev list: netdevs that drivers register
 * (virtio_net's eth0, ...) are not in it, and `ip link` changes it directly rather than through
 * NETLINK_ROUTE messages, so no rtnetlink traffic shows in captures (the bus models NETLINK_GENERIC).
 *
 * Left out: network namespaces, MTU changes, link renames, qlen changes.
 */
import { errnoError, LabError } from '../../base/index.js';
import type { NetlinkBus, NetlinkDirection } from './bus.js';

/** include/uapi/linux/if_arp.h */
export const ARPHRD_LOOPBACK = 772;
export const ARPHRD_NETLINK = 824;
/** include/uapi/linux/if.h net_device_flags. */
export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_NOARP = 0x80;
export const IFF_LOWER_UP = 0x10000;
/** include/uapi/linux/if_packet.h: what dev_queue_xmit_nit sets on a clone for packet sockets. */
export const PACKET_OUTGOING = 4;
/**
 * NLMSG_GOODSIZE = SKB_WITH_OVERHEAD(min(PAGE_SIZE, 8192)): 4096 less the skb_shared_info overhead
 * (320 bytes on x86-64), the MTU `ip link` shows for nlmon on 4 KiB-page hosts.
 */
export const NLMSG_GOODSIZE = 3776;
/** LOOPBACK_MTU (drivers/net/loopback.c: 64 KiB). */
export const LOOPBACK_MTU = 65536;
/** DEFAULT_TX_QUEUE_LEN (include/uapi/linux/if_ether.h path via alloc_netdev_mqs). */
export const DEFAULT_TX_QUEUE_LEN = 1000;
/** IFNAMSIZ - 1: the longest interface name. */
export const IFNAMSIZ_MAX_CHARS = 15;

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

/** rtnl_link_stats64, the fields `ip -s link` prints. */
export interface LinkStats {
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
}

export type LinkKind = 'loopback' | 'nlmon';

/** One link of the table. */
export interface NetLink {
  readonly ifindex: number;
  readonly name: string;
  readonly kind: LinkKind;
  readonly arphrd: number;
  readonly mtu: number;
  readonly txQueueLen: number;
  /** IFF_* bits as `ip link` shows them (IFF_LOWER_UP when up: carrier is always on). */
  readonly flags: number;
  readonly up: boolean;
  readonly stats: LinkStats;
}

class LoopbackLink implements NetLink {
  readonly ifindex = 1;
  readonly name = 'lo';
  readonly kind = 'loopback';
  readonly arphrd = ARPHRD_LOOPBACK;
  readonly mtu = LOOPBACK_MTU;
  readonly txQueueLen = DEFAULT_TX_QUEUE_LEN;
  readonly up = true;
  readonly flags = IFF_LOOPBACK | IFF_UP | IFF_LOWER_UP;
  readonly stats: LinkStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 };
}

/** One nlmon device. */
export class NlmonDevice implements NetLink {
  readonly ifindex: number;
  readonly name: string;
  readonly kind = 'nlmon';
  readonly arphrd = ARPHRD_NETLINK;
  readonly mtu = NLMSG_GOODSIZE;
  readonly txQueueLen = DEFAULT_TX_QUEUE_LEN;
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
    return IFF_NOARP | (this.up ? IFF_UP | IFF_LOWER_UP : 0);
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

/** The host's links, by ifindex. */
export class LinkTable {
  readonly #bus: NetlinkBus;
  readonly #links: NetLink[] = [new LoopbackLink()];
  #nextIfindex = 2;

  constructor(bus: NetlinkBus) {
    this.#bus = bus;
  }

  /** Every link in ifindex order. */
  get links(): readonly NetLink[] {
    return this.#links;
  }

  byName(name: string): NetLink | undefined {
    return this.#links.find((l) => l.name === name);
  }

  /**
   * rtnl_newlink for kind nlmon: EEXIST for a name in use, EINVAL for a name dev_valid_name refuses;
   * without a name the kernel picks the first free `nlmon%d`.
   */
  addNlmon(name?: string): NlmonDevice {
    const chosen = name ?? this.#freeName('nlmon');
    if (!validIfname(chosen)) throw errnoError('EINVAL', `invalid interface name '${chosen}'`);
    if (this.byName(chosen) !== undefined) throw errnoError('EEXIST', `${chosen} exists`);
    const dev = new NlmonDevice(this.#bus, chosen, this.#nextIfindex++);
    this.#links.push(dev);
    return dev;
  }

  /** dev_open / dev_close. ENODEV for no such link. */
  setUp(name: string, up: boolean): void {
    const l = this.byName(name);
    if (l === undefined) throw errnoError('ENODEV', name);
    if (l instanceof NlmonDevice) {
      if (up) l.open();
      else l.stop();
      return;
    }
    // lo is always up here; bringing it down is left out (it would stop local traffic we do not model).
    if (!up) throw errnoError('EOPNOTSUPP', 'lo stays up in this model');
  }

  /** rtnl_dellink: ENODEV for no such link, EOPNOTSUPP for a link without rtnl_link_ops (lo). */
  delete(name: string): void {
    const at = this.#links.findIndex((l) => l.name === name);
    const l = this.#links[at];
    if (l === undefined) throw errnoError('ENODEV', name);
    if (!(l instanceof NlmonDevice)) throw errnoError('EOPNOTSUPP', `${name} cannot be deleted`);
    l.unregister();
    this.#links.splice(at, 1);
  }

  #freeName(prefix: string): string {
    for (let i = 0; ; i++) if (this.byName(`${prefix}${i}`) === undefined) return `${prefix}${i}`;
  }
}

/** dev_valid_name: 1..15 characters, not "." or "..", no '/', ':' or whitespace. */
export function validIfname(name: string): boolean {
  if (name.length === 0 || name.length > IFNAMSIZ_MAX_CHARS || name === '.' || name === '..') return false;
  return !/[/:\s]/.test(name);
}
