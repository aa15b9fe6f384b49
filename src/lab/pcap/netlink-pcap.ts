/**
 * Netlink captures as libpcap writes them from an nlmon device: LINKTYPE_NETLINK (253) records, each the
 * 16-byte cooked header followed by the netlink message bytes exactly as they crossed the bus.
 *
 * The cooked header is struct sll_header (libpcap pcap/sll.h), every 16-bit field big-endian
 * (tcpdump.org LINKTYPE_NETLINK and LINKTYPE_LINUX_SLL pages; libpcap fills it with htons() from the
 * packet socket's sockaddr_ll):
 *   0  packet type     sll_pkttype: PACKET_OUTGOING (4) for every message, because the packet socket
 *                      sees nlmon's transmit through dev_queue_xmit_nit, which sets it on its clone
 *   2  ARPHRD_ type    ARPHRD_NETLINK (824)
 *   4  address length  dev->addr_len: 0 for nlmon
 *   6  address         8 bytes, zero
 *  14  protocol        skb->protocol = htons(sk_protocol): the netlink protocol (NETLINK_GENERIC 16)
 * tcpdump.org documents bytes 0-1 and 4-13 as "unused"; Wireshark's netlink dissector reads only the
 * ARPHRD_ type and the protocol. The message direction is not in the record (Linux loses it too):
 * readers infer it from nlmsg_pid, as Wireshark does.
 *
 * The writer emits the file header at once and then one record per message, each through `out`, so the
 * file is complete up to the last message at any time (as tcpdump -U writes).
 */
import {
  bytesField,
  decodeStruct,
  defineStruct,
  encodeStruct,
  isLabError,
  type LabError,
  type StructValue,
} from '../../base/index.js';
import { type NetlinkBus, NlmonDevice, type NlmonPacket } from '../../kernel/netlink/index.js';
import { netdev } from '../../spec/index.js';
import { LINKTYPE_NETLINK, PCAP_DEFAULT_SNAPLEN, pcapFileHeader, pcapRecord } from './pcap-format.js';

/** sll_header; the struct codec is little-endian only, so each big-endian u16 is a 2-byte field. */
export const NETLINK_COOKED_HEADER = defineStruct('sll_header', 16, [
  bytesField('pktType', 0, 2),
  bytesField('hatype', 2, 2),
  bytesField('halen', 4, 2),
  bytesField('addr', 6, 8),
  bytesField('protocol', 14, 2),
] as const);
type CookedRaw = StructValue<typeof NETLINK_COOKED_HEADER>;

/** The cooked header's fields as numbers. */
export interface NetlinkCookedHeader {
  readonly pktType: number;
  readonly hatype: number;
  readonly halen: number;
  readonly protocol: number;
}

function be16(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}
function fromBe16(b: Uint8Array): number {
  return (b[0]! << 8) | b[1]!;
}

export function encodeCookedHeader(h: NetlinkCookedHeader): Uint8Array {
  const raw: CookedRaw = {
    pktType: be16(h.pktType),
    hatype: be16(h.hatype),
    halen: be16(h.halen),
    addr: new Uint8Array(8),
    protocol: be16(h.protocol),
  };
  return encodeStruct(NETLINK_COOKED_HEADER, raw);
}

export function decodeCookedHeader(bytes: Uint8Array): NetlinkCookedHeader {
  const raw = decodeStruct(NETLINK_COOKED_HEADER, bytes);
  return {
    pktType: fromBe16(raw.pktType),
    hatype: fromBe16(raw.hatype),
    halen: fromBe16(raw.halen),
    protocol: fromBe16(raw.protocol),
  };
}

/** The captured packet for one message: cooked header + message bytes. */
export function nlmonCapturePacket(p: NlmonPacket): Uint8Array {
  const header = encodeCookedHeader({
    pktType: p.pktType,
    hatype: netdev.ARPHRD_NETLINK,
    halen: 0,
    protocol: p.protocol,
  });
  const out = new Uint8Array(header.length + p.bytes.length);
  out.set(header, 0);
  out.set(p.bytes, header.length);
  return out;
}

/** Writes a LINKTYPE_NETLINK capture through `out`, one call per piece of the file. */
export class NetlinkPcapWriter {
  readonly #out: (bytes: Uint8Array) => void;
  readonly #snaplen: number;
  #packets = 0;

  constructor(out: (bytes: Uint8Array) => void, snaplen = PCAP_DEFAULT_SNAPLEN) {
    this.#out = out;
    this.#snaplen = snaplen;
    out(pcapFileHeader(LINKTYPE_NETLINK, snaplen));
  }

  get packets(): number {
    return this.#packets;
  }

  write(p: NlmonPacket): void {
    this.#out(pcapRecord(p.timeNs, nlmonCapturePacket(p), this.#snaplen));
    this.#packets += 1;
  }
}

/** Where capture bytes go: a file that is created (truncated) by the first write and appended to after. */
export interface CaptureFiles {
  writeFile(path: string, data: Uint8Array): void;
  appendFile(path: string, data: Uint8Array): void;
}

export function fileSink(files: CaptureFiles, path: string): (bytes: Uint8Array) => void {
  let created = false;
  return (bytes) => {
    if (created) {
      files.appendFile(path, bytes);
    } else {
      files.writeFile(path, bytes);
      created = true;
    }
  };
}

/** A capture of every message on a bus, as if through an nlmon device that is up for its lifetime. */
export interface BusCapture {
  readonly writer: NetlinkPcapWriter;
  stop(): void;
}

/**
 * `vfiolab shell --netlink-pcap FILE`: record everything on `bus` to FILE until stop(). Creating the
 * file fails with the platform's error; a later write that fails ends the capture and is handed to
 * `onError` once, so that the kernel's sends never fail because of the capture.
 * SPEC-DEVIATION: the monitor device it uses is not in the kernel's net device list (`ip link` does
 * not show it, and it takes no ifindex), so a recording leaves the host's links as they were.
 */
export function captureBusToFile(
  bus: NetlinkBus,
  files: CaptureFiles,
  path: string,
  onError: (e: LabError) => void,
): BusCapture {
  const writer = new NetlinkPcapWriter(fileSink(files, path));
  const monitor = new NlmonDevice(bus, 'nlmon', 0);
  monitor.open();
  monitor.bindPacketSocket((p) => {
    try {
      writer.write(p);
    } catch (e) {
      if (!isLabError(e)) throw e;
      monitor.unregister();
      onError(e);
    }
  });
  return { writer, stop: () => monitor.unregister() };
}
