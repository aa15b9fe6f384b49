/** The modern virtio PCI transport, device side: capabilities, registers, legacy view, parts. */
export * from './common-parts.js';
export * from './dma-queue-memory.js';
export * from './legacy-view.js';
export * from './virtio-caps.js';
export * from './virtio-member.js';
export * from './virtio-pci-transport.js';
