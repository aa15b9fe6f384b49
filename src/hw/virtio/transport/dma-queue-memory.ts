/**
 * A device's DMA port seen as the `QueueMemory` the split virtqueue reads and writes. A refused DMA
 * (an IOMMU fault or an Unsupported Request) becomes a thrown `DmaFaultError`: the queue code stops at
 * the access that failed, so nothing after it is written, and the transport turns the error into
 * DEVICE_NEEDS_RESET (facts/virtio.md 1.9) as a device that lost a DMA must.
 *
 * Also here: a function's DMA path (the port of its current requester ID) and queue memory that finds
 * its path at each access, as the transport uses them.
 */
import { LabError, type Rid } from '../../../base/index.js';
import type { DmaFault, DmaPort } from '../../dma/index.js';
import type { Iova } from '../../iommu/index.js';
import type { PciFunction } from '../../pci-function.js';
import type { QueueMemory } from '../split-queue.js';

export class DmaFaultError extends LabError {
  readonly fault: DmaFault;

  constructor(fault: DmaFault) {
    super(
      'invalid-state',
      `DMA ${fault.access} of IOVA 0x${fault.iova.toString(16)} refused (${fault.reason})`,
    );
    this.name = 'DmaFaultError';
    this.fault = fault;
  }
}

function ok<T>(r: { ok: true; value: T } | { ok: false; fault: DmaFault }): T {
  if (!r.ok) throw new DmaFaultError(r.fault);
  return r.value;
}

function done(r: { ok: true } | { ok: false; fault: DmaFault }): void {
  if (!r.ok) throw new DmaFaultError(r.fault);
}

/** Device addresses are IOVAs: the function's requester ID picks the IOMMU domain. */
export function dmaQueueMemory(port: DmaPort): QueueMemory {
  return {
    read: (addr, length) => {
      const r = port.read(addr as Iova, length);
      if (!r.ok) throw new DmaFaultError(r.fault);
      return r.bytes;
    },
    write: (addr, bytes) => done(port.write(addr as Iova, bytes)),
    readU16: (addr) => ok(port.readU16(addr as Iova)),
    readU32: (addr) => ok(port.readU32(addr as Iova)),
    readU64: (addr) => ok(port.readU64(addr as Iova)),
    writeU16: (addr, v) => done(port.writeU16(addr as Iova, v)),
    writeU32: (addr, v) => done(port.writeU32(addr as Iova, v)),
  };
}

/**
 * A function's DMA path as queue memory: the port of its current requester ID, made again when the
 * RID changes; undefined while the function has no placement or no DMA engine.
 */
export class FunctionDmaPath {
  #port: { rid: Rid; port: DmaPort; memory: QueueMemory } | undefined;

  memory(fn: PciFunction | undefined): QueueMemory | undefined {
    const placement = fn?.placement;
    const dma = fn?.ctx.dma;
    if (fn === undefined || placement === undefined || dma === undefined) return undefined;
    if (this.#port?.rid !== placement.rid) {
      const port = dma.port({ rid: placement.rid, deviceName: fn.name });
      this.#port = { rid: placement.rid, port, memory: dmaQueueMemory(port) };
    }
    return this.#port.memory;
  }
}

/** Queue memory that asks `mem` for the memory to use at every access (`mem` may throw). */
export function deferredQueueMemory(mem: () => QueueMemory): QueueMemory {
  return {
    read: (a, n) => mem().read(a, n),
    write: (a, b) => mem().write(a, b),
    readU16: (a) => mem().readU16(a),
    readU32: (a) => mem().readU32(a),
    readU64: (a) => mem().readU64(a),
    writeU16: (a, v) => mem().writeU16(a, v),
    writeU32: (a, v) => mem().writeU32(a, v),
  };
}
