/**
 * The host virtio_net's netdevs in the kernel's one net device list, on the default host: the virtio
 * PF's netdev (udev's name enp1s0f0) sits next to mnic_en's enp16s0f0 in one ifindex space; its VFs'
 * netdevs (bound to virtio-pci) join the same space; unbinding, removing, disabling SR-IOV or rmmod
 * takes a netdev out and frees no index for reuse; a name already taken fails the probe with EEXIST.
 * Expected `ip link` texts are written out by hand in iproute2 6.1's format; MACs are the virtio-net
 * model's config-space MACs (PF 02:a5:00:00:00:00, VF n 02:a5:00:00:00:0n).
 */
import { describe, expect, it } from 'vitest';
import { createHostShell } from '../../src/lab/commands/index.js';
import { Lab } from '../../src/lab/index.js';

const PF = '/sys/bus/pci/devices/0000:01:00.0';
const TAIL = 'mode DEFAULT group default qlen 1000\n';
const LO =
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
  '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
const down = (ifindex: number, name: string, mac: string) =>
  `${ifindex}: ${name}: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN ${TAIL}` +
  `    link/ether ${mac} brd ff:ff:ff:ff:ff:ff\n`;
const VIRTIO_MAC = '02:a5:00:00:00:00';
const MNIC = down(3, 'enp16s0f0', '02:15:4d:00:00:00');
const nlmon = (ifindex: number, name: string) =>
  `${ifindex}: ${name}: <NOARP> mtu 3776 qdisc noop state DOWN ${TAIL}    link/netlink \n`;
const ok = (stdout = '') => ({ stdout, stderr: '', status: 0 });
const NO_DEVICE = {
  stdout: '',
  stderr: 'netlink error: no device matches name\nCannot get stats strings information: No such device\n',
  status: 1,
};

function host() {
  const h = Lab.default().host();
  const shell = createHostShell(h, { readFile: () => '', wallNowNs: () => 0 });
  const sh = (line: string) => shell.execute(line);
  return { k: h.kernel, sh };
}

