/**
 * The DMA engine and ports (src/hw/dma/): bytes land where the IOMMU says, a refused request moves
 * nothing (memory is checked afterwards), scalars are little-endian even across discontiguous host
 * pages, translations outside memory are Unsupported Requests, and every request charges modeled time
 * on the virtual clock: latency + bytes / bandwidth, hand-computed from DEFAULT_COSTS (1000 ns,
 * 25e9 B/s) or a device's own override.
 */
import { describe, expect, it } from 'vitest';
import { type CostModel, DEFAULT_COSTS, rid } from '../../src/base/index.js';
import { DmaEngine, type DmaReadResult, type DmaWriteResult } from '../../src/hw/dma/index.js';
import { Iommu, iova, iovaAdd, PROT_READ, PROT_READ_WRITE, pasid } from '../../src/hw/iommu/index.js';
import { hpa, SparseMemory } from '../../src/hw/memory/index.js';
import { dmaTestHost } from './support.js';

const NIC = rid(5, 0);
const MiB = 2 ** 20;

function bench(deviceCosts: Record<string, CostModel> = {}) {
  const h = dmaTestHost(deviceCosts);
  const mmu = new Iommu(h.ctx);
  const memory = new SparseMemory({ sizeBytes: 16 * MiB, name: 'host RAM' });
  const dma = new DmaEngine(h.ctx, mmu, memory);
  return { ...h, mmu, memory, dma };
}

function bytesOf(r: DmaReadResult): Uint8Array {
  if (!r.ok) throw new Error(`DMA read faulted: ${r.fault.reason} at 0x${r.fault.iova.toString(16)}`);
  return r.bytes;
}

function scalar<T>(r: { ok: true; value: T } | { ok: false }): T {
  if (!r.ok) throw new Error('DMA read faulted');
  return r.value;
}

function pattern(length: number, seed: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = ((i * 13 + seed) % 251) + 1;
  return b;
}

describe('data path', () => {
  it('identity: a DMA write lands at HPA = IOVA and reads back', () => {
    const b = bench();
    const data = pattern(5000, 1);
    expect(b.dma.write(NIC, iova(0x3000), data)).toEqual({ ok: true });
    expect(b.memory.read(hpa(0x3000), 5000)).toEqual(data);
    expect(bytesOf(b.dma.read(NIC, iova(0x3000), 5000))).toEqual(data);
  });

  it('paging: bytes are scattered over the host pages the mappings name', () => {
    const b = bench();
    const d = b.mmu.allocPagingDomain();
    b.mmu.attachDevice(NIC, d);
    d.map(iova(0x10000), hpa(0x80000), 0x1000n, PROT_READ_WRITE);
    d.map(iova(0x11000), hpa(0x40000), 0x1000n, PROT_READ_WRITE);
    const data = pattern(0x200, 7);
    expect(b.dma.write(NIC, iova(0x10f00), data).ok).toBe(true);
    expect(b.memory.read(hpa(0x80f00), 0x100)).toEqual(data.subarray(0, 0x100));
    expect(b.memory.read(hpa(0x40000), 0x100)).toEqual(data.subarray(0x100));
    expect(b.memory.residentPages).toBe(2);
    expect(bytesOf(b.dma.read(NIC, iova(0x10f00), 0x200))).toEqual(data);
  });

  it('port scalars are little-endian, also across discontiguous host pages', () => {
    const b = bench();
    const d = b.mmu.allocPagingDomain();
    b.mmu.attachDevice(NIC, d);
    d.map(iova(0), hpa(0x5000), 0x1000n, PROT_READ_WRITE);
    d.map(iova(0x1000), hpa(0x2000), 0x1000n, PROT_READ_WRITE);
    const port = b.dma.port({ rid: NIC });
    b.memory.write(hpa(0x5ffc), Uint8Array.of(0x11, 0x22, 0x33, 0x44));
    b.memory.write(hpa(0x2000), Uint8Array.of(0x55, 0x66, 0x77, 0x88));
    expect(scalar(port.readU8(iova(0xfff)))).toBe(0x44);
    expect(scalar(port.readU16(iova(0xffe)))).toBe(0x4433);
    expect(scalar(port.readU32(iova(0xffe)))).toBe(0x66554433);
    expect(scalar(port.readU64(iova(0xffc)))).toBe(0x8877665544332211n);
    expect(port.writeU32(iova(0xffe), 0xa1b2c3d4).ok).toBe(true);
    expect(b.memory.read(hpa(0x5ffe), 2)).toEqual(Uint8Array.of(0xd4, 0xc3));
    expect(b.memory.read(hpa(0x2000), 2)).toEqual(Uint8Array.of(0xb2, 0xa1));
    expect(port.writeU64(iova(0x1ff8), 0x0102030405060708n).ok).toBe(true);
    expect(b.memory.read(hpa(0x2ff8), 8)).toEqual(Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1));
    expect(port.writeU64(iova(0xffa), 0xf0e0d0c0b0a09080n).ok).toBe(true);
    expect(b.memory.read(hpa(0x5ffa), 6)).toEqual(Uint8Array.of(0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0));
    expect(b.memory.read(hpa(0x2000), 2)).toEqual(Uint8Array.of(0xe0, 0xf0));
    expect(port.writeU16(iova(0x10), 0x1234).ok).toBe(true);
    expect(port.writeU8(iova(0x12), 0x56).ok).toBe(true);
    expect(b.memory.read(hpa(0x5010), 3)).toEqual(Uint8Array.of(0x34, 0x12, 0x56));
  });

  it('DMA writes stay out of the CPU dirty log', () => {
    const b = bench();
    b.memory.startDirtyLog();
    const port = b.dma.port({ rid: NIC });
    expect(port.write(iova(0x7000), pattern(64, 3)).ok).toBe(true);
    expect(port.writeU32(iova(0x9000), 1).ok).toBe(true);
    b.memory.writeU8(hpa(0xa000), 1);
    expect(b.memory.readAndClearDirtyPages()).toEqual([0xa000n]);
  });
});

