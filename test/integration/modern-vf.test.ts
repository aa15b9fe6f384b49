/**
 * Scenario 1: the guest virtio-net driver in modern mode directly on VFs that no host driver owns
 * (sriov_drivers_autoprobe=0), on a full lab host: init, a frame to the external port, a frame from
 * the external port to the VF's MAC, VF-to-VF traffic between two guests, and counters that agree
 * between the device and the drivers. Interrupts come from the host MSI controller.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_COSTS,
  EXTERNAL_HOST,
  FabricVfAccess,
  frame,
  Guest,
  PF1,
  pfModel,
  S,
  tagOf,
  twoPfHost,
  vfTarget,
} from './support.js';

function setup() {
  const host = twoPfHost(4);
  const pf = pfModel(host, PF1);
  const vf1 = vfTarget(host, PF1, 1);
  const vf2 = vfTarget(host, PF1, 2);
  const a = new Guest(host, 0);
  const b = new Guest(host, 1);
  const accA = new FabricVfAccess(host, vf1);
  const accB = new FabricVfAccess(host, vf2);
  return { host, pf, vf1, vf2, a, b, accA, accB };
}

describe('modern guest driver on a VF (no host driver)', () => {
  it('the VFs are unbound on the host and the PF is virtio-pci', () => {
    const { host, vf1 } = setup();
    expect(vf1.dev.driver).toBeUndefined();
    expect(host.kernel.findPciDevice(PF1)!.driver?.name).toBe('virtio-pci');
  });

  it('initializes: DRIVER_OK, MSI-X per queue, the VF MAC from device config, modeled time spent', () => {
    const { host, pf, a, accA } = setup();
    const t0 = host.clock.nowNs;
    a.init('modern', accA);
    expect(a.driver.state).toBe('up');
    expect(a.driver.interrupts).toMatchObject({ kind: 'msix', layout: 'per-queue' });
    // Status as the device sees it, read through the VF's common cfg (device_status at 20).
    expect(accA.barRead(4, 20, 1)).toBe(S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    expect(pf.vf(1)!.mac).toBe([...a.driver.mac].map((x) => x.toString(16).padStart(2, '0')).join(':'));
    // Every register access is an MMIO or config cycle: at least a few dozen of them, each >= 150 ns.
    const accesses = accA.records.length;
    expect(accesses).toBeGreaterThan(40);
    expect(host.clock.nowNs - t0).toBeGreaterThanOrEqual(accesses * DEFAULT_COSTS.mmioWriteNs);
  });

  it('sends to the external port, receives from it, and the counters agree', () => {
    const { host, pf, a, accA } = setup();
    a.init('modern', accA);
    const mac = a.driver.mac;
    const irqBefore = host.fabric.ctx.msi!.stats.delivered;
    const out = [1, 2, 3].map((t) => frame(EXTERNAL_HOST, mac, t, 60 + t));
    for (const f of out) a.driver.send(f);
    a.service();
    const ext = pf.readExternal();
    expect(ext.map(tagOf)).toEqual([1, 2, 3]);
    expect(ext).toEqual(out);
    expect(a.txCompleted.length).toBe(3);

    const t0 = host.clock.nowNs;
    const inbound = [10, 11].map((t) => frame(mac, EXTERNAL_HOST, t, 100));
    for (const f of inbound) pf.injectExternal(f);
    // Not addressed to anyone in the device: dropped at the switch, never seen by the guest.
    pf.injectExternal(frame(Uint8Array.of(2, 9, 9, 9, 9, 9), EXTERNAL_HOST, 99));
    a.service();
    expect(a.received).toEqual(inbound);
    // RX DMA of the frames was charged in modeled time.
    expect(host.clock.nowNs - t0).toBeGreaterThanOrEqual(2 * DEFAULT_COSTS.dmaLatencyNs);
    expect(pf.switch.uplinkStats.dropped).toBe(1);
    expect(host.fabric.ctx.msi!.stats.delivered).toBeGreaterThan(irqBefore);

    const dev = pf.stats().vfs.get(1)!;
    const drv = a.driver.counters();
    expect(dev).toMatchObject({ tx_packets: 3, tx_bytes: 61 + 62 + 63, rx_packets: 2, rx_bytes: 200 });
    expect(dev.rx_dropped).toBe(0);
    expect(drv).toMatchObject({
      txFrames: dev.tx_packets,
      txBytes: dev.tx_bytes,
      txCompleted: 3,
      rxFrames: dev.rx_packets,
      rxBytes: dev.rx_bytes,
      rxErrors: 0,
    });
  });

  it('moves frames VF to VF between two guests, not to the external port', () => {
    const { pf, a, b, accA, accB } = setup();
    a.init('modern', accA);
    b.init('modern', accB);
    const macA = a.driver.mac;
    const macB = b.driver.mac;
    expect(macA).not.toEqual(macB);
    const ab = [1, 2, 3, 4].map((t) => frame(macB, macA, t));
    const ba = [7, 8].map((t) => frame(macA, macB, t, 200));
    for (const f of ab) a.driver.send(f);
    for (const f of ba) b.driver.send(f);
    a.service();
    b.service();
    expect(b.received).toEqual(ab);
    expect(a.received).toEqual(ba);
    expect(pf.readExternal()).toEqual([]);
    const s = pf.stats().vfs;
    expect(s.get(1)).toMatchObject({ tx_packets: 4, rx_packets: 2, rx_bytes: 400, rx_dropped: 0 });
    expect(s.get(2)).toMatchObject({ tx_packets: 2, rx_packets: 4, rx_bytes: 256, rx_dropped: 0 });
    for (const [g, n] of [
      [a, 1],
      [b, 2],
    ] as const) {
      const dev = s.get(n)!;
      expect(g.driver.counters()).toMatchObject({
        txFrames: dev.tx_packets,
        txBytes: dev.tx_bytes,
        rxFrames: dev.rx_packets,
        rxBytes: dev.rx_bytes,
      });
    }
    // A broadcast reaches the other VF and the external port, not the sender.
    a.driver.send(frame(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), macA, 50));
    b.service();
    a.service();
    expect(tagOf(b.received.at(-1)!)).toBe(50);
    expect(a.received.length).toBe(2);
    expect(pf.readExternal().map(tagOf)).toEqual([50]);
  });
});
