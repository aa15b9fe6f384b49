/**
 * Module parameter parsing (kernel/params.c's param_ops for bool, int, uint, charp) and the Modules
 * API on a module declared here: values per loaded instance, an out-of-range int failing the load
 * with ERANGE. Expected values are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  formatParamValue,
  kstrtoint,
  ModuleError,
  type ModuleParamDef,
  Modules,
  parseParamValue,
} from '../../src/kernel/index.js';
import { defaultHost } from './host-support.js';

const P = {
  flag: { name: 'flag', type: 'bool', default: false, mode: 0o644, description: 'a flag' },
  depth: { name: 'depth', type: 'int', default: -1, mode: 0o644, description: 'a signed count' },
  size: { name: 'size', type: 'uint', default: 8, mode: 0o444, description: 'an unsigned count' },
  tag: { name: 'tag', type: 'charp', default: 'none', mode: 0, description: 'a name' },
} as const satisfies Record<string, ModuleParamDef>;

const errnoOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { errno?: string }).errno;
  }
};

describe('param_ops', () => {
  it('parses each type as its kstrto* does', () => {
    expect(parseParamValue(P.flag, undefined)).toBe(true);
    expect(parseParamValue(P.flag, 'N')).toBe(false);
    expect(parseParamValue(P.depth, '-0x10')).toBe(-16);
    expect(parseParamValue(P.depth, '017')).toBe(15);
    expect(parseParamValue(P.size, '4294967295')).toBe(4294967295);
    expect(parseParamValue(P.tag, 'eth0')).toBe('eth0');
    expect(errnoOf(() => parseParamValue(P.flag, ''))).toBe('EINVAL');
    expect(errnoOf(() => parseParamValue(P.depth, undefined))).toBe('EINVAL');
    expect(errnoOf(() => parseParamValue(P.size, '-1'))).toBe('EINVAL');
    expect(errnoOf(() => parseParamValue(P.size, '4294967296'))).toBe('ERANGE');
    expect(errnoOf(() => parseParamValue(P.tag, undefined))).toBe('EINVAL');
  });

  it('kstrtoint: 32-bit signed range, one sign only', () => {
    expect(kstrtoint('2147483647', 10)).toBe(2147483647);
    expect(kstrtoint('-2147483648', 10)).toBe(-2147483648);
    expect(errnoOf(() => kstrtoint('2147483648', 10))).toBe('ERANGE');
    expect(errnoOf(() => kstrtoint('-2147483649', 10))).toBe('ERANGE');
    expect(errnoOf(() => kstrtoint('-+1', 10))).toBe('EINVAL');
  });

  it('formats bool as Y/N and numbers in decimal', () => {
    expect(formatParamValue(P.flag, true)).toBe('Y');
    expect(formatParamValue(P.flag, false)).toBe('N');
    expect(formatParamValue(P.depth, -16)).toBe('-16');
  });
});

describe('Modules with parameters', () => {
  const setup = () => {
    const host = defaultHost();
    const mods = new Modules(
      [
        {
          name: 'x_params',
          builtin: false,
          sizeBytes: 4096,
          depends: [],
          drivers: [],
          params: Object.values(P),
        },
      ],
      host.kernel.core,
      host.kernel.log,
    );
    return { host, mods };
  };

  it('holds per-instance values: set at load, defaults after reload', () => {
    const { mods } = setup();
    mods.modprobe('x-params', false, ['depth=-3', 'size=0x20', 'tag=a=b']);
    expect(mods.param('x_params', 'depth')).toBe(-3);
    expect(mods.param('x_params', 'size')).toBe(32);
    // parse_args splits at the first '=' only.
    expect(mods.param('x_params', 'tag')).toBe('a=b');
    expect(mods.param('x_params', 'flag')).toBe(false);
    mods.rmmod('x_params');
    mods.modprobe('x_params');
    expect(mods.params('x_params').map((p) => [p.def.name, p.value])).toEqual([
      ['flag', false],
      ['depth', -1],
      ['size', 8],
      ['tag', 'none'],
    ]);
  });

  it('keeps the values of a module already loaded (modprobe does not insert it again)', () => {
    const { mods } = setup();
    mods.modprobe('x_params', false, ['depth=5']);
    mods.modprobe('x_params', false, ['depth=6']);
    expect(mods.param('x_params', 'depth')).toBe(5);
  });

  it('fails the load with the setter errno: ERANGE for an int out of range', () => {
    const { host, mods } = setup();
    let err: unknown;
    try {
      mods.modprobe('x_params', false, ['depth=99999999999']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModuleError);
    expect((err as ModuleError).errno).toBe('ERANGE');
    expect((err as ModuleError).message).toBe(
      "modprobe: ERROR: could not insert 'x_params': Numerical result out of range",
    );
    expect(mods.isLoaded('x_params')).toBe(false);
    expect(host.log.records.map((r) => r.text)).toContain(
      "x_params: '99999999999' invalid for parameter 'depth'",
    );
  });

  it('setParam parses with the type and leaves the old value on EINVAL', () => {
    const { mods } = setup();
    mods.modprobe('x_params');
    mods.setParam('x_params', 'depth', '7\n');
    expect(mods.param('x_params', 'depth')).toBe(7);
    expect(errnoOf(() => mods.setParam('x_params', 'depth', 'seven'))).toBe('EINVAL');
    expect(mods.param('x_params', 'depth')).toBe(7);
  });
});
