/**
 * The kernel's one net device list: lo, the netdevs drivers register (virtio_net's on the virtio PF,
 * mnic_en's PF and SF netdevs) and nlmon links share one ifindex space, lo = 1, indexes never reused. From the host shell
 * (`ip link`, `ethtool -S`, devlink for the SF) on the default host, and on the list itself.
 * Expected `ip link` texts are written out by hand in iproute2 6.1's format: a registered netdev that
 * is down is "<BROADCAST,MULTICAST> ... qdisc noop state DOWN", up "<BROADCAST,MULTICAST,UP,LOWER_UP>
 * ... qdisc pfifo_fast state UP".
 */
import { describe, expect, it } from 'vitest';
import { Device } from '../../src/kernel/index.js';
import { NetDevices } from '../../src/kernel/net/index.js';
import { NetlinkBus, nlmonLinkKind } from '../../src/kernel/netlink/index.js';
import { createHostShell } from '../../src/lab/commands/index.js';
import { Lab } from '../../src/lab/index.js';

function host() {
  const h = Lab.default().host();
  const shell = createHostShell(h, { readFile: () => '', wallNowNs: () => 0 });
  const sh = (line: string) => shell.execute(line);
  return { k: h.kernel, sh };
}

const PF = 'pci/0000:10:00.0';
const TAIL = 'mode DEFAULT group default qlen 1000\n';
const LO =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
  '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
/** virtio_net on the virtio PF 01:00.0 probes first at boot (bus 1 before bus 16). */
const VIRTIO_NETDEV =
  `2: enp1s0f0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN ${TAIL}` +
  '    link/ether 02:a5:00:00:00:00 brd ff:ff:ff:ff:ff:ff\n';
const PF_NETDEV =
  `3: enp16s0f0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN ${TAIL}` +
  '    link/ether 02:15:4d:00:00:00 brd ff:ff:ff:ff:ff:ff\n';
const NLMON0 = `4: nlmon0: <NOARP> mtu 3776 qdisc noop state DOWN ${TAIL}    link/netlink \n`;
const SF_DOWN =
  `5: enp16s0f0s88: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN ${TAIL}` +
  '    link/ether 00:00:00:00:88:88 brd ff:ff:ff:ff:ff:ff\n';
const SF_UP =
  `5: enp16s0f0s88: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP ${TAIL}` +
  '    link/ether 00:00:00:00:88:88 brd ff:ff:ff:ff:ff:ff\n';
const ok = (stdout = '') => ({ stdout, stderr: '', status: 0 });

/** switchdev, SF port 88 with a MAC, activated: mnic_en registers enp16s0f0s88. */
function addSf(sh: (line: string) => { status: number }): void {
  for (const line of [
    `devlink dev eswitch set ${PF} mode switchdev`,
    `devlink port add ${PF} flavour pcisf pfnum 0 sfnum 88`,
    `devlink port function set ${PF}/32768 hw_addr 00:00:00:00:88:88`,
    `devlink port function set ${PF}/32768 state active`,
  ])
    expect(sh(line).status, line).toBe(0);
}

