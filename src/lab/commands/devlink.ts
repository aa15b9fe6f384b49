/**
 * The host shell's `devlink` (iproute2 syntax and output); the implementation lives in ./devlink/,
 * split by concern: argument parsing, reply printing, output and errors, and the tool's reply policy.
 */
export { devlinkCommand } from './devlink/devlink-tool.js';
