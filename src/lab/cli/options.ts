/**
 * Options every host-building command shares (--topology, --host, --seed, --numvfs) and how they turn
 * into a Lab. Parsing errors are typed bad-input errors that name the option and the value.
 */
import { badInput } from '../../base/index.js';
import { Lab } from '../lab.js';
import type { Platform } from '../platform.js';

export interface HostOptions {
  topology?: string;
  host?: string;
  seed?: string;
  numvfs?: string[];
}

export function parseNumVfs(items: readonly string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items ?? []) {
    const m = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(item);
    if (m === null) throw badInput(`--numvfs: expected DEVICE=N (e.g. virtio-net0=8), got '${item}'`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw badInput(`--seed: expected a non-negative integer, got '${text}'`);
  return Number(text);
}

export function buildLab(o: HostOptions, platform: Platform): Lab {
  const seed = parseSeed(o.seed);
  const options = { ...(seed === undefined ? {} : { seed }), numVfs: parseNumVfs(o.numvfs) };
  if (o.topology === undefined) return Lab.default(options);
  return Lab.fromText(platform.readFile(o.topology), o.topology, options);
}

/** Pull this tool's own long options out of an argument list meant for another tool (lspci). */
export function extractHostOptions(argv: readonly string[]): { options: HostOptions; rest: string[] } {
  const options: HostOptions = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(topology|host|seed|numvfs)(?:=(.*))?$/.exec(a);
    if (m === null) {
      rest.push(a);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw badInput(`option '--${m[1]}' argument missing`);
    if (m[1] === 'numvfs') options.numvfs = [...(options.numvfs ?? []), value];
    else options[m[1] as 'topology' | 'host' | 'seed'] = value;
  }
  return { options, rest };
}
