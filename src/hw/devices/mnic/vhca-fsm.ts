/**
 * The two state machines of an mnic function, each one table with one stepper (style rule 3):
 *
 * vhca state (facts/kernel.md 7.3, numbers from mlx5_ifc_vhca_event.h):
 *   ENABLE_HCA    ALLOCATED → ACTIVE            (the manager enables the function)
 *   INIT_HCA      ACTIVE → IN_USE               (the function's own driver initialises it)
 *   TEARDOWN_HCA  IN_USE → ACTIVE               (its driver lets go; the function stays enabled)
 *                 TEARDOWN_REQUEST → ALLOCATED  (its driver lets go after a DISABLE_HCA)
 *   DISABLE_HCA   IN_USE → TEARDOWN_REQUEST     (waits for the driver's TEARDOWN_HCA)
 *                 ACTIVE → TEARDOWN_REQUEST, and at once → ALLOCATED (no driver to wait for)
 * Every other (command, state) pair is refused with BAD_RES_STATE and changes nothing.
 * SPEC-DEVIATION: mlx5 documents only the states; the arcs above are vfiolab's reading of the SF flow
 * the facts describe (TEARDOWN_HCA from IN_USE back to ACTIVE is our choice, so a function driver can
 * unbind and rebind without the manager).
 *
 * Migration state (ours, after the arc → command mapping of facts Appendix A):
 *   SUSPEND initiator  RUNNING → INITIATOR_SUSPENDED   (stops starting DMA: VFIO RUNNING_P2P)
 *   SUSPEND responder  INITIATOR_SUSPENDED → SUSPENDED (stops answering: VFIO STOP)
 *   RESUME responder   SUSPENDED → INITIATOR_SUSPENDED
 *   RESUME initiator   INITIATOR_SUSPENDED → RUNNING
 */
import { mnicfw } from '../../../spec/index.js';

export type VhcaStateNum =
  | typeof mnicfw.MNIC_VHCA_STATE_INVALID
  | typeof mnicfw.MNIC_VHCA_STATE_ALLOCATED
  | typeof mnicfw.MNIC_VHCA_STATE_ACTIVE
  | typeof mnicfw.MNIC_VHCA_STATE_IN_USE
  | typeof mnicfw.MNIC_VHCA_STATE_TEARDOWN_REQUEST;

export type VhcaCommand = 'enable' | 'disable' | 'init' | 'teardown';

const { MNIC_VHCA_STATE_ALLOCATED: ALLOCATED, MNIC_VHCA_STATE_ACTIVE: ACTIVE } = mnicfw;
const { MNIC_VHCA_STATE_IN_USE: IN_USE, MNIC_VHCA_STATE_TEARDOWN_REQUEST: TEARDOWN } = mnicfw;

/** (command, from) → the states passed through, in order (the last is where it ends). */
export const VHCA_ARCS: Readonly<Record<VhcaCommand, ReadonlyMap<VhcaStateNum, readonly VhcaStateNum[]>>> = {
  enable: new Map([[ALLOCATED, [ACTIVE]]]),
  init: new Map([[ACTIVE, [IN_USE]]]),
  teardown: new Map<VhcaStateNum, readonly VhcaStateNum[]>([
    [IN_USE, [ACTIVE]],
    [TEARDOWN, [ALLOCATED]],
  ]),
  disable: new Map<VhcaStateNum, readonly VhcaStateNum[]>([
    [IN_USE, [TEARDOWN]],
    [ACTIVE, [TEARDOWN, ALLOCATED]],
  ]),
};

/** The states `command` moves a function through from `from`, or undefined when it is not allowed. */
export function vhcaStep(command: VhcaCommand, from: VhcaStateNum): readonly VhcaStateNum[] | undefined {
  return VHCA_ARCS[command].get(from);
}

export type MigStateNum =
  | typeof mnicfw.MNIC_MIG_STATE_RUNNING
  | typeof mnicfw.MNIC_MIG_STATE_INITIATOR_SUSPENDED
  | typeof mnicfw.MNIC_MIG_STATE_SUSPENDED;

export type MigCommand = 'suspend-initiator' | 'suspend-responder' | 'resume-responder' | 'resume-initiator';

const {
  MNIC_MIG_STATE_RUNNING: RUNNING,
  MNIC_MIG_STATE_INITIATOR_SUSPENDED: INIT_SUSP,
  MNIC_MIG_STATE_SUSPENDED: SUSPENDED,
} = mnicfw;

export const MIG_ARCS: Readonly<Record<MigCommand, readonly [MigStateNum, MigStateNum]>> = {
  'suspend-initiator': [RUNNING, INIT_SUSP],
  'suspend-responder': [INIT_SUSP, SUSPENDED],
  'resume-responder': [SUSPENDED, INIT_SUSP],
  'resume-initiator': [INIT_SUSP, RUNNING],
};

export function migStep(command: MigCommand, from: MigStateNum): MigStateNum | undefined {
  const [need, to] = MIG_ARCS[command];
  return from === need ? to : undefined;
}
