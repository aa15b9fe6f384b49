/**
 * `vdpa` in the host shell: iproute2's vdpa tool (vdpa/vdpa.c) — `mgmtdev show [DEV]`, `dev show
 * [DEV]`, `dev add name NAME mgmtdev MGMTDEV [mac M] [mtu N] [max_vqp N]`, `dev del NAME`, `dev config
 * show [DEV]`, with -j/-p. Requests go through GenlClient on the kernel's bus ("vdpa" family); the
 * printers are in vdpa-format.ts.
 *
 * Errors: extended ack then "kernel answers: <strerror>", status 1; argument errors with the tool's
 * own messages ("device name is not set.", "Unknown option ..."), status 1; help on stderr, status 0.
 * With -j the JSON document (possibly empty) and its newline are printed even when a request fails.
 *
 * Left out: `dev add device_features`, `dev set`, `dev vstats` (newer tool versions).
 */
import { GenlClient, type Kernel, type NlAttr, nla } from '../../kernel/index.js';
import { vdpa as vd } from '../../spec/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';
import {
  INVALID_LLADDR,
  leadingOptions,
  parseHwAddr,
  reportNetlinkError,
  ToolOutput,
} from './devlink/output.js';
import { printConfig, printDev, printMgmtdev, VDPA_REPLY_POLICY } from './vdpa-format.js';

const HELP =
  'Usage: vdpa [ OPTIONS ] OBJECT { COMMAND | help }\n' +
  'where  OBJECT := { mgmtdev | dev }\n' +
  '       OPTIONS := { -V[ersion] | -n[o-nice-names] | -j[son] | -p[retty] }\n';
const MGMTDEV_HELP = 'Usage: vdpa mgmtdev show [ DEV ]\n';
const DEV_HELP =
  'Usage: vdpa dev show [ DEV ]\n' +
  '       vdpa dev add name NAME mgmtdev MANAGEMENTDEV [ mac MACADDR ] [ mtu MTU ]\n' +
  '                                                    [ max_vqp MAX_VQ_PAIRS ]\n' +
  '       vdpa dev del DEV\n' +
  'Usage: vdpa dev config COMMAND [ OPTIONS ]\n';
const CONFIG_HELP = 'Usage: vdpa dev config show [ DEV ]\n';

/** A failure already printed; status 1. */
class Failed extends Error {}

/** iproute2's matches(): the word is a non-empty prefix of the keyword. */
const matches = (w: string | undefined, k: string) =>
  w !== undefined && w.length <= k.length && k.startsWith(w);

function fail(io: CommandIo, ...lines: string[]): never {
  for (const l of lines) io.err(`${l}\n`);
  throw new Failed();
}

/** vdpa_argv_handle: "bus/dev" or "dev". */
function handleAttrs(io: CommandIo, s: string | undefined): NlAttr[] {
  if (s === undefined) fail(io, 'vdpa identification ("mgmtdev_bus_name/mgmtdev_name") expected');
  const n = s.split('/').length - 1;
  if (n > 1)
    fail(
      io,
      'Wrong vdpa mgmtdev identification string format',
      'Expected "mgmtdev_bus_name/mgmtdev_name"',
      'Expected "mgmtdev_name"',
    );
  if (n === 0) return [nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, s)];
  const [bus, dev] = s.split('/') as [string, string];
  return [nla.string(vd.VDPA_ATTR_MGMTDEV_BUS_NAME, bus), nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, dev)];
}

/** vdpa_argv_parse for `dev add`: name, mgmtdev, mac, mtu, max_vqp in any order; attributes in opts_put order. */
function devAddAttrs(io: CommandIo, args: readonly string[]): NlAttr[] {
  let mgmt: NlAttr[] | undefined;
  let name: string | undefined;
  let mac: Uint8Array | undefined;
  let mtu: number | undefined;
  let maxVqp: number | undefined;
  const str = (i: number) => args[i] ?? fail(io, 'String parameter expected');
  const u16 = (i: number) => {
    const s = args[i] ?? fail(io, 'number expected');
    if (!/^\d+$/.test(s) || Number(s) > 0xffff) throw new Failed();
    return Number(s);
  };
  for (let i = 0; i < args.length; i += 2) {
    const w = args[i]!;
    if (matches(w, 'name')) name = str(i + 1);
    else if (matches(w, 'mgmtdev')) mgmt = handleAttrs(io, args[i + 1]);
    else if (w === 'mac') {
      const parsed = parseHwAddr(str(i + 1), 6);
      if (!(parsed instanceof Uint8Array)) fail(io, INVALID_LLADDR(parsed.bad));
      // The tool sends its whole 6-byte buffer whatever the address's length.
      mac = new Uint8Array(6);
      mac.set(parsed);
    } else if (w === 'mtu') mtu = u16(i + 1);
    else if (matches(w, 'max_vqp')) maxVqp = u16(i + 1);
    else fail(io, `Unknown option "${w}"`);
  }
  if (mgmt === undefined) fail(io, 'management device handle not set.');
  if (name === undefined) fail(io, 'device name is not set.');
  const out = [...mgmt, nla.string(vd.VDPA_ATTR_DEV_NAME, name)];
  if (mac !== undefined) out.push(nla.binary(vd.VDPA_ATTR_DEV_NET_CFG_MACADDR, mac));
  if (mtu !== undefined) out.push(nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MTU, mtu));
  if (maxVqp !== undefined) out.push(nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP, maxVqp));
  return out;
}

