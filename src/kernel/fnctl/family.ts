/**
 * The "fnctl" generic netlink family (spec/fnctl.ts; docs/creation-api.md): CREATE, DESTROY, GET and
 * CAPS_GET over the parents registered in a FunctionProviderRegistry, and CREATE / DESTROY
 * notifications on the "config" group.
 *
 * Order of checks in CREATE, every one before anything changes (so a refusal leaves no state):
 *   1. attributes: unknown type EINVAL; BUS_NAME, DEV_NAME, KIND, COUNT present (EINVAL "missing
 *      attribute"); KIND a known enum value (EINVAL); COUNT 1..FNCTL_COUNT_MAX (ERANGE); DRIVER a
 *      known value (EINVAL); MIGRATABLE 0/1 (ERANGE); MAC 6 bytes, unicast, non-zero, and MAC + COUNT
 *      inside its low 24 bits (EINVAL);
 *   2. the parent: registered (ENODEV); makes KIND (EOPNOTSUPP); DRIVER fits KIND (EINVAL);
 *   3. the parent's own refusals (provider.validate: EBUSY, EOPNOTSUPP for MAC or migratable);
 *   4. COUNT within the parent's capacity now (ENOSPC).
 * Then the provider creates all or nothing. Errors name the offending attribute (NLMSGERR_ATTR_OFFS).
 *
 * Replies and notifications list functions as repeated FNCTL_ATTR_FUNCTION nests, cut into parts of
 * at most FNCTL_PART_MAX_BYTES; every part repeats the parent handle and the total COUNT, and the
 * request's ack ends a CREATE reply (wire.ts packFnctlParts).
 */
import { LabError } from '../../base/index.js';
import { ERRNO_MESSAGE, fnctl as F, netlink as nl } from '../../spec/index.js';
import {
  type GenlFamily,
  type GenlReply,
  type GenlRequest,
  type NetlinkBus,
  NetlinkError,
  type NlAttr,
  nla,
  nlError,
} from '../netlink/index.js';
import type {
  CreatedFunction,
  FnCreateParams,
  FnKind,
  FunctionProvider,
  FunctionProviderRegistry,
} from './provider.js';
import {
  FNCTL_ATTR_NAMES,
  FNCTL_POLICY,
  fnctlFunctionNest,
  fnctlHandleAttrs,
  fnDriverBitmap,
  fnDriverOf,
  fnKindOf,
  fnKindValue,
  packFnctlParts,
} from './wire.js';

const MAC_BYTES = 6;
const MAC_LOW_SPAN = 0x1000000;

/** The request's top-level attributes, last one of each type winning as nla_parse does; IDs in order. */
interface RequestAttrs {
  readonly byType: Map<number, NlAttr>;
  readonly ids: number[];
}

function readAttrs(attrs: readonly NlAttr[]): RequestAttrs {
  const byType = new Map<number, NlAttr>();
  const ids: number[] = [];
  for (const a of attrs) {
    if (a.type === F.FNCTL_ATTR_UNSPEC || a.type > F.FNCTL_ATTR_MAX)
      throw nlError('EINVAL', `Unknown attribute type ${a.type}`, a.type);
    if (a.type === F.FNCTL_ATTR_ID && a.kind === 'u32') ids.push(a.value);
    byType.set(a.type, a);
  }
  return { byType, ids };
}

function need(r: RequestAttrs, type: number): NlAttr {
  const a = r.byType.get(type);
  if (a === undefined) throw nlError('EINVAL', `missing attribute ${FNCTL_ATTR_NAMES[type] ?? type}`);
  return a;
}

function num(a: NlAttr | undefined): number | undefined {
  return a !== undefined && (a.kind === 'u8' || a.kind === 'u16' || a.kind === 'u32') ? a.value : undefined;
}
function str(a: NlAttr | undefined): string | undefined {
  return a?.kind === 'string' ? a.value : undefined;
}

const handleText = (p: { bus: string; dev: string }): string => `${p.bus}/${p.dev}`;

/** The parent named by BUS_NAME + DEV_NAME: ENODEV (at DEV_NAME) when nobody registered it. */
function parentOf(registry: FunctionProviderRegistry, r: RequestAttrs): FunctionProvider {
  const bus = str(need(r, F.FNCTL_ATTR_BUS_NAME)) ?? '';
  const dev = str(need(r, F.FNCTL_ATTR_DEV_NAME)) ?? '';
  const p = registry.find(bus, dev);
  if (p === undefined)
    throw nlError('ENODEV', `${bus}/${dev} is not a function parent`, F.FNCTL_ATTR_DEV_NAME);
  return p;
}

