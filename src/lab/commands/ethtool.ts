/**
 * `ethtool -S IFACE|BDF`: the driver's statistics of a host netdev, in ethtool's format ("NIC
 * statistics:" then one "     name: value" line each). Every netdev is looked up in the kernel's one
 * net device list: virtio_net's (per-queue counters) and mnic_en's (the NIC firmware's counters) alike.
 *
 * SPEC-DEVIATION: besides an interface name, a BDF (full or bus:dev.fn) names the netdev a driver
 * registered directly on that PCI function (virtio_net's); real ethtool takes interface names only.
 * Left out: every other ethtool mode.
 */
import type { Kernel, Netdev } from '../../kernel/index.js';
import type { ShellCommand } from '../shell/command.js';

const SHORT_BDF = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/** A driver netdev of the kernel's list (lo and nlmon links have no driver statistics). */
function findNetdev(k: Kernel, arg: string): Netdev | undefined {
  const byName = k.net.byName(arg);
  if (byName !== undefined) return byName.kind === 'ether' ? byName : undefined;
  const bdf = SHORT_BDF.test(arg) ? `0000:${arg}` : arg;
  return k.net.driverNetdevs.find((n) => n.parent.busName === 'pci' && n.parent.name === bdf);
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
      const net = findNetdev(k, args[1]!);
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
