/**
 * The SR-IOV engine driven only by config cycles and MMIO through a PcieFabric, as the PCI core drives
 * it (facts/kernel.md 5.2 and 5.3): NumVFs, First VF Offset / VF Stride re-read after each write and
 * after ARI Capable Hierarchy, VF Enable and the 100 ms wait, VF identity, bus-range and ARI
 * forwarding reachability, VF memory decoding through the PF's VF BARs and VF MSE.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_COSTS, rid } from '../../src/base/index.js';
import { createDevice } from '../../src/hw/index.js';
import { type Bench, bench } from './fabric-setup.js';
import { walkExtendedCaps } from './support.js';

/** SR-IOV register offsets from facts 5.1, relative to the capability. */
const CTRL = 0x08;
const NUM_VF = 0x10;
const VF_OFFSET = 0x14;
const VF_STRIDE = 0x16;
const VF_BAR = 0x24;
const VFE = 0x01;
const MSE = 0x08;
const ARI = 0x10;

const ALL_ONES = 0xffffffff;
/** virtio-net class code 02/00/00 with revision 1, as the PF (hand-written). */
const VIRTIO_CLASS_REV = 0x02000001;
const VIRTIO_SUBSYSTEM = 0x11001af4;

/** Find the SR-IOV capability of 02:00.0 through config reads. */
function sriovOf(b: Bench): number {
  const caps = walkExtendedCaps((off, w) => b.read(2, 0, off, w));
  const sriov = caps.find(([, id]) => id === 0x0010);
  if (sriov === undefined) throw new Error('no SR-IOV capability');
  return sriov[0];
}

/** RID of a VF of the PF at 02:00.0 with the ARI layout (offset 1, stride 1): [bus, devfn]. */
function ariVf(index: number): [number, number] {
  const r = 0x0200 + 1 + index;
  return [r >> 8, r & 0xff];
}

/** virtio-net PF at 02:00.0 with ARI Capable Hierarchy, `numVfs` VFs enabled and ready. */
function enabledVirtioNet(numVfs: number, o: { subordinateBus?: number } = {}): Bench & { sriov: number } {
  const b = bench({ kind: 'virtio-net', ...o });
  const sriov = sriovOf(b);
  b.write(2, 0, sriov + CTRL, 2, ARI);
  b.write(2, 0, sriov + NUM_VF, 2, numVfs);
  b.write(2, 0, sriov + VF_BAR + 4, 4, 0xc000_0000); // VF BAR1 (4 KiB each) in the memory window
  b.write(2, 0, sriov + VF_BAR + 16, 4, 0x0000_0000); // VF BAR4 (16 KiB each, 64-bit) in the prefetchable one
  b.write(2, 0, sriov + VF_BAR + 20, 4, 0x0000_0001);
  b.write(2, 0, sriov + CTRL, 2, ARI | VFE | MSE);
  b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
  return { ...b, sriov };
}

describe('NumVFs, First VF Offset and VF Stride', () => {
  it('the PF at 02:00.0 answers and its SR-IOV capability is found by walking from 0x100', () => {
    const b = bench({ kind: 'virtio-net' });
    expect(b.read(2, 0, 0x00, 4)).toBe(0x10411af4);
    expect(sriovOf(b)).toBe(0x108);
  });

  it('offset and stride re-read after each NumVFs write and follow ARI Capable Hierarchy', () => {
    const b = bench({ kind: 'virtio-net' });
    const s = sriovOf(b);
    const routing = (): [number, number] => [b.read(2, 0, s + VF_OFFSET, 2), b.read(2, 0, s + VF_STRIDE, 2)];
    expect(routing()).toEqual([0x100, 1]);
    b.write(2, 0, s + NUM_VF, 2, 8);
    expect(b.read(2, 0, s + NUM_VF, 2)).toBe(8);
    expect(routing()).toEqual([0x100, 1]);
    b.write(2, 0, s + CTRL, 2, ARI);
    expect(b.read(2, 0, s + CTRL, 2)).toBe(ARI);
    expect(routing()).toEqual([1, 1]);
    b.write(2, 0, s + NUM_VF, 2, 520);
    expect(routing()).toEqual([1, 1]);
    b.write(2, 0, s + CTRL, 2, 0);
    expect(routing()).toEqual([0x100, 1]);
  });

  it('accel keeps offset 0x100 and stride 8 with or without ARI Capable Hierarchy', () => {
    const b = bench({ kind: 'accel' });
    const s = sriovOf(b);
    expect(s).toBe(0x100);
    b.write(2, 0, s + NUM_VF, 2, 16);
    expect([b.read(2, 0, s + VF_OFFSET, 2), b.read(2, 0, s + VF_STRIDE, 2)]).toEqual([0x100, 8]);
    b.write(2, 0, s + CTRL, 2, ARI);
    expect([b.read(2, 0, s + VF_OFFSET, 2), b.read(2, 0, s + VF_STRIDE, 2)]).toEqual([0x100, 8]);
  });
});

