/**
 * The mnic firmware's migration commands (facts/kernel.md Appendix A's arc → command mapping):
 * SUSPEND_VHCA / RESUME_VHCA with an initiator or responder op_mod (vhca-fsm.ts MIG_ARCS),
 * QUERY_VHCA_MIGRATION_STATE, SAVE_VHCA_STATE and LOAD_VHCA_STATE. All are the manager's, about a
 * function other than the PF, whose caps say MIGRATABLE (else BAD_PARAM/NOT_MIGRATABLE).
 *
 * Rules (ours):
 * - SAVE op_mod FINAL needs the function SUSPENDED; op_mod PRECOPY needs it not SUSPENDED (RUNNING or
 *   INITIATOR_SUSPENDED, VFIO's PRE_COPY and PRE_COPY_P2P). Both write a whole image; saving never
 *   changes the function.
 * - LOAD needs the function SUSPENDED; the image is validated whole before anything is applied.
 * - The buffer is host memory reached by DMA: a SIOV function's state moves with its hypervisor RID,
 *   every other function's with the PF's RID. A buffer smaller than the image is BAD_SIZE; a DMA fault
 *   is INTERNAL_ERR/STATE_DMA_FAULT, with nothing applied on LOAD.
 */
import { decodeStruct, encodeStruct, type Rid } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { Iova } from '../../iommu/index.js';
import {
  emptyOk,
  type FwCommand,
  type FwEnv,
  type FwResult,
  fwFail,
  fwOk,
  isResult,
  targetOf,
} from './firmware.js';
import type { MnicFunction } from './mnic-function.js';
import { type MigCommand, migStep } from './vhca-fsm.js';
import { applyVhcaState, parseVhcaState, saveVhcaState } from './vhca-saved-state.js';

const S = mnicfw.MNIC_SYNDROME;
const head = { status: mnicfw.MNIC_STATUS_OK, syndrome: 0 };
/** Largest image LOAD reads (v1 images are MNIC_STATE_BYTES; more is refused before any DMA). */
const MAX_LOAD_BYTES = 1 << 16;

function migTarget(env: FwEnv, input: Uint8Array): MnicFunction | FwResult {
  const fn = targetOf(env, input);
  if (isResult(fn)) return fn;
  if (fn.kind === 'pf') return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.PF_TARGET);
  if (!env.migration || (fn.caps & mnicfw.MNIC_FN_CAP_MIGRATABLE) === 0) {
    return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.NOT_MIGRATABLE);
  }
  return fn;
}

const suspendResume = (name: string, opcode: number, verb: 'suspend' | 'resume'): FwCommand => ({
  name,
  opcode,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: () => mnicfw.MnicEmptyOut.sizeBytes,
  permission: 'manager',
  run(env, _issuer, input) {
    const fn = migTarget(env, input);
    if (isResult(fn)) return fn;
    const { opMod } = decodeStruct(mnicfw.MnicFnIn, input);
    let command: MigCommand;
    if (opMod === mnicfw.MNIC_SUSPEND_OP_MOD_INITIATOR) command = `${verb}-initiator`;
    else if (opMod === mnicfw.MNIC_SUSPEND_OP_MOD_RESPONDER) command = `${verb}-responder`;
    else return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_OP_MOD);
    const to = migStep(command, fn.migState);
    if (to === undefined) return fwFail(mnicfw.MNIC_STATUS_BAD_RES_STATE, S.BAD_MIG_STATE);
    fn.migState = to;
    return emptyOk();
  },
});

const queryMigState: FwCommand = {
  name: 'QUERY_VHCA_MIGRATION_STATE',
  opcode: mnicfw.MNIC_CMD_QUERY_VHCA_MIGRATION_STATE,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: () => mnicfw.MnicQueryMigStateOut.sizeBytes,
  permission: 'manager',
  run(env, _issuer, input) {
    const fn = migTarget(env, input);
    if (isResult(fn)) return fn;
    return fwOk(
      encodeStruct(mnicfw.MnicQueryMigStateOut, {
        ...head,
        requiredBytes: mnicfw.MNIC_STATE_BYTES,
        migState: fn.migState,
      }),
    );
  },
};

