/**
 * Function Level Reset (PCIe Base 6.6.2) through config cycles: Initiate FLR (Device Control bit 15)
 * returns the function's writable state (config registers, MSI-X table) to reset values, reads back as
 * 0, and on a PF clears VF Enable, which removes the VFs. Expected reset values are hand-written.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_COSTS } from '../../src/base/index.js';
import { type Bench, bench } from './fabric-setup.js';

/** virtio-net PF layout (hand-written; see device-layouts.ts): MSI-X at 0x48, PCIe at 0x54, SR-IOV at 0x108. */
const MSIX_FLAGS = 0x4a;
const DEVCTL = 0x54 + 0x08;
const DEVSTA = 0x54 + 0x0a;
const SRIOV = 0x108;
const DEVCTL_RESET = 0x2810;
const ALL_ONES = 0xffffffff;
/** PF BAR1 (MSI-X table at offset 0, PBA at 0x800) is programmed here, inside the port's window. */
const PF_BAR1 = 0xc010_0000;

function dirtyPf(b: Bench): void {
  b.write(2, 0, 0x14, 4, PF_BAR1);
  b.write(2, 0, 0x04, 2, 0x0546); // Memory, Bus Master, Parity, SERR#, INTx Disable
  b.write(2, 0, 0x0c, 1, 0x10); // Cache Line Size 64 bytes
  b.write(2, 0, 0x3c, 1, 0x0b); // Interrupt Line
  b.write(2, 0, MSIX_FLAGS, 2, 0xc000); // MSI-X Enable + Function Mask
  b.write(2, 0, DEVCTL, 2, 0x593f); // MPS 256, MRRS 4096, error reporting, ...
  b.write(2, 0, 0x44, 2, 0x0003); // D3hot
  b.write(2, 0, SRIOV + 0x20, 4, 0x10); // System Page Size 64 KiB
  b.write(2, 0, SRIOV + 0x10, 2, 2); // NumVFs
  // MSI-X table entry 0 and 7 through MMIO.
  b.fabric.mmioWrite(BigInt(PF_BAR1) + 0n, 4, 0xfee0_1000);
  b.fabric.mmioWrite(BigInt(PF_BAR1) + 4n, 4, 0x0000_0000);
  b.fabric.mmioWrite(BigInt(PF_BAR1) + 8n, 4, 0x0000_4021);
  b.fabric.mmioWrite(BigInt(PF_BAR1) + 12n, 4, 0x0000_0000);
  b.fabric.mmioWrite(BigInt(PF_BAR1) + 7n * 16n + 12n, 4, 0x0000_0000);

  expect(b.read(2, 0, 0x04, 2)).toBe(0x0546);
  expect(b.read(2, 0, 0x0c, 1)).toBe(0x10);
  expect(b.read(2, 0, MSIX_FLAGS, 2)).toBe(0xc007);
  expect(b.read(2, 0, DEVCTL, 2)).toBe(0x593f);
  expect(b.read(2, 0, 0x44, 2)).toBe(0x000b);
  expect(b.fabric.mmioRead(BigInt(PF_BAR1) + 8n, 4)).toBe(0x4021);
  expect(b.fabric.mmioRead(BigInt(PF_BAR1) + 12n, 4)).toBe(0);
}

