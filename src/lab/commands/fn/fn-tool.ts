/**
 * `fn`: the host-shell tool of the common function-creation API (the fnctl generic netlink family,
 * spec/fnctl.ts, docs/creation-api.md), in the style of iproute2's devlink and vdpa:
 *
 *   fn [-j] [-p] create DEV kind { vf | sf | siov } count N [ driver { vfio | net | vdpa | none } ]
 *                       [ mac LLADDR ] [ migratable { on | off } ]
 *   fn [-j] [-p] show [ DEV [ id ID ]... ]
 *   fn del DEV { id ID [ id ID ]... | all }
 *   fn [-j] [-p] caps [ DEV ]
 *   fn help
 *
 * DEV is a parent handle, BUS/NAME ("pci/0000:01:00.0"). Options may also follow the command (as the
 * brief's `fn show -j`). Every request goes through GenlClient, so it crosses the netlink socket as
 * bytes (taps see it); the tool decodes replies with the family's policy.
 *
 * Errors: a kernel refusal prints iproute2's two lines (lib/mnl_utils.c and lib/libnetlink.c): the
 * extended ack as "Error: <msg>." (a period added unless the message ends with one), then "kernel
 * answers: <strerror>"; status 1. A bad command line prints an "Error: ..." line or the usage; status 1.
 */
import { LabError } from '../../../base/index.js';
import {
  FNCTL_POLICY,
  GenlClient,
  type GenlResult,
  type Kernel,
  type NlAttr,
  nla,
} from '../../../kernel/index.js';
import { fnctl as F } from '../../../spec/index.js';
import type { CommandIo, ShellCommand } from '../../shell/command.js';
import { reportNetlinkError } from '../devlink/output.js';
import {
  capsJson,
  capsLine,
  capsOf,
  DRIVER_NAMES,
  functionJson,
  functionLine,
  functionsOf,
  KIND_NAMES,
} from './format.js';

const USAGE =
  'Usage: fn [ OPTIONS ] OBJECT { COMMAND | help }\n' +
  '       fn create DEV kind { vf | sf | siov } count N [ driver { vfio | net | vdpa | none } ]\n' +
  '                 [ mac LLADDR ] [ migratable { on | off } ]\n' +
  '       fn show [ DEV [ id ID ]... ]\n' +
  '       fn del DEV { id ID [ id ID ]... | all }\n' +
  '       fn caps [ DEV ]\n' +
  'where  OPTIONS := { -j[son] | -p[retty] }\n' +
  '       DEV := BUS/NAME, e.g. pci/0000:01:00.0\n';

/** A command-line mistake: printed as "Error: <text>" with status 1, nothing sent. */
class UsageError extends Error {}

const enumValue = (names: Readonly<Record<number, string>>, name: string): number | undefined => {
  for (const [v, n] of Object.entries(names)) if (n === name) return Number(v);
  return undefined;
};

function handleAttrs(dev: string): NlAttr[] {
  const slash = dev.indexOf('/');
  if (slash <= 0 || slash === dev.length - 1)
    throw new UsageError(`"${dev}" is not a parent handle (BUS/NAME, e.g. pci/0000:01:00.0)`);
  return [
    nla.string(F.FNCTL_ATTR_BUS_NAME, dev.slice(0, slash)),
    nla.string(F.FNCTL_ATTR_DEV_NAME, dev.slice(slash + 1)),
  ];
}

function parseUint(what: string, text: string | undefined, max: number): number {
  const v = text !== undefined && /^(0x[0-9a-f]+|[0-9]+)$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(v) || v > max)
    throw new UsageError(`${what} "${text ?? ''}" is not a valid number`);
  return v;
}

function parseMac(text: string | undefined): Uint8Array {
  const m = text === undefined ? null : /^([0-9a-f]{1,2})(?::([0-9a-f]{1,2})){5}$/i.exec(text);
  if (text === undefined || m === null) throw new UsageError(`"${text ?? ''}" is not a valid MAC address`);
  return Uint8Array.from(text.split(':'), (x) => Number.parseInt(x, 16));
}

function createAttrs(args: readonly string[]): NlAttr[] {
  const attrs = handleAttrs(args[0] ?? '');
  let hasKind = false;
  let hasCount = false;
  for (let i = 1; i < args.length; i += 2) {
    const key = args[i]!;
    const v = args[i + 1];
    if (v === undefined) throw new UsageError(`"${key}" needs a value`);
    switch (key) {
      case 'kind': {
        const kind = enumValue(KIND_NAMES, v);
        if (kind === undefined) throw new UsageError(`kind "${v}" is unknown (vf, sf, siov)`);
        attrs.push(nla.u8(F.FNCTL_ATTR_KIND, kind));
        hasKind = true;
        break;
      }
      case 'count':
        attrs.push(nla.u32(F.FNCTL_ATTR_COUNT, parseUint('count', v, 0xffffffff)));
        hasCount = true;
        break;
      case 'driver': {
        const d = enumValue(DRIVER_NAMES, v);
        if (d === undefined) throw new UsageError(`driver "${v}" is unknown (vfio, net, vdpa, none)`);
        attrs.push(nla.u8(F.FNCTL_ATTR_DRIVER, d));
        break;
      }
      case 'mac':
      case 'hw_addr':
        attrs.push(nla.binary(F.FNCTL_ATTR_MAC, parseMac(v)));
        break;
      case 'migratable':
        if (v !== 'on' && v !== 'off') throw new UsageError(`migratable "${v}" is not on or off`);
        attrs.push(nla.u8(F.FNCTL_ATTR_MIGRATABLE, v === 'on' ? 1 : 0));
        break;
      default:
        throw new UsageError(`unknown option "${key}"`);
    }
  }
  if (!hasKind || !hasCount) throw new UsageError('kind and count are required');
  return attrs;
}

