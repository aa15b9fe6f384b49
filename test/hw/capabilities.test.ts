/**
 * Capability lists walked by hand from 0x34 and 0x100, compared with hand-written tables; SR-IOV
 * capability fields at the offsets of facts/kernel.md 5.1; PM PowerState rules (PCI PM 1.2).
 */
import { describe, expect, it } from 'vitest';
import {
  createDevice,
  createRootPort,
  DEVICE_KINDS,
  type DeviceKind,
  findCapability,
  findExtCapability,
  type PciFunction,
} from '../../src/hw/index.js';
import { EXPECTED } from './device-layouts.js';
import { testHost, walkExtendedCaps, walkStandardCaps } from './support.js';

const reader = (fn: PciFunction) => (offset: number, width: 1 | 2 | 4) => fn.config.read(offset, width);

/** The SR-IOV fields of facts 5.1 per kind: [InitialVFs, TotalVFs, VF Device ID, Supported Page Sizes]. */
const SRIOV_FIELDS: Record<DeviceKind, readonly [number, number, number, number]> = {
  'virtio-net': [1024, 1024, 0x1041, 0x553],
  mnic: [127, 127, 0x1022, 0x553],
  accel: [16, 16, 0x3001, 0x553],
};

describe.each(DEVICE_KINDS.map((k) => [k] as [DeviceKind]))('%s PF capability lists', (kind) => {
  const e = EXPECTED[kind];

  it('standard list from 0x34: PM, MSI-X, PCI Express, in that order', () => {
    const fn = createDevice(testHost().ctx, kind, { name: `${kind}0` });
    expect(walkStandardCaps(reader(fn))).toEqual(e.standardCaps);
    // The implementation's own lookups agree with the hand walk.
    expect(findCapability(fn.config, 0x01)).toBe(0x40);
    expect(findCapability(fn.config, 0x11)).toBe(0x48);
    expect(findCapability(fn.config, 0x10)).toBe(0x54);
    expect(findCapability(fn.config, 0x05)).toBeUndefined(); // no MSI
    expect(fn.capabilityOffset(0x10)).toBe(0x54);
  });

  it('extended list from 0x100 (ARI then SR-IOV, or SR-IOV alone)', () => {
    const fn = createDevice(testHost().ctx, kind, { name: `${kind}0` });
    expect(walkExtendedCaps(reader(fn))).toEqual(e.extendedCaps);
    expect(findExtCapability(fn.config, 0x0010)).toBe(e.sriovAt);
    expect(findExtCapability(fn.config, 0x0001)).toBeUndefined(); // no AER
    expect(fn.extCapabilityOffset(0x0010)).toBe(e.sriovAt);
    expect(fn.sriov?.capOffset).toBe(e.sriovAt);
  });

  it('SR-IOV fields sit at the offsets of facts 5.1', () => {
    const fn = createDevice(testHost().ctx, kind, { name: `${kind}0` });
    const at = e.sriovAt;
    const [initial, total, vfDid, supported] = SRIOV_FIELDS[kind];
    expect(fn.config.read(at + 0x00, 2)).toBe(0x0010); // ext cap id
    expect(fn.config.read(at + 0x02, 2) & 0xf).toBe(1); // version
    expect(fn.config.read(at + 0x0c, 2)).toBe(initial); // InitialVFs
    expect(fn.config.read(at + 0x0e, 2)).toBe(total); // TotalVFs
    expect(fn.config.read(at + 0x10, 2)).toBe(0); // NumVFs
    expect(fn.config.read(at + 0x1a, 2)).toBe(vfDid); // VF Device ID
    expect(fn.config.read(at + 0x1c, 4)).toBe(supported); // Supported Page Sizes
    expect(fn.config.read(at + 0x20, 4)).toBe(0x1); // System Page Size: 4 KiB at reset
    // NumVFs and System Page Size are RW (System Page Size: one supported bit, here 64 KiB = bit 4).
    fn.config.write(at + 0x10, 2, 7);
    expect(fn.config.read(at + 0x10, 2)).toBe(7);
    fn.config.write(at + 0x20, 4, 0x10);
    expect(fn.config.read(at + 0x20, 4)).toBe(0x10);
    // TotalVFs, InitialVFs, VF Device ID and Supported Page Sizes ignore writes.
    fn.config.write(at + 0x0c, 4, 0x00010001);
    fn.config.write(at + 0x18, 4, 0xffffffff);
    fn.config.write(at + 0x1c, 4, 0xffffffff);
    expect(fn.config.read(at + 0x0c, 2)).toBe(initial);
    expect(fn.config.read(at + 0x0e, 2)).toBe(total);
    expect(fn.config.read(at + 0x1a, 2)).toBe(vfDid);
    expect(fn.config.read(at + 0x1c, 4)).toBe(supported);
  });
});

describe('SR-IOV counts from device options', () => {
  it('InitialVFs and TotalVFs follow the options', () => {
    const fn = createDevice(testHost().ctx, 'mnic', { name: 'mnic0', totalVfs: 64, initialVfs: 32 });
    expect(fn.config.read(0x108 + 0x0c, 2)).toBe(32);
    expect(fn.config.read(0x108 + 0x0e, 2)).toBe(64);
  });

  it('rejects InitialVFs above TotalVFs and TotalVFs of 0', () => {
    const { ctx } = testHost();
    expect(() => createDevice(ctx, 'mnic', { name: 'm', totalVfs: 4, initialVfs: 5 })).toThrow();
    expect(() => createDevice(ctx, 'mnic', { name: 'm', totalVfs: 0 })).toThrow();
  });
});