function expectPfAtReset(b: Bench): void {
  expect(b.read(2, 0, 0x00, 4)).toBe(0x10411af4);
  expect(b.read(2, 0, 0x04, 2)).toBe(0x0000);
  expect(b.read(2, 0, 0x06, 2)).toBe(0x0010);
  expect(b.read(2, 0, 0x0c, 1)).toBe(0x00);
  expect(b.read(2, 0, 0x3c, 1)).toBe(0x00);
  expect(b.read(2, 0, 0x14, 4)).toBe(0x00000000);
  expect(b.read(2, 0, 0x20, 4)).toBe(0x0000000c);
  expect(b.read(2, 0, MSIX_FLAGS, 2)).toBe(0x0007);
  expect(b.read(2, 0, DEVCTL, 2)).toBe(DEVCTL_RESET);
  expect(b.read(2, 0, 0x44, 2)).toBe(0x0008);
  expect(b.read(2, 0, SRIOV + 0x08, 2)).toBe(0x0000);
  expect(b.read(2, 0, SRIOV + 0x10, 2)).toBe(0x0000);
  expect(b.read(2, 0, SRIOV + 0x14, 4)).toBe(0x00010100); // offset 0x100, stride 1 (no ARI)
  expect(b.read(2, 0, SRIOV + 0x20, 4)).toBe(0x00000001);
  // The MSI-X table is back to reset: reprogram BAR1 to look at it.
  b.write(2, 0, 0x14, 4, PF_BAR1);
  b.write(2, 0, 0x04, 2, 0x0002);
  for (let v = 0; v < 8; v++) {
    const entry = BigInt(PF_BAR1) + BigInt(16 * v);
    expect(b.fabric.mmioRead(entry + 0n, 4)).toBe(0);
    expect(b.fabric.mmioRead(entry + 4n, 4)).toBe(0);
    expect(b.fabric.mmioRead(entry + 8n, 4)).toBe(0);
    expect(b.fabric.mmioRead(entry + 12n, 4)).toBe(1);
  }
}

describe('Initiate FLR on a PF', () => {
  const ways: ReadonlyArray<readonly [string, (b: Bench) => void]> = [
    [
      '2-byte write of Device Control | 0x8000',
      (b) => b.write(2, 0, DEVCTL, 2, b.read(2, 0, DEVCTL, 2) | 0x8000),
    ],
    ['1-byte write of 0x80 to the high byte', (b) => b.write(2, 0, DEVCTL + 1, 1, 0x80)],
    ['4-byte write covering Device Control and Status', (b) => b.write(2, 0, DEVCTL, 4, 0x00008000)],
  ];

  it.each(ways)('%s returns writable state to reset values', (_name, initiate) => {
    const b = bench({ kind: 'virtio-net' });
    dirtyPf(b);
    initiate(b);
    expect(b.events.filter((e) => e.kind === 'flr')).toEqual([{ kind: 'flr', rid: 0x0200 }]);
    b.clock.advance(DEFAULT_COSTS.flrNs);
    expectPfAtReset(b);
  });

  it('Initiate FLR reads back as 0', () => {
    const b = bench({ kind: 'virtio-net' });
    b.write(2, 0, DEVCTL, 2, DEVCTL_RESET | 0x8000);
    expect(b.read(2, 0, DEVCTL, 2)).toBe(DEVCTL_RESET);
    expect(b.read(2, 0, DEVCTL + 1, 1) & 0x80).toBe(0);
  });

  it('bit 15 of Device Status or bit 7 of Device Control is not Initiate FLR', () => {
    const b = bench({ kind: 'virtio-net' });
    dirtyPf(b);
    b.write(2, 0, DEVSTA, 2, 0x8000);
    b.write(2, 0, DEVCTL, 1, 0x80);
    b.write(2, 0, DEVCTL - 4, 4, 0x80008000); // Device Capabilities, read-only
    expect(b.events.filter((e) => e.kind === 'flr')).toEqual([]);
    expect(b.read(2, 0, 0x04, 2)).toBe(0x0546);
    expect(b.fabric.mmioRead(BigInt(PF_BAR1) + 8n, 4)).toBe(0x4021);
  });

  it('a PF FLR with VFs enabled clears VF Enable and removes the VFs', () => {
    const b = bench({ kind: 'virtio-net' });
    b.write(2, 0, SRIOV + 0x08, 2, 0x10); // ARI Capable Hierarchy
    b.write(2, 0, SRIOV + 0x10, 2, 300);
    b.write(2, 0, SRIOV + 0x08, 2, 0x19); // VFE | MSE | ARI
    b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
    expect(b.read(2, 0x01, 0x08, 4)).toBe(0x02000001); // VF 0
    expect(b.read(3, 0x00, 0x08, 4)).toBe(0x02000001); // VF 255
    b.write(2, 0, DEVCTL + 1, 1, 0x80);
    expect(b.events.filter((e) => e.kind === 'vf-disable')).toEqual([
      { kind: 'vf-disable', pfRid: 0x0200, numVfs: 300 },
    ]);
    b.clock.advance(DEFAULT_COSTS.flrNs);
    expect(b.read(2, 0x01, 0x08, 4)).toBe(ALL_ONES);
    expect(b.read(3, 0x00, 0x08, 4)).toBe(ALL_ONES);
    expect(b.read(2, 0, SRIOV + 0x08, 2)).toBe(0);
    expect(b.read(2, 0, SRIOV + 0x10, 2)).toBe(0);
    expect(b.pf.sriov?.vfs.length).toBe(0);
    // SR-IOV works again after the reset: NumVFs is writable, VFs come back.
    b.write(2, 0, SRIOV + 0x08, 2, 0x10);
    b.write(2, 0, SRIOV + 0x10, 2, 2);
    b.write(2, 0, SRIOV + 0x08, 2, 0x11);
    b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
    expect(b.read(2, 0x02, 0x08, 4)).toBe(0x02000001);
    expect(b.read(2, 0x03, 0x08, 4)).toBe(ALL_ONES);
  });
});

