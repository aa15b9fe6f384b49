/**
 * `vfiolab shell --netlink-pcap FILE` through the CLI entry on an in-memory platform: the file holds
 * every netlink message of the session, the same records a `tcpdump -w` inside the session wrote for
 * its part, and two runs give identical bytes.
 */
import { describe, expect, it } from 'vitest';
import { badInput } from '../../src/base/index.js';
import { runCli } from '../../src/lab/cli/main.js';
import type { Platform } from '../../src/lab/index.js';
import { parsePcap } from '../../src/lab/pcap/index.js';

function platform(stdin: string[], canAppend = true, appendFails = false) {
  const files = new Map<string, Uint8Array>();
  let out = '';
  let err = '';
  const toBytes = (d: string | Uint8Array) =>
    typeof d === 'string' ? new TextEncoder().encode(d) : d.slice();
  const p: Platform = {
    readFile: (path) => {
      throw badInput(`${path}: No such file or directory`);
    },
    writeFile: (path, data) => {
      if (path.startsWith('/nope/')) throw badInput(`${path}: No such file or directory`);
      files.set(path, toBytes(data));
    },
    ...(canAppend
      ? {
          appendFile: (path: string, data: Uint8Array) => {
            if (appendFails) throw badInput(`${path}: No space left on device`);
            const old = files.get(path) ?? new Uint8Array();
            const next = new Uint8Array(old.length + data.length);
            next.set(old, 0);
            next.set(data, old.length);
            files.set(path, next);
          },
        }
      : {}),
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    wallNowNs: () => 0,
    stdinIsTty: false,
    async *readLines() {
      for (const l of stdin) yield l;
    },
    machine: () => ({ cpu: 'test', cores: 1, memoryBytes: 1, node: 'v20', os: 'test' }),
  };
  return { p, files, out: () => out, err: () => err };
}

const SCRIPT = [
  'fn caps',
  'ip link add nlmon0 type nlmon',
  'ip link set nlmon0 up',
  'tcpdump -i nlmon0 -w inner.pcap &',
  'fn show',
  'fn caps',
  'kill %1',
];

describe('vfiolab shell --netlink-pcap', () => {
  it('records the whole session; tcpdump inside it records the same bytes for its part', async () => {
    const t = platform(SCRIPT);
    expect(await runCli(['shell', '--netlink-pcap', 'all.pcap'], t.p)).toBe(0);
    expect(t.err()).toContain('tcpdump: listening on nlmon0, link-type NETLINK (Linux netlink)');
    const all = parsePcap(t.files.get('all.pcap')!);
    const inner = parsePcap(t.files.get('inner.pcap')!);
    expect(all.linktype).toBe(253);
    expect(inner.packets.length).toBeGreaterThan(0);
    expect(all.packets.length).toBeGreaterThan(inner.packets.length);
    expect(all.packets.slice(-inner.packets.length)).toEqual(inner.packets);
    // Every record: cooked header (PACKET_OUTGOING, ARPHRD_NETLINK, NETLINK_GENERIC) and a whole message.
    for (const p of all.packets) {
      expect([...p.data.subarray(0, 4)]).toEqual([0x00, 0x04, 0x03, 0x38]);
      expect([...p.data.subarray(14, 16)]).toEqual([0x00, 0x10]);
      expect(new DataView(p.data.buffer, p.data.byteOffset + 16).getUint32(0, true)).toBe(p.data.length - 16);
    }
  });

  it('is deterministic: the same session gives the same file', async () => {
    const a = platform(SCRIPT);
    const b = platform(SCRIPT);
    await runCli(['shell', '--netlink-pcap', 'x.pcap'], a.p);
    await runCli(['shell', '--netlink-pcap', 'x.pcap'], b.p);
    expect(a.files.get('x.pcap')).toEqual(b.files.get('x.pcap'));
  });

  it('writes the file header even when nothing crosses, and stops at exit N', async () => {
    const t = platform(['exit 3', 'fn caps']);
    expect(await runCli(['shell', '--netlink-pcap', 'empty.pcap'], t.p)).toBe(3);
    expect(parsePcap(t.files.get('empty.pcap')!).packets).toEqual([]);
  });

  it('a platform that cannot append is a clear error, status 2', async () => {
    const t = platform(['fn caps'], false);
    expect(await runCli(['shell', '--netlink-pcap', 'n.pcap'], t.p)).toBe(2);
    expect(t.err()).toBe('vfiolab: --netlink-pcap n.pcap: this platform cannot write files\n');
  });

  it('a file that cannot be created stops the command; one that fills up stops only the capture', async () => {
    const a = platform(['fn caps']);
    expect(await runCli(['shell', '--netlink-pcap', '/nope/x.pcap'], a.p)).toBe(2);
    expect(a.err()).toBe('vfiolab: /nope/x.pcap: No such file or directory\n');
    const b = platform(['fn caps', 'fn caps'], true, true);
    expect(await runCli(['shell', '--netlink-pcap', 'full.pcap'], b.p)).toBe(0);
    expect(b.err()).toBe('vfiolab: --netlink-pcap: full.pcap: No space left on device; capture stopped\n');
    // The tool's output is what it is without a capture.
    const c = platform(['fn caps', 'fn caps']);
    await runCli(['shell'], c.p);
    expect(c.out()).not.toBe('');
    expect(b.out()).toBe(c.out());
  });
});
