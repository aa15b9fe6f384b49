/**
 * A virtio function as an admin group member (owner-api.ts; facts/virtio.md 3.9, 4): legacy register
 * access through the transport's legacy view, the stopped mode, and device parts (the transport's
 * common parts followed by the device type's). Parts a SET validates are staged and take effect when
 * the member is resumed; a member FLR or reset drops them (`clearStaged`).
 */
import { vadmin } from '../../../spec/index.js';
import type { DevPart, DevPartHdr } from '../admin-wire.js';
import type { AdminGroupMember, LegacyAccess, LegacyNotifyEntry, PartsSetResult } from '../owner-api.js';
import {
  COMMON_PART_RANK,
  DEVICE_TYPE_PART_RANK_BASE,
  foldTransportParts,
  PART_F_OPTIONAL,
  transportParts,
} from './common-parts.js';
import type { LegacyRegisterView } from './legacy-view.js';
import { NOTIFY_CFG_OFFSET, VIRTIO_BAR } from './virtio-caps.js';
import type { TransportSnapshot, VirtioPciTransport } from './virtio-pci-transport.js';

/** The device type's share of device parts. */
export interface DevicePartsProvider {
  /** Its parts, in order, after the common ones. */
  deviceParts(): DevPart[];
  /** Order rank (>= DEVICE_TYPE_PART_RANK_BASE) of a device-type part type it knows, else undefined. */
  devicePartRank(partType: number): number | undefined;
  /** Validate its parts of a SET; on success, what applies them on resume. */
  stageDeviceParts(
    parts: readonly DevPart[],
  ): { readonly ok: true; readonly apply: () => void } | Exclude<PartsSetResult, { ok: true }>;
}

const sameSelector = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export class VirtioGroupMember implements AdminGroupMember {
  readonly memberId: number;
  readonly #t: VirtioPciTransport;
  readonly #legacy: LegacyRegisterView;
  readonly #device: DevicePartsProvider;
  #stagedTransport: TransportSnapshot | undefined;
  #stagedDevice: Array<() => void> = [];

  constructor(
    memberId: number,
    transport: VirtioPciTransport,
    legacy: LegacyRegisterView,
    device: DevicePartsProvider,
  ) {
    this.memberId = memberId;
    this.#t = transport;
    this.#legacy = legacy;
    this.#device = device;
  }

  legacyCommonCfgRead(offset: number, size: number): LegacyAccess {
    return this.#legacy.commonRead(offset, size);
  }

  legacyCommonCfgWrite(offset: number, data: Uint8Array): LegacyAccess {
    return this.#legacy.commonWrite(offset, data);
  }

  legacyDevCfgRead(offset: number, size: number): LegacyAccess {
    return this.#legacy.deviceRead(offset, size);
  }

  legacyDevCfgWrite(offset: number, data: Uint8Array): LegacyAccess {
    return this.#legacy.deviceWrite(offset, data);
  }

  /** The member's own BAR4 notify region: a 16-bit vq index written there kicks that queue. */
  legacyNotifyInfo(): readonly LegacyNotifyEntry[] {
    return [
      {
        flags: vadmin.VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_OWNER_MEM,
        bar: VIRTIO_BAR,
        offset: BigInt(NOTIFY_CFG_OFFSET),
      },
    ];
  }

  get stopped(): boolean {
    return this.#t.stopped;
  }

  setStopped(stopped: boolean): void {
    if (!stopped && this.#t.stopped) {
      const staged = this.#stagedTransport;
      const device = this.#stagedDevice;
      this.clearStaged();
      if (staged !== undefined) this.#t.restore(staged);
      for (const apply of device) apply();
    }
    this.#t.setStopped(stopped);
  }

  /** A member FLR or reset: parts staged by SET are forgotten (facts 4.1). */
  clearStaged(): void {
    this.#stagedTransport = undefined;
    this.#stagedDevice = [];
  }

  partHeaders(): DevPartHdr[] {
    return this.getParts().map((p) => ({
      partType: p.partType,
      flags: p.flags,
      selector: p.selector,
      length: p.value.length,
    }));
  }

  getParts(selected?: readonly DevPartHdr[]): DevPart[] {
    const all = [...transportParts(this.#t), ...this.#device.deviceParts()];
    if (selected === undefined) return all;
    return all.filter((p) =>
      selected.some((h) => h.partType === p.partType && sameSelector(h.selector, p.selector)),
    );
  }

  setParts(parts: readonly DevPart[]): PartsSetResult {
    if (!this.#t.stopped) return { ok: false, reason: 'not-stopped' };
    const kept: DevPart[] = [];
    let lastRank = -1;
    const seen: DevPart[] = [];
    for (const p of parts) {
      const rank = COMMON_PART_RANK.get(p.partType) ?? this.#device.devicePartRank(p.partType);
      if (rank === undefined) {
        if ((p.flags & PART_F_OPTIONAL) !== 0) continue;
        return { ok: false, reason: 'unknown-part' };
      }
      if (rank < lastRank) return { ok: false, reason: 'order' };
      if (seen.some((q) => q.partType === p.partType && sameSelector(q.selector, p.selector))) {
        return { ok: false, reason: 'order' };
      }
      seen.push(p);
      lastRank = rank;
      kept.push(p);
    }
    const folded = foldTransportParts(this.#t, this.#stagedTransport ?? this.#t.snapshot(), kept);
    if (!folded.ok) return folded;
    const device = this.#device.stageDeviceParts(
      kept.filter(
        (p) => (COMMON_PART_RANK.get(p.partType) ?? DEVICE_TYPE_PART_RANK_BASE) >= DEVICE_TYPE_PART_RANK_BASE,
      ),
    );
    if (!device.ok) return device;
    this.#stagedTransport = folded.snapshot;
    this.#stagedDevice.push(device.apply);
    return { ok: true };
  }
}
