/**
 * Names from the PCI ID database (pci.ids, https://pci-ids.ucw.cz): its line format, the lookups lspci
 * makes (vendor, device, subsystem, class, subclass, prog-if) and the way lspci words a number it has no
 * name for ("Device 1f00:0001", "Class 1200", "[8086:29c0]" with -nn).
 *
 * The database is read lazily, only when a name is wanted: with -n it is never opened. A file that
 * cannot be read means "no names", silently, as in pciutils; a file that does not parse stops lspci.
 *
 * SPEC-DEVIATION: a gzip-compressed pci.ids cannot be read (no decompressor in this layer); it counts as
 * unreadable. Names from udev's hwdb and from DNS (-q/-Q) are never found, as on a host without hwdb.bin
 * and without network.
 */
import { PCI_CLASS_STORAGE_IDE as IDE_CLASS } from './regs.js';
import { die } from './text.js';

/** pciutils' compiled-in default (Debian builds with zlib), tried before the name without `.gz`. */
export const DEFAULT_PCI_IDS_PATH = '/usr/share/misc/pci.ids.gz';

/** pciutils reads pci.ids with a 1024-byte line buffer (names.h MAX_LINE). */
const MAX_LINE = 1024;

type Category = 'vendor' | 'device' | 'subsystem' | 'gen-subsystem' | 'class' | 'subclass' | 'prog-if';

/** A parsed pci.ids: one map from (category, ids) to name. */
export class IdDatabase {
  readonly #names = new Map<string, string>();

  static key(cat: Category, ...ids: number[]): string {
    return `${cat}:${ids.join(':')}`;
  }

