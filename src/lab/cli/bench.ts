/**
 * `vfiolab bench pci`: how fast the model itself runs, beside what it predicts.
 * - Config reads per second (wall), on three paths to the same register: the config space object
 *   directly, a config cycle routed through the fabric, and a kernel config read (the path sysfs and
 *   lspci use); ratios compare the paths in one run.
 * - Enabling 1024 VFs of the virtio-net PF with VF autoprobe off (the PCI core alone: NumVFs, VF Enable,
 *   the 100 ms wait, setting up each VF by config cycles): wall time, and the modeled time it predicts.
 * Medians over repeated runs; the machines are shared and noisy.
 */
import type { Rid } from '../../base/index.js';
import { Lab } from '../lab.js';
import type { Platform } from '../platform.js';

export interface BenchOptions {
  readonly reads: number;
  readonly runs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function benchPci(platform: Platform, o: BenchOptions): Record<string, unknown> {
  const lab = Lab.default();
  const host = lab.host();
  const pfInfo = host.devices.find((d) => d.kind === 'virtio-net')!;
  const pf = host.pci.find(pfInfo.bdf)!;
  const rid = pf.rid as Rid;
  const paths: Record<string, () => number> = {
    configSpace: () => pfInfo.fn.config.read(0, 4),
    fabric: () => host.fabric.configRead(rid, 0, 4),
    kernel: () => host.pci.cfg.read(rid, 0, 4),
  };
  const readsPerSec: Record<string, number> = {};
  let sink = 0;
  for (const [name, read] of Object.entries(paths)) {
    const rates: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      const t0 = platform.wallNowNs();
      for (let i = 0; i < o.reads; i++) sink ^= read();
      rates.push(o.reads / ((platform.wallNowNs() - t0) / 1e9));
    }
    readsPerSec[name] = Math.round(median(rates));
  }
  const m0 = host.clock.nowNs;
  host.pci.cfg.read(rid, 0, 4);
  const modeledPerReadNs = host.clock.nowNs - m0;

  const enableWall: number[] = [];
  const enableModeled: number[] = [];
  const disableModeled: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const h = Lab.default().host();
    const dev = h.pci.find(pfInfo.bdf)!;
    // The PCI core's own cost: no VF driver probes (bench sriov compares those paths).
    dev.sriov!.driversAutoprobe = false;
    const t0 = platform.wallNowNs();
    const c0 = h.clock.nowNs;
    h.pci.enableSriov(dev, 1024);
    enableWall.push(platform.wallNowNs() - t0);
    enableModeled.push(h.clock.nowNs - c0);
    const c1 = h.clock.nowNs;
    h.pci.disableSriov(dev);
    disableModeled.push(h.clock.nowNs - c1);
  }
  return {
    bench: 'pci',
    machine: platform.machine(),
    runs: o.runs,
    configReads: {
      readsPerRun: o.reads,
      wallReadsPerSecMedian: readsPerSec,
      ratioFabricToConfigSpace: round3(readsPerSec['fabric']! / readsPerSec['configSpace']!),
      ratioKernelToFabric: round3(readsPerSec['kernel']! / readsPerSec['fabric']!),
      modeledNsPerRead: modeledPerReadNs,
    },
    enable1024VfsAutoprobeOff: {
      wallMsMedian: round3(median(enableWall) / 1e6),
      modeledMs: round3(median(enableModeled) / 1e6),
      modeledDisableMs: round3(median(disableModeled) / 1e6),
      ratioModeledToWall: round3(median(enableModeled) / median(enableWall)),
    },
    checksum: sink & 0xff,
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
