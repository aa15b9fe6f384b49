/**
 * The guest virtio-net driver's control queue (virtio-net-guest-driver.ts): MAC address and RX mode
 * requests, and their completions (ack byte, and the driver's MAC once a MAC_ADDR_SET is acked).
 */
import { encodeStruct, errnoError, LabError } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import { MAC_BYTES, VIRTIO_NET_CONFIG_MAC } from './virtio-net-device-config.js';
import {
  CTRL_HDR_BYTES,
  CTRL_SLOT_BYTES,
  type CtrlToken,
  hasFeature,
  publish,
  type Running,
} from './virtio-net-driver-state.js';
import type { CtrlCompletion, SetMacResult, VirtioNetCounters } from './virtio-net-types.js';

const CTRL_DATA_MAX = CTRL_SLOT_BYTES - CTRL_HDR_BYTES - 1;
/** Ack value before the device writes one (Linux presets ~0). */
const CTRL_ACK_UNSET = 0xff;

/** VIRTIO_NET_CTRL_MAC_ADDR_SET, or on a legacy device without it, a write of the config mac. */
export function setMac(r: Running, counters: VirtioNetCounters, mac: Uint8Array): SetMacResult {
  if (mac.length !== MAC_BYTES) throw new LabError('bad-input', `MAC address of ${mac.length} bytes`);
  if (r.ctrl && hasFeature(r, virtio.VIRTIO_NET_F_CTRL_MAC_ADDR)) {
    return {
      kind: 'ctrl',
      id: ctrlRequest(r, counters, virtio.VIRTIO_NET_CTRL_MAC, virtio.VIRTIO_NET_CTRL_MAC_ADDR_SET, mac),
    };
  }
  if (r.transport.mode === 'legacy' && hasFeature(r, virtio.VIRTIO_NET_F_MAC)) {
    mac.forEach((b, i) => {
      r.transport.writeDeviceConfig(VIRTIO_NET_CONFIG_MAC + i, 1, b);
    });
    r.mac = mac.slice();
    return { kind: 'config-written' };
  }
  throw errnoError('EOPNOTSUPP', 'virtio-net: the device cannot change its MAC address');
}

/** A VIRTIO_NET_CTRL_RX command (PROMISC, ALLMULTI) turning the mode on or off. Returns its id. */
export function rxMode(r: Running, counters: VirtioNetCounters, command: number, on: boolean): number {
  if (!r.ctrl || !hasFeature(r, virtio.VIRTIO_NET_F_CTRL_RX)) {
    throw errnoError('EOPNOTSUPP', 'virtio-net: VIRTIO_NET_F_CTRL_RX was not negotiated');
  }
  return ctrlRequest(r, counters, virtio.VIRTIO_NET_CTRL_RX, command, Uint8Array.of(on ? 1 : 0));
}

/** Queue a control request: out = [header, data], in = [ack]. */
function ctrlRequest(
  r: Running,
  counters: VirtioNetCounters,
  cls: number,
  command: number,
  data: Uint8Array,
): number {
  const ctrl = r.ctrl!;
  if (data.length > CTRL_DATA_MAX) throw new LabError('internal', `control data of ${data.length} bytes`);
  if (ctrl.pool.free.length === 0 || ctrl.queue.vq.numFree < 3) collectCtrl(r, counters, r.ctrlReaped);
  const slot = ctrl.pool.free.pop();
  if (slot === undefined || ctrl.queue.vq.numFree < 3) {
    if (slot !== undefined) ctrl.pool.free.push(slot);
    throw errnoError('ENOSPC', 'virtio-net: control queue full');
  }
  const addr = ctrl.pool.base + BigInt(slot * ctrl.pool.slotBytes);
  const ackAddr = addr + BigInt(CTRL_SLOT_BYTES - 1);
  r.memory.write(addr, encodeStruct(virtio.VirtioNetCtrlHdr, { class: cls, command }));
  r.memory.write(addr + BigInt(CTRL_HDR_BYTES), data);
  r.memory.write(ackAddr, Uint8Array.of(CTRL_ACK_UNSET));
  const token: CtrlToken = { id: r.nextCtrlId, slot, class: cls, command };
  r.nextCtrlId++;
  ctrl.queue.vq.add(
    [
      { addr, len: CTRL_HDR_BYTES },
      { addr: addr + BigInt(CTRL_HDR_BYTES), len: data.length },
    ],
    [{ addr: ackAddr, len: 1 }],
    token,
    { indirect: false },
  );
  r.ctrlInFlight.set(token.id, token);
  if (cls === virtio.VIRTIO_NET_CTRL_MAC) r.pendingMac.set(token.id, data.slice());
  publish(r, counters, ctrl.queue);
  return token.id;
}

/** Take back answered control requests; each completion goes to `out`. */
export function collectCtrl(r: Running, counters: VirtioNetCounters, out: CtrlCompletion[]): void {
  const ctrl = r.ctrl;
  if (!ctrl) return;
  for (let u = ctrl.queue.vq.getUsed(); u; u = ctrl.queue.vq.getUsed()) {
    const { token } = u;
    const addr = ctrl.pool.base + BigInt(token.slot * ctrl.pool.slotBytes);
    const ack = r.memory.read(addr + BigInt(CTRL_SLOT_BYTES - 1), 1)[0]!;
    ctrl.pool.free.push(token.slot);
    r.ctrlInFlight.delete(token.id);
    const mac = r.pendingMac.get(token.id);
    r.pendingMac.delete(token.id);
    if (ack === virtio.VIRTIO_NET_OK) {
      counters.ctrlOk++;
      if (mac) r.mac = mac;
    } else {
      counters.ctrlErr++;
    }
    out.push({ id: token.id, class: token.class, command: token.command, ack });
  }
}
