/**
 * One virtio-net function (PF or VF) on the modern virtio PCI transport (virtio 1.4
 * device-types/net/description.tex; facts/virtio.md 1.12): one receive and one transmit queue, a
 * control queue, the net config (mac, status, max_virtqueue_pairs, mtu), a receive filter, counters,
 * and a port on its PF's switch.
 *
 * - TX: each chain is `virtio_net_hdr` (12 bytes; 10 for a legacy driver without MRG_RXBUF) then one
 *   Ethernet frame; the header's offload fields are ignored (no offloads are offered). A frame shorter
 *   than an Ethernet header is dropped (tx_dropped). The buffer returns with used length 0.
 * - RX: a frame arriving from the switch takes one buffer (no MRG_RXBUF), gets a zero header with
 *   num_buffers = 1, and is counted; without an available buffer, or while the function cannot work
 *   (not DRIVER_OK, stopped, needs reset), it is dropped and counted (rx_dropped). The device never
 *   holds a buffer between frames, so a stopped function has written back every used entry.
 * - Control queue: `{u8 class; u8 command; data; u8 ack}` for RX mode and MAC commands (net-filter.ts);
 *   ack VIRTIO_NET_OK or VIRTIO_NET_ERR.
 *
 * Device-type parts: the control-queue state as VIRTIO_NET_DEV_PART_CVQ_CFG_PART (one per class and
 * command), then the net config.
 * SPEC-DEVIATION: no standard part carries device config (facts 4.3); part type
 * VIRTIO_NET_DEV_PART_VFIOLAB_CONFIG (0x5f0, in the device-type range, after the CVQ parts) carries
 * `{u8 mac[6]; le16 status; le16 max_virtqueue_pairs; le16 mtu}`: the provisioned mac (the one a
 * device reset returns to) and status are applied, the other two verified.
 */
import { u16, writeLe } from '../../../base/index.js';
import { vadmin, virtio } from '../../../spec/index.js';
import type { Capability } from '../../capability-builder.js';
import type { Msix } from '../../caps/msix.js';
import type { DeviceModel, PciFunction } from '../../pci-function.js';
import type { DevPart } from '../../virtio/admin-wire.js';
import { encodePartSelector } from '../../virtio/admin-wire.js';
import type { PartsSetResult } from '../../virtio/owner-api.js';
import type { SplitQueue } from '../../virtio/split-queue.js';
import {
  type ConfigField,
  DEVICE_TYPE_PART_RANK_BASE,
  type DevicePartsProvider,
  LegacyRegisterView,
  type VirtioDeviceBackend,
  VirtioGroupMember,
  VirtioPciTransport,
} from '../../virtio/transport/index.js';
import {
  type CtrlFeature,
  ctrlStateData,
  type FilterState,
  macList,
  parseCtrl,
  resetFilter,
} from './net-filter.js';
import { ETH_HLEN, formatMac, type NetSwitch, type RxFilter, type SwitchPort } from './net-switch.js';

/** SPEC-DEVIATION: vfiolab's net-config part (see the file comment). */
export const VIRTIO_NET_DEV_PART_VFIOLAB_CONFIG = 0x5f0;
const NET_CONFIG_PART_BYTES = 12;

export const NET_RX_QUEUE = 0;
export const NET_TX_QUEUE = 1;
export const NET_CTRL_QUEUE = 2;
export const NET_NUM_QUEUES = 3;
export const NET_QUEUE_MAX_SIZE = 256;
/** The config this device exposes: mac, status, max_virtqueue_pairs, mtu (12 bytes). */
export const NET_CONFIG_BYTES = 12;
export const NET_DEFAULT_MTU = 1500;
const MAX_VIRTQUEUE_PAIRS = 1;
/** Largest TX chain the device reads: header + a 64 KiB frame. */
const TX_READ_LIMIT_BYTES = virtio.VirtioNetHdr.sizeBytes + 0x10000;

const bit = (n: number): bigint => 1n << BigInt(n);

/** Features every virtio-net function here offers. */
export const NET_FEATURES: bigint = [
  virtio.VIRTIO_F_VERSION_1,
  virtio.VIRTIO_F_ACCESS_PLATFORM,
  virtio.VIRTIO_RING_F_EVENT_IDX,
  virtio.VIRTIO_RING_F_INDIRECT_DESC,
  virtio.VIRTIO_F_NOTIFICATION_DATA,
  virtio.VIRTIO_NET_F_MTU,
  virtio.VIRTIO_NET_F_MAC,
  virtio.VIRTIO_NET_F_STATUS,
  virtio.VIRTIO_NET_F_CTRL_VQ,
  virtio.VIRTIO_NET_F_CTRL_RX,
  virtio.VIRTIO_NET_F_CTRL_RX_EXTRA,
  virtio.VIRTIO_NET_F_CTRL_MAC_ADDR,
].reduce((acc, b) => acc | bit(b), 0n);
/** The PF adds the SR-IOV and admin virtqueue transport features. */
export const NET_PF_FEATURES: bigint =
  NET_FEATURES | bit(virtio.VIRTIO_F_SR_IOV) | bit(virtio.VIRTIO_F_ADMIN_VQ);