const saveState: FwCommand = {
  name: 'SAVE_VHCA_STATE',
  opcode: mnicfw.MNIC_CMD_SAVE_VHCA_STATE,
  inBytes: mnicfw.MnicVhcaStateIn.sizeBytes,
  outBytes: () => mnicfw.MnicSaveVhcaStateOut.sizeBytes,
  permission: 'manager',
  run(env, _issuer, input) {
    const fn = migTarget(env, input);
    if (isResult(fn)) return fn;
    const req = decodeStruct(mnicfw.MnicVhcaStateIn, input);
    const suspended = fn.migState === mnicfw.MNIC_MIG_STATE_SUSPENDED;
    if (req.opMod === mnicfw.MNIC_SAVE_OP_MOD_FINAL) {
      if (!suspended) return fwFail(mnicfw.MNIC_STATUS_BAD_RES_STATE, S.BAD_MIG_STATE);
    } else if (req.opMod === mnicfw.MNIC_SAVE_OP_MOD_PRECOPY) {
      if (suspended) return fwFail(mnicfw.MNIC_STATUS_BAD_RES_STATE, S.BAD_MIG_STATE);
    } else {
      return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_OP_MOD);
    }
    if (req.sizeBytes < mnicfw.MNIC_STATE_BYTES)
      return fwFail(mnicfw.MNIC_STATUS_BAD_SIZE, S.BUFFER_TOO_SMALL);
    const image = saveVhcaState(fn, req.opMod === mnicfw.MNIC_SAVE_OP_MOD_FINAL);
    const port = env.stateDmaPort(fn);
    const w = port?.write(req.addr as Iova, image);
    if (w === undefined || !w.ok) return fwFail(mnicfw.MNIC_STATUS_INTERNAL_ERR, S.STATE_DMA_FAULT);
    return fwOk(encodeStruct(mnicfw.MnicSaveVhcaStateOut, { ...head, actualBytes: image.length }));
  },
};

const loadState: FwCommand = {
  name: 'LOAD_VHCA_STATE',
  opcode: mnicfw.MNIC_CMD_LOAD_VHCA_STATE,
  inBytes: mnicfw.MnicVhcaStateIn.sizeBytes,
  outBytes: () => mnicfw.MnicEmptyOut.sizeBytes,
  permission: 'manager',
  run(env, _issuer, input) {
    const fn = migTarget(env, input);
    if (isResult(fn)) return fn;
    const req = decodeStruct(mnicfw.MnicVhcaStateIn, input);
    if (fn.migState !== mnicfw.MNIC_MIG_STATE_SUSPENDED)
      return fwFail(mnicfw.MNIC_STATUS_BAD_RES_STATE, S.BAD_MIG_STATE);
    if (req.sizeBytes === 0 || req.sizeBytes > MAX_LOAD_BYTES)
      return fwFail(mnicfw.MNIC_STATUS_BAD_SIZE, S.STATE_BAD_LENGTH);
    const port = env.stateDmaPort(fn);
    const r = port?.read(req.addr as Iova, req.sizeBytes);
    if (r === undefined || !r.ok) return fwFail(mnicfw.MNIC_STATUS_INTERNAL_ERR, S.STATE_DMA_FAULT);
    const parsed = parseVhcaState(r.bytes);
    if (!parsed.ok) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, parsed.syndrome);
    applyVhcaState(fn, parsed.state);
    return emptyOk();
  },
};

export const MIGRATION_COMMANDS: readonly FwCommand[] = [
  suspendResume('SUSPEND_VHCA', mnicfw.MNIC_CMD_SUSPEND_VHCA, 'suspend'),
  suspendResume('RESUME_VHCA', mnicfw.MNIC_CMD_RESUME_VHCA, 'resume'),
  queryMigState,
  saveState,
  loadState,
];

/** The requester ID firmware uses for a function's state DMA. */
export function stateRid(fn: MnicFunction, pfRid: Rid | undefined): Rid | undefined {
  return fn.id.kind === 'siov' ? (fn.id.hypervisorRid as Rid) : pfRid;
}
