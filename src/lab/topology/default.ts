/**
 * The built-in default topology (DESIGN.md "Default topology"): two identical hosts, so that later
 * migration has a source and a destination. Each host has:
 * - 00:01.0 a root port for buses 01-08 with the virtio-net PF at 01:00.0: ARI, 1024 VFs
 *   (VF routing IDs 01:00.1 … 05:00.0 once all are enabled);
 * - 00:02.0 a root port for buses 10-1f with the multi-subsystem NIC at 10:00.0: ARI, 127 VFs, 256
 *   SFs, 1024 SIOV functions whose guest and hypervisor RIDs come from buses 11-1f (more with
 *   maxSiovFns and a wider bus range);
 * - 00:03.0 a root port for buses 20-21 with the accelerator at 20:00.0: no ARI, 16 VFs on bus 21.
 * `vfiolab topology` prints it as YAML, a starting point for your own files.
 */
import type { TopologyInput } from './schema.js';

const host = (name: string): TopologyInput['hosts'][number] => ({
  name,
  rootPorts: [
    {
      name: 'rp-virtio',
      address: '00:01.0',
      secondaryBus: 0x01,
      subordinateBus: 0x08,
      devices: [{ kind: 'virtio-net', name: 'virtio-net0', address: '01:00.0', totalVfs: 1024 }],
    },
    {
      name: 'rp-mnic',
      address: '00:02.0',
      secondaryBus: 0x10,
      subordinateBus: 0x1f,
      devices: [{ kind: 'mnic', name: 'mnic0', address: '10:00.0', totalVfs: 127 }],
    },
    {
      name: 'rp-accel',
      address: '00:03.0',
      secondaryBus: 0x20,
      subordinateBus: 0x21,
      ariForwarding: false,
      devices: [{ kind: 'accel', name: 'accel0', address: '20:00.0', totalVfs: 16 }],
    },
  ],
});

export const DEFAULT_TOPOLOGY: TopologyInput = { hosts: [host('host0'), host('host1')] };
