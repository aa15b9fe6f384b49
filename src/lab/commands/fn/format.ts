/**
 * What the `fn` tool makes of the fnctl family's replies (spec/fnctl.ts): decoded messages → plain
 * views, and the views as iproute2-style text lines or JSON objects.
 *
 * Text follows `devlink port show`: one line per object, the handle first ("pci/0000:01:00.0/3:"),
 * then key value pairs; booleans print as true/false. JSON follows `devlink -j`: one object keyed by
 * the object type, then by handle ({"function":{"pci/0000:01:00.0/3":{...}}}).
 */
import type { GenlMessage, NlAttr } from '../../../kernel/index.js';
import { fnctl as F } from '../../../spec/index.js';

export const KIND_NAMES: Readonly<Record<number, string>> = {
  [F.FNCTL_KIND_VF]: 'vf',
  [F.FNCTL_KIND_SF]: 'sf',
  [F.FNCTL_KIND_SIOV]: 'siov',
};
export const DRIVER_NAMES: Readonly<Record<number, string>> = {
  [F.FNCTL_DRIVER_NONE]: 'none',
  [F.FNCTL_DRIVER_VFIO]: 'vfio',
  [F.FNCTL_DRIVER_NET]: 'net',
  [F.FNCTL_DRIVER_VDPA]: 'vdpa',
};

export interface FnView {
  readonly handle: string;
  readonly id: number;
  readonly kind: string;
  readonly dev: string;
  readonly rid: string | undefined;
  readonly hvRid: string | undefined;
  readonly mac: string | undefined;
  readonly migratable: boolean;
  readonly driver: string;
  readonly bound: string | undefined;
}

