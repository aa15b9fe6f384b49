/**
 * The kernel's string parsers for sysfs writes (lib/kstrtox.c, lib/kstrtobool.c, vsprintf.c sscanf),
 * rewritten: they decide which junk a sysfs file accepts and whether the answer is EINVAL or ERANGE.
 *
 * kstrtoull: one optional leading '+', base 0 autodetects "0x" (hex) and "0" (octal), one trailing
 * newline is allowed, anything else is EINVAL; a value that does not fit is ERANGE. The narrower
 * kstrtou16/kstrtouint return ERANGE when the value does not fit their type.
 *
 * SPEC-DEVIATION (facts correction): facts/kernel.md 5.4 says sriov_numvfs answers EINVAL for values
 * above 65535; kstrtou16 returns ERANGE for them, and the model follows the code.
 */
import { errnoError } from '../../base/index.js';

function parseUnsigned(text: string, base: number): bigint {
  let s = text;
  if (s.startsWith('+')) s = s.slice(1);
  let b = base;
  if (b === 0) {
    if (s[0] === '0') b = (s[1] === 'x' || s[1] === 'X') && /[0-9a-fA-F]/.test(s[2] ?? '') ? 16 : 8;
    else b = 10;
  }
  if (b === 16 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')) s = s.slice(2);
  let acc = 0n;
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\n' && i === s.length - 1) break;
    const v = /[0-9]/.test(c)
      ? c.charCodeAt(0) - 48
      : /[a-fA-F]/.test(c)
        ? c.toLowerCase().charCodeAt(0) - 87
        : -1;
    if (v < 0 || v >= b) throw errnoError('EINVAL', `'${text.trim()}' is not a number`);
    acc = acc * BigInt(b) + BigInt(v);
    if (acc > 0xffff_ffff_ffff_ffffn) throw errnoError('ERANGE', `'${text.trim()}' does not fit`);
    any = true;
  }
  if (!any) throw errnoError('EINVAL', `'${text.trim()}' is not a number`);
  return acc;
}

export function kstrtoull(text: string, base: number): bigint {
  return parseUnsigned(text, base);
}

function narrow(text: string, base: number, max: bigint): number {
  const v = parseUnsigned(text, base);
  if (v > max) throw errnoError('ERANGE', `${v} does not fit`);
  return Number(v);
}

export const kstrtou16 = (text: string, base: number): number => narrow(text, base, 0xffffn);
export const kstrtouint = (text: string, base: number): number => narrow(text, base, 0xffff_ffffn);
export const kstrtoul = (text: string, base: number): number =>
  narrow(text, base, BigInt(Number.MAX_SAFE_INTEGER));

/** kstrtoint: kstrtoll's optional '-' before an unsigned number, ERANGE outside the 32-bit int range. */
export function kstrtoint(text: string, base: number): number {
  const negative = text.startsWith('-');
  // _kstrtoull after the '-' takes no second sign.
  if (negative && text[1] === '+') throw errnoError('EINVAL', `'${text.trim()}' is not a number`);
  const v = parseUnsigned(negative ? text.slice(1) : text, base);
  const signed = negative ? -v : v;
  if (signed < -0x8000_0000n || signed > 0x7fff_ffffn) throw errnoError('ERANGE', `${signed} does not fit`);
  return Number(signed);
}

/** kstrtobool: the first character decides (y/Y/1/t/T/on → true; n/N/0/f/F/off → false). */
export function kstrtobool(text: string): boolean {
  const c = text[0];
  if (c === 'y' || c === 'Y' || c === '1' || c === 't' || c === 'T') return true;
  if (c === 'n' || c === 'N' || c === '0' || c === 'f' || c === 'F') return false;
  if (c === 'o' || c === 'O') {
    const d = text[1];
    if (d === 'n' || d === 'N') return true;
    if (d === 'f' || d === 'F') return false;
  }
  throw errnoError('EINVAL', `'${text.trim()}' is not a boolean`);
}

/**
 * sscanf(buf, "%x %x …"): how many hex fields convert, stopping at the first that does not. Each
 * field skips leading white space, takes an optional 0x prefix and at least one hex digit; values wrap
 * to 32 bits as the kernel's unsigned int fields do, except the last when `lastIs64`.
 */
export function scanHexFields(text: string, max: number): number[] {
  const out: number[] = [];
  let i = 0;
  while (out.length < max) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    let j = i;
    if (
      text[j] === '0' &&
      (text[j + 1] === 'x' || text[j + 1] === 'X') &&
      /[0-9a-fA-F]/.test(text[j + 2] ?? '')
    )
      j += 2;
    const start = j;
    while (j < text.length && /[0-9a-fA-F]/.test(text[j]!)) j++;
    if (j === start) break;
    out.push(Number(BigInt(`0x${text.slice(start, j)}`) & 0xffff_ffffn));
    i = j;
  }
  return out;
}

/** A buffer without its one trailing newline, as sysfs_streq compares it. */
export function sysfsStrip(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** sysfs_streq: equal, ignoring one trailing newline on either side. */
export function sysfsStreq(a: string, b: string): boolean {
  return sysfsStrip(a) === sysfsStrip(b);
}
