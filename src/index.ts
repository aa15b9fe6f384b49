/** vfiolab's library entrance. */
export * from './lab/index.js';
