/**
 * The mnic firmware's vhca commands (the state machine in vhca-fsm.ts; layouts in spec/mnic-fw.ts):
 * ENABLE_HCA and DISABLE_HCA from the eswitch manager about one function (op_mod ONE) or a list of
 * them (op_mod LIST), and INIT_HCA / TEARDOWN_HCA a function issues about itself.
 *
 * The list form is all or none. Its checks, in order, before any function changes:
 *   count 1..MNIC_HCA_LIST_MAX                      else BAD_PARAM / BAD_COUNT
 *   input holds `count` ids                         else BAD_INPUT_LEN / SHORT_INPUT
 *   per id, in list order: the function exists      else BAD_RESOURCE / NO_SUCH_FN
 *                          it is not the PF         else BAD_PARAM / PF_TARGET
 *                          it is listed once        else BAD_PARAM / DUPLICATE_FN
 *                          its state allows it      else BAD_RES_STATE / BAD_VHCA_STATE
 * Then every function steps in list order, each reporting the states it passes through (one event
 * each), and the command charges firmwarePerFunctionNs per id on top of the command's own cost.
 * SPEC-DEVIATION: the list op_mod is ours (mlx5's ENABLE_HCA names one function; spec/mnic-fw.ts).
 */
import { readLe } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import {
  emptyOk,
  type FwCommand,
  type FwEnv,
  type FwResult,
  fwFail,
  isResult,
  targetOf,
} from './firmware.js';
import type { MnicFunction } from './mnic-function.js';
import { type VhcaCommand, type VhcaStateNum, vhcaStep } from './vhca-fsm.js';

const S = mnicfw.MNIC_SYNDROME;
const fixed = (n: number) => (): number => n;

/** Step `fn`'s vhca state along `path`, reporting every state passed through. */
function walk(env: FwEnv, fn: MnicFunction, path: readonly VhcaStateNum[]): void {
  for (const state of path) {
    fn.vhcaState = state;
    env.vhcaStateChanged(fn, state);
  }
}

/** Step `fn`'s vhca state by `command`, reporting every state passed through. */
export function stepVhca(env: FwEnv, fn: MnicFunction, command: VhcaCommand): FwResult {
  const path = vhcaStep(command, fn.vhcaState);
  if (path === undefined) return fwFail(mnicfw.MNIC_STATUS_BAD_RES_STATE, S.BAD_VHCA_STATE);
  walk(env, fn, path);
  return emptyOk();
}

/** The list form (see the file comment): every id checked, then every function stepped. */
function stepList(env: FwEnv, input: Uint8Array, command: 'enable' | 'disable'): FwResult {
  const count = readLe(input, 8, 4);
  if (count < 1 || count > mnicfw.MNIC_HCA_LIST_MAX) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_COUNT);
  const base = mnicfw.MnicHcaListIn.sizeBytes;
  if (input.length < base + 4 * count) return fwFail(mnicfw.MNIC_STATUS_BAD_INPUT_LEN, S.SHORT_INPUT);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const fns: MnicFunction[] = new Array(count);
  const paths: (readonly VhcaStateNum[])[] = new Array(count);
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const fnId = view.getUint32(base + 4 * i, true);
    const fn = env.table.get(fnId);
    if (fn === undefined) return fwFail(mnicfw.MNIC_STATUS_BAD_RESOURCE, S.NO_SUCH_FN);
    if (fn.kind === 'pf') return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.PF_TARGET);
    if (seen.has(fnId)) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.DUPLICATE_FN);
    seen.add(fnId);
    const path = vhcaStep(command, fn.vhcaState);
    if (path === undefined) return fwFail(mnicfw.MNIC_STATUS_BAD_RES_STATE, S.BAD_VHCA_STATE);
    fns[i] = fn;
    paths[i] = path;
  }
  for (let i = 0; i < count; i++) walk(env, fns[i]!, paths[i]!);
  env.charge(count * env.costs().firmwarePerFunctionNs);
  return emptyOk();
}

/** ENABLE_HCA / DISABLE_HCA: one function or a list, by op_mod. */
export const hcaCommand = (name: string, opcode: number, command: 'enable' | 'disable'): FwCommand => ({
  name,
  opcode,
  inBytes: mnicfw.MnicFnIn.sizeBytes,
  outBytes: fixed(mnicfw.MnicEmptyOut.sizeBytes),
  permission: 'manager',
  run(env, _issuer, input) {
    const opMod = readLe(input, 2, 2);
    if (opMod === mnicfw.MNIC_HCA_OP_MOD_LIST) return stepList(env, input, command);
    if (opMod !== mnicfw.MNIC_HCA_OP_MOD_ONE) return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.BAD_OP_MOD);
    const fn = targetOf(env, input);
    if (isResult(fn)) return fn;
    if (fn.kind === 'pf') return fwFail(mnicfw.MNIC_STATUS_BAD_PARAM, S.PF_TARGET);
    return stepVhca(env, fn, command);
  },
});

/** INIT_HCA / TEARDOWN_HCA: the issuing function about itself. */
export const selfCommand = (name: string, opcode: number, command: 'init' | 'teardown'): FwCommand => ({
  name,
  opcode,
  inBytes: mnicfw.MnicCmdInHdr.sizeBytes,
  outBytes: fixed(mnicfw.MnicEmptyOut.sizeBytes),
  permission: 'any',
  run: (env, issuer) => stepVhca(env, issuer, command),
});
