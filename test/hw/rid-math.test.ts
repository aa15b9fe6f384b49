/**
 * VF routing-ID arithmetic (facts/kernel.md 5.2) against a table computed by hand:
 * RID(VF i) = PF RID + First VF Offset + VF Stride x i; bus = RID >> 8, devfn = RID & 0xff.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import { lastVfBus, splitDevfn, vfBus, vfDevfn, vfIndexOf, vfRoutingId } from '../../src/hw/index.js';

/** [case, pfRid, offset, stride, index, bus, devfn] — worked out by hand. */
const TABLE: ReadonlyArray<readonly [string, number, number, number, number, number, number]> = [
  // ARI: offset 1, stride 1, PF at 01:00.0 (RID 0x0100).
  ['ARI first VF', 0x0100, 1, 1, 0, 0x01, 0x01],
  ['ARI VF 6 (devfn 0x07)', 0x0100, 1, 1, 6, 0x01, 0x07],
  ['ARI VF 7 (devfn 0x08, device 1 without ARI)', 0x0100, 1, 1, 7, 0x01, 0x08],
  ['ARI last devfn on the PF bus', 0x0100, 1, 1, 254, 0x01, 0xff],
  ['ARI first spill to the next bus', 0x0100, 1, 1, 255, 0x02, 0x00],
  ['ARI VF 511', 0x0100, 1, 1, 511, 0x03, 0x00],
  ['ARI VF 1023 of 1024 lands on bus 5 devfn 0', 0x0100, 1, 1, 1023, 0x05, 0x00],
  // No ARI, offset 0x100 stride 1: VFs start on the next bus; PF at 02:00.0.
  ['0x100/1 first VF', 0x0200, 0x100, 1, 0, 0x03, 0x00],
  ['0x100/1 VF 7 = 03:00.7', 0x0200, 0x100, 1, 7, 0x03, 0x07],
  ['0x100/1 VF 8 = 03:01.0', 0x0200, 0x100, 1, 8, 0x03, 0x08],
  ['0x100/1 VF 255 = 03:1f.7', 0x0200, 0x100, 1, 255, 0x03, 0xff],
  ['0x100/1 VF 256 = 04:00.0', 0x0200, 0x100, 1, 256, 0x04, 0x00],
  // No ARI, offset 0x100 stride 8: one device number per VF (function 0 each).
  ['0x100/8 first VF = 03:00.0', 0x0200, 0x100, 8, 0, 0x03, 0x00],
  ['0x100/8 VF 1 = 03:01.0', 0x0200, 0x100, 8, 1, 0x03, 0x08],
  ['0x100/8 VF 15 = 03:0f.0', 0x0200, 0x100, 8, 15, 0x03, 0x78],
  ['0x100/8 VF 31 = 03:1f.0', 0x0200, 0x100, 8, 31, 0x03, 0xf8],
  ['0x100/8 VF 32 = 04:00.0', 0x0200, 0x100, 8, 32, 0x04, 0x00],
  // PFs at a non-zero devfn.
  ['PF 05:02.1 offset 0x80 stride 2, VF 0', 0x0511, 0x80, 2, 0, 0x05, 0x91],
  ['PF 05:02.1 offset 0x80 stride 2, VF 55', 0x0511, 0x80, 2, 55, 0x05, 0xff],
  ['PF 05:02.1 offset 0x80 stride 2, VF 56', 0x0511, 0x80, 2, 56, 0x06, 0x01],
  ['PF 03:1f.7 offset 1 stride 1, VF 0', 0x03ff, 1, 1, 0, 0x04, 0x00],
  ['PF 00:01.2 offset 4 stride 3, VF 10', 0x000a, 4, 3, 10, 0x00, 0x2c],
  // The top of the RID space.
  ['PF ff:00.0 ARI, last possible VF', 0xff00, 1, 1, 254, 0xff, 0xff],
  ['PF fe:00.0 offset 0x100, last possible VF', 0xfe00, 0x100, 1, 255, 0xff, 0xff],
];

describe('VF routing IDs (hand table)', () => {
  it.each(TABLE)('%s', (_name, pfRid, firstVfOffset, vfStride, index, bus, devfn) => {
    const input = { pfRid, firstVfOffset, vfStride };
    expect(vfBus(input, index)).toBe(bus);
    expect(vfDevfn(input, index)).toBe(devfn);
    expect(vfRoutingId(input, index)).toBe(bus * 256 + devfn);
    // And back: the RID is VF `index` of this PF when at least index + 1 VFs exist.
    expect(vfIndexOf(input, bus * 256 + devfn, index + 1)).toBe(index);
    expect(vfIndexOf(input, bus * 256 + devfn, index)).toBeUndefined();
  });
});

