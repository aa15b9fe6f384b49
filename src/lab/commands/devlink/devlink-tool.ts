/**
 * `devlink` in the host shell: iproute2's devlink for the objects this model has — dev (show, eswitch
 * show/set, param show/set) and port (show, add, del, function set). Every request goes through
 * GenlClient on the kernel's netlink bus, so it crosses as bytes and a tap sees what a real devlink and
 * kernel exchange. Options before the object: -j/--json, -p/--pretty (-n, -v, -s accepted, no effect).
 *
 * Output and errors follow iproute2 (see output.ts, format.ts, args.ts): a failed request prints the
 * extended ack and "kernel answers: <strerror>" and exits 1; usage errors print the tool's message and
 * exit 1; help prints usage on stderr and exits 0. `dev param set` first reads the parameter (PARAM_GET)
 * to learn its type and sends nothing when the value is already set, as the tool does.
 *
 * SPEC-DEVIATION: the real tool also dumps all ports at start to map netdev names (ifname_map_init);
 * port handles here are always "bus/dev/index", so that dump is not sent. `port add` prints its reply
 * inside a {"port": ...} section with -j (iproute2 prints the entry without the section).
 */
import { GenlClient, type GenlResult, type Kernel, type NlAttr, nla } from '../../../kernel/index.js';
import { devlink as dl } from '../../../spec/index.js';
import type { CommandIo, ShellCommand } from '../../shell/command.js';
import { ArgError, Argv, type DlOpts, type Opt, parseOpts } from './args.js';
import { printDev, printEswitch, printParam, printPort } from './format.js';
import { leadingOptions, reportNetlinkError, ToolOutput } from './output.js';
import { DEVLINK_REPLY_POLICY } from './policy.js';

const HELP = [
  'Usage: devlink [ OPTIONS ] OBJECT { COMMAND | help }',
  'where  OBJECT := { dev | port }',
  '       OPTIONS := { -V[ersion] | -n[o-nice-names] | -j[son] | -p[retty] | -v[erbose] -s[tatistics] }',
];
const DEV_HELP = [
  'Usage: devlink dev show [ DEV ]',
  '       devlink dev eswitch set DEV [ mode { legacy | switchdev } ]',
  '       devlink dev eswitch show DEV',
  '       devlink dev param set DEV name PARAMETER value VALUE cmode { permanent | driverinit | runtime }',
  '       devlink dev param show [DEV name PARAMETER]',
];
const PORT_HELP = [
  'Usage: devlink port show [ DEV/PORT_INDEX ]',
  '       devlink port function set DEV/PORT_INDEX [ hw_addr ADDR ] [ state { active | inactive } ]',
  '                      [ roce { enable | disable } ] [ migratable { enable | disable } ]',
  '       devlink port add { DEV | DEV/PORT_INDEX } flavour FLAVOUR pfnum PFNUM [ sfnum SFNUM ] [ controller CNUM ]',
  '       devlink port del DEV/PORT_INDEX',
];

/** A failure already reported on stderr; the command's status is 1. */
class Failed extends Error {}

/** dl_opts_put: the request attributes of the parsed options, in the tool's order. */
function optsAttrs(o: DlOpts): NlAttr[] {
  const out: NlAttr[] = [];
  if (o.bus !== undefined && o.dev !== undefined)
    out.push(nla.string(dl.DEVLINK_ATTR_BUS_NAME, o.bus), nla.string(dl.DEVLINK_ATTR_DEV_NAME, o.dev));
  if (o.present.has('handlep') && o.portIndex !== undefined)
    out.push(nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, o.portIndex));
  if (o.eswitchMode !== undefined) out.push(nla.u16(dl.DEVLINK_ATTR_ESWITCH_MODE, o.eswitchMode));
  if (o.paramName !== undefined) out.push(nla.string(dl.DEVLINK_ATTR_PARAM_NAME, o.paramName));
  if (o.cmode !== undefined) out.push(nla.u8(dl.DEVLINK_ATTR_PARAM_VALUE_CMODE, o.cmode));
  const fn: NlAttr[] = [];
  if (o.hwAddr !== undefined) fn.push(nla.binary(dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, o.hwAddr));
  if (o.fnState !== undefined) fn.push(nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, o.fnState));
  if (o.caps !== undefined) {
    const b = new Uint8Array(dl.NLA_BITFIELD32_SIZE_BYTES);
    new DataView(b.buffer).setUint32(0, o.caps.value, true);
    new DataView(b.buffer).setUint32(4, o.caps.selector, true);
    fn.push(nla.binary(dl.DEVLINK_PORT_FN_ATTR_CAPS, b));
  }
  if (fn.length > 0) out.push(nla.nest(dl.DEVLINK_ATTR_PORT_FUNCTION, fn));
  if (o.flavour !== undefined) out.push(nla.u16(dl.DEVLINK_ATTR_PORT_FLAVOUR, o.flavour));
  if (o.pfnum !== undefined) out.push(nla.u16(dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER, o.pfnum));
  if (o.sfnum !== undefined) out.push(nla.u32(dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER, o.sfnum));
  if (o.controller !== undefined) out.push(nla.u32(dl.DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, o.controller));
  return out;
}

