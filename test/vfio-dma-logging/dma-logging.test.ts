/**
 * Device DMA logging (facts/kernel.md 2.1) through the VFIO_DEVICE_FEATURE handlers: payloads and the
 * user's range arrays and bitmaps written by hand in host RAM (flat user memory), every errno of the
 * core's START and REPORT checks in their order, and the tracker fed by a device model or by the host
 * IOMMU's dirty bits for a VF's domain.
 */
import { describe, expect, it } from 'vitest';
import { iova, PROT_READ_WRITE } from '../../src/hw/index.js';
import { hpa } from '../../src/hw/memory/index.js';
import { flatUserMemory, IommufdSubsystem } from '../../src/kernel/iommufd/index.js';
import {
  combineIovaRanges,
  type DeviceFeatureHandler,
  DmaLogger,
  dmaLoggingFeatureHandlers,
  dmaLoggingInPlaceHandlers,
} from '../../src/kernel/vfio/dma-logging/index.js';
import { errnoOf, hostWithVfs, le, rig, u64At } from '../iommufd/support.js';

const SET = 1 << 17;
const GET = 1 << 16;
const PROBE = 1 << 18;
const START = 6;
const STOP = 7;
const REPORT = 8;
const EINVAL = -22;
const E2BIG = -7;
const EOVERFLOW = -75;
const EFAULT = -14;

/** Where the user's range array and bitmap live (user VA = HPA). */
const RANGES_VA = 0x9000_0000n;
const BITMAP_VA = 0x9100_0000n;

function setup(logger = new DmaLogger()) {
  const host = hostWithVfs();
  const user = flatUserMemory(host.memory);
  const handlers = dmaLoggingFeatureHandlers(logger, user);
  const call = (feature: number, flags: number, payload: Uint8Array): Uint8Array | number =>
    (handlers.get(feature) as DeviceFeatureHandler)(feature | flags, payload);
  const writeRanges = (...ranges: [bigint, bigint][]): void => {
    host.memory.write(
      hpa(RANGES_VA),
      le(
        ...ranges.flatMap(([a, l]): [8, bigint][] => [
          [8, a],
          [8, l],
        ]),
      ),
    );
  };
  const start = (pageSize: bigint, numRanges: number) =>
    call(START, SET, le([8, pageSize], [4, numRanges], [4, 0], [8, RANGES_VA]));
  const report = (iv: bigint, len: bigint, pageSize: bigint, bitmap = BITMAP_VA) =>
    call(REPORT, GET, le([8, iv], [8, len], [8, pageSize], [8, bitmap]));
  const bitmap = (n: number) => [...host.memory.read(hpa(BITMAP_VA), n)];
  return { host, logger, call, writeRanges, start, report, bitmap };
}

