/**
 * One mnic function (a vhca) as firmware keeps it: its identity (PF, VF, SF or SIOV function and what
 * each kind carries), vhca and migration state, and the state that is real bytes — MAC, caps, the
 * 4 KiB context area the driver and datapath write through the function's window, datapath counters —
 * plus the registers of its window (command entry, datapath DMA registers).
 *
 * Left out: queues, flow tables, vports and everything an eswitch does with packets.
 */
import { mnicfw } from '../../../spec/index.js';
import type { PciFunction } from '../../pci-function.js';
import type { MigStateNum, VhcaStateNum } from './vhca-fsm.js';

export type MnicFnIdentity =
  | { readonly kind: 'pf' }
  | { readonly kind: 'vf'; readonly vfIndex: number }
  | { readonly kind: 'sf'; readonly sfIndex: number; readonly sfnum: number }
  | {
      readonly kind: 'siov';
      readonly siovIndex: number;
      /** RID the function's own DMA (datapath, its mailbox) carries. */
      readonly guestRid: number;
      /** RID firmware uses for DMA it does for the hypervisor on the function's behalf. */
      readonly hypervisorRid: number;
    };

export type MnicFnKindName = MnicFnIdentity['kind'];

export const FN_KIND_NUMBER: Readonly<Record<MnicFnKindName, number>> = {
  pf: mnicfw.MNIC_FN_KIND_PF,
  vf: mnicfw.MNIC_FN_KIND_VF,
  sf: mnicfw.MNIC_FN_KIND_SF,
  siov: mnicfw.MNIC_FN_KIND_SIOV,
};

export interface MnicCounters {
  rxPackets: bigint;
  rxBytes: bigint;
  txPackets: bigint;
  txBytes: bigint;
}

export class MnicFunction {
  readonly id: MnicFnIdentity;
  readonly fnId: number;
  readonly vhcaId: number;
  /** The PCI function underneath a PF or VF (set when its capabilities are built). */
  pci: PciFunction | undefined;
  vhcaState: VhcaStateNum;
  migState: MigStateNum = mnicfw.MNIC_MIG_STATE_RUNNING;
  caps = 0;
  /**
   * MAC, context area, counters and command entry are allocated on first use: CREATE_SIOV_FNS makes
   * 10^4 functions at once, most of which no one reads or writes that way before they are destroyed
   * (and 10000 context areas would be 40 MB). Unallocated, each reads as zeros.
   */
  #mac: Uint8Array | undefined;
  #context: Uint8Array | undefined;
  #counters: MnicCounters | undefined;
  #cmdEntry: Uint8Array | undefined;
  /** Datapath DMA registers. */
  dpAddrLo = 0;
  dpAddrHi = 0;
  dpLength = 0;
  dpCtxOffset = 0;
  dpStatus: number = mnicfw.MNIC_DP_STATUS_OK;

  constructor(id: MnicFnIdentity, fnId: number, vhcaId: number, vhcaState: VhcaStateNum) {
    this.id = id;
    this.fnId = fnId;
    this.vhcaId = vhcaId;
    this.vhcaState = vhcaState;
  }

  get kind(): MnicFnKindName {
    return this.id.kind;
  }

  get mac(): Uint8Array {
    this.#mac ??= new Uint8Array(6);
    return this.#mac;
  }

  /** Datapath counters (rx/tx packets and bytes). */
  get counters(): MnicCounters {
    this.#counters ??= { rxPackets: 0n, rxBytes: 0n, txPackets: 0n, txBytes: 0n };
    return this.#counters;
  }

  /** The command entry's 96 bytes (mnicfw.MnicCmdEntry). */
  get cmdEntry(): Uint8Array {
    this.#cmdEntry ??= new Uint8Array(mnicfw.MnicCmdEntry.sizeBytes);
    return this.#cmdEntry;
  }

  /** The context area (allocated on first use). */
  get context(): Uint8Array {
    this.#context ??= new Uint8Array(mnicfw.MNIC_CONTEXT_BYTES);
    return this.#context;
  }

  /** Whether anything was ever written to the context area. */
  get hasContext(): boolean {
    return this.#context !== undefined;
  }

  /** Clear what a function reset clears: context, counters, registers, migration state. */
  resetRuntime(): void {
    this.#context = undefined;
    this.#counters = undefined;
    this.#cmdEntry?.fill(0);
    this.dpAddrLo = 0;
    this.dpAddrHi = 0;
    this.dpLength = 0;
    this.dpCtxOffset = 0;
    this.dpStatus = mnicfw.MNIC_DP_STATUS_OK;
    this.migState = mnicfw.MNIC_MIG_STATE_RUNNING;
  }
}
