/**
 * `ethtool -S IFACE|BDF`: the driver's statistics of a host netdev, in ethtool's format ("NIC
 * statistics:" then one "     name: value" line each). The host's netdevs are the virtio_net ones
 * virtio-pci registers (a BDF, full or bus:dev.fn, names the function's netdev) and the driver netdevs
 * of the kernel's net device list (mnic_en's, by name; their counters come from the NIC's firmware).
 * Left out: every other ethtool mode.
 */
import { isVirtioPciDevice, type Kernel, type Netdev, type VirtioNet } from '../../kernel/index.js';
import type { ShellCommand } from '../shell/command.js';

/** A driver netdev of the kernel's list, by name (lo and nlmon links have no driver statistics). */
function findDriverNetdev(k: Kernel, name: string): Netdev | undefined {
  const l = k.net.byName(name);
  return l?.kind === 'ether' ? l : undefined;
}

function findNetdev(k: Kernel, name: string): VirtioNet | undefined {
  const full = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(name) ? `0000:${name}` : name;
  for (const dev of k.core.devices('pci')) {
    const vp = dev.driverData;
    if (!isVirtioPciDevice(vp) || vp.transport.kind !== 'modern') continue;
    const net = vp.transport.net;
    if (net !== undefined && (net.ifname === name || dev.name === full)) return net;
  }
  return undefined;
}

export function ethtoolCommand(k: Kernel): ShellCommand {
  return {
    name: 'ethtool',
    summary: 'ethtool -S IFACE|BDF: the driver statistics of a host netdev',
    run(args, io) {
      if (args.length !== 2 || (args[0] !== '-S' && args[0] !== '--statistics')) {
        io.err('ethtool: bad command line argument(s)\nFor more information run ethtool -h\n');
        return 1;
      }
      const net = findNetdev(k, args[1]!) ?? findDriverNetdev(k, args[1]!);
      if (net === undefined) {
        io.err(
          `netlink error: no device matches name\nCannot get stats strings information: No such device\n`,
        );
        return 1;
      }
      io.out('NIC statistics:\n');
      for (const [name, value] of net.ethtoolStats()) io.out(`     ${name}: ${value}\n`);
      return 0;
    },
  };
}
