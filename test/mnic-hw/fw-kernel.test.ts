/**
 * fw.ts end to end on a modeled host: the kernel-side client reaches the NIC only through MMIO, DMA
 * memory and MSI-X. Capabilities, eswitch, the SF lifecycle with events delivered by interrupt, SIOV
 * batches at scale, errno mapping, permissions from a VF's mailbox, and a VF-to-VF state move.
 */
import { describe, expect, it } from 'vitest';
import { mnicFwOpener } from '../../src/kernel/drivers/mnic/fw.js';
import type { VhcaStateEvent } from '../../src/kernel/drivers/mnic/fw-api.js';
import { errnoOf, mnicHost } from './kernel-host.js';

describe('mnic firmware client on a host', () => {
  it('opens the PF: self, capabilities, eswitch mode', () => {
    const { fw } = mnicHost();
    expect(fw.self).toEqual({ kind: 'pf', fnId: 0, vhcaId: 0 });
    const caps = fw.queryHcaCaps();
    expect(caps).toMatchObject({
      pfNum: 0,
      maxSfs: 256,
      sfBaseId: 0x8000,
      logMinSfSize: 1,
      sfBar: 2,
      maxSiovFns: 1024,
      migration: true,
    });
    expect(caps.permanentMac[0]).toBe(0x02);
    expect(fw.queryEswitchMode()).toBe(0);
    fw.setEswitchMode(1);
    expect(fw.queryEswitchMode()).toBe(1);
  });

  it('each command charges the device’s own firmwareCommandNs (a topology cost override)', () => {
    const { host, fw } = mnicHost({ costs: { firmwareCommandNs: 7_000, mmioReadNs: 0, mmioWriteNs: 0 } });
    const t0 = host.clock.nowNs;
    fw.queryEswitchMode();
    expect(host.clock.nowNs - t0).toBe(7_000);
    const t1 = host.clock.nowNs;
    const sf = fw.allocSf(1);
    fw.enableHca(sf);
    // Two commands; the enable's event costs one DMA write of 16 bytes.
    const dma = host.costs.dmaLatencyNs + (16 / host.costs.dmaBandwidthBytesPerSec) * 1e9;
    expect(host.clock.nowNs - t1).toBeCloseTo(14_000 + dma, 6);
  });

  it('SF lifecycle: events arrive by MSI-X in order, the SF initialises through its own window', () => {
    const { host, pf, fw } = mnicHost();
    const events: VhcaStateEvent[] = [];
    const off = fw.onVhcaEvent((e) => events.push(e));
    fw.setEswitchMode(1);
    const sf = fw.allocSf(88);
    expect(sf).toEqual({ kind: 'sf', fnId: 0x8000, vhcaId: 9, sfIndex: 0 });
    expect(fw.queryVhcaState(sf)).toBe(1);
    fw.setFnHwAddr(sf, Uint8Array.of(0, 0, 0, 0, 0x88, 0x88));
    expect([...fw.queryFnHwAddr(sf)]).toEqual([0, 0, 0, 0, 0x88, 0x88]);
    fw.enableHca(sf);
    const sfFw = mnicFwOpener(host.kernel).openSf(pf, sf);
    expect(sfFw.self).toEqual(sf);
    sfFw.initHca();
    fw.disableHca(sf);
    sfFw.teardownHca();
    expect(events.map((e) => e.state)).toEqual([2, 3, 4, 1]);
    expect(events.every((e) => e.fnId === 0x8000 && e.vhcaId === 9)).toBe(true);
    fw.deallocSf(sf);
    off();
    fw.setEswitchMode(0);
  });

  it('a subscriber may issue commands from inside an event', () => {
    const { fw } = mnicHost();
    const seen: number[] = [];
    fw.onVhcaEvent((e) => {
      seen.push(fw.queryVhcaState({ kind: 'sf', fnId: e.fnId, vhcaId: e.vhcaId }));
    });
    const sf = fw.allocSf(1);
    fw.enableHca(sf);
    fw.disableHca(sf);
    expect(seen).toEqual([2, 1, 1]);
  });

  it('errno mapping: ENOSPC full table, EEXIST sfnum, EBUSY in use, EINVAL bad state and bad input', () => {
    const { fw } = mnicHost({ maxSfs: 2 });
    const a = fw.allocSf(1);
    fw.allocSf(2);
    expect(errnoOf(() => fw.allocSf(3))).toBe('ENOSPC');
    expect(errnoOf(() => fw.allocSf(1))).toBe('EEXIST');
    fw.enableHca(a);
    expect(errnoOf(() => fw.deallocSf(a))).toBe('EBUSY');
    expect(errnoOf(() => fw.enableHca(a))).toBe('EINVAL');
    expect(errnoOf(() => fw.setFnHwAddr(a, Uint8Array.of(1, 0, 0, 0, 0, 0)))).toBe('EINVAL');
    expect(errnoOf(() => fw.setFnHwAddr(a, Uint8Array.of(2, 0, 0)))).toBe('EINVAL');
    expect(errnoOf(() => fw.vfHandle(0))).toBe('EINVAL');
    expect(errnoOf(() => fw.createSiovFns(0))).toBe('EINVAL');
    expect(errnoOf(() => fw.createSiovFns(5000))).toBe('ENOSPC');
  });

  it('SIOV batches: 1000 in one command, distinct RIDs from the pool, destroyed in one command', () => {
    const { host, fw } = mnicHost({ maxSiovFns: 1000 });
    const t0 = host.clock.nowNs;
    const fns = fw.createSiovFns(1000);
    expect(fns).toHaveLength(1000);
    expect(new Set(fns.flatMap((f) => [f.guestRid, f.hypervisorRid])).size).toBe(2000);
    expect(fns[0]).toMatchObject({ kind: 'siov', fnId: 0x10000, guestRid: 0x1100, hypervisorRid: 0x1101 });
    const costs = host.costs;
    expect(host.clock.nowNs - t0).toBeGreaterThanOrEqual(
      costs.firmwareCommandNs + 1000 * costs.firmwarePerFunctionNs,
    );
    expect(errnoOf(() => fw.createSiovFns(1))).toBe('ENOSPC');
    fw.enableHca(fns[0]!);
    expect(errnoOf(() => fw.destroySiovFns(fns))).toBe('EBUSY');
    expect(fw.queryVhcaState(fns[1]!)).toBe(1);
    fw.disableHca(fns[0]!);
    fw.destroySiovFns(fns);
    expect(fw.createSiovFns(1000)).toHaveLength(1000);
  });

  it('ENABLE/DISABLE_HCA lists: 2100 functions per command, every event delivered in order (4200 > the 4096-entry ring)', () => {
    const n = 2100;
    const { host, fw } = mnicHost({ maxSiovFns: n, subordinateBus: 0x2f });
    const events: VhcaStateEvent[] = [];
    fw.onVhcaEvent((e) => events.push(e));
    const fns = fw.createSiovFns(n);
    const costs = host.costs;
    const t0 = host.clock.nowNs;
    fw.enableHcaList(fns);
    expect(host.clock.nowNs - t0).toBeGreaterThanOrEqual(
      costs.firmwareCommandNs + n * costs.firmwarePerFunctionNs,
    );
    expect(events).toEqual(fns.map((f) => ({ fnId: f.fnId, vhcaId: f.vhcaId, state: 2 })));
    expect(fw.queryVhcaState(fns[n - 1]!)).toBe(2);
    // All or none: one function already ALLOCATED again makes the whole list EINVAL.
    fw.disableHca(fns[500]!);
    events.length = 0;
    expect(errnoOf(() => fw.disableHcaList(fns))).toBe('EINVAL');
    expect(fw.queryVhcaState(fns[0]!)).toBe(2);
    expect(events).toEqual([]);
    // 4198 events: the ring fills, firmware signals, the driver consumes, firmware goes on.
    const rest = fns.filter((_, i) => i !== 500);
    fw.disableHcaList(rest);
    expect(events.map((e) => [e.fnId, e.state])).toEqual(
      rest.flatMap((f) => [
        [f.fnId, 4],
        [f.fnId, 1],
      ]),
    );
    // An empty list sends nothing; a duplicate is EINVAL.
    const t1 = host.clock.nowNs;
    fw.enableHcaList([]);
    expect(host.clock.nowNs).toBe(t1);
    expect(errnoOf(() => fw.enableHcaList([fns[0]!, fns[0]!]))).toBe('EINVAL');
    fw.destroySiovFns(fns);
  });

  it('a VF reaches firmware through its own BAR0; it may ask about itself only', () => {
    const { host, fw } = mnicHost();
    host.kernel.pciEnableSriov(host.kernel.findPciDevice('0000:10:00.0')!, 2);
    host.kernel.settle();
    const vf0 = fw.vfHandle(0);
    expect(vf0).toEqual({ kind: 'vf', fnId: 1, vhcaId: 1 });
    const vfDev = host.kernel.findPciDevice('0000:10:00.1')!;
    const vfFw = mnicFwOpener(host.kernel).openPci(vfDev);
    expect(vfFw.self).toEqual(vf0);
    expect(vfFw.queryVhcaState(vf0)).toBe(2);
    expect(errnoOf(() => vfFw.queryVhcaState(fw.vfHandle(1)))).toBe('EPERM');
    expect(errnoOf(() => vfFw.allocSf(5))).toBe('EPERM');
    expect(errnoOf(() => vfFw.setEswitchMode(1))).toBe('EPERM');
    vfFw.initHca();
    expect(fw.queryVhcaState(vf0)).toBe(3);
    expect(errnoOf(() => fw.setFnCaps(vf0, { migratable: true }))).toBe('EBUSY');
    vfFw.teardownHca();
    fw.setFnCaps(vf0, { migratable: true });
    expect(fw.queryFnCaps(vf0)).toEqual({ roce: false, migratable: true });
  });

  it('moves a VF state to another VF: suspend, save, load, resume; hostile images leave the target as it was', () => {
    const { host, fw } = mnicHost();
    host.kernel.pciEnableSriov(host.kernel.findPciDevice('0000:10:00.0')!, 2);
    host.kernel.settle();
    const [src, dst] = [fw.vfHandle(0), fw.vfHandle(1)];
    expect(errnoOf(() => fw.suspendVhca(src, 'initiator'))).toBe('EINVAL');
    fw.setFnCaps(src, { migratable: true });
    fw.setFnCaps(dst, { migratable: true, roce: true });
    fw.setFnHwAddr(src, Uint8Array.of(2, 0, 0, 0, 0, 7));
    const srcIo = host.kernel.pciIomap(host.kernel.findPciDevice('0000:10:00.1')!, 0, 0x1000, 0x1000);
    srcIo.write(0x10, 4, 0xcafef00d);
    expect(errnoOf(() => fw.suspendVhca(src, 'responder'))).toBe('EINVAL');
    const pre = fw.saveVhcaState(src);
    expect(pre.length).toBe(fw.queryVhcaMigrationState(src));
    fw.suspendVhca(src, 'initiator');
    fw.suspendVhca(src, 'responder');
    const image = fw.saveVhcaState(src);
    expect(fw.saveVhcaState(src)).toEqual(image);
    expect(errnoOf(() => fw.loadVhcaState(dst, image))).toBe('EINVAL');
    fw.suspendVhca(dst, 'initiator');
    fw.suspendVhca(dst, 'responder');
    const bad = image.slice();
    bad[100]! ^= 1;
    expect(errnoOf(() => fw.loadVhcaState(dst, bad))).toBe('EINVAL');
    expect(fw.queryFnCaps(dst)).toEqual({ roce: true, migratable: true });
    fw.loadVhcaState(dst, image);
    expect([...fw.queryFnHwAddr(dst)]).toEqual([2, 0, 0, 0, 0, 7]);
    expect(fw.queryFnCaps(dst)).toEqual({ roce: false, migratable: true });
    fw.resumeVhca(dst, 'responder');
    fw.resumeVhca(dst, 'initiator');
    const dstIo = host.kernel.pciIomap(host.kernel.findPciDevice('0000:10:00.2')!, 0, 0x1000, 0x1000);
    expect(dstIo.read(0x10, 4)).toBe(0xcafef00d);
    expect(fw.queryCounters(dst)).toEqual({ rxPackets: 0n, rxBytes: 0n, txPackets: 0n, txBytes: 0n });
  });
});

