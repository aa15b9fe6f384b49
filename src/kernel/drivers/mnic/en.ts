/**
 * mnic_en: the NIC's netdev driver (mlx5e's role), a module of its own with the auxiliary driver
 * "mnic_en.eth" for "mnic_core.eth" devices, so udev autoloads it when one appears. Its probe is a
 * netdev-class probe (queues, netdev registration: the cost the seed mail calls too slow for 1000
 * functions). The netdev's counters are the firmware's per-function counters (QUERY_COUNTERS), read
 * when `ethtool -S` asks.
 * Left out: the datapath (the NIC's queues), link state, representors.
 */
import { auxiliaryDriver } from '../../auxiliary/auxiliary.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import { type Netdev, pciNetdevName } from '../../net/index.js';
import { mnicShared } from './core-dev.js';
import { MNIC_CORE, macText } from './ids.js';

export const MNIC_EN = 'mnic_en';

/** The driver's ethtool strings are mlx5e's style: rx_packets, rx_bytes, tx_packets, tx_bytes. */
function ethtoolStats(counters: Readonly<Record<string, bigint>>): [string, bigint][] {
  return Object.entries(counters).map(([name, v]) => [
    name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    v,
  ]);
}

function netdevName(k: KernelApi, dev: Device): string {
  const s = mnicShared(dev);
  if (s === undefined) return dev.name;
  const p = k.pdev(s.pciDev);
  const base = pciNetdevName(p.bdf.bus, p.bdf.devfn);
  return s.sfnum === undefined ? base : `${base}s${s.sfnum}`;
}

export function mnicEnModule(k: KernelApi): ModuleDef {
  const driver = auxiliaryDriver({
    modname: MNIC_EN,
    name: 'eth',
    idTable: [{ name: `${MNIC_CORE}.eth`, driverData: 0 }],
    probeClass: 'netdev',
    ops: {
      probe(dev) {
        // The bus match is the contract (mlx5e takes container_of): a "mnic_core.eth" device made
        // without mnic's shared API (the auxiliary-bus tests make such) gets a netdev without counters.
        const s = mnicShared(dev);
        const fw = s === undefined ? undefined : (s.fnFw ?? s.managerFw);
        const nd = k.net.register({
          name: netdevName(k, dev),
          parent: dev,
          mac: s?.mac ?? new Uint8Array(6),
          ethtoolStats: () =>
            s === undefined || fw === undefined ? [] : ethtoolStats(fw.queryCounters(s.fn)),
        });
        dev.driverData = nd;
        k.log.info(`${MNIC_EN} ${dev.name} ${nd.name}: registered, MAC ${macText(nd.mac)}`);
      },
      remove(dev) {
        const nd = dev.driverData as Netdev | undefined;
        if (nd !== undefined) k.net.unregister(nd);
      },
    },
  });
  return { name: MNIC_EN, builtin: false, sizeBytes: 131072, depends: [MNIC_CORE], drivers: [driver] };
}