describe('virtio_net netdevs in the net device list', () => {
  it("lists the virtio PF's netdev with the NIC's, in one ifindex space, and ethtool finds it there", () => {
    const { k, sh } = host();
    expect(sh('ip link show')).toEqual(ok(LO + down(2, 'enp1s0f0', VIRTIO_MAC) + MNIC));
    const nd = k.net.byName('enp1s0f0');
    expect(nd?.kind === 'ether' ? nd.parent.name : undefined).toBe('0000:01:00.0');
    expect(k.log.dmesg()).toContain(`virtio_net 0000:01:00.0 enp1s0f0: registered, MAC ${VIRTIO_MAC}`);
    // The same counters by name and by BDF; the RX ring was posted and kicked once at probe.
    const stats = sh('ethtool -S enp1s0f0');
    expect(stats.stdout).toBe(
      'NIC statistics:\n' +
        '     rx_queue_0_packets: 0\n' +
        '     rx_queue_0_bytes: 0\n' +
        '     rx_queue_0_drops: 0\n' +
        '     rx_queue_0_kicks: 1\n' +
        '     tx_queue_0_packets: 0\n' +
        '     tx_queue_0_bytes: 0\n' +
        '     tx_queue_0_drops: 0\n' +
        '     tx_queue_0_kicks: 0\n',
    );
    expect(sh('ethtool -S 01:00.0')).toEqual(stats);
    expect(sh('ethtool -S 0000:01:00.0')).toEqual(stats);
    // A BDF names only a netdev registered on that PCI function: mnic_en's sits on an auxiliary device.
    expect(sh('ethtool -S 10:00.0')).toEqual(NO_DEVICE);
    expect(sh('ethtool -S enp16s0f0').stdout).toMatch(/^NIC statistics:\n {5}rx_packets: \d+\n/);
    // Up and down like any driver netdev; no rtnl_link_ops, so it cannot be deleted.
    expect(sh('ip link set enp1s0f0 up')).toEqual(ok());
    expect(sh('ip link show enp1s0f0')).toEqual(
      ok(
        `2: enp1s0f0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP ${TAIL}` +
          `    link/ether ${VIRTIO_MAC} brd ff:ff:ff:ff:ff:ff\n`,
      ),
    );
    expect(sh('ip link del enp1s0f0')).toEqual({
      stdout: '',
      stderr: 'RTNETLINK answers: Operation not supported\n',
      status: 2,
    });
  });

  it('unbind, remove and rmmod take the netdev out; no index is handed out again', () => {
    const { sh } = host();
    expect(sh('echo 0000:01:00.0 > /sys/bus/pci/drivers/virtio-pci/unbind')).toEqual(ok());
    expect(sh('ip link show')).toEqual(ok(LO + MNIC));
    expect(sh('ethtool -S enp1s0f0')).toEqual(NO_DEVICE);
    expect(sh('ethtool -S 01:00.0')).toEqual(NO_DEVICE);
    // Index 2 stays unused: the next link gets 4.
    expect(sh('ip link add type nlmon')).toEqual(ok());
    expect(sh('echo 0000:01:00.0 > /sys/bus/pci/drivers/virtio-pci/bind')).toEqual(ok());
    expect(sh('ip link show')).toEqual(ok(LO + MNIC + nlmon(4, 'nlmon0') + down(5, 'enp1s0f0', VIRTIO_MAC)));
    expect(sh(`echo 1 > ${PF}/remove`)).toEqual(ok());
    expect(sh('ip link show')).toEqual(ok(LO + MNIC + nlmon(4, 'nlmon0')));
    expect(sh('echo 1 > /sys/bus/pci/rescan')).toEqual(ok());
    expect(sh('ip link show')).toEqual(ok(LO + MNIC + nlmon(4, 'nlmon0') + down(6, 'enp1s0f0', VIRTIO_MAC)));
    expect(sh('rmmod virtio_pci')).toEqual(ok());
    expect(sh('ip link show')).toEqual(ok(LO + MNIC + nlmon(4, 'nlmon0')));
  });

  it('VFs bound to virtio-pci get netdevs in the same space; disabling SR-IOV frees no index', () => {
    const { sh } = host();
    expect(sh(`echo 2 > ${PF}/sriov_numvfs`)).toEqual(ok());
    const pf = down(2, 'enp1s0f0', VIRTIO_MAC);
    expect(sh('ip link show')).toEqual(
      ok(
        LO + pf + MNIC + down(4, 'enp1s0f1', '02:a5:00:00:00:01') + down(5, 'enp1s0f2', '02:a5:00:00:00:02'),
      ),
    );
    expect(sh(`fn show pci/0000:01:00.0`).stdout).toContain(' driver net bound enp1s0f1 ');
    expect(sh(`echo 0 > ${PF}/sriov_numvfs`)).toEqual(ok());
    expect(sh('ip link show')).toEqual(ok(LO + pf + MNIC));
    expect(sh(`echo 1 > ${PF}/sriov_numvfs`)).toEqual(ok());
    expect(sh('ip link show')).toEqual(ok(LO + pf + MNIC + down(6, 'enp1s0f1', '02:a5:00:00:00:01')));
  });

  it("a VF whose name a link already holds fails virtio_net's probe with EEXIST; the others register", () => {
    const { k, sh } = host();
    expect(sh('ip link add enp1s0f1 type nlmon')).toEqual(ok());
    expect(sh(`echo 2 > ${PF}/sriov_numvfs`)).toEqual(ok());
    expect(sh('ip link show')).toEqual(
      ok(
        LO +
          down(2, 'enp1s0f0', VIRTIO_MAC) +
          MNIC +
          nlmon(4, 'enp1s0f1') +
          down(5, 'enp1s0f2', '02:a5:00:00:00:02'),
      ),
    );
    expect(k.log.dmesg()).toContain('virtio_pci 0000:01:00.1: virtio device probe failed with error -EEXIST');
    // The failed probe left the VF bound to virtio-pci (as Linux does) with no netdev.
    expect(k.findPciDevice('0000:01:00.1')?.driver?.name).toBe('virtio-pci');
    expect(sh('ethtool -S 01:00.1')).toEqual(NO_DEVICE);
  });
});
