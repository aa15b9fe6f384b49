/**
 * lspci's command line: getopt-style parsing, and the error texts and exit status of pciutils 3.9.0
 * for bad options, bad -s/-d filters and stray operands (checked against the real lspci). A bad command
 * line never throws: it is lspci's usage on stderr and status 1.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runLspci } from '../../src/lab/lspci/index.js';
import { FIXTURES, nodeIo } from './helpers.js';

const TOPOLOGY = join(FIXTURES, 'topology.dump');
const run = (...args: string[]) => runLspci(args, [], nodeIo);

describe('option errors', () => {
  it('prints getopt’s complaint and the usage for an unknown option', () => {
    const r = run('-Z');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(
      r.stderr.startsWith(
        "lspci: invalid option -- 'Z'\nUsage: lspci [<switches>]\n\nBasic display modes:\n",
      ),
    ).toBe(true);
    expect(r.stderr).toContain(
      '-i <file>\tUse specified ID database instead of /usr/share/misc/pci.ids.gz\n',
    );
    expect(r.stderr.endsWith('-F <file>\tRead PCI configuration dump from a given file\n')).toBe(true);
  });

  it('names a missing option argument', () => {
    expect(run('-s').stderr.split('\n')[0]).toBe("lspci: option requires an argument -- 's'");
    expect(run('-F').status).toBe(1);
  });

  it('shows the -i path given before the bad option in the usage', () => {
    expect(run('-i', '/x/y.ids', '-Z').stderr).toContain('instead of /x/y.ids\n');
  });

  it('rejects operands, even after `--`, with the usage only', () => {
    for (const args of [
      ['-F', TOPOLOGY, 'extra'],
      ['extra', '-F', TOPOLOGY],
      ['-F', TOPOLOGY, '--', 'x'],
    ]) {
      const r = runLspci(args, [], nodeIo);
      expect(r.status).toBe(1);
      expect(r.stderr.startsWith('Usage: lspci [<switches>]\n')).toBe(true);
      expect(r.stdout).toBe('');
    }
    expect(run('-g').stderr.startsWith('Usage: lspci')).toBe(true);
  });

  it.each([
    ['zz', 'Invalid slot number'],
    ['1:2:3:4', 'Too many fields'],
    ['0.0.0', 'Invalid slot/function number'],
    ['20', 'Invalid slot number'],
    ['.8', 'Invalid function number'],
    ['100:', 'Invalid bus number'],
    ['80000000::', 'Invalid domain number'],
    ['a'.repeat(70), 'Expression too long'],
  ])('-s %s: %s', (arg, message) => {
    expect(run('-s', arg)).toEqual({ stdout: '', stderr: `lspci: -s: ${message}\n`, status: 1 });
  });

  it.each([
    ['1', 'At least two fields must be given'],
    ['1:2:3:4:5', 'Too many fields'],
    ['g:', 'Invalid vendor ID'],
    [':10000', 'Invalid device ID'],
    ['::10000', 'Invalid class code'],
    ['::1:100', 'Invalid programming interface code'],
  ])('-d %s: %s', (arg, message) => {
    expect(run('-d', arg)).toEqual({ stdout: '', stderr: `lspci: -d: ${message}\n`, status: 1 });
  });

  it('reports access method and parameter errors like pciutils', () => {
    expect(run('-A', 'foo').stderr).toBe(
      "lspci: No such PCI access method: foo (see `-A help' for a list)\n",
    );
    expect(run('-O', 'x').stderr).toBe('lspci: Invalid PCI access parameter syntax: x\n');
    expect(run('-O', 'x=1').stderr).toBe(
      "lspci: Unrecognized PCI access parameter: x (see `-O help' for a list)\n",
    );
    expect(run('-H', '3').stderr).toBe('lspci: Unknown hardware configuration type 3\n');
    expect(run('-A', 'dump').stderr).toBe('lspci: dump: Cannot open : No such file or directory\n');
  });

  it('never throws, whatever the arguments', () => {
    const word = fc.oneof(
      fc.constantFrom(
        '-n',
        '-v',
        '-x',
        '-t',
        '-s',
        '-d',
        '-F',
        '-i',
        '-A',
        '-O',
        '--',
        '-',
        '-Q',
        '-vvv',
        '-mm',
      ),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), (argv) => {
        const r = runLspci(argv, [], { readFile: () => '00:00.0 x\n00: 86 80 c0 29\n' });
        expect([0, 1]).toContain(r.status);
      }),
      { numRuns: 300 },
    );
  });
});

describe('option syntax', () => {
  it('prints the version for a lone --version', () => {
    expect(run('--version')).toEqual({ stdout: 'lspci version 3.9.0\n', stderr: '', status: 0 });
    expect(run('-n', '--version').stderr.split('\n')[0]).toBe("lspci: invalid option -- '-'");
  });

  it('accepts clustered flags and attached arguments', () => {
    const spread = runLspci(['-n', '-n', '-v', '-v', '-s', '01:00.0', '-F', TOPOLOGY], [], nodeIo);
    const clustered = runLspci(['-nnvv', `-s01:00.0`, `-F${TOPOLOGY}`], [], nodeIo);
    expect(clustered).toEqual(spread);
    expect(spread.stdout.split('\n')[0]).toBe(
      '01:00.0 Ethernet controller [0200]: Red Hat, Inc. Virtio 1.0 network device [1af4:1041] (rev 01)',
    );
  });

  it('lists access methods and parameters on request', () => {
    expect(run('-A', 'help').stdout.split('\n').slice(0, 3)).toEqual([
      'Known PCI access methods:',
      '',
      'linux-sysfs',
    ]);
    expect(run('-O', 'help').stdout).toContain(
      "hwdb.disable         Do not look up names in UDEV's HWDB if non-zero (0)\n",
    );
  });
});
