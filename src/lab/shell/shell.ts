/**
 * The host shell: one modeled host, commands people type on real Linux, one line at a time. Built-ins
 * are `help`, `exit [N]` and `time CMD` (modeled and wall time of CMD, labelled), and with a file tree
 * `cd` and `pwd`; other commands come from the command table. Errors answer as a shell would —
 * `vfiolab: foo: command not found` with status 127, usage lines with status 2 — and the shell keeps
 * running.
 *
 * Redirects (`> PATH`, `>> PATH`) work as bash does them: the file is opened first (O_CREAT, so a name
 * sysfs does not have fails with EACCES) and an open failure prints `vfiolab: PATH: <strerror>` and skips
 * the command; the command's stdout is collected and written with one write (sysfs hands a write to the
 * attribute's store, so one command line is one store); a store error prints the writer's own
 * `write error` line.
 *
 * The working directory is kept twice, as bash does: `pwd` is the logical path that `cd` built (through
 * symlinks), `cwd` the physical one the kernel resolves relative paths from, so `ls ..` inside
 * /sys/bus/pci/devices/0000:01:00.0 lists the PCI parent directory, while `cd ..` goes back to devices.
 */
import { errnoError, formatNs, isLabError } from '../../base/index.js';
import type { Sysfs, SysfsFile } from '../../kernel/sysfs/index.js';
import { ERRNO_MESSAGE, type ErrnoName } from '../../spec/index.js';
import type { Host } from '../host/host.js';
import type { CommandIo, ShellCommand } from './command.js';
import { type StderrTarget, tokenize } from './tokenize.js';

export interface ShellEnv {
  readonly host: Host;
  /** Wall-clock nanoseconds (monotonic), from the platform. */
  wallNowNs(): number;
  /** The host's file tree (`/` with /sys in it). Without it there is no `cd`/`pwd` and redirects fail. */
  readonly fs?: Sysfs;
  /** Runs after each command line (the kernel lets udev handle queued events: module autoload). */
  settle?(): void;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
  /** Set when the line asked the shell to exit, with the exit status. */
  readonly exit?: number;
}

const PROGRAM = 'vfiolab';
/** The one file outside the modeled tree the shell knows: writes vanish. */
const DEV_NULL = '/dev/null';

/** A command's IO with its stderr sent where `2>` said. */
function withStderr(io: CommandIo, to: StderrTarget | undefined): CommandIo {
  if (to === undefined) return io;
  return { ...io, err: to === 'stdout' ? io.out : () => {} };
}
/** root's home directory: where `cd` without an argument goes, and what the prompt shows as `~`. */
const HOME = '/root';
/** Commands bash runs itself; their own errors and write errors are prefixed with the shell's name. */
const BASH_BUILTINS: ReadonlySet<string> = new Set(['cd', 'echo', 'exit', 'help', 'pwd', 'time']);
/**
 * What a program does when its redirected stdout cannot be written, where it differs from coreutils'
 * usual `NAME: write error: <strerror>` with status 1: ls exits LS_FAILURE (2) from close_stdout; lspci
 * (pciutils) never checks its stdout and exits 0 in silence.
 */
