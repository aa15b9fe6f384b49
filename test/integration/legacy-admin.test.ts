/**
 * Scenario 2 (issue 4 "Done means"): a guest driver in legacy (transitional) mode brings up a VF whose
 * legacy registers it reaches only through the PF's admin commands, as Linux's vfio virtio
 * legacy_io.c emulates an I/O BAR0 (facts 1.11, 3.9, 5.2): every BAR0 access is one
 * virtio_pci_admin_legacy_* call on the VF's driver-core Device, except Queue Notify, a 16-bit MMIO
 * write to the address LEGACY_NOTIFY_INFO returned. Traffic then flows both ways.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Host } from '../../src/lab/index.js';
import {
  AdminLegacyAccess,
  COMMON_CFG_BYTES,
  DEFAULT_COSTS,
  EXTERNAL_HOST,
  frame,
  Guest,
  LEGACY,
  NOTIFY_INFO_MEMBER_BAR,
  NOTIFY_REGION_OFF,
  PF1,
  pfModel,
  S,
  tagOf,
  twoPfHost,
  vfTarget,
} from './support.js';

/** The PF's admin queue used index, as the device counts completed admin commands. */
function adminUsed(host: Host): number {
  const t = pfModel(host, PF1).net.transport;
  return t.queue(t.adminQueueIndex)?.ring?.usedIdx ?? 0;
}

