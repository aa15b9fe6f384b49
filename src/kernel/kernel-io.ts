/**
 * What a driver needs of the hardware besides config cycles, as Linux offers it: pci_iomap (MMIO to a
 * BAR through the host's memory requests), dma_alloc_coherent (zeroed host RAM from a pool the kernel
 * reserves; under the identity IOMMU domain the device's IOVA is the host physical address) and MSI-X
 * vectors (pci_alloc_irq_vectors + request_irq: the table entry gets a message from the host's MSI
 * controller).
 *
 * - MMIO widths 1/2/4 are one request each (the fabric charges mmioReadNs/mmioWriteNs); 64-bit
 *   accesses are two 32-bit requests, low half first (lo_hi_readq/writeq).
 * - The DMA pool is first-fit over a free list of [start, end) ranges in a reserved window of host
 *   RAM; freeing coalesces neighbours. Allocation zeroes the buffer as dma_alloc_coherent does.
 *
 * SPEC-DEVIATION: Linux takes coherent memory from the page allocator anywhere in RAM and maps it in
 * the device's IOMMU domain; the model uses a fixed window and assumes the identity domain (the
 * host's default), so IOVA = HPA. A driver of a function in a non-identity domain would need
 * dma_map; no host driver here runs in one.
 * Left out: INTx and MSI (only MSI-X), IRQ affinity, per-vector masking after setup.
 */
import { errnoError, LabError } from '../base/index.js';
import { pci } from '../spec/index.js';
import type { Device } from './driver-core/device.js';
import type { DmaCoherent, IoMem, KernelIoApi, KernelRam, MsixVector } from './kernel-api.js';
import type { PciDev } from './pci/pci-dev.js';
import { pdevOf } from './pci/pci-driver.js';
import { IORESOURCE_MEM, resourceSize } from './pci/resource.js';

/** The host's memory requests from the CPU side (PcieFabric.mmioRead/mmioWrite). */
export interface KernelMmioAccess {
  read(address: bigint, width: 1 | 2 | 4): number;
  write(address: bigint, width: 1 | 2 | 4, value: number): void;
}

/** Host RAM as the CPU reaches it (the host's SparseMemory). */
export interface KernelMemoryAccess {
  readonly sizeBytes: bigint;
  read(addr: bigint, lengthBytes: number): Uint8Array;
  write(addr: bigint, bytes: Uint8Array): void;
  readU16(addr: bigint): number;
  writeU16(addr: bigint, value: number): void;
  readU32(addr: bigint): number;
  writeU32(addr: bigint, value: number): void;
}

/** The host's MSI controller (the interrupt remapping / APIC side): a message that calls `handler`. */
export interface KernelMsiController {
  allocate(handler: () => void): KernelMsiMessage;
  free(message: KernelMsiMessage): void;
}

export interface KernelMsiMessage {
  readonly address: bigint;
  readonly data: number;
}

/** Where the kernel's DMA-coherent pool lives in host RAM: 1 GiB from 4 GiB (our choice). */
export const DMA_POOL_BASE = 0x1_0000_0000n;
export const DMA_POOL_SIZE_BYTES = 0x4000_0000;
const DEFAULT_DMA_ALIGN_BYTES = 64;
const PAGE_BYTES = 4096;
const U32_MASK = 0xffff_ffffn;
const NUM_STD_BARS = 6;
/** Capability-list walk bound (a 256-byte space holds at most 48 capabilities). */
const MAX_CAPS = 48;

export interface KernelIoOptions {
  readonly mmio?: KernelMmioAccess | undefined;
  readonly memory?: KernelMemoryAccess | undefined;
  /** Read at each request: the controller may be wired after the kernel is built. */
  readonly msi?: (() => KernelMsiController | undefined) | undefined;
  readonly readConfig: (p: PciDev, offset: number, width: 1 | 2 | 4) => number;
  readonly writeConfig: (p: PciDev, offset: number, width: 1 | 2 | 4, value: number) => void;
}

interface FreeRange {
  start: number;
  end: number;
}

export class KernelIo implements KernelIoApi {
  readonly ram: KernelRam;
  readonly #o: KernelIoOptions;
  /** Free ranges as offsets into the pool, sorted, non-adjacent. */
  #free: FreeRange[] = [{ start: 0, end: DMA_POOL_SIZE_BYTES }];
  readonly #allocated = new Map<bigint, { start: number; end: number; dev: Device }>();
  readonly #msix = new Map<
    Device,
    { index: number; message: KernelMsiMessage; controller: KernelMsiController }[]
  >();

  constructor(o: KernelIoOptions) {
    this.#o = o;
    const mem = o.memory;
    const noRam = (): never => {
      throw errnoError('ENOMEM', 'this host has no RAM wired to its kernel');
    };
    this.ram =
      mem === undefined
        ? { read: noRam, write: noRam, readU16: noRam, writeU16: noRam, readU32: noRam, writeU32: noRam }
        : mem;
  }

