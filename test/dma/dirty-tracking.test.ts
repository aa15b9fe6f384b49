/**
 * IOMMU dirty tracking on a paging domain (facts/kernel.md 2.2): only DMA writes made while tracking is
 * on set bits, enabling starts clean, reading clears (unless asked not to), the bitmap layout is the
 * IOMMUFD one (bit n = page n of the range, u64 words, LSB first) and bits are only ever OR-ed in.
 * Expected bitmaps are written out byte by byte.
 */
import { describe, expect, it } from 'vitest';
import { rid } from '../../src/base/index.js';
import { DmaEngine } from '../../src/hw/dma/index.js';
import { Iommu, iova, type PagingDomain, PROT_READ, PROT_READ_WRITE } from '../../src/hw/iommu/index.js';
import { hpa, SparseMemory } from '../../src/hw/memory/index.js';
import { dmaTestHost, expectErrno } from './support.js';

const DEV = rid(4, 0);
const DEV2 = rid(4, 1);
/** The tracked range: 200 pages at IOVA 1 MiB, mapped to HPA 16 MiB. */
const BASE = 0x10_0000n;
const PAGES = 200n;

interface Rig {
  readonly dma: DmaEngine;
  readonly mmu: Iommu;
  readonly domain: PagingDomain;
  readonly memory: SparseMemory;
}

function rig(): Rig {
  const h = dmaTestHost();
  const mmu = new Iommu(h.ctx);
  const memory = new SparseMemory({ sizeBytes: 2n ** 32n });
  const dma = new DmaEngine(h.ctx, mmu, memory);
  const domain = mmu.allocPagingDomain({ dirtyTracking: true });
  domain.map(iova(BASE), hpa(0x100_0000), PAGES * 4096n, PROT_READ_WRITE);
  mmu.attachDevice(DEV, domain);
  mmu.attachDevice(DEV2, domain);
  return { dma, mmu, domain, memory };
}

/** DMA-write one byte into IOVA page `n` of the range. */
function touch(r: Rig, n: number, who = DEV): void {
  const res = r.dma.write(who, iova(BASE + BigInt(n) * 4096n + 17n), Uint8Array.of(1));
  expect(res.ok).toBe(true);
}

function readAll(d: PagingDomain, options = {}): Uint8Array {
  return d.readAndClearDirty(iova(BASE), PAGES * 4096n, options);
}

describe('what sets dirty bits', () => {
  it('DMA writes while tracking is on; not reads, not writes before, not faulting writes', () => {
    const r = rig();
    touch(r, 3); // tracking off: not recorded
    r.domain.setDirtyTracking(true);
    expect(r.domain.dirtyTracking).toBe(true);
    expect(r.dma.read(DEV, iova(BASE + 5n * 4096n), 64).ok).toBe(true);
    r.memory.writeU32(hpa(0x100_0000 + 6 * 4096), 0xffff); // a CPU write to the page behind IOVA page 6
    // A write that starts in page 199 and runs off the mapping faults: nothing is marked.
    expect(r.dma.write(DEV, iova(BASE + 199n * 4096n + 4000n), new Uint8Array(200)).ok).toBe(false);
    touch(r, 9);
    const bitmap = readAll(r.domain);
    const expected = new Uint8Array(32); // 200 bits → 4 u64 words
    expected[1] = 0x02; // page 9: byte 1, bit 1
    expect(bitmap).toEqual(expected);
  });

  it('a write spanning pages marks each IOVA page it touched', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    // 0x1ff0 bytes from 0x10 before the end of page 10 reach into page 12.
    expect(r.dma.write(DEV, iova(BASE + 11n * 4096n - 0x10n), new Uint8Array(0x1010 + 0x10)).ok).toBe(true);
    const expected = new Uint8Array(32);
    expected[1] = 0b0001_1100; // pages 10, 11, 12
    expect(readAll(r.domain)).toEqual(expected);
  });

  it('tracking covers every device attached to the domain', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    touch(r, 0, DEV);
    touch(r, 1, DEV2);
    expect(readAll(r.domain)[0]).toBe(0x03);
  });

  it('a write to a read-only mapping faults and marks nothing', () => {
    const r = rig();
    r.domain.map(iova(0x1000_0000), hpa(0x2000_0000), 0x1000n, PROT_READ);
    r.domain.setDirtyTracking(true);
    expect(r.dma.write(DEV, iova(0x1000_0000), Uint8Array.of(1)).ok).toBe(false);
    expect(r.domain.readAndClearDirty(iova(0x1000_0000), 0x1000n)).toEqual(new Uint8Array(8));
  });
});

