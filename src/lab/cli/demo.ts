/**
 * `npm start` / `vfiolab demo`: build the default topology, enable a few VFs on every PF of the first
 * host, and show what a user wants to see first: the device tree as `lspci -tv` draws it, a summary of
 * the functions, and what enabling all 1024 virtio-net VFs costs — modeled time and wall time, labelled;
 * then the NIC carved as a user would (a subfunction and a vDPA device through devlink and vdpa, 1000
 * VFIO devices in one `fn create`) and the four ways to 1000 VFIO devices compared (`bench create`).
 */
import { formatNs, hex } from '../../base/index.js';
import { createHostShell } from '../commands/index.js';
import { lspciDevices } from '../host/lspci-view.js';
import { Lab } from '../lab.js';
import { runLspci } from '../lspci/index.js';
import type { Platform } from '../platform.js';
import { benchCreate } from './bench-create.js';
import { compareVfCreation } from './bench-sriov.js';
import { formatTable } from './table.js';

const DEMO_VFS = { 'virtio-net0': 4, mnic0: 2, accel0: 2 } as const;

export function runDemo(platform: Platform): number {
  const wall0 = platform.wallNowNs();
  const lab = Lab.default({ numVfs: DEMO_VFS });
  const buildWall = platform.wallNowNs() - wall0;
  const host = lab.host();
  const out = platform.stdout;
  out(
    `vfiolab: the default topology has ${lab.hosts.length} hosts (${lab.hosts.map((h) => h.name).join(', ')}); this is ${host.name}.\n`,
  );
  out(
    `Booted with VFs enabled at boot: ${Object.entries(DEMO_VFS)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}.\n\n`,
  );
  out(`root@${host.name}:~# lspci -tv\n`);
  const tree = runLspci(['-tv'], lspciDevices(host, ['-tv']), { readFile: platform.readFile });
  out(tree.stdout);
  out(tree.stderr);

  const rows = host.devices.map((d) => {
    const dev = host.pci.find(d.bdf)!;
    const iov = dev.sriov;
    return [
      dev.name,
      d.name,
      d.kind,
      `${hex(dev.vendor, 4)}:${hex(dev.device, 4)}`,
      iov === undefined ? '-' : String(iov.totalVfs),
      iov === undefined ? '-' : String(iov.numVfs),
      iov === undefined ? '-' : `${hex(iov.offset, 0)}/${iov.stride}`,
      dev.ariEnabled ? 'yes' : 'no',
    ];
  });
  out(`\nPhysical functions on ${host.name}:\n`);
  out(formatTable(['address', 'name', 'kind', 'id', 'TotalVFs', 'NumVFs', 'offset/stride', 'ARI'], rows));
  const all = host.pci.devices;
  const vfCount = all.filter((d) => d.isVirtfn).length;
  const bridges = all.length - host.devices.length - vfCount;
  out(`\n${all.length} PCI functions: ${host.devices.length} PFs, ${vfCount} VFs, ${bridges} bridges.\n`);
  out(
    `Boot of ${host.name}: modeled ${formatNs(host.bootNs)} (scan, BAR assignment, driver probes, VF enable waits)\n`,
  );
  out(`Building ${lab.hosts.length} hosts: wall ${formatNs(buildWall)}\n`);

  const vfs = 1024;
  const cmp = compareVfCreation(platform, { vfs, driver: 'pci-stub' });
  out(`\nCreating ${vfs} VFs of virtio-net0 (echo ${vfs} > sriov_numvfs) on a fresh ${host.name}:\n`);
  out(
    formatTable(
      ['path', 'modeled', 'wall', 'VFs bound'],
      [
        ['sriov_drivers_autoprobe=1 (virtio-pci probes each VF)', cmp.autoprobeOn, cmp.boundOn],
        ['sriov_drivers_autoprobe=0 (no driver)', cmp.autoprobeOff, 0],
        ['  then driver_override + drivers_probe, each VF to pci-stub', cmp.bindAll, cmp.boundStub],
      ].map(([label, t, bound]) => {
        const r = t as { modeledMs: number; wallMs: number };
        return [label as string, formatNs(r.modeledMs * 1e6), formatNs(r.wallMs * 1e6), String(bound)];
      }),
    ),
  );
  out('  (modeled: what the real host would take, from docs/cost-model.md; wall: what the model took)\n');
  carveTheNic(platform);
  out(
    '\nNext: npx vfiolab shell   ·   npx vfiolab lspci -vvv -s 01:00.0   ·   npx vfiolab bench create --json\n',
  );
  return 0;
}

/** The lines a user types to carve the NIC; each runs in the host shell and prints what it printed. */
const CARVE_SESSION = [
  'devlink dev eswitch set pci/0000:10:00.0 mode switchdev',
  'devlink port add pci/0000:10:00.0 flavour pcisf pfnum 0 sfnum 88',
  'devlink port function set pci/0000:10:00.0/32768 hw_addr 00:00:00:00:88:88 state active',
  'devlink port show pci/0000:10:00.0/32768',
  'ls /sys/bus/auxiliary/devices',
  'vdpa dev add name vdpa0 mgmtdev auxiliary/mnic_core.sf.0',
  'vdpa dev show',
  'time fn create pci/0000:10:00.0 kind siov count 1000 driver vfio migratable on | tail -2',
];

function carveTheNic(platform: Platform): void {
  const out = platform.stdout;
  const host = Lab.default().host();
  const shell = createHostShell(host, { readFile: platform.readFile, wallNowNs: () => platform.wallNowNs() });
  out(`\nCarving the NIC at 10:00.0 on a fresh ${host.name} (each line runs in \`vfiolab shell\`):\n`);
  for (const line of CARVE_SESSION) {
    const r = shell.execute(line);
    out(`root@${host.name}:~# ${line}\n${r.stdout}${r.stderr}`);
  }
  const count = 1000;
  const b = benchCreate(platform, { count, runs: 1, warmupCount: 0 });
  out(`\nFour ways to ${count} VFIO devices on fresh hosts (vfiolab bench create --count ${count}):\n`);
  const label: Record<string, string> = {
    'sriov-autoprobe-rebind': '1. sriov_numvfs, native driver probes each VF, then rebind to VFIO',
    'sriov-override': '2. autoprobe off, driver_override, drivers_probe',
    'devlink-sf': '3. devlink subfunctions, then the auxiliary VFIO driver',
    'fn-batch': '4. the creation API, one batched request',
  };
  out(
    formatTable(
      ['path', 'modeled', 'wall', 'modeled / path 4'],
      b.paths.map((p) => [
        label[p.path] ?? p.path,
        formatNs(p.modeledMs * 1e6),
        formatNs(p.wallMs * 1e6),
        p.modeledRatioToPath4 === null ? '-' : `${p.modeledRatioToPath4.toFixed(1)}x`,
      ]),
    ),
  );
  for (const s of b.skipped) out(`  skipped ${s.path}: ${s.skipped}\n`);
}