describe('faults move nothing', () => {
  it('a write that runs off its mapping writes no byte, and the IOMMU records where it failed', () => {
    const b = bench();
    const d = b.mmu.allocPagingDomain();
    b.mmu.attachDevice(NIC, d);
    d.map(iova(0x20000), hpa(0x60000), 0x1000n, PROT_READ_WRITE);
    const r = b.dma.write(NIC, iova(0x20800), pattern(0x1000, 9));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.fault).toMatchObject({ reason: 'not-present', rid: NIC, iova: 0x21000n, access: 'write' });
    expect(b.memory.residentPages).toBe(0);
    expect(b.memory.read(hpa(0x60000), 0x1000)).toEqual(new Uint8Array(0x1000));
    expect(b.mmu.faultCountFor(NIC)).toBe(1);
  });

  it('a write to a read-only mapping writes nothing; a faulting read returns no bytes', () => {
    const b = bench();
    const d = b.mmu.allocPagingDomain();
    b.mmu.attachDevice(NIC, d);
    d.map(iova(0x1000), hpa(0x9000), 0x1000n, PROT_READ);
    b.memory.writeU32(hpa(0x9000), 0xcafef00d);
    const port = b.dma.port({ rid: NIC });
    const w: DmaWriteResult = port.writeU32(iova(0x1000), 0);
    expect(w).toMatchObject({ ok: false, fault: { reason: 'permission', access: 'write', iova: 0x1000n } });
    expect(b.memory.readU32(hpa(0x9000))).toBe(0xcafef00d);
    expect(scalar(port.readU32(iova(0x1000)))).toBe(0xcafef00d);
    const r = port.read(iova(0x1f00), 0x200);
    expect(r.ok).toBe(false);
    expect('bytes' in r).toBe(false);
    const v = port.readU64(iova(0x1ffc));
    expect(v).toMatchObject({ ok: false, fault: { reason: 'not-present', iova: 0x2000n, access: 'read' } });
  });

  it('a translation outside host memory is an Unsupported Request: nothing moves, no IOMMU fault', () => {
    const b = bench();
    const end = 16 * MiB;
    const r = b.dma.write(NIC, iova(end - 2), Uint8Array.of(1, 2, 3, 4));
    expect(r).toMatchObject({
      ok: false,
      fault: { reason: 'unsupported-request', iova: BigInt(end), hpa: BigInt(end) },
    });
    expect(b.memory.residentPages).toBe(0);
    expect(b.mmu.faultCount).toBe(0);
    expect(b.dma.stats.unsupportedRequests).toBe(1);
    expect(b.dma.stats.faults).toBe(1);
    expect(b.dma.read(NIC, iova(2n ** 40n), 4)).toMatchObject({
      ok: false,
      fault: { reason: 'unsupported-request' },
    });
  });

  it('a port with a PASID uses the PASID domain, and faults without one', () => {
    const b = bench();
    const d = b.mmu.allocPagingDomain();
    d.map(iova(0x1000), hpa(0x4000), 0x1000n, PROT_READ_WRITE);
    b.mmu.attachPasid(NIC, pasid(7), d);
    const withPasid = b.dma.port({ rid: NIC, pasid: pasid(7) });
    const otherPasid = b.dma.port({ rid: NIC, pasid: pasid(8) });
    expect(withPasid.pasid).toBe(7);
    expect(withPasid.writeU16(iova(0x1002), 0xabcd).ok).toBe(true);
    expect(b.memory.readU16(hpa(0x4002))).toBe(0xabcd);
    expect(otherPasid.writeU16(iova(0x1002), 0)).toMatchObject({
      ok: false,
      fault: { reason: 'pasid-not-attached', pasid: 8 },
    });
    expect(b.memory.readU16(hpa(0x4002))).toBe(0xabcd);
    // Without a PASID the same RID goes through its (identity) RID domain.
    expect(b.dma.write(NIC, iova(0x1002), Uint8Array.of(0x11)).ok).toBe(true);
    expect(b.memory.readU8(hpa(0x1002))).toBe(0x11);
  });
});

