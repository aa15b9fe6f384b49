export * from './errno.js';
export * as iommufd from './iommufd.js';
export * as netlink from './netlink.js';
export * as pci from './pci-regs.js';
export * as vfio from './vfio.js';
export * as vadmin from './virtio-admin.js';
export * as virtio from './virtio-pci.js';
export * as vring from './virtio-ring.js';