  /** Returns false when the entry already exists (pci.ids forbids duplicates). */
  insert(key: string, name: string): boolean {
    if (this.#names.has(key)) return false;
    this.#names.set(key, name);
    return true;
  }

  get(cat: Category, ...ids: number[]): string | undefined {
    return this.#names.get(IdDatabase.key(cat, ...ids));
  }
}

export type IdParseResult = { ok: true; db: IdDatabase } | { ok: false; error: string; line: number };

function hexField(text: string, at: number, digits: number): number {
  const s = text.slice(at, at + digits);
  return s.length === digits && /^[0-9a-fA-F]+$/.test(s) ? Number.parseInt(s, 16) : -1;
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** Parse pci.ids text with the rules pciutils applies (nesting by tabs, `C` class and `S` blocks). */
export function parsePciIds(text: string): IdParseResult {
  const db = new IdDatabase();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let cat: Category | 'unknown' | undefined;
  let id1 = 0;
  let id2 = 0;
  const fail = (error: string, line: number): IdParseResult => ({ ok: false, error, line });
  for (let i = 0; i < lines.length; i++) {
    const lino = i + 1;
    let line = lines[i]!;
    if (line.length >= MAX_LINE - 1 && i < lines.length - 1) return fail('Line too long', lino);
    const cr = line.indexOf('\r');
    if (cr >= 0) line = line.slice(0, cr);
    if (isBlank(line.at(-1))) line = line.slice(0, -1);
    const trimmed = line.replace(/^[ \t]+/, '');
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let nest = 0;
    while (line[nest] === '\t') nest++;
    const p = line.slice(nest);
    let key: string;
    let rest: string;
    if (nest === 0) {
      if (p[0] === 'C' && p[1] === ' ') {
        id1 = hexField(p, 2, 2);
        if (id1 < 0 || !isBlank(p[4])) return fail('Parse error', lino);
        cat = 'class';
        key = IdDatabase.key('class', id1);
        rest = p.slice(5);
      } else if (p[0] === 'S' && p[1] === ' ') {
        id1 = hexField(p, 2, 4);
        if (id1 < 0 || p.length !== 6) return fail('Parse error', lino);
        if (db.get('vendor', id1) === undefined) return fail('Vendor does not exist', lino);
        cat = 'gen-subsystem';
        continue;
      } else if (p[0] !== undefined && p[0] >= 'A' && p[0] <= 'Z' && p[1] === ' ') {
        cat = 'unknown';
        continue;
      } else {
        id1 = hexField(p, 0, 4);
        if (id1 < 0 || !isBlank(p[4])) return fail('Parse error', lino);
        cat = 'vendor';
        key = IdDatabase.key('vendor', id1);
        rest = p.slice(5);
      }
    } else if (cat === 'unknown') {
      continue;
    } else if (nest === 1) {
      if (cat === 'vendor' || cat === 'device' || cat === 'subsystem' || cat === 'gen-subsystem') {
        id2 = hexField(p, 0, 4);
        if (id2 < 0 || !isBlank(p[4])) return fail('Parse error', lino);
        if (cat !== 'gen-subsystem') cat = 'device';
        key = IdDatabase.key(cat, id1, id2);
      } else if (cat === 'class' || cat === 'subclass' || cat === 'prog-if') {
        id2 = hexField(p, 0, 2);
        if (id2 < 0 || !isBlank(p[2])) return fail('Parse error', lino);
        cat = 'subclass';
        key = IdDatabase.key(cat, id1, id2);
      } else {
        return fail('Parse error', lino);
      }
      rest = p.slice(cat === 'subclass' ? 3 : 5);
    } else if (nest === 2) {
      if (cat === 'device' || cat === 'subsystem') {
        const id3 = hexField(p, 0, 4);
        const id4 = hexField(p, 5, 4);
        if (id3 < 0 || !isBlank(p[4]) || id4 < 0 || !isBlank(p[9])) return fail('Parse error', lino);
        cat = 'subsystem';
        key = IdDatabase.key(cat, id1, id2, id3, id4);
        rest = p.slice(10);
      } else if (cat === 'class' || cat === 'subclass' || cat === 'prog-if') {
        const id3 = hexField(p, 0, 2);
        if (id3 < 0 || !isBlank(p[2])) return fail('Parse error', lino);
        cat = 'prog-if';
        key = IdDatabase.key(cat, id1, id2, id3);
        rest = p.slice(3);
      } else {
        return fail('Parse error', lino);
      }
    } else {
      return fail('Parse error', lino);
    }
    const name = rest.replace(/^[ \t]+/, '');
    if (name === '') return fail('Parse error', lino);
    if (!db.insert(key, name)) return fail('Duplicate entry', lino);
  }
  return { ok: true, db };
}

/**
 * Parsed databases, keyed by path and checked against the text read, so that a changed file is parsed
 * again. A memo of pure derived data, not shared state: dropping it changes nothing but speed.
 */
const parsedByPath = new Map<string, { text: string; result: IdParseResult }>();

function parseCached(path: string, text: string): IdParseResult {
  const hit = parsedByPath.get(path);
  if (hit && hit.text === text) return hit.result;
  const result = parsePciIds(text);
  parsedByPath.set(path, { text, result });
  return result;
}

const GZIP_MAGIC = 0x1f;

export interface NameOptions {
  /** Number of -n flags: 1 numbers only, 2 names and numbers. */
  numeric: number;
  /** -Q: never use the local database. */
  skipLocal: boolean;
  path: string;
  readFile(path: string): string;
}

/** snprintf into a buffer of `size` bytes, with pciutils' "..." mark when the text did not fit. */
function fitBuffer(text: string, size: number): string {
  // Only text longer than size/3 characters can reach `size` bytes of UTF-8.
  if (text.length * 3 < size) return text;
  const bytes = UTF8.encode(text);
  if (bytes.length < size) return text;
  return `${new TextDecoder().decode(bytes.slice(0, size - 4))}...`;
}
const UTF8 = new TextEncoder();

/** pciutils' pci_lookup_name, one method per kind of request. */
export class Names {
  readonly #opts: NameOptions;
  #db: IdDatabase | null | undefined;

  constructor(opts: NameOptions) {
    this.#opts = opts;
  }

  #load(): IdDatabase | null {
    if (this.#db !== undefined) return this.#db;
    this.#db = null;
    let path = this.#opts.path;
    let text = this.#tryRead(path);
    if (text === undefined && path.endsWith('.gz')) {
      path = path.slice(0, -3);
      text = this.#tryRead(path);
    }
    if (text === undefined) return null;
    const result = parseCached(path, text);
    if (!result.ok) die(`${result.error} at ${path}, line ${result.line}\n`);
    this.#db = result.db;
    return this.#db;
  }

  #tryRead(path: string): string | undefined {
    try {
      const text = this.#opts.readFile(path);
      return text.charCodeAt(0) === GZIP_MAGIC ? undefined : text;
    } catch {
      return undefined;
    }
  }

  /** Effective lookup mode for a request (names, numbers, or both). */
  #mode(noNumbers: boolean): { numeric: boolean; mixed: boolean } {
    if (noNumbers) return { numeric: false, mixed: false };
    return { numeric: this.#opts.numeric === 1, mixed: this.#opts.numeric > 1 };
  }

  #lookup(numeric: boolean, cat: Category, ...ids: number[]): string | undefined {
    if (numeric || this.#opts.skipLocal) return undefined;
    return this.#load()?.get(cat, ...ids);
  }

  #one(name: string | undefined, num: string, unknown: string, size: number, mixedIn = false): string {
    const m = this.#mode(false);
    const mixed = m.mixed || mixedIn;
    if (m.numeric) return fitBuffer(num, size);
    if (name === undefined) return fitBuffer(mixed ? `${unknown} [${num}]` : `${unknown} ${num}`, size);
    return fitBuffer(mixed ? `${name} [${num}]` : name, size);
  }

