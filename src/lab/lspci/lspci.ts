/**
 * One run of lspci (pciutils 3.9.0, Debian build: linux-sysfs back end, libkmod, zlib): parse the
 * command line, pick the devices (a dump with -F, otherwise the live devices given), note whether any
 * lives in a non-zero PCI domain (then every slot shows its domain), sort by domain/bus/device/function,
 * and print the listing or the tree. Exit status and error texts are lspci's: 1 for a bad command line,
 * a bad filter, an unreadable or malformed dump, or a broken pci.ids.
 *
 * Deliberately left out: bus mapping mode (-M, which probes hardware) and the -G debug trace.
 */
import type { LspciContext } from './context.js';
import { type PciDev, resolveDevice } from './device.js';
import { parseDumpText } from './dump.js';
import { filterMatches } from './filter.js';
import type { LspciDevice, LspciIo, LspciResult } from './input.js';
import { Names } from './names.js';
import { HelpExit, type LspciOptions, parseOptions } from './options.js';
import { showDevice } from './show.js';
import { LspciExit, Output } from './text.js';
import { showForest, Topology } from './tree.js';

export const PCIUTILS_VERSION = '3.9.0';

/** strerror() texts for the errors a file open may report. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
};

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

function readDump(opts: LspciOptions, io: LspciIo): LspciDevice[] {
  let text: string;
  try {
    text = io.readFile(opts.dumpName);
  } catch (e) {
    const code = errorCode(e);
    // fopen() of a directory succeeds and reading it yields nothing: an empty listing.
    if (code === 'EISDIR') return [];
    const why = (code !== undefined ? STRERROR[code] : undefined) ?? STRERROR.ENOENT;
    throw new LspciExit(1, `lspci: dump: Cannot open ${opts.dumpName}: ${why}\n`);
  }
  return parseDumpText(text);
}

function compareDev(a: PciDev, b: PciDev): number {
  return a.domain - b.domain || a.bus - b.bus || a.dev - b.dev || a.func - b.func;
}

function run(argv: readonly string[], live: readonly LspciDevice[], io: LspciIo, out: Output): void {
  if (argv.length === 1 && argv[0] === '--version') {
    out.line(`lspci version ${PCIUTILS_VERSION}`);
    return;
  }
  const opts = parseOptions(argv);
  const inputs = opts.method === 'dump' ? readDump(opts, io) : live;
  if (opts.mapMode) {
    if (opts.tree || opts.path > 0)
      throw new LspciExit(1, 'lspci: Bus mapping mode does not recognize bus topology\n');
    // SPEC-DEVIATION: bus mapping probes every bus number through raw config cycles; not modeled.
    throw new LspciExit(1, 'lspci: bus mapping mode (-M) is not supported by this lspci\n');
  }
  const names = new Names({
    numeric: opts.numeric,
    skipLocal: opts.queryAll,
    path: opts.idsPath,
    readFile: (p) => io.readFile(p),
  });
  const ctx: LspciContext = { opts, names, out, domains: opts.domains, verbose: opts.verbose };
  const needTopology = opts.tree || opts.path > 0;
  const devices: PciDev[] = [];
  for (const input of inputs) {
    const d = resolveDevice(input, opts.busCentric);
    if (d.domain !== 0 && ctx.domains === 0) ctx.domains = 1;
    if (needTopology || filterMatches(opts.filter, d)) devices.push(d);
  }
  devices.sort(compareDev);
  const topo = needTopology ? new Topology(devices) : undefined;
  if (opts.tree && topo !== undefined) {
    showForest(ctx, topo, opts.filtered ? opts.filter : undefined);
    return;
  }
  for (const d of devices) if (filterMatches(opts.filter, d)) showDevice(ctx, d, topo);
}

/**
 * Run lspci with argv (without the program name) over a set of devices. `readFile` is used for -F and
 * for the pci.ids path (-i); pass a function that reads a file or throws. Never throws on bad input:
 * lspci's own error text goes to stderr with its exit status.
 */
export function runLspci(argv: string[], devices: LspciDevice[], io: LspciIo): LspciResult {
  const out = new Output();
  try {
    run(argv, devices, io, out);
    return { stdout: out.stdout, stderr: out.stderr, status: 0 };
  } catch (e) {
    if (e instanceof HelpExit) {
      out.print(e.text);
      return { stdout: out.stdout, stderr: out.stderr, status: 0 };
    }
    if (e instanceof LspciExit) {
      out.error(e.stderrText);
      return { stdout: out.stdout, stderr: out.stderr, status: e.status };
    }
    throw e;
  }
}
