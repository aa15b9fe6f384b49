/**
 * The byte path: every struct written by hand as little-endian bytes (include/uapi/linux/iommufd.h
 * layouts, facts/kernel.md 2.2), driven through `Iommufd.ioctl`, and the replies read back by offset.
 */
import { describe, expect, it } from 'vitest';
import { encodeStruct } from '../../src/base/struct-codec.js';
import { iova } from '../../src/hw/index.js';
import { hpa } from '../../src/hw/memory/index.js';
import { iommufd as uapi } from '../../src/spec/index.js';
import { le, rig, u32At, u64At } from './support.js';

const EINVAL = -22;
const ENOTTY = -25;
const EFAULT = -14;
const E2BIG = -7;
const EOPNOTSUPP = -95;
const ENOENT = -2;
const EOVERFLOW = -75;

function ok(r: Uint8Array | number): Uint8Array {
  if (typeof r === 'number') throw new Error(`ioctl failed with ${r}`);
  return r;
}

describe('ioctl numbers and struct sizes', () => {
  it('_IO(";", nr) values and sizeof of each struct', () => {
    expect([uapi.IOMMU_DESTROY, uapi.IOMMU_IOAS_ALLOC, uapi.IOMMU_IOAS_MAP, uapi.IOMMU_IOAS_UNMAP]).toEqual([
      0x3b80, 0x3b81, 0x3b85, 0x3b86,
    ]);
    expect([uapi.IOMMU_HWPT_ALLOC, uapi.IOMMU_GET_HW_INFO, uapi.IOMMU_HWPT_SET_DIRTY_TRACKING]).toEqual([
      0x3b89, 0x3b8a, 0x3b8b,
    ]);
    expect(uapi.IOMMU_HWPT_GET_DIRTY_BITMAP).toBe(0x3b8c);
    expect(uapi.IommuHwptSetDirtyTracking.sizeBytes).toBe(16);
    expect(uapi.IommuHwptGetDirtyBitmap.sizeBytes).toBe(48);
    expect(uapi.IommuIoasMap.sizeBytes).toBe(40);
    expect(uapi.IommuHwptAlloc.sizeBytes).toBe(40);
  });

  it('encodes iommu_hwpt_get_dirty_bitmap field by field', () => {
    const bytes = encodeStruct(uapi.IommuHwptGetDirtyBitmap, {
      size: 48,
      hwptId: 7,
      flags: 1,
      iova: 0x10_0000n,
      length: 0x4_0000n,
      pageSize: 0x1000n,
      data: 0x8000_0000n,
    });
    expect([...bytes]).toEqual([
      48,
      0,
      0,
      0,
      7,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // size, hwpt_id, flags, __reserved
      0x00,
      0x00,
      0x10,
      0,
      0,
      0,
      0,
      0, // iova
      0x00,
      0x00,
      0x04,
      0,
      0,
      0,
      0,
      0, // length
      0x00,
      0x10,
      0,
      0,
      0,
      0,
      0,
      0, // page_size
      0x00,
      0x00,
      0x00,
      0x80,
      0,
      0,
      0,
      0, // data
    ]);
  });
});

