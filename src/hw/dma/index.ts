/** The DMA engine device models use, and the per-device DMA port bound to a requester ID. */
export * from './dma.js';
