/**
 * File commands of the host shell over the modeled filesystem: `ls`, `cat`, `readlink` as GNU
 * coreutils 9.x prints them with stdout not a terminal, and bash's builtin `echo`. Paths are made
 * absolute against the shell's physical working directory; sysfs does the rest, errno for errno.
 *
 * Output rules followed: names sort in C-locale byte order; one name per line (ls's non-terminal
 * default); command-line symlinks to directories are followed unless -l; `ls -l` prints `total 0`
 * (sysfs allocates no blocks) and right-aligns link counts and sizes; file names in error messages are
 * quoted as coreutils' quoteaf (ls: always) and quotef (cat, readlink: only when needed, `:` included).
 *
 * SPEC-DEVIATION: every file shows the same modification time, `Jan  1 00:00` in ls's recent-file
 * format: the modeled host has no wall-clock file times, and a fixed date keeps output reproducible.
 * Names with control characters are quoted with plain single quotes, not gnulib's $'\n' form.
 * Only these options are supported: ls -l -a -1 (--all), cat -u, readlink -f -e -m -n -q -s -v,
 * echo -n -e -E.
 */
import { isLabError } from '../../base/index.js';
import type { CanonicalizeMode, Sysfs, SysfsStat } from '../../kernel/sysfs/index.js';
import { compareNames } from '../../kernel/sysfs/index.js';
import { ERRNO_MESSAGE, type ErrnoName } from '../../spec/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';

export interface FsCommandEnv {
  readonly fs: Sysfs;
  /** An argument path made absolute against the shell's physical working directory (Shell.absolutePath). */
  absolutePath(path: string): string;
}

/** The modification time every file shows in `ls -l` (see SPEC-DEVIATION above). */
export const LS_FIXED_DATE = 'Jan  1 00:00';

export function fsCommands(env: FsCommandEnv): ShellCommand[] {
  return [lsCommand(env), catCommand(env), readlinkCommand(env), echoCommand()];
}

/** The errno of a LabError, or rethrow: anything else is a bug, for the shell to report. */
function errnoOf(e: unknown): ErrnoName {
  if (isLabError(e) && e.errno !== undefined) return e.errno;
  throw e;
}

const SAFE_CHAR = /[A-Za-z0-9%+,\-./\]_@]/;

/**
 * gnulib's shell-escape quoting: `always` is quoteaf (ls's "cannot access 'x'"), otherwise quotef, which
 * quotes only names that need it and counts `:` as needing it. A name with a single quote and nothing
 * else special is put in double quotes.
 */
export function quoteName(name: string, always: boolean): string {
  let needs = always || name === '';
  let singleQuote = false;
  let doubleQuotable = true;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (SAFE_CHAR.test(c) || c.charCodeAt(0) > 0x7f) continue;
    if (c === ':' || c === ' ') needs = true;
    else if (c === '{' || c === '}') needs ||= name.length === 1;
    else if (c === '#' || c === '~') needs ||= i === 0;
    else if (c === "'") needs = singleQuote = true;
    else {
      // A shell special character (!"$&()*;<=>?[\^`|) or a control character.
      needs = true;
      doubleQuotable = false;
    }
  }
  if (!needs) return name;
  if (singleQuote && doubleQuotable) return `"${name}"`;
  return `'${name.replaceAll("'", "'\\''")}'`;
}

function usageError(io: CommandIo, cmd: string, message: string): void {
  io.err(`${cmd}: ${message}\nTry '${cmd} --help' for more information.\n`);
}

interface ParsedOptions {
  readonly flags: string[];
  readonly operands: string[];
}

/** GNU getopt for short flags: options may follow operands, `--` ends them, `-` alone is an operand. */
function parseShortOptions(
  cmd: string,
  args: readonly string[],
  allowed: string,
  longs: Readonly<Record<string, string>>,
  io: CommandIo,
): ParsedOptions | undefined {
  const flags: string[] = [];
  const operands: string[] = [];
  let ended = false;
  for (const a of args) {
    if (ended || a === '-' || !a.startsWith('-')) operands.push(a);
    else if (a === '--') ended = true;
    else if (a.startsWith('--')) {
      const flag = longs[a.slice(2)];
      if (flag === undefined) {
        usageError(io, cmd, `unrecognized option '${a}'`);
        return undefined;
      }
      flags.push(flag);
    } else {
      for (const c of a.slice(1)) {
        if (!allowed.includes(c)) {
          usageError(io, cmd, `invalid option -- '${c}'`);
          return undefined;
        }
        flags.push(c);
      }
    }
  }
  return { flags, operands };
}

// ---------------------------------------------------------------------------------------------- ls

interface LsItem {
  readonly name: string;
  readonly stat: SysfsStat;
  /** The symlink target, for `name -> target` in long format. */
  readonly target?: string;
}

const LS_FAILURE = 2;

