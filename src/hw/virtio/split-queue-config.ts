/**
 * What a split virtqueue is built from (split-queue.ts): the memory it reaches rings through, the
 * configuration the driver programmed, the checks that configuration must pass (size, alignment, areas
 * inside the address space; the SPEC-DEVIATION of split-queue.ts) and the 16-bit ring index arithmetic.
 */
import { vring } from '../../spec/index.js';
import type { SplitQueueArea, SplitQueueFault } from './split-queue-fault.js';

const {
  VIRTQ_MAX_SIZE,
  DESC_BYTES,
  AVAIL_ELEM_BYTES,
  USED_ELEM_BYTES,
  RING_FIXED_BYTES,
  DESC_TABLE_ALIGN,
  AVAIL_RING_ALIGN,
  USED_RING_ALIGN,
} = vring;

export const IDX_MODULUS = 0x10000;
export const ADDRESS_SPACE_END = 1n << 64n;

/** Little-endian accessors over an address space. Accesses may throw a LabError (a DMA fault). */
export interface QueueMemory {
  read(addr: bigint, length: number): Uint8Array;
  write(addr: bigint, bytes: Uint8Array): void;
  readU16(addr: bigint): number;
  readU32(addr: bigint): number;
  readU64(addr: bigint): bigint;
  writeU16(addr: bigint, v: number): void;
  writeU32(addr: bigint, v: number): void;
}

/** What the driver programmed (queue_size, queue_desc/driver/device) and the negotiated ring features. */
export interface SplitQueueConfig {
  /** Queue Size: number of descriptors, a power of 2 up to 32768. */
  readonly size: number;
  /** Descriptor Area (descriptor table), 16-byte aligned. */
  readonly descAddr: bigint;
  /** Driver Area (available ring), 2-byte aligned. */
  readonly availAddr: bigint;
  /** Device Area (used ring), 4-byte aligned. */
  readonly usedAddr: bigint;
  /** VIRTIO_F_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC was negotiated. */
  readonly indirect: boolean;
}

/** The three areas' sizes in bytes, event fields included (split-ring.tex size table). */
function areaBytes(size: number): Record<SplitQueueArea, number> {
  return {
    'descriptor table': DESC_BYTES * size,
    'available ring': RING_FIXED_BYTES + AVAIL_ELEM_BYTES * size,
    'used ring': RING_FIXED_BYTES + USED_ELEM_BYTES * size,
  };
}

export function checkConfig(c: SplitQueueConfig): SplitQueueFault | undefined {
  const s = c.size;
  if (!Number.isInteger(s) || s < 1 || s > VIRTQ_MAX_SIZE || (s & (s - 1)) !== 0) {
    return { kind: 'bad-queue-size', size: s };
  }
  const bytes = areaBytes(s);
  const areas: Array<[SplitQueueArea, bigint, number]> = [
    ['descriptor table', c.descAddr, DESC_TABLE_ALIGN],
    ['available ring', c.availAddr, AVAIL_RING_ALIGN],
    ['used ring', c.usedAddr, USED_RING_ALIGN],
  ];
  for (const [area, addr, align] of areas) {
    if (addr < 0n || addr + BigInt(bytes[area]) > ADDRESS_SPACE_END) {
      return { kind: 'area-beyond-address-space', area, addr };
    }
    if (addr % BigInt(align) !== 0n) return { kind: 'misaligned-area', area, addr, align };
  }
  return undefined;
}

export const wrap16 = (n: number): number => ((n % IDX_MODULUS) + IDX_MODULUS) % IDX_MODULUS;
