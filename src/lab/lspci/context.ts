/**
 * What every decoder needs while printing one run: the options, the name database, the output, and the
 * devices seen (the tree and -P need their neighbours).
 */
import type { PciDev } from './device.js';
import type { Names } from './names.js';
import type { LspciOptions } from './options.js';
import type { Output } from './text.js';

export interface LspciContext {
  opts: LspciOptions;
  names: Names;
  out: Output;
  /** Domain numbers shown: 0 no, 1 auto-detected (a device in a non-zero domain exists), 2 -D. */
  domains: number;
  verbose: number;
}

/** lspci's region size suffixes: bytes, then K, M, G, T while the size is a whole multiple of 1024. */
const SIZE_SUFFIXES = ['', 'K', 'M', 'G', 'T'];
const KIB = 1024n;
/** lspci prints the count as an unsigned int. */
const UINT_MASK = 0xffffffffn;

/** ` [size=16K]`, or nothing for a zero size. */
export function sizeText(size: bigint): string {
  if (size === 0n) return '';
  let x = size;
  let i = 0;
  while (i < SIZE_SUFFIXES.length - 1 && x % KIB === 0n) {
    x /= KIB;
    i++;
  }
  return ` [size=${(x & UINT_MASK).toString()}${SIZE_SUFFIXES[i]}]`;
}

export type { PciDev };

/** Prints one extended capability at `where`; `type` is the PCI Express port type (-1 if none). */
export type Decoder = (ctx: LspciContext, d: PciDev, where: number, type: number) => void;
