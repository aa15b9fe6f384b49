/**
 * IOMMUFD on a default host (facts/kernel.md 2.2, 3.6): an IOAS holding guest-like memory, a VF bound
 * and attached to a dirty-tracking HWPT, device DMA through the IOMMU marking dirty bits, and the
 * bitmap read back. Every expected bitmap and IOVA is computed by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { Iommu, iova, PROT_READ, PROT_READ_WRITE } from '../../src/hw/index.js';
import { hpa, SparseMemory } from '../../src/hw/memory/index.js';
import { flatUserMemory, IommufdSubsystem } from '../../src/kernel/iommufd/index.js';
import { dmaTestHost } from '../dma/support.js';
import { errnoOf, rig } from './support.js';

/** Guest RAM stand-in: 64 pages at HPA 1 GiB, mapped at IOVA 1 MiB. */
const GUEST_HPA = 0x4000_0000n;
const BASE = 0x10_0000n;
const PAGES = 64n;
const LEN = PAGES * 4096n;

function tracked() {
  const r = rig();
  const ioas = r.fd.ioasAlloc();
  r.fd.ioasMap({
    ioasId: ioas,
    hpa: hpa(GUEST_HPA),
    lengthBytes: LEN,
    prot: PROT_READ_WRITE,
    iova: iova(BASE),
  });
  const dev = r.fd.bindDevice(r.vf0);
  const hwpt = r.fd.hwptAlloc({ devId: dev, ptId: ioas, dirtyTracking: true });
  expect(r.fd.attach(dev, hwpt)).toBe(hwpt);
  const port = r.host.dma.port({ rid: r.vf0 });
  const touch = (page: bigint, offset = 5n): void => {
    expect(port.write(iova(BASE + page * 4096n + offset), Uint8Array.of(0xab)).ok).toBe(true);
  };
  return { ...r, ioas, dev, hwpt, port, touch };
}

describe('dirty tracking through device DMA', () => {
  it('a VF write lands in host RAM behind the IOAS and sets exactly its page bit', () => {
    const t = tracked();
    t.touch(3n); // before tracking: not recorded
    t.fd.setDirtyTracking(t.hwpt, true);
    t.touch(3n);
    t.touch(9n);
    expect(t.host.memory.read(hpa(GUEST_HPA + 3n * 4096n + 5n), 1)).toEqual(Uint8Array.of(0xab));
    const bm = t.fd.getDirtyBitmap({ hwptId: t.hwpt, iova: BASE, lengthBytes: LEN, pageSizeBytes: 4096n });
    // 64 bits = one u64 word; page 3 → byte 0 bit 3 (0x08); page 9 → byte 1 bit 1 (0x02).
    expect(bm).toEqual(Uint8Array.of(0x08, 0x02, 0, 0, 0, 0, 0, 0));
    // Read-and-clear: a second read is empty.
    expect(
      t.fd.getDirtyBitmap({ hwptId: t.hwpt, iova: BASE, lengthBytes: LEN, pageSizeBytes: 4096n }),
    ).toEqual(new Uint8Array(8));
  });

  it('NO_CLEAR leaves the bits; larger and smaller page sizes convert', () => {
    const t = tracked();
    t.fd.setDirtyTracking(t.hwpt, true);
    t.touch(3n);
    t.touch(4n);
    const req = { hwptId: t.hwpt, iova: BASE, lengthBytes: LEN };
    // 8 KiB bits: page 3 → bit 1, page 4 → bit 2 → 0x06; 32 bits round up to one word.
    expect(t.fd.getDirtyBitmap({ ...req, pageSizeBytes: 8192n, noClear: true })).toEqual(
      Uint8Array.of(0x06, 0, 0, 0, 0, 0, 0, 0),
    );
    // 2 KiB bits: page 3 → bits 6, 7 (0xc0 in byte 0); page 4 → bits 8, 9 (0x03 in byte 1); 128 bits.
    const small = t.fd.getDirtyBitmap({ ...req, pageSizeBytes: 2048n });
    expect(small.length).toBe(16);
    expect([...small.subarray(0, 2)]).toEqual([0xc0, 0x03]);
    expect(small.subarray(2).every((b) => b === 0)).toBe(true);
    expect(t.fd.getDirtyBitmap({ ...req, pageSizeBytes: 4096n })).toEqual(new Uint8Array(8));
  });

  it('a sub-range report numbers bits from its own IOVA', () => {
    const t = tracked();
    t.fd.setDirtyTracking(t.hwpt, true);
    t.touch(40n);
    // Range starts at page 32: page 40 is bit 8 → byte 1 bit 0.
    const bm = t.fd.getDirtyBitmap({
      hwptId: t.hwpt,
      iova: BASE + 32n * 4096n,
      lengthBytes: 32n * 4096n,
      pageSizeBytes: 4096n,
    });
    expect(bm).toEqual(Uint8Array.of(0, 0x01, 0, 0, 0, 0, 0, 0));
  });

  it('enabling clears stale bits; disabling keeps collected bits until read', () => {
    const t = tracked();
    t.fd.setDirtyTracking(t.hwpt, true);
    t.touch(1n);
    t.fd.setDirtyTracking(t.hwpt, false);
    t.touch(2n); // off: not recorded
    expect(
      t.fd.getDirtyBitmap({
        hwptId: t.hwpt,
        iova: BASE,
        lengthBytes: LEN,
        pageSizeBytes: 4096n,
        noClear: true,
      })[0],
    ).toBe(0x02);
    t.fd.setDirtyTracking(t.hwpt, true);
    expect(
      t.fd.getDirtyBitmap({ hwptId: t.hwpt, iova: BASE, lengthBytes: LEN, pageSizeBytes: 4096n })[0],
    ).toBe(0);
  });
});

