/**
 * Rig for the guest virtio-net driver tests: a fake device over an in-memory address space, and the
 * feature bit numbers written out from facts/virtio.md 1.10 and 1.12 (not imported from src/spec).
 */
import { RegionAllocator, VirtioNetGuestDriver } from '../../src/vmm/guest/index.js';
import { ArrayQueueMemory } from '../virtqueue/array-queue-memory.js';
import { type FakeOptions, FakeVirtioNet } from './fake-virtio-net.js';

export const F = {
  CSUM: 1n << 0n,
  MAC: 1n << 5n,
  MRG_RXBUF: 1n << 15n,
  STATUS: 1n << 16n,
  CTRL_VQ: 1n << 17n,
  CTRL_RX: 1n << 18n,
  CTRL_MAC_ADDR: 1n << 23n,
  ANY_LAYOUT: 1n << 27n,
  EVENT_IDX: 1n << 29n,
  VERSION_1: 1n << 32n,
  ACCESS_PLATFORM: 1n << 33n,
};

/** Rings and buffers go here: queue addresses in the tests are computed by hand from this base. */
export const POOL_BASE = 0x1_0000n;
export const POOL_BYTES = 0x10_0000n;

export const MODERN_OFFERED =
  F.VERSION_1 | F.MAC | F.STATUS | F.CTRL_VQ | F.CTRL_RX | F.CTRL_MAC_ADDR | F.CSUM;
export const LEGACY_OFFERED = F.MAC | F.STATUS | F.CTRL_VQ | F.CTRL_RX | F.ANY_LAYOUT | F.CSUM;

export interface Rig {
  mem: ArrayQueueMemory;
  dev: FakeVirtioNet;
  allocator: RegionAllocator;
  driver: VirtioNetGuestDriver;
}

export function rig(options: Partial<FakeOptions> & { offered: bigint }): Rig {
  const mem = new ArrayQueueMemory();
  const dev = new FakeVirtioNet(mem, options);
  return {
    mem,
    dev,
    allocator: new RegionAllocator(POOL_BASE, POOL_BYTES),
    driver: new VirtioNetGuestDriver(),
  };
}

export const MSI_ADDR = 0xfee0_0000n;
export const MSI_DATA_BASE = 0x40;

/** An Ethernet frame of `n` bytes: broadcast destination, then a counting pattern. */
export function frame(n: number, seed = 0): Uint8Array {
  const f = Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
  f.fill(0xff, 0, 6);
  return f;
}
