/** The `vfiolab` command line through an in-memory platform: each subcommand, and bad input. */
import { describe, expect, it } from 'vitest';
import { badInput } from '../../src/base/index.js';
import { runCli } from '../../src/lab/cli/main.js';
import type { Platform } from '../../src/lab/index.js';

function platform(files: Record<string, string> = {}, stdin: string[] = []) {
  let out = '';
  let err = '';
  let wall = 0;
  const p: Platform = {
    readFile: (path) => {
      const f = files[path];
      if (f === undefined) throw badInput(`${path}: No such file or directory`);
      return f;
    },
    writeFile: () => undefined,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    wallNowNs: () => (wall += 1000),
    stdinIsTty: false,
    async *readLines() {
      for (const l of stdin) yield l;
    },
    machine: () => ({ cpu: 'test', cores: 1, memoryBytes: 1, node: 'v20', os: 'test' }),
  };
  return { p, out: () => out, err: () => err };
}

describe('vfiolab CLI', () => {
  it('lspci takes pciutils options and our --numvfs', async () => {
    const t = platform();
    const status = await runCli(['lspci', '-n', '-s', '01:00.2', '--numvfs', 'virtio-net0=2'], t.p);
    expect(status).toBe(0);
    expect(t.out()).toBe('01:00.2 0200: 1af4:1041 (rev 01)\n');
  });

  it('lspci reports a bad --numvfs and an unknown device with status 2', async () => {
    const a = platform();
    expect(await runCli(['lspci', '--numvfs', 'nope'], a.p)).toBe(2);
    expect(a.err()).toContain("--numvfs: expected DEVICE=N (e.g. virtio-net0=8), got 'nope'");
    const b = platform();
    expect(await runCli(['lspci', '--numvfs', 'gpu0=1'], b.p)).toBe(2);
    expect(b.err()).toContain("no device named 'gpu0'");
  });

  it('shell runs stdin lines and exits with the last status', async () => {
    const t = platform({}, ['cat /sys/bus/pci/devices/0000:01:00.0/sriov_totalvfs', 'nosuch']);
    expect(await runCli(['shell'], t.p)).toBe(127);
    expect(t.out()).toBe('1024\n');
    expect(t.err()).toBe('vfiolab: nosuch: command not found\n');
  });

  it('shell honours exit N and a topology file with another host', async () => {
    const topo = `hosts:
  - name: alpha
    rootPorts:
      - { name: rp, address: "00:01.0", secondaryBus: 1, subordinateBus: 1,
          devices: [ { kind: accel, name: acc, address: "01:00.0" } ] }
`;
    const t = platform({ 't.yaml': topo }, ['ls /sys/bus/pci/devices', 'exit 4', 'echo never']);
    expect(await runCli(['shell', '--topology', 't.yaml'], t.p)).toBe(4);
    expect(t.out()).toBe('0000:00:00.0\n0000:00:01.0\n0000:01:00.0\n');
    expect(t.err()).toBe('');
  });

  it('rejects a topology whose boot-time VFs do not fit, naming the path', async () => {
    const topo = `hosts:
  - name: alpha
    rootPorts:
      - { name: rp, address: "00:01.0", secondaryBus: 1, subordinateBus: 1,
          devices: [ { kind: accel, name: acc, address: "01:00.0", numVfs: 3 } ] }
`;
    const t = platform({ 't.yaml': topo }, []);
    expect(await runCli(['topology', '--topology', 't.yaml'], t.p)).toBe(2);
    expect(t.err()).toContain('t.yaml: hosts[0].rootPorts[0].devices[0].numVfs: 3 VFs reach bus 02');
  });

  it('topology prints the default as YAML that validates again', async () => {
    const t = platform();
    expect(await runCli(['topology'], t.p)).toBe(0);
    const again = platform({ 'd.yaml': t.out() });
    expect(await runCli(['topology', '--topology', 'd.yaml', '--json'], again.p)).toBe(0);
    expect(JSON.parse(again.out()).hosts.map((h: { name: string }) => h.name)).toEqual(['host0', 'host1']);
  });

  it('a missing topology file and an unknown command fail with status 2', async () => {
    const a = platform();
    expect(await runCli(['shell', '--topology', 'missing.yaml'], a.p)).toBe(2);
    expect(a.err()).toContain('missing.yaml: No such file or directory');
    const b = platform();
    expect(await runCli(['frobnicate'], b.p)).toBe(2);
  });

  it('bench pci prints one JSON line with ratios', async () => {
    const t = platform();
    expect(await runCli(['bench', 'pci', '--json', '--reads', '100', '--runs', '1'], t.p)).toBe(0);
    const r = JSON.parse(t.out());
    expect(r.bench).toBe('pci');
    expect(r.configReads.modeledNsPerRead).toBe(1000);
    expect(r.enable1024VfsAutoprobeOff.modeledMs).toBeGreaterThan(100);
    expect(t.out().trim().split('\n')).toHaveLength(1);
  });
});
