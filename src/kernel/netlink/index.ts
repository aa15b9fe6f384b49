/** Generic netlink: the codec, acks, the controller family, the kernel's bus, the tool-side client, nlmon. */
export * from './ack.js';
export * from './bus.js';
export * from './client.js';
export * from './codec.js';
export * from './ctrl.js';
export * from './nlmon.js';
