/**
 * `ip link` (iproute2) on the kernel's net device list: add (type nlmon), set up|down, delete, show,
 * with iproute2's output format and its error texts and exit statuses: RTNETLINK errors print
 * "RTNETLINK answers: <strerror>" (status 2), extended-ack messages "Error: <msg>." (status 2), a missing
 * device "Cannot find device \"X\"" (set, delete) or "Device \"X\" does not exist." (show), status 1.
 * Objects and subcommands match by prefix as iproute2's matches() does (`ip l s`, `ip li sh`).
 *
 * Left out: every object but link; -s/-d/-j/-br; link attributes other than name and type (mtu,
 * address, master, netns, ...); NO-CARRIER (no modeled link loses carrier). See kernel/net for what
 * the list models.
 */
import { isLabError } from '../../base/index.js';
import type { NetDevices, NetLink, OperState } from '../../kernel/net/index.js';
import { ERRNO_MESSAGE, netdev } from '../../spec/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';

/** iproute2's matches(): `arg` is a non-empty prefix of `word`. */
function matches(arg: string, word: string): boolean {
  return arg.length > 0 && word.startsWith(arg);
}

/** print_link_flags order, for the flags this model has. */
const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [netdev.IFF_LOOPBACK, 'LOOPBACK'],
  [netdev.IFF_BROADCAST, 'BROADCAST'],
  [netdev.IFF_MULTICAST, 'MULTICAST'],
  [netdev.IFF_NOARP, 'NOARP'],
  [netdev.IFF_UP, 'UP'],
  [netdev.IFF_LOWER_UP, 'LOWER_UP'],
];

/** iproute2's oper_states[] names of the states the model's links take. */
const OPER_STATE_NAMES: Readonly<Record<OperState, string>> = {
  [netdev.IF_OPER_UNKNOWN]: 'UNKNOWN',
  [netdev.IF_OPER_DOWN]: 'DOWN',
  [netdev.IF_OPER_UP]: 'UP',
};

