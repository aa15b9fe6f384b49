export * from './host/host.js';
export * from './host/lspci-view.js';
export * from './lab.js';
export type { Platform } from './platform.js';
export * from './topology/index.js';