export interface KindCapsView {
  readonly handle: string;
  readonly kind: string;
  readonly capacity: number;
  readonly drivers: string[];
  readonly mac: boolean | undefined;
  readonly migratable: boolean | undefined;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
export const ridText = (rid: number): string => `${hex2(rid >> 8)}:${hex2((rid >> 3) & 0x1f)}.${rid & 7}`;
export const macText = (b: Uint8Array): string => [...b].map(hex2).join(':');

function first(attrs: readonly NlAttr[], type: number): NlAttr | undefined {
  for (const a of attrs) if (a.type === type) return a;
  return undefined;
}
function numAttr(attrs: readonly NlAttr[], type: number): number | undefined {
  const a = first(attrs, type);
  return a !== undefined && (a.kind === 'u8' || a.kind === 'u16' || a.kind === 'u32') ? a.value : undefined;
}
function strAttr(attrs: readonly NlAttr[], type: number): string | undefined {
  const a = first(attrs, type);
  return a?.kind === 'string' ? a.value : undefined;
}

function handleOf(msg: GenlMessage): string {
  return `${strAttr(msg.attrs, F.FNCTL_ATTR_BUS_NAME) ?? '?'}/${strAttr(msg.attrs, F.FNCTL_ATTR_DEV_NAME) ?? '?'}`;
}

/** Every FNCTL_ATTR_FUNCTION of every part, in order. */
export function functionsOf(replies: readonly GenlMessage[]): FnView[] {
  const out: FnView[] = [];
  for (const msg of replies) {
    const handle = handleOf(msg);
    for (const a of msg.attrs) {
      if (a.type !== F.FNCTL_ATTR_FUNCTION || a.kind !== 'nested') continue;
      const f = a.attrs;
      const rid = numAttr(f, F.FNCTL_FN_ATTR_RID);
      const hvRid = numAttr(f, F.FNCTL_FN_ATTR_HV_RID);
      const mac = first(f, F.FNCTL_FN_ATTR_MAC);
      out.push({
        handle,
        id: numAttr(f, F.FNCTL_FN_ATTR_ID) ?? 0,
        kind: KIND_NAMES[numAttr(f, F.FNCTL_FN_ATTR_KIND) ?? -1] ?? 'unknown',
        dev: strAttr(f, F.FNCTL_FN_ATTR_DEV_NAME) ?? '',
        rid: rid === undefined ? undefined : ridText(rid),
        hvRid: hvRid === undefined ? undefined : ridText(hvRid),
        mac: mac?.kind === 'binary' ? macText(mac.value) : undefined,
        migratable: numAttr(f, F.FNCTL_FN_ATTR_MIGRATABLE) === 1,
        driver: DRIVER_NAMES[numAttr(f, F.FNCTL_FN_ATTR_DRIVER) ?? -1] ?? 'unknown',
        bound: strAttr(f, F.FNCTL_FN_ATTR_BOUND_AS),
      });
    }
  }
  return out;
}

/** Every FNCTL_ATTR_KIND_CAPS of every reply. */
export function capsOf(replies: readonly GenlMessage[]): KindCapsView[] {
  const out: KindCapsView[] = [];
  for (const msg of replies) {
    const handle = handleOf(msg);
    for (const a of msg.attrs) {
      if (a.type !== F.FNCTL_ATTR_KIND_CAPS || a.kind !== 'nested') continue;
      const bits = numAttr(a.attrs, F.FNCTL_CAPS_ATTR_DRIVERS) ?? 0;
      const mac = numAttr(a.attrs, F.FNCTL_CAPS_ATTR_MAC);
      const mig = numAttr(a.attrs, F.FNCTL_CAPS_ATTR_MIGRATABLE);
      out.push({
        handle,
        kind: KIND_NAMES[numAttr(a.attrs, F.FNCTL_CAPS_ATTR_KIND) ?? -1] ?? 'unknown',
        capacity: numAttr(a.attrs, F.FNCTL_CAPS_ATTR_CAPACITY) ?? 0,
        drivers: Object.keys(DRIVER_NAMES)
          .map(Number)
          .filter((v) => (bits & (1 << v)) !== 0)
          .sort((x, y) => (x === F.FNCTL_DRIVER_NONE ? 1 : y === F.FNCTL_DRIVER_NONE ? -1 : x - y))
          .map((v) => DRIVER_NAMES[v]!),
        mac: mac === undefined ? undefined : mac === 1,
        migratable: mig === undefined ? undefined : mig === 1,
      });
    }
  }
  return out;
}

export function functionLine(f: FnView): string {
  let s = `${f.handle}/${f.id}: kind ${f.kind} dev ${f.dev}`;
  if (f.rid !== undefined) s += ` rid ${f.rid}`;
  if (f.hvRid !== undefined) s += ` hv_rid ${f.hvRid}`;
  if (f.mac !== undefined) s += ` mac ${f.mac}`;
  s += ` driver ${f.driver}`;
  if (f.bound !== undefined) s += ` bound ${f.bound}`;
  return `${s} migratable ${f.migratable}\n`;
}

export function functionJson(f: FnView): Record<string, unknown> {
  return {
    kind: f.kind,
    dev: f.dev,
    ...(f.rid === undefined ? {} : { rid: f.rid }),
    ...(f.hvRid === undefined ? {} : { hv_rid: f.hvRid }),
    ...(f.mac === undefined ? {} : { mac: f.mac }),
    driver: f.driver,
    ...(f.bound === undefined ? {} : { bound: f.bound }),
    migratable: f.migratable,
  };
}

export function capsLine(c: KindCapsView): string {
  let s = `${c.handle}: kind ${c.kind} capacity ${c.capacity} drivers ${c.drivers.join(',')}`;
  if (c.mac !== undefined) s += ` mac ${c.mac}`;
  if (c.migratable !== undefined) s += ` migratable ${c.migratable}`;
  return `${s}\n`;
}

export function capsJson(c: KindCapsView): Record<string, unknown> {
  return {
    kind: c.kind,
    capacity: c.capacity,
    drivers: c.drivers,
    ...(c.mac === undefined ? {} : { mac: c.mac }),
    ...(c.migratable === undefined ? {} : { migratable: c.migratable }),
  };
}
