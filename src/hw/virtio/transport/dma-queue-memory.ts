/**
 * A device's DMA port seen as the `QueueMemory` the split virtqueue reads and writes. A refused DMA
 * (an IOMMU fault or an Unsupported Request) becomes a thrown `DmaFaultError`: the queue code stops at
 * the access that failed, so nothing after it is written, and the transport turns the error into
 * DEVICE_NEEDS_RESET (facts/virtio.md 1.9) as a device that lost a DMA must.
 */
import { LabError } from '../../../base/index.js';
import type { DmaFault, DmaPort } from '../../dma/index.js';
import type { Iova } from '../../iommu/index.js';
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
