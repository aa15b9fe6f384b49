/**
 * lspci's device selection: `-s [[[[<domain>]:]<bus>]:][<slot>][.[<func>]]` and
 * `-d [<vendor>]:[<device>][:<class>[:<prog-if>]]`, with pciutils' rules: an empty field or `*` matches
 * anything, a class digit may be `x`, and the error texts are lspci's.
 */
import type { PciDev } from './device.js';

export interface PciFilter {
  domain: number;
  bus: number;
  slot: number;
  func: number;
  vendor: number;
  device: number;
  deviceClass: number;
  deviceClassMask: number;
  progIf: number;
}

/** Matches everything. */
export function newFilter(): PciFilter {
  return {
    domain: -1,
    bus: -1,
    slot: -1,
    func: -1,
    vendor: -1,
    device: -1,
    deviceClass: -1,
    deviceClassMask: 0xffffffff,
    progIf: -1,
  };
}

/** pciutils copies a filter expression into a 64-byte buffer first. */
const EXPRESSION_BUFFER = 64;

function splitFields(text: string, sep: string, count: number): string[] | string {
  const fields = text.split(sep);
  return fields.length > count ? 'Too many fields' : fields;
}

const defined = (field: string | undefined): field is string =>
  field !== undefined && field !== '' && field !== '*';

/** One hex field; `x` digits (class only) widen the mask. Returns false when invalid. */
function parseHex(
  field: string | undefined,
  max: number,
  allowMask: boolean,
  set: (value: number, mask: number) => void,
): boolean {
  if (!defined(field)) return true;
  let out = 0;
  let mask = 0xffffffff;
  let bound = 0;
  for (const c of field) {
    if ((c === 'x' || c === 'X') && allowMask) {
      out = (out << 4) >>> 0;
      bound = ((bound << 4) | 1) >>> 0;
      mask = (mask << 4) >>> 0;
    } else {
      if (!/^[0-9a-fA-F]$/.test(c)) return false;
      const digit = Number.parseInt(c, 16);
      out = ((out << 4) | digit) >>> 0;
      bound = ((bound << 4) | digit) >>> 0;
      mask = ((mask << 4) | 0xf) >>> 0;
    }
    if (bound > max) return false;
  }
  set(out, mask);
  return true;
}

/** Parse an -s argument into `f`; returns lspci's message on error. */
export function parseSlotFilter(f: PciFilter, text: string): string | undefined {
  if (text.length >= EXPRESSION_BUFFER) return 'Expression too long';
  const fields = splitFields(text, ':', 3);
  if (typeof fields === 'string') return fields;
  let i = 0;
  if (fields.length >= 3) {
    if (!parseHex(fields[0], 0x7fffffff, false, (v) => (f.domain = v))) return 'Invalid domain number';
    i++;
  }
  if (fields.length >= i + 2) {
    if (!parseHex(fields[i], 0xff, false, (v) => (f.bus = v))) return 'Invalid bus number';
    i++;
  }
  const fdev = fields[i];
  if (defined(fdev)) {
    const sub = splitFields(fdev, '.', 2);
    if (typeof sub === 'string') return 'Invalid slot/function number';
    if (!parseHex(sub[0], 0x1f, false, (v) => (f.slot = v))) return 'Invalid slot number';
    if (!parseHex(sub[1], 7, false, (v) => (f.func = v))) return 'Invalid function number';
  }
  return undefined;
}

/** Parse a -d argument into `f`; returns lspci's message on error. */
export function parseIdFilter(f: PciFilter, text: string): string | undefined {
  if (text.length >= EXPRESSION_BUFFER) return 'Expression too long';
  const fields = splitFields(text, ':', 4);
  if (typeof fields === 'string') return fields;
  if (fields.length < 2) return 'At least two fields must be given';
  if (!parseHex(fields[0], 0xffff, false, (v) => (f.vendor = v))) return 'Invalid vendor ID';
  if (!parseHex(fields[1], 0xffff, false, (v) => (f.device = v))) return 'Invalid device ID';
  const setClass = (v: number, m: number): void => {
    f.deviceClass = v;
    f.deviceClassMask = m;
  };
  if (!parseHex(fields[2], 0xffff, true, setClass)) return 'Invalid class code';
  if (!parseHex(fields[3], 0xff, false, (v) => (f.progIf = v))) return 'Invalid programming interface code';
  return undefined;
}

export function filterMatches(f: PciFilter, d: PciDev): boolean {
  if (f.domain >= 0 && f.domain !== d.domain) return false;
  if (f.bus >= 0 && f.bus !== d.bus) return false;
  if (f.slot >= 0 && f.slot !== d.dev) return false;
  if (f.func >= 0 && f.func !== d.func) return false;
  if (f.device >= 0 && f.device !== d.deviceId) return false;
  if (f.vendor >= 0 && f.vendor !== d.vendorId) return false;
  if (f.deviceClass >= 0 && ((f.deviceClass ^ d.deviceClass) & f.deviceClassMask) !== 0) return false;
  if (f.progIf >= 0 && f.progIf !== d.progIf) return false;
  return true;
}
