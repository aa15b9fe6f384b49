/**
 * A lab: the hosts of one topology. `Lab.fromTopology` validates untrusted input first; hosts boot as
 * they are built (firmware, kernel scan, resource assignment, VFs the topology enables at boot).
 */
import { badInput } from '../base/index.js';
import { Host } from './host/host.js';
import { DEFAULT_TOPOLOGY, parseTopology, type Topology, validateTopology } from './topology/index.js';

export interface LabOptions {
  /** Seed for anything random a scenario does; the same seed gives the same run. */
  readonly seed?: number;
  /** Override numVfs of named devices (every host that has them), e.g. { 'virtio-net0': 8 }. */
  readonly numVfs?: Readonly<Record<string, number>>;
}

export class Lab {
  readonly topology: Topology;
  readonly hosts: readonly Host[];
  readonly seed: number;

  private constructor(topology: Topology, seed: number) {
    this.topology = topology;
    this.seed = seed;
    this.hosts = topology.hosts.map((h) => new Host(h));
  }

  /** Build from an untrusted topology object; `where` names it in errors. */
  static fromTopology(raw: unknown, where: string, options: LabOptions = {}): Lab {
    const topo = validateTopology(applyNumVfs(raw, options.numVfs, where), where);
    return new Lab(topo, checkSeed(options.seed));
  }

  static fromText(text: string, where: string, options: LabOptions = {}): Lab {
    const parsed = parseTopology(text, where);
    return Lab.fromTopology(parsed, where, options);
  }

  static default(options: LabOptions = {}): Lab {
    return Lab.fromTopology(DEFAULT_TOPOLOGY, 'default topology', options);
  }

  host(name?: string): Host {
    if (name === undefined) return this.hosts[0]!;
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) {
      throw badInput(
        `no host '${name}' in the topology (hosts: ${this.hosts.map((x) => x.name).join(', ')})`,
      );
    }
    return h;
  }
}

function checkSeed(seed: number | undefined): number {
  if (seed === undefined) return 0;
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw badInput(`seed must be a non-negative integer, not ${seed}`);
  return seed;
}

function applyNumVfs(raw: unknown, numVfs: LabOptions['numVfs'], where: string): unknown {
  if (numVfs === undefined || Object.keys(numVfs).length === 0) return raw;
  const copy = structuredClone(raw) as {
    hosts?: { rootPorts?: { devices?: { name?: unknown; numVfs?: unknown }[] }[] }[];
  };
  const seen = new Set<string>();
  for (const h of copy.hosts ?? []) {
    for (const p of h.rootPorts ?? []) {
      for (const d of p.devices ?? []) {
        if (typeof d.name === 'string' && Object.hasOwn(numVfs, d.name)) {
          d.numVfs = numVfs[d.name];
          seen.add(d.name);
        }
      }
    }
  }
  for (const name of Object.keys(numVfs)) {
    if (!seen.has(name)) throw badInput(`${where}: --numvfs: no device named '${name}'`);
  }
  return copy;
}