describe('IOMMU_HWPT_GET_DIRTY_BITMAP and SET_DIRTY_TRACKING errnos', () => {
  it('each check of facts 2.2', () => {
    const t = tracked();
    const get = (o: Partial<{ hwptId: number; iova: bigint; lengthBytes: bigint; pageSizeBytes: bigint }>) =>
      errnoOf(() =>
        t.fd.getDirtyBitmap({ hwptId: t.hwpt, iova: BASE, lengthBytes: LEN, pageSizeBytes: 4096n, ...o }),
      );
    expect(get({})).toBeUndefined();
    expect(get({ hwptId: 99 })).toBe('ENOENT');
    expect(get({ hwptId: t.ioas })).toBe('ENOENT'); // an IOAS id is not a HWPT
    expect(get({ iova: 2n ** 64n - 4096n, lengthBytes: 8192n })).toBe('EOVERFLOW');
    expect(get({ iova: 0x1000n, lengthBytes: 0n })).toBe('EOVERFLOW'); // 0x1000 + U64_MAX wraps
    expect(get({ iova: 0n, lengthBytes: 0n })).toBeUndefined(); // last = U64_MAX, passes
    expect(get({ iova: BASE + 0x800n })).toBe('EINVAL'); // not 4 KiB aligned
    expect(get({ lengthBytes: LEN - 0x800n })).toBe('EINVAL');
    expect(get({ pageSizeBytes: 0n })).toBe('EINVAL');
    expect(get({ pageSizeBytes: 0x20_0000n })).toBe('EINVAL'); // 1 MiB base, end 1 MiB + 256 KiB
    // A HWPT without dirty tracking: both ioctls are EOPNOTSUPP.
    const plain = t.fd.hwptAlloc({ devId: t.dev, ptId: t.ioas });
    expect(get({ hwptId: plain })).toBe('EOPNOTSUPP');
    expect(errnoOf(() => t.fd.setDirtyTracking(plain, true))).toBe('EOPNOTSUPP');
    expect(errnoOf(() => t.fd.setDirtyTracking(77, true))).toBe('ENOENT');
  });

  it('HWPT_ALLOC with dirty tracking on an IOMMU without it is EOPNOTSUPP', () => {
    const h = dmaTestHost();
    const mmu = new Iommu(h.ctx, { dirtyTracking: false });
    const fd = new IommufdSubsystem(mmu).open(flatUserMemory(new SparseMemory({ sizeBytes: 2n ** 32n })));
    const ioas = fd.ioasAlloc();
    const dev = fd.bindDevice(0x0101 as never);
    expect(errnoOf(() => fd.hwptAlloc({ devId: dev, ptId: ioas, dirtyTracking: true }))).toBe('EOPNOTSUPP');
    expect(fd.hwInfo(dev).capabilities.dirtyTracking).toBe(false);
    expect(errnoOf(() => fd.hwptAlloc({ devId: dev, ptId: ioas }))).toBeUndefined();
  });
});