  #pair(v: string | undefined, d: string | undefined, num: string, size: number): string {
    const m = this.#mode(false);
    if (m.numeric) return fitBuffer(num, size);
    let text: string;
    if (m.mixed) {
      if (v !== undefined && d !== undefined) text = `${v} ${d} [${num}]`;
      else if (v === undefined) text = `Device [${num}]`;
      else text = `${v} Device [${num}]`;
    } else if (v !== undefined && d !== undefined) text = `${v} ${d}`;
    else if (v === undefined) text = `Device ${num}`;
    else text = `${v} Device ${num.slice(5)}`;
    return fitBuffer(text, size);
  }

  #subsysName(numeric: boolean, v: number, d: number, sv: number, sd: number): string | undefined {
    let name: string | undefined;
    if (v > 0 && d > 0) name = this.#lookup(numeric, 'subsystem', v, d, sv, sd);
    name ??= this.#lookup(numeric, 'gen-subsystem', sv, sd);
    if (name === undefined && v === sv && d === sd) name = this.#lookup(numeric, 'device', v, d);
    return name;
  }

  /** "Vendor Device" (PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE). */
  vendorDevice(v: number, d: number, size = 128): string {
    const numeric = this.#mode(false).numeric;
    const num = `${hex4(v)}:${hex4(d)}`;
    return this.#pair(this.#lookup(numeric, 'vendor', v), this.#lookup(numeric, 'device', v, d), num, size);
  }

  /** The subsystem line: subsystem vendor name and subsystem name. */
  subsystem(v: number, d: number, sv: number, sd: number, size = 256): string {
    const numeric = this.#mode(false).numeric;
    const vendor = this.#lookup(numeric, 'vendor', sv);
    return this.#pair(vendor, this.#subsysName(numeric, v, d, sv, sd), `${hex4(sv)}:${hex4(sd)}`, size);
  }

  vendor(v: number, size = 128): string {
    return this.#one(this.#lookup(this.#mode(false).numeric, 'vendor', v), hex4(v), 'Vendor', size);
  }

  device(v: number, d: number, size = 128): string {
    return this.#one(this.#lookup(this.#mode(false).numeric, 'device', v, d), hex4(d), 'Device', size);
  }

  subsystemVendor(sv: number, size = 128): string {
    const name = this.#lookup(this.#mode(false).numeric, 'vendor', sv);
    return this.#one(name, hex4(sv), 'Unknown vendor', size);
  }

  subsystemDevice(v: number, d: number, sv: number, sd: number, size = 128): string {
    const name = this.#subsysName(this.#mode(false).numeric, v, d, sv, sd);
    return this.#one(name, hex4(sd), 'Device', size);
  }

  /** Class name from the 16-bit class/subclass; a base-class-only match shows the number too. */
  deviceClass(cls: number, size = 128): string {
    const numeric = this.#mode(false).numeric;
    let name = this.#lookup(numeric, 'subclass', cls >> 8, cls & 0xff);
    let mixedIn = false;
    if (name === undefined) {
      name = this.#lookup(numeric, 'class', cls >> 8);
      mixedIn = name !== undefined;
    }
    return this.#one(name, hex4(cls), 'Class', size, mixedIn);
  }

  /** Prog-if name only (PCI_LOOKUP_NO_NUMBERS): undefined when there is none. */
  progIf(cls: number, progIf: number): string | undefined {
    let name = this.#lookup(false, 'prog-if', cls >> 8, cls & 0xff, progIf);
    if (name === undefined && cls === IDE_CLASS && (progIf & IDE_RESERVED_BITS) === 0) {
      // IDE controllers: the prog-if is a set of mode bits, named one by one.
      // With no bit set the name is empty, and lspci prints `(prog-if 00 [])`.
      name = IDE_MODE_BITS.filter(([, bit]) => (progIf & bit) !== 0)
        .map(([n]) => n)
        .join(' ');
    }
    return name === undefined ? undefined : fitBuffer(name, 128);
  }
}

/** The IDE prog-if bits (PCI IDE Controller Specification 1.0, 2). */
const IDE_RESERVED_BITS = 0x70;
const IDE_MODE_BITS: ReadonlyArray<readonly [string, number]> = [
  ['Master', 0x80],
  ['SecP', 0x08],
  ['SecO', 0x04],
  ['PriP', 0x02],
  ['PriO', 0x01],
];

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
