export * from './brand.js';
export * from './bytes.js';
export * from './clock.js';
export * from './cost-model.js';
export * from './crc32.js';
export * from './errors.js';
export * from './scheduler.js';
export * from './struct-codec.js';