describe('START validation (vfio_ioctl_device_feature_logging_start)', () => {
  it('num_ranges 0, > 256, then per range: alignment, overflow, overlap', () => {
    const s = setup();
    s.writeRanges([0x10_0000n, 0x1_0000n], [0x20_0000n, 0x1_0000n]);
    expect(s.start(4096n, 0)).toBe(EINVAL);
    expect(s.start(4096n, 257)).toBe(E2BIG);
    s.writeRanges([0x10_0800n, 0x1000n]);
    expect(s.start(4096n, 1)).toBe(EINVAL); // iova not aligned
    s.writeRanges([0x10_0000n, 0x1800n]);
    expect(s.start(4096n, 1)).toBe(EINVAL); // length not aligned
    s.writeRanges([2n ** 64n - 0x1000n, 0x2000n]);
    expect(s.start(4096n, 1)).toBe(EOVERFLOW);
    s.writeRanges([0x10_0000n, 0x4000n], [0x10_3000n, 0x1000n]);
    expect(s.start(4096n, 2)).toBe(EINVAL); // [0x103000] lies in the first range
    // Order: range 0 overflows, range 1 is unaligned → range 0's EOVERFLOW wins.
    s.writeRanges([2n ** 64n - 0x1000n, 0x2000n], [0x800n, 0x1000n]);
    expect(s.start(4096n, 2)).toBe(EOVERFLOW);
    // A range array pointer beyond user memory: EFAULT when the first range is copied.
    expect(s.call(START, SET, le([8, 4096], [4, 1], [4, 0], [8, 2n ** 50n]))).toBe(EFAULT);
    expect(s.logger.state.kind).toBe('idle');
  });

  it('vfio_check_feature: GET on START, neither op, short payload; PROBE transfers nothing', () => {
    const s = setup();
    const payload = le([8, 4096], [4, 1], [4, 0], [8, RANGES_VA]);
    expect(s.call(START, GET, payload)).toBe(EINVAL);
    expect(s.call(START, 0, payload)).toBe(EINVAL);
    expect(s.call(START, SET, payload.subarray(0, 16))).toBe(EINVAL);
    expect(s.call(START, SET | PROBE, payload)).toEqual(payload);
    expect(s.call(REPORT, SET, new Uint8Array(32))).toBe(EINVAL);
    expect(s.logger.state.kind).toBe('idle');
  });

  it('a second START before STOP is EINVAL; STOP is always fine', () => {
    const s = setup();
    s.writeRanges([0x10_0000n, 0x1_0000n]);
    expect(typeof s.start(4096n, 1)).toBe('object');
    expect(s.start(4096n, 1)).toBe(EINVAL);
    expect(s.call(STOP, SET, new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(s.call(STOP, SET, new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(typeof s.start(4096n, 1)).toBe('object');
  });

  it('page_size is a hint: the tracker clamps it and START writes it back', () => {
    const s = setup(new DmaLogger({ kind: 'device' }, { minPageSizeBytes: 0x4000n }));
    s.writeRanges([0x10_0000n, 0x1_0000n]);
    const reply = s.start(4096n, 1);
    expect(typeof reply).toBe('object');
    expect(u64At(reply as Uint8Array, 0)).toBe(0x4000n);
  });

  it('tracker limits: merging to maxRanges, E2BIG beyond the tracked bytes', () => {
    const merged = combineIovaRanges(
      [
        { iova: 0x0n, lengthBytes: 0x1000n },
        { iova: 0x10_0000n, lengthBytes: 0x1000n },
        { iova: 0x10_3000n, lengthBytes: 0x1000n },
      ],
      2,
    );
    // Gaps: 0xff000 and 0x2000 → the last two merge.
    expect(merged).toEqual([
      { iova: 0x0n, lengthBytes: 0x1000n },
      { iova: 0x10_0000n, lengthBytes: 0x4000n },
    ]);
    const small = new DmaLogger({ kind: 'device' }, { maxTrackedBytes: 0x1_0000n });
    expect(errnoOf(() => small.start(4096n, [{ iova: 0n, lengthBytes: 0x2_0000n }]))).toBe('E2BIG');
    const narrow = new DmaLogger({ kind: 'device' }, { iovaLimit: 2n ** 32n });
    expect(errnoOf(() => narrow.start(4096n, [{ iova: 2n ** 32n - 0x1000n, lengthBytes: 0x2000n }]))).toBe(
      'E2BIG',
    );
  });
});

describe('REPORT', () => {
  it('errnos: page size, overflow, not started, outside the tracked ranges; length 0 is a no-op', () => {
    const s = setup();
    expect(s.report(0x10_0000n, 0x1000n, 4096n)).toBe(EINVAL); // not started
    s.writeRanges([0x10_0000n, 0x1_0000n]);
    s.start(4096n, 1);
    expect(s.report(0x10_0000n, 0x1000n, 2048n)).toBe(EINVAL);
    expect(s.report(0x10_0000n, 0x3000n, 0x3000n)).toBe(EINVAL);
    expect(s.report(2n ** 64n - 0x1000n, 0x1000n, 4096n)).toBe(EOVERFLOW); // end = 2^64 > U64_MAX
    expect(s.report(0x10_0000n, 0x2_0000n, 4096n)).toBe(EINVAL); // runs past the tracked range
    expect(s.report(0x10_0000n, 0x1000n, 4096n, 2n ** 50n)).toBe(EFAULT);
    expect(typeof s.report(0x10_0000n, 0n, 4096n)).toBe('object');
  });

  it('device-fed log: bits set only, read-and-clear, granule conversion both ways', () => {
    const s = setup(new DmaLogger({ kind: 'device' }, { minPageSizeBytes: 0x2000n }));
    s.writeRanges([0x10_0000n, 0x1_0000n]);
    s.start(4096n, 1); // granule 8 KiB
    s.logger.recordWrite(0x10_2000n + 17n, 4n); // granule page at 0x102000
    s.logger.recordWrite(0x50_0000n, 4096n); // outside the tracked range: not logged
    s.host.memory.write(hpa(BITMAP_VA), Uint8Array.of(0x01));
    expect(typeof s.report(0x10_0000n, 0x1_0000n, 4096n)).toBe('object');
    // 8 KiB granule at 0x102000 → 4 KiB bits 2 and 3 → 0x0c, OR-ed with the user's 0x01.
    expect(s.bitmap(8)).toEqual([0x0d, 0, 0, 0, 0, 0, 0, 0]);
    s.host.memory.write(hpa(BITMAP_VA), new Uint8Array(8));
    s.report(0x10_0000n, 0x1_0000n, 4096n);
    expect(s.bitmap(8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]); // cleared by the first read
    s.logger.recordWrite(0x10_6000n, 1n);
    s.report(0x10_0000n, 0x1_0000n, 0x8000n);
    expect(s.bitmap(1)).toEqual([0x01]); // 32 KiB bits: 0x106000 is in bit 0
  });

  it('IOMMU-backed log: a VF DMA write through its dirty-tracking domain is reported', () => {
    const r = rig();
    const ioas = r.fd.ioasAlloc();
    r.fd.ioasMap({
      ioasId: ioas,
      hpa: hpa(0x4000_0000n),
      lengthBytes: 0x4_0000n,
      prot: PROT_READ_WRITE,
      iova: iova(0),
    });
    const dev = r.fd.bindDevice(r.vf1);
    r.fd.attach(dev, r.fd.hwptAlloc({ devId: dev, ptId: ioas, dirtyTracking: true }));
    const logger = new DmaLogger({ kind: 'iommu', iommu: r.host.iommu, rid: r.vf1 });
    const user = flatUserMemory(r.host.memory);
    const handlers = dmaLoggingFeatureHandlers(logger, user);
    r.host.memory.write(hpa(RANGES_VA), le([8, 0], [8, 0x4_0000]));
    const start = handlers.get(START)!(START | SET, le([8, 4096], [4, 1], [4, 0], [8, RANGES_VA]));
    expect(typeof start).toBe('object');
    const port = r.host.dma.port({ rid: r.vf1 });
    expect(port.write(iova(0x1_0000), new Uint8Array(8)).ok).toBe(true); // page 16
    expect(port.write(iova(0x3_f000), new Uint8Array(8)).ok).toBe(true); // page 63
    handlers.get(REPORT)!(REPORT | GET, le([8, 0], [8, 0x4_0000], [8, 4096], [8, BITMAP_VA]));
    // 64 bits: page 16 → byte 2 bit 0; page 63 → byte 7 bit 7.
    expect([...r.host.memory.read(hpa(BITMAP_VA), 8)]).toEqual([0, 0, 0x01, 0, 0, 0, 0, 0x80]);
    handlers.get(STOP)!(STOP | SET, new Uint8Array(0));
    expect(r.host.iommu.domainFor(r.vf1)?.kind).toBe('paging');
  });

  it('IOMMU-backed START needs a dirty-tracking domain', () => {
    const host = hostWithVfs();
    const fd = new IommufdSubsystem(host.iommu).open(flatUserMemory(host.memory));
    const dev = fd.bindDevice(0x0101 as never);
    fd.attach(dev, fd.ioasAlloc()); // auto HWPT: no dirty tracking
    const logger = new DmaLogger({ kind: 'iommu', iommu: host.iommu, rid: 0x0101 as never });
    expect(errnoOf(() => logger.start(4096n, [{ iova: 0n, lengthBytes: 0x1000n }]))).toBe('EOPNOTSUPP');
  });
});

describe('in-place handlers for the VFIO core dispatcher', () => {
  it('START writes the chosen page size into the payload; errors throw the errno', () => {
    const host = hostWithVfs();
    const logger = new DmaLogger({ kind: 'device' }, { minPageSizeBytes: 0x2000n });
    const handlers = dmaLoggingInPlaceHandlers(logger, flatUserMemory(host.memory));
    host.memory.write(hpa(RANGES_VA), le([8, 0], [8, 0x1_0000]));
    const payload = le([8, 4096], [4, 1], [4, 0], [8, RANGES_VA]);
    handlers.get(START)!.set!(payload);
    expect(u64At(payload, 0)).toBe(0x2000n);
    expect(handlers.get(REPORT)!.ops).toBe(GET);
    expect(
      errnoOf(() => handlers.get(REPORT)!.get!(le([8, 0], [8, 0x1000], [8, 0x800], [8, BITMAP_VA]))),
    ).toBe('EINVAL');
  });
});
