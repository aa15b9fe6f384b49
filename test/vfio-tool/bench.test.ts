/**
 * `vfiolab bench vfio`: the JSON shape and the modeled makespans, computed by hand. 1000 VFs of the
 * default virtio-net PF (ARI, First VF Offset 1, stride 1) have RIDs 0x0101..0x04e8: bus 01 holds 255
 * (01:00.1..01:1f.7), buses 02 and 03 hold 256 each, bus 04 the last 233. With the dev_set shared per
 * bus the FLRs (100 ms each, costs.md) of a bus run one after another, so the FLR makespan is the
 * busiest bus: 256 x 100 ms = 25.6 s; with one dev_set per VF they all overlap: 100 ms.
 */
import { describe, expect, it } from 'vitest';
import { VIRTIO_VFIO_RECORD_HEADER_BYTES } from '../../src/kernel/drivers/virtio-vfio-pci/index.js';
import { benchVfio } from '../../src/lab/cli/bench-vfio.js';
import { runCli } from '../../src/lab/cli/main.js';
import type { Platform } from '../../src/lab/index.js';

function platform(): { p: Platform; out: () => string; err: () => string } {
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

describe('bench vfio', () => {
  it('1000 VFs: serialized per bus is the busiest bus of FLRs, parallel is one FLR', () => {
    const { p } = platform();
    const j = benchVfio(p, { devices: 1000, stateBytes: 1000, rounds: 3, runs: 1 }) as Record<string, any>;
    expect(j['bench']).toBe('vfio');
    expect(j['open']['vfsPerBus']).toEqual({
      '0000:01': 255,
      '0000:02': 256,
      '0000:03': 256,
      '0000:04': 233,
    });
    const s = j['open']['serializedPerBus'];
    const par = j['open']['parallel'];
    expect(s).toMatchObject({ policy: 'serialized-per-bus', devices: 1000, modeledFlrMakespanMs: 25_600 });
    expect(par).toMatchObject({ policy: 'parallel', devices: 1000, modeledFlrMakespanMs: 100 });
    // The whole batch adds the opens' config cycles (microseconds each) to the FLR waits.
    expect(s.modeledMakespanMs).toBeGreaterThanOrEqual(25_600);
    expect(par.modeledMakespanMs).toBeGreaterThanOrEqual(100);
    expect(s.modeledMakespanMs - 25_600).toBeCloseTo(par.modeledMakespanMs - 100, 3);
    expect(typeof s.wallMs).toBe('number');
    expect(j['open']['ratios']['modeledSerializedToParallel']).toBeCloseTo(
      s.modeledMakespanMs / par.modeledMakespanMs,
      2,
    );
    expect(j['stateTransfer']).toMatchObject({ runs: 1, roundsPerRun: 3 });
    // The real driver's image (the VF's device parts) has the size the device gives it, not stateBytes.
    expect(j['stateTransfer']['bytesPerRound']).toBeGreaterThan(VIRTIO_VFIO_RECORD_HEADER_BYTES);
    expect(j['stateTransfer']['driver']).toContain('virtio-vfio-pci');
    expect(j['stateTransfer']['wallSaveMBPerSecMedian']).toBeGreaterThan(0);
    expect(j['stateTransfer']['wallRestoreMBPerSecMedian']).toBeGreaterThan(0);
  });

  it('is a CLI subcommand printing one JSON line, and rejects bad counts', async () => {
    const a = platform();
    expect(
      await runCli(['bench', 'vfio', '--devices', '8', '--rounds', '2', '--runs', '1', '--json'], a.p),
    ).toBe(0);
    const j = JSON.parse(a.out());
    expect(a.out().trim().split('\n')).toHaveLength(1);
    expect(j['open']['vfsPerBus']).toEqual({ '0000:01': 8 });
    expect(j['open']['serializedPerBus']['modeledFlrMakespanMs']).toBe(800);
    expect(j['open']['parallel']['modeledFlrMakespanMs']).toBe(100);
    const b = platform();
    expect(await runCli(['bench', 'vfio', '--devices', '0'], b.p)).toBe(2);
    expect(b.err()).toContain('--devices');
  });
});
