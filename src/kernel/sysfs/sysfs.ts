/**
 * The sysfs file API a process sees: open, read, write, readdir, readlink, stat and canonical paths,
 * with the errno Linux gives for each failure. The user is always root (CAP_DAC_OVERRIDE), so the VFS
 * permission check passes and only kernfs' own open check applies: sysfs mounts its root with
 * KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK, and kernfs_fop_open then refuses a read open of a file without any
 * read bit, and a write open of a file without any write bit, with EACCES (fs/kernfs/file.c).
 *
 * Errors (fs/namei.c, fs/kernfs/, fs/sysfs/file.c, drivers/base/core.c):
 * - open for write of a directory: EISDIR (may_open); read(2) of a directory: EISDIR (generic_read_dir).
 * - open with O_CREAT of a name that does not exist: EACCES, because kernfs directories have no
 *   ->create operation (lookup_open); with a trailing slash: EISDIR.
 * - an attribute whose mode allows the access but which has no show/store: EIO, what the driver core's
 *   dev_attr_show / dev_attr_store return when the callback is missing.
 * - show text of PAGE_SIZE bytes or more is cut to PAGE_SIZE - 1 (sysfs_kf_seq_show); a binary
 *   attribute with a size is cut to it (sysfs_kf_bin_read).
 * - a write of zero bytes never reaches store (sysfs_kf_write); a longer one reaches it in PAGE_SIZE
 *   pieces, as kernfs_fop_write_iter takes at most a page per write(2) and stdio writes the rest next.
 *
 * SPEC-DEVIATION: write lengths are counted in UTF-16 code units, which equal bytes for the ASCII that
 * sysfs attributes take. A removed object is not detected between open and write (kernfs would answer
 * ENODEV); the file keeps calling the callbacks it was opened with.
 */
import { errnoError, LabError } from '../../base/index.js';
import {
  S_IRUGO,
  S_IWUGO,
  SYSFS_DIR_MODE,
  SYSFS_LINK_MODE,
  SYSFS_PAGE_SIZE,
  SYSFS_PERM_MASK,
  type SysfsAttr,
  type SysfsDir,
  type SysfsNode,
} from './node.js';
import { walk } from './walk.js';

export interface SysfsStat {
  readonly kind: SysfsNode['kind'];
  /** Permission bits only (0o755 for directories, 0o777 for links). */
  readonly mode: number;
  /** st_size: PAGE_SIZE for text attributes, the binary size for binary ones, 0 for dirs and links. */
  readonly sizeBytes: number;
  /** st_nlink: 2 + subdirectories for a directory (kernfs counts only real directories), else 1. */
  readonly nlink: number;
}

export interface SysfsDirent {
  readonly name: string;
  readonly stat: SysfsStat;
}

export interface ResolvedPath {
  readonly node: SysfsNode;
  /** The canonical (physical, symlink-free) path of the node, or of the link itself when not followed. */
  readonly path: string;
}

/** coreutils' canonicalization modes: `readlink -e`, `readlink -f`, `readlink -m`. */
export type CanonicalizeMode = 'existing' | 'all-but-last' | 'missing';

export interface OpenOptions {
  readonly access: 'read' | 'write';
  /** O_CREAT, as a shell's `>` and `>>` open. */
  readonly create?: boolean;
}

/** C-locale (byte) order of names, as `LC_ALL=C ls` sorts them. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What stat(2) reports for a node. */
export function statOf(node: SysfsNode): SysfsStat {
  switch (node.kind) {
    case 'dir': {
      let subdirs = 0;
      for (const child of node.entries().values()) if (child.kind === 'dir') subdirs++;
      return { kind: 'dir', mode: SYSFS_DIR_MODE, sizeBytes: 0, nlink: 2 + subdirs };
    }
    case 'attr':
      return {
        kind: 'attr',
        mode: node.mode & SYSFS_PERM_MASK,
        sizeBytes: node.sizeBytes ?? SYSFS_PAGE_SIZE,
        nlink: 1,
      };
    case 'link':
      return { kind: 'link', mode: SYSFS_LINK_MODE, sizeBytes: 0, nlink: 1 };
  }
}

/** An open file: what a successful open(2) gives, with the callbacks fixed at open time. */
export class SysfsFile {
  readonly path: string;
  readonly access: OpenOptions['access'];
  readonly #node: SysfsDir | SysfsAttr;

  constructor(node: SysfsDir | SysfsAttr, path: string, access: OpenOptions['access']) {
    this.#node = node;
    this.path = path;
    this.access = access;
  }

