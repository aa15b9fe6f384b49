/**
 * lspci hex dumps, the format `lspci -x/-xxx/-xxxx` writes and `lspci -F` reads: a slot line
 * (`BB:DD.F ...`, or with a 4- or 5-digit domain) starts a device, `XX: xx xx ...` lines give bytes
 * from offset XX on, an empty line ends the device, and anything else is ignored. Rules as in pciutils
 * 3.9.0 (lib/dump.c): bytes not given read as ff; a device's config space is as long as its highest
 * byte given; every line must end in a newline; a byte line with trailing junk is an error.
 */
import { type Bdf, badInput } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { LspciDevice } from './input.js';
import { hexLines } from './show.js';
import { hx, LspciExit } from './text.js';

/** pciutils reads dump lines with fgets into a 256-byte buffer, leaving room for 254 characters. */
const MAX_LINE_CHARS = 254;
const SLOT_PATTERNS = [
  /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-9a-fA-F]) /,
  /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-9a-fA-F]) /,
  /^([0-9a-fA-F]{5}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-9a-fA-F]) /,
];
const BYTE_LINE = /^([0-9a-fA-F]{2,8}): /;
const MAX_FUNCTION = 7;
const MAX_DEVICE = 31;

interface Building {
  bdf: Bdf;
  data: Uint8Array;
  len: number;
}

function fail(message: string): never {
  throw new LspciExit(1, `lspci: dump: ${message}\n`);
}

function slotOf(line: string): Bdf | undefined {
  for (const re of SLOT_PATTERNS) {
    const m = re.exec(line);
    if (m === null) continue;
    const parts = m.slice(1);
    const fnText = parts.at(-1)!;
    // The function is read with %d: a hex letter does not count as a slot line.
    if (!/^[0-9]$/.test(fnText)) return undefined;
    const nums = parts.map((p) => Number.parseInt(p, 16));
    const fn = Number(fnText);
    const [domain, bus, dev] = nums.length === 4 ? nums : [0, ...nums];
    // SPEC-DEVIATION: pciutils accepts device numbers above 31 and functions 8 and 9 here; a Bdf
    // cannot hold them, so such a line is ignored.
    if (dev! > MAX_DEVICE || fn > MAX_FUNCTION) return undefined;
    return Object.freeze({ domain: domain!, bus: bus!, devfn: (dev! << 3) | fn });
  }
  return undefined;
}

/** Parse dump text; errors are lspci's own (`lspci: dump: ...`, exit status 1). */
export function parseDumpText(text: string): LspciDevice[] {
  const devices: Building[] = [];
  let current: Building | undefined;
  const lines = text.split('\n');
  const last = lines.pop();
  for (const raw of lines) {
    if (raw.length + 1 > MAX_LINE_CHARS) fail('line too long or unterminated');
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const bdf = slotOf(line);
    if (bdf !== undefined) {
      current = { bdf, data: new Uint8Array(pci.PCI_CFG_SPACE_SIZE).fill(0xff), len: 0 };
      devices.push(current);
      continue;
    }
    if (line === '') {
      current = undefined;
      continue;
    }
    const m = BYTE_LINE.exec(line);
    if (current === undefined || m === null) continue;
    let at = Number.parseInt(m[1]!, 16);
    let rest = line.slice(line.indexOf(' ') + 1);
    while (/^[0-9a-fA-F]{2}( |$)/.test(rest)) {
      if (at >= pci.PCI_CFG_SPACE_EXP_SIZE) fail('At most 4096 bytes of config space are supported');
      if (at >= current.data.length) {
        const grown = new Uint8Array(pci.PCI_CFG_SPACE_EXP_SIZE).fill(0xff);
        grown.set(current.data.subarray(0, pci.PCI_CFG_SPACE_SIZE));
        current.data = grown;
      }
      current.data[at++] = Number.parseInt(rest.slice(0, 2), 16);
      current.len = Math.max(current.len, at);
      rest = rest.slice(rest[2] === ' ' ? 3 : 2);
    }
    if (rest !== '') fail('Malformed line');
  }
  if (last !== undefined && last !== '') fail('line too long or unterminated');
  return devices.map((b) => ({ bdf: b.bdf, config: b.data.slice(0, b.len) }));
}

/** Parse lspci hex dump text (-x/-xxx/-xxxx format) into devices (no sysfs). Throws LabError. */
export function parseLspciDump(text: string): LspciDevice[] {
  try {
    return parseDumpText(text);
  } catch (e) {
    if (e instanceof LspciExit) throw badInput(e.stderrText.replace(/^lspci: /, '').trim(), e);
    throw e;
  }
}

export interface FormatDumpOptions {
  /** Print the domain even when it is 0 (as -D does). */
  domain?: boolean;
}

/**
 * Format one device as `lspci -n -xxxx` prints it: the terse line with numeric IDs from config space
 * (`01:00.0 0200: 1af4:1041 (rev 01)`), the hex rows (4096, 256 or 64 bytes, whichever the config holds
 * in full), and the blank line that ends the entry. The result reads back with `lspci -F` and with
 * parseLspciDump. The domain is printed when it is not 0 or when `options.domain` is set.
 */
export function formatDump(device: LspciDevice, options: FormatDumpOptions = {}): string {
  const { domain, bus, devfn } = device.bdf;
  const c = device.config;
  const word = (at: number): number => (c[at] ?? 0xff) | ((c[at + 1] ?? 0xff) << 8);
  const domainText = domain !== 0 || options.domain ? `${hx(domain, 4)}:` : '';
  const slot = `${domainText}${hx(bus, 2)}:${hx(devfn >> 3, 2)}.${devfn & 7}`;
  const rev = c[pci.PCI_REVISION_ID] ?? 0xff;
  let head = `${slot} ${hx(word(pci.PCI_CLASS_DEVICE), 4)}: ${hx(word(pci.PCI_VENDOR_ID), 4)}:`;
  head += hx(word(pci.PCI_DEVICE_ID), 4);
  if (rev !== 0) head += ` (rev ${hx(rev, 2)})`;
  const count =
    c.length >= pci.PCI_CFG_SPACE_EXP_SIZE
      ? pci.PCI_CFG_SPACE_EXP_SIZE
      : c.length >= pci.PCI_CFG_SPACE_SIZE
        ? pci.PCI_CFG_SPACE_SIZE
        : Math.min(c.length, 64) - (Math.min(c.length, 64) % 16);
  return `${head}\n${hexLines(c, count)}\n`;
}
