/**
 * Parsing and validating topology files. Shapes and ranges come from the schema; the rules a schema
 * cannot express are checked here: unique names and addresses, root port bus ranges that do not
 * overlap, devices on their port's secondary bus (Device 0 only without ARI forwarding), VF counts
 * within the kind's limits, and VF routing IDs that stay within 16 bits and collide with nothing.
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { badInput } from '../../base/index.js';
import { DEVICE_CATALOG, type DeviceKind, defaultVfRouting } from '../../hw/index.js';
import { resolveMnicKnobs } from './mnic-knobs.js';
import { type HostTopology, type Topology, topologySchema } from './schema.js';

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc === '' ? String(k) : `${acc}.${String(k)}`),
    '',
  );
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return '(missing)';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function zodError(where: string, input: unknown, error: z.ZodError): Error {
  const lines = error.issues.slice(0, 5).map((issue) => {
    const path = pathText(issue.path);
    const value = issue.code === 'unrecognized_keys' ? '' : ` (got ${show(valueAt(input, issue.path))})`;
    return `${where}: ${path || '(top level)'}: ${issue.message}${value}`;
  });
  return badInput(lines.join('\n'));
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. `where` names the file in errors. */
export function parseTopology(text: string, where: string): Topology {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw badInput(`${where}: not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateTopology(raw, where);
}

export function validateTopology(raw: unknown, where: string): Topology {
  const r = topologySchema.safeParse(raw);
  if (!r.success) throw zodError(where, raw, r.error);
  const topo = r.data;
  const hostNames = new Map<string, number>();
  topo.hosts.forEach((h, i) => {
    const prev = hostNames.get(h.name);
    if (prev !== undefined)
      throw badInput(`${where}: hosts[${i}].name: '${h.name}' is already used by hosts[${prev}]`);
    hostNames.set(h.name, i);
    checkHost(h, `${where}: hosts[${i}]`);
  });
  return topo;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

function parseAddress(text: string): { bus: number; devfn: number } {
  const [bus, rest] = text.split(':') as [string, string];
  const [dev, fn] = rest.split('.') as [string, string];
  return { bus: Number.parseInt(bus, 16), devfn: (Number.parseInt(dev, 16) << 3) | Number(fn) };
}

function checkHost(h: HostTopology, at: string): void {
  const names = new Map<string, string>();
  const rids = new Map<number, string>();
  const claim = (name: string, path: string): void => {
    const prev = names.get(name);
    if (prev !== undefined) throw badInput(`${at}.${path}: name '${name}' is already used by ${prev}`);
    names.set(name, path);
  };
  const takeRid = (rid: number, path: string, what: string): void => {
    const prev = rids.get(rid);
    if (prev !== undefined) {
      throw badInput(
        `${at}.${path}: ${what} ${hex2(rid >> 8)}:${hex2((rid & 0xff) >> 3)}.${rid & 7} overlaps ${prev}`,
      );
    }
    rids.set(rid, `${at}.${path}`);
  };
  takeRid(0, 'hostBridge', 'address');
  rids.set(0, 'the host bridge at 00:00.0');
  const ranges: { from: number; to: number; path: string }[] = [];
  h.rootPorts.forEach((port, pi) => {
    const pp = `rootPorts[${pi}]`;
    claim(port.name, pp);
    const a = parseAddress(port.address);
    if (a.bus !== 0) throw badInput(`${at}.${pp}.address: '${port.address}' must be on bus 00`);
    takeRid(a.devfn, `${pp}.address`, 'address');
    if (port.subordinateBus < port.secondaryBus) {
      throw badInput(
        `${at}.${pp}.subordinateBus: ${port.subordinateBus} is below secondaryBus ${port.secondaryBus}`,
      );
    }
    for (const other of ranges) {
      if (port.secondaryBus <= other.to && other.from <= port.subordinateBus) {
        throw badInput(
          `${at}.${pp}: bus range ${hex2(port.secondaryBus)}-${hex2(port.subordinateBus)} overlaps ${other.path} (${hex2(other.from)}-${hex2(other.to)})`,
        );
      }
    }
    ranges.push({ from: port.secondaryBus, to: port.subordinateBus, path: `${at}.${pp}` });
    const portAri = port.ariForwarding ?? true;
    port.devices.forEach((d, di) => {
      const dp = `${pp}.devices[${di}]`;
      claim(d.name, dp);
      const da = parseAddress(d.address);
      if (da.bus !== port.secondaryBus) {
        throw badInput(
          `${at}.${dp}.address: '${d.address}' is not on the port's secondary bus ${hex2(port.secondaryBus)}`,
        );
      }
      const info = DEVICE_CATALOG[d.kind as DeviceKind];
      const ari = portAri && info.ari;
      if (!ari && da.devfn >> 3 !== 0) {
        throw badInput(
          `${at}.${dp}.address: '${d.address}': without ARI only device 00 is reachable below a root port`,
        );
      }
      const pfRid = (da.bus << 8) | da.devfn;
      takeRid(pfRid, `${dp}.address`, 'address');
      checkVfs(d, info, ari, pfRid, port.subordinateBus, `${at}.${dp}`, takeRid, dp);
      checkMnic(d, port, ari, `${at}.${dp}`, (rid) => takeRid(rid, `${dp}.siovRidPool`, 'SIOV RID'));
    });
  });
}

