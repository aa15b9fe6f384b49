/**
 * The kernel's SR-IOV enable/disable on a modeled host, against facts/kernel.md 5.2-5.3: errno rules,
 * VF addresses (hand-computed), the modeled waits, and state left unchanged on refusal.
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../src/base/index.js';
import { Lab } from '../../src/lab/index.js';

function host(topology?: unknown) {
  const lab = topology === undefined ? Lab.default() : Lab.fromTopology(topology, 'test');
  return lab.host();
}

function errnoOf(f: () => void): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof LabError) return e.errno;
    throw e;
  }
  return undefined;
}

const pfAt = (h: ReturnType<typeof host>, name: string) => h.pci.devices.find((d) => d.name === name)!;

describe('boot', () => {
  it('finds exactly the functions of the default topology by config cycles', () => {
    const h = host();
    expect(h.pci.devices.map((d) => d.name)).toEqual([
      '0000:00:00.0',
      '0000:00:01.0',
      '0000:00:02.0',
      '0000:00:03.0',
      '0000:01:00.0',
      '0000:10:00.0',
      '0000:20:00.0',
    ]);
    const pf = pfAt(h, '0000:01:00.0');
    expect([pf.vendor, pf.device, pf.classCode]).toEqual([0x1af4, 0x1041, 0x020000]);
    expect(pf.sriov?.totalVfs).toBe(1024);
    // ARI is enabled below 00:01.0, so offset 1 / stride 1; the accelerator has no ARI.
    expect([pf.sriov?.offset, pf.sriov?.stride, pf.ariEnabled]).toEqual([1, 1, true]);
    const acc = pfAt(h, '0000:20:00.0');
    expect([acc.sriov?.offset, acc.sriov?.stride, acc.ariEnabled]).toEqual([0x100, 8, false]);
  });

  it('assigns every BAR and IOV resource inside the root port windows', () => {
    const h = host();
    for (const d of h.pci.devices.filter((x) => x.hdrType === 0 && x.upstream !== undefined)) {
      for (const r of d.resources.filter((x) => x.flags !== 0)) {
        expect(r.start).not.toBe(0n);
        expect(r.start % (r.end - r.start + 1n) === 0n || d.sriov !== undefined).toBe(true);
      }
    }
  });
});

describe('sriov enable', () => {
  it('puts VFs where the routing-ID formula says, including spill onto following buses', () => {
    const h = host();
    const pf = pfAt(h, '0000:01:00.0');
    h.pci.enableSriov(pf, 1024);
    const vfs = pf.sriov!.vfs;
    expect(vfs).toHaveLength(1024);
    // PF 01:00.0 (RID 0x0100), offset 1, stride 1: VF0 = 0x0101, VF254 = 0x01ff, VF255 = 0x0200, VF1023 = 0x0500.
    expect(vfs[0]!.name).toBe('0000:01:00.1');
    expect(vfs[254]!.name).toBe('0000:01:1f.7');
    expect(vfs[255]!.name).toBe('0000:02:00.0');
    expect(vfs[1023]!.name).toBe('0000:05:00.0');
    expect(vfs[3]!.vendor).toBe(0x1af4);
    expect(vfs[3]!.device).toBe(0x1041);
    expect(vfs.every((v) => v.isVirtfn && v.physfn === pf)).toBe(true);
  });

  it('charges the 100 ms enable wait and the 1 s disable wait', () => {
    const h = host();
    const pf = pfAt(h, '0000:20:00.0');
    pf.sriov!.driversAutoprobe = false;
    const t0 = h.clock.nowNs;
    h.pci.enableSriov(pf, 2);
    const enable = h.clock.nowNs - t0;
    expect(enable).toBeGreaterThanOrEqual(100_000_000);
    expect(enable).toBeLessThan(101_000_000);
    const t1 = h.clock.nowNs;
    h.pci.disableSriov(pf);
    expect(h.clock.nowNs - t1).toBeGreaterThanOrEqual(1_000_000_000);
    expect(h.pci.devices.some((d) => d.isVirtfn)).toBe(false);
  });

  it('with autoprobe on, each VF also costs its driver probe (vfl_accel: core class, 50 ms)', () => {
    const h = host();
    const pf = pfAt(h, '0000:20:00.0');
    const t0 = h.clock.nowNs;
    h.pci.enableSriov(pf, 2);
    const enable = h.clock.nowNs - t0;
    expect(enable).toBeGreaterThanOrEqual(100_000_000 + 2 * 50_000_000);
    expect(enable).toBeLessThan(201_000_000);
  });

  it('gives VFs the IOV resource slices: VF n BAR = VF BAR base + n x size', () => {
    const h = host();
    const pf = pfAt(h, '0000:10:00.0');
    h.pci.enableSriov(pf, 3);
    const base = pf.resources[7]!.start;
    const vf2 = pf.sriov!.vfs[2]!;
    expect(vf2.resources[0]!.start).toBe(base + 2n * 0x100000n);
    expect(vf2.resources[0]!.end).toBe(base + 3n * 0x100000n - 1n);
  });

  it('refuses more than TotalVFs with EINVAL and a second enable with EINVAL', () => {
    const h = host();
    const pf = pfAt(h, '0000:10:00.0');
    expect(errnoOf(() => h.pci.enableSriov(pf, 128))).toBe('EINVAL');
    expect(pf.sriov!.numVfs).toBe(0);
    h.pci.enableSriov(pf, 1);
    expect(errnoOf(() => h.pci.enableSriov(pf, 2))).toBe('EINVAL');
    expect(pf.sriov!.numVfs).toBe(1);
  });

  it('refuses with ENOMEM when the last VF falls beyond the bridge bus range, leaving NumVFs 0', () => {
    // Buses 01-02 only: 1024 VFs would reach bus 05.
    const h = host({
      hosts: [
        {
          name: 'h',
          rootPorts: [
            {
              name: 'rp',
              address: '00:01.0',
              secondaryBus: 1,
              subordinateBus: 2,
              devices: [{ kind: 'virtio-net', name: 'v', address: '01:00.0' }],
            },
          ],
        },
      ],
    });
    const pf = pfAt(h, '0000:01:00.0');
    expect(errnoOf(() => h.pci.enableSriov(pf, 1024))).toBe('ENOMEM');
    expect(pf.sriov!.numVfs).toBe(0);
    expect(h.pci.devices.some((d) => d.isVirtfn)).toBe(false);
    expect(h.log.dmesg()).toContain("can't enable 1024 VFs (bus 05 out of range of [bus 01-02])");
    // 511 VFs end at RID 0x0100 + 511 = 0x02ff: bus 02 fits.
    h.pci.enableSriov(pf, 511);
    expect(pf.sriov!.vfs.at(-1)!.name).toBe('0000:02:1f.7');
  });

  it('is deterministic: the same topology gives the same modeled times', () => {
    const run = () => {
      const h = host();
      h.pci.enableSriov(pfAt(h, '0000:01:00.0'), 300);
      return h.clock.nowNs;
    };
    expect(run()).toBe(run());
  });
});
