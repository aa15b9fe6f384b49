/**
 * Path resolution over sysfs nodes, done the way the Linux VFS walks a path (fs/namei.c): components
 * left to right; `.` stays; `..` goes to the physical parent of where the walk is, also after a symlink
 * was followed (so `physfn/..` is the PF's parent, not the VF's directory); a symlink's target is read
 * relative to the directory holding the link, or from `/` when absolute; an intermediate component
 * must be a directory (ENOTDIR); a trailing slash makes the last component follow links and be a
 * directory; the 41st symlink of one walk fails with ELOOP.
 *
 * The walk can also tolerate missing components, for opening with O_CREAT (the last one) and for
 * coreutils' canonicalization modes (`readlink -f`: the last one; `readlink -m`: any, the rest lexical).
 *
 * Relative paths start at `/` (a process whose working directory is the root); the shell joins its
 * own working directory in front before it calls here.
 */
import { errnoError, LabError } from '../../base/index.js';
import type { SysfsDir, SysfsNode } from './node.js';

/** Links one walk may follow (MAXSYMLINKS, include/linux/namei.h). */
export const MAXSYMLINKS = 40;
/** Longest path name, terminating NUL included (PATH_MAX, include/uapi/linux/limits.h). */
export const PATH_MAX = 4096;
/** Longest component (NAME_MAX, include/uapi/linux/limits.h). */
export const NAME_MAX = 255;

export type MissingPolicy = 'none' | 'last' | 'any';

export interface WalkOptions {
  /** Follow a symlink named by the last component (stat vs lstat). */
  readonly follow: boolean;
  /** Which components may be missing: none, only the last (O_CREAT, readlink -f), any (readlink -m). */
  readonly missing?: MissingPolicy;
  /** Opening with O_CREAT: a trailing slash fails with EISDIR before the last component is looked up. */
  readonly create?: boolean;
}

export type WalkResult =
  | { readonly kind: 'found'; readonly node: SysfsNode; readonly path: string }
  /** Only with `missing` 'last' or 'any': the canonical path the missing object would have. */
  | { readonly kind: 'missing'; readonly path: string };

interface Frame {
  readonly name: string;
  /** undefined for a component that does not exist (only while walking with missing: 'any'). */
  readonly node: SysfsNode | undefined;
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '');
}

function hasTrailingSlash(path: string): boolean {
  return path.endsWith('/') && components(path).length > 0;
}

function pathOf(frames: readonly Frame[]): string {
  return frames.length <= 1 ? '/' : frames.map((f) => f.name).join('/');
}

export function walk(root: SysfsDir, path: string, opts: WalkOptions): WalkResult {
  if (path === '') throw errnoError('ENOENT', 'empty path');
  if (path.length >= PATH_MAX) throw errnoError('ENAMETOOLONG', `path of ${path.length} bytes`);
  const missing = opts.missing ?? 'none';
  const frames: Frame[] = [{ name: '', node: root }];
  const pending = components(path).reverse();
  let trailingSlash = hasTrailingSlash(path);
  let linksFollowed = 0;
  while (pending.length > 0) {
    const name = pending.pop()!;
    const last = pending.length === 0;
    if (name.length > NAME_MAX) throw errnoError('ENAMETOOLONG', name);
    if (name === '.') continue;
    if (name === '..') {
      if (frames.length > 1) frames.pop();
      continue;
    }
    if (last && trailingSlash && opts.create)
      throw errnoError('EISDIR', `${path}: cannot create with a trailing slash`);
    const here = frames[frames.length - 1]!.node;
    let child: SysfsNode | undefined;
    if (here?.kind === 'dir')
      child = here.lookup !== undefined ? here.lookup(name) : here.entries().get(name);
    else if (missing !== 'any')
      throw new LabError('internal', `sysfs walk of ${path}: stepped below a non-directory`);
    if (child === undefined) {
      if (missing === 'any') {
        frames.push({ name, node: undefined });
        continue;
      }
      if (missing === 'last' && last)
        return { kind: 'missing', path: pathOf([...frames, { name, node: undefined }]) };
      throw errnoError('ENOENT', path);
    }
    if (child.kind === 'link' && (!last || opts.follow || trailingSlash)) {
      if (++linksFollowed > MAXSYMLINKS) throw errnoError('ELOOP', path);
      const target = child.target();
      if (target === '') throw errnoError('ENOENT', `${path}: empty symlink target`);
      if (target.startsWith('/')) frames.length = 1;
      if (last && hasTrailingSlash(target)) trailingSlash = true;
      pending.push(...components(target).reverse());
      continue;
    }
    if (child.kind !== 'dir' && (!last || trailingSlash) && missing !== 'any')
      throw errnoError('ENOTDIR', path);
    frames.push({ name, node: child });
  }
  const end = frames[frames.length - 1]!.node;
  return end === undefined
    ? { kind: 'missing', path: pathOf(frames) }
    : { kind: 'found', node: end, path: pathOf(frames) };
}