describe('VF Enable', () => {
  it('freezes NumVFs and offset/stride while set; VFs answer only after the enable wait', () => {
    const b = bench({ kind: 'virtio-net' });
    const s = sriovOf(b);
    b.write(2, 0, s + CTRL, 2, ARI);
    b.write(2, 0, s + NUM_VF, 2, 520);
    b.write(2, 0, s + CTRL, 2, ARI | VFE);
    const enabledAt = b.clock.nowNs;
    const readyAt = enabledAt + 100_000_000; // msleep(100) after VF Enable (facts 5.3 step 6)
    expect(b.events.filter((e) => e.kind === 'vf-enable')).toEqual([
      { kind: 'vf-enable', pfRid: 0x0200, numVfs: 520, readyAtNs: readyAt },
    ]);
    expect(b.read(2, 0, s + CTRL, 2)).toBe(ARI | VFE);

    // NumVFs is read-only while VF Enable is set; so are offset and stride (ARI changes are ignored).
    b.write(2, 0, s + NUM_VF, 2, 5);
    expect(b.read(2, 0, s + NUM_VF, 2)).toBe(520);
    b.write(2, 0, s + CTRL, 2, VFE);
    expect([b.read(2, 0, s + VF_OFFSET, 2), b.read(2, 0, s + VF_STRIDE, 2)]).toEqual([1, 1]);
    b.write(2, 0, s + CTRL, 2, ARI | VFE);

    // Not ready yet: VF 0 (02:00.1) reads all-ones even for its class register.
    expect(b.read(2, 0x01, 0x08, 4)).toBe(ALL_ONES);
    expect(b.events.some((e) => e.kind === 'crs' && e.rid === 0x0201)).toBe(true);
    b.clock.advanceTo(readyAt - 1);
    expect(b.read(2, 0x01, 0x08, 4)).toBe(ALL_ONES);
    b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
    expect(b.read(2, 0x01, 0x08, 4)).toBe(VIRTIO_CLASS_REV);
  });

  it("a VF reads ffff/ffff for its IDs; class, revision and subsystem are the PF's; no INTx", () => {
    const b = enabledVirtioNet(8);
    for (const index of [0, 7]) {
      const [bus, devfn] = ariVf(index);
      expect(b.read(bus, devfn, 0x00, 2)).toBe(0xffff);
      expect(b.read(bus, devfn, 0x02, 2)).toBe(0xffff);
      expect(b.read(bus, devfn, 0x08, 4)).toBe(VIRTIO_CLASS_REV);
      expect(b.read(bus, devfn, 0x2c, 4)).toBe(VIRTIO_SUBSYSTEM);
      expect(b.read(bus, devfn, 0x0e, 1)).toBe(0x00);
      expect(b.read(bus, devfn, 0x3d, 1)).toBe(0x00);
    }
    // The PF's view is unchanged.
    expect(b.read(2, 0, 0x08, 4)).toBe(VIRTIO_CLASS_REV);
    expect(b.read(2, 0, 0x2c, 4)).toBe(VIRTIO_SUBSYSTEM);
    // VF Device ID is in the PF's SR-IOV capability.
    expect(b.read(2, 0, b.sriov + 0x1a, 2)).toBe(0x1041);
  });

  it("a VF's own BAR registers read 0 and ignore writes; its Memory Space bit is RO 0", () => {
    const b = enabledVirtioNet(2);
    const [bus, devfn] = ariVf(1);
    for (let reg = 0x10; reg <= 0x24; reg += 4) {
      expect(b.read(bus, devfn, reg, 4)).toBe(0);
      b.write(bus, devfn, reg, 4, 0xffffffff);
      expect(b.read(bus, devfn, reg, 4)).toBe(0);
    }
    b.write(bus, devfn, 0x04, 2, 0x0007);
    expect(b.read(bus, devfn, 0x04, 2)).toBe(0x0004); // Bus Master only
  });

  it("VFs past the port's subordinate bus are unreachable; VFs within it answer", () => {
    // Secondary 2, subordinate 3; with offset 1 stride 1 VF 510 is 03:ff and VF 511 is 04:00.0.
    const b = enabledVirtioNet(520);
    const answers = (index: number): boolean => {
      const [bus, devfn] = ariVf(index);
      return b.read(bus, devfn, 0x08, 4) === VIRTIO_CLASS_REV;
    };
    expect(ariVf(254)).toEqual([2, 0xff]);
    expect(ariVf(255)).toEqual([3, 0x00]);
    expect(ariVf(510)).toEqual([3, 0xff]);
    expect(ariVf(511)).toEqual([4, 0x00]);
    expect([0, 6, 7, 254, 255, 300, 510].map(answers)).toEqual([true, true, true, true, true, true, true]);
    expect([511, 512, 519].map(answers)).toEqual([false, false, false]);
    expect(b.read(4, 0x00, 0x00, 4)).toBe(ALL_ONES);
    expect(b.events.some((e) => e.kind === 'master-abort' && e.rid === 0x0400)).toBe(true);
  });

  it('clearing VF Enable removes the VFs and makes NumVFs writable again', () => {
    const b = enabledVirtioNet(300);
    expect(b.read(3, 0x00, 0x08, 4)).toBe(VIRTIO_CLASS_REV); // VF 255
    b.write(2, 0, b.sriov + CTRL, 2, ARI);
    expect(b.events.filter((e) => e.kind === 'vf-disable')).toEqual([
      { kind: 'vf-disable', pfRid: 0x0200, numVfs: 300 },
    ]);
    b.clock.advance(DEFAULT_COSTS.vfDisableWaitNs);
    expect(b.read(2, 0x01, 0x08, 4)).toBe(ALL_ONES);
    expect(b.read(3, 0x00, 0x08, 4)).toBe(ALL_ONES);
    expect(b.read(2, 0x00, 0x08, 4)).toBe(VIRTIO_CLASS_REV); // the PF stays
    b.write(2, 0, b.sriov + NUM_VF, 2, 4);
    expect(b.read(2, 0, b.sriov + NUM_VF, 2)).toBe(4);
    // Enabling again brings VFs back at the same RIDs, after a new wait.
    b.write(2, 0, b.sriov + CTRL, 2, ARI | VFE);
    expect(b.read(2, 0x04, 0x08, 4)).toBe(ALL_ONES);
    b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
    expect(b.read(2, 0x04, 0x08, 4)).toBe(VIRTIO_CLASS_REV);
    expect(b.read(2, 0x05, 0x08, 4)).toBe(ALL_ONES); // only 4 VFs now
    expect(b.read(3, 0x00, 0x08, 4)).toBe(ALL_ONES);
  });

  it('accel: VFs on the next bus, one device number apart, reachable by type 1 forwarding', () => {
    const b = bench({ kind: 'accel', ariForwarding: false });
    b.write(2, 0, 0x100 + NUM_VF, 2, 16);
    b.write(2, 0, 0x100 + CTRL, 2, VFE);
    b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
    for (let i = 0; i < 16; i++) {
      expect(b.read(3, i * 8, 0x08, 4)).toBe(0x12000000);
      expect(b.read(3, i * 8 + 1, 0x08, 4)).toBe(ALL_ONES); // function 1 of each device: nothing
    }
    expect(b.read(3, 16 * 8, 0x08, 4)).toBe(ALL_ONES);
  });

  it("accel VFs are unreachable when the port's subordinate bus stops at the secondary bus", () => {
    const b = bench({ kind: 'accel', subordinateBus: 2 });
    b.write(2, 0, 0x100 + NUM_VF, 2, 4);
    b.write(2, 0, 0x100 + CTRL, 2, VFE);
    b.clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
    expect(b.read(3, 0x00, 0x08, 4)).toBe(ALL_ONES);
    // Widening the bus range makes them reachable.
    b.write(0, 0x08, 0x1a, 1, 3);
    expect(b.read(3, 0x00, 0x08, 4)).toBe(0x12000000);
  });
});

