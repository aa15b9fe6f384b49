export * from './default.js';
export * from './mnic-knobs.js';
export * from './schema.js';
export * from './validate.js';
