/**
 * The transport's device parts (virtio 1.4 device-parts.tex; facts/virtio.md 4.2-4.6): capture in the
 * mandatory order, and validation of a SET into a staged snapshot that the transport takes on resume.
 *
 * GET ALL yields, in order: DEV_FEATURES (flagged OPTIONAL), DRV_FEATURES, one PCI_COMMON_CFG per
 * field the driver can observe that no other part carries (device/driver feature select,
 * config_msix_vector, num_queues, config_generation, queue_select, admin_queue_index,
 * admin_queue_num; ascending offset), DEVICE_STATUS, VQ_CFG and VQ_NOTIFY_CFG for every queue, then
 * the ring progress of every enabled queue.
 *
 * SPEC-DEVIATION: no standard part carries ring progress (facts 4.3, open point 8.5). Part type
 * VIRTIO_DEV_PART_VFIOLAB_VQ_PROGRESS (0x1f0, in the reserved part of the common range, after
 * VQ_NOTIFY_CFG in the order) carries `{le16 last_avail_idx; le16 used_idx; u8 reserved[4]}` per
 * enabled queue, selected by vq_index. The device holds no chain between operations, so both are
 * equal and a SET with them unequal is refused. A VQ_CFG without it takes its progress from the used
 * ring's idx on resume.
 *
 * SET rules: every part's length must be the device's; parts follow the order table and no part
 * appears twice; DEV_FEATURES, num_queues, the admin queue fields and VQ_NOTIFY_CFG are verified, not
 * applied; values go through the same checks as a driver's writes (a vector beyond the MSI-X table, a
 * ring the device cannot run, features the device does not offer are a mismatch). A refused SET
 * changes nothing. Unknown part types are refused unless flagged OPTIONAL (then ignored).
 */
import { readLe, u16, u32, u64, writeLe, writeU64 } from '../../../base/index.js';
import { vadmin, virtio } from '../../../spec/index.js';
import { type DevPart, decodePartSelector, encodePartSelector, type PartSelector } from '../admin-wire.js';
import type { PartsSetResult } from '../owner-api.js';
import { LEGACY_EXTRA_FEATURES } from './legacy-view.js';
import type { QueueSnapshot, TransportSnapshot, VirtioPciTransport } from './virtio-pci-transport.js';

/** SPEC-DEVIATION: vfiolab's ring-progress part (see the file comment). */
export const VIRTIO_DEV_PART_VFIOLAB_VQ_PROGRESS = 0x1f0;
const VQ_PROGRESS_BYTES = 8;
const FEATURES_BYTES = 8;
const STATUS_BYTES = 1;
export const PART_F_OPTIONAL = 1 << vadmin.VIRTIO_DEV_PART_F_OPTIONAL;

/** Order ranks of the common parts (facts 4.5); device-type parts rank after these. */
export const COMMON_PART_RANK: ReadonlyMap<number, number> = new Map([
  [vadmin.VIRTIO_DEV_PART_DEV_FEATURES, 0],
  [vadmin.VIRTIO_DEV_PART_DRV_FEATURES, 1],
  [vadmin.VIRTIO_DEV_PART_PCI_COMMON_CFG, 2],
  [vadmin.VIRTIO_DEV_PART_DEVICE_STATUS, 3],
  [vadmin.VIRTIO_DEV_PART_VQ_CFG, 4],
  [vadmin.VIRTIO_DEV_PART_VQ_NOTIFY_CFG, 5],
  [VIRTIO_DEV_PART_VFIOLAB_VQ_PROGRESS, 6],
]);
export const DEVICE_TYPE_PART_RANK_BASE = 7;

type CommonField = 'apply' | 'verify';
/** The PCI_COMMON_CFG fields a part carries: offset → size and whether SET applies or verifies it. */
const COMMON_FIELDS: ReadonlyArray<{ offset: number; size: 1 | 2 | 4; kind: CommonField }> = [
  { offset: virtio.VIRTIO_PCI_COMMON_DFSELECT, size: 4, kind: 'apply' },
  { offset: virtio.VIRTIO_PCI_COMMON_GFSELECT, size: 4, kind: 'apply' },
  { offset: virtio.VIRTIO_PCI_COMMON_MSIX, size: 2, kind: 'apply' },
  { offset: virtio.VIRTIO_PCI_COMMON_NUMQ, size: 2, kind: 'verify' },
  { offset: virtio.VIRTIO_PCI_COMMON_CFGGENERATION, size: 1, kind: 'apply' },
  { offset: virtio.VIRTIO_PCI_COMMON_Q_SELECT, size: 2, kind: 'apply' },
  { offset: virtio.VIRTIO_PCI_COMMON_ADM_Q_IDX, size: 2, kind: 'verify' },
  { offset: virtio.VIRTIO_PCI_COMMON_ADM_Q_NUM, size: 2, kind: 'verify' },
];

