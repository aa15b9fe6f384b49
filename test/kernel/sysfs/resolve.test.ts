/** Path resolution and canonical paths: dots, relative and absolute symlinks, physical `..`, ELOOP. */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../../src/base/index.js';
import { attr, link, Sysfs, type SysfsNode, staticDir } from '../../../src/kernel/sysfs/index.js';
import { fakeTree, PF, PF_DIR, VF0 } from './fake-tree.js';

/** The errno a call fails with, or 'ok'. */
function errnoOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (isLabError(e) && e.errno !== undefined) return e.errno;
    throw e;
  }
}

const ROOT_PORT = '/sys/devices/pci0000:00/0000:00:01.0';

describe('resolve', () => {
  const tree = fakeTree();
  const fs = new Sysfs(tree.root);

  it('walks plain paths, ignoring repeated slashes and dots', () => {
    expect(fs.resolve('/', { follow: true }).path).toBe('/');
    expect(fs.resolve('//sys/./bus//pci/', { follow: true }).path).toBe('/sys/bus/pci');
    expect(fs.resolve('/sys/bus/..', { follow: true }).path).toBe('/sys');
    expect(fs.resolve('/..', { follow: true }).path).toBe('/');
    expect(fs.resolve('/sys/../../sys', { follow: true }).path).toBe('/sys');
  });

  it('follows a relative link from the directory that holds it', () => {
    const r = fs.resolve(`/sys/bus/pci/devices/${PF}`, { follow: true });
    expect(r.path).toBe(PF_DIR);
    expect(r.node.kind).toBe('dir');
    expect(fs.resolve(`/sys/bus/pci/devices/${PF}/vendor`, { follow: true }).path).toBe(`${PF_DIR}/vendor`);
  });

  it('returns the link itself without follow, and follows it anyway with a trailing slash', () => {
    const bare = fs.resolve(`/sys/bus/pci/devices/${PF}`, { follow: false });
    expect(bare.node.kind).toBe('link');
    expect(bare.path).toBe(`/sys/bus/pci/devices/${PF}`);
    expect(fs.resolve(`/sys/bus/pci/devices/${PF}/`, { follow: false }).path).toBe(PF_DIR);
  });

  it("takes '..' after a link physically, as the kernel does", () => {
    expect(fs.resolve(`/sys/bus/pci/devices/${PF}/..`, { follow: true }).path).toBe(ROOT_PORT);
    expect(fs.resolve(`/sys/bus/pci/devices/${PF}/subsystem/..`, { follow: true }).path).toBe('/sys/bus');
  });

  it('follows physfn-style links with .. in their targets', () => {
    fs.write(`${PF_DIR}/sriov_numvfs`, '2\n');
    expect(fs.resolve(`/sys/bus/pci/devices/${PF}/virtfn0`, { follow: true }).path).toBe(
      `${ROOT_PORT}/${VF0}`,
    );
    expect(fs.resolve(`/sys/bus/pci/devices/${VF0}/physfn`, { follow: true }).path).toBe(PF_DIR);
    expect(
      fs.resolve(`/sys/bus/pci/devices/${PF}/virtfn1/physfn/virtfn0/physfn/..`, { follow: true }).path,
    ).toBe(ROOT_PORT);
    fs.write(`${PF_DIR}/sriov_numvfs`, '0\n');
    expect(errnoOf(() => fs.resolve(`/sys/bus/pci/devices/${VF0}`, { follow: true }))).toBe('ENOENT');
  });

  it('restarts from / for an absolute target', () => {
    expect(fs.resolve('/sys/loop/absolute/devices', { follow: true }).path).toBe('/sys/bus/pci/devices');
  });

  it('fails like the VFS: ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG', () => {
    expect(errnoOf(() => fs.resolve('/sys/nope', { follow: true }))).toBe('ENOENT');
    expect(errnoOf(() => fs.resolve('/sys/nope/..', { follow: true }))).toBe('ENOENT');
    expect(errnoOf(() => fs.resolve('', { follow: true }))).toBe('ENOENT');
    expect(errnoOf(() => fs.resolve(`${PF_DIR}/vendor/x`, { follow: true }))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.resolve(`${PF_DIR}/vendor/`, { follow: true }))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.resolve(`${PF_DIR}/vendor/..`, { follow: true }))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.resolve('/sys/loop/a', { follow: true }))).toBe('ELOOP');
    expect(errnoOf(() => fs.resolve('/sys/loop/self/x', { follow: false }))).toBe('ELOOP');
    expect(errnoOf(() => fs.resolve('/sys/loop/dangling', { follow: true }))).toBe('ENOENT');
    expect(errnoOf(() => fs.resolve(`/sys/${'x'.repeat(256)}`, { follow: true }))).toBe('ENAMETOOLONG');
    expect(errnoOf(() => fs.resolve(`/sys/${'x'.repeat(255)}`, { follow: true }))).toBe('ENOENT');
    // lstat of a looping or dangling link itself works.
    expect(fs.resolve('/sys/loop/a', { follow: false }).node.kind).toBe('link');
    expect(fs.resolve('/sys/loop/dangling', { follow: false }).node.kind).toBe('link');
  });

  it('follows 40 links in one walk and fails on the 41st', () => {
    // A chain l0 -> l1 -> ... -> l(n-1) -> file: resolving l0 follows exactly n links.
    const chain = (n: number): Sysfs => {
      const entries: Record<string, SysfsNode> = { file: attr({ show: () => 'end\n' }) };
      for (let i = 0; i < n; i++) entries[`l${i}`] = link(i === n - 1 ? 'file' : `l${i + 1}`);
      return new Sysfs(staticDir({ d: staticDir(entries) }));
    };
    expect(chain(40).read('/d/l0')).toBe('end\n');
    expect(errnoOf(() => chain(41).read('/d/l0'))).toBe('ELOOP');
  });
});

