export * from './errno.js';
export * as pci from './pci-regs.js';
