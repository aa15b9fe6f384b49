/**
 * The host shell: one modeled host, commands people type on real Linux, one line at a time. Built-ins
 * are `help`, `exit [N]` and `time CMD` (modeled and wall time of CMD, labelled); other commands come
 * from the command table. Errors answer as a shell would — `vfiolab: foo: command not found` with
 * status 127, usage lines with status 2 — and the shell keeps running.
 */
import { formatNs, isLabError } from '../../base/index.js';
import type { Host } from '../host/host.js';
import type { CommandIo, ShellCommand } from './command.js';
import { tokenize } from './tokenize.js';

export interface ShellEnv {
  readonly host: Host;
  /** Wall-clock nanoseconds (monotonic), from the platform. */
  wallNowNs(): number;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
  /** Set when the line asked the shell to exit, with the exit status. */
  readonly exit?: number;
}

const PROGRAM = 'vfiolab';

/** bash's `time` style: `0m0.100000s`; modeled time keeps microseconds, wall time milliseconds. */
function minutesSeconds(ns: number, digits: number): string {
  const totalS = ns / 1e9;
  const m = Math.floor(totalS / 60);
  return `${m}m${(totalS - m * 60).toFixed(digits)}s`;
}

export class Shell {
  readonly env: ShellEnv;
  readonly #commands = new Map<string, ShellCommand>();
  #lastStatus = 0;

  constructor(env: ShellEnv, commands: readonly ShellCommand[]) {
    this.env = env;
    for (const c of commands) this.#commands.set(c.name, c);
  }

  get prompt(): string {
    return `root@${this.env.host.name}:~# `;
  }

  get lastStatus(): number {
    return this.#lastStatus;
  }

  get commandNames(): string[] {
    return ['exit', 'help', 'time', ...this.#commands.keys()].sort();
  }

  execute(line: string): ExecResult {
    let out = '';
    let err = '';
    const io: CommandIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
    let exit: number | undefined;
    let status: number;
    try {
      const parsed = tokenize(line);
      if (parsed.words.length === 0) return { stdout: '', stderr: '', status: this.#lastStatus };
      if (parsed.redirect !== undefined) {
        // Files to redirect into (sysfs) arrive with the kernel's sysfs tree.
        io.err(`${PROGRAM}: ${parsed.redirect.path}: No such file or directory\n`);
        status = 1;
      } else if (parsed.words[0] === 'exit') {
        const arg = parsed.words[1];
        if (arg !== undefined && !/^-?\d+$/.test(arg)) {
          io.err(`${PROGRAM}: exit: ${arg}: numeric argument required\n`);
          exit = 2;
        } else {
          exit = arg === undefined ? this.#lastStatus : Number(arg) & 0xff;
        }
        status = exit;
      } else {
        status = this.#run(parsed.words, io);
      }
    } catch (e) {
      io.err(`${PROGRAM}: ${isLabError(e) ? e.message : String(e)}\n`);
      status = 1;
    }
    this.#lastStatus = status;
    return exit === undefined ? { stdout: out, stderr: err, status } : { stdout: out, stderr: err, status, exit };
  }

  #run(words: readonly string[], io: CommandIo): number {
    const [name, ...args] = words as [string, ...string[]];
    if (name === 'help') return this.#help(args, io);
    if (name === 'time') return this.#time(args, io);
    const cmd = this.#commands.get(name);
    if (cmd === undefined) {
      io.err(`${PROGRAM}: ${name}: command not found\n`);
      return 127;
    }
    try {
      return cmd.run(args, io);
    } catch (e) {
      if (!isLabError(e)) throw e;
      io.err(`${name}: ${e.message}\n`);
      return 1;
    }
  }

  #help(args: readonly string[], io: CommandIo): number {
    if (args.length > 0) {
      const c = this.#commands.get(args[0]!);
      if (c === undefined) {
        io.err(`${PROGRAM}: help: no help topics match \`${args[0]}'.\n`);
        return 1;
      }
      io.out(`${c.name}: ${c.summary}\n`);
      return 0;
    }
    const rows: [string, string][] = [
      ['exit [N]', 'leave the shell with status N'],
      ['help [CMD]', 'list commands, or describe one'],
      ['time CMD', 'run CMD and print its modeled time and wall time'],
      ...[...this.#commands.values()].map((c): [string, string] => [c.name, c.summary]),
    ];
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    const width = Math.max(...rows.map((r) => r[0].length));
    io.out(`Commands on modeled host ${this.env.host.name}:\n`);
    for (const [n, s] of rows) io.out(`  ${n.padEnd(width)}  ${s}\n`);
    return 0;
  }

  #time(args: readonly string[], io: CommandIo): number {
    const modeled0 = this.env.host.clock.nowNs;
    const wall0 = this.env.wallNowNs();
    const status = args.length === 0 ? 0 : this.#run(args, io);
    const modeled = this.env.host.clock.nowNs - modeled0;
    const wall = this.env.wallNowNs() - wall0;
    io.err(`\nmodeled ${minutesSeconds(modeled, 6)}  (${formatNs(modeled)} on ${this.env.host.name}'s virtual clock)\n`);
    io.err(`wall    ${minutesSeconds(wall, 3)}\n`);
    return status;
  }
}
