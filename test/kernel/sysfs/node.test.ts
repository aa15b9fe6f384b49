/** The node helpers: default modes, validation of names, modes and sizes. */
import { describe, expect, it } from 'vitest';
import { attr, dir, link, Sysfs, staticDir } from '../../../src/kernel/sysfs/index.js';

describe('sysfs node helpers', () => {
  it('derive the mode from the callbacks as DEVICE_ATTR_RO/RW/WO do', () => {
    const show = () => 'x\n';
    const store = () => {};
    expect(attr({ show }).mode).toBe(0o444);
    expect(attr({ show, store }).mode).toBe(0o644);
    expect(attr({ store }).mode).toBe(0o200);
    expect(attr({ mode: 0o400, show }).mode).toBe(0o400);
  });

  it('reject modes, sizes and names that cannot exist', () => {
    expect(() => attr({})).toThrow(/explicit mode/);
    expect(() => attr({ mode: 0o1000 })).toThrow(/not a permission mode/);
    expect(() => attr({ mode: 0o444, sizeBytes: -1 })).toThrow(/byte count/);
    expect(() => staticDir({ 'a/b': link('x') })).toThrow(/invalid entry name/);
    expect(() => staticDir({ '..': link('x') })).toThrow(/invalid entry name/);
    const bad = new Sysfs(staticDir({ d: dir(() => [['', link('x')]]) }));
    expect(() => bad.list('/d')).toThrow(/invalid entry name/);
  });

  it('call a link target function each time the link is read', () => {
    let target = 'a';
    const fs = new Sysfs(staticDir({ l: link(() => target) }));
    expect(fs.readlink('/l')).toBe('a');
    target = 'b';
    expect(fs.readlink('/l')).toBe('b');
  });
});
