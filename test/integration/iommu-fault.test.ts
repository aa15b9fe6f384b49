/**
 * Scenario 4: a bad descriptor address. The VF's RID is attached to a paging domain that maps only
 * the split rings (identity IOVA = HPA), so the frame buffers the guest driver's descriptors point
 * to are outside mapped memory. The device's DMA is refused by the IOMMU the way hardware is: the
 * fault is recorded, nothing is transferred, and the device sets DEVICE_NEEDS_RESET and signals a
 * config change (facts 1.9; issue 4 section 1).
 */
import { describe, expect, it } from 'vitest';
import { type Hpa, iova, PROT_READ_WRITE } from '../../src/hw/index.js';
import {
  DEFAULT_COSTS,
  EXTERNAL_HOST,
  FabricVfAccess,
  frame,
  Guest,
  PF1,
  pfModel,
  S,
  twoPfHost,
  vfTarget,
} from './support.js';

const PAGE = 0x1000n;
/** The driver's buffer pools are 64-byte aligned; split-ring areas use 16 (desc), 2 (avail), 4 (used). */
const POOL_ALIGN = 64;

function setup() {
  const host = twoPfHost(2);
  const pf = pfModel(host, PF1);
  const vf = vfTarget(host, PF1, 1);
  const access = new FabricVfAccess(host, vf);
  const g = new Guest(host, 0);
  g.init('modern', access);
  const rings = g.allocations.filter((r) => r.align < POOL_ALIGN);
  const pools = g.allocations.filter((r) => r.align === POOL_ALIGN);
  // rx, tx, ctrl: desc, avail, used each; then the rx, tx and ctrl buffer pools.
  expect(rings.length).toBe(9);
  expect(pools.length).toBe(3);
  const pages = new Set<bigint>();
  for (const r of rings) {
    for (let p = r.addr & ~(PAGE - 1n); p < r.addr + BigInt(r.size); p += PAGE) pages.add(p);
  }
  const domain = host.iommu.allocPagingDomain();
  for (const p of pages) domain.map(iova(p), p as Hpa, PAGE, PROT_READ_WRITE);
  host.iommu.attachDevice(vf.rid, domain);
  const txUsed = rings[5]!.addr;
  const rxPool = pools[0]!;
  const txPool = pools[1]!;
  const inPool = (a: bigint, r: { addr: bigint; size: number }) => a >= r.addr && a < r.addr + BigInt(r.size);
  return { host, pf, vf, access, g, pages, txUsed, rxPool, txPool, inPool };
}

describe('IOMMU fault on a bad descriptor address', () => {
  it('TX: the buffer read faults, nothing is written or sent, DEVICE_NEEDS_RESET', () => {
    const { host, pf, vf, access, g, txUsed, txPool, inPool } = setup();
    const faults0 = host.iommu.faultCountFor(vf.rid);
    // struct virtq_used: le16 flags, le16 idx, then 64 entries of {le32 id, le32 len} (avail_event
    // after them is the device's to update as it consumes, fault or not).
    const usedBytes = 4 + 8 * 64;
    const usedBefore = host.memory.read(txUsed as Hpa, usedBytes);
    const t0 = host.clock.nowNs;
    g.driver.send(frame(EXTERNAL_HOST, g.driver.mac, 1));

    expect(host.iommu.faultCountFor(vf.rid) - faults0).toBe(1);
    const fault = host.iommu.faults.at(-1)!;
    expect(fault).toMatchObject({ rid: vf.rid, access: 'read', reason: 'not-present' });
    expect(inPool(fault.iova, txPool)).toBe(true);
    expect(fault.atNs).toBeGreaterThanOrEqual(t0);
    // Nothing written: the TX used ring is byte for byte as before; nothing left the device.
    expect(host.memory.read(txUsed as Hpa, usedBytes)).toEqual(usedBefore);
    expect(pf.readExternal()).toEqual([]);
    expect(pf.stats().vfs.get(1)).toMatchObject({ tx_packets: 0, tx_bytes: 0 });
    // The device needs a reset, and said so with a config interrupt (vector 0).
    expect(access.barRead(4, 20, 1) & S.NEEDS_RESET).toBe(S.NEEDS_RESET);
    expect(pf.vf(1)!.transport.needsResetCause?.kind).toBe('dma');
    const events = g.service();
    expect(events.some((e) => e.configChanged)).toBe(true);
    expect(g.txCompleted).toEqual([]);
    expect(g.driver.snapshot()).toMatchObject({ state: 'up', txInFlight: [{ id: 0 }] });
    // The kick and the refused DMA cost modeled time.
    expect(host.clock.nowNs - t0).toBeGreaterThanOrEqual(DEFAULT_COSTS.mmioWriteNs);
    // Once NEEDS_RESET is set the device does no more DMA: another kick, no new fault.
    g.driver.send(frame(EXTERNAL_HOST, g.driver.mac, 2));
    expect(host.iommu.faultCountFor(vf.rid) - faults0).toBe(1);
    // A driver reset clears it.
    g.driver.reset();
    expect(access.barRead(4, 20, 1)).toBe(0);
  });

  it('RX: the buffer write faults, the buffer stays untouched, DEVICE_NEEDS_RESET', () => {
    const { host, pf, vf, access, g, rxPool, inPool } = setup();
    const faults0 = host.iommu.faultCountFor(vf.rid);
    const before = host.memory.read(rxPool.addr as Hpa, rxPool.size);
    pf.injectExternal(frame(g.driver.mac, EXTERNAL_HOST, 7));
    expect(host.iommu.faultCountFor(vf.rid) - faults0).toBe(1);
    const fault = host.iommu.faults.at(-1)!;
    expect(fault).toMatchObject({ rid: vf.rid, access: 'write', reason: 'not-present' });
    expect(inPool(fault.iova, rxPool)).toBe(true);
    expect(host.memory.read(rxPool.addr as Hpa, rxPool.size)).toEqual(before);
    expect(pf.stats().vfs.get(1)).toMatchObject({ rx_packets: 0, rx_dropped: 1 });
    expect(access.barRead(4, 20, 1) & S.NEEDS_RESET).toBe(S.NEEDS_RESET);
    g.service();
    expect(g.received).toEqual([]);
  });
});