describe('IOAS mappings', () => {
  it('fixed-IOVA rules', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    const map = (iv: bigint, len = 0x2000n, h = 0x4000_0000n, prot = PROT_READ_WRITE) =>
      errnoOf(() => r.fd.ioasMap({ ioasId: ioas, hpa: hpa(h), lengthBytes: len, prot, iova: iova(iv) }));
    expect(map(0x10000n)).toBeUndefined();
    expect(map(0x11000n)).toBe('EEXIST'); // overlaps [0x10000, 0x12000)
    expect(map(0x12000n)).toBeUndefined(); // adjacent is fine
    expect(map(0x20800n)).toBe('EINVAL'); // IOVA not 4 KiB aligned
    expect(map(0x30000n, 0x1800n)).toBe('EINVAL'); // length not 4 KiB multiple
    expect(map(0x30000n, 0n)).toBe('EINVAL');
    expect(map(2n ** 48n - 0x1000n)).toBe('EINVAL'); // reaches the reserved space at 2^48
    expect(map(2n ** 64n - 1n)).toBe('EOVERFLOW');
    expect(map(0x40000n, 0x1000n, 0x4000_0000n, { read: false, write: false })).toBe('EINVAL');
    expect(map(0x40000n, 0x1000n, 0x4000_0000n, PROT_READ)).toBeUndefined();
    expect(
      errnoOf(() => r.fd.ioasMap({ ioasId: 42, hpa: hpa(0), lengthBytes: 0x1000n, prot: PROT_READ })),
    ).toBe('ENOENT');
  });

  it('automatic IOVAs: first fit, aligned to min(roundup_pow2(length), user address alignment)', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    const auto = (h: bigint, len: bigint) =>
      r.fd.ioasMap({ ioasId: ioas, hpa: hpa(h), lengthBytes: len, prot: PROT_READ_WRITE });
    expect(auto(0x4000_0000n, 0x3000n)).toBe(0n); // align 0x4000 → first hole at 0
    expect(auto(0x4000_5000n, 0x1000n)).toBe(0x3000n); // align 0x1000 → right after [0, 0x3000)
    expect(auto(0x4010_0000n, 0x2000n)).toBe(0x4000n); // align 0x2000: 0x4000 is free and aligned
    expect(auto(0x4020_0000n, 0x10000n)).toBe(0x10000n); // align 0x10000 skips to 0x10000
  });

  it('unmap: whole areas only, ENOENT for nothing, all with (0, U64_MAX)', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    for (const at of [0x10000n, 0x20000n])
      r.fd.ioasMap({
        ioasId: ioas,
        hpa: hpa(0x4000_0000n),
        lengthBytes: 0x4000n,
        prot: PROT_READ_WRITE,
        iova: iova(at),
      });
    expect(errnoOf(() => r.fd.ioasUnmap(ioas, 0x11000n, 0x1000n))).toBe('EINVAL'); // would cut
    expect(errnoOf(() => r.fd.ioasUnmap(ioas, 0x50000n, 0x1000n))).toBe('ENOENT');
    expect(errnoOf(() => r.fd.ioasUnmap(ioas, 0x1000n, 0n))).toBe('EINVAL');
    expect(r.fd.ioasUnmap(ioas, 0x0n, 0x18000n)).toBe(0x4000n); // a superset of the first area
    expect(r.fd.ioasUnmap(ioas, 0n, 2n ** 64n - 1n)).toBe(0x4000n);
    expect(r.fd.ioasUnmap(ioas, 0n, 2n ** 64n - 1n)).toBe(0n);
  });
});

describe('devices, HWPTs and destroy', () => {
  it('attach to an IOAS makes an auto HWPT that mirrors later maps; detach blocks DMA', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    const dev = r.fd.bindDevice(r.vf1);
    const port = r.host.dma.port({ rid: r.vf1 });
    expect(port.write(iova(0x10000), Uint8Array.of(1)).ok).toBe(false); // bound, unattached: blocked
    const hwpt = r.fd.attach(dev, ioas);
    expect(r.fd.objects.get(hwpt)?.kind).toBe('hwpt-paging');
    r.fd.ioasMap({
      ioasId: ioas,
      hpa: hpa(0x4000_0000n),
      lengthBytes: 0x1000n,
      prot: PROT_READ_WRITE,
      iova: iova(0x10000),
    });
    expect(port.write(iova(0x10000), Uint8Array.of(7)).ok).toBe(true);
    expect(r.host.memory.read(hpa(0x4000_0000n), 1)[0]).toBe(7);
    expect(errnoOf(() => r.fd.attach(dev, ioas))).toBe('EINVAL'); // already attached
    expect(errnoOf(() => r.fd.destroy(hwpt))).toBe('EBUSY');
    r.fd.detach(dev);
    expect(r.fd.objects.has(hwpt)).toBe(false); // the auto HWPT went with its last device
    expect(port.write(iova(0x10000), Uint8Array.of(1)).ok).toBe(false);
    r.fd.unbindDevice(dev);
    expect(r.host.iommu.domainFor(r.vf1)).toBe(r.host.iommu.defaultDomain);
  });

  it('destroy: ENOENT, EBUSY while in use, then in dependency order', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    const dev = r.fd.bindDevice(r.vf0);
    const hwpt = r.fd.hwptAlloc({ devId: dev, ptId: ioas, dirtyTracking: true });
    r.fd.attach(dev, hwpt);
    expect(errnoOf(() => r.fd.destroy(1234))).toBe('ENOENT');
    expect(errnoOf(() => r.fd.destroy(ioas))).toBe('EBUSY'); // has a HWPT
    expect(errnoOf(() => r.fd.destroy(hwpt))).toBe('EBUSY'); // has a device
    expect(errnoOf(() => r.fd.destroy(dev))).toBe('EBUSY'); // held by its binding
    r.fd.detach(dev);
    r.fd.destroy(hwpt);
    r.fd.destroy(ioas);
    expect([...r.fd.objects.keys()]).toEqual([dev]);
  });

  it('a RID is bound once per host, across contexts', () => {
    const r = rig();
    r.fd.bindDevice(r.vf0);
    expect(errnoOf(() => r.fd.bindDevice(r.vf0))).toBe('EBUSY');
    const other = r.subsystem.open(flatUserMemory(r.host.memory));
    expect(errnoOf(() => other.bindDevice(r.vf0))).toBe('EBUSY');
    r.fd.close();
    expect(errnoOf(() => other.bindDevice(r.vf0))).toBeUndefined();
    expect(errnoOf(() => r.fd.ioasAlloc())).toBe('EBADF');
  });
});