const CTRL_FEATURE_BIT: Readonly<Record<CtrlFeature, number>> = {
  'ctrl-rx': virtio.VIRTIO_NET_F_CTRL_RX,
  'ctrl-rx-extra': virtio.VIRTIO_NET_F_CTRL_RX_EXTRA,
  'ctrl-mac-addr': virtio.VIRTIO_NET_F_CTRL_MAC_ADDR,
};

/** Feature dependencies of the net spec ("Feature bit requirements") for what this device offers. */
const FEATURE_DEPENDENCIES: ReadonlyArray<readonly [number, number]> = [
  [virtio.VIRTIO_NET_F_CTRL_RX, virtio.VIRTIO_NET_F_CTRL_VQ],
  [virtio.VIRTIO_NET_F_CTRL_RX_EXTRA, virtio.VIRTIO_NET_F_CTRL_RX],
  [virtio.VIRTIO_NET_F_CTRL_MAC_ADDR, virtio.VIRTIO_NET_F_CTRL_VQ],
];

/** Per-function counters, as `ethtool -S` names them. */
export interface NetCounters {
  rx_packets: number;
  rx_bytes: number;
  rx_dropped: number;
  tx_packets: number;
  tx_bytes: number;
  tx_dropped: number;
}

/** The admin queue of a PF: how its chains are executed (net-pf.ts). */
export interface AdminQueueService {
  serve(ring: SplitQueue): void;
  /** The PF was reset: admin state (command lists, objects, capabilities) goes back to its reset values. */
  reset(): void;
}

export interface VirtioNetFunctionOptions {
  readonly name: string;
  /** The mac a reset returns to. */
  readonly mac: Uint8Array;
  readonly msix: Msix;
  readonly switch: () => NetSwitch;
  /** VF number (1-based) for a VF, 0 for the PF. */
  readonly memberId: number;
  readonly admin?: AdminQueueService;
}

