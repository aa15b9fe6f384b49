/**
 * A netdev a driver registers (alloc_etherdev + register_netdev): Ethernet type, MTU 1500, queue
 * length 1000, IFF_BROADCAST | IFF_MULTICAST (ether_setup), the parent device, the MAC, and the
 * driver's statistics for `ethtool -S`. It is registered down (qdisc noop, operstate DOWN); dev_open
 * sets IFF_UP and, carrier being on, IFF_LOWER_UP with operstate UP.
 *
 * Names follow udev's predictable scheme (what users see on a modern distribution):
 * "enp<bus>s<slot>f<fn>" for a PCI function, plus "s<sfnum>" for a subfunction (facts/kernel.md 7.3's
 * enp6s0f0s88).
 *
 * SPEC-DEVIATION: dev_open attaches pfifo_fast (the kernel's default_qdisc for a single-queue device)
 * since drivers here declare no TX queues; a multiqueue driver such as mlx5e would show "mq".
 * Left out: ndo_open/ndo_stop into the driver (no datapath), ndo_get_stats64 (`ip -s` is not modeled),
 * link loss (NO-CARRIER), MTU and address changes.
 */
import { netdev } from '../../spec/index.js';
import type { Device } from '../driver-core/device.js';
import { type LinkStats, type Netdev, type OperState, ZERO_LINK_STATS } from './link.js';

/** What a driver hands register_netdev. */
export interface NetdevRegistration {
  readonly name: string;
  readonly parent: Device;
  readonly mac: Uint8Array;
  ethtoolStats(): readonly (readonly [string, bigint])[];
}

const ETHER_BROADCAST = new Uint8Array(netdev.ETH_ALEN).fill(0xff);

/** One registered Ethernet netdev. */
export class EtherNetdev implements Netdev {
  readonly kind = 'ether';
  readonly ifindex: number;
  readonly name: string;
  readonly parent: Device;
  readonly mac: Uint8Array;
  readonly broadcast = ETHER_BROADCAST;
  readonly arphrd = netdev.ARPHRD_ETHER;
  readonly mtu = netdev.ETH_DATA_LEN;
  readonly txQueueLen = netdev.DEFAULT_TX_QUEUE_LEN;
  readonly stats: LinkStats = ZERO_LINK_STATS;
  readonly #ethtoolStats: () => readonly (readonly [string, bigint])[];
  #up = false;

  constructor(r: NetdevRegistration, ifindex: number) {
    this.ifindex = ifindex;
    this.name = r.name;
    this.parent = r.parent;
    this.mac = r.mac;
    this.#ethtoolStats = r.ethtoolStats;
  }

  get up(): boolean {
    return this.#up;
  }

  get flags(): number {
    return netdev.IFF_BROADCAST | netdev.IFF_MULTICAST | (this.#up ? netdev.IFF_UP | netdev.IFF_LOWER_UP : 0);
  }

  get operstate(): OperState {
    return this.#up ? netdev.IF_OPER_UP : netdev.IF_OPER_DOWN;
  }

  get qdisc(): string {
    return this.#up ? 'pfifo_fast' : 'noop';
  }

  ethtoolStats(): readonly (readonly [string, bigint])[] {
    return this.#ethtoolStats();
  }

  /** dev_open. */
  open(): void {
    this.#up = true;
  }

  /** dev_close. */
  stop(): void {
    this.#up = false;
  }
}

/** udev's path name of a PCI function: "enp<bus>s<slot>f<fn>" (bus and slot in decimal). */
export function pciNetdevName(bus: number, devfn: number): string {
  return `enp${bus}s${devfn >> 3}f${devfn & 7}`;
}
