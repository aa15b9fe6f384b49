/**
 * `tcpdump -i nlmon0 -w FILE [-c N]` and `kill`: netlink capture from an nlmon device to a pcap file,
 * as tcpdump (4.99, libpcap 1.10) does it, with its messages: "listening on nlmon0, link-type NETLINK
 * (Linux netlink), snapshot length 262144 bytes" when it starts, and "N packets captured / received by
 * filter / dropped by kernel" when it ends.
 *
 * SPEC-DEVIATION: the shell has no job control and never blocks, so every capture runs in the
 * background (a trailing `&` is accepted and changes nothing): it records while the following command
 * lines run, until `-c N` messages were written, `kill %JOB` / `kill PID` stops it, or the shell ends.
 * Each record is written as the message crosses (tcpdump -U behaviour), so the file is complete at any
 * time. The end-of-capture statistics of a capture that `-c` ended are printed on stderr by the next
 * `tcpdump` or `kill` command, as bash reports a finished background job at its next chance. FILE is a
 * file on the machine running vfiolab (like `lspci -F`), not in the modeled /sys tree.
 *
 * Errors as tcpdump gives them: a missing interface "tcpdump: X: No such device exists", a down one
 * "tcpdump: X: That device is not up", printing packets instead of writing them (no -w) "packet
 * printing is not supported for link type NETLINK: use -w" (tcpdump has no netlink printer), a file
 * that cannot be created "tcpdump: FILE: <strerror>"; status 1. Left out: -r, filters, other link types.
 */
import { isLabError } from '../../base/index.js';
import type { NetDevices } from '../../kernel/net/index.js';
import { NlmonDevice } from '../../kernel/netlink/index.js';
import { type CaptureFiles, fileSink, NetlinkPcapWriter, PCAP_DEFAULT_SNAPLEN } from '../pcap/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';

/** The first PID handed to a background capture (deterministic; no real process is started). */
const FIRST_PID = 4000;

interface Capture {
  readonly job: number;
  readonly pid: number;
  readonly writer: NetlinkPcapWriter;
  unbind: (() => void) | undefined;
}

/** Background captures of one shell. */
class Captures {
  readonly running: Capture[] = [];
  #pending = '';
  #nextPid = FIRST_PID;

  nextPid(): number {
    return this.#nextPid++;
  }

  nextJob(): number {
    return this.running.reduce((m, c) => Math.max(m, c.job), 0) + 1;
  }

  /** End a capture; its statistics go to `io`, or wait for the next command when there is none. */
  finish(c: Capture, io: CommandIo | undefined): void {
    c.unbind?.();
    c.unbind = undefined;
    const at = this.running.indexOf(c);
    if (at >= 0) this.running.splice(at, 1);
    const n = c.writer.packets;
    const s = (k: number): string => (k === 1 ? '' : 's');
    const text =
      `${n} packet${s(n)} captured\n${n} packet${s(n)} received by filter\n` +
      '0 packets dropped by kernel\n';
    if (io === undefined) this.#pending += text;
    else io.err(text);
  }

  /** End a capture whose file could not be written; the error waits for the next command. */
  fail(c: Capture, message: string): void {
    c.unbind?.();
    c.unbind = undefined;
    const at = this.running.indexOf(c);
    if (at >= 0) this.running.splice(at, 1);
    this.#pending += message;
  }

