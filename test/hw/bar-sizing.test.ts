/**
 * The BAR sizing protocol (PCI Local Bus 3.0, 6.2.5.1) run as an OS runs it, against hand-written
 * tables of sizes and flags, for the type 0 BARs and for the per-VF BARs of the SR-IOV capability
 * (facts/kernel.md 5.1: VF BAR0..5 at +0x24, one VF's size each).
 */
import { describe, expect, it } from 'vitest';
import {
  createDevice,
  type DeviceKind,
  type PciFunction,
  PciFunction as PciFunctionClass,
} from '../../src/hw/index.js';
import { KiB, MiB, type SizedBar, sizeBar, testHost } from './support.js';

type BarTable = ReadonlyArray<SizedBar | undefined>;

const EXPECTED_BARS: Record<DeviceKind, { pf: BarTable; vf: BarTable; sriovAt: number }> = {
  'virtio-net': {
    pf: [
      undefined,
      { kind: 'mem32', prefetchable: false, sizeBytes: 4n * KiB },
      undefined,
      undefined,
      { kind: 'mem64', prefetchable: true, sizeBytes: 16n * KiB },
      undefined,
    ],
    vf: [
      undefined,
      { kind: 'mem32', prefetchable: false, sizeBytes: 4n * KiB },
      undefined,
      undefined,
      { kind: 'mem64', prefetchable: true, sizeBytes: 16n * KiB },
      undefined,
    ],
    sriovAt: 0x108,
  },
  mnic: {
    pf: [
      { kind: 'mem64', prefetchable: true, sizeBytes: 32n * MiB },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ],
    vf: [
      { kind: 'mem64', prefetchable: true, sizeBytes: 1n * MiB },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ],
    sriovAt: 0x108,
  },
  accel: {
    pf: [
      { kind: 'mem32', prefetchable: false, sizeBytes: 64n * KiB },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ],
    vf: [
      { kind: 'mem32', prefetchable: false, sizeBytes: 16n * KiB },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ],
    sriovAt: 0x100,
  },
};

/** Size BARs 0..5 at `base`, skipping the upper half of each 64-bit BAR as pci_read_bases does. */
function sizeAll(fn: PciFunction, base: number): BarTable {
  const read = (o: number, w: 1 | 2 | 4) => fn.config.read(o, w);
  const write = (o: number, w: 1 | 2 | 4, v: number) => fn.config.write(o, w, v);
  const out: Array<SizedBar | undefined> = [];
  for (let i = 0; i < 6; i++) {
    const bar = sizeBar(read, write, base + 4 * i);
    out.push(bar);
    if (bar?.kind === 'mem64') {
      out.push(undefined);
      i++;
    }
  }
  return out;
}

const KINDS: DeviceKind[] = ['virtio-net', 'mnic', 'accel'];

describe.each(KINDS.map((k) => [k] as [DeviceKind]))('%s BAR sizing', (kind) => {
  const e = EXPECTED_BARS[kind];

  it('type 0 BARs size to the table; sizing restores the registers', () => {
    const fn = createDevice(testHost().ctx, kind, { name: `${kind}0` });
    const before = fn.config.snapshot(0x40);
    expect(sizeAll(fn, 0x10)).toEqual(e.pf);
    expect(fn.config.snapshot(0x40)).toEqual(before);
  });

  it('SR-IOV VF BARs size to the per-VF table', () => {
    const fn = createDevice(testHost().ctx, kind, { name: `${kind}0` });
    expect(sizeAll(fn, e.sriovAt + 0x24)).toEqual(e.vf);
  });
});

