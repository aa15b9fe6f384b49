/**
 * The nodes of the modeled sysfs: directories, attributes and symlinks, as kernfs keeps them
 * (fs/kernfs/, fs/sysfs/). A directory generates its entries from live kernel objects on every call,
 * so the tree can never disagree with them; an attribute is a mode plus show/store callbacks, like a
 * `struct device_attribute`; a link holds the relative target sysfs_create_link would compute.
 *
 * Left out: ownership (everything is root:root), timestamps, poll/notify, mmap of binary attributes,
 * the read/write offsets of binary attributes, namespaced (netns-tagged) entries.
 */
import { LabError } from '../../base/index.js';

/** kernfs gives text attributes a size of PAGE_SIZE (fs/sysfs/file.c, sysfs_add_file_mode_ns). */
export const SYSFS_PAGE_SIZE = 4096;
/** Mode of every sysfs directory: S_IRWXU | S_IRUGO | S_IXUGO (fs/sysfs/dir.c). */
export const SYSFS_DIR_MODE = 0o755;
/** Mode of every kernfs symlink: S_IFLNK | S_IRWXUGO (fs/kernfs/symlink.c). */
export const SYSFS_LINK_MODE = 0o777;
/** The permission bits of a mode (S_IALLUGO without the set-id and sticky bits sysfs never uses). */
export const SYSFS_PERM_MASK = 0o777;
/** Any read bit / any write bit (S_IRUGO, S_IWUGO in include/linux/stat.h). */
export const S_IRUGO = 0o444;
export const S_IWUGO = 0o222;

export type SysfsNode = SysfsDir | SysfsAttr | SysfsLink;

export interface SysfsDir {
  readonly kind: 'dir';
  /** The directory's entries, generated on each call from the objects behind them. */
  entries(): ReadonlyMap<string, SysfsNode>;
  /**
   * One entry by name, without generating the others (path walks use it). Must agree with
   * `entries()`; directories without it are searched through `entries()`.
   */
  lookup?(name: string): SysfsNode | undefined;
}

export interface SysfsAttr {
  readonly kind: 'attr';
  /** Permission bits: 0o444, 0o644, 0o200, 0o400 ... */
  readonly mode: number;
  /** The attribute's text, or bytes for a binary attribute (config). Throws a LabError with an errno. */
  show?(): string | Uint8Array;
  /** Receives one write(2) buffer, trailing newline included. Throws a LabError with an errno. */
  store?(text: string): void;
  /** What stat and `ls -l` report: PAGE_SIZE for text attributes, the bin_attribute size otherwise. */
  readonly sizeBytes?: number;
}

export interface SysfsLink {
  readonly kind: 'link';
  /** The target, relative to the link's directory, e.g. `../../../devices/pci0000:00/0000:00:01.0`. */
  target(): string;
}

/** A name a directory may hold: not empty, not `.` or `..`, no `/` or NUL. */
export function isValidEntryName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function checkNames(names: Iterable<string>): void {
  for (const name of names) {
    if (!isValidEntryName(name)) throw new LabError('internal', `sysfs: invalid entry name '${name}'`);
  }
}

/**
 * A directory whose entries come from `entriesFn` each time they are listed or looked up. A large
 * directory (1000 VF links) passes `lookupFn` so that a path walk does not build every entry.
 */
export function dir(
  entriesFn: () => Iterable<readonly [string, SysfsNode]>,
  lookupFn?: (name: string) => SysfsNode | undefined,
): SysfsDir {
  const node: SysfsDir = {
    kind: 'dir',
    entries() {
      const map = new Map<string, SysfsNode>(entriesFn());
      checkNames(map.keys());
      return map;
    },
  };
  return lookupFn === undefined ? node : { ...node, lookup: lookupFn };
}

/** A directory with a fixed set of entries. */
export function staticDir(record: Readonly<Record<string, SysfsNode>>): SysfsDir {
  const map: ReadonlyMap<string, SysfsNode> = new Map(Object.entries(record));
  checkNames(map.keys());
  return { kind: 'dir', entries: () => map };
}

export interface AttrSpec {
  /** Defaults as DEVICE_ATTR_RW / _RO / _WO give it: 0o644, 0o444 or 0o200 from the callbacks present. */
  readonly mode?: number;
  readonly show?: () => string | Uint8Array;
  readonly store?: (text: string) => void;
  readonly sizeBytes?: number;
}

/** An attribute file. */
export function attr(spec: AttrSpec): SysfsAttr {
  const { show, store, sizeBytes } = spec;
  let mode = spec.mode;
  if (mode === undefined) {
    if (show !== undefined) mode = store !== undefined ? 0o644 : 0o444;
    else if (store !== undefined) mode = 0o200;
    else throw new LabError('internal', 'sysfs: an attribute without show or store needs an explicit mode');
  }
  if (!Number.isInteger(mode) || mode < 0 || mode > SYSFS_PERM_MASK) {
    throw new LabError('internal', `sysfs: attribute mode ${mode.toString(8)} is not a permission mode`);
  }
  if (sizeBytes !== undefined && (!Number.isInteger(sizeBytes) || sizeBytes < 0)) {
    throw new LabError('internal', `sysfs: attribute size ${sizeBytes} is not a byte count`);
  }
  const node: { -readonly [K in keyof SysfsAttr]: SysfsAttr[K] } = { kind: 'attr', mode };
  if (show !== undefined) node.show = show;
  if (store !== undefined) node.store = store;
  if (sizeBytes !== undefined) node.sizeBytes = sizeBytes;
  return node;
}

/** A symlink; pass a function when the target depends on state (a device that can move). */
export function link(target: string | (() => string)): SysfsLink {
  return { kind: 'link', target: typeof target === 'string' ? () => target : target };
}
