/**
 * nlmon from the host shell: `ip link` output and iproute2's errors, the tap while the link is up and
 * its statistics, `tcpdump -w` to an in-memory file (-c, kill, the messages tcpdump prints, its errors).
 * Expected texts are written out by hand from iproute2 6.1 and tcpdump 4.99 / libpcap 1.10.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import { NetDevices } from '../../src/kernel/net/index.js';
import {
  CTRL_POLICY,
  GenlClient,
  NetlinkBus,
  NlmonDevice,
  nlmonLinkKind,
} from '../../src/kernel/netlink/index.js';
import { createHostShell } from '../../src/lab/commands/index.js';
import { Lab } from '../../src/lab/index.js';
import { parsePcap } from '../../src/lab/pcap/index.js';
import { netdev } from '../../src/spec/index.js';

/** A net device list with nlmon's link kind on `bus`, as the kernel builds it at boot. */
function netDevices(bus: NetlinkBus): NetDevices {
  const links = new NetDevices();
  links.registerLinkKind(nlmonLinkKind(bus));
  return links;
}

function setup(withFiles = true) {
  const host = Lab.default().host('host0');
  const files = new Map<string, Uint8Array>();
  const join = (a: Uint8Array | undefined, b: Uint8Array) => {
    const out = new Uint8Array((a?.length ?? 0) + b.length);
    if (a !== undefined) out.set(a, 0);
    out.set(b, a?.length ?? 0);
    return out;
  };
  const shell = createHostShell(host, {
    readFile: () => '',
    wallNowNs: () => 0,
    ...(withFiles
      ? {
          writeFile: (p: string, d: Uint8Array) => void files.set(p, d.slice()),
          appendFile: (p: string, d: Uint8Array) => void files.set(p, join(files.get(p), d)),
        }
      : {}),
  });
  const run = (line: string) => shell.execute(line);
  /** One controller lookup: request, reply, ack — three messages. */
  const lookup = () => GenlClient.open(host.kernel.netlink, 'nlctrl', CTRL_POLICY).close();
  return { host, files, run, lookup };
}

const LO =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
  '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
/**
 * The default host's driver netdevs, registered down at boot: virtio_net's on the virtio PF
 * (ifindex 2), then mnic_en's on the NIC PF (ifindex 3).
 */
const ENP =
  '2: enp1s0f0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n' +
  '    link/ether 02:a5:00:00:00:00 brd ff:ff:ff:ff:ff:ff\n' +
  '3: enp16s0f0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n' +
  '    link/ether 02:15:4d:00:00:00 brd ff:ff:ff:ff:ff:ff\n';
const NLMON_DOWN =
  '4: nlmon0: <NOARP> mtu 3776 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n' +
  '    link/netlink \n';
const NLMON_UP =
  '4: nlmon0: <NOARP,UP,LOWER_UP> mtu 3776 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
  '    link/netlink \n';

describe('ip link', () => {
  it('adds, shows, brings up and down, and deletes an nlmon link', () => {
    const { run } = setup();
    expect(run('ip link show')).toEqual({ stdout: LO + ENP, stderr: '', status: 0 });
    expect(run('ip link add nlmon0 type nlmon').status).toBe(0);
    expect(run('ip link').stdout).toBe(LO + ENP + NLMON_DOWN);
    expect(run('ip link set nlmon0 up').status).toBe(0);
    expect(run('ip l sh dev nlmon0').stdout).toBe(NLMON_UP);
    expect(run('ip link set dev nlmon0 down').status).toBe(0);
    expect(run('ip link show nlmon0').stdout).toBe(NLMON_DOWN);
    expect(run('ip link del nlmon0').status).toBe(0);
    expect(run('ip link show').stdout).toBe(LO + ENP);
    // ifindexes are not reused; without a name the kernel picks nlmon%d.
    expect(run('ip link add type nlmon').status).toBe(0);
    expect(run('ip link show nlmon0').stdout).toMatch(/^5: nlmon0: /);
  });

  it('answers as iproute2 does to bad requests', () => {
    const { run } = setup();
    run('ip link add nlmon0 type nlmon');
    const cases: [string, string, number][] = [
      ['ip link add nlmon0 type nlmon', 'RTNETLINK answers: File exists\n', 2],
      ['ip link add veth0 type veth', 'Error: Unknown device type.\n', 2],
      ['ip link add foo', 'RTNETLINK answers: Operation not supported\n', 2],
      [
        'ip link add averyveryverylongname type nlmon',
        'Error: argument "averyveryverylongname" is wrong: "name" not a valid ifname\n',
        255,
      ],
      ['ip link set nlmon9 up', 'Cannot find device "nlmon9"\n', 1],
      ['ip link del nlmon9', 'Cannot find device "nlmon9"\n', 1],
      ['ip link del lo', 'RTNETLINK answers: Operation not supported\n', 2],
      ['ip link show nlmon9', 'Device "nlmon9" does not exist.\n', 1],
      ['ip route', 'Object "route" is unknown, try "ip help".\n', 1],
      ['ip link frob', 'Command "frob" is unknown, try "ip link help".\n', 255],
    ];
    for (const [line, stderr, status] of cases)
      expect(run(line), line).toEqual({ stdout: '', stderr, status });
  });
});

