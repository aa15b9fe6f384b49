/**
 * Branded scalars: PCI addresses and routing IDs cannot be mixed with plain numbers by accident.
 * A Bdf carries the PCI domain; a Rid is the 16-bit requester/routing ID (bus << 8 | devfn).
 */
import { badInput } from './errors.js';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** 16-bit PCIe routing ID: bus << 8 | devfn. */
export type Rid = Brand<number, 'Rid'>;

/** A PCI function address: domain, bus, devfn. Immutable. */
export interface Bdf {
  readonly domain: number;
  readonly bus: number;
  /** 8-bit device/function number (device << 3 | function, or the ARI function number). */
  readonly devfn: number;
}

export function rid(bus: number, devfn: number): Rid {
  if (!Number.isInteger(bus) || bus < 0 || bus > 0xff) throw badInput(`bus ${bus} out of range 0..255`);
  if (!Number.isInteger(devfn) || devfn < 0 || devfn > 0xff)
    throw badInput(`devfn ${devfn} out of range 0..255`);
  return ((bus << 8) | devfn) as Rid;
}

export function bdf(domain: number, bus: number, devfn: number): Bdf {
  if (!Number.isInteger(domain) || domain < 0 || domain > 0xffff)
    throw badInput(`domain ${domain} out of range 0..ffff`);
  rid(bus, devfn);
  return Object.freeze({ domain, bus, devfn });
}

export function bdfFromRid(domain: number, r: Rid): Bdf {
  return bdf(domain, r >> 8, r & 0xff);
}

export function ridOf(a: Bdf): Rid {
  return ((a.bus << 8) | a.devfn) as Rid;
}

export function devfn(device: number, fn: number): number {
  if (!Number.isInteger(device) || device < 0 || device > 31)
    throw badInput(`device ${device} out of range 0..31`);
  if (!Number.isInteger(fn) || fn < 0 || fn > 7) throw badInput(`function ${fn} out of range 0..7`);
  return (device << 3) | fn;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** Linux's canonical name: `0000:03:00.1` (pci_name). */
export function formatBdf(a: Bdf): string {
  return `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.devfn >> 3, 2)}.${a.devfn & 7}`;
}

/** lspci's short form without the domain: `03:00.1`. */
export function formatBdfShort(a: Bdf): string {
  return `${hex(a.bus, 2)}:${hex(a.devfn >> 3, 2)}.${a.devfn & 7}`;
}

const BDF_RE = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** Parse `[domain:]bus:dev.fn` (hex, as Linux and lspci print it). */
export function parseBdf(text: string): Bdf {
  const m = BDF_RE.exec(text.trim());
  if (!m) throw badInput(`not a PCI address: '${text}' (expected [domain:]bus:device.function)`);
  const device = Number.parseInt(m[3]!, 16);
  if (device > 31) throw badInput(`not a PCI address: '${text}' (device ${device} > 0x1f)`);
  return bdf(m[1] ? Number.parseInt(m[1], 16) : 0, Number.parseInt(m[2]!, 16), devfn(device, Number(m[4])));
}

export function sameBdf(a: Bdf, b: Bdf): boolean {
  return a.domain === b.domain && a.bus === b.bus && a.devfn === b.devfn;
}

/** A total order (domain, bus, devfn) for sorting like lspci does. */
export function compareBdf(a: Bdf, b: Bdf): number {
  return a.domain - b.domain || a.bus - b.bus || a.devfn - b.devfn;
}