describe('mnic resets', () => {
  it('a VF FLR acts as its driver’s TEARDOWN_HCA (event) and clears its context; MAC and caps stay', () => {
    const { host, fw } = mnicHost();
    const pfDev = host.kernel.findPciDevice('0000:10:00.0')!;
    host.kernel.pciEnableSriov(pfDev, 1);
    host.kernel.settle();
    const vf = fw.vfHandle(0);
    const vfDev = host.kernel.findPciDevice('0000:10:00.1')!;
    const vfFw = mnicFwOpener(host.kernel).openPci(vfDev);
    const events: VhcaStateEvent[] = [];
    fw.onVhcaEvent((e) => events.push(e));
    fw.setFnHwAddr(vf, Uint8Array.of(2, 0, 0, 0, 0, 9));
    fw.setFnCaps(vf, { roce: true });
    vfFw.initHca();
    const ctx = host.kernel.pciIomap(vfDev, 0, 0x1000, 0x1000);
    ctx.write(0, 4, 0x1234);
    host.kernel.pciResetFunction(vfDev, false);
    expect(events.map((e) => [e.fnId, e.state])).toEqual([
      [1, 3],
      [1, 2],
    ]);
    expect(fw.queryVhcaState(vf)).toBe(2);
    expect(ctx.read(0, 4)).toBe(0);
    expect([...fw.queryFnHwAddr(vf)]).toEqual([2, 0, 0, 0, 0, 9]);
    expect(fw.queryFnCaps(vf).roce).toBe(true);
  });

  it('a PF FLR drops every SF and SIOV function and returns the eswitch to legacy', () => {
    const { host, pf, fw } = mnicHost();
    fw.setEswitchMode(1);
    const sf = fw.allocSf(3);
    const [siov] = fw.createSiovFns(1);
    host.kernel.pciResetFunction(pf, false);
    // The old client's event ring is gone with the reset: open again, as a driver re-probing would.
    const again = mnicFwOpener(host.kernel).openPci(pf);
    expect(again.queryEswitchMode()).toBe(0);
    expect(errnoOf(() => again.queryVhcaState(sf))).toBe('EINVAL');
    expect(errnoOf(() => again.queryVhcaState(siov!))).toBe('EINVAL');
    expect(again.allocSf(3)).toMatchObject({ fnId: 0x8000, sfIndex: 0 });
  });
});

describe('a window with no function behind it', () => {
  it('an SF mailbox opened after the SF is gone times out instead of answering zeros', () => {
    const { host, pf, fw } = mnicHost();
    const sf = fw.allocSf(4);
    fw.deallocSf(sf);
    expect(errnoOf(() => mnicFwOpener(host.kernel).openSf(pf, sf))).toBe('ETIMEDOUT');
  });
});
