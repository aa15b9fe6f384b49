/** Host network devices: the kernel's one list of links (lo, driver netdevs, nlmon), one ifindex space. */
export * from './link.js';
export * from './net-devices.js';
export * from './netdev.js';
