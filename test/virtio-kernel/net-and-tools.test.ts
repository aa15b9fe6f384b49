/**
 * The host virtio_net on the fake PF (loopback: a TX frame returns on RX), interrupts versus polling,
 * and the shell tools `virtio-admin` and `ethtool -S` (text and --json).
 */
import { describe, expect, it } from 'vitest';
import { isVirtioPciDevice, type Kernel, type VirtioNet } from '../../src/kernel/index.js';
import { ethtoolCommand } from '../../src/lab/commands/ethtool.js';
import { virtioAdminCommand } from '../../src/lab/commands/virtio-admin.js';
import { fakeHost, standardResponder } from './fake-virtio.js';

function netOf(k: Kernel, name: string): VirtioNet {
  const vp = k.findPciDevice(name)!.driverData;
  if (!isVirtioPciDevice(vp) || vp.transport.kind !== 'modern' || vp.transport.net === undefined) {
    throw new Error('no netdev');
  }
  return vp.transport.net;
}

function run(
  cmd: { run(a: readonly string[], io: { out(t: string): void; err(t: string): void }): number },
  args: string[],
) {
  let out = '';
  let err = '';
  const status = cmd.run(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err };
}

const FRAME = Uint8Array.from({ length: 60 }, (_, i) => i);

describe('host virtio_net', () => {
  it('registers a netdev with the device MAC and moves a frame through TX and back on RX (MSI-X)', () => {
    const h = fakeHost();
    const net = netOf(h.kernel, h.pfName);
    expect(net.macText).toBe('52:54:00:12:34:56');
    expect(net.transmit(FRAME)).toBe(true);
    expect(net.txStats).toMatchObject({ packets: 1, bytes: 60 });
    // The RX interrupt ran virtnet_poll: counted, and the frame (without the 12-byte header) delivered.
    expect(net.rxStats).toMatchObject({ packets: 1, bytes: 60, drops: 0 });
    expect([...net.received[0]!]).toEqual([...FRAME]);
    // Five admin completions at probe, then one TX and one RX interrupt.
    expect(h.msi!.stats.delivered).toBe(7);
  });

  it('without an MSI controller programs no vectors and works by polling', () => {
    const h = fakeHost({ msi: false });
    expect(h.fake.configVector).toBe(0xffff);
    expect(h.fake.queues.every((q) => q.msix === 0xffff)).toBe(true);
    // The admin commands still completed (polled): supported_cmds is set.
    const net = netOf(h.kernel, h.pfName);
    net.transmit(FRAME);
    expect(net.rxStats.packets).toBe(0);
    expect(net.pollRx()).toBe(1);
    expect(net.rxStats.packets).toBe(1);
  });

  it('programs vector 0 for config and one per queue with a callback (ctrl has none), then the admin queue', () => {
    const h = fakeHost();
    expect(h.fake.configVector).toBe(0);
    expect(h.fake.queues.map((q) => q.msix)).toEqual([1, 2, 0xffff, 3]);
    expect(h.msi!.stats.allocated).toBe(4);
  });
});

describe('ethtool -S', () => {
  it('prints the queue counters by interface name or BDF', () => {
    const h = fakeHost();
    netOf(h.kernel, h.pfName).transmit(FRAME);
    // udev's predictable name for 01:00.0, as registered in the kernel's net device list.
    const byName = run(ethtoolCommand(h.kernel), ['-S', 'enp1s0f0']);
    expect(byName.status).toBe(0);
    expect(byName.out).toBe(
      'NIC statistics:\n' +
        '     rx_queue_0_packets: 1\n' +
        '     rx_queue_0_bytes: 60\n' +
        '     rx_queue_0_drops: 0\n' +
        '     rx_queue_0_kicks: 2\n' +
        '     tx_queue_0_packets: 1\n' +
        '     tx_queue_0_bytes: 60\n' +
        '     tx_queue_0_drops: 0\n' +
        '     tx_queue_0_kicks: 1\n',
    );
    expect(run(ethtoolCommand(h.kernel), ['-S', '01:00.0']).out).toBe(byName.out);
    expect(run(ethtoolCommand(h.kernel), ['-S', 'enp9s0f0']).status).toBe(1);
    expect(run(ethtoolCommand(h.kernel), ['-S', '09:00.0']).status).toBe(1);
  });
});

describe('virtio-admin', () => {
  it('list-query prints status, qualifier, the decoded opcode list and the hex', () => {
    const h = fakeHost();
    const r = run(virtioAdminCommand(h.kernel), ['01:00.0', 'list-query']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('status: OK (0)\n');
    expect(r.out).toContain('qualifier: OK (0)\n');
    expect(r.out).toContain('result (8 bytes): ffff030000000000\n');
    expect(r.out).toContain('"legacy-common-cfg-read"');
    // What went on the wire: LIST_QUERY, SR-IOV group, member 0.
    expect(h.fake.adminCmds.at(-1)!.readable[2]).toBe(1);
  });

  it('--json prints one line with the spec names of status and qualifier', () => {
    const h = fakeHost({
      responder: standardResponder((cmd) =>
        cmd[0] === 3 ? { status: 22, qualifier: 5 } : { status: 0, qualifier: 0 },
      ),
    });
    const r = run(virtioAdminCommand(h.kernel), [
      '0000:01:00.0',
      'legacy-common-cfg-read',
      '--member',
      '9',
      '--offset',
      '18',
      '--size',
      '1',
      '--json',
    ]);
    expect(r.status).toBe(1);
    expect(r.out.split('\n')).toHaveLength(2);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({
      command: 'legacy-common-cfg-read',
      status: 'EINVAL',
      qualifier: 'INVALID_MEMBER',
      member: 9,
    });
    // The request: header with member 9, data {offset 18}; result buffer 1 byte.
    const sent = h.fake.adminCmds.at(-1)!;
    expect([...sent.readable]).toEqual([3, 0, 1, 0, ...new Array(12).fill(0), 9, 0, 0, 0, 0, 0, 0, 0, 18]);
    expect(sent.writableSizes).toEqual([8, 1]);
  });

  it('refuses an opcode outside supported_cmds unless --force, and unknown commands', () => {
    const h = fakeHost({
      responder: (cmd) =>
        cmd[0] === 0
          ? { status: 0, qualifier: 0, result: Uint8Array.of(0x7f, 0, 0, 0, 0, 0, 0, 0) }
          : { status: 0, qualifier: 0 },
    });
    const refused = run(virtioAdminCommand(h.kernel), [
      '01:00.0',
      'dev-mode-set',
      '--member',
      '1',
      '--flags',
      '1',
    ]);
    expect(refused.status).toBe(1);
    expect(refused.err).toContain('EOPNOTSUPP');
    const forced = run(virtioAdminCommand(h.kernel), [
      '01:00.0',
      'dev-mode-set',
      '--member',
      '1',
      '--flags',
      '1',
      '--force',
      '--json',
    ]);
    expect(JSON.parse(forced.out).status).toBe('OK');
    expect(run(virtioAdminCommand(h.kernel), ['01:00.0', 'no-such-cmd']).status).toBe(2);
  });
});