describe('programming BAR addresses', () => {
  it('virtio-net: BAR1 (mem32) and BAR4 (64-bit) read back with their flags', () => {
    const fn = createDevice(testHost().ctx, 'virtio-net', { name: 'vnet0' });
    fn.config.write(0x14, 4, 0xfe001000);
    fn.config.write(0x20, 4, 0x80004000);
    fn.config.write(0x24, 4, 0x00000001);
    expect(fn.config.read(0x14, 4)).toBe(0xfe001000);
    expect(fn.config.read(0x20, 4)).toBe(0x8000400c);
    expect(fn.config.read(0x24, 4)).toBe(0x00000001);
    expect(fn.barAddress(1)).toBe(0xfe001000n);
    expect(fn.barAddress(4)).toBe(0x1_8000_4000n);
    expect(fn.barAddress(0)).toBeUndefined();
    // Address bits below the size are RO 0: a misaligned address is truncated to the BAR's alignment.
    fn.config.write(0x14, 4, 0xfe001abc);
    expect(fn.config.read(0x14, 4)).toBe(0xfe001000);
    fn.config.write(0x20, 4, 0x80006000);
    expect(fn.config.read(0x20, 4)).toBe(0x8000400c);
  });

  it('mnic: 64-bit BAR0 keeps 32 MiB alignment', () => {
    const fn = createDevice(testHost().ctx, 'mnic', { name: 'mnic0' });
    fn.config.write(0x10, 4, 0x43ffffff);
    fn.config.write(0x14, 4, 0x00000020);
    expect(fn.config.read(0x10, 4)).toBe(0x4200000c);
    expect(fn.config.read(0x14, 4)).toBe(0x00000020);
    expect(fn.barAddress(0)).toBe(0x20_4200_0000n);
  });

  it('accel: VF BAR0 template and each VF at base + n x 16 KiB', () => {
    const fn = createDevice(testHost().ctx, 'accel', { name: 'acc0', totalVfs: 4 });
    fn.config.write(0x100 + 0x24, 4, 0xc0100000);
    expect(fn.config.read(0x100 + 0x24, 4)).toBe(0xc0100000);
    fn.config.write(0x100 + 0x10, 2, 4);
    fn.config.write(0x100 + 0x08, 2, 0x09); // VFE | VF MSE
    const vfs = fn.sriov!.vfs;
    expect(vfs.map((vf) => vf.barAddress(0))).toEqual([0xc0100000n, 0xc0104000n, 0xc0108000n, 0xc010c000n]);
    expect(vfs.map((vf) => vf.barSize(0))).toEqual([0x4000n, 0x4000n, 0x4000n, 0x4000n]);
  });

  it('virtio-net: 64-bit VF BAR4 template across both halves', () => {
    const fn = createDevice(testHost().ctx, 'virtio-net', { name: 'vnet0', totalVfs: 3 });
    fn.config.write(0x108 + 0x34, 4, 0x00010000);
    fn.config.write(0x108 + 0x38, 4, 0x00000002);
    expect(fn.config.read(0x108 + 0x34, 4)).toBe(0x0001000c);
    expect(fn.config.read(0x108 + 0x38, 4)).toBe(0x00000002);
    fn.config.write(0x108 + 0x10, 2, 3);
    fn.config.write(0x108 + 0x08, 2, 0x09);
    expect(fn.sriov!.vfs.map((vf) => vf.barAddress(4))).toEqual([
      0x2_0001_0000n,
      0x2_0001_4000n,
      0x2_0001_8000n,
    ]);
  });
});

describe('BAR sizes at the edges', () => {
  it('smallest and largest BARs of each kind size correctly', () => {
    const fn = new PciFunctionClass(testHost().ctx, {
      name: 'edges0',
      role: { kind: 'endpoint' },
      identity: {
        vendorId: 0x1f00,
        deviceId: 0x0001,
        revisionId: 0,
        classCode: 0xff0000,
        subsystemVendorId: 0,
        subsystemId: 0,
      },
      bars: [
        { kind: 'mem32', sizeBytes: 16, prefetchable: false },
        { kind: 'mem64', sizeBytes: 128n, prefetchable: false },
        undefined,
        { kind: 'mem64', sizeBytes: 8n * 1024n * MiB, prefetchable: true },
        undefined,
        { kind: 'io', sizeBytes: 4 },
      ],
    });
    expect(sizeAll(fn, 0x10)).toEqual([
      { kind: 'mem32', prefetchable: false, sizeBytes: 16n },
      { kind: 'mem64', prefetchable: false, sizeBytes: 128n },
      undefined,
      { kind: 'mem64', prefetchable: true, sizeBytes: 0x2_0000_0000n },
      undefined,
      { kind: 'io', prefetchable: false, sizeBytes: 4n },
    ]);
    // Raw read-backs of all-ones: address bits below the size read 0, flags stay.
    fn.config.write(0x14, 4, 0xffffffff);
    expect(fn.config.read(0x14, 4)).toBe(0xffffff84);
    fn.config.write(0x1c, 4, 0xffffffff);
    fn.config.write(0x20, 4, 0xffffffff);
    expect(fn.config.read(0x1c, 4)).toBe(0x0000000c);
    expect(fn.config.read(0x20, 4)).toBe(0xfffffffe);
  });
});

describe('I/O BARs', () => {
  it('an I/O BAR sizes as I/O and is never decoded by a memory request', () => {
    const { ctx } = testHost();
    const fn = new PciFunctionClass(ctx, {
      name: 'legacy0',
      role: { kind: 'endpoint' },
      identity: {
        vendorId: 0x1af4,
        deviceId: 0x1000,
        revisionId: 0,
        classCode: 0x020000,
        subsystemVendorId: 0,
        subsystemId: 1,
      },
      bars: [{ kind: 'io', sizeBytes: 32 }],
    });
    const bar = sizeBar(
      (o, w) => fn.config.read(o, w),
      (o, w, v) => fn.config.write(o, w, v),
      0x10,
    );
    expect(bar).toEqual({ kind: 'io', prefetchable: false, sizeBytes: 32n });
    fn.config.write(0x10, 4, 0x0000c020);
    expect(fn.config.read(0x10, 4)).toBe(0x0000c021);
    // Command: I/O Space is RW on a function with an I/O BAR.
    fn.config.write(0x04, 2, 0x0003);
    expect(fn.config.read(0x04, 2)).toBe(0x0003);
    // A memory request at the same number is not an I/O access.
    expect(fn.decodeMemory(0xc020n)).toBeUndefined();
    expect(fn.decodeMemory(0xc030n)).toBeUndefined();
  });
});
