/**
 * The mnic firmware's command dispatcher: one table of commands (opcode → minimum input, output size,
 * who may issue it, handler), checked in a fixed order before any handler runs:
 *   1. opcode known                          else BAD_OP / UNKNOWN_OPCODE
 *   2. input at least the command's size     else BAD_INPUT_LEN / SHORT_INPUT
 *   3. output room at least what it returns  else BAD_OUTPUT_LEN / SHORT_OUTPUT
 *   4. issuer allowed                        else NOT_PERMITTED / NOT_MANAGER
 * so a refused command changes nothing. Permission: the eswitch manager (the PF) may command any
 * function; any other function may issue QUERY_HCA_CAP, INIT_HCA and TEARDOWN_HCA, and the queries
 * (vhca state, hw addr, caps, counters) about itself only.
 *
 * Handlers return a whole output struct or a failure (status + syndrome); state changes of vhcas are
 * reported through `FwEnv.vhcaStateChanged`, which the device turns into events after completion.
 * Left out: command queues with more than one entry, asynchronous (long-running) commands, syndromes
 * beyond the MNIC_SYNDROME list, firmware health and fatal-error reporting.
 */
import { type CostModel, encodeStruct, readLe } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { DmaPort } from '../../dma/index.js';
import type { MnicFnTable } from './fn-table.js';
import type { MnicFunction } from './mnic-function.js';
import type { VhcaStateNum } from './vhca-fsm.js';

/** What commands reach of the device. */
export interface FwEnv {
  readonly table: MnicFnTable;
  readonly pfNum: number;
  readonly permanentMac: Uint8Array;
  readonly migration: boolean;
  eswitchMode: number;
  /** Record a vhca state change (an event after the command completes). */
  vhcaStateChanged(fn: MnicFunction, state: VhcaStateNum): void;
  /** DMA as the requester firmware uses for state moved on `fn`'s behalf (hypervisor RID or PF). */
  stateDmaPort(fn: MnicFunction): DmaPort | undefined;
  /** Extra modeled time of this command (batched creation). */
  charge(ns: number): void;
  costs(): CostModel;
}

export type FwResult =
  | { readonly ok: true; readonly out: Uint8Array }
  | { readonly ok: false; readonly status: number; readonly syndrome: number };

export const fwFail = (status: number, syndrome: number): FwResult => ({ ok: false, status, syndrome });
export const fwOk = (out: Uint8Array): FwResult => ({ ok: true, out });

/** Who may issue a command: the manager only, anyone, or anyone about itself (the target fnId). */
export type FwPermission = 'manager' | 'any' | 'self-or-manager';

export interface FwCommand {
  readonly name: string;
  readonly opcode: number;
  readonly inBytes: number;
  readonly outBytes: (input: Uint8Array, env: FwEnv) => number;
  readonly permission: FwPermission;
  run(env: FwEnv, issuer: MnicFunction, input: Uint8Array): FwResult;
}

const S = mnicfw.MNIC_SYNDROME;

export function isManager(fn: MnicFunction): boolean {
  return fn.kind === 'pf';
}

/** The target function of a command carrying `fnId` at offset 8, or a failure. */
export function targetOf(env: FwEnv, input: Uint8Array): MnicFunction | FwResult {
  const fn = env.table.get(readLe(input, 8, 4));
  return fn ?? fwFail(mnicfw.MNIC_STATUS_BAD_RESOURCE, S.NO_SUCH_FN);
}

export function isResult(x: MnicFunction | FwResult): x is FwResult {
  return 'ok' in x;
}

export const emptyOk = (): FwResult =>
  fwOk(encodeStruct(mnicfw.MnicEmptyOut, { status: mnicfw.MNIC_STATUS_OK, syndrome: 0 }));

export class MnicFirmware {
  readonly #commands = new Map<number, FwCommand>();

  constructor(commands: readonly FwCommand[]) {
    for (const c of commands) this.#commands.set(c.opcode, c);
  }

  commandName(opcode: number): string | undefined {
    return this.#commands.get(opcode)?.name;
  }

  /** Execute one command from `issuer`'s mailbox; returns the output bytes (header first). */
  execute(env: FwEnv, issuer: MnicFunction, input: Uint8Array, outputLength: number): Uint8Array {
    const r = this.#run(env, issuer, input, outputLength);
    if (r.ok) return r.out;
    return encodeStruct(mnicfw.MnicEmptyOut, { status: r.status, syndrome: r.syndrome });
  }

  #run(env: FwEnv, issuer: MnicFunction, input: Uint8Array, outputLength: number): FwResult {
    const cmd = this.#commands.get(readLe(input, 0, 2));
    if (cmd === undefined) return fwFail(mnicfw.MNIC_STATUS_BAD_OP, S.UNKNOWN_OPCODE);
    if (input.length < cmd.inBytes) return fwFail(mnicfw.MNIC_STATUS_BAD_INPUT_LEN, S.SHORT_INPUT);
    if (outputLength < cmd.outBytes(input, env))
      return fwFail(mnicfw.MNIC_STATUS_BAD_OUTPUT_LEN, S.SHORT_OUTPUT);
    switch (cmd.permission) {
      case 'manager':
        if (!isManager(issuer)) return fwFail(mnicfw.MNIC_STATUS_NOT_PERMITTED, S.NOT_MANAGER);
        break;
      case 'self-or-manager':
        if (!isManager(issuer) && readLe(input, 8, 4) !== issuer.fnId) {
          return fwFail(mnicfw.MNIC_STATUS_NOT_PERMITTED, S.NOT_MANAGER);
        }
        break;
      case 'any':
        break;
    }
    return cmd.run(env, issuer, input);
  }
}
