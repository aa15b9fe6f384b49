/** VFIO: the core, the migration uAPI v2, device DMA logging, and the cdev model's IOMMUFD binding. */
export * from './core/index.js';
export * from './dma-logging/index.js';
export * from './iommufd-binding.js';
export * from './migration/index.js';