describe('modeled time', () => {
  it('DEFAULT_COSTS: 1000 ns + bytes / 25e9 s per request', () => {
    const b = bench();
    expect(DEFAULT_COSTS.dmaLatencyNs).toBe(1000);
    expect(DEFAULT_COSTS.dmaBandwidthBytesPerSec).toBe(25e9);
    b.dma.write(NIC, iova(0), new Uint8Array(4096)); // 1000 + 4096 / 25 = 1163.84 ns
    expect(b.clock.nowNs).toBeCloseTo(1163.84, 6);
    b.dma.read(NIC, iova(0), 25_000); // 1000 + 1000 = 2000 ns
    expect(b.clock.nowNs).toBeCloseTo(3163.84, 6);
    b.dma.port({ rid: NIC }).readU32(iova(0)); // 1000 + 4 / 25 = 1000.16 ns
    expect(b.clock.nowNs).toBeCloseTo(4164.0, 6);
    b.dma.write(NIC, iova(0), new Uint8Array(MiB)); // 1000 + 1048576 / 25 = 42943.04 ns
    expect(b.clock.nowNs).toBeCloseTo(47107.04, 6);
    expect(b.dma.stats).toMatchObject({ reads: 2, writes: 2, bytesRead: 25_004, bytesWritten: 4096 + MiB });
    expect(b.dma.stats.modeledNs).toBeCloseTo(47107.04, 6);
  });

  it('a refused request costs one latency; an empty one costs nothing', () => {
    const b = bench();
    b.mmu.attachDevice(NIC, b.mmu.blockedDomain);
    b.dma.write(NIC, iova(0), new Uint8Array(MiB));
    expect(b.clock.nowNs).toBe(1000);
    b.dma.read(NIC, iova(0), 0);
    b.dma.write(NIC, iova(0), new Uint8Array(0));
    expect(b.clock.nowNs).toBe(1000);
  });

  it("a port charges its own device's costs", () => {
    const fast: CostModel = { ...DEFAULT_COSTS, dmaLatencyNs: 500, dmaBandwidthBytesPerSec: 50e9 };
    const b = bench({ nic0: fast });
    const port = b.dma.port({ rid: NIC, deviceName: 'nic0' });
    port.write(iova(0), new Uint8Array(50_000)); // 500 + 50000 / 50 = 1500 ns
    expect(b.clock.nowNs).toBeCloseTo(1500, 6);
    b.dma.write(NIC, iova(0), new Uint8Array(50_000)); // host costs: 1000 + 2000 = 3000 ns
    expect(b.clock.nowNs).toBeCloseTo(4500, 6);
    expect(b.costLookups).toEqual(['nic0', undefined]);
  });

  it('misuse is an exception, not a fault', () => {
    const b = bench();
    expect(() => b.dma.read(NIC, iova(0), -1)).toThrow(/not a byte count/);
    expect(() => b.dma.read(NIC, iova(0), 1.5)).toThrow(/not a byte count/);
    expect(b.clock.nowNs).toBe(0);
  });
});

describe('iovaAdd', () => {
  it('offsets an IOVA and refuses to leave 64 bits', () => {
    expect(iovaAdd(iova(0x1000), 16)).toBe(0x1010n);
    expect(() => iovaAdd(iova(2n ** 64n - 1n), 1)).toThrow(/64 bits/);
  });
});
