/** The virtio-net device: PF (group owner with an admin queue) and VFs, their switch and filters. */
export * from './net-filter.js';
export * from './net-switch.js';
export * from './virtio-net-function.js';
export * from './virtio-net-pf.js';
