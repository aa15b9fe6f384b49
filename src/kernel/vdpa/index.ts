/** vDPA: the management-device/device registry drivers use and the vdpa generic netlink family. */
export { registerVdpaFamily, VDPA_NL_POLICY } from './family.js';
export * from './registry.js';
