/**
 * The cross-check of issue 2: the real lspci (pciutils) decodes what our modeled host shows, and its
 * output equals ours line for line, for every function of the default topology — PFs, root ports, the
 * host bridge, and every VF after enabling all of them.
 *
 * 1. Dump mode: our `lspci -xxxx` of the modeled host is read back by the real `lspci -F` and by ours.
 * 2. Live mode: the modeled host's sysfs view (config, resource, IDs, irq, driver) is written out as a
 *    sysfs directory that the real lspci reads with `-A linux-sysfs -O sysfs.path=…`, beside our lspci
 *    on the same host.
 * Both compare numeric (-n) and named output (names from the system's pci.ids, which both tools read).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Host, Lab, lspciDevices } from '../../src/lab/index.js';
import { runLspci } from '../../src/lab/lspci/index.js';
import { nodeIo, REAL_LSPCI, realLspciVersion, writeFakeSysfs } from './helpers.js';

const usable = realLspciVersion() === 'lspci version 3.9.0';
const SYSTEM_IDS = '/usr/share/misc/pci.ids';
const NO_HWDB = ['-O', 'hwdb.disable=1'];

function fullyEnabledHost(): Host {
  const host = Lab.default().host();
  for (const d of host.devices) {
    const pf = host.pci.find(d.bdf)!;
    host.kernel.sysfs.write(`/sys/bus/pci/devices/${pf.name}/sriov_numvfs`, `${pf.sriov!.totalVfs}\n`);
    host.kernel.settle();
  }
  return host;
}

const lines = (text: string): string[] => text.split('\n');
/** Some 1200 functions at -vvv is several MB of text: more than execFileSync's default buffer. */
const runReal = (args: string[]): { stdout: string; status: number } => ({
  stdout: execFileSync(REAL_LSPCI, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 28,
  }),
  status: 0,
});
const SLOW = 120_000;

describe.skipIf(!usable)('real lspci reads the modeled default topology', () => {
  const host = usable ? fullyEnabledHost() : undefined;

  it('has every function: 3 PFs, 1024 + 127 + 16 VFs, 3 root ports, the host bridge', () => {
    expect(host!.pci.devices.filter((d) => d.isVirtfn)).toHaveLength(1024 + 127 + 16);
    expect(host!.pci.devices).toHaveLength(1024 + 127 + 16 + 3 + 3 + 1);
  });

  let cachedDump: string | undefined;
  const dumpFile = (): string => {
    if (cachedDump !== undefined) return cachedDump;
    const dir = mkdtempSync(join(tmpdir(), 'vfiolab-topo-'));
    const file = join(dir, 'default.xxxx');
    const r = runLspci(['-xxxx'], lspciDevices(host!, ['-xxxx']), nodeIo);
    expect(r.status).toBe(0);
    writeFileSync(file, r.stdout);
    cachedDump = file;
    return file;
  };

  for (const opts of [['-n', '-vvv'], ['-vvv'], ['-nn', '-vv'], ['-t', '-v'], ['-xxx']]) {
    it(
      `-F dump ${opts.join(' ')}`,
      () => {
        const file = dumpFile();
        const real = runReal(['-i', SYSTEM_IDS, ...NO_HWDB, '-F', file, ...opts]);
        const ours = runLspci(['-i', SYSTEM_IDS, '-F', file, ...opts], [], nodeIo);
        expect(real.status).toBe(0);
        expect(ours.status).toBe(0);
        expect(lines(ours.stdout)).toEqual(lines(real.stdout));
      },
      SLOW,
    );
  }

  let cachedLive: { devices: ReturnType<typeof lspciDevices>; root: string } | undefined;
  const liveView = () => {
    if (cachedLive !== undefined) return cachedLive;
    // The real lspci finds "Kernel modules" through libkmod on this machine's own kernel, which knows
    // nothing of the modeled modules, so that one line is left out of the comparison.
    const devices = lspciDevices(host!, ['-xxxx']).map((d) => {
      const { modules: _modules, ...sysfs } = d.sysfs!;
      return { ...d, sysfs };
    });
    cachedLive = { devices, root: writeFakeSysfs(devices) };
    return cachedLive;
  };

  for (const opts of [['-n', '-vvv'], ['-vvv', '-k'], ['-nn'], ['-tv']]) {
    it(
      `live (sysfs) ${opts.join(' ')}`,
      () => {
        const { devices, root } = liveView();
        const real = runReal([
          '-A',
          'linux-sysfs',
          '-O',
          `sysfs.path=${root}`,
          '-i',
          SYSTEM_IDS,
          ...NO_HWDB,
          ...opts,
        ]);
        const ours = runLspci(['-i', SYSTEM_IDS, ...opts], devices, nodeIo);
        expect(real.status).toBe(0);
        expect(lines(ours.stdout)).toEqual(lines(real.stdout));
      },
      SLOW,
    );
  }
});