describe('nlmon', () => {
  it('taps the bus only while up, counts every message as RX, and refuses packet sockets when down', () => {
    const bus = new NetlinkBus({ nowNs: () => 0 });
    const links = netDevices(bus);
    const dev = links.newLink('nlmon', 'nlmon0');
    if (!(dev instanceof NlmonDevice)) throw new Error('nlmon link expected');
    const lookup = () => GenlClient.open(bus, 'nlctrl', CTRL_POLICY).close();
    lookup();
    expect(dev.stats).toEqual({ rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 });
    const e = (() => {
      try {
        dev.bindPacketSocket(() => undefined);
      } catch (err) {
        return err;
      }
    })();
    expect(isLabError(e) && e.code === 'invalid-state').toBe(true);
    links.setUp('nlmon0', true);
    const seen: string[] = [];
    dev.bindPacketSocket((p) => seen.push(`${p.direction}:${p.pktType}:${p.protocol}:${p.bytes.length}`));
    lookup();
    expect(seen).toEqual(['to-kernel:4:16:32', 'from-kernel:4:16:116', 'from-kernel:4:16:36']);
    expect(dev.stats).toEqual({ rxPackets: 3, rxBytes: 184, txPackets: 0, txBytes: 0 });
    links.setUp('nlmon0', false);
    lookup();
    expect(dev.stats.rxPackets).toBe(3);
    expect(dev.flags).toBe(netdev.IFF_NOARP);
  });

  it('names: EEXIST, EINVAL for names dev_valid_name refuses, nlmon%d when none is given', () => {
    const links = netDevices(new NetlinkBus({ nowNs: () => 0 }));
    links.newLink('nlmon');
    expect(links.newLink('nlmon').name).toBe('nlmon1');
    for (const [name, errno] of [
      ['nlmon0', 'EEXIST'],
      ['lo', 'EEXIST'],
      ['a/b', 'EINVAL'],
      ['..', 'EINVAL'],
      ['x'.repeat(16), 'EINVAL'],
    ] as const) {
      expect(() => links.newLink('nlmon', name), name).toThrow(expect.objectContaining({ errno }));
    }
    expect(() => links.setUp('nope', true)).toThrow(expect.objectContaining({ errno: 'ENODEV' }));
    expect(() => links.delete('lo')).toThrow(expect.objectContaining({ errno: 'EOPNOTSUPP' }));
  });
});