describe('a whole dirty-tracking session in bytes', () => {
  it('IOAS_ALLOC, IOAS_MAP, HWPT_ALLOC, SET_DIRTY_TRACKING, DMA, GET_DIRTY_BITMAP, IOAS_UNMAP', () => {
    const r = rig();
    const ioasReply = ok(r.fd.ioctl(uapi.IOMMU_IOAS_ALLOC, le([4, 12], [4, 0], [4, 0])));
    const ioas = u32At(ioasReply, 8);
    expect(ioas).toBe(1);
    // IOAS_MAP: user_va 0x4000_0000 (flat user memory: = HPA), 16 pages at fixed IOVA 0x20_0000, RW.
    const map = le([4, 40], [4, 0b111], [4, ioas], [4, 0], [8, 0x4000_0000], [8, 0x1_0000], [8, 0x20_0000]);
    expect(u64At(ok(r.fd.ioctl(uapi.IOMMU_IOAS_MAP, map)), 32)).toBe(0x20_0000n);
    const dev = r.fd.bindDevice(r.vf0);
    // HWPT_ALLOC with IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1 << 1).
    const alloc = le([4, 40], [4, 2], [4, dev], [4, ioas], [4, 0], [4, 0], [4, 0], [4, 0], [8, 0]);
    const hwpt = u32At(ok(r.fd.ioctl(uapi.IOMMU_HWPT_ALLOC, alloc)), 16);
    expect(hwpt).toBe(3);
    r.fd.attach(dev, hwpt);
    ok(r.fd.ioctl(uapi.IOMMU_HWPT_SET_DIRTY_TRACKING, le([4, 16], [4, 1], [4, hwpt], [4, 0])));
    const port = r.host.dma.port({ rid: r.vf0 });
    expect(port.write(iova(0x20_0000n + 2n * 4096n), new Uint8Array(4096 + 1)).ok).toBe(true); // pages 2, 3
    expect(port.write(iova(0x20_0000n + 15n * 4096n + 4095n), Uint8Array.of(1)).ok).toBe(true); // page 15
    // The user's bitmap at 0x8000_0000 already has bit 7 set: the ioctl only ORs.
    r.host.memory.write(hpa(0x8000_0000n), Uint8Array.of(0x80));
    const get = le(
      [4, 48],
      [4, hwpt],
      [4, 0],
      [4, 0],
      [8, 0x20_0000],
      [8, 0x1_0000],
      [8, 0x1000],
      [8, 0x8000_0000],
    );
    ok(r.fd.ioctl(uapi.IOMMU_HWPT_GET_DIRTY_BITMAP, get));
    // Pages 2, 3 → 0x0c, plus the old 0x80 → 0x8c; page 15 → byte 1 bit 7 → 0x80.
    expect([...r.host.memory.read(hpa(0x8000_0000n), 8)]).toEqual([0x8c, 0x80, 0, 0, 0, 0, 0, 0]);
    // IOAS_UNMAP writes back the bytes unmapped in `length`.
    r.fd.detach(dev);
    const unmap = ok(
      r.fd.ioctl(uapi.IOMMU_IOAS_UNMAP, le([4, 24], [4, ioas], [8, 0x20_0000], [8, 0x1_0000])),
    );
    expect(u64At(unmap, 16)).toBe(0x1_0000n);
  });
});

