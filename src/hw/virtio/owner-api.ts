/**
 * The contract between a virtio group owner device (a PF with an admin virtqueue) and its admin
 * command engine (facts/virtio.md sections 3 and 4). The device model implements `AdminGroupOwner`;
 * the engine (`admin-engine.ts`) parses commands, validates them in the spec's order, keeps the
 * command lists, capabilities and resource objects, and calls the owner for everything that touches
 * a member's state. The engine never reaches into the device model's internals, and the device model
 * never parses admin commands.
 */
import type { DevPart, DevPartHdr } from './admin-wire.js';

/** A member's legacy-interface register access result: bytes, or a refusal the engine reports. */
export type LegacyAccess = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false };

/** One entry of LEGACY_NOTIFY_INFO's result (facts 3.9): flags 1 = owner BAR, 2 = member BAR. */
export interface LegacyNotifyEntry {
  readonly flags: 1 | 2;
  readonly bar: number;
  readonly offset: bigint;
}

/** What DEV_PARTS_SET answers: applied (staged until resume), or refused with the reason. */
export type PartsSetResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'length' | 'mismatch' | 'order' | 'unknown-part' | 'not-stopped' };

/** One group member (an SR-IOV VF, member id = VF number 1..NumVFs) as the owner exposes it. */
export interface AdminGroupMember {
  readonly memberId: number;
  /**
   * Legacy common-config access at `offset` of the legacy header (facts 1.11), `size` bytes. The access
   * must target exactly one field and lie inside the region, else `{ ok: false }`. Side effects are the
   * legacy register's (an ISR read clears it, a status write of 0 resets the member, a Queue Notify
   * write kicks a queue). Data is little-endian.
   */
  legacyCommonCfgRead(offset: number, size: number): LegacyAccess;
  legacyCommonCfgWrite(offset: number, data: Uint8Array): LegacyAccess;
  /** Legacy device-specific config (net: mac, status, ...), offsets relative to its start. */
  legacyDevCfgRead(offset: number, size: number): LegacyAccess;
  legacyDevCfgWrite(offset: number, data: Uint8Array): LegacyAccess;
  /** Where a hypervisor may write legacy queue notifications for this member (preference order). */
  legacyNotifyInfo(): readonly LegacyNotifyEntry[];
  /** DEV_MODE_SET: enter or leave the stopped mode. Leaving applies the parts staged by SET. */
  setStopped(stopped: boolean): void;
  readonly stopped: boolean;
  /** The headers of every part the member has now, in the mandatory order (facts 4.5). */
  partHeaders(): DevPartHdr[];
  /** All parts (GET ALL), or the selected ones that exist (GET SELECTED), in the mandatory order. */
  getParts(selected?: readonly DevPartHdr[]): DevPart[];
  /** DEV_PARTS_SET: validate every part (lengths, order, invariant fields) and stage them; no side effect on refusal. */
  setParts(parts: readonly DevPart[]): PartsSetResult;
}

/** The owner device as the engine sees it. */
export interface AdminGroupOwner {
  /** Whether the SR-IOV group exists: the PF has the capability and VF Enable is set. */
  sriovGroupExists(): boolean;
  /** NumVFs while the group exists. */
  numMembers(): number;
  member(memberId: number): AdminGroupMember | undefined;
  /** The virtio device type (1 = net), for device-type part selectors. */
  readonly virtioDeviceType: number;
}
