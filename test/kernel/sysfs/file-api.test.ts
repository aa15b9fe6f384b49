/** The sysfs file API: reads, writes, listings, stat and the errno of each failure. */
import { describe, expect, it } from 'vitest';
import { errnoError, isLabError } from '../../../src/base/index.js';
import { attr, Sysfs, staticDir } from '../../../src/kernel/sysfs/index.js';
import { CONFIG_HEAD, fakeTree, PF, PF_DIR } from './fake-tree.js';

function errnoOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (isLabError(e) && e.errno !== undefined) return e.errno;
    throw e;
  }
}

const PF_LINK = `/sys/bus/pci/devices/${PF}`;
const DRIVER = '/sys/bus/pci/drivers/virtio-pci';

describe('reading', () => {
  const fs = new Sysfs(fakeTree().root);

  it('returns attribute text through links', () => {
    expect(fs.read(`${PF_LINK}/vendor`)).toBe('0x1af4\n');
    expect(fs.read('/sys/loop/to-file')).toBe('0x1af4\n');
  });

  it('returns binary attributes as bytes', () => {
    const config = fs.read(`${PF_DIR}/config`);
    expect(config).toBeInstanceOf(Uint8Array);
    expect([...(config as Uint8Array).subarray(0, 8)]).toEqual(CONFIG_HEAD);
    expect((config as Uint8Array).length).toBe(256);
  });

  it('refuses a file without read permission with EACCES, at open', () => {
    expect(errnoOf(() => fs.read(`${DRIVER}/bind`))).toBe('EACCES');
    expect(errnoOf(() => fs.open(`${DRIVER}/bind`, { access: 'read' }))).toBe('EACCES');
  });

  it('opens a directory for reading but fails the read with EISDIR', () => {
    const file = fs.open('/sys/bus', { access: 'read' });
    expect(errnoOf(() => file.read())).toBe('EISDIR');
    expect(errnoOf(() => fs.read(PF_LINK))).toBe('EISDIR');
  });

  it("passes the show callback's errno through", () => {
    expect(errnoOf(() => fs.read(`${PF_DIR}/broken`))).toBe('ENODEV');
  });

  it('answers EIO for a readable mode without show (the driver core default)', () => {
    expect(errnoOf(() => fs.read('/sys/loop/no-show'))).toBe('EIO');
  });

  it('fails lookups with ENOENT, ENOTDIR and ELOOP', () => {
    expect(errnoOf(() => fs.read(`${PF_LINK}/nope`))).toBe('ENOENT');
    expect(errnoOf(() => fs.read(`${PF_LINK}/vendor/`))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.read('/sys/loop/a'))).toBe('ELOOP');
    expect(errnoOf(() => fs.read('/sys/loop/dangling'))).toBe('ENOENT');
  });

  it('cuts text at PAGE_SIZE - 1 and binary data at the attribute size', () => {
    const big = new Sysfs(
      staticDir({
        text: attr({ show: () => 'y'.repeat(5000) }),
        page: attr({ show: () => 'z'.repeat(4095) }),
        bin: attr({ mode: 0o444, sizeBytes: 4, show: () => new Uint8Array([1, 2, 3, 4, 5, 6]) }),
      }),
    );
    expect((big.read('/text') as string).length).toBe(4095);
    expect((big.read('/page') as string).length).toBe(4095);
    expect([...(big.read('/bin') as Uint8Array)]).toEqual([1, 2, 3, 4]);
  });
});