const part = (partType: number, selector: PartSelector, value: Uint8Array, flags = 0): DevPart => ({
  partType,
  flags,
  selector: encodePartSelector(selector),
  value,
});

function le(width: 1 | 2 | 4, v: number): Uint8Array {
  const b = new Uint8Array(width);
  writeLe(b, 0, width, v);
  return b;
}

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(FEATURES_BYTES);
  writeU64(b, 0, v);
  return b;
}

function commonFieldValue(t: VirtioPciTransport, s: TransportSnapshot, offset: number): number {
  switch (offset) {
    case virtio.VIRTIO_PCI_COMMON_DFSELECT:
      return s.deviceFeatureSelect;
    case virtio.VIRTIO_PCI_COMMON_GFSELECT:
      return s.driverFeatureSelect;
    case virtio.VIRTIO_PCI_COMMON_MSIX:
      return s.configMsixVector;
    case virtio.VIRTIO_PCI_COMMON_NUMQ:
      return t.options.numQueues;
    case virtio.VIRTIO_PCI_COMMON_CFGGENERATION:
      return s.configGeneration;
    case virtio.VIRTIO_PCI_COMMON_Q_SELECT:
      return s.queueSelect;
    case virtio.VIRTIO_PCI_COMMON_ADM_Q_IDX:
      return t.options.adminQueueNum > 0 ? t.adminQueueIndex : 0;
    case virtio.VIRTIO_PCI_COMMON_ADM_Q_NUM:
      return t.options.adminQueueNum;
    default:
      return 0;
  }
}

function vqCfgValue(q: QueueSnapshot): Uint8Array {
  const b = new Uint8Array(vadmin.VirtioDevPartVqCfg.sizeBytes);
  writeLe(b, 0, 2, q.size);
  writeLe(b, 2, 2, q.msixVector);
  writeLe(b, 4, 2, q.enabled ? 1 : 0);
  writeU64(b, 8, q.desc);
  writeU64(b, 16, q.driver);
  writeU64(b, 24, q.device);
  return b;
}

function vqNotifyValue(index: number): Uint8Array {
  const b = new Uint8Array(vadmin.VirtioDevPartVqNotifyData.sizeBytes);
  writeLe(b, 0, 2, index); // queue_notify_off = queue index
  writeLe(b, 2, 2, index); // queue_notif_config_data as common cfg reads it
  return b;
}

/** The transport's parts, in the mandatory order. Reads no guest memory and changes nothing. */
export function transportParts(t: VirtioPciTransport): DevPart[] {
  const s = t.snapshot();
  const none: PartSelector = { kind: 'none' };
  const out: DevPart[] = [
    part(vadmin.VIRTIO_DEV_PART_DEV_FEATURES, none, le64(t.options.deviceFeatures), PART_F_OPTIONAL),
    part(vadmin.VIRTIO_DEV_PART_DRV_FEATURES, none, le64(s.driverFeatures)),
    ...COMMON_FIELDS.map((f) =>
      part(
        vadmin.VIRTIO_DEV_PART_PCI_COMMON_CFG,
        { kind: 'pci-common-cfg', offset: f.offset },
        le(f.size, commonFieldValue(t, s, f.offset)),
      ),
    ),
    part(vadmin.VIRTIO_DEV_PART_DEVICE_STATUS, none, le(STATUS_BYTES, s.status)),
  ];
  s.queues.forEach((q, index) => {
    out.push(part(vadmin.VIRTIO_DEV_PART_VQ_CFG, { kind: 'vq-index', index }, vqCfgValue(q)));
  });
  s.queues.forEach((_, index) => {
    out.push(part(vadmin.VIRTIO_DEV_PART_VQ_NOTIFY_CFG, { kind: 'vq-index', index }, vqNotifyValue(index)));
  });
  s.queues.forEach((q, index) => {
    if (!q.enabled || q.progress === undefined) return;
    const b = new Uint8Array(VQ_PROGRESS_BYTES);
    writeLe(b, 0, 2, q.progress.lastAvailIdx);
    writeLe(b, 2, 2, q.progress.usedIdx);
    out.push(part(VIRTIO_DEV_PART_VFIOLAB_VQ_PROGRESS, { kind: 'vq-index', index }, b));
  });
  return out;
}

type Refusal = Exclude<PartsSetResult, { ok: true }>['reason'];
export type FoldResult =
  | { readonly ok: true; readonly snapshot: TransportSnapshot }
  | { readonly ok: false; readonly reason: Refusal };

const refuse = (reason: Refusal): FoldResult => ({ ok: false, reason });

/**
 * Apply the common parts of a SET to `base` (the state already staged, or the current one). Parts of
 * other types are skipped: the caller checked order and handles device-type parts.
 */