describe('16-bit overflow', () => {
  const cases: ReadonlyArray<readonly [number, number, number, number]> = [
    [0xff00, 1, 1, 255], // 0xff00 + 1 + 255 = 0x10000
    [0xfe00, 0x100, 1, 256], // 0xfe00 + 0x100 + 256 = 0x10000
    [0xff00, 0x100, 8, 0], // 0x10000 already for VF 0
    [0x0100, 1, 1, 0xffff], // 0x0100 + 1 + 0xffff = 0x10100
  ];
  it.each(cases)('PF RID %i, offset %i, stride %i, VF %i throws', (pfRid, firstVfOffset, vfStride, index) => {
    const input = { pfRid, firstVfOffset, vfStride };
    let caught: unknown;
    try {
      vfRoutingId(input, index);
    } catch (e) {
      caught = e;
    }
    expect(isLabError(caught)).toBe(true);
    expect((caught as { code: string }).code).toBe('invalid-state');
    expect(() => vfBus(input, index)).toThrow();
    expect(() => vfDevfn(input, index)).toThrow();
  });
});

describe('vfIndexOf for RIDs that are not VFs', () => {
  const ari = { pfRid: 0x0100, firstVfOffset: 1, vfStride: 1 };
  const stride8 = { pfRid: 0x0200, firstVfOffset: 0x100, vfStride: 8 };
  it('the PF itself and RIDs below the first VF', () => {
    expect(vfIndexOf(ari, 0x0100, 4)).toBeUndefined();
    expect(vfIndexOf(ari, 0x00ff, 4)).toBeUndefined();
    expect(vfIndexOf(stride8, 0x02ff, 16)).toBeUndefined();
  });
  it('RIDs past the last enabled VF', () => {
    expect(vfIndexOf(ari, 0x0104, 4)).toBe(3);
    expect(vfIndexOf(ari, 0x0105, 4)).toBeUndefined();
    expect(vfIndexOf(stride8, 0x0378, 16)).toBe(15);
    expect(vfIndexOf(stride8, 0x0380, 16)).toBeUndefined();
  });
  it('RIDs between strided VFs', () => {
    expect(vfIndexOf(stride8, 0x0301, 16)).toBeUndefined();
    expect(vfIndexOf(stride8, 0x030f, 16)).toBeUndefined();
    expect(vfIndexOf(stride8, 0x0308, 16)).toBe(1);
  });
  it('no VFs, or a stride of 0', () => {
    expect(vfIndexOf(ari, 0x0101, 0)).toBeUndefined();
    expect(vfIndexOf({ pfRid: 0x0100, firstVfOffset: 1, vfStride: 0 }, 0x0101, 4)).toBeUndefined();
  });
});

describe('lastVfBus and splitDevfn', () => {
  it('the bus of the last VF (what must fit below the bridge)', () => {
    expect(lastVfBus({ pfRid: 0x0100, firstVfOffset: 1, vfStride: 1 }, 1024)).toBe(5);
    expect(lastVfBus({ pfRid: 0x0100, firstVfOffset: 1, vfStride: 1 }, 254)).toBe(1);
    expect(lastVfBus({ pfRid: 0x0100, firstVfOffset: 1, vfStride: 1 }, 255)).toBe(1);
    expect(lastVfBus({ pfRid: 0x0100, firstVfOffset: 1, vfStride: 1 }, 256)).toBe(2);
    expect(lastVfBus({ pfRid: 0x0200, firstVfOffset: 0x100, vfStride: 8 }, 32)).toBe(3);
    expect(lastVfBus({ pfRid: 0x0200, firstVfOffset: 0x100, vfStride: 8 }, 33)).toBe(4);
    expect(lastVfBus({ pfRid: 0x0200, firstVfOffset: 0x100, vfStride: 8 }, 0)).toBe(2);
  });
  it('devfn as device/function without ARI and as one function number with ARI', () => {
    expect(splitDevfn(0x0a, false)).toEqual({ device: 1, fn: 2 });
    expect(splitDevfn(0xff, false)).toEqual({ device: 31, fn: 7 });
    expect(splitDevfn(0x0a, true)).toEqual({ device: 0, fn: 10 });
    expect(splitDevfn(0xff, true)).toEqual({ device: 0, fn: 255 });
  });
});
