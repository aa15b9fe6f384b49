/**
 * Names from pci.ids: the lookups and the wording lspci uses for numbers without names, the lazy
 * loading of the database and its errors. Expected lines were checked against pciutils 3.9.0 with the
 * same ID lists and dumps.
 */
import { describe, expect, it } from 'vitest';
import { type LspciIo, runLspci } from '../../src/lab/lspci/index.js';

const IDS = [
  '1af4  Vend A',
  '\t1041  Dev A',
  '\t\t1af4 2000  Sub A',
  '1b36  Vend B',
  'S 1b36',
  '\t0005  Generic sub',
  'C 01  Storage',
  '\t01  IDE',
  'C 02  Net',
  '',
].join('\n');

function dumpOf(slot: string, bytes: Record<number, number>): string {
  const b = new Array<number>(64).fill(0);
  for (const [at, v] of Object.entries(bytes)) b[Number(at)] = v;
  const rows = [0, 16, 32, 48].map(
    (r) =>
      `${r.toString(16).padStart(2, '0')}: ${b
        .slice(r, r + 16)
        .map((x) => x.toString(16).padStart(2, '0'))
        .join(' ')}`,
  );
  return `${slot} x\n${rows.join('\n')}\n`;
}

/** IDs, class, prog-if and subsystem at their config offsets. */
function dev(slot: string, v: number, d: number, cls: number, sv: number, sd: number, prog = 0): string {
  return dumpOf(slot, {
    0: v & 0xff,
    1: v >> 8,
    2: d & 0xff,
    3: d >> 8,
    9: prog,
    10: cls & 0xff,
    11: cls >> 8,
    44: sv & 0xff,
    45: sv >> 8,
    46: sd & 0xff,
    47: sd >> 8,
  });
}

const DUMP = [
  dev('00:00.0', 0x1af4, 0x1041, 0x0200, 0x1b36, 0x0005),
  dev('00:01.0', 0x1af4, 0x1041, 0x0200, 0x1af4, 0x1041),
  dev('00:02.0', 0x1b36, 0x9999, 0x0101, 0x1b36, 0x0077),
  dev('00:03.0', 0x1b36, 0x9999, 0x0101, 0x1af4, 0x2000, 0x8a),
  dev('00:04.0', 0x1f00, 0x0001, 0x1200, 0x1f00, 0x0001),
].join('\n');

function memIo(files: Record<string, string>, reads: string[] = []): LspciIo {
  return {
    readFile(path) {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
  };
}

const run = (args: string[], files: Record<string, string> = { '/d': DUMP, '/ids': IDS }, reads?: string[]) =>
  runLspci([...args, '-F', '/d'], [], memIo(files, reads));

describe('names and numbers', () => {
  it('words vendor, device, class, prog-if and subsystem names as lspci does', () => {
    expect(run(['-i', '/ids', '-v']).stdout).toBe(
      [
        '00:00.0 Net [0200]: Vend A Dev A',
        '\tSubsystem: Vend B Generic sub',
        '\tFlags: fast devsel',
        '',
        '00:01.0 Net [0200]: Vend A Dev A',
        '\tSubsystem: Vend A Dev A',
        '\tFlags: fast devsel',
        '',
        '00:02.0 IDE: Vend B Device 9999 (prog-if 00 [])',
        '\tSubsystem: Vend B Device 0077',
        '\tFlags: fast devsel',
        '',
        '00:03.0 IDE: Vend B Device 9999 (prog-if 8a [Master SecP PriP])',
        '\tSubsystem: Vend A Device 2000',
        '\tFlags: fast devsel',
        '',
        '00:04.0 Class 1200: Device 1f00:0001',
        '\tSubsystem: Device 1f00:0001',
        '\tFlags: fast devsel',
        '',
        '',
      ].join('\n'),
    );
  });

  it('puts the numbers in brackets with -nn and shows numbers only with -n', () => {
    const nn = run(['-i', '/ids', '-nn']).stdout.split('\n');
    expect(nn[2]).toBe('00:02.0 IDE [0101]: Vend B Device [1b36:9999]');
    expect(nn[4]).toBe('00:04.0 Class [1200]: Device [1f00:0001]');
    const n = run(['-i', '/ids', '-n']).stdout.split('\n');
    expect(n[0]).toBe('00:00.0 0200: 1af4:1041');
  });

  it('prints machine-readable names, quoted, with -mm', () => {
    const lines = run(['-i', '/ids', '-mm']).stdout.split('\n');
    expect(lines[0]).toBe('00:00.0 "Net [0200]" "Vend A" "Dev A" -p00 "Vend B" "Generic sub"');
    expect(lines[4]).toBe(
      '00:04.0 "Class 1200" "Vendor 1f00" "Device 0001" -p00 "Unknown vendor 1f00" "Device 0001"',
    );
  });

  it('never opens the database with -n, and opens it lazily otherwise', () => {
    const reads: string[] = [];
    run(['-i', '/ids', '-n'], undefined, reads);
    expect(reads).toEqual(['/d']);
    const reads2: string[] = [];
    run(['-i', '/ids'], undefined, reads2);
    expect(reads2).toEqual(['/d', '/ids']);
  });

  it('tries the compiled-in pci.ids.gz first, then the name without .gz', () => {
    const reads: string[] = [];
    const r = run([], { '/d': DUMP, '/usr/share/misc/pci.ids': IDS }, reads);
    expect(reads).toEqual(['/d', '/usr/share/misc/pci.ids.gz', '/usr/share/misc/pci.ids']);
    expect(r.stdout.split('\n')[0]).toBe('00:00.0 Net [0200]: Vend A Dev A');
  });

  it('falls back to numbers when the database cannot be read', () => {
    const r = run(['-i', '/nonexistent', '-v']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([
      '00:00.0 Class 0200: Device 1af4:1041',
      '\tSubsystem: Device 1b36:0005',
    ]);
  });

  it('stops on a malformed database after the slot, like lspci', () => {
    const r = run(['-i', '/bad'], { '/d': DUMP, '/bad': '1af4  A\n\t1041  B\nzz bad\n' });
    expect(r).toEqual({ stdout: '00:00.0', stderr: 'lspci: Parse error at /bad, line 3\n\n', status: 1 });
    const dup = run(['-i', '/dup'], { '/d': DUMP, '/dup': '1af4  A\n1af4  B\n' });
    expect(dup.stderr).toBe('lspci: Duplicate entry at /dup, line 2\n\n');
    const noVendor = run(['-i', '/s'], { '/d': DUMP, '/s': 'S 1234\n' });
    expect(noVendor.stderr).toBe('lspci: Vendor does not exist at /s, line 1\n\n');
  });

  it('parses the database again when the file changed', () => {
    const first = run(['-i', '/ids'], { '/d': DUMP, '/ids': IDS });
    const second = run(['-i', '/ids'], { '/d': DUMP, '/ids': IDS.replace('Dev A', 'Dev Z') });
    expect(first.stdout.split('\n')[0]).toBe('00:00.0 Net [0200]: Vend A Dev A');
    expect(second.stdout.split('\n')[0]).toBe('00:00.0 Net [0200]: Vend A Dev Z');
  });

  it('cuts a name that does not fit lspci’s 128-byte buffer with "..."', () => {
    const long = 'N'.repeat(200);
    const r = run(['-i', '/long'], { '/d': DUMP, '/long': `1af4  ${long}\n\t1041  D\n` });
    expect(r.stdout.split('\n')[0]).toBe(`00:00.0 Class 0200: ${'N'.repeat(124)}...`);
  });
});
