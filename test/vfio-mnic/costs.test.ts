/**
 * What each design costs in modeled time on the default cost model, step by step, for one function and
 * for a batch: the numbers docs/vfio-aux-vs-pf-drvdata.md quotes. Print them with
 *   VFIOLAB_PRINT_COSTS=1 npx vitest run test/vfio-mnic/costs.test.ts
 * The assertions check the shape the designs imply (which steps exist, which are free), never how fast
 * the simulator runs.
 */
import { describe, expect, it } from 'vitest';
import { VfioFdTable } from '../../src/kernel/vfio/core/index.js';
import type { Host } from '../../src/lab/index.js';
import { Lab } from '../../src/lab/index.js';
import { auxToVfio, drive, enableDevice, sh, vfToVfio } from './nic-flows.js';
import { CONFIG_REGION, M, MNIC_PF, openVfio, REGION, readAll, setMigState, streamOf } from './support.js';

const MAC = Uint8Array.from([0x02, 0, 0, 0, 0, 0x42]);
const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;

function timed(host: Host, f: () => void): number {
  const t0 = host.clock.nowNs;
  f();
  return host.clock.nowNs - t0;
}

type Path = 'vf (mnic_vfio_pci)' | 'sf (vfio_mnic_aux)' | 'siov (vfio_mnic_aux)';

/** One function, host0 → host1: each step's modeled ns. */
function onePath(path: Path) {
  const lab = Lab.default();
  const [h0, h1] = [lab.host('host0'), lab.host('host1')];
  const kind = path.startsWith('vf') ? 'vf' : path.startsWith('sf') ? 'sf' : 'siov';
  // The eswitch mode is host setup both VF ports and SFs need; it is not part of either path.
  for (const h of [h0, h1]) sh(h, `devlink dev eswitch set pci/${MNIC_PF} mode switchdev`);
  const make = (h: Host) =>
    kind === 'vf'
      ? vfToVfio(h, { mac: MAC, migratable: true })
      : auxToVfio(h, kind, { mac: MAC, migratable: true });
  let src = '';
  let dst = '';
  const toVfio = timed(h0, () => {
    src = make(h0);
  });
  timed(h1, () => {
    dst = make(h1);
  });
  let fs = undefined as unknown as ReturnType<typeof openVfio>;
  const open = timed(h0, () => {
    fs = openVfio(h0, src);
  });
  const fd = openVfio(h1, dst);
  enableDevice(fs);
  enableDevice(fd);
  drive(h0, fs, new Uint8Array(256).fill(0x5a));
  drive(h1, fd, new Uint8Array(4));
  // Cache line size .. BIST (0x0c): passed through to hardware by vfio-pci (facts 3.7).
  const configRead = timed(h0, () => fs.read(REGION(CONFIG_REGION) + 0x0cn, 4));
  const barRead = timed(h0, () => fs.read(REGION(0), 4));
  let image: Uint8Array = new Uint8Array(0);
  const save = timed(h0, () => {
    const sc = setMigState(fs, M.STOP_COPY);
    image = readAll(streamOf(fs, sc.fd), 1 << 20);
  });
  const load = timed(h1, () => {
    const res = setMigState(fd, M.RESUMING);
    streamOf(fd, res.fd).write(image);
    setMigState(fd, M.STOP);
  });
  const resume = timed(h1, () => setMigState(fd, M.RUNNING));
  return { path, toVfio, open, configRead, barRead, save, load, resume, streamBytes: image.length };
}

/**
 * N functions straight to VFIO (the VF path as an orchestrator does it, the others batched), then all
 * N opened at once as a VMM's threads would (VfioCore.openMany under the host's dev_set policy).
 */
function batch(path: Path, n: number): { toVfioNs: number; openAllNs: number } {
  const h = Lab.default().host('host0');
  sh(h, `devlink dev eswitch set pci/${MNIC_PF} mode switchdev`);
  const toVfioNs = timed(h, () => {
    if (path.startsWith('vf')) {
      const pf = `/sys/bus/pci/devices/${MNIC_PF}`;
      sh(h, `echo 0 > ${pf}/sriov_drivers_autoprobe`);
      sh(h, `echo ${n} > ${pf}/sriov_numvfs`);
      sh(h, 'modprobe mnic_vfio_pci');
      for (let i = 0; i < n; i++) {
        sh(h, `devlink port function set pci/${MNIC_PF}/${i + 1} migratable enable`);
        const vf = h.kernel.core.devices('pci').filter((d) => h.kernel.pdev(d).vfIndex === i)[0]!.name;
        sh(h, `echo mnic_vfio_pci > /sys/bus/pci/devices/${vf}/driver_override`);
        sh(h, `echo ${vf} > /sys/bus/pci/drivers_probe`);
      }
    } else {
      const p = h.kernel.functions.find('pci', MNIC_PF)!;
      p.create(path.startsWith('sf') ? 'sf' : 'siov', n, { driver: 'vfio', migratable: true });
      h.kernel.settle();
    }
  });
  const core = h.kernel.vfio;
  const openAllNs = core.openMany(core.devices, new VfioFdTable()).makespanNs;
  return { toVfioNs, openAllNs };
}

const PATHS: Path[] = ['vf (mnic_vfio_pci)', 'sf (vfio_mnic_aux)', 'siov (vfio_mnic_aux)'];

describe('modeled cost per path', () => {
  it('one function host0 → host1, and 64 functions to VFIO', () => {
    const rows = PATHS.map(onePath);
    const batches = PATHS.map((p) => {
      const b = batch(p, 64);
      return { path: p, count: 64, toVfioMs: ms(b.toVfioNs), openAllMs: ms(b.openAllNs) };
    });
    if (process.env.VFIOLAB_PRINT_COSTS) {
      const table = rows.map((r) => ({
        path: r.path,
        toVfioMs: ms(r.toVfio),
        openMs: ms(r.open),
        configRead4Us: r.configRead / 1e3,
        bar0Read4Us: r.barRead / 1e3,
        saveMs: ms(r.save),
        loadMs: ms(r.load),
        resumeMs: ms(r.resume),
        streamBytes: r.streamBytes,
      }));
      console.log(JSON.stringify({ onePath: table, batches }, null, 2));
    }
    const [vf, sf, siov] = rows as [
      ReturnType<typeof onePath>,
      ReturnType<typeof onePath>,
      ReturnType<typeof onePath>,
    ];
    // The VF's first open runs an FLR (100 ms default); the carved functions have none to run.
    expect(vf.open).toBeGreaterThanOrEqual(100_000_000);
    expect(sf.open).toBe(0);
    expect(siov.open).toBe(0);
    // Config space: the VF's is real (config cycles), the aux device's is emulated (free).
    expect(vf.configRead).toBeGreaterThan(0);
    expect(siov.configRead).toBe(0);
    // Opening the batch: VF FLRs serialize on the bus's dev_set (6.12 default policy); no FLR for aux.
    expect(batches[0]!.openAllMs).toBeGreaterThanOrEqual(64 * 100);
    expect(batches[2]!.openAllMs).toBe(0);
    // Both move the same firmware image: the stream is the same size.
    expect(new Set(rows.map((r) => r.streamBytes)).size).toBe(1);
  });
});
