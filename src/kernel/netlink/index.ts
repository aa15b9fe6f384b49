/** Generic netlink: the codec, acks, the controller family, the kernel's bus and the tool-side client. */
export * from './ack.js';
export * from './bus.js';
export * from './client.js';
export * from './codec.js';
export * from './ctrl.js';