describe('common ioctl rules and per-command errnos', () => {
  it('ENOTTY, EFAULT, EINVAL for size, E2BIG for non-zero unknown bytes', () => {
    const r = rig();
    expect(r.fd.ioctl(uapi.IOMMU_IOAS_COPY, new Uint8Array(40))).toBe(ENOTTY);
    expect(r.fd.ioctl(0x3b90, new Uint8Array(16))).toBe(ENOTTY);
    expect(r.fd.ioctl(uapi.IOMMU_IOAS_ALLOC, Uint8Array.of(12, 0))).toBe(EFAULT);
    expect(r.fd.ioctl(uapi.IOMMU_IOAS_ALLOC, le([4, 12], [4, 0]))).toBe(EFAULT); // size beyond the buffer
    expect(r.fd.ioctl(uapi.IOMMU_IOAS_ALLOC, le([4, 8], [4, 0]))).toBe(EINVAL);
    expect(r.fd.ioctl(uapi.IOMMU_IOAS_ALLOC, le([4, 16], [4, 0], [4, 0], [4, 1]))).toBe(E2BIG);
    // A longer struct with zero tail is fine; the reply keeps the tail.
    const longer = ok(r.fd.ioctl(uapi.IOMMU_IOAS_ALLOC, le([4, 16], [4, 0], [4, 0], [4, 0])));
    expect(longer.length).toBe(16);
    expect(u32At(longer, 8)).toBe(1);
    expect(r.fd.ioctl(uapi.IOMMU_IOAS_ALLOC, le([4, 12], [4, 1], [4, 0]))).toBe(EOPNOTSUPP);
  });

  it('SET_DIRTY_TRACKING and GET_DIRTY_BITMAP: unknown flags and reserved bytes', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    const dev = r.fd.bindDevice(r.vf0);
    const hwpt = r.fd.hwptAlloc({ devId: dev, ptId: ioas, dirtyTracking: true });
    expect(r.fd.ioctl(uapi.IOMMU_HWPT_SET_DIRTY_TRACKING, le([4, 16], [4, 2], [4, hwpt], [4, 0]))).toBe(
      EOPNOTSUPP,
    );
    expect(r.fd.ioctl(uapi.IOMMU_HWPT_SET_DIRTY_TRACKING, le([4, 16], [4, 1], [4, hwpt], [4, 9]))).toBe(
      EOPNOTSUPP,
    );
    expect(r.fd.ioctl(uapi.IOMMU_HWPT_SET_DIRTY_TRACKING, le([4, 16], [4, 1], [4, 99], [4, 0]))).toBe(ENOENT);
    expect(r.fd.ioctl(uapi.IOMMU_HWPT_SET_DIRTY_TRACKING, le([4, 12], [4, 1], [4, hwpt]))).toBe(EINVAL);
    const get = (flags: number, reserved: number, iv: bigint, len: bigint) =>
      r.fd.ioctl(
        uapi.IOMMU_HWPT_GET_DIRTY_BITMAP,
        le([4, 48], [4, hwpt], [4, flags], [4, reserved], [8, iv], [8, len], [8, 0x1000], [8, 0x8000_0000]),
      );
    expect(get(2, 0, 0n, 0x1000n)).toBe(EOPNOTSUPP);
    expect(get(0, 1, 0n, 0x1000n)).toBe(EOPNOTSUPP);
    expect(get(1, 0, 2n ** 64n - 0x1000n, 0x2000n)).toBe(EOVERFLOW);
    expect(get(1, 0, 0x800n, 0x1000n)).toBe(EINVAL);
    expect(typeof get(1, 0, 0n, 0x1000n)).toBe('object');
  });

  it('HWPT_ALLOC: flags, data_type, unknown ids; IOAS_MAP: flags and bad user pointers', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    const dev = r.fd.bindDevice(r.vf0);
    const alloc = (flags: number, devId: number, ptId: number, dataType = 0, dataLen = 0) =>
      r.fd.ioctl(
        uapi.IOMMU_HWPT_ALLOC,
        le([4, 40], [4, flags], [4, devId], [4, ptId], [4, 0], [4, 0], [4, dataType], [4, dataLen], [8, 0]),
      );
    expect(alloc(1 << 4, dev, ioas)).toBe(EOPNOTSUPP);
    expect(alloc(0, dev, ioas, 0, 8)).toBe(EINVAL);
    expect(alloc(0, dev, ioas, 1, 0)).toBe(EOPNOTSUPP);
    expect(alloc(0, 99, ioas)).toBe(ENOENT);
    expect(alloc(0, dev, 99)).toBe(ENOENT);
    // The pre-nesting 24-byte struct is still accepted.
    expect(
      u32At(
        ok(r.fd.ioctl(uapi.IOMMU_HWPT_ALLOC, le([4, 24], [4, 0], [4, dev], [4, ioas], [4, 0], [4, 0]))),
        16,
      ),
    ).toBe(3);
    const map = (flags: number, userVa: bigint | number, iv: bigint | number) =>
      r.fd.ioctl(
        uapi.IOMMU_IOAS_MAP,
        le([4, 40], [4, flags], [4, ioas], [4, 0], [8, userVa], [8, 0x1000], [8, iv]),
      );
    expect(map((1 << 3) | 7, 0x4000_0000, 0)).toBe(EOPNOTSUPP);
    expect(map(0b001, 0x4000_0000, 0x1000)).toBe(EINVAL); // FIXED without READABLE / WRITEABLE
    expect(map(0b111, 2n ** 40n, 0x1000)).toBe(EFAULT); // beyond the host's 256 GiB of RAM
    expect(map(0b111, 0x4000_0000, 2n ** 64n - 1n)).toBe(EOVERFLOW);
    // GET_HW_INFO reports IOMMU_HW_CAP_DIRTY_TRACKING.
    const info = ok(
      r.fd.ioctl(
        uapi.IOMMU_GET_HW_INFO,
        le([4, 40], [4, 0], [4, dev], [4, 0], [8, 0], [4, 0], [4, 0], [8, 0]),
      ),
    );
    expect(u64At(info, 32)).toBe(1n);
  });
});
