/**
 * The devlink tool's command line, parsed as iproute2's dl_argv_parse does: words match keywords by
 * prefix ("sh" is "show"), the first argument is a handle (DEV "bus/dev", DEV/PORT_INDEX, or either),
 * then keyword/value options in any order, then the required ones are checked in the tool's fixed order
 * with its messages ("Port flavour is expected." ...). Every failure is an ArgError carrying the lines
 * iproute2 prints on stderr; the command exits with status 1.
 *
 * Left out: netdev names as port handles (the ifname map), and options of commands not modeled.
 */
import { devlink as dl } from '../../../spec/index.js';
import { INVALID_LLADDR, parseHwAddr } from './output.js';

export class ArgError extends Error {
  readonly lines: readonly string[];
  constructor(...lines: string[]) {
    super(lines.join('\n'));
    this.lines = lines;
  }
}

/** The argument cursor (dl_argv, dl_arg_inc, dl_argv_match, dl_no_arg). */
export class Argv {
  readonly #args: readonly string[];
  #i = 0;
  constructor(args: readonly string[]) {
    this.#args = args;
  }
  get argc(): number {
    return this.#args.length - this.#i;
  }
  get cur(): string | undefined {
    return this.#args[this.#i];
  }
  inc(): void {
    this.#i++;
  }
  next(): string | undefined {
    return this.#args[this.#i++];
  }
  /** strcmpx: the word is a prefix of the keyword. */
  match(keyword: string): boolean {
    const w = this.cur;
    return w !== undefined && w.length <= keyword.length && keyword.startsWith(w);
  }
}

export type Opt =
  | 'handle'
  | 'handlep'
  | 'mode'
  | 'name'
  | 'value'
  | 'cmode'
  | 'hwAddr'
  | 'state'
  | 'caps'
  | 'flavour'
  | 'pfnum'
  | 'sfnum'
  | 'controller';

export interface DlOpts {
  bus?: string;
  dev?: string;
  portIndex?: number;
  eswitchMode?: number;
  paramName?: string;
  paramValue?: string;
  cmode?: number;
  hwAddr?: Uint8Array;
  fnState?: number;
  caps?: { value: number; selector: number };
  flavour?: number;
  pfnum?: number;
  sfnum?: number;
  controller?: number;
  readonly present: Set<Opt>;
}

/** dl_args_required, in the tool's order. */
const REQUIRED_MESSAGES: ReadonlyArray<readonly [Opt, string]> = [
  ['mode', 'E-Switch mode option expected.'],
  ['name', 'Parameter name expected.'],
  ['value', 'Value to set expected.'],
  ['cmode', 'Configuration mode expected.'],
  ['hwAddr', "Port function's hardware address is expected."],
  ['flavour', 'Port flavour is expected.'],
  ['pfnum', 'Port PCI PF number is expected.'],
];

const FLAVOURS: Record<string, number> = {
  physical: dl.DEVLINK_PORT_FLAVOUR_PHYSICAL,
  cpu: dl.DEVLINK_PORT_FLAVOUR_CPU,
  dsa: dl.DEVLINK_PORT_FLAVOUR_DSA,
  pcipf: dl.DEVLINK_PORT_FLAVOUR_PCI_PF,
  pcivf: dl.DEVLINK_PORT_FLAVOUR_PCI_VF,
  pcisf: dl.DEVLINK_PORT_FLAVOUR_PCI_SF,
  virtual: dl.DEVLINK_PORT_FLAVOUR_VIRTUAL,
};

function slashes(s: string): number {
  return s.split('/').length - 1;
}

/** strtoul-based parsers: decimal, whole string, within the width. */
function uint(text: string, max: number): number | undefined {
  if (!/^\s*[+]?\d+$/.test(text)) return undefined;
  const v = Number(text.trim());
  return Number.isSafeInteger(v) && v <= max ? v : undefined;
}

function argUint(a: Argv, max: number): number {
  const s = a.next();
  if (s === undefined) throw new ArgError('Unsigned number argument expected');
  const v = uint(s, max);
  if (v === undefined) throw new ArgError(`"${s}" is not a number or not within range`);
  return v;
}

function argStr(a: Argv): string {
  const s = a.next();
  if (s === undefined) throw new ArgError('String parameter expected');
  return s;
}

function splitPort(str: string, o: DlOpts): void {
  const cut = str.lastIndexOf('/');
  const portText = str.slice(cut + 1);
  const index = uint(portText, 0xffffffff);
  if (index === undefined) throw new ArgError(`Port index "${portText}" is not a number or not within range`);
  const handle = str.slice(0, cut);
  const cut2 = handle.lastIndexOf('/');
  o.bus = handle.slice(0, cut2);
  o.dev = handle.slice(cut2 + 1);
  o.portIndex = index;
}

function splitDev(str: string, o: DlOpts): void {
  const cut = str.lastIndexOf('/');
  o.bus = str.slice(0, cut);
  o.dev = str.slice(cut + 1);
}

