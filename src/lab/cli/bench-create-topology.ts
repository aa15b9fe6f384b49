/**
 * The topology `vfiolab bench create` runs on: one host with only the multi-subsystem NIC (mnic) at
 * 10:00.0 behind a root port whose bus range 10-ff holds every routing ID the paths need. TotalVFs,
 * the SF table and the SIOV function table are all the requested count, so the same PF serves every
 * path. With ARI the VFs follow the PF as function numbers 1, 2, … (256 per bus): N VFs end on bus
 * 10 + (N >> 8), 10000 of them on bus 37. The SIOV RID pool is every bus after that (two RIDs per
 * function, guest and hypervisor), so N may be at most 20000: VFs and pool then use buses 10-ff.
 * The other default devices are left out: they take no part and would only slow every fresh host.
 */
import type { TopologyInput } from '../topology/index.js';

/** The NIC PF every path carves. */
export const BENCH_NIC_PF = '0000:10:00.0';
export const BENCH_NIC_NAME = 'mnic0';
/** The largest count whose VFs and SIOV RID pool (2 × count RIDs) both fit on buses 10-ff. */
export const BENCH_MAX_COUNT = 20000;

export function benchCreateTopology(count: number): TopologyInput {
  return {
    hosts: [
      {
        name: 'bench0',
        rootPorts: [
          {
            name: 'rp-mnic',
            address: '00:02.0',
            secondaryBus: 0x10,
            subordinateBus: 0xff,
            devices: [
              {
                kind: 'mnic',
                name: BENCH_NIC_NAME,
                address: '10:00.0',
                totalVfs: count,
                maxSfs: count,
                maxSiovFns: count,
              },
            ],
          },
        ],
      },
    ],
  };
}
