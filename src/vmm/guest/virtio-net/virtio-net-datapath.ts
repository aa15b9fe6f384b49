/**
 * The guest virtio-net driver's datapath (virtio-net-guest-driver.ts): transmit behind a zeroed
 * virtio_net_hdr, receive queue refill, and collecting what the device returned on every queue.
 */
import { decodeStruct, encodeStruct, errnoError, LabError } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import { collectCtrl } from './virtio-net-ctrl.js';
import { refreshConfig } from './virtio-net-device-config.js';
import { publish, type Queue, type Running, type TxToken } from './virtio-net-driver-state.js';
import type {
  CtrlCompletion,
  ReceivedFrame,
  VirtioNetCounters,
  VirtioNetEvents,
  VirtioNetHdrValue,
} from './virtio-net-types.js';

/** Queue one Ethernet frame behind a zeroed virtio_net_hdr. Returns its transmit id. ENOSPC when full. */
export function sendFrame(r: Running, counters: VirtioNetCounters, frame: Uint8Array): number {
  if (frame.length === 0 || frame.length > r.frameBytes) {
    throw new LabError('bad-input', `virtio-net: frame of ${frame.length} bytes (1..${r.frameBytes})`);
  }
  const segments = r.anyLayout ? 1 : 2;
  if (r.txPool.free.length === 0 || r.tx.vq.numFree < segments) reapTx(r, counters, r.txReaped);
  const slot = r.txPool.free.pop();
  if (slot === undefined || r.tx.vq.numFree < segments) {
    if (slot !== undefined) r.txPool.free.push(slot);
    throw errnoError('ENOSPC', 'virtio-net: transmit queue full');
  }
  const addr = r.txPool.base + BigInt(slot * r.txPool.slotBytes);
  const hdr = encodeStruct(virtio.VirtioNetHdr, zeroHdr()).subarray(0, r.hdrBytes);
  r.memory.write(addr, hdr);
  r.memory.write(addr + BigInt(r.hdrBytes), frame);
  const token: TxToken = { id: r.nextTxId, slot, bytes: frame.length };
  r.nextTxId++;
  const out = r.anyLayout
    ? [{ addr, len: r.hdrBytes + frame.length }]
    : [
        { addr, len: r.hdrBytes },
        { addr: addr + BigInt(r.hdrBytes), len: frame.length },
      ];
  r.tx.vq.add(out, [], token, { indirect: false });
  r.txInFlight.set(token.id, token);
  counters.txFrames++;
  counters.txBytes += frame.length;
  publish(r, counters, r.tx);
  return token.id;
}

/** Post receive buffers in every free slot the queue has descriptors for, then publish them. */
export function refillRx(r: Running, counters: VirtioNetCounters): void {
  const segments = r.anyLayout ? 1 : 2;
  let added = 0;
  while (r.rxPool.free.length > 0 && r.rx.vq.numFree >= segments) {
    const slot = r.rxPool.free.pop()!;
    const addr = r.rxPool.base + BigInt(slot * r.rxPool.slotBytes);
    const inSegs = r.anyLayout
      ? [{ addr, len: r.hdrBytes + r.frameBytes }]
      : [
          { addr, len: r.hdrBytes },
          { addr: addr + BigInt(r.hdrBytes), len: r.frameBytes },
        ];
    r.rx.vq.add([], inSegs, slot, { indirect: false });
    added++;
  }
  if (added > 0) publish(r, counters, r.rx);
}

/** Take back completed transmits: their slots return to the pool and their ids go to `out`. */
export function reapTx(r: Running, counters: VirtioNetCounters, out: number[]): void {
  for (let u = r.tx.vq.getUsed(); u; u = r.tx.vq.getUsed()) {
    r.txPool.free.push(u.token.slot);
    r.txInFlight.delete(u.token.id);
    counters.txCompleted++;
    out.push(u.token.id);
  }
}

/** Everything the device returned on `queues`, with the completions taken earlier. */
export function collect(
  r: Running,
  counters: VirtioNetCounters,
  queues: ReadonlyArray<Queue<unknown>>,
  configChanged: boolean,
): VirtioNetEvents {
  const received: ReceivedFrame[] = [];
  const txCompleted: number[] = r.txReaped.splice(0);
  const ctrlCompleted: CtrlCompletion[] = r.ctrlReaped.splice(0);
  if (configChanged) {
    counters.configChanges++;
    refreshConfig(r);
  }
  for (const q of queues) {
    if (q === r.rx) {
      for (let u = r.rx.vq.getUsed(); u; u = r.rx.vq.getUsed()) {
        const addr = r.rxPool.base + BigInt(u.token * r.rxPool.slotBytes);
        r.rxPool.free.push(u.token);
        if (u.len < r.hdrBytes || u.len > r.hdrBytes + r.frameBytes) {
          counters.rxErrors++;
          continue;
        }
        const bytes = r.memory.read(addr, u.len);
        const hdr = decodeStruct(virtio.VirtioNetHdr, bytes.subarray(0, r.hdrBytes), { missing: 'zero' });
        received.push({ hdr, frame: bytes.slice(r.hdrBytes) });
        counters.rxFrames++;
        counters.rxBytes += u.len - r.hdrBytes;
      }
      refillRx(r, counters);
    } else if (q === r.tx) {
      reapTx(r, counters, txCompleted);
    } else {
      collectCtrl(r, counters, ctrlCompleted);
    }
  }
  return { received, txCompleted, ctrlCompleted, configChanged };
}

function zeroHdr(): VirtioNetHdrValue {
  return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0 };
}
