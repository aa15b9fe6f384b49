/**
 * Text filters for pipelines (`dmesg | tail -n 3`, `devlink port show | grep pcisf`, `ls | wc -l`):
 * GNU grep, head, tail and wc for the options people use with them, reading the previous command's
 * output or files of the modeled tree.
 *
 * SPEC-DEVIATION: grep's patterns are JavaScript regular expressions, close to POSIX extended syntax
 * (-E); basic-syntax escapes such as `\(` and `\|` are not translated, so plain `grep` behaves like
 * `grep -E`. Options supported: grep -v -i -c -n -q -E -F -w; head/tail -n N and -N; wc -l -w -c.
 * Without a pipe or a file there is no terminal to read, so stdin is empty.
 */
import { isLabError } from '../../base/index.js';
import type { Sysfs } from '../../kernel/sysfs/index.js';
import { ERRNO_MESSAGE } from '../../spec/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';

export interface TextCommandEnv {
  readonly fs: Sysfs;
  readonly absolutePath: (path: string) => string;
}

interface Input {
  readonly name: string;
  readonly text: string;
}

/** The operands' contents (or stdin when there are none); unreadable files are reported and skipped. */
function inputs(
  cmd: string,
  env: TextCommandEnv,
  operands: readonly string[],
  io: CommandIo,
): { readonly items: Input[]; readonly failed: boolean } {
  if (operands.length === 0)
    return { items: [{ name: '(standard input)', text: io.stdin ?? '' }], failed: false };
  const items: Input[] = [];
  let failed = false;
  for (const op of operands) {
    if (op === '-') {
      items.push({ name: '(standard input)', text: io.stdin ?? '' });
      continue;
    }
    try {
      const data = env.fs.read(env.absolutePath(op));
      items.push({
        name: op,
        text: typeof data === 'string' ? data : new TextDecoder('latin1').decode(data),
      });
    } catch (e) {
      if (!isLabError(e) || e.errno === undefined) throw e;
      io.err(`${cmd}: ${op}: ${ERRNO_MESSAGE[e.errno]}\n`);
      failed = true;
    }
  }
  return { items, failed };
}

/** Lines of a text, each without its newline; a last line without one still counts. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function badOption(cmd: string, opt: string, usage: string, io: CommandIo): number {
  io.err(`${cmd}: invalid option -- '${opt}'\nUsage: ${usage}\nTry '${cmd} --help' for more information.\n`);
  return 2;
}

function grepCommand(env: TextCommandEnv): ShellCommand {
  const usage = 'grep [OPTION]... PATTERNS [FILE]...';
  return {
    name: 'grep',
    summary: 'print lines that match a pattern (-v -i -c -n -q -E -F -w)',
    run(args, io) {
      const flags = new Set<string>();
      const rest: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        if (a === '--') {
          rest.push(...args.slice(i + 1));
          break;
        }
        if (a.startsWith('-') && a.length > 1 && rest.length === 0) {
          for (const c of a.slice(1)) {
            if (!'vicnqEFw'.includes(c)) return badOption('grep', c, usage, io);
            flags.add(c);
          }
        } else rest.push(a);
      }
      const [pattern, ...files] = rest;
      if (pattern === undefined) {
        io.err(`Usage: ${usage}\nTry 'grep --help' for more information.\n`);
        return 2;
      }
      let source = flags.has('F') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern;
      if (flags.has('w')) source = `(?<![\\w])(?:${source})(?![\\w])`;
      let re: RegExp;
      try {
        re = new RegExp(source, flags.has('i') ? 'i' : '');
      } catch {
        io.err('grep: Unmatched ( or \\(\n');
        return 2;
      }
      const { items, failed } = inputs('grep', env, files, io);
      const prefix = items.length > 1;
      let matched = false;
      for (const item of items) {
        let count = 0;
        linesOf(item.text).forEach((line, n) => {
          if (re.test(line) === flags.has('v')) return;
          count++;
          matched = true;
          if (flags.has('q') || flags.has('c')) return;
          const where = `${prefix ? `${item.name}:` : ''}${flags.has('n') ? `${n + 1}:` : ''}`;
          io.out(`${where}${line}\n`);
        });
        if (flags.has('c') && !flags.has('q')) io.out(`${prefix ? `${item.name}:` : ''}${count}\n`);
      }
      if (flags.has('q') && matched) return 0;
      return failed ? 2 : matched ? 0 : 1;
    },
  };
}

/** head/tail's `-n N`, `-nN` and `-N`; undefined after printing the error. */
function lineCount(cmd: string, args: readonly string[], io: CommandIo): [number, string[]] | undefined {
  let n = 10;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let value: string | undefined;
    if (a === '-n') value = args[++i];
    else if (a.startsWith('-n')) value = a.slice(2);
    else if (/^-\d+$/.test(a)) value = a.slice(1);
    else if (a.startsWith('-') && a !== '-') {
      badOption(cmd, a[1]!, `${cmd} [OPTION]... [FILE]...`, io);
      return undefined;
    } else {
      files.push(a);
      continue;
    }
    if (value === undefined || !/^\d+$/.test(value)) {
      io.err(`${cmd}: invalid number of lines: '${value ?? ''}'\n`);
      return undefined;
    }
    n = Number(value);
  }
  return [n, files];
}

