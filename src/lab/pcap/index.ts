/** pcap files: the classic libpcap format, and netlink captures from nlmon devices in it. */
export * from './netlink-pcap.js';
export * from './pcap-format.js';