export class VirtioNetFunction implements VirtioDeviceBackend, DevicePartsProvider, SwitchPort {
  readonly name: string;
  readonly transport: VirtioPciTransport;
  readonly legacy: LegacyRegisterView;
  readonly member: VirtioGroupMember;
  readonly #options: VirtioNetFunctionOptions;
  readonly #defaultMac: Uint8Array;
  #provisionedMac: Uint8Array;
  #linkStatus = virtio.VIRTIO_NET_S_LINK_UP;
  #filter: FilterState;
  readonly #counters: NetCounters = {
    rx_packets: 0,
    rx_bytes: 0,
    rx_dropped: 0,
    tx_packets: 0,
    tx_bytes: 0,
    tx_dropped: 0,
  };

  constructor(options: VirtioNetFunctionOptions) {
    this.#options = options;
    this.name = options.name;
    this.#defaultMac = options.mac.slice();
    this.#provisionedMac = options.mac.slice();
    this.#filter = resetFilter(this.#provisionedMac);
    const admin = options.admin !== undefined;
    this.transport = new VirtioPciTransport({
      name: options.name,
      deviceFeatures: admin ? NET_PF_FEATURES : NET_FEATURES,
      numQueues: NET_NUM_QUEUES,
      adminQueueNum: admin ? 1 : 0,
      queueMaxSize: NET_QUEUE_MAX_SIZE,
      deviceCfgLength: NET_CONFIG_BYTES,
      msix: options.msix,
    });
    this.transport.attachBackend(this);
    this.legacy = new LegacyRegisterView(this.transport, this);
    this.member = new VirtioGroupMember(options.memberId, this.transport, this.legacy, this);
  }

  /** The DeviceModel behind the function's BARs, and the vendor capabilities to place. */
  behaviour(): { model: DeviceModel; capabilities: (fn: PciFunction) => Capability[] } {
    return {
      model: {
        barRead: (bar, offset, width) => this.transport.barRead(bar, offset, width),
        barWrite: (bar, offset, width, value) => this.transport.barWrite(bar, offset, width, value),
        reset: (kind) => {
          this.member.clearStaged();
          this.transport.reset(kind);
        },
      },
      capabilities: (fn) => {
        this.transport.bindFunction(fn);
        return this.transport.capabilities();
      },
    };
  }

  /** Counters for an `ethtool -S`-like view (a copy). */
  stats(): NetCounters {
    return { ...this.#counters };
  }

  /** The mac the function now answers to. */
  get mac(): string {
    return formatMac(this.#filter.mac);
  }

  /** Set the link status bit (a cable pull); a config change interrupt tells the driver. */
  setLinkUp(up: boolean): void {
    const next = up ? virtio.VIRTIO_NET_S_LINK_UP : 0;
    if (next === this.#linkStatus) return;
    this.#linkStatus = next;
    this.transport.configChanged();
  }

  // ---- VirtioDeviceBackend ----

  readonly configFields: readonly ConfigField[] = [
    { offset: 0, sizeBytes: 6, legacyWritable: true },
    { offset: 6, sizeBytes: 2, legacyWritable: false },
    { offset: 8, sizeBytes: 2, legacyWritable: false },
    { offset: 10, sizeBytes: 2, legacyWritable: false },
  ];

  configBytes(): Uint8Array {
    const b = new Uint8Array(NET_CONFIG_BYTES);
    b.set(this.#filter.mac, 0);
    writeLe(b, 6, 2, this.#linkStatus);
    writeLe(b, 8, 2, MAX_VIRTQUEUE_PAIRS);
    writeLe(b, 10, 2, NET_DEFAULT_MTU);
    return b;
  }

  legacyConfigWrite(offset: number, bytes: Uint8Array): void {
    // Only mac is legacy-writable (facts 1.11).
    const mac = this.#filter.mac.slice();
    mac.set(bytes, offset);
    this.#filter.mac = mac;
  }

  acceptFeatures(features: bigint): boolean {
    return FEATURE_DEPENDENCIES.every(
      ([f, needs]) => (features & bit(f)) === 0n || (features & bit(needs)) !== 0n,
    );
  }

  processQueue(index: number): void {
    const ring = this.transport.activeRing(index);
    if (ring === undefined) return;
    if (index === NET_TX_QUEUE) this.#transmit(ring);
    else if (index === NET_CTRL_QUEUE) this.#control(ring);
    else if (index === this.transport.adminQueueIndex && this.#options.admin !== undefined) {
      this.#options.admin.serve(ring);
      this.transport.usedBuffersWritten(index);
    }
    // RX buffers wait for frames.
  }

  reset(kind: 'device' | 'flr'): void {
    this.#options.admin?.reset();
    if (kind === 'flr') {
      this.#provisionedMac = this.#defaultMac.slice();
      this.#linkStatus = virtio.VIRTIO_NET_S_LINK_UP;
    }
    this.#filter = resetFilter(this.#provisionedMac);
  }

  // ---- SwitchPort ----

  filter(): RxFilter {
    const f = this.#filter;
    const ctrlRx = this.transport.negotiated(virtio.VIRTIO_NET_F_CTRL_RX);
    return {
      mac: formatMac(f.mac),
      ...f.rx,
      allmulti: f.rx.allmulti || !ctrlRx,
      unicast: macList(f.unicast),
      multicast: macList(f.multicast),
    };
  }

  receive(frame: Uint8Array): void {
    const ring = this.transport.activeRing(NET_RX_QUEUE);
    if (ring === undefined) {
      this.#counters.rx_dropped++;
      return;
    }
    const delivered = this.transport.guard(() => {
      const chain = ring.popAvailable();
      if (chain === undefined) return false;
      const hdr = new Uint8Array(this.#hdrBytes());
      if (hdr.length === virtio.VirtioNetHdr.sizeBytes) writeLe(hdr, 10, 2, 1); // num_buffers = 1
      const total = hdr.length + frame.length;
      if (total > chain.writableBytes) {
        ring.pushUsed(chain.head, 0);
        return false;
      }
      ring.scatterWritable(chain, hdr);
      ring.scatterWritable(chain, frame, hdr.length);
      ring.pushUsed(chain.head, total);
      return true;
    });
    if (delivered) {
      this.#counters.rx_packets++;
      this.#counters.rx_bytes += frame.length;
    } else {
      this.#counters.rx_dropped++;
    }
    this.transport.usedBuffersWritten(NET_RX_QUEUE);
  }

  // ---- DevicePartsProvider ----

  deviceParts(): DevPart[] {
    const cvq = ctrlStateData(this.#filter).map(({ cls, command, data }) => ({
      partType: vadmin.VIRTIO_NET_DEV_PART_CVQ_CFG_PART,
      flags: 0,
      selector: encodePartSelector({ kind: 'net-cvq', class: cls, command }),
      value: data,
    }));
    const cfg = new Uint8Array(NET_CONFIG_PART_BYTES);
    cfg.set(this.#provisionedMac, 0);
    writeLe(cfg, 6, 2, this.#linkStatus);
    writeLe(cfg, 8, 2, MAX_VIRTQUEUE_PAIRS);
    writeLe(cfg, 10, 2, NET_DEFAULT_MTU);
    return [
      ...cvq,
      {
        partType: VIRTIO_NET_DEV_PART_VFIOLAB_CONFIG,
        flags: 0,
        selector: encodePartSelector({ kind: 'none' }),
        value: cfg,
      },
    ];
  }

  devicePartRank(partType: number): number | undefined {
    if (partType === vadmin.VIRTIO_NET_DEV_PART_CVQ_CFG_PART) return DEVICE_TYPE_PART_RANK_BASE;
    if (partType === VIRTIO_NET_DEV_PART_VFIOLAB_CONFIG) return DEVICE_TYPE_PART_RANK_BASE + 1;
    return undefined;
  }

  stageDeviceParts(
    parts: readonly DevPart[],
  ): { readonly ok: true; readonly apply: () => void } | Exclude<PartsSetResult, { ok: true }> {
    const steps: Array<() => void> = [];
    for (const p of parts) {
      if (p.partType === vadmin.VIRTIO_NET_DEV_PART_CVQ_CFG_PART) {
        const cmd = parseCtrl(p.selector[0]!, p.selector[1]!, p.value);
        if (cmd === undefined) {
          const known = ctrlStateData(this.#filter).some(
            (c) => c.cls === p.selector[0] && c.command === p.selector[1],
          );
          return { ok: false, reason: known ? 'length' : 'unknown-part' };
        }
        steps.push(() => cmd.apply(this.#filter));
      } else if (p.partType === VIRTIO_NET_DEV_PART_VFIOLAB_CONFIG) {
        if (p.value.length !== NET_CONFIG_PART_BYTES) return { ok: false, reason: 'length' };
        if (u16(p.value, 8) !== MAX_VIRTQUEUE_PAIRS || u16(p.value, 10) !== NET_DEFAULT_MTU) {
          return { ok: false, reason: 'mismatch' };
        }
        const mac = p.value.slice(0, 6);
        const status = u16(p.value, 6) & virtio.VIRTIO_NET_S_LINK_UP;
        steps.push(() => {
          this.#provisionedMac = mac;
          this.#linkStatus = status;
        });
      }
    }
    return {
      ok: true,
      apply: () => {
        for (const step of steps) step();
      },
    };
  }

  // ---- queues ----

  #hdrBytes(): number {
    return this.transport.legacyMode && !this.transport.negotiated(virtio.VIRTIO_NET_F_MRG_RXBUF)
      ? virtio.VIRTIO_NET_HDR_LEGACY_SIZE
      : virtio.VirtioNetHdr.sizeBytes;
  }

  #transmit(ring: SplitQueue): void {
    const sw = this.#options.switch();
    for (;;) {
      const chain = ring.popAvailable();
      if (chain === undefined) break;
      const bytes = ring.gatherReadable(chain, TX_READ_LIMIT_BYTES);
      ring.pushUsed(chain.head, 0);
      const frame = bytes.slice(this.#hdrBytes());
      if (frame.length < ETH_HLEN) {
        this.#counters.tx_dropped++;
        continue;
      }
      this.#counters.tx_packets++;
      this.#counters.tx_bytes += frame.length;
      sw.transmit(this, frame);
    }
    this.transport.usedBuffersWritten(NET_TX_QUEUE);
  }

  #control(ring: SplitQueue): void {
    for (;;) {
      const chain = ring.popAvailable();
      if (chain === undefined) break;
      const req = ring.gatherReadable(chain);
      const ack = this.#executeCtrl(req);
      const n = ring.scatterWritable(chain, Uint8Array.of(ack));
      ring.pushUsed(chain.head, n);
    }
    this.transport.usedBuffersWritten(NET_CTRL_QUEUE);
  }

  #executeCtrl(req: Uint8Array): number {
    if (req.length < virtio.VirtioNetCtrlHdr.sizeBytes) return virtio.VIRTIO_NET_ERR;
    const cmd = parseCtrl(req[0]!, req[1]!, req.subarray(virtio.VirtioNetCtrlHdr.sizeBytes));
    if (cmd === undefined || !this.transport.negotiated(CTRL_FEATURE_BIT[cmd.needs]))
      return virtio.VIRTIO_NET_ERR;
    cmd.apply(this.#filter);
    return virtio.VIRTIO_NET_OK;
  }
}