function modeString(stat: SysfsStat): string {
  const type = stat.kind === 'dir' ? 'd' : stat.kind === 'link' ? 'l' : '-';
  let bits = '';
  for (let shift = 6; shift >= 0; shift -= 3) {
    const m = (stat.mode >> shift) & 7;
    bits += `${m & 4 ? 'r' : '-'}${m & 2 ? 'w' : '-'}${m & 1 ? 'x' : '-'}`;
  }
  return type + bits;
}

function printItems(items: readonly LsItem[], long: boolean, io: CommandIo): void {
  if (!long) {
    for (const item of items) io.out(`${item.name}\n`);
    return;
  }
  const linkWidth = Math.max(0, ...items.map((i) => String(i.stat.nlink).length));
  const sizeWidth = Math.max(0, ...items.map((i) => String(i.stat.sizeBytes).length));
  for (const item of items) {
    const nlink = String(item.stat.nlink).padStart(linkWidth);
    const size = String(item.stat.sizeBytes).padStart(sizeWidth);
    const arrow = item.target === undefined ? '' : ` -> ${item.target}`;
    io.out(`${modeString(item.stat)} ${nlink} root root ${size} ${LS_FIXED_DATE} ${item.name}${arrow}\n`);
  }
}

const byName = (a: { readonly name: string }, b: { readonly name: string }): number =>
  compareNames(a.name, b.name);

function lsCommand(env: FsCommandEnv): ShellCommand {
  const { fs } = env;
  const itemAt = (name: string, path: string, stat: SysfsStat, long: boolean): LsItem =>
    long && stat.kind === 'link' ? { name, stat, target: fs.readlink(path) } : { name, stat };

  return {
    name: 'ls',
    summary: 'list directory contents (-l long format, -a all, -1 one per line)',
    run(args, io) {
      const parsed = parseShortOptions('ls', args, 'la1', { all: 'a' }, io);
      if (parsed === undefined) return LS_FAILURE;
      const all = parsed.flags.includes('a');
      const long = parsed.flags.lastIndexOf('l') > parsed.flags.lastIndexOf('1');
      const operands = parsed.operands.length > 0 ? parsed.operands : ['.'];
      let status = 0;
      const files: LsItem[] = [];
      const dirs: { name: string; path: string }[] = [];
      for (const operand of operands) {
        const path = env.absolutePath(operand);
        try {
          // Without -l a command-line symlink to a directory is followed; anything else is lstat'ed.
          let stat: SysfsStat | undefined;
          if (!long) {
            try {
              stat = fs.stat(path, { follow: true });
              if (stat.kind !== 'dir') stat = undefined;
            } catch (e) {
              const errno = errnoOf(e);
              if (errno !== 'ENOENT' && errno !== 'ELOOP') throw e;
            }
          }
          stat ??= fs.stat(path, { follow: false });
          if (stat.kind === 'dir') dirs.push({ name: operand, path });
          else files.push(itemAt(operand, path, stat, long));
        } catch (e) {
          io.err(`ls: cannot access ${quoteName(operand, true)}: ${ERRNO_MESSAGE[errnoOf(e)]}\n`);
          status = LS_FAILURE;
        }
      }
      files.sort(byName);
      dirs.sort(byName);
      printItems(files, long, io);
      const headers = !(operands.length <= 1 && files.length === 0 && dirs.length === 1);
      let first = files.length === 0;
      for (const d of dirs) {
        if (headers) io.out(`${first ? '' : '\n'}${d.name}:\n`);
        first = false;
        let items: LsItem[];
        try {
          items = fs.readdir(d.path).map((e) => itemAt(e.name, `${d.path}/${e.name}`, e.stat, long));
          if (all) {
            items.push(
              { name: '.', stat: fs.stat(`${d.path}/.`) },
              { name: '..', stat: fs.stat(`${d.path}/..`) },
            );
            items.sort(byName);
          }
        } catch (e) {
          io.err(`ls: cannot open directory ${quoteName(d.name, true)}: ${ERRNO_MESSAGE[errnoOf(e)]}\n`);
          status = LS_FAILURE;
          continue;
        }
        if (long) io.out('total 0\n');
        printItems(items, long, io);
      }
      return status;
    },
  };
}

// --------------------------------------------------------------------------------------------- cat

/** Bytes as a string of the same code units (latin1), so binary attributes pass through unchanged. */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x2000) s += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  return s;
}

function catCommand(env: FsCommandEnv): ShellCommand {
  return {
    name: 'cat',
    summary: 'print files (sysfs attributes; binary ones such as config as raw bytes)',
    run(args, io) {
      const parsed = parseShortOptions('cat', args, 'u', {}, io);
      if (parsed === undefined) return 1;
      let status = 0;
      const operands = parsed.operands.length === 0 ? ['-'] : parsed.operands;
      for (const operand of operands) {
        if (operand === '-') {
          io.out(io.stdin ?? ''); // stdin: the previous command of a pipeline, else empty
          continue;
        }
        try {
          const data = env.fs.read(env.absolutePath(operand));
          io.out(typeof data === 'string' ? data : latin1(data));
        } catch (e) {
          io.err(`cat: ${quoteName(operand, false)}: ${ERRNO_MESSAGE[errnoOf(e)]}\n`);
          status = 1;
        }
      }
      return status;
    },
  };
}