  flushPending(io: CommandIo): void {
    if (this.#pending !== '') io.err(this.#pending);
    this.#pending = '';
  }
}

interface TcpdumpArgs {
  iface: string | undefined;
  file: string | undefined;
  count: number | undefined;
  snaplen: number;
}

/** getopt-style parsing of the options this model takes; undefined after printing an error. */
function parseArgs(args: readonly string[], io: CommandIo): TcpdumpArgs | undefined {
  const o: TcpdumpArgs = {
    iface: undefined,
    file: undefined,
    count: undefined,
    snaplen: PCAP_DEFAULT_SNAPLEN,
  };
  const words = args.at(-1) === '&' ? args.slice(0, -1) : args;
  for (let i = 0; i < words.length; i++) {
    const a = words[i]!;
    const long = /^--(interface|count|snapshot-length)=(.*)$/.exec(a);
    const opt = long !== null ? { interface: 'i', count: 'c', 'snapshot-length': 's' }[long[1]!]! : a;
    const withValue = /^-([iwcs])(.*)$/.exec(long !== null ? `-${opt}` : a);
    if (withValue !== null) {
      const flag = withValue[1]!;
      const value = long !== null ? long[2]! : withValue[2] !== '' ? withValue[2] : words[++i];
      if (value === undefined) {
        io.err(`tcpdump: option requires an argument -- '${flag}'\n`);
        return undefined;
      }
      if (flag === 'i') o.iface = value;
      else if (flag === 'w') o.file = value;
      else if (flag === 'c') {
        if (!/^\d+$/.test(value) || Number(value) < 1) {
          io.err(`tcpdump: invalid packet count ${value}\n`);
          return undefined;
        }
        o.count = Number(value);
      } else {
        if (!/^\d+$/.test(value) || Number(value) > PCAP_DEFAULT_SNAPLEN) {
          io.err(`tcpdump: invalid snaplen ${value}\n`);
          return undefined;
        }
        o.snaplen = Number(value) === 0 ? PCAP_DEFAULT_SNAPLEN : Number(value);
      }
    } else if (a === '-U' || a === '-n' || a === '-nn' || a === '-q' || a === '--packet-buffered') {
      // Output and name-resolution options change nothing for a -w capture.
    } else if (a.startsWith('-')) {
      io.err(`tcpdump: invalid option -- '${a.replace(/^-+/, '').charAt(0)}'\n`);
      return undefined;
    } else {
      io.err('tcpdump: filter expressions are not supported by this model\n');
      return undefined;
    }
  }
  return o;
}

export type TcpdumpFiles = CaptureFiles;

function startCapture(
  links: NetDevices,
  files: TcpdumpFiles | undefined,
  captures: Captures,
  o: TcpdumpArgs,
  io: CommandIo,
): number {
  const ifaceName = o.iface ?? links.links.find((l) => l.kind !== 'loopback' && l.up)?.name;
  if (ifaceName === undefined) {
    io.err('tcpdump: no suitable device found\n');
    return 1;
  }
  const link = links.byName(ifaceName);
  if (link === undefined) {
    io.err(`tcpdump: ${ifaceName}: No such device exists\n(No such device exists)\n`);
    return 1;
  }
  if (!(link instanceof NlmonDevice)) {
    io.err(`tcpdump: ${ifaceName}: capturing on this link is not modeled (only nlmon links)\n`);
    return 1;
  }
  if (!link.up) {
    io.err(`tcpdump: ${ifaceName}: That device is not up\n`);
    return 1;
  }
  if (o.file === undefined) {
    io.err('tcpdump: packet printing is not supported for link type NETLINK: use -w\n');
    return 1;
  }
  if (files === undefined) {
    io.err(`tcpdump: ${o.file}: Read-only file system\n`);
    return 1;
  }
  let writer: NetlinkPcapWriter;
  const path = o.file;
  try {
    writer = new NetlinkPcapWriter(fileSink(files, path), o.snaplen);
  } catch (e) {
    if (!isLabError(e)) throw e;
    io.err(`tcpdump: ${e.message}\n`);
    return 1;
  }
  const capture: Capture = { job: captures.nextJob(), pid: captures.nextPid(), writer, unbind: undefined };
  captures.running.push(capture);
  io.err(
    `tcpdump: listening on ${ifaceName}, link-type NETLINK (Linux netlink), snapshot length ${o.snaplen} bytes\n`,
  );
  capture.unbind = link.bindPacketSocket((p) => {
    if (capture.unbind === undefined) return;
    try {
      writer.write(p);
    } catch (e) {
      // A write that fails mid-capture ends tcpdump (pcap_dump's error), never the kernel's send.
      if (!isLabError(e)) throw e;
      captures.fail(capture, `tcpdump: ${e.message}\n`);
      return;
    }
    if (o.count !== undefined && writer.packets >= o.count) captures.finish(capture, undefined);
  });
  return 0;
}

/** bash's `kill` for the captures: `kill [-SIG | -s SIG] %JOB | PID ...`. */
function kill(captures: Captures, args: readonly string[], io: CommandIo): number {
  let signal = 'TERM';
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-s' || a === '-n') {
      const v = args[++i];
      if (v === undefined) {
        io.err(`vfiolab: kill: ${a}: option requires an argument\n`);
        return 2;
      }
      signal = v.replace(/^SIG/, '');
    } else if (/^-[A-Z]+$|^-\d+$/.test(a)) {
      signal = a.slice(1).replace(/^SIG/, '');
    } else {
      targets.push(a);
    }
  }
  if (targets.length === 0) {
    io.err('kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n');
    return 2;
  }
  let status = 0;
  for (const t of targets) {
    const job = /^%(\d+)$/.exec(t);
    const c = job !== null ? captures.running.find((x) => x.job === Number(job[1])) : undefined;
    const byPid = /^\d+$/.test(t) ? captures.running.find((x) => x.pid === Number(t)) : undefined;
    const found = t === '%%' || t === '%+' ? captures.running.at(-1) : (c ?? byPid);
    if (found === undefined) {
      io.err(
        job !== null || t.startsWith('%')
          ? `vfiolab: kill: ${t}: no such job\n`
          : `vfiolab: kill: (${t}) - No such process\n`,
      );
      status = 1;
      continue;
    }
    // SIGKILL ends tcpdump before it can print its statistics.
    if (signal === 'KILL' || signal === '9') {
      found.unbind?.();
      found.unbind = undefined;
      captures.running.splice(captures.running.indexOf(found), 1);
    } else {
      captures.finish(found, io);
    }
  }
  return status;
}

/** The `tcpdump` and `kill` commands of one shell, sharing its background captures. */
export function tcpdumpCommands(links: NetDevices, files: TcpdumpFiles | undefined): ShellCommand[] {
  const captures = new Captures();
  return [
    {
      name: 'tcpdump',
      summary:
        'tcpdump -i nlmon0 -w FILE [-c N]: capture netlink messages to a pcap file (in the background)',
      run(args, io) {
        captures.flushPending(io);
        const o = parseArgs(args, io);
        if (o === undefined) return 1;
        return startCapture(links, files, captures, o, io);
      },
    },
    {
      name: 'kill',
      summary: 'kill %JOB | PID: stop a background tcpdump',
      run(args, io) {
        captures.flushPending(io);
        return kill(captures, args, io);
      },
    },
  ];
}
