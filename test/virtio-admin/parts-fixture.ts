/**
 * A member's device parts for the tests, both as the plain objects the fake member holds and as the
 * wire bytes written out by hand from facts/virtio.md §4.2-4.3 (part header: le16 part_type, u8 flags,
 * u8 reserved, selector[8], le32 length; then the value). Four parts in the mandatory order (§4.5):
 * DEV_FEATURES (optional), DRV_FEATURES, DEVICE_STATUS, VQ_CFG for queue 0.
 */
import type { DevPart } from '../../src/hw/virtio/admin-wire.js';
import { cat, zeros } from './support.js';

/** VERSION_1 (32) | ACCESS_PLATFORM (33), le64. */
const FEATURES = [0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00];

export interface PartsState {
  readonly status: number;
  readonly queueDescLow: number;
}

function vqCfg(s: PartsState): number[] {
  // biome-ignore format: one row per field
  return [
    0x00, 0x01, // queue_size 256
    0x01, 0x00, // vector 1
    0x01, 0x00, // enabled
    0x00, 0x00, // reserved
    s.queueDescLow, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // queue_desc
    0x00, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // queue_driver
    0x00, 0x20, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, // queue_device
  ];
}

export function sampleParts(s: PartsState): DevPart[] {
  const none = new Uint8Array(8);
  return [
    { partType: 0x100, flags: 1, selector: none, value: Uint8Array.from(FEATURES) },
    { partType: 0x101, flags: 0, selector: none, value: Uint8Array.from(FEATURES) },
    { partType: 0x103, flags: 0, selector: none, value: Uint8Array.from([s.status]) },
    { partType: 0x104, flags: 0, selector: new Uint8Array(8), value: Uint8Array.from(vqCfg(s)) },
  ];
}

// Each part's header, by hand.
export const DEV_FEATURES_HDR = [0x00, 0x01, 0x01, 0x00, ...zeros(8), 0x08, 0x00, 0x00, 0x00];
export const DRV_FEATURES_HDR = [0x01, 0x01, 0x00, 0x00, ...zeros(8), 0x08, 0x00, 0x00, 0x00];
export const DEVICE_STATUS_HDR = [0x03, 0x01, 0x00, 0x00, ...zeros(8), 0x01, 0x00, 0x00, 0x00];
export const VQ_CFG_HDR = [0x04, 0x01, 0x00, 0x00, 0x00, 0x00, ...zeros(6), 0x20, 0x00, 0x00, 0x00];

/** The parts list as DEV_PARTS_GET writes it: 16+8 + 16+8 + 16+1 + 16+32 = 113 bytes. */
export function sampleImage(s: PartsState): Uint8Array {
  return cat(
    DEV_FEATURES_HDR,
    FEATURES,
    DRV_FEATURES_HDR,
    FEATURES,
    DEVICE_STATUS_HDR,
    [s.status],
    VQ_CFG_HDR,
    vqCfg(s),
  );
}

export const SAMPLE_IMAGE_BYTES = 113;
