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
import { formatTable } from './table.js';

const DEMO_VFS = { 'virtio-net0': 4, 'mnic0': 2, 'accel0': 2 } as const;

export function runDemo(platform: Platform): number {
  const wall0 = platform.wallNowNs();
  const lab = Lab.default({ numVfs: DEMO_VFS });
  const buildWall = platform.wallNowNs() - wall0;
  const host = lab.host();
  const out = platform.stdout;
  out(`vfiolab: the default topology has ${lab.hosts.length} hosts (${lab.hosts.map((h) => h.name).join(', ')}); this is ${host.name}.\n`);
  out(`Booted with VFs enabled at boot: ${Object.entries(DEMO_VFS).map(([k, v]) => `${k}=${v}`).join(', ')}.\n\n`);
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
  const vfs = all.filter((d) => d.isVirtfn).length;
  out(`\n${all.length} PCI functions: ${host.devices.length} PFs, ${vfs} VFs, ${all.length - host.devices.length - vfs} bridges.\n`);
  out(`Boot of ${host.name}: modeled ${formatNs(host.bootNs)} (scan by config cycles, BAR assignment, VF enable waits)\n`);
  out(`Building ${lab.hosts.length} hosts: wall ${formatNs(buildWall)}\n`);

  const other = lab.hosts[1] ?? host;
  const pf = other.pci.find(other.devices.find((d) => d.kind === 'virtio-net')!.bdf)!;
  other.pci.disableSriov(pf);
  const m0 = other.clock.nowNs;
  const w0 = platform.wallNowNs();
  other.pci.enableSriov(pf, pf.sriov!.totalVfs);
  out(
    `\nEnabling all ${pf.sriov!.totalVfs} VFs of virtio-net0 on ${other.name}: modeled ${formatNs(other.clock.nowNs - m0)}, wall ${formatNs(platform.wallNowNs() - w0)}\n`,
  );
  out(`  (the kernel waits ${formatNs(other.costs.vfEnableWaitNs)} after VF Enable, then sets up each VF by config cycles)\n`);
  out('\nNext: npx vfiolab shell   ·   npx vfiolab lspci -vvv -s 01:00.0   ·   npx vfiolab bench pci --json\n');
  return 0;
}
