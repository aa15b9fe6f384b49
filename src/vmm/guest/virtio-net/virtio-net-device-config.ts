/**
 * The guest virtio-net driver's device config reads (virtio-net-guest-driver.ts): the mac and status
 * fields, read consistently across a config change.
 */
import { errnoError } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import { hasFeature, type Running } from './virtio-net-driver-state.js';
import type { VirtioTransport } from './virtio-transport.js';

export const MAC_BYTES = 6;
/** Bounded retries of a config read that races a config change. */
const CONFIG_READ_RETRIES = 100;
export const VIRTIO_NET_CONFIG_MAC = 0;
export const VIRTIO_NET_CONFIG_STATUS = 6;

/**
 * The mac field, read consistently: between two equal config_generation reads (modern), or until two
 * reads agree (legacy has no generation; facts 1.11).
 */
export function readMac(t: VirtioTransport): Uint8Array {
  const once = () =>
    Uint8Array.from({ length: MAC_BYTES }, (_, i) => t.readDeviceConfig(VIRTIO_NET_CONFIG_MAC + i, 1));
  for (let i = 0; i < CONFIG_READ_RETRIES; i++) {
    const before = t.configGeneration();
    const mac = once();
    const after = before === undefined ? once() : undefined;
    if (before !== undefined ? t.configGeneration() === before : sameBytes(mac, after!)) return mac;
  }
  throw errnoError('EIO', 'virtio-net: device config kept changing while the MAC was read');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Read mac and status again from device config, for the features that carry them. */
export function refreshConfig(r: Running): void {
  if (hasFeature(r, virtio.VIRTIO_NET_F_MAC)) r.mac = readMac(r.transport);
  if (hasFeature(r, virtio.VIRTIO_NET_F_STATUS)) {
    r.netStatus = r.transport.readDeviceConfig(VIRTIO_NET_CONFIG_STATUS, 2);
  }
}