  pciIomap(dev: Device, bar: number, offset = 0, length = 0): IoMem {
    const p = pdevOf(dev);
    const mmio = this.#o.mmio;
    if (!Number.isInteger(bar) || bar < 0 || bar >= NUM_STD_BARS) {
      throw new LabError('bad-input', `BAR ${bar} is not 0..5`);
    }
    const r = p.resources[bar];
    if (mmio === undefined || r === undefined || (r.flags & IORESOURCE_MEM) === 0 || r.start === 0n) {
      throw errnoError('ENOMEM', `${p.name}: BAR ${bar} is not an assigned memory BAR`);
    }
    const size = Number(resourceSize(r));
    if (offset < 0 || offset > size || length < 0 || offset + length > size) {
      throw errnoError('EINVAL', `${p.name}: ${offset}+${length} outside BAR ${bar} (${size} bytes)`);
    }
    const sizeBytes = length === 0 ? size - offset : length;
    const busAddr = r.start + BigInt(offset);
    const at = (off: number, width: number): bigint => {
      if (off < 0 || off + width > sizeBytes) {
        throw new LabError('bad-input', `${p.name}: MMIO at ${off}/${width} outside the mapping`);
      }
      return busAddr + BigInt(off);
    };
    return {
      bar,
      busAddr,
      sizeBytes,
      read: (off, width) => mmio.read(at(off, width), width),
      write: (off, width, value) => mmio.write(at(off, width), width, value),
      read64: (off) => {
        const lo = BigInt(mmio.read(at(off, 8), 4));
        const hi = BigInt(mmio.read(at(off + 4, 4), 4));
        return (hi << 32n) | lo;
      },
      write64: (off, value) => {
        mmio.write(at(off, 8), 4, Number(value & U32_MASK));
        mmio.write(at(off + 4, 4), 4, Number((value >> 32n) & U32_MASK));
      },
    };
  }

  dmaAllocCoherent(dev: Device, sizeBytes: number, alignBytes = DEFAULT_DMA_ALIGN_BYTES): DmaCoherent {
    if (this.#o.memory === undefined) throw errnoError('ENOMEM', 'this host has no RAM wired to its kernel');
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      throw new LabError('bad-input', `DMA buffer of ${sizeBytes} bytes`);
    }
    if (!Number.isSafeInteger(alignBytes) || alignBytes <= 0 || (alignBytes & (alignBytes - 1)) !== 0) {
      throw new LabError('bad-input', `DMA alignment ${alignBytes} is not a power of 2`);
    }
    // Coherent allocations are page-granular in Linux; keep at least the asked alignment.
    const align = Math.max(alignBytes, sizeBytes >= PAGE_BYTES ? PAGE_BYTES : alignBytes);
    for (let i = 0; i < this.#free.length; i++) {
      const f = this.#free[i]!;
      const start = Math.ceil(f.start / align) * align;
      const end = start + sizeBytes;
      if (end > f.end) continue;
      const pieces: FreeRange[] = [];
      if (start > f.start) pieces.push({ start: f.start, end: start });
      if (end < f.end) pieces.push({ start: end, end: f.end });
      this.#free.splice(i, 1, ...pieces);
      const cpuAddr = DMA_POOL_BASE + BigInt(start);
      this.#allocated.set(cpuAddr, { start, end, dev });
      this.#o.memory.write(cpuAddr, new Uint8Array(sizeBytes));
      return { iova: cpuAddr, cpuAddr, sizeBytes };
    }
    throw errnoError('ENOMEM', `DMA pool: no ${sizeBytes} bytes free`);
  }

  dmaFreeCoherent(_dev: Device, buf: DmaCoherent): void {
    const a = this.#allocated.get(buf.cpuAddr);
    if (a === undefined)
      throw new LabError('bad-input', `DMA buffer 0x${buf.cpuAddr.toString(16)} not allocated`);
    this.#allocated.delete(buf.cpuAddr);
    const range = { start: a.start, end: a.end };
    let i = this.#free.findIndex((f) => f.start > range.start);
    if (i === -1) i = this.#free.length;
    this.#free.splice(i, 0, range);
    // Coalesce with the neighbours.
    const next = this.#free[i + 1];
    if (next !== undefined && next.start === range.end) {
      range.end = next.end;
      this.#free.splice(i + 1, 1);
    }
    const prev = this.#free[i - 1];
    if (prev !== undefined && prev.end === range.start) {
      prev.end = range.end;
      this.#free.splice(i, 1);
    }
  }

