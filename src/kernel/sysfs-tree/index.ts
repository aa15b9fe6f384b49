/** The /sys tree of a kernel. */
export * from './kstrto.js';
export * from './paths.js';
export * from './tree.js';
