export * from './default.js';
export * from './schema.js';
export * from './validate.js';
