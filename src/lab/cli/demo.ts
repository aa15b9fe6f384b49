/**
 * `npm start` / `vfiolab demo`: build the default topology, enable a few VFs on every PF of the first
 * host, and show what a user wants to see first: the device tree as `lspci -tv` draws it, a summary of
 * the functions, and what enabling all 1024 virtio-net VFs costs — modeled time and wall time, labelled.
 */
import { formatNs, hex } from '../../base/index.js';
import { lspciDevices } from '../host/lspci-view.js';
import { Lab } from '../lab.js';
import { runLspci } from '../lspci/index.js';
import type { Platform } from '../platform.js';
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
  out(
    '\nNext: npx vfiolab shell   ·   npx vfiolab lspci -vvv -s 01:00.0   ·   npx vfiolab bench pci --json\n',
  );
  return 0;
}