// ---------------------------------------------------------------------------------------- readlink

const READLINK_LONG_OPTIONS: Readonly<Record<string, string>> = {
  canonicalize: 'f',
  'canonicalize-existing': 'e',
  'canonicalize-missing': 'm',
  'no-newline': 'n',
  quiet: 'q',
  silent: 's',
  verbose: 'v',
};

function readlinkCommand(env: FsCommandEnv): ShellCommand {
  return {
    name: 'readlink',
    summary: 'print a symlink target (-f/-e/-m: canonical path; -n no newline; -v report errors)',
    run(args, io) {
      const parsed = parseShortOptions('readlink', args, 'femnqsv', READLINK_LONG_OPTIONS, io);
      if (parsed === undefined) return 1;
      const { flags, operands } = parsed;
      if (operands.length === 0) {
        usageError(io, 'readlink', 'missing operand');
        return 1;
      }
      let mode: CanonicalizeMode | undefined;
      let verbose = false;
      for (const f of flags) {
        if (f === 'f') mode = 'all-but-last';
        else if (f === 'e') mode = 'existing';
        else if (f === 'm') mode = 'missing';
        else if (f === 'v') verbose = true;
        else if (f === 'q' || f === 's') verbose = false;
      }
      let newline = !flags.includes('n');
      if (!newline && operands.length > 1) {
        io.err('readlink: ignoring --no-newline with multiple arguments\n');
        newline = true;
      }
      let status = 0;
      for (const operand of operands) {
        try {
          const path = env.absolutePath(operand);
          const value = mode === undefined ? env.fs.readlink(path) : env.fs.realpath(path, mode);
          io.out(newline ? `${value}\n` : value);
        } catch (e) {
          const errno = errnoOf(e);
          if (verbose) io.err(`readlink: ${quoteName(operand, false)}: ${ERRNO_MESSAGE[errno]}\n`);
          status = 1;
        }
      }
      return status;
    },
  };
}

// -------------------------------------------------------------------------------------------- echo

/** bash's `echo -e` escapes (builtins/echo.def, ansicstr with the echo flag). Returns [text, stopped]. */
function echoEscapes(text: string): [string, boolean] {
  let out = '';
  const simple: Readonly<Record<string, string>> = {
    a: '\x07',
    b: '\b',
    e: '\x1b',
    E: '\x1b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    '\\': '\\',
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c !== '\\' || next === undefined) {
      out += c;
      continue;
    }
    i++;
    const mapped = simple[next];
    if (mapped !== undefined) {
      out += mapped;
    } else if (next === 'c') {
      return [out, true];
    } else if (next >= '0' && next <= '7') {
      // `\0` takes up to three more octal digits, `\1`..`\7` up to two more.
      let value = Number(next);
      let more = next === '0' ? 3 : 2;
      while (more-- > 0 && /[0-7]/.test(text[i + 1] ?? '')) value = value * 8 + Number(text[++i]);
      out += String.fromCharCode(value & 0xff);
    } else if (next === 'x' || next === 'u' || next === 'U') {
      const max = next === 'x' ? 2 : next === 'u' ? 4 : 8;
      const digits = /^[0-9a-fA-F]+/.exec(text.slice(i + 1, i + 1 + max))?.[0] ?? '';
      if (digits === '') {
        out += `\\${next}`;
      } else {
        const value = Number.parseInt(digits, 16);
        out += next === 'x' ? String.fromCharCode(value) : String.fromCodePoint(Math.min(value, 0x10ffff));
        i += digits.length;
      }
    } else {
      out += `\\${next}`;
    }
  }
  return [out, false];
}

/** bash's builtin echo: leading words made only of n, e and E are options; `--` is printed. */
export function echoCommand(): ShellCommand {
  return {
    name: 'echo',
    summary: 'print arguments (-n no newline, -e escapes); with > FILE, one write of the whole line',
    run(args, io) {
      let newline = true;
      let escapes = false;
      let i = 0;
      for (; i < args.length && /^-[neE]+$/.test(args[i]!); i++) {
        for (const c of args[i]!.slice(1)) {
          if (c === 'n') newline = false;
          else escapes = c === 'e';
        }
      }
      let text = args.slice(i).join(' ');
      if (escapes) {
        const [expanded, stopped] = echoEscapes(text);
        text = expanded;
        if (stopped) newline = false;
      }
      io.out(newline ? `${text}\n` : text);
      return 0;
    },
  };
}