/** Record every MMIO access on the host fabric (the kernel's and the guest's). */
function spyMmio(host: Host) {
  const reads: bigint[] = [];
  const writes: Array<{ address: bigint; width: number; value: number }> = [];
  const r = host.fabric.mmioRead.bind(host.fabric);
  const w = host.fabric.mmioWrite.bind(host.fabric);
  vi.spyOn(host.fabric, 'mmioRead').mockImplementation((a, width) => {
    reads.push(a);
    return r(a, width);
  });
  vi.spyOn(host.fabric, 'mmioWrite').mockImplementation((a, width, value) => {
    writes.push({ address: a, width, value });
    w(a, width, value);
  });
  return { reads, writes };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('legacy guest driver over admin commands', () => {
  it('LEGACY_NOTIFY_INFO names the VF BAR4 notify region (member BAR, flags 2)', () => {
    const host = twoPfHost(2);
    const vf = vfTarget(host, PF1, 1);
    const acc = new AdminLegacyAccess(host, vf);
    expect(NOTIFY_INFO_MEMBER_BAR).toBe(2);
    expect(acc.notifyAddress).toBe(vf.bars[4]! + BigInt(NOTIFY_REGION_OFF));
    // VF BAR0 is hardwired to zero in the PF's SR-IOV capability: the hypervisor's BAR0 is virtual.
    expect(vf.bars[0]).toBe(0n);
  });

  it('brings the VF up, sends and receives, with admin commands only and no VF common-cfg MMIO', () => {
    const host = twoPfHost(2);
    const pf = pfModel(host, PF1);
    const vf = vfTarget(host, PF1, 1);
    const acc = new AdminLegacyAccess(host, vf);
    const mmio = spyMmio(host);
    const used0 = adminUsed(host);
    const t0 = host.clock.nowNs;
    const g = new Guest(host, 0);
    g.init('legacy', acc);

    expect(g.driver.state).toBe('up');
    expect(g.driver.snapshot()).toMatchObject({ state: 'up', mode: 'legacy' });
    // Only the low 32 feature bits: VERSION_1 (32) is not acked, so the device runs as legacy.
    expect(g.driver.features >> 32n).toBe(0n);
    const t = pf.vf(1)!.transport;
    expect(t.legacyMode).toBe(true);
    expect(t.status).toBe(S.ACK | S.DRIVER | S.DRIVER_OK);
    // MSI-X on: device config moved to 24, so the mac was read with LEGACY_DEV_CFG_READ at 0..5.
    expect(acc.inner.msixEnabled).toBe(true);
    expect(g.driver.interrupts.kind).toBe('msix');
    expect(acc.adminCalls.filter((c) => c.fn === 'device-read').map((c) => c.offset)).toContain(5);
    expect(pf.vf(1)!.mac).toBe([...g.driver.mac].map((x) => x.toString(16).padStart(2, '0')).join(':'));
    // The queues were placed by PFN writes (Queue Address, offset 8) through LEGACY_COMMON_CFG_WRITE.
    const pfnWrites = acc.adminCalls.filter((c) => c.fn === 'common-write' && c.offset === LEGACY.QUEUE_PFN);
    expect(pfnWrites.length).toBe(3);
    expect(t.queue(0)!.enabled && t.queue(1)!.enabled && t.queue(2)!.enabled).toBe(true);

    // Traffic: out to the external port and in from it.
    const mac = g.driver.mac;
    const out = [1, 2, 3].map((n) => frame(EXTERNAL_HOST, mac, n, 70));
    for (const f of out) g.driver.send(f);
    g.service();
    expect(pf.readExternal()).toEqual(out);
    expect(g.txCompleted.length).toBe(3);
    const inbound = [20, 21].map((n) => frame(mac, EXTERNAL_HOST, n, 90));
    for (const f of inbound) pf.injectExternal(f);
    g.service();
    expect(g.received).toEqual(inbound);
    expect(g.received.map(tagOf)).toEqual([20, 21]);
    const dev = pf.stats().vfs.get(1)!;
    expect(dev).toMatchObject({ tx_packets: 3, tx_bytes: 210, rx_packets: 2, rx_bytes: 180, rx_dropped: 0 });
    expect(g.driver.counters()).toMatchObject({ txFrames: 3, txBytes: 210, rxFrames: 2, rxBytes: 180 });

    // Admin commands: every BAR0 access but Queue Notify was one; the device completed exactly those.
    const commands = acc.adminCalls.length - 1; // the constructor's NOTIFY_INFO came before used0
    expect(commands).toBeGreaterThan(20);
    expect(adminUsed(host) - used0).toBe(commands);
    expect(host.clock.nowNs - t0).toBeGreaterThanOrEqual(commands * DEFAULT_COSTS.adminCommandNs);
    // The admin commands dominate: the rest (DMA, MSI-X table MMIO, notify writes) is smaller.
    expect(host.clock.nowNs - t0).toBeLessThan(commands * 2 * DEFAULT_COSTS.adminCommandNs);
    // Notifications went to the member BAR notify address (TX kicks and the RX refill), never by admin.
    expect(acc.notifyWrites.length).toBeGreaterThan(0);
    expect(acc.adminCalls.some((c) => c.offset === LEGACY.QUEUE_NOTIFY && c.fn.startsWith('common'))).toBe(
      false,
    );
    expect(acc.notifyWrites.every((n) => n.address === acc.notifyAddress)).toBe(true);
    expect(new Set(acc.notifyWrites.map((n) => n.value))).toEqual(new Set([0, 1]));

    // No MMIO anywhere touched the VF's modern common cfg (BAR4 + 0..63); the VF's BAR4 saw only
    // notify writes, and the guest's own BAR accesses were only the MSI-X table.
    const bar4 = vf.bars[4]!;
    const inCommon = (a: bigint) => a >= bar4 && a < bar4 + BigInt(COMMON_CFG_BYTES);
    expect(mmio.reads.filter(inCommon)).toEqual([]);
    expect(mmio.writes.filter((w) => inCommon(w.address))).toEqual([]);
    const toBar4 = mmio.writes.filter((w) => w.address >= bar4 && w.address < bar4 + 0x4000n);
    expect(toBar4.every((w) => w.address === acc.notifyAddress && w.width === 2)).toBe(true);
    expect(mmio.reads.filter((a) => a >= bar4 && a < bar4 + 0x4000n)).toEqual([]);
    expect(acc.inner.records.filter((r) => r.kind.startsWith('bar')).every((r) => r.bar === 1)).toBe(true);
  });

  it('without MSI-X: device config at 20, the vector fields absent, ISR read-and-clear by admin command', () => {
    const host = twoPfHost(2);
    const pf = pfModel(host, PF1);
    const acc = new AdminLegacyAccess(host, vfTarget(host, PF1, 1));
    const g = new Guest(host, 0);
    g.init('legacy', acc, { msix: false });
    expect(g.driver.interrupts.kind).toBe('intx');
    expect(acc.inner.msixEnabled).toBe(false);
    // No access to 20 or 22 as vector registers: BAR0 offsets 20.. went to LEGACY_DEV_CFG_* rebased.
    expect(acc.adminCalls.some((c) => c.fn.startsWith('common') && c.offset >= 20)).toBe(false);
    const macReads = acc.adminCalls.filter((c) => c.fn === 'device-read').map((c) => c.offset);
    expect(new Set(macReads)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    expect(pf.vf(1)!.mac).toBe([...g.driver.mac].map((x) => x.toString(16).padStart(2, '0')).join(':'));

    const mac = g.driver.mac;
    g.driver.send(frame(EXTERNAL_HOST, mac, 1));
    pf.injectExternal(frame(mac, EXTERNAL_HOST, 2));
    // The queue interrupt is pending in the ISR (bit 0); no MSI was sent.
    expect(pf.vf(1)!.transport.isr & 1).toBe(1);
    expect(g.irqs.log).toEqual([]);
    const before = acc.adminCalls.length;
    const ev = g.poll();
    expect(acc.adminCalls[before]).toEqual({ fn: 'common-read', offset: LEGACY.ISR, size: 1 });
    expect(pf.vf(1)!.transport.isr).toBe(0);
    expect(ev.received.map((r) => tagOf(r.frame))).toEqual([2]);
    expect(ev.txCompleted).toEqual([0]);
    expect(pf.readExternal().map(tagOf)).toEqual([1]);
  });

  it('a status write of 0 through LEGACY_COMMON_CFG_WRITE resets the VF (driver reset)', () => {
    const host = twoPfHost(2);
    const pf = pfModel(host, PF1);
    const acc = new AdminLegacyAccess(host, vfTarget(host, PF1, 2));
    const g = new Guest(host, 0);
    g.init('legacy', acc);
    expect(pf.vf(2)!.transport.status).not.toBe(0);
    const before = acc.adminCalls.length;
    g.driver.reset();
    expect(pf.vf(2)!.transport.status).toBe(0);
    expect(pf.vf(2)!.transport.queue(1)!.enabled).toBe(false);
    expect(acc.adminCalls.slice(before)[0]).toEqual({ fn: 'common-write', offset: LEGACY.STATUS, size: 1 });
  });
});
