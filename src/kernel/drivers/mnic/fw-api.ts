/**
 * The contract between the mnic drivers and the NIC's firmware command interface, after mlx5's
 * "FW commands": the driver builds a command in the mailbox of its function's BAR (or of its SF's
 * window), rings the doorbell, and waits for the status; firmware reports function (vhca) state
 * changes as events. `MnicFw` is the typed face of that mailbox client (implemented in fw.ts, over
 * the bytes the hardware model in src/hw/devices/mnic defines); every call costs modeled time.
 *
 * Firmware failures come back as errno errors (LabError with errno), the way mlx5_cmd_check turns a
 * firmware status into one; the text names the command and the firmware status.
 */
import type { Device } from '../../driver-core/device.js';

/** vhca states (mlx5_ifc_vhca_event.h; facts/kernel.md 7.3). */
export const VHCA_STATE = {
  INVALID: 0,
  ALLOCATED: 1,
  ACTIVE: 2,
  IN_USE: 3,
  TEARDOWN_REQUEST: 4,
} as const;
export type VhcaState = (typeof VHCA_STATE)[keyof typeof VHCA_STATE];

export type MnicFnKind = 'pf' | 'vf' | 'sf' | 'siov';

/** What QUERY_HCA_CAP reports to the PF driver. */
export interface MnicHcaCaps {
  /** The PF number of this function on the NIC (devlink pfnum). */
  readonly pfNum: number;
  readonly maxSfs: number;
  /** First hardware function id of SFs (sf_base_id). */
  readonly sfBaseId: number;
  /** SF BAR window size is 1 << (logMinSfSize + 12) bytes, in BAR `sfBar`. */
  readonly logMinSfSize: number;
  readonly sfBar: number;
  readonly maxSiovFns: number;
  /** Firmware can save and load function state (SAVE/LOAD_VHCA_STATE). */
  readonly migration: boolean;
  /** The device's permanent MAC (the PF's). */
  readonly permanentMac: Uint8Array;
}

/** A function firmware made: its hardware function id and vhca id. */
export interface MnicFnHandle {
  readonly kind: MnicFnKind;
  /** Hardware function id (what ENABLE_HCA / DISABLE_HCA take). */
  readonly fnId: number;
  readonly vhcaId: number;
}

export interface MnicSfHandle extends MnicFnHandle {
  readonly kind: 'sf';
  /** Index in the SF table: the SF's BAR window is at sfIndex × window size in the SF BAR. */
  readonly sfIndex: number;
}

export interface MnicSiovHandle extends MnicFnHandle {
  readonly kind: 'siov';
  /** RID its (guest) DMA is tagged with; goes through the domain attached for that RID. */
  readonly guestRid: number;
  /** RID firmware uses for the hypervisor's own DMA on the function's behalf (state save/load). */
  readonly hypervisorRid: number;
}

/** A firmware event (EQE) about a function's state. */
export interface VhcaStateEvent {
  readonly fnId: number;
  readonly vhcaId: number;
  readonly state: VhcaState;
}

export interface MnicFnCaps {
  readonly roce: boolean;
  readonly migratable: boolean;
}

/** The driver-side firmware client of one function's mailbox. */
export interface MnicFw {
  /** The function whose mailbox this is. */
  readonly self: MnicFnHandle;
  queryHcaCaps(): MnicHcaCaps;
  /** Eswitch mode (manager functions only): 0 legacy, 1 switchdev. */
  setEswitchMode(mode: 0 | 1): void;
  queryEswitchMode(): 0 | 1;

  /** The VF's function handle (VFs exist only while SR-IOV is enabled). */
  vfHandle(vfIndex: number): MnicFnHandle;
  /** Allocate an SF (ALLOCATED); the user's sfnum is recorded with it. ENOSPC when the table is full. */
  allocSf(sfnum: number): MnicSfHandle;
  deallocSf(fn: MnicSfHandle): void;
  /** Create `count` SIOV functions in one command (all or none; ENOSPC when they do not fit). */
  createSiovFns(count: number): MnicSiovHandle[];
  destroySiovFns(fns: readonly MnicSiovHandle[]): void;

  /** ENABLE_HCA: ALLOCATED → ACTIVE (event). */
  enableHca(fn: MnicFnHandle): void;
  /** DISABLE_HCA: ACTIVE/IN_USE → TEARDOWN_REQUEST, then ALLOCATED once the function's driver let go (events). */
  disableHca(fn: MnicFnHandle): void;
  /**
   * ENABLE_HCA of every function in `fns` in one command (op_mod LIST), all or none: every function
   * must be ALLOCATED and listed once, else nothing changes (EINVAL). One ACTIVE event per function, in
   * list order. An empty list issues no command; more than MNIC_HCA_LIST_MAX is EINVAL.
   */
  enableHcaList(fns: readonly MnicFnHandle[]): void;
  /**
   * DISABLE_HCA of every function in `fns` in one command, all or none: every function must be ACTIVE
   * or IN_USE and listed once (else EINVAL, nothing changes); events as disableHca's, in list order.
   */
  disableHcaList(fns: readonly MnicFnHandle[]): void;
  queryVhcaState(fn: MnicFnHandle): VhcaState;
  /** INIT_HCA / TEARDOWN_HCA from the function's own driver: ACTIVE → IN_USE, and back to ALLOCATED. */
  initHca(): void;
  teardownHca(): void;

  setFnHwAddr(fn: MnicFnHandle, mac: Uint8Array): void;
  queryFnHwAddr(fn: MnicFnHandle): Uint8Array;
  setFnCaps(fn: MnicFnHandle, caps: Partial<MnicFnCaps>): void;
  queryFnCaps(fn: MnicFnHandle): MnicFnCaps;

  /** Migration (facts/kernel.md Appendix A's arc → command mapping). */
  suspendVhca(fn: MnicFnHandle, role: 'initiator' | 'responder'): void;
  resumeVhca(fn: MnicFnHandle, role: 'initiator' | 'responder'): void;
  /** Size of the state SAVE would produce now (bytes). */
  queryVhcaMigrationState(fn: MnicFnHandle): number;
  /** SAVE_VHCA_STATE: firmware DMAs the function's state into host memory; returns those bytes. */
  saveVhcaState(fn: MnicFnHandle): Uint8Array;
  /** LOAD_VHCA_STATE: firmware DMAs the state in from host memory. EINVAL for state it rejects. */
  loadVhcaState(fn: MnicFnHandle, state: Uint8Array): void;

  /** Subscribe to vhca state-change events (delivered by the event queue's interrupt). */
  onVhcaEvent(handler: (e: VhcaStateEvent) => void): () => void;
  /** The per-function datapath counters firmware keeps (rx/tx packets and bytes). */
  queryCounters(fn: MnicFnHandle): Readonly<Record<string, bigint>>;
}

/** How a driver opens the mailbox of a function it is bound to (PF, VF) or of an SF window. */
export interface MnicFwOpener {
  /** The PF's or VF's own mailbox in BAR0. */
  openPci(dev: Device): MnicFw;
  /** An SF's mailbox inside its window of the parent PF's SF BAR. */
  openSf(parent: Device, sf: MnicSfHandle): MnicFw;
}
