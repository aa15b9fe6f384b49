/**
 * The mnic topology knobs (maxSfs, maxSiovFns, siovRidPool): defaults resolved against the root port,
 * the errors a bad file gets, and scale: a topology with 10000 SFs and 10000 SIOV functions builds and
 * fills both tables (behaviour only; the benchmark reports time).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY, resolveMnicKnobs, validateTopology } from '../../src/lab/index.js';
import { errnoOf, mnicHost } from './kernel-host.js';

const topo = (device: Record<string, unknown>, port: Record<string, unknown> = {}) => ({
  hosts: [
    {
      name: 'h',
      rootPorts: [
        {
          name: 'rp',
          address: '00:02.0',
          secondaryBus: 0x10,
          subordinateBus: 0x1f,
          ...port,
          devices: [{ kind: 'mnic', name: 'mnic0', address: '10:00.0', ...device }],
        },
      ],
    },
  ],
});

const errorOf = (t: unknown): string => {
  try {
    validateTopology(t, 't');
    return '';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('mnic topology knobs', () => {
  it('defaults: 256 SFs; SIOV RIDs from the buses after the VFs, 1024 functions or what the pool holds', () => {
    const wide = validateTopology(topo({}), 't').hosts[0]!.rootPorts[0]!;
    expect(resolveMnicKnobs(wide.devices[0]!, wide, true, 't')).toEqual({
      maxSfs: 256,
      maxSiovFns: 1024,
      siovRidBase: 0x1100,
      siovRidCount: 15 * 256,
    });
    // The default topology's NIC port spans buses 10-1f: 1024 SIOV functions from bus 11 on.
    const def = validateTopology(DEFAULT_TOPOLOGY, 'd').hosts[0]!.rootPorts[1]!;
    expect(resolveMnicKnobs(def.devices[0]!, def, true, 'd')).toMatchObject({
      maxSiovFns: 1024,
      siovRidBase: 0x1100,
    });
    // A port with one spare bus holds 256 RIDs: 128 functions of two RIDs each.
    const narrow = validateTopology(topo({}, { subordinateBus: 0x11 }), 'n').hosts[0]!.rootPorts[0]!;
    expect(resolveMnicKnobs(narrow.devices[0]!, narrow, true, 'n')).toMatchObject({
      maxSiovFns: 128,
      siovRidBase: 0x1100,
    });
  });

  it('rejects knobs on other kinds, pools outside the port or over the VFs, and too many SIOV functions', () => {
    expect(errorOf(topo({ kind: 'accel', address: '10:00.0', maxSfs: 4 }, { ariForwarding: false }))).toMatch(
      /devices\[0\]\.maxSfs: only an mnic device has this knob/,
    );
    expect(errorOf(topo({ siovRidPool: { firstBus: 0x12, lastBus: 0x30 } }))).toMatch(
      /siovRidPool: buses 12-30 are not behind the port/,
    );
    expect(errorOf(topo({ siovRidPool: { firstBus: 0x10, lastBus: 0x12 } }))).toMatch(
      /siovRidPool: bus 10 holds/,
    );
    expect(errorOf(topo({ siovRidPool: { firstBus: 0x14, lastBus: 0x12 } }))).toMatch(
      /lastBus 18 is below firstBus 20/,
    );
    expect(errorOf(topo({ maxSiovFns: 2000 }))).toMatch(
      /maxSiovFns: 2000 SIOV functions need 4000 RIDs; the pool has 3840/,
    );
    expect(errorOf(topo({ maxSfs: 0x8001 }))).toMatch(/maxSfs: must be <= 32768/);
    expect(errorOf(topo({ siovRidPool: { firstBus: 0x12, lastBus: 0x12 }, maxSiovFns: 128 }))).toBe('');
  });

  it('a pool that would reach another device’s VFs is a RID overlap', () => {
    const t = topo({ totalVfs: 2, siovRidPool: { firstBus: 0x11, lastBus: 0x11 } });
    (t.hosts[0]!.rootPorts[0]!.devices as unknown[]).push({
      kind: 'virtio-net',
      name: 'v0',
      address: '10:01.0',
      totalVfs: 600,
    });
    expect(errorOf(t)).toMatch(/overlaps/);
  });
});

describe('mnic at scale', () => {
  it('10000 SFs and 10000 SIOV functions in one host', () => {
    const { fw, host } = mnicHost({ maxSfs: 10_000, maxSiovFns: 10_000, subordinateBus: 0x6f });
    const caps = fw.queryHcaCaps();
    expect([caps.maxSfs, caps.maxSiovFns]).toEqual([10_000, 10_000]);
    const siov = fw.createSiovFns(10_000);
    expect(siov.at(-1)).toMatchObject({ fnId: 0x10000 + 9999, guestRid: 0x1100 + 19998 });
    for (let i = 0; i < 10_000; i++) fw.allocSf(i);
    expect(errnoOf(() => fw.allocSf(10_000))).toBe('ENOSPC');
    const bar2 = host.kernel.pdev(host.kernel.findPciDevice('0000:10:00.0')!).resources[2]!;
    expect(bar2.end - bar2.start + 1n).toBe(128n << 20n);
  });
});
