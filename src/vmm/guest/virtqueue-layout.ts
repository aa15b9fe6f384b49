/**
 * Where a split virtqueue's areas go in memory, driver side (virtqueue-driver.ts): the area sizes, the
 * legacy one-block layout, the indirect table area, the options a `VirtqueueDriver` is built with and
 * the checks its layout must pass (sizes, alignment, no overlap, inside the address space).
 */
import { LabError } from '../../base/index.js';
import { vring } from '../../spec/index.js';

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

/** Legacy virtio-pci ring alignment (VIRTIO_PCI_VRING_ALIGN; facts/virtio.md section 7). */
const LEGACY_VRING_ALIGN_BYTES = 4096;

export const IDX_MODULUS = 0x10000;
export const ADDRESS_SPACE_END = 1n << 64n;

/** Where the three areas of one queue are. */
export interface VirtqueueAreas {
  readonly descAddr: bigint;
  readonly availAddr: bigint;
  readonly usedAddr: bigint;
}

/** Sizes of the three areas in bytes, the event fields included (split-ring.tex size table). */
export function virtqueueAreaBytes(size: number): {
  descTableBytes: number;
  availRingBytes: number;
  usedRingBytes: number;
} {
  checkQueueSize(size);
  return {
    descTableBytes: DESC_BYTES * size,
    availRingBytes: RING_FIXED_BYTES + AVAIL_ELEM_BYTES * size,
    usedRingBytes: RING_FIXED_BYTES + USED_ELEM_BYTES * size,
  };
}

/**
 * The legacy layout (split-ring.tex "Legacy Interfaces: A Note on Virtqueue Layout"): descriptor
 * table, available ring, padding to the next `alignBytes` boundary, used ring, in one block that starts
 * on an `alignBytes` boundary (the legacy transport takes its page frame number).
 */
export function legacyVirtqueueLayout(
  baseAddr: bigint,
  size: number,
  alignBytes: number = LEGACY_VRING_ALIGN_BYTES,
): VirtqueueAreas & { readonly totalBytes: number } {
  const { descTableBytes, availRingBytes, usedRingBytes } = virtqueueAreaBytes(size);
  if (
    !Number.isSafeInteger(alignBytes) ||
    alignBytes < USED_RING_ALIGN ||
    (alignBytes & (alignBytes - 1)) !== 0
  ) {
    throw new LabError('bad-input', `legacy ring alignment ${alignBytes} is not a power of 2 of at least 4`);
  }
  if (baseAddr < 0n || baseAddr % BigInt(alignBytes) !== 0n) {
    throw new LabError(
      'bad-input',
      `legacy ring base 0x${baseAddr.toString(16)} is not ${alignBytes}-aligned`,
    );
  }
  const alignUp = (n: number): number => Math.ceil(n / alignBytes) * alignBytes;
  const usedOffset = alignUp(descTableBytes + availRingBytes);
  const totalBytes = usedOffset + alignUp(usedRingBytes);
  if (baseAddr + BigInt(totalBytes) > ADDRESS_SPACE_END) {
    throw new LabError('bad-input', 'legacy ring runs past the end of the address space');
  }
  return {
    descAddr: baseAddr,
    availAddr: baseAddr + BigInt(descTableBytes),
    usedAddr: baseAddr + BigInt(usedOffset),
    totalBytes,
  };
}

/** Memory for indirect tables: `size` tables of `maxSegments` descriptors, table i for head i. */
export interface IndirectTableArea {
  readonly addr: bigint;
  /** Largest number of segments one indirect buffer may have (at most the queue size). */
  readonly maxSegments: number;
}

/** Bytes an `IndirectTableArea` needs for a queue of `size` descriptors. */
export function indirectTableAreaBytes(size: number, maxSegments: number): number {
  return size * maxSegments * DESC_BYTES;
}

export interface VirtqueueDriverOptions extends VirtqueueAreas {
  /** Queue Size: a power of 2 up to 32768, at most what the device offers. */
  readonly size: number;
  /** VIRTIO_F_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /** Present if VIRTIO_F_INDIRECT_DESC was negotiated and the driver uses indirect tables. */
  readonly indirectTables?: IndirectTableArea;
  /**
   * Value both free-running indexes start from. A driver starts at 0 (the default). Another value
   * stands for a queue that has already carried that many buffers: tests of 16-bit wrap use it.
   */
  readonly startIdx?: number;
}

function checkQueueSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) !== 0) {
    throw new LabError('bad-input', `queue size ${size} is not a power of 2 in 1..${VIRTQ_MAX_SIZE}`);
  }
}

export function checkLayout(o: VirtqueueDriverOptions): void {
  const { descTableBytes, availRingBytes, usedRingBytes } = virtqueueAreaBytes(o.size);
  const start = o.startIdx ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= IDX_MODULUS) {
    throw new LabError('bad-input', `start index ${start} out of range 0..65535`);
  }
  const areas: Array<[string, bigint, number, number]> = [
    ['descriptor table', o.descAddr, descTableBytes, DESC_TABLE_ALIGN],
    ['available ring', o.availAddr, availRingBytes, AVAIL_RING_ALIGN],
    ['used ring', o.usedAddr, usedRingBytes, USED_RING_ALIGN],
  ];
  if (o.indirectTables) {
    const { addr, maxSegments } = o.indirectTables;
    if (!Number.isInteger(maxSegments) || maxSegments < 1 || maxSegments > o.size) {
      throw new LabError('bad-input', `indirect maxSegments ${maxSegments} out of range 1..${o.size}`);
    }
    areas.push(['indirect tables', addr, indirectTableAreaBytes(o.size, maxSegments), DESC_TABLE_ALIGN]);
  }
  for (const [name, addr, bytes, align] of areas) {
    if (addr < 0n || addr + BigInt(bytes) > ADDRESS_SPACE_END) {
      throw new LabError('bad-input', `${name} at 0x${addr.toString(16)} is outside the address space`);
    }
    if (addr % BigInt(align) !== 0n) {
      throw new LabError('bad-input', `${name} at 0x${addr.toString(16)} is not ${align}-byte aligned`);
    }
  }
  for (let i = 0; i < areas.length; i++) {
    for (let j = i + 1; j < areas.length; j++) {
      const [a, aAddr, aBytes] = areas[i]!;
      const [b, bAddr, bBytes] = areas[j]!;
      if (aAddr < bAddr + BigInt(bBytes) && bAddr < aAddr + BigInt(aBytes)) {
        throw new LabError('bad-input', `${a} and ${b} overlap`);
      }
    }
  }
}
