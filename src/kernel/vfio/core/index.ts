/** The VFIO core: vfio_device registration, the group and cdev models, device files, features, eventfds. */
export * from './device-file.js';
export * from './device-ops.js';
export * from './eventfd.js';
export * from './feature.js';
export * from './vfio-core.js';
export * from './vfio-device.js';
