/**
 * What one net device is, as rtnetlink reports it (ifinfomsg + IFLA_* of rtnl_fill_ifinfo): ifindex,
 * name, hardware type, MTU, queue length, flags, operational state, qdisc and the 64-bit counters.
 * Links are a union over their kind, each kind carrying its own data: the loopback device, Ethernet
 * netdevs that drivers register (with their parent device, MAC and `ethtool -S` counters), and nlmon
 * links made by `ip link add ... type nlmon` (kernel/netlink/nlmon.ts).
 *
 * Carrier is always on in this model (no driver reports link loss), so a link that is up also has
 * IFF_LOWER_UP. Left out: IFF_RUNNING (iproute2 hides it), addresses, altnames, namespaces.
 */
import { errnoError } from '../../base/index.js';
import { netdev } from '../../spec/index.js';
import type { Device } from '../driver-core/device.js';

/** rtnl_link_stats64, the fields `ip -s link` prints. */
export interface LinkStats {
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
}

export const ZERO_LINK_STATS: LinkStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 };

/** IFLA_OPERSTATE values the modeled links take (IF_OPER_*). */
export type OperState = typeof netdev.IF_OPER_UNKNOWN | typeof netdev.IF_OPER_DOWN | typeof netdev.IF_OPER_UP;

interface LinkCommon {
  readonly ifindex: number;
  readonly name: string;
  /** ARPHRD_* (ifi_type). */
  readonly arphrd: number;
  readonly mtu: number;
  readonly txQueueLen: number;
  /** IFF_* bits (ifi_flags) as rtnetlink reports them. */
  readonly flags: number;
  readonly up: boolean;
  readonly operstate: OperState;
  /** IFLA_QDISC: the root qdisc's kind ("noop" while down). */
  readonly qdisc: string;
  readonly stats: LinkStats;
}

/** lo: always there, always up. */
export interface LoopbackLink extends LinkCommon {
  readonly kind: 'loopback';
}

/** A device a driver registered (register_netdev) over the device it bound. */
export interface Netdev extends LinkCommon {
  readonly kind: 'ether';
  /** The device the driver bound (an auxiliary device for mnic_en, the PCI function for virtio_net). */
  readonly parent: Device;
  readonly mac: Uint8Array;
  /** dev->broadcast: all ones for Ethernet (ether_setup). */
  readonly broadcast: Uint8Array;
  /** ethtool -S: the driver's counters, in its order. */
  ethtoolStats(): readonly (readonly [string, bigint])[];
  /** dev_open: IFF_UP, and IFF_LOWER_UP as carrier is on. */
  open(): void;
  /** dev_close. */
  stop(): void;
}

/** A link `ip link add` makes through its kind's rtnl_link_ops; nlmon is the only kind modeled. */
export interface NlmonLink extends LinkCommon {
  readonly kind: 'nlmon';
  /** ndo_open. Opening an open device does nothing (dev_open's IFF_UP check). */
  open(): void;
  /** ndo_stop. */
  stop(): void;
  /** unregister_netdevice: stop, and drop what is bound to the device. */
  unregister(): void;
}

export type NetLink = LoopbackLink | Netdev | NlmonLink;
export type LinkKind = NetLink['kind'];

/** rtnl_link_ops: what `ip link add ... type KIND` finds for KIND. */
export interface LinkKindOps {
  readonly kind: string;
  create(name: string, ifindex: number): NlmonLink;
}

/** The loopback device (drivers/net/loopback.c): ifindex 1, up from boot. */
export function loopbackLink(): LoopbackLink {
  return {
    kind: 'loopback',
    ifindex: 1,
    name: 'lo',
    arphrd: netdev.ARPHRD_LOOPBACK,
    mtu: netdev.LOOPBACK_MTU,
    txQueueLen: netdev.DEFAULT_TX_QUEUE_LEN,
    flags: netdev.IFF_LOOPBACK | netdev.IFF_UP | netdev.IFF_LOWER_UP,
    up: true,
    // No driver sets an operstate for lo.
    operstate: netdev.IF_OPER_UNKNOWN,
    // IFF_NO_QUEUE: attach_default_qdiscs gives it noqueue.
    qdisc: 'noqueue',
    stats: ZERO_LINK_STATS,
  };
}

/** dev_valid_name: 1..15 characters, not "." or "..", no '/', ':' or whitespace. */
export function validIfname(name: string): boolean {
  if (name.length === 0 || name.length > netdev.IFNAMSIZ_MAX_CHARS || name === '.' || name === '..')
    return false;
  return !/[/:\s]/.test(name);
}

/** The EINVAL register_netdevice and rtnl_newlink give for a name dev_valid_name refuses. */
export function checkIfname(name: string): void {
  if (!validIfname(name)) throw errnoError('EINVAL', `invalid interface name '${name}'`);
}