describe('ip link on the default host', () => {
  it('lists lo, driver netdevs and nlmon links in one ifindex space', () => {
    const { k, sh } = host();
    expect(sh('ip link show')).toEqual(ok(LO + VIRTIO_NETDEV + PF_NETDEV));
    expect(sh('ip link add nlmon0 type nlmon')).toEqual(ok());
    addSf(sh);
    expect(sh('ip link show')).toEqual(ok(LO + VIRTIO_NETDEV + PF_NETDEV + NLMON0 + SF_DOWN));
    expect(k.net.links.map((l) => [l.ifindex, l.name, l.kind])).toEqual([
      [1, 'lo', 'loopback'],
      [2, 'enp1s0f0', 'ether'],
      [3, 'enp16s0f0', 'ether'],
      [4, 'nlmon0', 'nlmon'],
      [5, 'enp16s0f0s88', 'ether'],
    ]);
    // The devlink uplink port reports the PF netdev from the same list.
    expect(sh(`devlink port show ${PF}/65535`).stdout).toContain(' netdev enp16s0f0 ');
  });

  it('brings a driver netdev up and down, refuses to delete it, and ethtool finds it', () => {
    const { sh } = host();
    sh('ip link add nlmon0 type nlmon');
    addSf(sh);
    expect(sh('ip link set enp16s0f0s88 up')).toEqual(ok());
    expect(sh('ip link show dev enp16s0f0s88')).toEqual(ok(SF_UP));
    expect(sh('ip link set dev enp16s0f0s88 down')).toEqual(ok());
    expect(sh('ip link show enp16s0f0s88')).toEqual(ok(SF_DOWN));
    expect(sh('ip link del enp16s0f0s88')).toEqual({
      stdout: '',
      stderr: 'RTNETLINK answers: Operation not supported\n',
      status: 2,
    });
    expect(sh('ip link add enp16s0f0 type nlmon')).toEqual({
      stdout: '',
      stderr: 'RTNETLINK answers: File exists\n',
      status: 2,
    });
    expect(sh('ethtool -S enp16s0f0s88').stdout).toMatch(/^NIC statistics:\n {5}rx_packets: \d+\n/);
    expect(sh('ethtool -S nlmon0').status).toBe(1);
  });

  it("a removed netdev's ifindex is not handed out again", () => {
    const { sh } = host();
    sh('ip link add nlmon0 type nlmon');
    addSf(sh);
    expect(sh('ip link set enp16s0f0s88 up')).toEqual(ok());
    expect(sh(`devlink port function set ${PF}/32768 state inactive`).status).toBe(0);
    expect(sh(`devlink port del ${PF}/32768`).status).toBe(0);
    expect(sh('ip link show enp16s0f0s88')).toEqual({
      stdout: '',
      stderr: 'Device "enp16s0f0s88" does not exist.\n',
      status: 1,
    });
    expect(sh('ip link add type nlmon')).toEqual(ok());
    expect(sh('ip link show')).toEqual(
      ok(
        `${LO}${VIRTIO_NETDEV}${PF_NETDEV}${NLMON0}6: nlmon1: <NOARP> mtu 3776 qdisc noop state DOWN ${TAIL}    link/netlink \n`,
      ),
    );
    // The same SF again is a new registration: a new index, registered down.
    addSf(sh);
    expect(sh('ip link show enp16s0f0s88')).toEqual(ok(SF_DOWN.replace(/^5:/, '7:')));
  });
});

describe('the net device list', () => {
  const parent = (name: string) => new Device(name, undefined, { bus: 'none' });
  const reg = (net: NetDevices, name: string, dev = parent(name)) =>
    net.register({ name, parent: dev, mac: new Uint8Array(6), ethtoolStats: () => [] });

  it('one counter for driver netdevs and rtnl links; indexes are not reused', () => {
    const net = new NetDevices();
    net.registerLinkKind(nlmonLinkKind(new NetlinkBus({ nowNs: () => 0 })));
    const p = parent('aux.0');
    const a = reg(net, 'eth0', p);
    expect(a.ifindex).toBe(2);
    expect(net.newLink('nlmon').ifindex).toBe(3);
    const b = reg(net, 'eth1');
    expect(b.ifindex).toBe(4);
    expect(net.byParent(p)).toBe(a);
    expect(net.byIfindex(4)).toBe(b);
    net.setUp('eth1', true);
    net.unregister(b);
    expect(b.up).toBe(false);
    expect(net.byName('eth1')).toBeUndefined();
    net.delete('nlmon0');
    expect(reg(net, 'eth1').ifindex).toBe(5);
    expect(net.newLink('nlmon').ifindex).toBe(6);
    expect(net.links.map((l) => l.ifindex)).toEqual([1, 2, 5, 6]);
    expect(net.driverNetdevs.map((n) => n.name)).toEqual(['eth0', 'eth1']);
  });

  it("answers with the kernel's errnos", () => {
    const net = new NetDevices();
    reg(net, 'eth0');
    for (const [name, errno] of [
      ['eth0', 'EEXIST'],
      ['lo', 'EEXIST'],
    ] as const)
      expect(() => reg(net, name), name).toThrow(expect.objectContaining({ errno }));
    expect(() => net.newLink('nlmon')).toThrow(expect.objectContaining({ errno: 'EOPNOTSUPP' }));
    expect(() => net.delete('eth0')).toThrow(expect.objectContaining({ errno: 'EOPNOTSUPP' }));
    expect(() => net.delete('lo')).toThrow(expect.objectContaining({ errno: 'EOPNOTSUPP' }));
    expect(() => net.delete('eth9')).toThrow(expect.objectContaining({ errno: 'ENODEV' }));
    expect(() => net.setUp('lo', false)).toThrow(expect.objectContaining({ errno: 'EOPNOTSUPP' }));
    const bus = new NetlinkBus({ nowNs: () => 0 });
    net.registerLinkKind(nlmonLinkKind(bus));
    expect(() => net.registerLinkKind(nlmonLinkKind(bus))).toThrow(
      expect.objectContaining({ errno: 'EEXIST' }),
    );
  });
});