/** A single-argument handle (`dev show NAME`): extra words are unknown options. */
function devNameAttrs(io: CommandIo, args: readonly string[]): NlAttr[] {
  if (args[0] === undefined) fail(io, 'String parameter expected');
  if (args.length > 1) fail(io, `Unknown option "${args[1]}"`);
  return [nla.string(vd.VDPA_ATTR_DEV_NAME, args[0])];
}

interface Run {
  readonly client: GenlClient;
  readonly out: ToolOutput;
  readonly io: CommandIo;
}

function request(r: Run, cmd: number, attrs: readonly NlAttr[], dump: boolean): readonly NlAttr[][] {
  const res = r.client.call(cmd, attrs, { dump });
  if (!res.ok) {
    reportNetlinkError(r.io, res.errno, res.extack);
    throw new Failed();
  }
  return res.replies.map((m) => [...m.attrs]);
}

function show(
  r: Run,
  cmd: number,
  section: string,
  attrs: NlAttr[] | undefined,
  print: typeof printDev,
): void {
  r.out.section(section);
  for (const reply of request(r, cmd, attrs ?? [], attrs === undefined)) print(r.out, reply);
}

function dev(r: Run, args: readonly string[]): void {
  const [w, ...rest] = args;
  if (w === undefined || matches(w, 'show') || matches(w, 'list')) {
    show(r, vd.VDPA_CMD_DEV_GET, 'dev', rest.length > 0 ? devNameAttrs(r.io, rest) : undefined, printDev);
  } else if (matches(w, 'help')) r.io.err(DEV_HELP);
  else if (matches(w, 'add')) request(r, vd.VDPA_CMD_DEV_NEW, devAddAttrs(r.io, rest), false);
  else if (matches(w, 'del')) request(r, vd.VDPA_CMD_DEV_DEL, devNameAttrs(r.io, rest), false);
  else if (matches(w, 'config')) {
    const [c, ...more] = rest;
    if (c !== undefined && matches(c, 'help')) r.io.err(CONFIG_HELP);
    else if (c === undefined || matches(c, 'show')) {
      const attrs = more.length > 0 ? devNameAttrs(r.io, more) : undefined;
      show(r, vd.VDPA_CMD_DEV_CONFIG_GET, 'config', attrs, printConfig);
    } else fail(r.io, `Command "${c}" not found`);
  } else fail(r.io, `Command "${w}" not found`);
}

function mgmtdev(r: Run, args: readonly string[]): void {
  const [w, ...rest] = args;
  if (w === undefined || matches(w, 'help')) {
    r.io.err(MGMTDEV_HELP);
    return;
  }
  if (!matches(w, 'show') && !matches(w, 'list')) fail(r.io, `Command "${w}" not found`);
  let attrs: NlAttr[] | undefined;
  if (rest.length > 0) {
    attrs = handleAttrs(r.io, rest[0]);
    if (rest.length > 1) fail(r.io, `Unknown option "${rest[1]}"`);
  }
  show(r, vd.VDPA_CMD_MGMTDEV_GET, 'mgmtdev', attrs, printMgmtdev);
}

export function vdpaCommand(k: Pick<Kernel, 'netlink'>): ShellCommand {
  return {
    name: 'vdpa',
    summary: 'vdpa mgmtdev/dev show, dev add/del, dev config show (iproute2 syntax; -j JSON)',
    run(args, io) {
      let json = false;
      let pretty = false;
      const { options, rest: i } = leadingOptions(args);
      for (const o of options) {
        if (o === '-j' || o === '--json') json = true;
        else if (o === '-p' || o === '--pretty') pretty = true;
        else if (o === '-V' || o === '--Version') {
          io.out('vdpa utility, iproute2-6.1.0\n');
          return 0;
        } else if (o === '-h' || o === '--help') {
          io.err(HELP);
          return 0;
        } else {
          io.err(`vdpa: invalid option -- '${o.replace(/^-+/, '')}'\nUnknown option.\n${HELP}`);
          return 1;
        }
      }
      let client: GenlClient;
      try {
        client = GenlClient.open(k.netlink, vd.VDPA_GENL_NAME, VDPA_REPLY_POLICY);
      } catch {
        io.err('Failed to connect to vdpa Netlink\n');
        return 1;
      }
      const r: Run = { client, out: new ToolOutput(json, pretty), io };
      const [obj, ...rest] = args.slice(i);
      try {
        if (obj === undefined || matches(obj, 'help')) io.err(HELP);
        else if (matches(obj, 'mgmtdev')) mgmtdev(r, rest);
        else if (matches(obj, 'dev')) dev(r, rest);
        else fail(io, `Object "${obj}" not found`);
        return 0;
      } catch (e) {
        if (e instanceof Failed) return 1;
        throw e;
      } finally {
        r.out.flush(io);
        client.close();
      }
    },
  };
}