export function foldTransportParts(
  t: VirtioPciTransport,
  base: TransportSnapshot,
  parts: readonly DevPart[],
): FoldResult {
  let s: { -readonly [K in keyof TransportSnapshot]: TransportSnapshot[K] } = { ...base };
  const queues: QueueSnapshot[] = [...base.queues];
  const deviceFeatures = t.options.deviceFeatures;
  for (const p of parts) {
    const sel = decodePartSelector(p.partType, p.selector, virtio.VIRTIO_ID_NET);
    const v = p.value;
    switch (p.partType) {
      case vadmin.VIRTIO_DEV_PART_DEV_FEATURES:
        if (v.length !== FEATURES_BYTES) return refuse('length');
        if (u64(v, 0) !== deviceFeatures) return refuse('mismatch');
        break;
      case vadmin.VIRTIO_DEV_PART_DRV_FEATURES: {
        if (v.length !== FEATURES_BYTES) return refuse('length');
        const f = u64(v, 0);
        // A legacy driver may have acknowledged what the legacy view offers it beyond the device features.
        if ((f & ~(deviceFeatures | LEGACY_EXTRA_FEATURES)) !== 0n) return refuse('mismatch');
        s.driverFeatures = f;
        break;
      }
      case vadmin.VIRTIO_DEV_PART_PCI_COMMON_CFG: {
        const offset = sel.kind === 'pci-common-cfg' ? sel.offset : -1;
        const field = COMMON_FIELDS.find((f) => f.offset === offset);
        if (field === undefined) return refuse('unknown-part');
        if (v.length !== field.size) return refuse('length');
        const value = readLe(v, 0, field.size);
        if (field.kind === 'verify') {
          if (value !== commonFieldValue(t, s, offset)) return refuse('mismatch');
          break;
        }
        if (offset === virtio.VIRTIO_PCI_COMMON_DFSELECT) s.deviceFeatureSelect = value;
        else if (offset === virtio.VIRTIO_PCI_COMMON_GFSELECT) s.driverFeatureSelect = value;
        else if (offset === virtio.VIRTIO_PCI_COMMON_CFGGENERATION) s.configGeneration = value;
        else if (offset === virtio.VIRTIO_PCI_COMMON_Q_SELECT) s.queueSelect = value;
        else if (offset === virtio.VIRTIO_PCI_COMMON_MSIX) {
          if (t.acceptVector(value) !== value) return refuse('mismatch');
          s.configMsixVector = value;
        }
        break;
      }
      case vadmin.VIRTIO_DEV_PART_DEVICE_STATUS:
        if (v.length !== STATUS_BYTES) return refuse('length');
        s.status = v[0]!;
        break;
      case vadmin.VIRTIO_DEV_PART_VQ_CFG: {
        const index = sel.kind === 'vq-index' ? sel.index : -1;
        if (index < 0 || index >= queues.length) return refuse('mismatch');
        if (v.length !== vadmin.VirtioDevPartVqCfg.sizeBytes) return refuse('length');
        const q: QueueSnapshot = {
          size: u16(v, 0),
          msixVector: u16(v, 2),
          enabled: u16(v, 4) !== 0,
          desc: u64(v, 8),
          driver: u64(v, 16),
          device: u64(v, 24),
          progress: undefined,
        };
        if (u16(v, 4) > 1 || q.size > t.options.queueMaxSize) return refuse('mismatch');
        if (t.acceptVector(q.msixVector) !== q.msixVector) return refuse('mismatch');
        if (q.enabled && t.ringConfigError(q, s.driverFeatures & deviceFeatures) !== undefined) {
          return refuse('mismatch');
        }
        queues[index] = q;
        break;
      }
      case vadmin.VIRTIO_DEV_PART_VQ_NOTIFY_CFG: {
        const index = sel.kind === 'vq-index' ? sel.index : -1;
        if (index < 0 || index >= queues.length) return refuse('mismatch');
        if (v.length !== vadmin.VirtioDevPartVqNotifyData.sizeBytes) return refuse('length');
        if (u16(v, 0) !== index || u16(v, 2) !== index || u32(v, 4) !== 0) return refuse('mismatch');
        break;
      }
      case VIRTIO_DEV_PART_VFIOLAB_VQ_PROGRESS: {
        // Our part type, so the shared selector decoder does not know it uses vq_index.
        const index = u16(p.selector, 0);
        const q = queues[index];
        if (q === undefined || !q.enabled) return refuse('mismatch');
        if (v.length !== VQ_PROGRESS_BYTES) return refuse('length');
        const lastAvailIdx = u16(v, 0);
        const usedIdx = u16(v, 2);
        if (lastAvailIdx !== usedIdx || u32(v, 4) !== 0) return refuse('mismatch');
        queues[index] = { ...q, progress: { lastAvailIdx, usedIdx } };
        break;
      }
      default:
        break;
    }
  }
  s = { ...s, queues };
  return { ok: true, snapshot: s };
}
