/** The common function-creation API: the provider contract, the fnctl family and its wire helpers. */
export * from './family.js';
export * from './provider.js';
export * from './wire.js';
