/** Device DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_*): the tracker and its feature handlers. */
export * from './dma-logger.js';
export * from './feature-handlers.js';