function parseMac(a: NlAttr | undefined, count: number): Uint8Array | undefined {
  if (a === undefined) return undefined;
  const mac = a.kind === 'binary' ? a.value : new Uint8Array(0);
  if (mac.length !== MAC_BYTES)
    throw nlError('EINVAL', `mac must be ${MAC_BYTES} bytes, got ${mac.length}`, F.FNCTL_ATTR_MAC);
  if ((mac[0]! & 1) !== 0) throw nlError('EINVAL', 'mac must be unicast', F.FNCTL_ATTR_MAC);
  if (mac.every((b) => b === 0)) throw nlError('EINVAL', 'mac must not be zero', F.FNCTL_ATTR_MAC);
  const low = (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!;
  if (low + count > MAC_LOW_SPAN)
    throw nlError('EINVAL', `mac range of ${count} overflows the low 24 bits`, F.FNCTL_ATTR_MAC);
  return mac;
}

interface CreateRequest {
  readonly provider: FunctionProvider;
  readonly kind: FnKind;
  readonly count: number;
  readonly params: FnCreateParams;
}

/** Steps 1-4 of the header comment. */
function validateCreate(registry: FunctionProviderRegistry, r: RequestAttrs): CreateRequest {
  need(r, F.FNCTL_ATTR_BUS_NAME);
  need(r, F.FNCTL_ATTR_DEV_NAME);
  const kindNum = num(need(r, F.FNCTL_ATTR_KIND)) ?? 0;
  const kind = fnKindOf(kindNum);
  if (kind === undefined) throw nlError('EINVAL', `unknown function kind ${kindNum}`, F.FNCTL_ATTR_KIND);
  const count = num(need(r, F.FNCTL_ATTR_COUNT)) ?? 0;
  if (count < 1 || count > F.FNCTL_COUNT_MAX)
    throw nlError('ERANGE', `count ${count} out of range 1..${F.FNCTL_COUNT_MAX}`, F.FNCTL_ATTR_COUNT);
  const driverNum = num(r.byType.get(F.FNCTL_ATTR_DRIVER)) ?? F.FNCTL_DRIVER_NONE;
  const driver = fnDriverOf(driverNum);
  if (driver === undefined) throw nlError('EINVAL', `unknown driver ${driverNum}`, F.FNCTL_ATTR_DRIVER);
  const mig = num(r.byType.get(F.FNCTL_ATTR_MIGRATABLE)) ?? 0;
  if (mig > 1) throw nlError('ERANGE', `migratable must be 0 or 1, got ${mig}`, F.FNCTL_ATTR_MIGRATABLE);
  const mac = parseMac(r.byType.get(F.FNCTL_ATTR_MAC), count);
  const provider = parentOf(registry, r);
  const at = handleText(provider);
  if (!provider.kinds.includes(kind)) {
    throw nlError(
      'EOPNOTSUPP',
      `${at} cannot create ${kind} functions (kinds: ${provider.kinds.join(', ')})`,
      F.FNCTL_ATTR_KIND,
    );
  }
  const fits = provider.driversFor(kind);
  if (!fits.includes(driver)) {
    throw nlError(
      'EINVAL',
      `driver ${driver} does not fit kind ${kind} on ${at} (fits: ${fits.join(', ')})`,
      r.byType.has(F.FNCTL_ATTR_DRIVER) ? F.FNCTL_ATTR_DRIVER : undefined,
    );
  }
  const params: FnCreateParams = { driver, migratable: mig === 1, ...(mac === undefined ? {} : { mac }) };
  provider.validate?.(kind, count, params);
  const room = provider.capacity(kind);
  if (count > room) {
    throw nlError(
      'ENOSPC',
      `count ${count} exceeds the capacity of ${at} for ${kind} functions (${room})`,
      F.FNCTL_ATTR_COUNT,
    );
  }
  return { provider, kind, count, params };
}

/**
 * A provider's failure as the family reports it: a NetlinkError as is; another errno error with its
 * detail (errnoError's "EIO: Input/output error (detail)" without the strerror part, which the tool's
 * "kernel answers" line already prints) after `what`.
 */
function asNetlinkError(e: unknown, what: string): unknown {
  if (e instanceof NetlinkError || !(e instanceof LabError) || e.errno === undefined) return e;
  const prefix = `${e.errno}: ${ERRNO_MESSAGE[e.errno]}`;
  let detail = e.message;
  if (detail.startsWith(`${prefix} (`) && detail.endsWith(')')) detail = detail.slice(prefix.length + 2, -1);
  else if (detail === prefix) detail = '';
  return nlError(e.errno, detail === '' ? what : `${what}: ${detail}`);
}

/** The parts listing `fns` of `p` under command `cmd`; COUNT is the total. */
function functionParts(cmd: number, p: FunctionProvider, fns: readonly CreatedFunction[]): GenlReply[] {
  const head = [...fnctlHandleAttrs(p.bus, p.dev), nla.u32(F.FNCTL_ATTR_COUNT, fns.length)];
  return packFnctlParts(head, fns.map(fnctlFunctionNest)).map((attrs) => ({ cmd, attrs }));
}

function capsReply(p: FunctionProvider): GenlReply {
  const kinds = p.kinds.map((kind) => {
    const attrs: NlAttr[] = [
      nla.u8(F.FNCTL_CAPS_ATTR_KIND, fnKindValue(kind)),
      nla.u32(F.FNCTL_CAPS_ATTR_DRIVERS, fnDriverBitmap(p.driversFor(kind))),
      nla.u32(F.FNCTL_CAPS_ATTR_CAPACITY, p.capacity(kind)),
    ];
    const caps = p.paramCaps?.(kind);
    if (caps !== undefined) {
      attrs.push(nla.u8(F.FNCTL_CAPS_ATTR_MAC, caps.mac ? 1 : 0));
      attrs.push(nla.u8(F.FNCTL_CAPS_ATTR_MIGRATABLE, caps.migratable ? 1 : 0));
    }
    return nla.nest(F.FNCTL_ATTR_KIND_CAPS, attrs);
  });
  return { cmd: F.FNCTL_CMD_CAPS_GET, attrs: [...fnctlHandleAttrs(p.bus, p.dev), ...kinds] };
}

/** The functions of `p` an ID list names, in the order asked; ENOENT / EINVAL before anything else. */
function selectIds(p: FunctionProvider, ids: readonly number[]): CreatedFunction[] {
  const byId = new Map(p.list().map((f) => [f.id, f] as const));
  const seen = new Set<number>();
  return ids.map((id) => {
    if (seen.has(id)) throw nlError('EINVAL', `function ${id} given twice`, F.FNCTL_ATTR_ID);
    seen.add(id);
    const f = byId.get(id);
    if (f === undefined)
      throw nlError('ENOENT', `function ${id} does not exist on ${handleText(p)}`, F.FNCTL_ATTR_ID);
    return f;
  });
}

export interface FnctlFamilyOptions {
  /** request_module, handed to providers through the registry. */
  readonly requestModule?: (name: string) => void;
}

/** genl_register_family for fnctl; returns the family with its id and group. */
export function registerFnctlFamily(
  bus: NetlinkBus,
  registry: FunctionProviderRegistry,
  o: FnctlFamilyOptions = {},
): GenlFamily {
  if (o.requestModule !== undefined) registry.setModuleLoader(o.requestModule);
  const notify = (parts: readonly GenlReply[]): void => {
    for (const part of parts) bus.notify(F.FNCTL_GENL_NAME, F.FNCTL_MCGRP_CONFIG, part);
  };

  const create = (req: GenlRequest): GenlReply[] => {
    const c = validateCreate(registry, readAttrs(req.msg.attrs));
    let made: CreatedFunction[];
    try {
      made = c.provider.create(c.kind, c.count, c.params);
    } catch (e) {
      throw asNetlinkError(e, `creating ${c.count} ${c.kind} functions on ${handleText(c.provider)} failed`);
    }
    const parts = functionParts(F.FNCTL_CMD_CREATE, c.provider, made);
    notify(parts);
    return parts;
  };

  const destroy = (req: GenlRequest): GenlReply[] => {
    const r = readAttrs(req.msg.attrs);
    const p = parentOf(registry, r);
    const all = r.byType.has(F.FNCTL_ATTR_ALL);
    if (all && r.ids.length > 0) throw nlError('EINVAL', 'give ids or all, not both', F.FNCTL_ATTR_ALL);
    if (!all && r.ids.length === 0) throw nlError('EINVAL', 'missing attribute id (or all)');
    const gone = all ? p.list() : selectIds(p, r.ids);
    if (gone.length === 0) return [];
    try {
      p.destroy(gone.map((f) => f.id));
    } catch (e) {
      throw asNetlinkError(e, `destroying functions on ${handleText(p)} failed`);
    }
    notify(functionParts(F.FNCTL_CMD_DESTROY, p, gone));
    return [];
  };

  const get = (req: GenlRequest): GenlReply[] => {
    const r = readAttrs(req.msg.attrs);
    const p = parentOf(registry, r);
    const fns = r.ids.length > 0 ? selectIds(p, r.ids) : p.list();
    return functionParts(F.FNCTL_CMD_GET, p, fns);
  };

  const caps = (req: GenlRequest): GenlReply[] => [capsReply(parentOf(registry, readAttrs(req.msg.attrs)))];

  return bus.registerFamily({
    name: F.FNCTL_GENL_NAME,
    version: F.FNCTL_GENL_VERSION,
    maxAttr: F.FNCTL_ATTR_MAX,
    policy: FNCTL_POLICY,
    mcastGroups: [F.FNCTL_MCGRP_CONFIG],
    ops: [
      { cmd: F.FNCTL_CMD_CREATE, flags: nl.GENL_ADMIN_PERM, doit: create },
      { cmd: F.FNCTL_CMD_DESTROY, flags: nl.GENL_ADMIN_PERM, doit: destroy },
      {
        cmd: F.FNCTL_CMD_GET,
        doit: get,
        dumpit: () => registry.providers.flatMap((p) => functionParts(F.FNCTL_CMD_GET, p, p.list())),
      },
      {
        cmd: F.FNCTL_CMD_CAPS_GET,
        doit: caps,
        dumpit: () => registry.providers.map(capsReply),
      },
    ],
  });
}
