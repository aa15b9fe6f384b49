/** virtio_pci: the modern virtio PCI driver, its admin virtqueue, the virtio_pci_admin API, virtio_net. */
export * from './admin-api.js';
export * from './admin-vq.js';
export * from './driver.js';
export * from './fn-provider.js';
export * from './modern-dev.js';
export * from './net.js';
export * from './vq.js';