  /** Bytes of the DMA pool in use (for tests and leak checks). */
  get dmaBytesInUse(): number {
    let n = 0;
    for (const a of this.#allocated.values()) n += a.end - a.start;
    return n;
  }

  pciRequestMsixVector(dev: Device, index: number, handler: () => void): MsixVector | undefined {
    const controller = this.#o.msi?.();
    if (controller === undefined || this.#o.mmio === undefined) return undefined;
    const p = pdevOf(dev);
    const cap = this.#findCap(p, pci.PCI_CAP_ID_MSIX);
    if (cap === undefined) return undefined;
    const flags = this.#o.readConfig(p, cap + pci.PCI_MSIX_FLAGS, 2);
    const tableSize = (flags & pci.PCI_MSIX_FLAGS_QSIZE) + 1;
    if (!Number.isInteger(index) || index < 0 || index >= tableSize) return undefined;
    const table = this.#o.readConfig(p, cap + pci.PCI_MSIX_TABLE, 4);
    const bir = table & pci.PCI_MSIX_TABLE_BIR;
    const tableOffset = (table & pci.PCI_MSIX_TABLE_OFFSET) >>> 0;
    const mem = this.pciIomap(dev, bir, tableOffset, tableSize * pci.PCI_MSIX_ENTRY_SIZE);
    // msix_capability_init: enable with all vectors masked, program the entry, then unmask all.
    this.#o.writeConfig(
      p,
      cap + pci.PCI_MSIX_FLAGS,
      2,
      flags | pci.PCI_MSIX_FLAGS_ENABLE | pci.PCI_MSIX_FLAGS_MASKALL,
    );
    const msg = controller.allocate(handler);
    const entry = index * pci.PCI_MSIX_ENTRY_SIZE;
    mem.write(entry + pci.PCI_MSIX_ENTRY_LOWER_ADDR, 4, Number(msg.address & U32_MASK));
    mem.write(entry + pci.PCI_MSIX_ENTRY_UPPER_ADDR, 4, Number((msg.address >> 32n) & U32_MASK));
    mem.write(entry + pci.PCI_MSIX_ENTRY_DATA, 4, msg.data);
    mem.write(entry + pci.PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
    this.#o.writeConfig(
      p,
      cap + pci.PCI_MSIX_FLAGS,
      2,
      (flags | pci.PCI_MSIX_FLAGS_ENABLE) & ~pci.PCI_MSIX_FLAGS_MASKALL,
    );
    const list = this.#msix.get(dev) ?? [];
    list.push({ index, message: msg, controller });
    this.#msix.set(dev, list);
    return { index };
  }

  pciFreeMsixVectors(dev: Device): void {
    const list = this.#msix.get(dev);
    if (list === undefined) return;
    this.#msix.delete(dev);
    const p = pdevOf(dev);
    const cap = this.#findCap(p, pci.PCI_CAP_ID_MSIX);
    if (cap === undefined) {
      for (const v of list) v.controller.free(v.message);
      return;
    }
    const table = this.#o.readConfig(p, cap + pci.PCI_MSIX_TABLE, 4);
    const flags = this.#o.readConfig(p, cap + pci.PCI_MSIX_FLAGS, 2);
    const tableSize = (flags & pci.PCI_MSIX_FLAGS_QSIZE) + 1;
    try {
      const mem = this.pciIomap(
        dev,
        table & pci.PCI_MSIX_TABLE_BIR,
        (table & pci.PCI_MSIX_TABLE_OFFSET) >>> 0,
        tableSize * pci.PCI_MSIX_ENTRY_SIZE,
      );
      for (const v of list) {
        const ctrl = v.index * pci.PCI_MSIX_ENTRY_SIZE + pci.PCI_MSIX_ENTRY_VECTOR_CTRL;
        mem.write(ctrl, 4, pci.PCI_MSIX_ENTRY_CTRL_MASKBIT);
      }
    } catch {
      // A BAR gone with its device (surprise removal) needs no masking.
    }
    this.#o.writeConfig(p, cap + pci.PCI_MSIX_FLAGS, 2, flags & ~pci.PCI_MSIX_FLAGS_ENABLE);
    for (const v of list) v.controller.free(v.message);
  }

  /** pci_find_capability: walk the standard list by config reads. */
  #findCap(p: PciDev, id: number): number | undefined {
    const status = this.#o.readConfig(p, pci.PCI_STATUS, 2);
    if ((status & pci.PCI_STATUS_CAP_LIST) === 0) return undefined;
    let pos = this.#o.readConfig(p, pci.PCI_CAPABILITY_LIST, 1) & ~3;
    for (let n = 0; pos !== 0 && n < MAX_CAPS; n++) {
      if (this.#o.readConfig(p, pos + pci.PCI_CAP_LIST_ID, 1) === id) return pos;
      pos = this.#o.readConfig(p, pos + pci.PCI_CAP_LIST_NEXT, 1) & ~3;
    }
    return undefined;
  }
}
