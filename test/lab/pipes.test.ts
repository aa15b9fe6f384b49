/**
 * Pipelines and the text filters: what bash with GNU grep/head/tail/wc prints, written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { Sysfs } from '../../src/kernel/sysfs/index.js';
import { fsCommands } from '../../src/lab/commands/fs.js';
import { textCommands } from '../../src/lab/commands/text.js';
import { Lab } from '../../src/lab/index.js';
import type { ShellCommand } from '../../src/lab/shell/command.js';
import { Shell } from '../../src/lab/shell/shell.js';
import { tokenize } from '../../src/lab/shell/tokenize.js';
import { fakeTree, PF } from '../kernel/sysfs/fake-tree.js';

const host = Lab.default().host();

function shell(): Shell {
  const fs = new Sysfs(fakeTree().root);
  /** Prints five numbered lines. */
  const five: ShellCommand = {
    name: 'five',
    summary: 'print five lines',
    run(_args, io) {
      for (let i = 1; i <= 5; i++) io.out(`line ${i} ${i % 2 === 0 ? 'even' : 'odd'}\n`);
      return 0;
    },
  };
  const fail: ShellCommand = { name: 'fail', summary: 'exit 3', run: () => 3 };
  /** One line on each stream. */
  const both: ShellCommand = {
    name: 'both',
    summary: 'print to stdout and stderr',
    run(_args, io) {
      io.out('to out\n');
      io.err('to err\n');
      return 0;
    },
  };
  const sh: Shell = new Shell({ host, wallNowNs: () => 0, fs }, [
    ...fsCommands({ fs, absolutePath: (p) => sh.absolutePath(p) }),
    ...textCommands({ fs, absolutePath: (p) => sh.absolutePath(p) }),
    five,
    fail,
    both,
  ]);
  return sh;
}

describe('tokenize pipelines', () => {
  it('splits on unquoted bars and keeps quoted ones', () => {
    expect(tokenize("a b | c 'x|y' | d").pipeline).toEqual([['a', 'b'], ['c', 'x|y'], ['d']]);
    expect(tokenize('a | b > f').redirect).toEqual({ path: 'f', append: false });
  });
  it('rejects empty commands and || as bash does', () => {
    expect(() => tokenize('| a')).toThrow("syntax error near unexpected token `|'");
    expect(() => tokenize('a |')).toThrow("syntax error near unexpected token `|'");
    expect(() => tokenize('a || b')).toThrow("syntax error near unexpected token `||'");
    expect(() => tokenize('a > f | b')).toThrow(/last command of a pipeline/);
  });
});

describe('filters', () => {
  it('grep selects, inverts, counts and numbers lines; status 1 when nothing matches', () => {
    const sh = shell();
    expect(sh.execute('five | grep even').stdout).toBe('line 2 even\nline 4 even\n');
    expect(sh.execute('five | grep -v -i ODD').stdout).toBe('line 2 even\nline 4 even\n');
    expect(sh.execute('five | grep -c odd').stdout).toBe('3\n');
    expect(sh.execute('five | grep -n 4').stdout).toBe('4:line 4 even\n');
    expect(sh.execute('five | grep nothing')).toEqual({ stdout: '', stderr: '', status: 1 });
    expect(sh.execute('five | grep -q 3')).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(sh.execute('five | grep -F "e 1"').stdout).toBe('line 1 odd\n');
    expect(sh.execute('five | grep -w lin').status).toBe(1);
  });

  it('grep reads files and prefixes names when there are several', () => {
    const sh = shell();
    const dir = `/sys/bus/pci/devices/${PF}`;
    expect(sh.execute(`grep 0x ${dir}/vendor ${dir}/device`).stdout).toBe(
      `${dir}/vendor:0x1af4\n${dir}/device:0x1041\n`,
    );
    const missing = sh.execute('grep x /sys/nope');
    expect(missing.stderr).toBe('grep: /sys/nope: No such file or directory\n');
    expect(missing.status).toBe(2);
  });

  it('head and tail take -n N and -N', () => {
    const sh = shell();
    expect(sh.execute('five | head -n 2').stdout).toBe('line 1 odd\nline 2 even\n');
    expect(sh.execute('five | tail -2').stdout).toBe('line 4 even\nline 5 odd\n');
    expect(sh.execute('five | tail -n 0').stdout).toBe('');
    expect(sh.execute('five | head -n x')).toEqual({
      stdout: '',
      stderr: "head: invalid number of lines: 'x'\n",
      status: 1,
    });
  });

  it('wc prints a lone count bare and columns 7 wide from stdin', () => {
    const sh = shell();
    expect(sh.execute('five | wc -l').stdout).toBe('5\n');
    // 5 lines, 15 words, 5 × "line N odd\n"/"line N even\n" = 3 × 11 + 2 × 12 = 57 bytes
    expect(sh.execute('five | wc').stdout).toBe('      5      15      57\n');
  });

  it('a pipeline exits with its last command, and cat passes stdin through', () => {
    const sh = shell();
    expect(sh.execute('fail | five | head -1')).toEqual({ stdout: 'line 1 odd\n', stderr: '', status: 0 });
    expect(sh.execute('five | fail').status).toBe(3);
    expect(sh.execute('five | cat | tail -1').stdout).toBe('line 5 odd\n');
  });

  it('exit inside a pipeline does not leave the shell', () => {
    const sh = shell();
    const r = sh.execute('five | exit 4');
    expect(r.status).toBe(4);
    expect(r.exit).toBeUndefined();
  });
});

describe('stderr and /dev/null', () => {
  it('2>&1 sends stderr into the pipe, 2>/dev/null drops it, > /dev/null drops stdout', () => {
    const sh = shell();
    expect(sh.execute('both 2>&1 | grep err')).toEqual({ stdout: 'to err\n', stderr: '', status: 0 });
    expect(sh.execute('both | grep err')).toEqual({ stdout: '', stderr: 'to err\n', status: 1 });
    expect(sh.execute('both 2>/dev/null')).toEqual({ stdout: 'to out\n', stderr: '', status: 0 });
    expect(sh.execute('both > /dev/null')).toEqual({ stdout: '', stderr: 'to err\n', status: 0 });
    expect(sh.execute('both 2>&1')).toEqual({ stdout: 'to out\nto err\n', stderr: '', status: 0 });
  });

  it("a quoted '2' is an argument, and other stderr targets are refused", () => {
    expect(tokenize("echo '2'>/x").words).toEqual(['echo', '2']);
    expect(tokenize('echo 2>&1').stderrTo).toEqual(['stdout']);
    expect(() => tokenize('both 2>/tmp/log')).toThrow(/stderr can only be redirected to &1 or \/dev\/null/);
  });
});