describe('Initiate FLR on a VF', () => {
  it("resets the VF's MSI-X table and registers; the PF and other VFs are untouched", () => {
    const b = bench({ kind: 'virtio-net' });
    b.write(2, 0, SRIOV + 0x08, 2, 0x10);
    b.write(2, 0, SRIOV + 0x10, 2, 4);
    b.write(2, 0, SRIOV + 0x28, 4, 0xc000_0000); // VF BAR1: VF n's MSI-X table at 0xc000_0000 + n x 4 KiB
    b.write(2, 0, SRIOV + 0x08, 2, 0x19);
    b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
    const table = (n: number) => 0xc000_0000n + BigInt(n) * 0x1000n;
    for (const n of [1, 2]) {
      b.fabric.mmioWrite(table(n) + 8n, 4, 0x40 + n);
      b.fabric.mmioWrite(table(n) + 12n, 4, 0);
      b.write(2, 1 + n, 0x04, 2, 0x0004); // Bus Master
      b.write(2, 1 + n, 0x42, 2, 0x8000); // VF MSI-X (cap at 0x40) Enable
    }
    // VF 1 is 02:00.2; its PCIe capability is at 0x4c, Device Control at 0x54.
    b.write(2, 0x02, 0x54 + 1, 1, 0x80);
    expect(b.events.filter((e) => e.kind === 'flr')).toEqual([{ kind: 'flr', rid: 0x0202 }]);
    expect(b.read(2, 0x02, 0x54, 2)).toBe(DEVCTL_RESET);
    expect(b.read(2, 0x02, 0x04, 2)).toBe(0);
    expect(b.read(2, 0x02, 0x42, 2)).toBe(0x0003);
    expect(b.fabric.mmioRead(table(1) + 8n, 4)).toBe(0);
    expect(b.fabric.mmioRead(table(1) + 12n, 4)).toBe(1);
    // VF 2 keeps its state; the PF keeps its VFs.
    expect(b.read(2, 0x03, 0x04, 2)).toBe(0x0004);
    expect(b.read(2, 0x03, 0x42, 2)).toBe(0x8003);
    expect(b.fabric.mmioRead(table(2) + 8n, 4)).toBe(0x42);
    expect(b.fabric.mmioRead(table(2) + 12n, 4)).toBe(0);
    expect(b.read(2, 0, SRIOV + 0x08, 2)).toBe(0x19);
    expect(b.read(2, 0x04, 0x08, 4)).toBe(0x02000001); // VF 3 (02:00.4) still there
  });
});