describe('writing', () => {
  it('hands the whole buffer, newline included, to one store call', () => {
    const tree = fakeTree();
    const fs = new Sysfs(tree.root);
    fs.write(`${PF_LINK}/sriov_numvfs`, '4\n');
    expect(tree.numvfsWrites).toEqual(['4\n']);
    expect(fs.read(`${PF_DIR}/sriov_numvfs`)).toBe('4\n');
    fs.write(`${DRIVER}/bind`, `${PF}\n`);
    expect(tree.bindWrites).toEqual([`${PF}\n`]);
  });

  it("passes the store callback's errno through", () => {
    const tree = fakeTree();
    const fs = new Sysfs(tree.root);
    expect(errnoOf(() => fs.write(`${PF_LINK}/sriov_numvfs`, '9\n'))).toBe('ERANGE');
    expect(errnoOf(() => fs.write(`${PF_LINK}/sriov_numvfs`, 'x\n'))).toBe('EINVAL');
    expect(tree.numVfs()).toBe(0);
  });

  it('never calls store for an empty write', () => {
    const tree = fakeTree();
    new Sysfs(tree.root).write(`${PF_LINK}/sriov_numvfs`, '');
    expect(tree.numvfsWrites).toEqual([]);
  });

  it('splits a write longer than a page into page-sized stores', () => {
    const got: number[] = [];
    const fs = new Sysfs(staticDir({ sink: attr({ store: (t) => void got.push(t.length) }) }));
    fs.write('/sink', 'a'.repeat(4096 * 2 + 10));
    expect(got).toEqual([4096, 4096, 10]);
  });

  it('fails opens like Linux: EACCES, EISDIR, ENOENT, ENOTDIR', () => {
    const fs = new Sysfs(fakeTree().root);
    expect(errnoOf(() => fs.write(`${PF_LINK}/vendor`, '1\n'))).toBe('EACCES');
    expect(errnoOf(() => fs.write(PF_LINK, '1\n'))).toBe('EISDIR');
    expect(errnoOf(() => fs.write('/sys/bus', '1\n'))).toBe('EISDIR');
    // O_CREAT in a sysfs directory: kernfs has no ->create.
    expect(errnoOf(() => fs.write(`${PF_LINK}/new_attr`, '1\n'))).toBe('EACCES');
    expect(errnoOf(() => fs.write('/sys/loop/dangling', '1\n'))).toBe('EACCES');
    // A trailing slash with O_CREAT is EISDIR before the name is even looked up.
    expect(errnoOf(() => fs.write(`${PF_LINK}/sriov_numvfs/`, '1\n'))).toBe('EISDIR');
    expect(errnoOf(() => fs.write(`${PF_LINK}/new_dir/`, '1\n'))).toBe('EISDIR');
    expect(errnoOf(() => fs.write('/sys/nope/x', '1\n'))).toBe('ENOENT');
    expect(errnoOf(() => fs.write(`${PF_LINK}/vendor/x`, '1\n'))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.write('/sys/loop/a', '1\n'))).toBe('ELOOP');
  });

  it('answers EIO for a writable mode without store, and EBADF for the wrong direction', () => {
    const fs = new Sysfs(
      staticDir({
        ro: attr({ mode: 0o644, show: () => 'x\n' }),
        rw: attr({ show: () => 'x\n', store: () => {} }),
      }),
    );
    expect(errnoOf(() => fs.write('/ro', '1\n'))).toBe('EIO');
    expect(errnoOf(() => fs.open('/rw', { access: 'read' }).write('1\n'))).toBe('EBADF');
    expect(errnoOf(() => fs.open('/rw', { access: 'write' }).read())).toBe('EBADF');
  });

  it('writes to the file it opened, even if the callback throws later', () => {
    let calls = 0;
    const fs = new Sysfs(
      staticDir({
        once: attr({
          store: () => {
            if (calls++ > 0) throw errnoError('EBUSY');
          },
        }),
      }),
    );
    const file = fs.open('/once', { access: 'write', create: true });
    file.write('1\n');
    expect(errnoOf(() => file.write('1\n'))).toBe('EBUSY');
  });
});

describe('listing, readlink and stat', () => {
  const tree = fakeTree();
  const fs = new Sysfs(tree.root);

  it('lists entries in C-locale order, generated on each call', () => {
    expect(fs.list(PF_LINK)).toEqual([
      'broken',
      'config',
      'device',
      'driver',
      'power',
      'remove',
      'sriov_numvfs',
      'sriov_totalvfs',
      'subsystem',
      'vendor',
    ]);
    fs.write(`${PF_LINK}/sriov_numvfs`, '1\n');
    expect(fs.list(PF_LINK)).toContain('virtfn0');
    expect(fs.list('/sys/bus/pci/devices')).toEqual(['0000:00:01.0', '0000:01:00.0', '0000:01:00.1']);
    fs.write(`${PF_LINK}/sriov_numvfs`, '0\n');
    expect(fs.list('/sys/bus/pci/devices')).toEqual(['0000:00:01.0', '0000:01:00.0']);
    expect(new Sysfs(staticDir({ b: staticDir({}), B: staticDir({}), _: staticDir({}) })).list('/')).toEqual([
      'B',
      '_',
      'b',
    ]);
  });

  it('refuses to list a file', () => {
    expect(errnoOf(() => fs.list(`${PF_LINK}/vendor`))).toBe('ENOTDIR');
  });

  it('reads link targets as stored, and EINVAL for anything else', () => {
    expect(fs.readlink(PF_LINK)).toBe(`../../../devices/pci0000:00/0000:00:01.0/${PF}`);
    expect(fs.readlink('/sys/loop/a')).toBe('b');
    expect(errnoOf(() => fs.readlink(`${PF_LINK}/vendor`))).toBe('EINVAL');
    expect(errnoOf(() => fs.readlink(`${PF_LINK}/`))).toBe('EINVAL');
    expect(errnoOf(() => fs.readlink('/sys/nope'))).toBe('ENOENT');
  });

  it('stats modes, sizes and link counts as sysfs reports them', () => {
    expect(fs.stat(`${PF_LINK}/vendor`)).toEqual({ kind: 'attr', mode: 0o444, sizeBytes: 4096, nlink: 1 });
    expect(fs.stat(`${PF_LINK}/config`)).toEqual({ kind: 'attr', mode: 0o644, sizeBytes: 256, nlink: 1 });
    expect(fs.stat(`${DRIVER}/bind`)).toEqual({ kind: 'attr', mode: 0o200, sizeBytes: 4096, nlink: 1 });
    expect(fs.stat(PF_LINK, { follow: false })).toEqual({
      kind: 'link',
      mode: 0o777,
      sizeBytes: 0,
      nlink: 1,
    });
    // A directory counts itself, its `..` entry and each real subdirectory, but no links to directories.
    expect(fs.stat(PF_LINK)).toEqual({ kind: 'dir', mode: 0o755, sizeBytes: 0, nlink: 3 });
    expect(fs.stat('/sys/bus/pci/devices').nlink).toBe(2);
  });
});
