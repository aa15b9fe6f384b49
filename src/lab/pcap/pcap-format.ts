/**
 * The classic libpcap file format (pcap-savefile(5); draft-ietf-opsawg-pcap §4, §5): a 24-byte file
 * header then records, each a 16-byte record header and the packet bytes. Written in little-endian byte
 * order with the nanosecond-resolution magic 0xa1b23c4d, so a reader sees the modeled clock's
 * nanoseconds exactly and two runs give identical files.
 *
 * SPEC-DEVIATION: tcpdump -w writes microsecond files (magic 0xa1b2c3d4) unless given
 * --time-stamp-precision=nano; modeled operations are often less than a microsecond apart, so the
 * nanosecond form is the faithful one here. Readers (tshark, tcpdump -r) take both.
 *
 * Reading accepts both magics in both byte orders. Left out: pcapng and the FCS bits of the link type
 * field.
 */
import {
  badInput,
  decodeStruct,
  defineStruct,
  encodeStruct,
  le16Field,
  le32Field,
  type StructValue,
} from '../../base/index.js';

/** pcap-savefile(5) magic numbers as read in the writer's byte order. */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** tcpdump's default snapshot length (MAXIMUM_SNAPLEN, netdissect.h). */
export const PCAP_DEFAULT_SNAPLEN = 262144;
/** LINKTYPE_NETLINK (tcpdump.org linktypes.html): a Linux cooked-style header, then netlink messages. */
export const LINKTYPE_NETLINK = 253;

const NS_PER_S = 1_000_000_000;
const NS_PER_US = 1000;

/** struct pcap_file_header. */
export const PCAP_FILE_HEADER = defineStruct('pcap_file_header', 24, [
  le32Field('magic', 0),
  le16Field('versionMajor', 4),
  le16Field('versionMinor', 6),
  le32Field('thiszone', 8),
  le32Field('sigfigs', 12),
  le32Field('snaplen', 16),
  le32Field('linktype', 20),
] as const);
export type PcapFileHeader = StructValue<typeof PCAP_FILE_HEADER>;

/** struct pcap_sf_pkthdr: timestamp seconds, sub-second part (ns or µs by magic), lengths. */
export const PCAP_RECORD_HEADER = defineStruct('pcap_sf_pkthdr', 16, [
  le32Field('tsSec', 0),
  le32Field('tsFrac', 4),
  le32Field('inclLen', 8),
  le32Field('origLen', 12),
] as const);
export type PcapRecordHeader = StructValue<typeof PCAP_RECORD_HEADER>;

/** The file header of a nanosecond capture of `linktype`. */
export function pcapFileHeader(linktype: number, snaplen = PCAP_DEFAULT_SNAPLEN): Uint8Array {
  return encodeStruct(PCAP_FILE_HEADER, {
    magic: PCAP_MAGIC_NSEC,
    versionMajor: PCAP_VERSION_MAJOR,
    versionMinor: PCAP_VERSION_MINOR,
    thiszone: 0,
    sigfigs: 0,
    snaplen,
    linktype,
  });
}

/**
 * One record: header (time from nanoseconds since the epoch, rounded) and the packet, cut to
 * `snaplen` bytes as a capture with that snapshot length stores it (orig_len keeps the full length).
 */
export function pcapRecord(timeNs: number, packet: Uint8Array, snaplen = PCAP_DEFAULT_SNAPLEN): Uint8Array {
  // The modeled clock may carry fractions of a nanosecond; the file keeps whole nanoseconds.
  const ns = Math.round(timeNs);
  if (!Number.isSafeInteger(ns) || ns < 0) throw badInput(`pcap: bad timestamp ${timeNs} ns`);
  const header = encodeStruct(PCAP_RECORD_HEADER, {
    tsSec: Math.floor(ns / NS_PER_S),
    tsFrac: ns % NS_PER_S,
    inclLen: Math.min(packet.length, snaplen),
    origLen: packet.length,
  });
  const stored = packet.subarray(0, Math.min(packet.length, snaplen));
  const out = new Uint8Array(header.length + stored.length);
  out.set(header, 0);
  out.set(stored, header.length);
  return out;
}

/** One record as read back. */
export interface PcapPacket {
  readonly timeNs: number;
  readonly origLen: number;
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly linktype: number;
  readonly snaplen: number;
  readonly nanosecond: boolean;
  readonly packets: readonly PcapPacket[];
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * Parse a whole classic pcap file. Bad input (not a pcap file, a truncated record) is a
 * LabError('bad-input') worded as libpcap words it.
 */
export function parsePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < PCAP_FILE_HEADER.sizeBytes)
    throw badInput(
      `truncated dump file; tried to read ${PCAP_FILE_HEADER.sizeBytes} file header bytes, only got ${bytes.length}`,
    );
  const raw = decodeStruct(PCAP_FILE_HEADER, bytes);
  let swapped = false;
  let nanosecond: boolean;
  if (raw.magic === PCAP_MAGIC_USEC || raw.magic === PCAP_MAGIC_NSEC) {
    nanosecond = raw.magic === PCAP_MAGIC_NSEC;
  } else if (swap32(raw.magic) === PCAP_MAGIC_USEC || swap32(raw.magic) === PCAP_MAGIC_NSEC) {
    swapped = true;
    nanosecond = swap32(raw.magic) === PCAP_MAGIC_NSEC;
  } else {
    throw badInput('bad dump file format');
  }
  const u32 = (v: number): number => (swapped ? swap32(v) : v);
  const packets: PcapPacket[] = [];
  let at = PCAP_FILE_HEADER.sizeBytes;
  while (at < bytes.length) {
    if (bytes.length - at < PCAP_RECORD_HEADER.sizeBytes)
      throw badInput(
        `truncated dump file; tried to read ${PCAP_RECORD_HEADER.sizeBytes} header bytes, only got ${bytes.length - at}`,
      );
    const h = decodeStruct(PCAP_RECORD_HEADER, bytes.subarray(at));
    const incl = u32(h.inclLen);
    at += PCAP_RECORD_HEADER.sizeBytes;
    if (bytes.length - at < incl)
      throw badInput(
        `truncated dump file; tried to read ${incl} captured bytes, only got ${bytes.length - at}`,
      );
    const frac = u32(h.tsFrac);
    packets.push({
      timeNs: u32(h.tsSec) * NS_PER_S + (nanosecond ? frac : frac * NS_PER_US),
      origLen: u32(h.origLen),
      data: bytes.slice(at, at + incl),
    });
    at += incl;
  }
  return { linktype: u32(raw.linktype), snaplen: u32(raw.snaplen), nanosecond, packets };
}
