/**
 * The hex dump format: reading it as `lspci -F` does (pciutils lib/dump.c rules, checked against the
 * real lspci), and writing it with formatDump so that lspci reads it back.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import { formatDump, type LspciDevice, parseLspciDump, runLspci } from '../../src/lab/lspci/index.js';
import { dumpBytes, expected, FIXTURES, nodeIo } from './helpers.js';

const text = (file: string): string => readFileSync(join(FIXTURES, file), 'utf8');

function parseError(input: string): string {
  try {
    parseLspciDump(input);
  } catch (e) {
    if (isLabError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('parseLspciDump', () => {
  it('reads every device of a dump in file order, with the bytes given', () => {
    const devices = parseLspciDump(text('topology.dump'));
    expect(devices.map((d) => [d.bdf.bus, d.bdf.devfn, d.config.length])).toEqual([
      [0, 0, 256],
      [0, 8, 4096],
      [0, 16, 4096],
      [1, 0, 4096],
      [1, 1, 4096],
      [2, 0, 64],
      [3, 0, 256],
    ]);
    expect(devices[3]!.config).toEqual(dumpBytes('pf-endpoint.dump'));
    expect(devices[4]!.sysfs).toBeUndefined();
  });

  it('reads domains of four and five digits', () => {
    const d = parseLspciDump('0001:02:03.4 x\n00: 01\n\n12345:00:1f.7 y\n00: 02\n');
    expect(d.map((x) => x.bdf)).toEqual([
      { domain: 1, bus: 2, devfn: (3 << 3) | 4 },
      { domain: 0x12345, bus: 0, devfn: (0x1f << 3) | 7 },
    ]);
  });

  it('fills bytes not given with ff, up to the highest byte given', () => {
    const [d] = parseLspciDump('00:00.0 x\r\n00: 86 80\r\n10: 01\r\n');
    expect(d!.config.length).toBe(0x11);
    expect(Array.from(d!.config.subarray(0, 4))).toEqual([0x86, 0x80, 0xff, 0xff]);
    expect(d!.config[0x10]).toBe(1);
  });

  it('ignores lines it does not know, and byte lines outside a device', () => {
    const d = parseLspciDump('junk\n00: 11\n01:02.3 y\n\tSubsystem: z\n00: 86 80\n\n10: 99\n');
    expect(d).toHaveLength(1);
    expect(Array.from(d[0]!.config)).toEqual([0x86, 0x80]);
  });

  it('rejects what lspci rejects, with lspci’s messages', () => {
    expect(parseError('00:00.0 x\n00: 86 8\n')).toBe('bad-input: dump: Malformed line');
    expect(parseError('00:00.0 x\n00: 86 80  01\n')).toBe('bad-input: dump: Malformed line');
    expect(parseError('00:00.0 x\n00: 86 80')).toBe('bad-input: dump: line too long or unterminated');
    expect(parseError(`00:00.0 x\n00: ${'00 '.repeat(90)}\n`)).toBe(
      'bad-input: dump: line too long or unterminated',
    );
    expect(parseError('00:00.0 x\nfff: 01 02\n')).toBe(
      'bad-input: dump: At most 4096 bytes of config space are supported',
    );
  });

  it('makes runLspci -F fail the way lspci does', () => {
    const io = { readFile: () => '00:00.0 x\n00: zz\n' };
    expect(runLspci(['-F', '/x'], [], io)).toEqual({
      stdout: '',
      stderr: 'lspci: dump: Malformed line\n',
      status: 1,
    });
    const missing = runLspci(['-F', '/nonexistent'], [], nodeIo);
    expect(missing).toEqual({
      stdout: '',
      stderr: 'lspci: dump: Cannot open /nonexistent: No such file or directory\n',
      status: 1,
    });
  });
});

describe('formatDump', () => {
  it('writes what `lspci -n -xxxx` prints', () => {
    for (const file of ['pf-endpoint.dump', 'accel-64.dump']) {
      const [d] = parseLspciDump(text(file));
      expect(formatDump(d!)).toBe(expected(file, ['-n', '-xxxx']));
    }
  });

  it('shows a non-zero domain, or any domain on request', () => {
    const d: LspciDevice = {
      bdf: { domain: 0, bus: 1, devfn: 9 } as LspciDevice['bdf'],
      config: new Uint8Array(64),
    };
    expect(formatDump(d).split('\n')[0]).toBe('01:01.1 0000: 0000:0000');
    expect(formatDump(d, { domain: true }).split('\n')[0]).toBe('0000:01:01.1 0000: 0000:0000');
  });

  it('round-trips any config space through parseLspciDump', () => {
    const device = fc.record({
      domain: fc.integer({ min: 0, max: 0xffff }),
      bus: fc.integer({ min: 0, max: 0xff }),
      devfn: fc.integer({ min: 0, max: 0xff }),
      size: fc.constantFrom(64, 256, 4096),
      seed: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    });
    fc.assert(
      fc.property(device, ({ domain, bus, devfn, size, seed }) => {
        const config = new Uint8Array(size).map((_, i) => seed[i % 64]! ^ (i & 0xff));
        const d: LspciDevice = { bdf: { domain, bus, devfn } as LspciDevice['bdf'], config };
        const back = parseLspciDump(formatDump(d));
        expect(back).toHaveLength(1);
        expect(back[0]!.bdf).toEqual({ domain, bus, devfn });
        expect(back[0]!.config).toEqual(config);
      }),
      { numRuns: 200 },
    );
  });
});
