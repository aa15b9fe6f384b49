/**
 * Config space of the catalog's real functions under random requester writes: read-only fields keep
 * their hand-written values, nothing outside the hand-written RW bits moves, reads are pure. One
 * property leaves Initiate FLR and VF Enable out of the random writes; another lets them in (FLR must
 * restore the reset image, VF Enable must create exactly the VFs NumVFs asks for).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDevice, DEVICE_KINDS, type DeviceKind, type PciFunction } from '../../src/hw/index.js';
import { EXPECTED, type ExpectedLayout, type Field, type WritableBits } from './device-layouts.js';
import { testHost } from './support.js';

interface Access {
  readonly offset: number;
  readonly width: 1 | 2 | 4;
  readonly value: number;
}

const widthArb = fc.constantFrom<1 | 2 | 4>(1, 2, 4);
const accessIn = (from: number, to: number): fc.Arbitrary<Access> =>
  widthArb.chain((width) =>
    fc.record({
      offset: fc.integer({ min: from / width, max: to / width - 1 }).map((n) => n * width),
      width: fc.constant(width),
      value: fc.oneof(fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 0xffffffff)),
    }),
  );
/** Anywhere in 4 KiB, with extra weight on the header, the capabilities and the extended list. */
const accessArb = fc.oneof(
  accessIn(0, 0x1000),
  accessIn(0, 0x40),
  accessIn(0x40, 0x100),
  accessIn(0x100, 0x150),
);

function allowedBitsPerByte(writable: readonly WritableBits[]): Uint8Array {
  const allowed = new Uint8Array(4096);
  for (const [offset, width, mask] of writable) {
    for (let i = 0; i < width; i++) allowed[offset + i]! |= (mask >>> (8 * i)) & 0xff;
  }
  return allowed;
}

function readField(fn: PciFunction, [offset, width]: Field): number {
  return fn.config.read(offset, width);
}

function expectReadOnlyFields(fn: PciFunction, fields: readonly Field[], context: string): void {
  for (const f of fields) {
    const got = readField(fn, f);
    if (got !== f[2]) {
      expect.fail(
        `${context}: ${f[3]} at 0x${f[0].toString(16)} reads 0x${got.toString(16)}, not 0x${f[2].toString(16)}`,
      );
    }
  }
}

/** Bits outside the RW table equal the reset image; First VF Offset/Stride are checked on their own. */
function expectOnlyWritableBitsMoved(
  fn: PciFunction,
  reset: Uint8Array,
  allowed: Uint8Array,
  sriovAt: number,
  context: string,
): void {
  const now = fn.config.snapshot();
  for (let at = 0; at < 4096; at++) {
    if (at >= sriovAt + 0x14 && at < sriovAt + 0x18) continue;
    const moved = (now[at]! ^ reset[at]!) & ~allowed[at]! & 0xff;
    if (moved !== 0) {
      expect.fail(
        `${context}: byte 0x${at.toString(16)} changed bits 0x${moved.toString(16)} outside its RW mask`,
      );
    }
  }
}

function expectRoutingMatchesAri(fn: PciFunction, e: ExpectedLayout): void {
  const ari = (fn.config.read(e.sriovAt + 0x08, 2) & 0x10) !== 0;
  const [offset, stride] = ari ? e.routing.ari : e.routing.noAri;
  expect(fn.config.read(e.sriovAt + 0x14, 2)).toBe(offset);
  expect(fn.config.read(e.sriovAt + 0x16, 2)).toBe(stride);
}

/** Clear Initiate FLR and VF Enable from a write's value, wherever the access puts those bytes. */
function withoutFlrAndVfEnable(a: Access, e: ExpectedLayout): Access {
  let value = a.value;
  const clearBit = (byteAt: number, bit: number): void => {
    if (byteAt >= a.offset && byteAt < a.offset + a.width) {
      const shift = 8 * (byteAt - a.offset) + bit;
      value = (value & ~(1 << shift)) >>> 0;
    }
  };
  clearBit(e.pcieAt + 0x08 + 1, 7); // Device Control bit 15, Initiate FLR
  clearBit(e.sriovAt + 0x08, 0); // SR-IOV Control bit 0, VF Enable
  return { ...a, value };
}

