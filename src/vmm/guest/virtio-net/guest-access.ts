/**
 * What a guest driver may touch, and nothing else: config cycles and BAR accesses of its one PCI
 * function (`GuestPciAccess`), guest memory at bus addresses (`GuestDmaMemory`), and a region
 * allocator for the rings and buffers it hands to the device.
 *
 * The same driver runs against a PCI function on the host (host fabric config cycles and MMIO) and,
 * later, inside a VM through the VMM and VFIO: only the object behind `GuestPciAccess` changes. A legacy
 * I/O BAR0 that the kernel or VFIO emulates with admin commands looks the same as a real one here.
 *
 * Left out: port I/O as a separate address space (an I/O BAR is reached through `barRead/barWrite`
 * like an MMIO BAR), DMA mapping APIs (addresses are bus addresses the device can reach as given).
 */
import { errnoError, LabError } from '../../../base/index.js';
import type { DriverQueueMemory } from '../virtqueue-driver.js';

/** One PCI function as a guest driver sees it. Widths are access sizes in bytes; values little-endian. */
export interface GuestPciAccess {
  configRead(offset: number, width: 1 | 2 | 4): number;
  configWrite(offset: number, width: 1 | 2 | 4, value: number): void;
  /** MMIO or I/O BAR `bar` (0..5), at `offset` bytes into the BAR. */
  barRead(bar: number, offset: number, width: 1 | 2 | 4): number;
  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void;
}

/**
 * Guest memory at bus addresses (guest physical addresses, or IOVAs once an IOMMU sits between): the
 * little-endian accessors the split ring needs. host/ SparseMemory and the test memories fit it.
 */
export interface GuestDmaMemory extends DriverQueueMemory {}

/** Hands out regions of guest memory for rings and buffers. */
export interface GuestRegionAllocator {
  /** A region of `sizeBytes` aligned to `alignBytes` (a power of 2). Throws ENOMEM when none is left. */
  alloc(sizeBytes: number, alignBytes: number): bigint;
  /** Give back a region `alloc` returned. */
  free(addr: bigint): void;
}

interface Region {
  readonly addr: bigint;
  readonly sizeBytes: bigint;
}

/**
 * A first-fit allocator over one window of guest memory [baseAddr, baseAddr + sizeBytes). Enough for a
 * driver that allocates a few dozen regions at init and frees them at reset.
 */
export class RegionAllocator implements GuestRegionAllocator {
  readonly baseAddr: bigint;
  readonly sizeBytes: bigint;
  /** Regions in use, sorted by address. */
  readonly #used: Region[] = [];

  constructor(baseAddr: bigint, sizeBytes: bigint | number) {
    const size = BigInt(sizeBytes);
    if (baseAddr < 0n || size <= 0n || baseAddr + size > 1n << 64n) {
      throw new LabError('bad-input', `allocator window 0x${baseAddr.toString(16)}+${size} is not valid`);
    }
    this.baseAddr = baseAddr;
    this.sizeBytes = size;
  }

  /** Bytes currently allocated (without alignment gaps). */
  get usedBytes(): bigint {
    return this.#used.reduce((sum, r) => sum + r.sizeBytes, 0n);
  }

  get regionCount(): number {
    return this.#used.length;
  }

  alloc(sizeBytes: number, alignBytes: number): bigint {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      throw new LabError('bad-input', `region size ${sizeBytes} is not a positive integer`);
    }
    if (!Number.isSafeInteger(alignBytes) || alignBytes <= 0 || (alignBytes & (alignBytes - 1)) !== 0) {
      throw new LabError('bad-input', `region alignment ${alignBytes} is not a power of 2`);
    }
    const size = BigInt(sizeBytes);
    const align = BigInt(alignBytes);
    const end = this.baseAddr + this.sizeBytes;
    let cursor = this.baseAddr;
    for (let i = 0; i <= this.#used.length; i++) {
      const start = ((cursor + align - 1n) / align) * align;
      const limit = this.#used[i]?.addr ?? end;
      if (start + size <= limit) {
        this.#used.splice(i, 0, { addr: start, sizeBytes: size });
        return start;
      }
      const r = this.#used[i];
      if (r) cursor = r.addr + r.sizeBytes;
    }
    throw errnoError('ENOMEM', `no ${sizeBytes}-byte region aligned to ${alignBytes} left`);
  }

  free(addr: bigint): void {
    const i = this.#used.findIndex((r) => r.addr === addr);
    if (i < 0) throw new LabError('bad-input', `0x${addr.toString(16)} is not an allocated region`);
    this.#used.splice(i, 1);
  }
}
