/**
 * The mnic's topology knobs, resolved against its root port: SF table size, SIOV function table size
 * and the SIOV RID pool — the requester IDs the platform lets the NIC hand to SIOV functions (two per
 * function: guest and hypervisor). The pool is a run of whole buses behind the NIC's root port after
 * the last bus its VFs can use; by default every such bus up to the port's subordinate bus.
 * maxSiovFns defaults to min(1024, pool RIDs / 2); a larger explicit value is an error, as is a pool
 * outside the port's bus range or overlapping the VFs' routing IDs.
 */
import { badInput } from '../../base/index.js';
import {
  DEVICE_CATALOG,
  defaultVfRouting,
  MNIC_DEFAULT_MAX_SFS,
  MNIC_DEFAULT_MAX_SIOV_FNS,
} from '../../hw/index.js';
import type { DeviceTopology, RootPortTopology } from './schema.js';

export interface MnicKnobs {
  readonly maxSfs: number;
  readonly maxSiovFns: number;
  /** First RID of the pool (0 when it is empty). */
  readonly siovRidBase: number;
  readonly siovRidCount: number;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** Resolve the knobs of mnic device `d` below `port`; `at` names it in errors. */
export function resolveMnicKnobs(
  d: DeviceTopology,
  port: RootPortTopology,
  ari: boolean,
  at: string,
): MnicKnobs {
  const [busText, rest] = d.address.split(':') as [string, string];
  const pfRid = (Number.parseInt(busText, 16) << 8) | (Number.parseInt(rest.split('.')[0]!, 16) << 3);
  const total = d.totalVfs ?? DEVICE_CATALOG.mnic.defaultTotalVfs;
  const r = defaultVfRouting(total, ari);
  const lastVfBus = (pfRid + r.firstVfOffset + r.vfStride * (total - 1)) >> 8;
  let first = lastVfBus + 1;
  let last = port.subordinateBus;
  if (d.siovRidPool !== undefined) {
    ({ firstBus: first, lastBus: last } = d.siovRidPool);
    if (last < first) throw badInput(`${at}.siovRidPool: lastBus ${last} is below firstBus ${first}`);
    if (first < port.secondaryBus || last > port.subordinateBus) {
      throw badInput(
        `${at}.siovRidPool: buses ${hex2(first)}-${hex2(last)} are not behind the port (${hex2(port.secondaryBus)}-${hex2(port.subordinateBus)})`,
      );
    }
    if (first <= lastVfBus) {
      throw badInput(
        `${at}.siovRidPool: bus ${hex2(first)} holds the device's own or its VFs' routing IDs (up to bus ${hex2(lastVfBus)})`,
      );
    }
  }
  const count = last >= first ? (last - first + 1) * 256 : 0;
  const fit = Math.floor(count / 2);
  if (d.maxSiovFns !== undefined && d.maxSiovFns > fit) {
    throw badInput(
      `${at}.maxSiovFns: ${d.maxSiovFns} SIOV functions need ${2 * d.maxSiovFns} RIDs; the pool has ${count}`,
    );
  }
  return {
    maxSfs: d.maxSfs ?? MNIC_DEFAULT_MAX_SFS,
    maxSiovFns: d.maxSiovFns ?? Math.min(MNIC_DEFAULT_MAX_SIOV_FNS, fit),
    siovRidBase: count > 0 ? first << 8 : 0,
    siovRidCount: count,
  };
}
