/**
 * All register constants local to the lspci decoder (see regs-std.ts and regs-ext.ts for their sources).
 */
export * from './regs-ext.js';
export * from './regs-std.js';
