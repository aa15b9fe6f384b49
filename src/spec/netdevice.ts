/**
 * Net device constants as the kernel's headers spell them: interface flags and operational states
 * (include/uapi/linux/if.h, RFC 2863), hardware types (include/uapi/linux/if_arp.h), Ethernet sizes
 * (include/uapi/linux/if_ether.h), the default queue length (include/net/pkt_sched.h) and the
 * loopback MTU (drivers/net/loopback.c). These are the values rtnetlink reports in ifinfomsg and
 * IFLA_* attributes and that `ip link` decodes.
 *
 * Written from the headers' names and values as remembered; test/nlmon and test/net compare the
 * decoded `ip link` text against iproute2 output written out by hand.
 * Left out: flags and states no modeled link uses (POINTOPOINT, RUNNING, PROMISC, DORMANT, ...).
 */

// --- if.h: enum net_device_flags (ifi_flags) ---

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_NOARP = 0x80;
export const IFF_MULTICAST = 0x1000;
/** Driver signals L1 up (carrier). */
export const IFF_LOWER_UP = 0x10000;

// --- if.h: IF_OPER_* (IFLA_OPERSTATE, RFC 2863 ifOperStatus) ---

export const IF_OPER_UNKNOWN = 0;
export const IF_OPER_DOWN = 2;
export const IF_OPER_UP = 6;

/** IFNAMSIZ - 1: the longest interface name (IFNAMSIZ = 16 counts the NUL). */
export const IFNAMSIZ_MAX_CHARS = 15;

// --- if_arp.h: ARPHRD_* (ifi_type) ---

export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
export const ARPHRD_NETLINK = 824;

// --- if_ether.h ---

/** Octets in one Ethernet address. */
export const ETH_ALEN = 6;
/** The MTU ether_setup gives a device. */
export const ETH_DATA_LEN = 1500;

/** include/net/pkt_sched.h: tx_queue_len that ether_setup and alloc_netdev_mqs give a device. */
export const DEFAULT_TX_QUEUE_LEN = 1000;

/** drivers/net/loopback.c LOOPBACK_MTU: 64 KiB. */
export const LOOPBACK_MTU = 65536;
