/**
 * `vfiolab bench create`: the output's shape, the paths in their order, modeled times that repeat
 * exactly for the same seed, ratios that agree with the modeled times, and modeled times that are the
 * cost model's sums (a full probe per VF on path 1, none on path 2). Wall time comes from a fake clock
 * and is never asserted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COSTS } from '../../src/base/index.js';
import {
  type BenchCreateResult,
  benchCreate,
  CREATE_PATHS,
  type CreatePath,
} from '../../src/lab/cli/bench-create.js';
import { parseCreatePaths } from '../../src/lab/cli/bench-create-cli.js';
import { BENCH_MAX_COUNT, benchCreateTopology } from '../../src/lab/cli/bench-create-topology.js';
import { runCli } from '../../src/lab/cli/main.js';
import { Lab, type Platform } from '../../src/lab/index.js';

function platform() {
  let out = '';
  let err = '';
  let wall = 0;
  const p: Platform = {
    readFile: () => '',
    writeFile: () => undefined,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    wallNowNs: () => (wall += 1000),
    stdinIsTty: false,
    async *readLines() {},
    machine: () => ({ cpu: 'test', cores: 1, memoryBytes: 1, node: 'v20', os: 'test' }),
  };
  return { p, out: () => out, err: () => err };
}

const ms = (ns: number): number => ns / 1e6;

describe('bench create', () => {
  // 260 VFs: past 255, so the VFs spill onto the PF's next bus as ARI lays them out.
  const count = 260;
  const slow = 60_000;
  let first: BenchCreateResult;
  beforeAll(() => {
    first = benchCreate(platform().p, { count, runs: 2, seed: 7, warmupCount: 0 });
  }, slow);

  it('reports one entry per path, in path order, each measured or skipped with a reason', () => {
    expect(first.bench).toBe('create');
    expect(first.count).toBe(count);
    const names = [...first.paths.map((p) => p.path), ...first.skipped.map((s) => s.path)];
    expect([...names].sort()).toEqual([...CREATE_PATHS].sort());
    const order = (p: CreatePath) => CREATE_PATHS.indexOf(p);
    const measured = first.paths.map((p) => order(p.path));
    expect(measured).toEqual([...measured].sort((a, b) => a - b));
    // Paths 1 and 2 need nothing beyond SR-IOV and vfio-pci: they always run.
    expect(first.paths.slice(0, 2).map((p) => p.path)).toEqual(['sriov-autoprobe-rebind', 'sriov-override']);
    for (const p of first.paths) {
      expect(Object.keys(p).sort()).toEqual(
        ['count', 'modeledMs', 'modeledRatioToPath4', 'path', 'wallMs', 'wallUsPerFunction'].sort(),
      );
      expect(p.count).toBe(count);
      expect(p.modeledMs).toBeGreaterThan(0);
      expect(typeof p.wallMs).toBe('number');
    }
    for (const s of first.skipped) expect(s.skipped.length).toBeGreaterThan(0);
  });

  it(
    'gives the same modeled times for the same seed',
    () => {
      const again = benchCreate(platform().p, { count, runs: 1, seed: 7, warmupCount: 0 });
      expect(again.paths.map((p) => [p.path, p.modeledMs])).toEqual(
        first.paths.map((p) => [p.path, p.modeledMs]),
      );
    },
    slow,
  );

  it('ratios are each path over path 4, and path 4 over itself is 1', () => {
    const p4 = first.paths.find((p) => p.path === 'fn-batch');
    for (const p of first.paths) {
      if (p4 === undefined) {
        expect(p.modeledRatioToPath4).toBeNull();
        continue;
      }
      expect(p.modeledRatioToPath4).toBeCloseTo(p.modeledMs / p4.modeledMs, 2);
      expect(first.modeledRatioToPath4[p.path]).toBe(p.modeledRatioToPath4);
    }
    if (p4 !== undefined) expect(p4.modeledRatioToPath4).toBe(1);
  });

  it('path 1 pays a full net probe per VF, path 2 only the VFIO probe (facts/costs.md)', () => {
    const c = DEFAULT_COSTS;
    const [p1, p2] = first.paths;
    const probe = c.driverProbeNs;
    // Path 1: the enable wait, mnic_core + mnic_en on every VF, then vfio-pci on every VF.
    const p1Floor = c.vfEnableWaitNs + count * (probe.core + probe.netdev + probe.vfio);
    expect(p1!.modeledMs).toBeGreaterThanOrEqual(ms(p1Floor));
    expect(p1!.modeledMs).toBeLessThan(ms(p1Floor + count * 1_000_000));
    // Path 2: the enable wait and vfio-pci per VF, and no native probe at all.
    const p2Floor = c.vfEnableWaitNs + count * probe.vfio;
    expect(p2!.modeledMs).toBeGreaterThanOrEqual(ms(p2Floor));
    expect(p2!.modeledMs).toBeLessThan(ms(p2Floor + count * probe.stub * 10));
  });

  it('path 3 pays an SF driver probe per SF; path 4 no native probe at all', () => {
    const probe = DEFAULT_COSTS.driverProbeNs;
    const p3 = first.paths.find((p) => p.path === 'devlink-sf');
    const p4 = first.paths.find((p) => p.path === 'fn-batch');
    if (p3 !== undefined) expect(p3.modeledMs).toBeGreaterThanOrEqual(ms(count * (probe.core + probe.vfio)));
    if (p4 !== undefined) {
      expect(p4.modeledMs).toBeGreaterThanOrEqual(ms(count * probe.vfio));
      expect(p4.modeledMs).toBeLessThan(ms(count * (probe.vfio + probe.core)));
    }
  });

  it('the bench topology holds the largest count on the NIC port', () => {
    const lab = Lab.fromTopology(benchCreateTopology(BENCH_MAX_COUNT), 'bench');
    expect(lab.host().kernel.findPciDevice('0000:10:00.0')).toBeDefined();
  });

  it('--paths takes numbers and names and refuses others', () => {
    expect(parseCreatePaths('2,fn-batch,2')).toEqual(['sriov-override', 'fn-batch']);
    expect(parseCreatePaths('5')).toMatch(/unknown path '5'/);
  });

  it('runs from the command line and prints one JSON document', async () => {
    const t = platform();
    expect(
      await runCli(['bench', 'create', '--count', '4', '--runs', '1', '--paths', '2', '--json'], t.p),
    ).toBe(0);
    const r = JSON.parse(t.out()) as { paths: { path: string; count: number }[] };
    expect(r.paths).toEqual([expect.objectContaining({ path: 'sriov-override', count: 4 })]);
  });

  it('refuses a bad count or run number with status 2', async () => {
    for (const args of [
      ['--count', '0'],
      ['--count', '70000'],
      ['--count', 'x'],
      ['--runs', '0'],
    ]) {
      const t = platform();
      expect(await runCli(['bench', 'create', ...args], t.p)).toBe(2);
      expect(t.err()).toMatch(/^vfiolab bench create: --(count|runs) must be/);
    }
  });
});
