/** Virtio device-side building blocks: the admin wire format and the split virtqueue. */

export * from './admin-engine.js';
export * from './admin-wire.js';
export * from './owner-api.js';
export * from './split-queue.js';
export * from './transport/index.js';
