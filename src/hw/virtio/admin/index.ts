/** The parts of the admin command engine, one file per concern; `../admin-engine.ts` ties them together. */
export * from './capabilities.js';
export * from './command-lists.js';
export * from './device-parts.js';
export * from './legacy.js';
export * from './reply.js';
export * from './resource-objects.js';
