/**
 * The pcap writer against bytes written by hand from pcap-savefile(5) and the LINKTYPE_NETLINK page of
 * tcpdump.org: the file header, one record with its cooked header, and a netlink message; then the
 * reader on those bytes, on the other byte order and microsecond magic, and on hostile input.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import { NetlinkBus, NlmonDevice } from '../../src/kernel/netlink/index.js';
import {
  decodeCookedHeader,
  NetlinkPcapWriter,
  nlmonCapturePacket,
  parsePcap,
  pcapRecord,
} from '../../src/lab/pcap/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/), (b) => Number.parseInt(b, 16));

/** Nanosecond magic, v2.4, thiszone 0, sigfigs 0, snaplen 262144, linktype 253 — all little-endian. */
const FILE_HEADER = hex(`
  4d 3c b2 a1  02 00 04 00  00 00 00 00  00 00 00 00  00 00 04 00  fd 00 00 00`);

/** A CTRL_CMD_GETFAMILY dump request: nlmsghdr (len 20, type 0x10, flags REQUEST|DUMP, seq 5, pid 0) + genlmsghdr. */
const MESSAGE = hex(`14 00 00 00  10 00  01 03  05 00 00 00  00 00 00 00  03 01 00 00`);

/** 1.500000123 s: ts_sec 1, ts_nsec 500000123 (0x1dcd657b); 36 bytes captured of 36. */
const RECORD = hex(`
  01 00 00 00  7b 65 cd 1d  24 00 00 00  24 00 00 00
  00 04  03 38  00 00  00 00 00 00 00 00 00 00  00 10
  14 00 00 00  10 00  01 03  05 00 00 00  00 00 00 00  03 01 00 00`);

const packet = {
  bytes: MESSAGE,
  protocol: 16,
  pktType: 4,
  direction: 'to-kernel',
  timeNs: 1_500_000_123,
} as const;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('pcap bytes', () => {
  it('writes the file header, then one record per message', () => {
    const pieces: Uint8Array[] = [];
    const w = new NetlinkPcapWriter((b) => pieces.push(b));
    expect(pieces).toEqual([FILE_HEADER]);
    w.write(packet);
    expect(pieces.length).toBe(2);
    expect([...pieces[1]!]).toEqual([...RECORD]);
    expect(w.packets).toBe(1);
  });

  it('builds the cooked header: PACKET_OUTGOING, ARPHRD_NETLINK, no address, protocol, big-endian', () => {
    const p = nlmonCapturePacket(packet);
    expect([...p.subarray(0, 16)]).toEqual([...RECORD.subarray(16, 32)]);
    expect(decodeCookedHeader(p)).toEqual({ pktType: 4, hatype: 824, halen: 0, protocol: 16 });
  });

  it('rounds fractional modeled nanoseconds and refuses negative times', () => {
    expect([...pcapRecord(1_500_000_122.6, MESSAGE).subarray(0, 8)]).toEqual([...RECORD.subarray(0, 8)]);
    const e = thrown(() => pcapRecord(-1, MESSAGE));
    expect(isLabError(e) && e.code === 'bad-input').toBe(true);
  });

  it('an nlmon device writes the same bytes for the same traffic (deterministic)', () => {
    const capture = (): Uint8Array => {
      const bus = new NetlinkBus({ nowNs: () => 1_500_000_123 });
      const dev = new NlmonDevice(bus, 'nlmon0', 2);
      dev.open();
      const pieces: Uint8Array[] = [];
      const w = new NetlinkPcapWriter((b) => pieces.push(b));
      dev.bindPacketSocket((p) => w.write(p));
      bus.openSocket().send(MESSAGE);
      return concat(pieces);
    };
    const a = capture();
    expect(a.subarray(0, 24 + RECORD.length)).toEqual(concat([FILE_HEADER, RECORD]));
    expect(capture()).toEqual(a);
  });

  it('reads back what it wrote', () => {
    const f = parsePcap(concat([FILE_HEADER, RECORD]));
    expect(f).toMatchObject({ linktype: 253, snaplen: 262144, nanosecond: true });
    expect(f.packets).toEqual([{ timeNs: 1_500_000_123, origLen: 36, data: RECORD.subarray(16) }]);
  });

  it('reads the big-endian, microsecond form', () => {
    const header = hex(`a1 b2 c3 d4  00 02 00 04  00 00 00 00  00 00 00 00  00 04 00 00  00 00 00 fd`);
    const rec = hex(`00 00 00 02  00 00 00 07  00 00 00 01  00 00 00 01  ff`);
    const f = parsePcap(concat([header, rec]));
    expect(f).toMatchObject({ linktype: 253, nanosecond: false });
    expect(f.packets).toEqual([{ timeNs: 2_000_007_000, origLen: 1, data: Uint8Array.of(0xff) }]);
  });

  it('hostile input is a typed bad-input error, worded as libpcap words it', () => {
    const cases: [Uint8Array, string][] = [
      [FILE_HEADER.subarray(0, 10), 'truncated dump file; tried to read 24 file header bytes, only got 10'],
      [concat([hex('de ad be ef'), FILE_HEADER.subarray(4)]), 'bad dump file format'],
      [concat([FILE_HEADER, RECORD.subarray(0, 9)]), 'tried to read 16 header bytes, only got 9'],
      [concat([FILE_HEADER, RECORD.subarray(0, 30)]), 'tried to read 36 captured bytes, only got 14'],
    ];
    for (const [bytes, message] of cases) {
      const e = thrown(() => parsePcap(bytes));
      expect(isLabError(e) && e.code === 'bad-input').toBe(true);
      expect((e as Error).message).toContain(message);
    }
  });
});