const MNIC_ONLY = ['maxSfs', 'maxSiovFns', 'siovRidPool'] as const;

/** The mnic knobs (other kinds may not set them); the SIOV pool's RIDs are claimed like any RID. */
function checkMnic(
  d: HostTopology['rootPorts'][number]['devices'][number],
  port: HostTopology['rootPorts'][number],
  ari: boolean,
  at: string,
  takeRid: (rid: number) => void,
): void {
  if (d.kind !== 'mnic') {
    for (const key of MNIC_ONLY) {
      if (d[key] !== undefined) throw badInput(`${at}.${key}: only an mnic device has this knob`);
    }
    return;
  }
  const knobs = resolveMnicKnobs(d, port, ari, at);
  for (let i = 0; i < 2 * knobs.maxSiovFns; i++) takeRid(knobs.siovRidBase + i);
}

function checkVfs(
  d: HostTopology['rootPorts'][number]['devices'][number],
  info: (typeof DEVICE_CATALOG)[DeviceKind],
  ari: boolean,
  pfRid: number,
  subordinateBus: number,
  at: string,
  takeRid: (rid: number, path: string, what: string) => void,
  dp: string,
): void {
  const total = d.totalVfs ?? info.defaultTotalVfs;
  if (total > info.maxTotalVfs)
    throw badInput(`${at}.totalVfs: ${total} exceeds the ${d.kind} limit of ${info.maxTotalVfs}`);
  if (d.initialVfs !== undefined && d.initialVfs > total) {
    throw badInput(`${at}.initialVfs: ${d.initialVfs} exceeds totalVfs ${total}`);
  }
  if (d.numVfs !== undefined && d.numVfs > (d.initialVfs ?? total)) {
    throw badInput(
      `${at}.numVfs: ${d.numVfs} exceeds ${d.initialVfs === undefined ? 'totalVfs' : 'initialVfs'} ${d.initialVfs ?? total}`,
    );
  }
  const routing = info.spec({ name: d.name }).sriov?.routing ?? defaultVfRouting;
  const r = routing(total, ari);
  const last = pfRid + r.firstVfOffset + r.vfStride * (total - 1);
  if (last > 0xffff) throw badInput(`${at}.totalVfs: ${total} VFs would need routing IDs beyond ffff:ff.7`);
  const enabled = d.numVfs ?? 0;
  if (enabled > 0) {
    const lastEnabled = pfRid + r.firstVfOffset + r.vfStride * (enabled - 1);
    if (lastEnabled >> 8 > subordinateBus) {
      throw badInput(
        `${at}.numVfs: ${enabled} VFs reach bus ${hex2(lastEnabled >> 8)}, beyond the port's subordinate bus ${hex2(subordinateBus)}`,
      );
    }
  }
  // VF slots that fall inside the port's bus range must not collide with other functions.
  for (let i = 0; i < total; i++) {
    const rid = pfRid + r.firstVfOffset + r.vfStride * i;
    if (rid >> 8 > subordinateBus) break;
    takeRid(rid, `${dp}.totalVfs`, `VF ${i} at`);
  }
}
