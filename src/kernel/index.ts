/** One host kernel. */
export * from './log.js';
export * from './pci/index.js';
