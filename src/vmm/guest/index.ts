/** What runs inside a guest: drivers for the devices a VM is given. */

export * from './virtio-net/index.js';
export * from './virtqueue-driver.js';
