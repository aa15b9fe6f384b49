/**
 * Base Address Registers of a type 0 header (PCI Local Bus 3.0, 6.2.5.1). A BAR is sized by the
 * protocol every OS uses: write all-ones, read back, and the zero bits below the writable address bits
 * give the size. That falls out of the write mask alone: address bits below the size are read-only 0,
 * flag bits are read-only.
 */
import { LabError } from '../base/index.js';
import { pci } from '../spec/index.js';
import type { ConfigSpace } from './config-space.js';

export type BarSpec =
  | { readonly kind: 'mem32'; readonly sizeBytes: number; readonly prefetchable: boolean }
  | { readonly kind: 'mem64'; readonly sizeBytes: bigint; readonly prefetchable: boolean }
  | { readonly kind: 'io'; readonly sizeBytes: number };

/** Six BAR slots; a 64-bit BAR occupies its slot and the next, which must be left undefined. */
export type BarLayout = readonly (BarSpec | undefined)[];

function isPowerOfTwo(n: bigint): boolean {
  return n > 0n && (n & (n - 1n)) === 0n;
}

export function barSizeBytes(spec: BarSpec): bigint {
  return typeof spec.sizeBytes === 'bigint' ? spec.sizeBytes : BigInt(spec.sizeBytes);
}

/** Check a layout: power-of-two sizes, minimums, 64-bit BARs not in slot 5 and followed by an empty slot. */
export function validateBarLayout(layout: BarLayout, what: string): void {
  if (layout.length > pci.PCI_NUM_BARS) throw new LabError('bad-input', `${what}: more than 6 BARs`);
  layout.forEach((spec, i) => {
    if (spec === undefined) return;
    const size = barSizeBytes(spec);
    const min = spec.kind === 'io' ? 4n : 16n;
    if (!isPowerOfTwo(size) || size < min) {
      throw new LabError('bad-input', `${what}: BAR${i} size ${size} is not a power of two >= ${min}`);
    }
    if (spec.kind === 'mem32' && size > 0x8000_0000n) {
      throw new LabError('bad-input', `${what}: BAR${i} 32-bit BAR of ${size} bytes is too large`);
    }
    if (spec.kind === 'io' && size > 256n)
      throw new LabError('bad-input', `${what}: BAR${i} I/O BAR over 256 bytes`);
    if (spec.kind === 'mem64') {
      if (i === pci.PCI_NUM_BARS - 1 || layout[i + 1] !== undefined) {
        throw new LabError('bad-input', `${what}: 64-bit BAR${i} needs BAR${i + 1} free for its upper half`);
      }
    }
  });
}

/** The low flag bits a BAR register reads back with (PCI_BASE_ADDRESS_*). */
export function barFlagBits(spec: BarSpec): number {
  switch (spec.kind) {
    case 'io':
      return pci.PCI_BASE_ADDRESS_SPACE_IO;
    case 'mem32':
      return pci.PCI_BASE_ADDRESS_MEM_TYPE_32 | (spec.prefetchable ? pci.PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
    case 'mem64':
      return pci.PCI_BASE_ADDRESS_MEM_TYPE_64 | (spec.prefetchable ? pci.PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
  }
}

/**
 * Install BAR registers at `base` (0x10 for a type 0 header; the SR-IOV capability's VF BAR array
 * reuses the same encoding): flag bits, and write masks that make the sizing protocol work.
 */
export function installBars(cs: ConfigSpace, base: number, layout: BarLayout): void {
  layout.forEach((spec, i) => {
    const reg = base + 4 * i;
    if (spec === undefined) return;
    const size = barSizeBytes(spec);
    cs.set(reg, 4, barFlagBits(spec));
    if (spec.kind === 'mem64') {
      const addrMask = ~(size - 1n) & 0xffff_ffff_ffff_fff0n;
      cs.setWritable(reg, 4, Number(addrMask & 0xffff_fff0n));
      cs.setWritable(reg + 4, 4, Number(addrMask >> 32n));
    } else {
      const flagMask = spec.kind === 'io' ? 0x3 : 0xf;
      cs.setWritable(reg, 4, ~(Number(size) - 1) & ~flagMask);
    }
  });
}

/** The address a BAR is programmed to, or undefined for an empty slot. Flag bits are stripped. */
export function barAddress(
  cs: ConfigSpace,
  base: number,
  layout: BarLayout,
  index: number,
): bigint | undefined {
  const spec = layout[index];
  if (spec === undefined) return undefined;
  const reg = base + 4 * index;
  const lo = BigInt(cs.get(reg, 4));
  if (spec.kind === 'io') return lo & BigInt(pci.PCI_BASE_ADDRESS_IO_MASK);
  const low = lo & BigInt(pci.PCI_BASE_ADDRESS_MEM_MASK);
  return spec.kind === 'mem64' ? (BigInt(cs.get(reg + 4, 4)) << 32n) | low : low;
}