  /** One whole read of the file: the attribute's text, or its bytes for a binary attribute. */
  read(): string | Uint8Array {
    if (this.access !== 'read') throw errnoError('EBADF', `${this.path} is open for writing`);
    const node = this.#node;
    if (node.kind === 'dir') throw errnoError('EISDIR', this.path);
    if (node.show === undefined) throw errnoError('EIO', `${this.path} has no show`);
    const value = node.show();
    if (typeof value === 'string')
      return value.length >= SYSFS_PAGE_SIZE ? value.slice(0, SYSFS_PAGE_SIZE - 1) : value;
    const size = node.sizeBytes ?? 0;
    return size > 0 && value.length > size ? value.subarray(0, size) : value;
  }

  /** What write(2) calls until all of `text` is written: store once per PAGE_SIZE piece. */
  write(text: string): void {
    if (this.access !== 'write') throw errnoError('EBADF', `${this.path} is open for reading`);
    const node = this.#node;
    if (node.kind === 'dir')
      throw new LabError('internal', `sysfs: ${this.path}: directory open for writing`);
    if (text.length === 0) return;
    if (node.store === undefined) throw errnoError('EIO', `${this.path} has no store`);
    for (let i = 0; i < text.length; i += SYSFS_PAGE_SIZE) node.store(text.slice(i, i + SYSFS_PAGE_SIZE));
  }
}

/** A mounted tree: `root` is the directory `/` of the paths given to every method. */
export class Sysfs {
  readonly root: SysfsDir;

  constructor(root: SysfsDir) {
    this.root = root;
  }

  /** Look a path up; with follow false a symlink in the last component is returned itself (lstat). */
  resolve(path: string, opts: { readonly follow: boolean }): ResolvedPath {
    const r = walk(this.root, path, { follow: opts.follow });
    if (r.kind !== 'found') throw new LabError('internal', `sysfs: lookup of ${path} came back missing`);
    return { node: r.node, path: r.path };
  }

  stat(path: string, opts: { readonly follow?: boolean } = {}): SysfsStat {
    return statOf(this.resolve(path, { follow: opts.follow ?? true }).node);
  }

  open(path: string, opts: OpenOptions): SysfsFile {
    const r = walk(this.root, path, {
      follow: true,
      missing: opts.create ? 'last' : 'none',
      create: opts.create,
    });
    if (r.kind === 'missing') throw errnoError('EACCES', `${path}: sysfs directories cannot create files`);
    const node = r.node;
    if (node.kind === 'link') throw new LabError('internal', `sysfs: ${path}: open ended on a symlink`);
    if (opts.access === 'write') {
      if (node.kind === 'dir') throw errnoError('EISDIR', path);
      if ((node.mode & S_IWUGO) === 0) throw errnoError('EACCES', `${path} has no write permission`);
    } else if (node.kind === 'attr' && (node.mode & S_IRUGO) === 0) {
      throw errnoError('EACCES', `${path} has no read permission`);
    }
    return new SysfsFile(node, r.path, opts.access);
  }

  /** `cat`: open for reading and read the whole file. */
  read(path: string): string | Uint8Array {
    return this.open(path, { access: 'read' }).read();
  }

  /** A shell's `printf %s TEXT > PATH`: open(O_WRONLY|O_CREAT|O_TRUNC), then write all of `text`. */
  write(path: string, text: string): void {
    this.open(path, { access: 'write', create: true }).write(text);
  }

  /** The entries of a directory (following links), sorted in C-locale order, without `.` and `..`. */
  readdir(path: string): SysfsDirent[] {
    const { node } = this.resolve(path, { follow: true });
    if (node.kind !== 'dir') throw errnoError('ENOTDIR', path);
    return [...node.entries()]
      .map(([name, child]) => ({ name, stat: statOf(child) }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  /** The names in a directory, sorted in C-locale order. */
  list(path: string): string[] {
    return this.readdir(path).map((e) => e.name);
  }

  /** readlink(2): the target of a symlink as stored; EINVAL for anything else. */
  readlink(path: string): string {
    const { node } = this.resolve(path, { follow: false });
    if (node.kind !== 'link') throw errnoError('EINVAL', `${path} is not a symlink`);
    return node.target();
  }

  /** The canonical path; by default what `readlink -f` prints (all but the last component must exist). */
  realpath(path: string, mode: CanonicalizeMode = 'all-but-last'): string {
    const missing = mode === 'existing' ? 'none' : mode === 'all-but-last' ? 'last' : 'any';
    return walk(this.root, path, { follow: true, missing }).path;
  }
}