describe('ARI forwarding on the root port', () => {
  it('without it, only Device 0 of the secondary bus answers; buses above still forward', () => {
    const b = enabledVirtioNet(300);
    b.setAriForwarding(false);
    expect(b.read(0, 0x08, b.portDevCtl2, 2) & 0x20).toBe(0);
    expect(b.read(2, 0x00, 0x08, 4)).toBe(VIRTIO_CLASS_REV); // PF, device 0
    expect(b.read(...ariVf(6), 0x08, 4)).toBe(VIRTIO_CLASS_REV); // 02:00.7, device 0
    expect(b.read(...ariVf(7), 0x08, 4)).toBe(ALL_ONES); // 02:01.0, device 1
    expect(b.read(...ariVf(100), 0x08, 4)).toBe(ALL_ONES); // 02:0c.5
    expect(b.read(...ariVf(255), 0x08, 4)).toBe(VIRTIO_CLASS_REV); // 03:00.0, type 1
    expect(b.read(...ariVf(299), 0x08, 4)).toBe(VIRTIO_CLASS_REV); // 03:05.4, type 1
    b.setAriForwarding(true);
    expect(b.read(...ariVf(7), 0x08, 4)).toBe(VIRTIO_CLASS_REV);
    expect(b.read(...ariVf(100), 0x08, 4)).toBe(VIRTIO_CLASS_REV);
  });

  it('a separate function at 02:01.0 needs ARI forwarding to be reached', () => {
    const b = bench({ kind: 'virtio-net', ariForwarding: false });
    const other = createDevice(b.ctx, 'accel', { name: 'acc0' });
    b.fabric.attachBelow(b.port, rid(2, 0x08), other);
    expect(b.read(2, 0x08, 0x00, 4)).toBe(ALL_ONES);
    b.write(2, 0x08, 0x0c, 1, 0x10); // dropped
    b.setAriForwarding(true);
    expect(b.read(2, 0x08, 0x00, 4)).toBe(0x30001f00);
    expect(b.read(2, 0x08, 0x0c, 1)).toBe(0x00);
  });
});