/** ll_addr_n2a: colon-separated lowercase hex. */
function hwAddr(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The link/TYPE line: ll_type_n2a's name, then IFLA_ADDRESS and IFLA_BROADCAST when the type has them. */
function linkLine(l: NetLink): string {
  switch (l.kind) {
    case 'loopback':
      return '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
    case 'ether':
      return `    link/ether ${hwAddr(l.mac)} brd ${hwAddr(l.broadcast)}\n`;
    case 'nlmon':
      // No IFLA_ADDRESS for an address length of 0: iproute2 leaves the trailing blank after the type.
      return '    link/netlink \n';
  }
}

/** One link as `ip link show` prints it. */
export function formatLink(l: NetLink): string {
  const flags = FLAG_NAMES.filter(([bit]) => (l.flags & bit) !== 0).map(([, n]) => n);
  return (
    `${l.ifindex}: ${l.name}: <${flags.join(',')}> mtu ${l.mtu} qdisc ${l.qdisc} ` +
    `state ${OPER_STATE_NAMES[l.operstate]} mode DEFAULT group default qlen ${l.txQueueLen}\n${linkLine(l)}`
  );
}

/** The RTNETLINK / extack error lines and status of a failed link request. */
function rtnlError(e: unknown, io: CommandIo): number {
  if (!isLabError(e) || e.errno === undefined) throw e;
  io.err(`RTNETLINK answers: ${ERRNO_MESSAGE[e.errno]}\n`);
  return 2;
}

function linkAdd(links: NetDevices, args: readonly string[], io: CommandIo): number {
  let name: string | undefined;
  let type: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'type') {
      type = args[++i];
      if (type === undefined) {
        io.err('Command line is not complete. Try option "help"\n');
        return 255;
      }
      // Everything after `type KIND` belongs to the kind's own parser; nlmon takes no options.
      if (i + 1 < args.length) {
        io.err(`Garbage instead of arguments "${args[i + 1]}". Try "ip link help".\n`);
        return 255;
      }
    } else if (a === 'name' || a === 'dev') {
      const v = args[++i];
      if (v === undefined) {
        io.err('Command line is not complete. Try option "help"\n');
        return 255;
      }
      name = v;
    } else if (name === undefined) {
      name = a;
    } else {
      io.err(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`);
      return 255;
    }
  }
  if (name !== undefined && name.length > 15) {
    io.err(`Error: argument "${name}" is wrong: "name" not a valid ifname\n`);
    return 255;
  }
  // No IFLA_INFO_KIND: rtnl_newlink has no ops to create with.
  if (type === undefined) {
    io.err('RTNETLINK answers: Operation not supported\n');
    return 2;
  }
  if (!links.hasLinkKind(type)) {
    io.err('Error: Unknown device type.\n');
    return 2;
  }
  try {
    links.newLink(type, name);
    return 0;
  } catch (e) {
    return rtnlError(e, io);
  }
}

/** The device argument of set/delete: `dev NAME` or a bare NAME; undefined after printing an error. */
function deviceArg(
  args: readonly string[],
  io: CommandIo,
): { dev: string | undefined; rest: string[] } | undefined {
  let dev: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === 'dev') {
      const v = args[++i];
      if (v === undefined) {
        io.err('Command line is not complete. Try option "help"\n');
        return undefined;
      }
      dev = v;
    } else if (a === 'up' || a === 'down') {
      rest.push(a);
    } else if (dev === undefined) {
      dev = a;
    } else {
      io.err(`Error: either "dev" is duplicate, or "${a}" is a garbage.\n`);
      return undefined;
    }
  }
  return { dev, rest };
}

function linkSet(links: NetDevices, args: readonly string[], io: CommandIo): number {
  const parsed = deviceArg(args, io);
  if (parsed === undefined) return 255;
  const { dev, rest } = parsed;
  if (dev === undefined) {
    io.err('Not enough information: "dev" argument is required.\n');
    return 255;
  }
  if (links.byName(dev) === undefined) {
    io.err(`Cannot find device "${dev}"\n`);
    return 1;
  }
  try {
    for (const r of rest) links.setUp(dev, r === 'up');
    return 0;
  } catch (e) {
    return rtnlError(e, io);
  }
}

function linkDelete(links: NetDevices, args: readonly string[], io: CommandIo): number {
  const parsed = deviceArg(args, io);
  if (parsed === undefined) return 255;
  const { dev, rest } = parsed;
  if (rest.length > 0) {
    io.err(`Error: either "dev" is duplicate, or "${rest[0]}" is a garbage.\n`);
    return 255;
  }
  if (dev === undefined) {
    io.err('Not enough information: "dev" argument is required.\n');
    return 255;
  }
  if (links.byName(dev) === undefined) {
    io.err(`Cannot find device "${dev}"\n`);
    return 1;
  }
  try {
    links.delete(dev);
    return 0;
  } catch (e) {
    return rtnlError(e, io);
  }
}

function linkShow(links: NetDevices, args: readonly string[], io: CommandIo): number {
  let dev: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = a === 'dev' ? args[++i] : a;
    if (v === undefined) {
      io.err('Command line is not complete. Try option "help"\n');
      return 255;
    }
    if (dev !== undefined) {
      io.err(`Error: either "dev" is duplicate, or "${v}" is a garbage.\n`);
      return 255;
    }
    dev = v;
  }
  if (dev === undefined) {
    for (const l of links.links) io.out(formatLink(l));
    return 0;
  }
  const l = links.byName(dev);
  if (l === undefined) {
    io.err(`Device "${dev}" does not exist.\n`);
    return 1;
  }
  io.out(formatLink(l));
  return 0;
}

export function ipCommand(links: NetDevices): ShellCommand {
  return {
    name: 'ip',
    summary: 'ip link add NAME type nlmon | set DEV up|down | delete DEV | show [DEV] (iproute2)',
    run(args, io) {
      const [object, sub, ...rest] = args;
      if (object === undefined) {
        io.err('Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n       where  OBJECT := { link }\n');
        return 255;
      }
      if (!matches(object, 'link')) {
        io.err(`Object "${object}" is unknown, try "ip help".\n`);
        return 1;
      }
      if (sub === undefined || matches(sub, 'show') || matches(sub, 'list') || sub === 'lst')
        return linkShow(links, rest, io);
      if (matches(sub, 'add')) return linkAdd(links, rest, io);
      if (matches(sub, 'set')) return linkSet(links, rest, io);
      if (matches(sub, 'delete')) return linkDelete(links, rest, io);
      io.err(`Command "${sub}" is unknown, try "ip link help".\n`);
      return 255;
    },
  };
}
