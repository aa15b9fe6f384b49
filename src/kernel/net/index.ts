/** Host network devices (a registry of netdevs with names, ifindexes and driver statistics). */
export * from './netdev.js';