describe('read-and-clear', () => {
  it('clears what it reports; NO_CLEAR leaves it; ranges outside are untouched', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    for (const n of [2, 70, 130]) touch(r, n);
    // Pages 64..127 only: page 70 is bit 6 of that range.
    const mid = r.domain.readAndClearDirty(iova(BASE + 64n * 4096n), 64n * 4096n, { noClear: true });
    expect(mid).toEqual(Uint8Array.of(0x40, 0, 0, 0, 0, 0, 0, 0));
    const midAgain = r.domain.readAndClearDirty(iova(BASE + 64n * 4096n), 64n * 4096n);
    expect(midAgain).toEqual(mid);
    expect(r.domain.readAndClearDirty(iova(BASE + 64n * 4096n), 64n * 4096n)).toEqual(new Uint8Array(8));
    // Pages 2 and 130 were outside that range and are still dirty.
    const rest = readAll(r.domain);
    const expected = new Uint8Array(32);
    expected[0] = 0x04; // page 2
    expected[16] = 0x04; // page 130: word 2, bit 2
    expect(rest).toEqual(expected);
    expect(readAll(r.domain)).toEqual(new Uint8Array(32));
  });

  it('enabling clears stale bits; disabling keeps set bits until read', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    touch(r, 4);
    r.domain.setDirtyTracking(false);
    touch(r, 5); // off: not recorded
    expect(readAll(r.domain)[0]).toBe(0x10);
    r.domain.setDirtyTracking(true);
    touch(r, 6);
    r.domain.setDirtyTracking(false);
    r.domain.setDirtyTracking(true); // stale page 6 dropped
    expect(readAll(r.domain)).toEqual(new Uint8Array(32));
  });

  it('unmapping a page drops its dirty bit (it lived in the IOPTE)', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    touch(r, 7);
    touch(r, 8);
    r.domain.unmap(iova(BASE + 7n * 4096n), 4096n);
    r.domain.map(iova(BASE + 7n * 4096n), hpa(0x300_0000), 4096n, PROT_READ_WRITE);
    expect(readAll(r.domain)[0]).toBe(0x00);
    expect(readAll(r.domain)[1]).toBe(0x00);
  });
});

describe('bitmap layout', () => {
  it('bit n of the range is byte n/8, bit n%8 (u64 words, LSB first)', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    for (const n of [0, 1, 63, 64, 65, 130, 199]) touch(r, n);
    const expected = new Uint8Array(32);
    expected[0] = 0x03; // bits 0, 1
    expected[7] = 0x80; // bit 63: top bit of word 0
    expected[8] = 0x03; // bits 64, 65: word 1
    expected[16] = 0x04; // bit 130: word 2, bit 2
    expected[24] = 0x80; // bit 199: word 3, bit 7
    expect(readAll(r.domain)).toEqual(expected);
  });

  it('with 8 KiB bits, one bit covers two pages', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    for (const n of [0, 1, 63, 64, 65, 130]) touch(r, n);
    const bitmap = readAll(r.domain, { pageSizeBytes: 8192n });
    // pages → bits: 0,1 → 0; 63 → 31; 64,65 → 32; 130 → 65. 100 bits → 2 words.
    const expected = new Uint8Array(16);
    expected[0] = 0x01; // bit 0
    expected[3] = 0x80; // bit 31
    expected[4] = 0x01; // bit 32
    expected[8] = 0x02; // bit 65: word 1, bit 1
    expect(bitmap).toEqual(expected);
  });

  it('bits are OR-ed into a supplied bitmap, never cleared there', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    touch(r, 1);
    const user = new Uint8Array(40).fill(0);
    user[0] = 0x80;
    user[39] = 0xaa; // beyond the 32 bytes the range needs: untouched
    const out = readAll(r.domain, { bitmap: user });
    expect(out).toBe(user);
    expect(user[0]).toBe(0x82);
    expect(user[39]).toBe(0xaa);
  });

  it('a range beyond every mapping reads as clean', () => {
    const r = rig();
    r.domain.setDirtyTracking(true);
    touch(r, 0);
    expect(r.domain.readAndClearDirty(iova(2n ** 60n), 4096n * 64n)).toEqual(new Uint8Array(8));
  });
});

describe('errors', () => {
  it('a domain without dirty tracking, or an IOMMU without the capability, is EOPNOTSUPP', () => {
    const h = dmaTestHost();
    const plain = new Iommu(h.ctx).allocPagingDomain();
    expect(plain.dirtyTrackingCapable).toBe(false);
    expectErrno(() => plain.setDirtyTracking(true), 'EOPNOTSUPP');
    expectErrno(() => plain.readAndClearDirty(iova(0), 4096n), 'EOPNOTSUPP');
    const incapable = new Iommu(h.ctx, { dirtyTracking: false });
    expect(incapable.capabilities.dirtyTracking).toBe(false);
    expectErrno(() => incapable.allocPagingDomain({ dirtyTracking: true }), 'EOPNOTSUPP');
  });

  it('bad page sizes, unaligned or empty ranges, short bitmaps', () => {
    const r = rig();
    const d = r.domain;
    expectErrno(() => d.readAndClearDirty(iova(BASE), 4096n, { pageSizeBytes: 2048n }), 'EINVAL');
    expectErrno(() => d.readAndClearDirty(iova(BASE), 3n * 4096n, { pageSizeBytes: 12288n }), 'EINVAL');
    expectErrno(() => d.readAndClearDirty(iova(BASE + 0x800n), 4096n), 'EINVAL');
    expectErrno(() => d.readAndClearDirty(iova(BASE), 4096n, { pageSizeBytes: 8192n }), 'EINVAL');
    expectErrno(() => d.readAndClearDirty(iova(BASE), 0n), 'EINVAL');
    expectErrno(() => d.readAndClearDirty(iova(2n ** 64n - 4096n), 8192n), 'EINVAL');
    // 65 pages need two u64 words: 16 bytes.
    expectErrno(() => d.readAndClearDirty(iova(BASE), 65n * 4096n, { bitmap: new Uint8Array(15) }), 'EFAULT');
    expect(d.readAndClearDirty(iova(BASE), 65n * 4096n, { bitmap: new Uint8Array(16) }).length).toBe(16);
  });
});
