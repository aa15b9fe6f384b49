/** The kernel's PCI core: enumeration by config cycles, resources, SR-IOV. */
export * from './config-access.js';
export * from './iov.js';
export * from './pci-core.js';
export * from './pci-dev.js';
export * from './pci-driver.js';
export * from './probe.js';
export * from './resource.js';
export * from './setup-res.js';
