/**
 * lspci's command line, parsed the way glibc getopt() parses pciutils' option string
 * "nvbxs:d:tPi:mgp:qkMDQ" + "A:GO:" + "H:" + "F:": clustered flags (`-nnvv`), an argument attached or
 * in the next word (`-s01:00.0`, `-s 01:00.0`), `--` ending the options, and non-options permuted to
 * the end (any left over is an error). Errors produce lspci's texts; the caller prints the usage.
 */

import { newFilter, type PciFilter, parseIdFilter, parseSlotFilter } from './filter.js';
import { DEFAULT_PCI_IDS_PATH } from './names.js';
import { die, LspciExit } from './text.js';

export interface LspciOptions {
  numeric: number;
  verbose: number;
  busCentric: boolean;
  hex: number;
  tree: boolean;
  path: number;
  machine: number;
  kernel: boolean;
  mapMode: boolean;
  /** 0 auto (off until a device in a non-zero domain is seen), 2 requested with -D. */
  domains: number;
  queryDns: number;
  queryAll: boolean;
  filter: PciFilter;
  /** Whether -s or -d was given. */
  filtered: boolean;
  idsPath: string;
  /** The `dump.name` access parameter (-F sets it too). */
  dumpName: string;
  /** -A (or -F, -H): the access method chosen, when one was; `dump` reads `dumpName`. */
  method: string | undefined;
}

/** Options that take an argument, and those that do not (pciutils' optstring). */
const WITH_ARG = new Set(['s', 'd', 'i', 'p', 'A', 'O', 'H', 'F']);
const NO_ARG = new Set(['n', 'v', 'b', 'x', 't', 'P', 'm', 'g', 'q', 'k', 'M', 'D', 'Q', 'G']);

/** Access methods of the Debian pciutils 3.9.0 build, in the order `-A help` lists them. */
export const ACCESS_METHODS = [
  'linux-sysfs',
  'linux-proc',
  'intel-conf1',
  'intel-conf2',
  'dump',
  'mmio-conf1',
  'mmio-conf1-ext',
];

/** Access parameters and defaults as `-O help` lists them (the access-method defaults of that build). */
export const ACCESS_PARAMS: ReadonlyArray<readonly [string, string, string]> = [
  ['mmio-conf1-ext.addrs', 'Physical addresses of memory mapped Intel conf1 extended interface', ''],
  ['devmem.path', 'Path to the /dev/mem device', '/dev/mem'],
  ['mmio-conf1.addrs', 'Physical addresses of memory mapped Intel conf1 interface', ''],
  ['devmem.path', 'Path to the /dev/mem device', '/dev/mem'],
  ['dump.name', 'Name of the bus dump file to read from', ''],
  ['proc.path', 'Path to the procfs bus tree', '/proc/bus/pci'],
  ['sysfs.path', 'Path to the sysfs device tree', '/sys/bus/pci'],
  ['hwdb.disable', "Do not look up names in UDEV's HWDB if non-zero", '0'],
  ['net.cache_name', 'Name of the ID cache file', '~/.pciids-cache'],
  ['net.domain', "DNS domain used for resolving of ID's", 'pci.id.ucw.cz'],
];

export function usageText(idsPath: string): string {
  return `Usage: lspci [<switches>]

Basic display modes:
-mm\t\tProduce machine-readable output (single -m for an obsolete format)
-t\t\tShow bus tree

Display options:
-v\t\tBe verbose (-vv or -vvv for higher verbosity)
-k\t\tShow kernel drivers handling each device
-x\t\tShow hex-dump of the standard part of the config space
-xxx\t\tShow hex-dump of the whole config space (dangerous; root only)
-xxxx\t\tShow hex-dump of the 4096-byte extended config space (root only)
-b\t\tBus-centric view (addresses and IRQ's as seen by the bus)
-D\t\tAlways show domain numbers
-P\t\tDisplay bridge path in addition to bus and device number
-PP\t\tDisplay bus path in addition to bus and device number

Resolving of device ID's to names:
-n\t\tShow numeric ID's
-nn\t\tShow both textual and numeric ID's (names & numbers)
-q\t\tQuery the PCI ID database for unknown ID's via DNS
-qq\t\tAs above, but re-query locally cached entries
-Q\t\tQuery the PCI ID database for all ID's via DNS

Selection of devices:
-s [[[[<domain>]:]<bus>]:][<slot>][.[<func>]]\tShow only devices in selected slots
-d [<vendor>]:[<device>][:<class>]\t\tShow only devices with specified ID's

Other options:
-i <file>\tUse specified ID database instead of ${idsPath}
-p <file>\tLook up kernel modules in a given file instead of default modules.pcimap
-M\t\tEnable \`bus mapping' mode (dangerous; root only)

PCI access options:
-A <method>\tUse the specified PCI access method (see \`-A help' for a list)
-O <par>=<val>\tSet PCI access parameter (see \`-O help' for a list)
-G\t\tEnable PCI access debugging
-H <mode>\tUse direct hardware access (<mode> = 1 or 2)
-F <file>\tRead PCI configuration dump from a given file
`;
}

