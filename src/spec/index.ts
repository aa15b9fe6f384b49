export * from './errno.js';
export * as pci from './pci-regs.js';
export * as vadmin from './virtio-admin.js';
export * as virtio from './virtio-pci.js';
export * as vring from './virtio-ring.js';