describe('realpath', () => {
  const fs = new Sysfs(fakeTree().root);

  it('canonicalizes like readlink -f: all but the last component must exist', () => {
    expect(fs.realpath(`/sys/bus/pci/devices/${PF}`)).toBe(PF_DIR);
    expect(fs.realpath(`/sys/bus/pci/devices/${PF}/driver`)).toBe('/sys/bus/pci/drivers/virtio-pci');
    expect(fs.realpath(`/sys/bus/pci/devices/${PF}/nope`)).toBe(`${PF_DIR}/nope`);
    expect(fs.realpath('/sys/nope/')).toBe('/sys/nope');
    expect(fs.realpath('/sys/loop/dangling')).toBe('/sys/loop/nowhere');
    expect(errnoOf(() => fs.realpath('/sys/nope/x'))).toBe('ENOENT');
    expect(errnoOf(() => fs.realpath(`${PF_DIR}/vendor/x`))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.realpath('/sys/loop/a'))).toBe('ELOOP');
  });

  it('requires everything with existing (-e) and nothing with missing (-m)', () => {
    expect(errnoOf(() => fs.realpath(`${PF_DIR}/nope`, 'existing'))).toBe('ENOENT');
    expect(fs.realpath(`/sys/bus/pci/devices/${PF}/vendor`, 'existing')).toBe(`${PF_DIR}/vendor`);
    expect(fs.realpath('/sys/nope/x/../y', 'missing')).toBe('/sys/nope/y');
    expect(fs.realpath(`/sys/nope/../bus/pci/devices/${PF}/..`, 'missing')).toBe(ROOT_PORT);
    expect(fs.realpath(`${PF_DIR}/vendor/x`, 'missing')).toBe(`${PF_DIR}/vendor/x`);
    expect(errnoOf(() => fs.realpath('/sys/loop/b/x', 'missing'))).toBe('ELOOP');
  });

  it('resolves relative paths from /', () => {
    expect(fs.realpath('sys/bus/../devices')).toBe('/sys/devices');
  });
});
