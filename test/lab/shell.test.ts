/** The host shell: tokenizing, built-ins, errors as a shell gives them, and time. */
import { describe, expect, it } from 'vitest';
import { badInput, errnoError } from '../../src/base/index.js';
import { Lab } from '../../src/lab/index.js';
import type { ShellCommand } from '../../src/lab/shell/command.js';
import { Shell } from '../../src/lab/shell/shell.js';
import { tokenize } from '../../src/lab/shell/tokenize.js';

const lab = Lab.default();
const host = lab.host();

function shellWith(commands: ShellCommand[]) {
  let wall = 0;
  return new Shell({ host, wallNowNs: () => (wall += 2_000_000) }, commands);
}

const echoArgs: ShellCommand = {
  name: 'args',
  summary: 'print arguments one per line',
  run: (args, io) => {
    for (const a of args) io.out(`${a}\n`);
    return 0;
  },
};
const sleepy: ShellCommand = {
  name: 'work',
  summary: 'charge 2.5 ms of modeled time',
  run: () => {
    host.clock.advance(2_500_000);
    return 3;
  },
};
const failing: ShellCommand = {
  name: 'fail',
  summary: 'throw typed errors',
  run: (args) => {
    throw args[0] === 'errno' ? errnoError('EBUSY') : badInput('bad thing');
  },
};

describe('tokenize', () => {
  it('splits words with quotes, escapes and comments like sh', () => {
    expect(tokenize(`a 'b c' "d \\"e\\"" f\\ g # comment`).words).toEqual(['a', 'b c', 'd "e"', 'f g']);
    expect(tokenize('echo 8 > /sys/x').redirect).toEqual({ path: '/sys/x', append: false });
    expect(tokenize('echo 8 >>/sys/x').redirect).toEqual({ path: '/sys/x', append: true });
    expect(tokenize("''").words).toEqual(['']);
  });

  it('reports unbalanced quotes and dangling redirects', () => {
    expect(() => tokenize("echo 'x")).toThrow(/unexpected EOF/);
    expect(() => tokenize('echo x >')).toThrow(/syntax error near unexpected token `newline'/);
  });
});

describe('shell', () => {
  it('answers unknown commands with status 127 and keeps going', () => {
    const sh = shellWith([echoArgs]);
    const r = sh.execute('foo bar');
    expect(r).toMatchObject({ stdout: '', stderr: 'vfiolab: foo: command not found\n', status: 127 });
    expect(sh.execute("args 'a b' c").stdout).toBe('a b\nc\n');
  });

  it('lists commands in help and describes one', () => {
    const sh = shellWith([echoArgs, sleepy]);
    const r = sh.execute('help');
    expect(r.stdout).toContain('time CMD');
    expect(r.stdout).toContain('work');
    expect(sh.execute('help args').stdout).toBe('args: print arguments one per line\n');
    expect(sh.execute('help nope').status).toBe(1);
  });

  it('time prints modeled and wall time, labelled, and keeps the status', () => {
    const sh = shellWith([sleepy]);
    const r = sh.execute('time work');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('modeled 0m0.002500s');
    expect(r.stderr).toMatch(/wall {4}0m0\.002s/);
  });

  it('turns typed errors into error lines with status 1', () => {
    const sh = shellWith([failing]);
    expect(sh.execute('fail errno')).toMatchObject({
      status: 1,
      stderr: 'fail: EBUSY: Device or resource busy\n',
    });
    expect(sh.execute('fail x').stderr).toBe('fail: bad thing\n');
    expect(sh.execute('echo "x').stderr).toContain('unexpected EOF');
  });

  it('exit takes a status, defaults to the last one, and rejects junk', () => {
    const sh = shellWith([sleepy]);
    sh.execute('work');
    expect(sh.execute('exit').exit).toBe(3);
    expect(sh.execute('exit 7').exit).toBe(7);
    expect(sh.execute('exit x')).toMatchObject({
      exit: 2,
      stderr: 'vfiolab: exit: x: numeric argument required\n',
    });
  });

  it('skips blank lines and comments', () => {
    const sh = shellWith([]);
    expect(sh.execute('   ')).toMatchObject({ stdout: '', stderr: '' });
    expect(sh.execute('# just a comment')).toMatchObject({ stdout: '', stderr: '' });
  });
});
