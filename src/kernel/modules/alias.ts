/**
 * Module aliases as scripts/mod/file2alias.c writes them into modules.alias, and the glob matching
 * modprobe uses to find modules for a MODALIAS (fnmatch without flags: `*`, `?`, `[...]`).
 *
 * PCI: pci:v{V}d{D}sv{SV}sd{SD}bc{BC}sc{SC}i{I}, each field %08X (%02X for class bytes) or `*` when the
 * id says "any" (PCI_ANY_ID, or a class mask byte that is not 0xff); entries flagged override-only are
 * written with the `vfio_pci:` prefix, which no uevent carries, so such drivers are never autoloaded.
 * Auxiliary: auxiliary:{modname.devname}.
 */
import { hex } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { AuxDeviceId, PciDeviceId } from '../driver-core/device.js';

const field8 = (v: number): string => (v === pci.PCI_ANY_ID ? '*' : hex(v, 8).toUpperCase());

export function pciAlias(id: PciDeviceId): string {
  const byte = (shift: number): string =>
    ((id.classMask >>> shift) & 0xff) === 0xff ? hex((id.classCode >>> shift) & 0xff, 2).toUpperCase() : '*';
  const prefix = id.overrideOnly ? 'vfio_pci' : 'pci';
  const alias =
    `${prefix}:v${field8(id.vendor)}d${field8(id.device)}sv${field8(id.subvendor)}sd${field8(id.subdevice)}` +
    `bc${byte(16)}sc${byte(8)}i${byte(0)}`;
  // file2alias ends every PCI alias with a wildcard (add_wildcard).
  return alias.endsWith('*') ? alias : `${alias}*`;
}

export function auxAlias(id: AuxDeviceId): string {
  return `auxiliary:${id.name}`;
}

/** fnmatch(3) with no flags, as modprobe matches aliases: `*`, `?`, bracket expressions. */
export function fnmatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length) {
      const c = pattern[p]!;
      if (c === '*') {
        starP = p++;
        starT = t;
        continue;
      }
      if (c === '[') {
        const m = matchBracket(pattern, p, text[t]!);
        if (m?.ok) {
          p = m.next;
          t++;
          continue;
        }
      } else if (c === '?' || c === text[t]) {
        p++;
        t++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP + 1;
    t = ++starT;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function matchBracket(pattern: string, at: number, ch: string): { ok: boolean; next: number } | undefined {
  let i = at + 1;
  const negate = pattern[i] === '!' || pattern[i] === '^';
  if (negate) i++;
  let ok = false;
  let first = true;
  while (i < pattern.length && (pattern[i] !== ']' || first)) {
    first = false;
    const lo = pattern[i]!;
    if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      if (ch >= lo && ch <= pattern[i + 2]!) ok = true;
      i += 3;
    } else {
      if (ch === lo) ok = true;
      i++;
    }
  }
  if (i >= pattern.length) return undefined;
  return { ok: ok !== negate, next: i + 1 };
}
