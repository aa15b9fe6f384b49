/** devlink: the instance/port registry drivers use and the generic netlink family that serves it. */
export { registerDevlinkFamily } from './family.js';
export { PORT_NEW_REPLY_CMD } from './port-cmds.js';
export * from './registry.js';
export { DEVLINK_NL_POLICY } from './request.js';
