/** Generic netlink: the codec, acks, and the controller family (issue 6 §3). */
export * from './ack.js';
export * from './codec.js';
export * from './ctrl.js';
