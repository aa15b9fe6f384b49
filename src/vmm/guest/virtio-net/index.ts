/** The guest virtio-net driver, its access interfaces and the two virtio PCI transports it drives. */
export * from './guest-access.js';
export * from './pci-capabilities.js';
export * from './virtio-net-guest-driver.js';
export * from './virtio-net-types.js';
export * from './virtio-transport.js';