const WRITE_ERROR_STATUS: Readonly<Record<string, number | 'ignored'>> = { ls: 2, lspci: 'ignored' };

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
  #pwd = '/';
  #cwd = '/';
  #oldPwd: string | undefined;

  constructor(env: ShellEnv, commands: readonly ShellCommand[]) {
    this.env = env;
    for (const c of commands) this.#commands.set(c.name, c);
  }

  get prompt(): string {
    return `root@${this.env.host.name}:${this.#promptDir()}# `;
  }

  /** The logical working directory (`pwd`, $PWD). */
  get pwd(): string {
    return this.#pwd;
  }

  /** The physical working directory: where relative paths of commands start. */
  get cwd(): string {
    return this.#cwd;
  }

  /** An argument path made absolute against the physical working directory, as the kernel does. */
  absolutePath(path: string): string {
    if (path === '' || path.startsWith('/')) return path;
    return this.#cwd === '/' ? `/${path}` : `${this.#cwd}/${path}`;
  }

  get lastStatus(): number {
    return this.#lastStatus;
  }

  get commandNames(): string[] {
    const fsBuiltins = this.env.fs === undefined ? [] : ['cd', 'pwd'];
    return ['exit', 'help', 'time', ...fsBuiltins, ...this.#commands.keys()].sort();
  }

  execute(line: string): ExecResult {
    let out = '';
    let err = '';
    const io: CommandIo = {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    };
    let exit: number | undefined;
    let status: number;
    let timing: { modeled0: number; wall0: number } | undefined;
    try {
      const parsed = tokenize(line);
      const { redirect } = parsed;
      let { words } = parsed;
      // `time` is a keyword in bash: it times the whole line, redirections included.
      if (words[0] === 'time') {
        timing = { modeled0: this.env.host.clock.nowNs, wall0: this.env.wallNowNs() };
        words = words.slice(1);
      }
      if (words.length === 0 && redirect === undefined && timing === undefined)
        return { stdout: '', stderr: '', status: this.#lastStatus };
      let file: SysfsFile | undefined;
      const toNull = redirect?.path === DEV_NULL;
      if (redirect !== undefined && !toNull) {
        const opened = this.#openRedirect(redirect.path, io);
        if (opened === undefined) {
          this.#lastStatus = 1;
          return { stdout: out, stderr: err, status: 1 };
        }
        file = opened;
      }
      let captured = '';
      const collect = (t: string): void => {
        captured += t;
      };
      const lineIo: CommandIo =
        file === undefined && !toNull ? io : { out: toNull ? () => {} : collect, err: io.err };
      if (words.length === 0) {
        status = 0;
      } else if (parsed.pipeline.length > 1) {
        status = this.#pipeline([words, ...parsed.pipeline.slice(1)], parsed.stderrTo, lineIo);
      } else if (words[0] === 'exit') {
        exit = this.#exit(words[1], withStderr(lineIo, parsed.stderrTo[0]));
        status = exit;
      } else {
        status = this.#run(words, withStderr(lineIo, parsed.stderrTo[0]));
      }
      if (file !== undefined && captured !== '')
        status = this.#writeRedirect(file, captured, words, status, io);
    } catch (e) {
      io.err(`${PROGRAM}: ${isLabError(e) ? e.message : String(e)}\n`);
      status = 1;
    }
    this.env.settle?.();
    if (timing !== undefined) this.#timeReport(timing, io);
    this.#lastStatus = status;
    return exit === undefined
      ? { stdout: out, stderr: err, status }
      : { stdout: out, stderr: err, status, exit };
  }

  #exit(arg: string | undefined, io: CommandIo): number {
    if (arg !== undefined && !/^-?\d+$/.test(arg)) {
      io.err(`${PROGRAM}: exit: ${arg}: numeric argument required\n`);
      return 2;
    }
    return arg === undefined ? this.#lastStatus : Number(arg) & 0xff;
  }

  /** Open a redirect target the way bash does (O_WRONLY|O_CREAT|O_TRUNC or O_APPEND); undefined on error. */
  #openRedirect(path: string, io: CommandIo): SysfsFile | undefined {
    const fs = this.env.fs;
    try {
      if (fs === undefined) throw errnoError('ENOENT', 'this shell has no file tree');
      return fs.open(this.absolutePath(path), { access: 'write', create: true });
    } catch (e) {
      if (!isLabError(e) || e.errno === undefined) throw e;
      io.err(`${PROGRAM}: ${path}: ${ERRNO_MESSAGE[e.errno]}\n`);
      return undefined;
    }
  }

  /** Write a command's collected stdout; a failed write is reported as the writing program reports it. */
  #writeRedirect(
    file: SysfsFile,
    text: string,
    words: readonly string[],
    status: number,
    io: CommandIo,
  ): number {
    try {
      file.write(text);
      return status;
    } catch (e) {
      if (!isLabError(e) || e.errno === undefined) throw e;
      const name = words[0]!;
      const message = `write error: ${ERRNO_MESSAGE[e.errno]}`;
      if (BASH_BUILTINS.has(name)) {
        io.err(`${PROGRAM}: ${name}: ${message}\n`);
        return 1;
      }
      const onError = WRITE_ERROR_STATUS[name] ?? 1;
      if (onError === 'ignored') return status;
      io.err(`${name}: ${message}\n`);
      return status === 0 ? onError : status;
    }
  }

  /**
   * `a | b | c`: each command reads what the one before wrote; the line's status is the last one's
   * (bash without pipefail). An `exit` inside a pipeline runs in a subshell, so it leaves nothing.
   */
  #pipeline(
    stages: readonly (readonly string[])[],
    stderrTo: readonly (StderrTarget | undefined)[],
    io: CommandIo,
  ): number {
    let input: string | undefined;
    let status = 0;
    stages.forEach((words, i) => {
      let captured = '';
      const last = i === stages.length - 1;
      const stageIo = withStderr(
        {
          ...(input === undefined ? {} : { stdin: input }),
          out: last
            ? io.out
            : (t) => {
                captured += t;
              },
          err: io.err,
        },
        stderrTo[i],
      );
      status = words[0] === 'exit' ? this.#exit(words[1], stageIo) : this.#run(words, stageIo);
      input = captured;
    });
    return status;
  }

  #run(words: readonly string[], io: CommandIo): number {
    const [name, ...args] = words as [string, ...string[]];
    if (name === 'help') return this.#help(args, io);
    if (this.env.fs !== undefined && name === 'cd') return this.#cd(this.env.fs, args, io);
    if (this.env.fs !== undefined && name === 'pwd') return this.#pwdBuiltin(args, io);
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

  #builtinHelp(): [string, string][] {
    const rows: [string, string][] = [
      ['exit [N]', 'leave the shell with status N'],
      ['help [CMD]', 'list commands, or describe one'],
      ['time CMD', 'run CMD and print its modeled time and wall time'],
    ];
    if (this.env.fs !== undefined) {
      rows.push(['cd [-L|-P] [DIR]', 'change the working directory (default /root; `cd -` goes back)']);
      rows.push(['pwd [-L|-P]', 'print the working directory (logical, or physical with -P)']);
    }
    return rows;
  }

  #help(args: readonly string[], io: CommandIo): number {
    const builtins = this.#builtinHelp();
    if (args.length > 0) {
      const topic = args[0]!;
      const builtin = builtins.find(([usage]) => usage.split(' ')[0] === topic);
      const c = this.#commands.get(topic);
      if (builtin === undefined && c === undefined) {
        io.err(`${PROGRAM}: help: no help topics match \`${topic}'.\n`);
        return 1;
      }
      io.out(builtin !== undefined ? `${builtin[0]}: ${builtin[1]}\n` : `${c!.name}: ${c!.summary}\n`);
      return 0;
    }
    const rows: [string, string][] = [
      ...builtins,
      ...[...this.#commands.values()].map((c): [string, string] => [c.name, c.summary]),
    ];
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    const width = Math.max(...rows.map((r) => r[0].length));
    io.out(`Commands on modeled host ${this.env.host.name}:\n`);
    for (const [n, s] of rows) io.out(`  ${n.padEnd(width)}  ${s}\n`);
    return 0;
  }

  #promptDir(): string {
    if (this.env.fs === undefined || this.#pwd === HOME) return '~';
    return this.#pwd.startsWith(`${HOME}/`) ? `~${this.#pwd.slice(HOME.length)}` : this.#pwd;
  }

  /**
   * bash's `cd`: -L (default) builds the new $PWD lexically from the old one and the argument, and
   * changes to it if it names a directory; failing that, it tries the argument as the kernel resolves it
   * and takes the physical path. -P always takes the physical path.
   */
  #cd(fs: Sysfs, args: readonly string[], io: CommandIo): number {
    let physical = false;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--') {
        i++;
        break;
      }
      if (!/^-./.test(a)) break;
      const bad = [...a.slice(1)].find((c) => c !== 'L' && c !== 'P');
      if (bad !== undefined) {
        io.err(`${PROGRAM}: cd: -${bad}: invalid option\ncd: usage: cd [-L|[-P [-e]] [-@]] [dir]\n`);
        return 2;
      }
      physical = a.lastIndexOf('P') > a.lastIndexOf('L');
    }
    const rest = args.slice(i);
    if (rest.length > 1) {
      io.err(`${PROGRAM}: cd: too many arguments\n`);
      return 1;
    }
    let dir = rest[0] ?? HOME;
    const back = dir === '-';
    if (back) {
      if (this.#oldPwd === undefined) {
        io.err(`${PROGRAM}: cd: OLDPWD not set\n`);
        return 1;
      }
      dir = this.#oldPwd;
    }
    if (dir === '') dir = '.';
    const joined = dir.startsWith('/') ? dir : `${this.#pwd === '/' ? '' : this.#pwd}/${dir}`;
    const dirAt = (path: string): string => {
      const r = fs.resolve(path, { follow: true });
      if (r.node.kind !== 'dir') throw errnoError('ENOTDIR', path);
      return r.path;
    };
    const isDir = (path: string): boolean => {
      try {
        dirAt(path);
        return true;
      } catch (e) {
        errnoOf(e);
        return false;
      }
    };
    const logical = physical ? undefined : lexicalPath(joined, isDir);
    // -L: the canonical logical path, or if that could not be built, the joined one as the kernel
    // resolves it; then (and for -P) the argument from the physical directory. Only a successful
    // logical attempt keeps the logical path; otherwise $PWD becomes the physical one (resetpwd).
    const attempts: [string, boolean][] = physical
      ? [[this.absolutePath(dir), false]]
      : [
          [logical ?? joined, logical !== undefined],
          [this.absolutePath(dir), false],
        ];
    let firstErrno: ErrnoName | undefined;
    for (const [path, keepLogical] of attempts) {
      try {
        const cwd = dirAt(path);
        this.#oldPwd = this.#pwd;
        this.#pwd = keepLogical ? path : cwd;
        this.#cwd = cwd;
        if (back) io.out(`${this.#pwd}\n`);
        return 0;
      } catch (e) {
        firstErrno ??= errnoOf(e);
      }
    }
    io.err(`${PROGRAM}: cd: ${dir}: ${ERRNO_MESSAGE[firstErrno ?? 'ENOENT']}\n`);
    return 1;
  }

  #pwdBuiltin(args: readonly string[], io: CommandIo): number {
    let physical = false;
    for (const a of args) {
      if (a === '--' || !/^-./.test(a)) break;
      const bad = [...a.slice(1)].find((c) => c !== 'L' && c !== 'P');
      if (bad !== undefined) {
        io.err(`${PROGRAM}: pwd: -${bad}: invalid option\npwd: usage: pwd [-LP]\n`);
        return 2;
      }
      physical = a.lastIndexOf('P') > a.lastIndexOf('L');
    }
    io.out(`${physical ? this.#cwd : this.#pwd}\n`);
    return 0;
  }

  /** bash's `time` report on stderr, with modeled time first and labelled. */
  #timeReport(t: { modeled0: number; wall0: number }, io: CommandIo): void {
    const modeled = this.env.host.clock.nowNs - t.modeled0;
    const wall = this.env.wallNowNs() - t.wall0;
    const where = `${this.env.host.name}'s virtual clock`;
    io.err(`\nmodeled ${minutesSeconds(modeled, 6)}  (${formatNs(modeled)} on ${where})\n`);
    io.err(`wall    ${minutesSeconds(wall, 3)}\n`);
  }
}

/** The errno of a LabError; anything else is a bug and goes on up. */
function errnoOf(e: unknown): ErrnoName {
  if (isLabError(e) && e.errno !== undefined) return e.errno;
  throw e;
}

/**
 * bash's logical canonicalization for `cd -L` (sh_canonpath with PATH_CHECKDOTDOT): drop `.` and empty
 * components; `x/..` removes x, but only if what was built so far is a directory, else undefined.
 */
function lexicalPath(absolute: string, isDir: (path: string) => boolean): string | undefined {
  const parts: string[] = [];
  for (const c of absolute.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..') parts.push(c);
    else if (!isDir(`/${parts.join('/')}`)) return undefined;
    else parts.pop();
  }
  return `/${parts.join('/')}`;
}
