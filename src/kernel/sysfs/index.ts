/**
 * sysfs: the node types the driver core builds /sys from, path resolution like the Linux VFS, and the
 * file API (open, read, write, readdir, readlink, stat, canonical paths) with Linux's errnos.
 */
export * from './node.js';
export * from './sysfs.js';
export { MAXSYMLINKS, NAME_MAX, PATH_MAX } from './walk.js';
