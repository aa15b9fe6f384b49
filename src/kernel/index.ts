/** One host kernel. */
export * from './auxiliary/auxiliary.js';
export * from './driver-core/device.js';
export * from './driver-core/driver-core.js';
export * from './driver-core/uevent.js';
export * from './drivers/virtio-pci/index.js';
export * from './iommufd/index.js';
export * from './kernel.js';
export * from './kernel-api.js';
export * from './kernel-io.js';
export * from './log.js';
export * from './modules/alias.js';
export * from './modules/modules.js';
export * from './modules/udev.js';
export * from './pci/index.js';
export * from './sysfs/index.js';
export * from './sysfs-tree/index.js';
export * from './vfio/index.js';