interface Run {
  readonly client: GenlClient;
  readonly out: ToolOutput;
  readonly io: CommandIo;
}

function call(
  r: Run,
  cmd: number,
  attrs: readonly NlAttr[],
  dump = false,
): Extract<GenlResult, { ok: true }> {
  const res = r.client.call(cmd, attrs, { dump });
  if (!res.ok) {
    reportNetlinkError(r.io, res.errno, res.extack);
    throw new Failed();
  }
  return res;
}

function helpOut(io: CommandIo, lines: readonly string[]): number {
  io.err(`${lines.join('\n')}\n`);
  return 0;
}

/** A show command: optional handle → doit, none → dump; each reply printed into `section`. */
function show(
  r: Run,
  a: Argv,
  cmd: number,
  section: string,
  need: Opt[],
  print: (attrs: readonly NlAttr[]) => void,
): void {
  const dump = a.argc === 0;
  const attrs = dump ? [] : optsAttrs(parseOpts(a, need));
  r.out.section(section);
  for (const m of call(r, cmd, attrs, dump).replies) print(m.attrs);
}

function devParam(r: Run, a: Argv): number {
  if (a.match('help')) return helpOut(r.io, DEV_HELP);
  if (a.argc === 0 || a.match('show') || a.match('list')) {
    a.inc();
    let last: string | undefined;
    show(r, a, dl.DEVLINK_CMD_PARAM_GET, 'param', ['handle', 'name'], (attrs) => {
      last = printParam(r.out, attrs, last);
    });
    return 0;
  }
  if (!a.match('set')) throw new ArgError(`Command "${a.cur}" not found`);
  a.inc();
  const o = parseOpts(a, ['handle', 'name', 'value', 'cmode']);
  return paramSet(r, o);
}

function paramSet(r: Run, o: DlOpts): number {
  const base = optsAttrs(o);
  const cur = call(r, dl.DEVLINK_CMD_PARAM_GET, base).replies[0];
  const p = cur?.attrs.find((x) => x.type === dl.DEVLINK_ATTR_PARAM);
  if (p?.kind !== 'nested') throw new Failed();
  const typeAttr = p.attrs.find((x) => x.type === dl.DEVLINK_ATTR_PARAM_TYPE);
  const type = typeAttr?.kind === 'u8' ? typeAttr.value : 0;
  const list = p.attrs.find((x) => x.type === dl.DEVLINK_ATTR_PARAM_VALUES_LIST);
  let current: Uint8Array | undefined;
  if (list?.kind === 'nested') {
    for (const v of list.attrs) {
      if (v.kind !== 'nested') continue;
      const c = v.attrs.find((x) => x.type === dl.DEVLINK_ATTR_PARAM_VALUE_CMODE);
      const d = v.attrs.find((x) => x.type === dl.DEVLINK_ATTR_PARAM_VALUE_DATA);
      if (c?.kind === 'u8' && c.value === o.cmode) current = d?.kind === 'binary' ? d.value : undefined;
    }
  }
  const text = o.paramValue ?? '';
  const bad = () => new ArgError(`Value "${text}" is not a number or not within range`);
  const data: NlAttr[] = [];
  const t = dl.DEVLINK_ATTR_PARAM_VALUE_DATA;
  const curNum = current === undefined ? 0 : current.reduceRight((acc, x) => acc * 256 + x, 0);
  if (type === dl.DEVLINK_PARAM_TYPE_BOOL) {
    const v = ['true', '1', 'enable'].includes(text)
      ? true
      : ['false', '0', 'disable'].includes(text)
        ? false
        : undefined;
    if (v === undefined) throw bad();
    if (v === (current !== undefined)) return 0;
    if (v) data.push(nla.flag(t));
  } else if (type === dl.DEVLINK_PARAM_TYPE_STRING) {
    const was =
      current === undefined
        ? ''
        : new TextDecoder().decode(current.subarray(0, Math.max(0, current.indexOf(0))));
    if (text === was) return 0;
    data.push(nla.string(t, text));
  } else {
    const max = { [dl.DEVLINK_PARAM_TYPE_U8]: 0xff, [dl.DEVLINK_PARAM_TYPE_U16]: 0xffff }[type] ?? 0xffffffff;
    if (!/^\d+$/.test(text) || Number(text) > max) throw bad();
    const v = Number(text);
    if (v === curNum) return 0;
    data.push(
      type === dl.DEVLINK_PARAM_TYPE_U8
        ? nla.u8(t, v)
        : type === dl.DEVLINK_PARAM_TYPE_U16
          ? nla.u16(t, v)
          : nla.u32(t, v),
    );
  }
  call(r, dl.DEVLINK_CMD_PARAM_SET, [...base, nla.u8(dl.DEVLINK_ATTR_PARAM_TYPE, type), ...data]);
  return 0;
}

