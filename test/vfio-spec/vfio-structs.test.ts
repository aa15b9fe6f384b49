/**
 * Every VFIO uAPI struct of src/spec/vfio.ts against bytes assembled by hand from the layout tables of
 * facts/kernel.md §1.6, §1.7, §2.1 and §3.2 (one commented chunk per field, little-endian), plus the
 * ioctl numbers recomputed from the _IO formula of §3.1 and the flag values as the facts list them.
 */
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct, type StructDesc } from '../../src/base/index.js';
import { vfio } from '../../src/spec/index.js';

function bytes(...chunks: number[][]): Uint8Array {
  return Uint8Array.from(chunks.flat());
}

function roundTrip<T>(desc: StructDesc<T>, value: T, wire: Uint8Array): void {
  expect(encodeStruct(desc, value)).toEqual(wire);
  expect(decodeStruct(desc, wire)).toEqual(value);
}

describe('ioctl numbers (_IO(";", 100 + n), facts §3.1)', () => {
  const io = (n: number): number => (';'.charCodeAt(0) << 8) | (100 + n);
  const table: [keyof typeof vfio, number][] = [
    ['VFIO_GET_API_VERSION', 0],
    ['VFIO_CHECK_EXTENSION', 1],
    ['VFIO_SET_IOMMU', 2],
    ['VFIO_GROUP_GET_STATUS', 3],
    ['VFIO_GROUP_SET_CONTAINER', 4],
    ['VFIO_GROUP_UNSET_CONTAINER', 5],
    ['VFIO_GROUP_GET_DEVICE_FD', 6],
    ['VFIO_DEVICE_GET_INFO', 7],
    ['VFIO_DEVICE_GET_REGION_INFO', 8],
    ['VFIO_DEVICE_GET_IRQ_INFO', 9],
    ['VFIO_DEVICE_SET_IRQS', 10],
    ['VFIO_DEVICE_RESET', 11],
    ['VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', 12],
    ['VFIO_IOMMU_GET_INFO', 12],
    ['VFIO_DEVICE_PCI_HOT_RESET', 13],
    ['VFIO_IOMMU_MAP_DMA', 13],
    ['VFIO_DEVICE_QUERY_GFX_PLANE', 14],
    ['VFIO_IOMMU_UNMAP_DMA', 14],
    ['VFIO_DEVICE_GET_GFX_DMABUF', 15],
    ['VFIO_IOMMU_ENABLE', 15],
    ['VFIO_DEVICE_IOEVENTFD', 16],
    ['VFIO_IOMMU_DISABLE', 16],
    ['VFIO_DEVICE_FEATURE', 17],
    ['VFIO_DEVICE_BIND_IOMMUFD', 18],
    ['VFIO_DEVICE_ATTACH_IOMMUFD_PT', 19],
    ['VFIO_DEVICE_DETACH_IOMMUFD_PT', 20],
    ['VFIO_MIG_GET_PRECOPY_INFO', 21],
  ];
  it.each(table)('%s = _IO(VFIO_TYPE, VFIO_BASE + %i)', (name, n) => {
    expect(vfio[name]).toBe(io(n));
  });
  it('spot values from the facts table', () => {
    expect(vfio.VFIO_TYPE).toBe(0x3b);
    expect(vfio.VFIO_BASE).toBe(100);
    expect(vfio.VFIO_DEVICE_FEATURE).toBe(0x3b75);
    expect(vfio.VFIO_MIG_GET_PRECOPY_INFO).toBe(0x3b79);
    expect(vfio.VFIO_DEVICE_RESET).toBe(0x3b6f);
  });
});

