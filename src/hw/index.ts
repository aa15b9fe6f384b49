/** The emulated silicon: PCI functions, config space, capabilities, BARs, SR-IOV, the PCIe fabric. */
export * from './bar.js';
export * from './capability-builder.js';
export * from './caps/ari.js';
export * from './caps/msix.js';
export * from './caps/pcie.js';
export * from './caps/pm.js';
export * from './config-space.js';
export * from './devices/catalog.js';
export * from './devices/common.js';
export * from './devices/host-bridge.js';
export * from './devices/root-port.js';
export * from './devices/sriov-endpoint.js';
export * from './fabric.js';
export * from './hw-context.js';
export * from './pci-function.js';
export * from './rid-math.js';
export * from './sriov.js';