function dev(r: Run, a: Argv): number {
  if (a.match('help')) return helpOut(r.io, DEV_HELP);
  if (a.argc === 0 || a.match('show') || a.match('list')) {
    a.inc();
    show(r, a, dl.DEVLINK_CMD_GET, 'dev', ['handle'], (attrs) => printDev(r.out, attrs));
    return 0;
  }
  if (a.match('eswitch')) {
    a.inc();
    if (a.argc === 0 || a.match('help')) return helpOut(r.io, DEV_HELP);
    if (a.match('show')) {
      a.inc();
      const attrs = optsAttrs(parseOpts(a, ['handle']));
      r.out.section('dev');
      for (const m of call(r, dl.DEVLINK_CMD_ESWITCH_GET, attrs).replies) printEswitch(r.out, m.attrs);
      return 0;
    }
    if (!a.match('set')) throw new ArgError(`Command "${a.cur}" not found`);
    a.inc();
    const o = parseOpts(a, ['handle'], ['mode']);
    if (o.present.size === 1) throw new ArgError('Need to set at least one option');
    call(r, dl.DEVLINK_CMD_ESWITCH_SET, optsAttrs(o));
    return 0;
  }
  if (a.match('param')) {
    a.inc();
    return devParam(r, a);
  }
  throw new ArgError(`Command "${a.cur}" not found`);
}

function port(r: Run, a: Argv): number {
  if (a.match('help')) return helpOut(r.io, PORT_HELP);
  if (a.argc === 0 || a.match('show') || a.match('list')) {
    a.inc();
    show(r, a, dl.DEVLINK_CMD_PORT_GET, 'port', ['handlep'], (attrs) => printPort(r.out, attrs));
    return 0;
  }
  if (a.match('add')) {
    a.inc();
    if (a.argc === 0 || a.match('help')) return helpOut(r.io, PORT_HELP);
    const o = parseOpts(a, ['handle', 'handlep', 'flavour', 'pfnum'], ['sfnum', 'controller']);
    r.out.section('port');
    for (const m of call(r, dl.DEVLINK_CMD_PORT_NEW, optsAttrs(o)).replies) printPort(r.out, m.attrs);
    return 0;
  }
  if (a.match('del')) {
    a.inc();
    if (a.argc === 0 || a.match('help')) return helpOut(r.io, PORT_HELP);
    call(r, dl.DEVLINK_CMD_PORT_DEL, optsAttrs(parseOpts(a, ['handlep'])));
    return 0;
  }
  if (a.match('function')) {
    a.inc();
    if (a.argc === 0 || a.match('help')) return helpOut(r.io, PORT_HELP);
    if (!a.match('set')) throw new ArgError(`Command "${a.cur}" not found`);
    a.inc();
    if (a.argc === 0) return helpOut(r.io, PORT_HELP);
    const o = parseOpts(a, ['handlep'], ['hwAddr', 'state', 'caps']);
    call(r, dl.DEVLINK_CMD_PORT_SET, optsAttrs(o));
    return 0;
  }
  throw new ArgError(`Command "${a.cur}" not found`);
}

export function devlinkCommand(k: Pick<Kernel, 'netlink'>): ShellCommand {
  return {
    name: 'devlink',
    summary: 'devlink dev/port/param/eswitch (iproute2 syntax; -j JSON)',
    run(args, io) {
      let json = false;
      let pretty = false;
      const { options, rest: i } = leadingOptions(args);
      for (const o of options) {
        if (o === '-j' || o === '--json') json = true;
        else if (o === '-p' || o === '--pretty') pretty = true;
        else if (o === '-n' || o === '-v' || o === '-s') continue;
        else if (o === '-V' || o === '--Version') {
          io.out('devlink utility, iproute2-6.1.0\n');
          return 0;
        } else if (o === '-h' || o === '--help') return helpOut(io, HELP);
        else {
          io.err(`devlink: invalid option -- '${o.replace(/^-+/, '')}'\n`);
          helpOut(io, HELP);
          return 1;
        }
      }
      const a = new Argv(args.slice(i));
      if (a.argc === 0 || a.match('help')) return helpOut(io, HELP);
      let client: GenlClient;
      try {
        client = GenlClient.open(k.netlink, dl.DEVLINK_GENL_NAME, DEVLINK_REPLY_POLICY);
      } catch {
        io.err('Failed to connect to devlink Netlink\n');
        return 1;
      }
      const r: Run = { client, out: new ToolOutput(json, pretty), io };
      try {
        if (a.match('dev')) {
          a.inc();
          return dev(r, a);
        }
        if (a.match('port')) {
          a.inc();
          return port(r, a);
        }
        throw new ArgError(`Object "${a.cur}" not found`);
      } catch (e) {
        if (e instanceof ArgError) {
          for (const line of e.lines) io.err(`${line}\n`);
          return 1;
        }
        if (e instanceof Failed) return 1;
        throw e;
      } finally {
        r.out.flush(io);
        client.close();
      }
    },
  };
}