/** `id N [id N]...` or `all` after DEV. */
function selectorAttrs(args: readonly string[], allowAll: boolean): NlAttr[] {
  const out: NlAttr[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'all' && allowAll) out.push(nla.flag(F.FNCTL_ATTR_ALL));
    else if (a === 'id') {
      for (const part of (args[++i] ?? '').split(','))
        out.push(nla.u32(F.FNCTL_ATTR_ID, parseUint('id', part, 0xffffffff)));
    } else throw new UsageError(`unknown option "${a}"`);
  }
  return out;
}

interface Options {
  readonly json: boolean;
  readonly pretty: boolean;
  readonly words: string[];
}

function parseOptions(args: readonly string[]): Options {
  let json = false;
  let pretty = false;
  const words: string[] = [];
  for (const a of args) {
    if (a === '-j' || a === '-json' || a === '--json') json = true;
    else if (a === '-p' || a === '-pretty' || a === '--pretty') pretty = true;
    else if (a === '-jp' || a === '-pj') json = pretty = true;
    else words.push(a);
  }
  return { json, pretty, words };
}

export interface FnTool extends ShellCommand {}

export function fnCommand(k: Kernel): FnTool {
  const printJson = (io: CommandIo, o: Options, value: unknown): void =>
    io.out(`${o.pretty ? JSON.stringify(value, null, 4) : JSON.stringify(value)}\n`);

  const fail = (io: CommandIo, r: Extract<GenlResult, { ok: false }>): number => {
    reportNetlinkError(io, r.errno, r.extack);
    return 1;
  };

  function run(o: Options, io: CommandIo, client: GenlClient): number {
    const [object, ...rest] = o.words;
    const call = (cmd: number, attrs: NlAttr[], dump = false): GenlResult =>
      client.call(cmd, attrs, { dump });
    switch (object) {
      case 'create': {
        const r = call(F.FNCTL_CMD_CREATE, createAttrs(rest));
        if (!r.ok) return fail(io, r);
        return printFunctions(io, o, r);
      }
      case 'show':
      case 'list': {
        const r =
          rest.length === 0
            ? call(F.FNCTL_CMD_GET, [], true)
            : call(F.FNCTL_CMD_GET, [...handleAttrs(rest[0]!), ...selectorAttrs(rest.slice(1), false)]);
        if (!r.ok) return fail(io, r);
        return printFunctions(io, o, r);
      }
      case 'del':
      case 'delete': {
        if (rest.length < 2) throw new UsageError('del needs DEV and "id ID" or "all"');
        const r = call(F.FNCTL_CMD_DESTROY, [
          ...handleAttrs(rest[0]!),
          ...selectorAttrs(rest.slice(1), true),
        ]);
        return r.ok ? 0 : fail(io, r);
      }
      case 'caps': {
        const r =
          rest.length === 0
            ? call(F.FNCTL_CMD_CAPS_GET, [], true)
            : call(F.FNCTL_CMD_CAPS_GET, handleAttrs(rest[0]!));
        if (!r.ok) return fail(io, r);
        const caps = capsOf(r.replies);
        if (o.json) {
          const by: Record<string, unknown[]> = {};
          for (const c of caps) {
            const list = by[c.handle] ?? [];
            list.push(capsJson(c));
            by[c.handle] = list;
          }
          printJson(io, o, { caps: by });
        } else for (const c of caps) io.out(capsLine(c));
        return 0;
      }
      case undefined:
      case 'help':
        io.out(USAGE);
        return 0;
      default:
        throw new UsageError(`object "${object}" is unknown, try "fn help"`);
    }
  }

  function printFunctions(io: CommandIo, o: Options, r: Extract<GenlResult, { ok: true }>): number {
    const fns = functionsOf(r.replies);
    if (o.json) {
      const by: Record<string, unknown> = {};
      for (const f of fns) by[`${f.handle}/${f.id}`] = functionJson(f);
      printJson(io, o, { function: by });
    } else for (const f of fns) io.out(functionLine(f));
    return 0;
  }

  return {
    name: 'fn',
    summary: 'create and destroy functions (VF, SF, SIOV) through the fnctl netlink family',
    run(args, io) {
      const o = parseOptions(args);
      let client: GenlClient;
      try {
        client = GenlClient.open(k.netlink, F.FNCTL_GENL_NAME, FNCTL_POLICY);
      } catch (e) {
        if (!(e instanceof LabError)) throw e;
        io.err('Failed to connect to fnctl Netlink\n');
        return 1;
      }
      try {
        return run(o, io, client);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        io.err(`Error: ${e.message}.\n`);
        return 1;
      } finally {
        client.close();
      }
    },
  };
}