describe('tcpdump', () => {
  it('captures every message while running, and kill prints the statistics', () => {
    const { files, run, lookup } = setup();
    run('ip link add nlmon0 type nlmon');
    run('ip link set nlmon0 up');
    const start = run('tcpdump -i nlmon0 -w /tmp/a.pcap &');
    expect(start).toEqual({
      stdout: '',
      stderr:
        'tcpdump: listening on nlmon0, link-type NETLINK (Linux netlink), snapshot length 262144 bytes\n',
      status: 0,
    });
    expect(files.get('/tmp/a.pcap')?.length).toBe(24);
    lookup();
    lookup();
    expect(run('kill %1')).toEqual({
      stdout: '',
      stderr: '6 packets captured\n6 packets received by filter\n0 packets dropped by kernel\n',
      status: 0,
    });
    lookup();
    const f = parsePcap(files.get('/tmp/a.pcap')!);
    expect(f.linktype).toBe(253);
    expect(f.packets.map((p) => p.data.length)).toEqual([48, 132, 52, 48, 132, 52]);
    expect(run('kill %1')).toEqual({ stdout: '', stderr: 'vfiolab: kill: %1: no such job\n', status: 1 });
  });

  it('-c N stops after N messages; the statistics come with the next command', () => {
    const { files, run, lookup } = setup();
    run('ip link add nlmon0 type nlmon');
    run('ip link set nlmon0 up');
    run('tcpdump -i nlmon0 -c 2 -w c.pcap');
    lookup();
    lookup();
    expect(parsePcap(files.get('c.pcap')!).packets.length).toBe(2);
    expect(run('kill 4000')).toEqual({
      stdout: '',
      stderr:
        '2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n' +
        'vfiolab: kill: (4000) - No such process\n',
      status: 1,
    });
  });

  it('records nothing while the link is down, and resumes when it is up again', () => {
    const { files, run, lookup } = setup();
    run('ip link add nlmon0 type nlmon');
    run('ip link set nlmon0 up');
    run('tcpdump -i nlmon0 -w d.pcap');
    run('ip link set nlmon0 down');
    lookup();
    run('ip link set nlmon0 up');
    lookup();
    expect(parsePcap(files.get('d.pcap')!).packets.length).toBe(3);
    expect(run('kill -INT 4000').stderr).toBe(
      '3 packets captured\n3 packets received by filter\n0 packets dropped by kernel\n',
    );
  });

  it('-s N stores the first N bytes of each record and keeps the original length', () => {
    const { files, run, lookup } = setup();
    run('ip link add nlmon0 type nlmon');
    run('ip link set nlmon0 up');
    expect(run('tcpdump -i nlmon0 -s 40 -w s.pcap').stderr).toContain('snapshot length 40 bytes');
    lookup();
    const f = parsePcap(files.get('s.pcap')!);
    expect(f.snaplen).toBe(40);
    expect(f.packets.map((p) => [p.data.length, p.origLen])).toEqual([
      [40, 48],
      [40, 132],
      [40, 52],
    ]);
  });

  it('gives tcpdump’s errors', () => {
    const { run } = setup();
    run('ip link add nlmon0 type nlmon');
    const cases: [string, string][] = [
      ['tcpdump -i nlmon7 -w x.pcap', 'tcpdump: nlmon7: No such device exists\n(No such device exists)\n'],
      ['tcpdump -i nlmon0 -w x.pcap', 'tcpdump: nlmon0: That device is not up\n'],
      ['tcpdump -i nlmon0 -w', "tcpdump: option requires an argument -- 'w'\n"],
      ['tcpdump -i nlmon0 -c 0 -w x.pcap', 'tcpdump: invalid packet count 0\n'],
      ['tcpdump -Z', "tcpdump: invalid option -- 'Z'\n"],
    ];
    for (const [line, stderr] of cases) expect(run(line), line).toEqual({ stdout: '', stderr, status: 1 });
    run('ip link set nlmon0 up');
    expect(run('tcpdump -i nlmon0').stderr).toBe(
      'tcpdump: packet printing is not supported for link type NETLINK: use -w\n',
    );
    expect(run('tcpdump -i lo -w x.pcap').status).toBe(1);
  });

  it('without a way to write files, -w fails and the shell keeps running', () => {
    const { run } = setup(false);
    run('ip link add nlmon0 type nlmon');
    run('ip link set nlmon0 up');
    expect(run('tcpdump -i nlmon0 -w x.pcap')).toEqual({
      stdout: '',
      stderr: 'tcpdump: x.pcap: Read-only file system\n',
      status: 1,
    });
  });

  it('deleting the link ends what the capture sees', () => {
    const { files, run, lookup } = setup();
    run('ip link add nlmon0 type nlmon');
    run('ip link set nlmon0 up');
    run('tcpdump -i nlmon0 -w e.pcap');
    lookup();
    run('ip link del nlmon0');
    lookup();
    expect(parsePcap(files.get('e.pcap')!).packets.length).toBe(3);
  });
});
