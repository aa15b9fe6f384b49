/** Physical memory: sparse, page-granular host or guest memory with a CPU dirty log. */
export * from './sparse-memory.js';
