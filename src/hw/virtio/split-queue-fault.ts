/**
 * Why a split virtqueue's ring is refused (split-queue.ts): the typed fault for each rule of
 * split-ring.tex the driver can break, its message, and the `SplitQueueError` that carries it.
 */
import { LabError } from '../../base/index.js';
import { vring } from '../../spec/index.js';

const { VIRTQ_MAX_SIZE } = vring;

export type SplitQueueArea = 'descriptor table' | 'available ring' | 'used ring';
export type DescriptorTableKind = 'queue' | 'indirect';

/** Why the device refused the driver's ring. */
export type SplitQueueFault = Readonly<
  | { kind: 'bad-queue-size'; size: number }
  | { kind: 'misaligned-area'; area: SplitQueueArea; addr: bigint; align: number }
  | { kind: 'area-beyond-address-space'; area: SplitQueueArea; addr: bigint }
  | { kind: 'avail-index-jump'; lastAvailIdx: number; availIdx: number }
  | { kind: 'index-out-of-range'; head: number; table: DescriptorTableKind; index: number; limit: number }
  | { kind: 'head-in-flight'; head: number }
  | { kind: 'chain-too-long'; head: number; table: DescriptorTableKind; limit: number }
  | { kind: 'readable-after-writable'; head: number; index: number }
  | { kind: 'indirect-not-negotiated'; head: number; index: number }
  | { kind: 'indirect-with-next'; head: number; index: number }
  | { kind: 'indirect-nested'; head: number; index: number }
  | { kind: 'indirect-bad-length'; head: number; index: number; len: number }
  | { kind: 'buffer-beyond-address-space'; head: number; addr: bigint; len: number }
  | { kind: 'chain-bytes-overflow'; head: number }
>;

function describeFault(f: SplitQueueFault): string {
  const hex = (a: bigint): string => `0x${a.toString(16)}`;
  switch (f.kind) {
    case 'bad-queue-size':
      return `queue size ${f.size} is not a power of 2 in 1..${VIRTQ_MAX_SIZE}`;
    case 'misaligned-area':
      return `${f.area} at ${hex(f.addr)} is not ${f.align}-byte aligned`;
    case 'area-beyond-address-space':
      return `${f.area} at ${hex(f.addr)} runs past the end of the address space`;
    case 'avail-index-jump':
      return `avail idx moved from ${f.lastAvailIdx} to ${f.availIdx}, more than the queue size`;
    case 'index-out-of-range':
      return `chain ${f.head}: ${f.table} descriptor index ${f.index} out of range (limit ${f.limit})`;
    case 'head-in-flight':
      return `head ${f.head} made available again while in flight`;
    case 'chain-too-long':
      return `chain ${f.head}: over ${f.limit} descriptors in the ${f.table} table (loop or oversize)`;
    case 'readable-after-writable':
      return `chain ${f.head}: device-readable descriptor ${f.index} after a device-writable one`;
    case 'indirect-not-negotiated':
      return `chain ${f.head}: descriptor ${f.index} is INDIRECT without VIRTIO_F_INDIRECT_DESC`;
    case 'indirect-with-next':
      return `chain ${f.head}: descriptor ${f.index} has both INDIRECT and NEXT`;
    case 'indirect-nested':
      return `chain ${f.head}: INDIRECT descriptor ${f.index} inside an indirect table`;
    case 'indirect-bad-length':
      return `chain ${f.head}: indirect table of ${f.len} bytes (descriptor ${f.index}) is not 16*n, n > 0`;
    case 'buffer-beyond-address-space':
      return `chain ${f.head}: buffer ${hex(f.addr)}+${f.len} runs past the end of the address space`;
    case 'chain-bytes-overflow':
      return `chain ${f.head}: more than 2^32 bytes in total`;
  }
}

/** A ring the device refuses: the driver broke a rule of split-ring.tex. */
export class SplitQueueError extends LabError {
  readonly fault: SplitQueueFault;

  constructor(fault: SplitQueueFault) {
    super('bad-input', `virtqueue: ${describeFault(fault)}`);
    this.name = 'SplitQueueError';
    this.fault = fault;
  }
}