describe('VF and root port capability lists', () => {
  it('a virtio-net VF: MSI-X at 0x40, PCIe at 0x4c, the virtio caps; ARI alone in the extended list', () => {
    const pf = createDevice(testHost().ctx, 'virtio-net', { name: 'vnet0', totalVfs: 1 });
    pf.config.write(0x108 + 0x10, 2, 1);
    pf.config.write(0x108 + 0x08, 2, 0x01);
    const vf = pf.sriov!.vfs[0]!;
    expect(walkStandardCaps(reader(vf))).toEqual([
      [0x40, 0x11, 0x4c],
      [0x4c, 0x10, 0x88],
      [0x88, 0x09, 0x98],
      [0x98, 0x09, 0xa8],
      [0xa8, 0x09, 0xb8],
      [0xb8, 0x09, 0xcc],
      [0xcc, 0x09, 0x00],
    ]);
    expect(walkExtendedCaps(reader(vf))).toEqual([[0x100, 0x000e, 1, 0]]);
  });

  it('an accel VF has no extended capabilities (0x100 reads 0)', () => {
    const pf = createDevice(testHost().ctx, 'accel', { name: 'acc0', totalVfs: 1 });
    pf.config.write(0x100 + 0x10, 2, 1);
    pf.config.write(0x100 + 0x08, 2, 0x01);
    const vf = pf.sriov!.vfs[0]!;
    expect(vf.config.read(0x100, 4)).toBe(0);
    expect(walkExtendedCaps(reader(vf))).toEqual([]);
  });

  it('a root port: type 1 header, PCIe (root port) at 0x40 then PM at 0x7c', () => {
    const port = createRootPort(testHost().ctx, {
      name: 'rp0',
      vendorId: 0x1f00,
      deviceId: 0x0b01,
      portNumber: 3,
      ariForwarding: true,
      linkSpeed: 4,
      linkWidth: 16,
    });
    expect(port.config.read(0x00, 4)).toBe(0x0b011f00);
    expect(port.config.read(0x08, 4)).toBe(0x06040000);
    expect(port.config.read(0x0e, 1)).toBe(0x01);
    expect(walkStandardCaps(reader(port))).toEqual([
      [0x40, 0x10, 0x7c],
      [0x7c, 0x01, 0x00],
    ]);
    expect(port.config.read(0x42, 2)).toBe(0x0042); // v2, Root Port
    expect(port.config.read(0x40 + 0x0c, 4) >>> 24).toBe(3); // Port Number in Link Capabilities
    expect(port.config.read(0x40 + 0x24, 4) & 0x20).toBe(0x20); // ARI Forwarding Supported
    // ARI Forwarding Enable is RW in Device Control 2.
    port.config.write(0x40 + 0x28, 2, 0xffff);
    expect(port.config.read(0x40 + 0x28, 2)).toBe(0x0020);
    expect(walkExtendedCaps(reader(port))).toEqual([]);
  });

  it('a root port without ARI Forwarding Supported keeps ARI Forwarding Enable at 0', () => {
    const port = createRootPort(testHost().ctx, {
      name: 'rp0',
      vendorId: 0x1f00,
      deviceId: 0x0b01,
      portNumber: 1,
      ariForwarding: false,
      linkSpeed: 4,
      linkWidth: 16,
    });
    expect(port.config.read(0x40 + 0x24, 4) & 0x20).toBe(0);
    port.config.write(0x40 + 0x28, 2, 0xffff);
    expect(port.config.read(0x40 + 0x28, 2)).toBe(0);
  });
});

describe('PCI PM PowerState (PCI PM 1.2: D0 and D3hot supported)', () => {
  it('D3hot and back to D0; No_Soft_Reset stays set', () => {
    const fn = createDevice(testHost().ctx, 'virtio-net', { name: 'vnet0' });
    fn.config.write(0x44, 2, 0x0003);
    expect(fn.config.read(0x44, 2)).toBe(0x000b);
    fn.config.write(0x44, 2, 0x0000);
    expect(fn.config.read(0x44, 2)).toBe(0x0008);
  });

  it('a write of unsupported D1 or D2 is discarded: the state does not change', () => {
    const fn = createDevice(testHost().ctx, 'virtio-net', { name: 'vnet0' });
    fn.config.write(0x44, 1, 0x02); // D2 from D0
    expect(fn.config.read(0x44, 2)).toBe(0x0008);
    fn.config.write(0x44, 2, 0x0003); // D3hot
    fn.config.write(0x44, 2, 0x0001); // D1 from D3hot: stays D3hot
    expect(fn.config.read(0x44, 2)).toBe(0x000b);
    fn.config.write(0x44, 4, 0xffff0002); // D2 from D3hot, 4-byte access
    expect(fn.config.read(0x44, 2)).toBe(0x000b);
  });
});