function headTail(which: 'head' | 'tail', env: TextCommandEnv): ShellCommand {
  return {
    name: which,
    summary: `print the ${which === 'head' ? 'first' : 'last'} 10 lines (-n N)`,
    run(args, io) {
      const parsed = lineCount(which, args, io);
      if (parsed === undefined) return 1;
      const [n, files] = parsed;
      const { items, failed } = inputs(which, env, files, io);
      items.forEach((item, i) => {
        if (items.length > 1) io.out(`${i > 0 ? '\n' : ''}==> ${item.name} <==\n`);
        const lines = linesOf(item.text);
        const picked = which === 'head' ? lines.slice(0, n) : n === 0 ? [] : lines.slice(-n);
        for (const l of picked) io.out(`${l}\n`);
      });
      return failed ? 1 : 0;
    },
  };
}

function wcCommand(env: TextCommandEnv): ShellCommand {
  return {
    name: 'wc',
    summary: 'count lines, words and bytes (-l -w -c)',
    run(args, io) {
      const flags = new Set<string>();
      const files: string[] = [];
      for (const a of args) {
        if (a.startsWith('-') && a.length > 1) {
          for (const c of a.slice(1)) {
            if (!'lwc'.includes(c)) return badOption('wc', c, 'wc [OPTION]... [FILE]...', io);
            flags.add(c);
          }
        } else files.push(a);
      }
      const which = flags.size === 0 ? ['l', 'w', 'c'] : ['l', 'w', 'c'].filter((c) => flags.has(c));
      const { items, failed } = inputs('wc', env, files, io);
      const rows = items.map((item) => {
        const counts: Record<string, number> = {
          l: (item.text.match(/\n/g) ?? []).length,
          w: item.text.split(/\s+/).filter((w) => w !== '').length,
          c: new TextEncoder().encode(item.text).length,
        };
        return { name: files.length === 0 ? undefined : item.name, values: which.map((c) => counts[c]!) };
      });
      if (rows.length > 1) {
        rows.push({ name: 'total', values: which.map((_, k) => rows.reduce((s, r) => s + r.values[k]!, 0)) });
      }
      // GNU wc: one count of stdin alone is printed bare; otherwise columns are at least 7 wide for stdin.
      const width =
        which.length === 1 && rows.length === 1
          ? 0
          : files.length === 0
            ? 7
            : Math.max(...rows.flatMap((r) => r.values.map((v) => String(v).length)));
      for (const r of rows) {
        const cols = r.values.map((v) => String(v).padStart(width)).join(' ');
        io.out(`${cols}${r.name === undefined ? '' : ` ${r.name}`}\n`);
      }
      return failed ? 1 : 0;
    },
  };
}

export function textCommands(env: TextCommandEnv): ShellCommand[] {
  return [grepCommand(env), headTail('head', env), headTail('tail', env), wcCommand(env)];
}