function parseHandle(a: Argv, want: 'handle' | 'handlep' | 'both', o: DlOpts): 'handle' | 'handlep' {
  const str = a.next();
  const portExpected = 'Port identification ("bus_name/dev_name/port_index" or "netdev ifname") expected.';
  if (str === undefined) {
    if (want === 'handle') throw new ArgError('Devlink identification ("bus_name/dev_name") expected');
    if (want === 'handlep') throw new ArgError(portExpected);
    throw new ArgError(
      'One of following identifications expected:',
      'Devlink identification ("bus_name/dev_name")',
      'Port identification ("bus_name/dev_name/port_index" or "netdev ifname")',
    );
  }
  const n = slashes(str);
  if (want === 'handle') {
    if (n !== 1)
      throw new ArgError('Wrong devlink identification string format.', 'Expected "bus_name/dev_name".');
    splitDev(str, o);
    return 'handle';
  }
  if (n === 0) throw new ArgError(`Netdevice "${str}" not found`);
  if (want === 'both' && n === 1) {
    splitDev(str, o);
    return 'handle';
  }
  if (n !== 2) {
    throw new ArgError(
      'Wrong port identification string format.',
      want === 'both'
        ? 'Expected "bus_name/dev_name" or "bus_name/dev_name/port_index" or "netdev_ifname".'
        : 'Expected "bus_name/dev_name/port_index" or "netdev_ifname".',
    );
  }
  splitPort(str, o);
  return 'handlep';
}

function capsOpt(a: Argv, o: DlOpts, bit: number): void {
  a.inc();
  const s = argStr(a);
  // The tool looks the word up in its enable/disable map and fails without a message otherwise.
  if (s !== 'enable' && s !== 'disable') throw new ArgError();
  const caps = o.caps ?? { value: 0, selector: 0 };
  caps.selector |= bit;
  if (s === 'enable') caps.value |= bit;
  else caps.value &= ~bit;
  o.caps = caps;
}

/** dl_argv_parse for the options this tool models. */
export function parseOpts(a: Argv, required: readonly Opt[], optional: readonly Opt[] = []): DlOpts {
  const o: DlOpts = { present: new Set() };
  const all = new Set<Opt>([...required, ...optional]);
  const need = new Set(required);
  if (need.has('handle') && need.has('handlep')) {
    const got = parseHandle(a, 'both', o);
    need.delete(got === 'handle' ? 'handlep' : 'handle');
    o.present.add(got);
  } else if (need.has('handle')) o.present.add(parseHandle(a, 'handle', o));
  else if (need.has('handlep')) o.present.add(parseHandle(a, 'handlep', o));

  while (a.argc > 0) {
    const key = (k: string, opt: Opt) => a.match(k) && all.has(opt);
    if (key('mode', 'mode')) {
      a.inc();
      const s = argStr(a);
      if (s === 'legacy') o.eswitchMode = dl.DEVLINK_ESWITCH_MODE_LEGACY;
      else if (s === 'switchdev') o.eswitchMode = dl.DEVLINK_ESWITCH_MODE_SWITCHDEV;
      else throw new ArgError(`Unknown eswitch mode "${s}"`);
      o.present.add('mode');
    } else if (key('name', 'name')) {
      a.inc();
      o.paramName = argStr(a);
      o.present.add('name');
    } else if (key('value', 'value')) {
      a.inc();
      o.paramValue = argStr(a);
      o.present.add('value');
    } else if (key('cmode', 'cmode')) {
      a.inc();
      const s = argStr(a);
      const cmodes: Record<string, number> = {
        runtime: dl.DEVLINK_PARAM_CMODE_RUNTIME,
        driverinit: dl.DEVLINK_PARAM_CMODE_DRIVERINIT,
        permanent: dl.DEVLINK_PARAM_CMODE_PERMANENT,
      };
      if (!(s in cmodes)) throw new ArgError(`Unknown configuration mode "${s}"`);
      o.cmode = cmodes[s];
      o.present.add('cmode');
    } else if (key('hw_addr', 'hwAddr')) {
      a.inc();
      const mac = parseHwAddr(argStr(a), dl.MAX_ADDR_LEN);
      if (!(mac instanceof Uint8Array)) throw new ArgError(INVALID_LLADDR(mac.bad));
      o.hwAddr = mac;
      o.present.add('hwAddr');
    } else if (key('state', 'state')) {
      a.inc();
      const s = argStr(a);
      if (s === 'active') o.fnState = dl.DEVLINK_PORT_FN_STATE_ACTIVE;
      else if (s === 'inactive') o.fnState = dl.DEVLINK_PORT_FN_STATE_INACTIVE;
      else throw new ArgError();
      o.present.add('state');
    } else if (key('roce', 'caps')) {
      capsOpt(a, o, dl.DEVLINK_PORT_FN_CAP_ROCE);
      o.present.add('caps');
    } else if (key('migratable', 'caps')) {
      capsOpt(a, o, dl.DEVLINK_PORT_FN_CAP_MIGRATABLE);
      o.present.add('caps');
    } else if (key('flavour', 'flavour')) {
      a.inc();
      const s = argStr(a);
      const f = FLAVOURS[s];
      if (f === undefined) throw new ArgError();
      o.flavour = f;
      o.present.add('flavour');
    } else if (key('pfnum', 'pfnum')) {
      a.inc();
      o.pfnum = argUint(a, 0xffff);
      o.present.add('pfnum');
    } else if (key('sfnum', 'sfnum')) {
      a.inc();
      o.sfnum = argUint(a, 0xffffffff);
      o.present.add('sfnum');
    } else if (key('controller', 'controller')) {
      a.inc();
      o.controller = argUint(a, 0xffffffff);
      o.present.add('controller');
    } else {
      throw new ArgError(`Unknown option "${a.cur}"`);
    }
  }
  for (const [opt, msg] of REQUIRED_MESSAGES)
    if (need.has(opt) && !o.present.has(opt)) throw new ArgError(msg);
  return o;
}