describe('flag and index values (facts §1.1, §1.2, §1.6, §3.2-§3.4)', () => {
  it('feature flags and ids', () => {
    expect([
      vfio.VFIO_DEVICE_FEATURE_MASK,
      vfio.VFIO_DEVICE_FEATURE_GET,
      vfio.VFIO_DEVICE_FEATURE_SET,
      vfio.VFIO_DEVICE_FEATURE_PROBE,
    ]).toEqual([0xffff, 0x10000, 0x20000, 0x40000]);
    expect([
      vfio.VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
      vfio.VFIO_DEVICE_FEATURE_MIGRATION,
      vfio.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
      vfio.VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
      vfio.VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
      vfio.VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
      vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
      vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
      vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
      vfio.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
      vfio.VFIO_DEVICE_FEATURE_BUS_MASTER,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
  it('migration states and flags', () => {
    expect([
      vfio.VFIO_DEVICE_STATE_ERROR,
      vfio.VFIO_DEVICE_STATE_STOP,
      vfio.VFIO_DEVICE_STATE_RUNNING,
      vfio.VFIO_DEVICE_STATE_STOP_COPY,
      vfio.VFIO_DEVICE_STATE_RESUMING,
      vfio.VFIO_DEVICE_STATE_RUNNING_P2P,
      vfio.VFIO_DEVICE_STATE_PRE_COPY,
      vfio.VFIO_DEVICE_STATE_PRE_COPY_P2P,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(vfio.VFIO_DEVICE_STATE_NAMES[6]).toBe('PRE_COPY');
    expect([vfio.VFIO_MIGRATION_STOP_COPY, vfio.VFIO_MIGRATION_P2P, vfio.VFIO_MIGRATION_PRE_COPY]).toEqual([
      1, 2, 4,
    ]);
  });
  it('device, region and irq flags and indexes', () => {
    expect([
      vfio.VFIO_DEVICE_FLAGS_RESET,
      vfio.VFIO_DEVICE_FLAGS_PCI,
      vfio.VFIO_DEVICE_FLAGS_PLATFORM,
      vfio.VFIO_DEVICE_FLAGS_AMBA,
      vfio.VFIO_DEVICE_FLAGS_CCW,
      vfio.VFIO_DEVICE_FLAGS_AP,
      vfio.VFIO_DEVICE_FLAGS_FSL_MC,
      vfio.VFIO_DEVICE_FLAGS_CAPS,
      vfio.VFIO_DEVICE_FLAGS_CDX,
    ]).toEqual([0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0x100]);
    expect([
      vfio.VFIO_REGION_INFO_FLAG_READ,
      vfio.VFIO_REGION_INFO_FLAG_WRITE,
      vfio.VFIO_REGION_INFO_FLAG_MMAP,
      vfio.VFIO_REGION_INFO_FLAG_CAPS,
    ]).toEqual([1, 2, 4, 8]);
    expect([
      vfio.VFIO_REGION_INFO_CAP_SPARSE_MMAP,
      vfio.VFIO_REGION_INFO_CAP_TYPE,
      vfio.VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
    ]).toEqual([1, 2, 3]);
    expect([
      vfio.VFIO_IRQ_INFO_EVENTFD,
      vfio.VFIO_IRQ_INFO_MASKABLE,
      vfio.VFIO_IRQ_INFO_AUTOMASKED,
      vfio.VFIO_IRQ_INFO_NORESIZE,
    ]).toEqual([1, 2, 4, 8]);
    expect([
      vfio.VFIO_IRQ_SET_DATA_NONE,
      vfio.VFIO_IRQ_SET_DATA_BOOL,
      vfio.VFIO_IRQ_SET_DATA_EVENTFD,
      vfio.VFIO_IRQ_SET_ACTION_MASK,
      vfio.VFIO_IRQ_SET_ACTION_UNMASK,
      vfio.VFIO_IRQ_SET_ACTION_TRIGGER,
      vfio.VFIO_IRQ_SET_DATA_TYPE_MASK,
      vfio.VFIO_IRQ_SET_ACTION_TYPE_MASK,
    ]).toEqual([1, 2, 4, 8, 16, 32, 7, 0x38]);
    expect([
      vfio.VFIO_PCI_BAR0_REGION_INDEX,
      vfio.VFIO_PCI_BAR5_REGION_INDEX,
      vfio.VFIO_PCI_ROM_REGION_INDEX,
      vfio.VFIO_PCI_CONFIG_REGION_INDEX,
      vfio.VFIO_PCI_VGA_REGION_INDEX,
      vfio.VFIO_PCI_NUM_REGIONS,
      vfio.VFIO_PCI_OFFSET_SHIFT,
    ]).toEqual([0, 5, 6, 7, 8, 9, 40]);
    expect([
      vfio.VFIO_PCI_INTX_IRQ_INDEX,
      vfio.VFIO_PCI_MSI_IRQ_INDEX,
      vfio.VFIO_PCI_MSIX_IRQ_INDEX,
      vfio.VFIO_PCI_ERR_IRQ_INDEX,
      vfio.VFIO_PCI_REQ_IRQ_INDEX,
      vfio.VFIO_PCI_NUM_IRQS,
    ]).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('struct byte vectors', () => {
  it('vfio_device_feature: argsz, flags, data[]', () => {
    const wire = bytes(
      [0x10, 0x00, 0x00, 0x00], // argsz 16
      [0x02, 0x00, 0x03, 0x00], // flags MIG_DEVICE_STATE | GET | SET (0x30002)
      [0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff], // data
    );
    roundTrip(
      vfio.VfioDeviceFeature,
      { argsz: 16, flags: 0x30002, data: Uint8Array.of(1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff) },
      wire,
    );
    expect(vfio.VfioDeviceFeature.sizeBytes).toBe(8);
  });

  it('vfio_device_feature_migration: u64 flags', () => {
    roundTrip(vfio.VfioDeviceFeatureMigration, { flags: 7n }, bytes([7, 0, 0, 0, 0, 0, 0, 0]));
  });

  it('vfio_device_feature_mig_state: u32 device_state, s32 data_fd', () => {
    roundTrip(
      vfio.VfioDeviceFeatureMigState,
      { deviceState: 3, dataFd: 0xffffffff },
      bytes([3, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]),
    );
    roundTrip(
      vfio.VfioDeviceFeatureMigState,
      { deviceState: 6, dataFd: 42 },
      bytes([6, 0, 0, 0], [42, 0, 0, 0]),
    );
  });

  it('vfio_device_feature_mig_data_size: u64 stop_copy_length', () => {
    roundTrip(
      vfio.VfioDeviceFeatureMigDataSize,
      { stopCopyLength: 0x0102030405060708n },
      bytes([0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01]),
    );
  });

  it('vfio_precopy_info (24 B)', () => {
    roundTrip(
      vfio.VfioPrecopyInfo,
      { argsz: 24, flags: 0, initialBytes: 0x1000n, dirtyBytes: 0x1_0000_0002n },
      bytes(
        [24, 0, 0, 0], // argsz
        [0, 0, 0, 0], // flags
        [0x00, 0x10, 0, 0, 0, 0, 0, 0], // initial_bytes
        [0x02, 0, 0, 0, 0x01, 0, 0, 0], // dirty_bytes
      ),
    );
  });

  it('dma logging range, control (24 B) and report (32 B)', () => {
    roundTrip(
      vfio.VfioDeviceFeatureDmaLoggingRange,
      { iova: 0x10_0000n, length: 0x2000n },
      bytes([0, 0, 0x10, 0, 0, 0, 0, 0], [0, 0x20, 0, 0, 0, 0, 0, 0]),
    );
    roundTrip(
      vfio.VfioDeviceFeatureDmaLoggingControl,
      { pageSize: 4096n, numRanges: 2, ranges: 0x7fff_0000_1000n },
      bytes(
        [0, 0x10, 0, 0, 0, 0, 0, 0], // page_size
        [2, 0, 0, 0], // num_ranges
        [0, 0, 0, 0], // __reserved
        [0x00, 0x10, 0x00, 0x00, 0xff, 0x7f, 0, 0], // ranges (user pointer)
      ),
    );
    roundTrip(
      vfio.VfioDeviceFeatureDmaLoggingReport,
      { iova: 0n, length: 0x40_0000n, pageSize: 4096n, bitmap: 0xdead_b000n },
      bytes(
        [0, 0, 0, 0, 0, 0, 0, 0], // iova
        [0, 0, 0x40, 0, 0, 0, 0, 0], // length
        [0, 0x10, 0, 0, 0, 0, 0, 0], // page_size
        [0x00, 0xb0, 0xad, 0xde, 0, 0, 0, 0], // bitmap
      ),
    );
  });

  it('vfio_device_info (24 B)', () => {
    roundTrip(
      vfio.VfioDeviceInfo,
      { argsz: 24, flags: 0x3, numRegions: 9, numIrqs: 5, capOffset: 0 },
      bytes([24, 0, 0, 0], [3, 0, 0, 0], [9, 0, 0, 0], [5, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]),
    );
  });

  it('vfio_region_info (32 B) and its caps', () => {
    roundTrip(
      vfio.VfioRegionInfo,
      { argsz: 32, flags: 0x7, index: 7, capOffset: 0, size: 4096n, offset: 7n << 40n },
      bytes(
        [32, 0, 0, 0], // argsz
        [7, 0, 0, 0], // flags READ|WRITE|MMAP
        [7, 0, 0, 0], // index CONFIG
        [0, 0, 0, 0], // cap_offset
        [0, 0x10, 0, 0, 0, 0, 0, 0], // size
        [0, 0, 0, 0, 0, 0x07, 0, 0], // offset = 7 << 40
      ),
    );
    roundTrip(
      vfio.VfioInfoCapHeader,
      { id: 3, version: 1, next: 0x40 },
      bytes([3, 0], [1, 0], [0x40, 0, 0, 0]),
    );
    roundTrip(
      vfio.VfioRegionInfoCapType,
      { id: 2, version: 1, next: 0, type: 0x8086_0000, subtype: 3 },
      bytes([2, 0], [1, 0], [0, 0, 0, 0], [0, 0, 0x86, 0x80], [3, 0, 0, 0]),
    );
    roundTrip(
      vfio.VfioRegionInfoCapSparseMmap,
      {
        id: 1,
        version: 1,
        next: 0,
        nrAreas: 1,
        areas: bytes([0, 0x10, 0, 0, 0, 0, 0, 0], [0, 0x20, 0, 0, 0, 0, 0, 0]),
      },
      bytes(
        [1, 0],
        [1, 0],
        [0, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0x10, 0, 0, 0, 0, 0, 0],
        [0, 0x20, 0, 0, 0, 0, 0, 0],
      ),
    );
    roundTrip(
      vfio.VfioRegionSparseMmapArea,
      { offset: 0x1000n, size: 0x2000n },
      bytes([0, 0x10, 0, 0, 0, 0, 0, 0], [0, 0x20, 0, 0, 0, 0, 0, 0]),
    );
  });

  it('vfio_irq_info (16 B) and vfio_irq_set (20 B + data)', () => {
    roundTrip(
      vfio.VfioIrqInfo,
      { argsz: 16, flags: 0x9, index: 2, count: 64 },
      bytes([16, 0, 0, 0], [9, 0, 0, 0], [2, 0, 0, 0], [64, 0, 0, 0]),
    );
    roundTrip(
      vfio.VfioIrqSet,
      {
        argsz: 28,
        flags: 0x24,
        index: 2,
        start: 0,
        count: 2,
        data: bytes([5, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]),
      },
      bytes(
        [28, 0, 0, 0], // argsz
        [0x24, 0, 0, 0], // flags DATA_EVENTFD | ACTION_TRIGGER
        [2, 0, 0, 0], // index MSIX
        [0, 0, 0, 0], // start
        [2, 0, 0, 0], // count
        [5, 0, 0, 0], // eventfd 5
        [0xff, 0xff, 0xff, 0xff], // eventfd -1 (de-assign)
      ),
    );
  });

  it('short buffers are rejected', () => {
    expect(() => decodeStruct(vfio.VfioPrecopyInfo, new Uint8Array(23))).toThrow();
    expect(() => decodeStruct(vfio.VfioDeviceFeatureMigState, new Uint8Array(7))).toThrow();
  });
});