describe('VF memory decoding', () => {
  /** VF n's MSI-X table (virtio-net: BAR1 offset 0, 16-byte entries) at VF BAR1 base + n x 4 KiB. */
  const vfTable = (n: number): bigint => 0xc000_0000n + BigInt(n) * 0x1000n;

  it("an MMIO read at VF n's BAR1 reaches VF n's MSI-X table: vectors masked at reset", () => {
    const b = enabledVirtioNet(520);
    for (const n of [0, 1, 3, 510, 519]) {
      for (let v = 0; v < 4; v++) {
        expect(b.fabric.mmioRead(vfTable(n) + BigInt(16 * v + 12), 4)).toBe(1); // Vector Control: masked
        expect(b.fabric.mmioRead(vfTable(n) + BigInt(16 * v + 8), 4)).toBe(0); // Message Data
      }
      expect(b.fabric.mmioRead(vfTable(n) + 0x800n, 4)).toBe(0); // PBA
    }
  });

  it('a table write reaches exactly one VF', () => {
    const b = enabledVirtioNet(8);
    b.fabric.mmioWrite(vfTable(3) + 0n, 4, 0xfee0_0000);
    b.fabric.mmioWrite(vfTable(3) + 8n, 4, 0x0000_4041);
    b.fabric.mmioWrite(vfTable(3) + 12n, 4, 0);
    expect(b.fabric.mmioRead(vfTable(3) + 0n, 4)).toBe(0xfee0_0000);
    expect(b.fabric.mmioRead(vfTable(3) + 8n, 4)).toBe(0x0000_4041);
    expect(b.fabric.mmioRead(vfTable(3) + 12n, 4)).toBe(0);
    for (const n of [2, 4]) {
      expect(b.fabric.mmioRead(vfTable(n) + 8n, 4)).toBe(0);
      expect(b.fabric.mmioRead(vfTable(n) + 12n, 4)).toBe(1);
    }
    // The PBA is read-only.
    b.fabric.mmioWrite(vfTable(3) + 0x800n, 4, 0xffffffff);
    expect(b.fabric.mmioRead(vfTable(3) + 0x800n, 4)).toBe(0);
  });

  it('VF BAR4 (64-bit, prefetchable window) decodes at base + n x 16 KiB', () => {
    const b = enabledVirtioNet(8);
    // No device model behind BAR4 yet: reads return 0 (decoded), not all-ones (master abort).
    expect(b.fabric.mmioRead(0x1_0000_0000n + 7n * 0x4000n + 0x3ffcn, 4)).toBe(0);
    expect(b.fabric.mmioRead(0x1_0000_0000n + 8n * 0x4000n, 4)).toBe(ALL_ONES); // past VF 7
  });

  it("VF MSE, the port's Memory Space bit and its window gate VF decoding", () => {
    const b = enabledVirtioNet(8);
    expect(b.fabric.mmioRead(vfTable(5) + 12n, 4)).toBe(1);
    b.write(2, 0, b.sriov + CTRL, 2, ARI | VFE); // clear VF MSE
    expect(b.fabric.mmioRead(vfTable(5) + 12n, 4)).toBe(ALL_ONES);
    b.write(2, 0, b.sriov + CTRL, 2, ARI | VFE | MSE);
    expect(b.fabric.mmioRead(vfTable(5) + 12n, 4)).toBe(1);
    b.write(0, 0x08, 0x04, 2, 0x0004); // port: Memory Space off
    expect(b.fabric.mmioRead(vfTable(5) + 12n, 4)).toBe(ALL_ONES);
    b.write(0, 0x08, 0x04, 2, 0x0006);
    b.write(0, 0x08, 0x22, 2, 0xbff0); // memory window limit below the VF BARs: window closed
    expect(b.fabric.mmioRead(vfTable(5) + 12n, 4)).toBe(ALL_ONES);
  });

  it('after VF Enable is cleared the VF BARs decode nothing', () => {
    const b = enabledVirtioNet(8);
    b.write(2, 0, b.sriov + CTRL, 2, ARI | MSE);
    expect(b.fabric.mmioRead(vfTable(0) + 12n, 4)).toBe(ALL_ONES);
  });
});
