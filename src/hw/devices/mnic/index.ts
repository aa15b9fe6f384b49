/** The multi-subsystem NIC (mnic): firmware, function table, windows, events, saved state. */
export { MNIC_MAX_INPUT_BYTES, MNIC_MAX_OUTPUT_BYTES } from './cmd-channel.js';
export type { VhcaEventRecord } from './event-queue.js';
export type { FwEnv } from './firmware.js';
export type { MnicLimits } from './fn-table.js';
export { FN_KIND_NUMBER, type MnicFnIdentity, type MnicFnKindName, MnicFunction } from './mnic-function.js';
export { MnicNic, type MnicNicOptions, mnicNicOf } from './mnic-nic.js';
export {
  MIG_ARCS,
  type MigCommand,
  type MigStateNum,
  migStep,
  VHCA_ARCS,
  type VhcaCommand,
  type VhcaStateNum,
  vhcaStep,
} from './vhca-fsm.js';
export { type MnicSavedState, parseVhcaState, saveVhcaState } from './vhca-saved-state.js';

/** Defaults of the NIC's knobs (a topology may change them). */
export const MNIC_DEFAULT_MAX_SFS = 256;
export const MNIC_DEFAULT_MAX_SIOV_FNS = 1024;