/** The command line was wrong: `message` (maybe empty) then the usage text, exit status 1. */
function usageExit(message: string, idsPath: string): never {
  throw new LspciExit(1, message + usageText(idsPath));
}

/** `-A help` and `-O help` print their list and end the run successfully. */
export class HelpExit extends Error {
  readonly text: string;

  constructor(text: string) {
    super('help');
    this.name = 'HelpExit';
    this.text = text;
  }
}

function applyOption(o: LspciOptions, opt: string, arg: string): void {
  switch (opt) {
    case 'n':
      o.numeric++;
      return;
    case 'v':
      o.verbose++;
      return;
    case 'b':
      o.busCentric = true;
      return;
    case 's': {
      const msg = parseSlotFilter(o.filter, arg);
      if (msg !== undefined) die(`-s: ${msg}`);
      o.filtered = true;
      return;
    }
    case 'd': {
      const msg = parseIdFilter(o.filter, arg);
      if (msg !== undefined) die(`-d: ${msg}`);
      o.filtered = true;
      return;
    }
    case 'x':
      o.hex++;
      return;
    case 'P':
      o.path++;
      return;
    case 't':
      o.tree = true;
      return;
    case 'i':
      o.idsPath = arg;
      return;
    case 'm':
      o.machine++;
      return;
    case 'p':
      // modules.pcimap is only read by builds without libkmod; this one resolves modules by modalias.
      return;
    case 'k':
      o.kernel = true;
      return;
    case 'M':
      o.mapMode = true;
      return;
    case 'D':
      o.domains = 2;
      return;
    case 'q':
      o.queryDns++;
      return;
    case 'Q':
      o.queryAll = true;
      return;
    default:
      applyGeneric(o, opt, arg);
  }
}

/** The options every pciutils tool shares (pciutils: parse_generic_option). */
function applyGeneric(o: LspciOptions, opt: string, arg: string): void {
  switch (opt) {
    case 'H':
      if (arg !== '1' && arg !== '2') die(`Unknown hardware configuration type ${arg}`);
      o.method = arg === '1' ? 'intel-conf1' : 'intel-conf2';
      return;
    case 'F':
      o.dumpName = arg;
      o.method = 'dump';
      return;
    case 'A':
      if (arg === 'help') throw new HelpExit(`Known PCI access methods:\n\n${ACCESS_METHODS.join('\n')}\n`);
      if (!ACCESS_METHODS.includes(arg)) die(`No such PCI access method: ${arg} (see \`-A help' for a list)`);
      o.method = arg;
      return;
    case 'G':
      return;
    case 'O': {
      if (arg === 'help') {
        const rows = ACCESS_PARAMS.map(([p, help, value]) => `${p.padEnd(20)} ${help} (${value})\n`);
        throw new HelpExit(`Known PCI access parameters:\n\n${rows.join('')}`);
      }
      const eq = arg.indexOf('=');
      if (eq < 0) die(`Invalid PCI access parameter syntax: ${arg}`);
      const name = arg.slice(0, eq);
      if (!ACCESS_PARAMS.some(([p]) => p === name)) {
        die(`Unrecognized PCI access parameter: ${name} (see \`-O help' for a list)`);
      }
      if (name === 'dump.name') o.dumpName = arg.slice(eq + 1);
      return;
    }
    default:
      // In the option string but handled by nobody (`-g`): lspci prints only the usage.
      usageExit('', o.idsPath);
  }
}

/** Parse argv (without the program name). Throws LspciExit on errors, HelpExit for `-A/-O help`. */
export function parseOptions(argv: readonly string[]): LspciOptions {
  const o: LspciOptions = {
    numeric: 0,
    verbose: 0,
    busCentric: false,
    hex: 0,
    tree: false,
    path: 0,
    machine: 0,
    kernel: false,
    mapMode: false,
    domains: 0,
    queryDns: 0,
    queryAll: false,
    filter: newFilter(),
    filtered: false,
    idsPath: DEFAULT_PCI_IDS_PATH,
    dumpName: '',
    method: undefined,
  };
  let operands = 0;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      operands += argv.length - i - 1;
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      operands++;
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const opt = word[j]!;
      if (WITH_ARG.has(opt)) {
        let arg = word.slice(j + 1);
        if (arg === '') {
          const next = argv[i + 1];
          if (next === undefined) usageExit(`lspci: option requires an argument -- '${opt}'\n`, o.idsPath);
          arg = next;
          i++;
        }
        applyOption(o, opt, arg);
        break;
      }
      if (!NO_ARG.has(opt)) usageExit(`lspci: invalid option -- '${opt}'\n`, o.idsPath);
      applyOption(o, opt, '');
    }
  }
  if (operands > 0) usageExit('', o.idsPath);
  return o;
}