describe.each(DEVICE_KINDS.map((k) => [k] as [DeviceKind]))('%s PF config space', (kind) => {
  const e = EXPECTED[kind];
  const allowed = allowedBitsPerByte(e.writable);

  it('holds the hand-written read-only values at reset', () => {
    const { ctx } = testHost();
    const fn = createDevice(ctx, kind, { name: `${kind}0` });
    expectReadOnlyFields(fn, e.readOnly, 'reset');
    // Device Control resets to Relaxed Ordering + No Snoop, MPS 128, MRRS 512 (0x2810).
    expect(fn.config.read(e.pcieAt + 0x08, 2)).toBe(0x2810);
    expect(fn.config.read(0x44, 2)).toBe(0x0008); // PMCSR: D0, No_Soft_Reset
    expect(fn.config.read(e.sriovAt + 0x20, 4)).toBe(0x00000001); // System Page Size 4 KiB
    expectRoutingMatchesAri(fn, e);
  });

  it('random writes (no FLR, no VF Enable) never move read-only bits; reads are pure', () => {
    fc.assert(
      fc.property(fc.array(accessArb, { minLength: 1, maxLength: 60 }), (accesses) => {
        const { ctx, events } = testHost();
        const fn = createDevice(ctx, kind, { name: `${kind}0` });
        const reset = fn.config.snapshot();
        for (const raw of accesses) {
          const a = withoutFlrAndVfEnable(raw, e);
          fn.config.write(a.offset, a.width, a.value);
          const where = `after write${a.width} 0x${a.offset.toString(16)} <- 0x${a.value.toString(16)}`;
          expectReadOnlyFields(fn, e.readOnly, where);
          expectOnlyWritableBitsMoved(fn, reset, allowed, e.sriovAt, where);
          expectRoutingMatchesAri(fn, e);
          // PowerState only ever holds a supported state: D0 or D3hot.
          expect([0, 3]).toContain(fn.config.read(0x44, 2) & 0x3);
          expect(fn.config.read(e.pcieAt + 0x08, 2) & 0x8000).toBe(0);
        }
        expect(fn.sriov?.vfs.length).toBe(0);
        expect(events).toEqual([]);
        const before = fn.config.snapshot();
        for (const width of [1, 2, 4] as const) {
          for (let at = 0; at < 4096; at += width) fn.config.read(at, width);
        }
        expect(fn.config.snapshot()).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });

  it('random writes including Initiate FLR and VF Enable: RO bits hold, VFs match the registers', () => {
    // TotalVFs 8 keeps VF creation cheap; InitialVFs and TotalVFs then read 8.
    const readOnly = e.readOnly.filter((f) => f[3] !== 'InitialVFs' && f[3] !== 'TotalVFs');
    fc.assert(
      fc.property(fc.array(accessArb, { minLength: 1, maxLength: 60 }), (accesses) => {
        const { ctx } = testHost();
        const fn = createDevice(ctx, kind, { name: `${kind}0`, totalVfs: 8 });
        const reset = fn.config.snapshot();
        for (const a of accesses) {
          fn.config.write(a.offset, a.width, a.value);
          const where = `after write${a.width} 0x${a.offset.toString(16)} <- 0x${a.value.toString(16)}`;
          expectReadOnlyFields(fn, readOnly, where);
          expect(fn.config.read(e.sriovAt + 0x0c, 2)).toBe(8);
          expect(fn.config.read(e.sriovAt + 0x0e, 2)).toBe(8);
          expectOnlyWritableBitsMoved(fn, reset, allowed, e.sriovAt, where);
          const routing = [fn.config.read(e.sriovAt + 0x14, 2), fn.config.read(e.sriovAt + 0x16, 2)];
          expect([e.routing.noAri, e.routing.ari]).toContainEqual(routing);
          const ctrl = fn.config.read(e.sriovAt + 0x08, 2);
          const numVfs = fn.config.read(e.sriovAt + 0x10, 2);
          expect(fn.sriov?.vfs.length).toBe(ctrl & 0x1 ? Math.min(numVfs, 8) : 0);
          expect(fn.config.read(e.pcieAt + 0x08, 2) & 0x8000).toBe(0);
        }
      }),
      { numRuns: 150 },
    );
  });
});

/** A virtio-net VF (facts 5.3; SR-IOV VF header rules): IDs all-ones, no BARs, no INTx, MSI-X + PCIe. */
const VF_READ_ONLY: readonly Field[] = [
  [0x00, 4, 0xffffffff, 'Vendor and Device ID (all-ones on a VF)'],
  [0x06, 2, 0x0010, 'Status'],
  [0x08, 4, 0x02000001, 'Class and Revision (as the PF)'],
  [0x0e, 1, 0x00, 'Header Type'],
  [0x10, 4, 0, 'BAR0'],
  [0x14, 4, 0, 'BAR1'],
  [0x18, 4, 0, 'BAR2'],
  [0x1c, 4, 0, 'BAR3'],
  [0x20, 4, 0, 'BAR4'],
  [0x24, 4, 0, 'BAR5'],
  [0x2c, 4, 0x11001af4, 'Subsystem IDs (as the PF)'],
  [0x34, 1, 0x40, 'Capabilities Pointer'],
  [0x3d, 1, 0x00, 'Interrupt Pin (none on a VF)'],
  [0x40, 2, 0x4c11, 'MSI-X id, next 0x4c'],
  [0x42, 1, 0x03, 'MSI-X Table Size (4 vectors), low byte'],
  [0x44, 4, 0x00000001, 'MSI-X Table offset 0, BIR 1'],
  [0x48, 4, 0x00000801, 'MSI-X PBA offset 0x800, BIR 1'],
  [0x4c, 2, 0x8810, 'PCIe id, next 0x88'],
  // The virtio vendor caps (facts/virtio.md 1.2): vndr 09, next, len, cfg_type; BAR4; offset; length.
  [0x88, 4, 0x01109809, 'virtio common cfg cap'],
  [0x8c, 4, 0x00000004, 'virtio common cfg cap BAR4'],
  [0x90, 4, 0x00000000, 'virtio common cfg offset 0'],
  [0x94, 4, 0x00000040, 'virtio common cfg length 64'],
  [0x98, 4, 0x0310a809, 'virtio ISR cap'],
  [0xa0, 4, 0x00001000, 'virtio ISR offset 0x1000'],
  [0xa8, 4, 0x0410b809, 'virtio device cfg cap'],
  [0xb0, 4, 0x00002000, 'virtio device cfg offset 0x2000'],
  [0xb8, 4, 0x0214cc09, 'virtio notify cap'],
  [0xc0, 4, 0x00003000, 'virtio notify offset 0x3000'],
  [0xc4, 4, 0x0000000c, 'virtio notify length (3 queues x 4)'],
  [0xc8, 4, 0x00000004, 'virtio notify_off_multiplier'],
  [0xcc, 4, 0x05140009, 'virtio PCI cfg cap, last'],
  [0x4e, 2, 0x0002, 'PCIe v2 endpoint'],
  [0x50, 4, 0x10008021, 'Device Capabilities (FLR capable)'],
  [0x100, 4, 0x0001000e, 'ARI header, last'],
];
const VF_WRITABLE: readonly WritableBits[] = [
  // Bus Master, Parity Error Response, SERR#; a VF's I/O and Memory Space bits are RO 0.
  [0x04, 2, 0x0144, 'Command'],
  [0x0c, 1, 0xff, 'Cache Line Size'],
  [0x3c, 1, 0xff, 'Interrupt Line'],
  [0x42, 2, 0xc000, 'MSI-X Enable, Function Mask'],
  [0x54, 2, 0x79ff, 'Device Control'],
  [0x7c, 2, 0x000f, 'Link Control 2'],
  [0x106, 2, 0x0070, 'ARI Control'],
  [0xd0, 1, 0xff, 'virtio PCI cfg cap: bar'],
  [0xd4, 4, 0xffffffff, 'virtio PCI cfg cap: offset'],
  [0xd8, 4, 0xffffffff, 'virtio PCI cfg cap: length'],
  [0xdc, 4, 0xffffffff, 'virtio PCI cfg cap: pci_cfg_data'],
];

describe('virtio-net VF config space', () => {
  it('random writes (no FLR) never move read-only bits', () => {
    const allowed = allowedBitsPerByte(VF_WRITABLE);
    fc.assert(
      fc.property(fc.array(accessArb, { minLength: 1, maxLength: 60 }), (accesses) => {
        const { ctx } = testHost();
        const pf = createDevice(ctx, 'virtio-net', { name: 'vnet0', totalVfs: 2 });
        pf.config.write(0x108 + 0x10, 2, 2);
        pf.config.write(0x108 + 0x08, 2, 0x0019);
        const vf = pf.sriov!.vfs[1]!;
        expect(vf.name).toBe('vnet0/vf1');
        const reset = vf.config.snapshot();
        expectReadOnlyFields(vf, VF_READ_ONLY, 'reset');
        for (const raw of accesses) {
          const a = withoutFlrAndVfEnable(raw, { ...EXPECTED['virtio-net'], pcieAt: 0x4c, sriovAt: 0x1000 });
          vf.config.write(a.offset, a.width, a.value);
          const where = `after write${a.width} 0x${a.offset.toString(16)} <- 0x${a.value.toString(16)}`;
          expectReadOnlyFields(vf, VF_READ_ONLY, where);
          expectOnlyWritableBitsMoved(vf, reset, allowed, 0x1000, where);
        }
        expect(pf.sriov!.vfs.length).toBe(2);
      }),
      { numRuns: 100 },
    );
  });
});
