/**
 * The virtio-net device driven as a driver drives it: feature negotiation, queue setup, TX to the
 * external port, VF-to-VF through the switch, RX filtering and promiscuous mode, control commands,
 * counters, MSI-X (and masking), event index suppression, a DMA fault, reset.
 */
import { describe, expect, it } from 'vitest';
import type { Hpa, Iova } from '../../src/hw/index.js';
import {
  BROADCAST,
  bench,
  bits,
  CC,
  CTRLQ,
  EXTERNAL_HOST,
  F,
  frame,
  mac,
  NetDriver,
  RXQ,
  S,
  TXQ,
  vfAddress,
} from './support.js';

const VF_FEATURES = bits(
  F.VERSION_1,
  F.ACCESS_PLATFORM,
  F.MTU,
  F.MAC,
  F.STATUS,
  F.CTRL_VQ,
  F.CTRL_RX,
  F.CTRL_RX_EXTRA,
  F.CTRL_MAC_ADDR,
);
// Control classes and commands (facts 1.12).
const CTRL_RX = 0;
const RX_PROMISC = 0;
const CTRL_MAC = 1;
const MAC_TABLE_SET = 0;
const MAC_ADDR_SET = 1;

function twoVfs() {
  const b = bench(1, 4);
  const pf = b.pfs[0]!;
  const a = new NetDriver(b, vfAddress(b, pf, 1));
  const c = new NetDriver(b, vfAddress(b, pf, 2));
  a.up(VF_FEATURES);
  c.up(VF_FEATURES);
  return { b, pf, a, c };
}

describe('feature negotiation', () => {
  it('a VF offers the hand-listed features, window by window', () => {
    const b = bench(1, 1);
    const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
    // Window 0: MTU 3, MAC 5, STATUS 16, CTRL_VQ 17, CTRL_RX 18, CTRL_RX_EXTRA 20, CTRL_MAC_ADDR 23,
    // INDIRECT_DESC 28, EVENT_IDX 29. Window 1: VERSION_1 (32), ACCESS_PLATFORM (33), NOTIFICATION_DATA (38).
    d.w(CC.DFSELECT, 4, 0);
    expect(d.r(CC.DF, 4) >>> 0).toBe(0x30970028);
    d.w(CC.DFSELECT, 4, 1);
    expect(d.r(CC.DF, 4)).toBe(0x43);
    d.w(CC.DFSELECT, 4, 2);
    expect(d.r(CC.DF, 4)).toBe(0);
  });

  it('the PF adds SR_IOV (37) and ADMIN_VQ (41) and one admin queue after num_queues', () => {
    const b = bench(1, 0);
    const pf = b.pfs[0]!;
    const d = new NetDriver(b, { rid: pf.rid, bar1: pf.bar1, bar4: pf.bar4 });
    d.w(CC.DFSELECT, 4, 1);
    expect(d.r(CC.DF, 4)).toBe(0x43 | 0x20 | 0x200);
    expect(d.r(CC.NUMQ, 2)).toBe(3);
    expect(d.r(CC.ADM_Q_IDX, 2)).toBe(3);
    expect(d.r(CC.ADM_Q_NUM, 2)).toBe(1);
  });

  it('FEATURES_OK is refused without VERSION_1, without ACCESS_PLATFORM, with an unoffered bit, or CTRL_RX without CTRL_VQ', () => {
    const b = bench(1, 1);
    const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
    const ok = S.ACK | S.DRIVER | S.FEATURES_OK;
    expect(d.negotiate(VF_FEATURES)).toBe(ok);
    expect(d.negotiate(VF_FEATURES & ~bits(F.VERSION_1))).toBe(S.ACK | S.DRIVER);
    expect(d.negotiate(VF_FEATURES & ~bits(F.ACCESS_PLATFORM))).toBe(S.ACK | S.DRIVER);
    expect(d.negotiate(VF_FEATURES | bits(F.SR_IOV))).toBe(S.ACK | S.DRIVER);
    expect(d.negotiate(bits(F.VERSION_1, F.ACCESS_PLATFORM, F.CTRL_RX))).toBe(S.ACK | S.DRIVER);
    // driver_feature reads back what was written.
    d.w(CC.GFSELECT, 4, 0);
    expect(d.r(CC.GF, 4)).toBe(1 << F.CTRL_RX);
  });

  it('status 0 resets: status, queue_enable, vectors and features read their reset values', () => {
    const { a } = twoVfs();
    a.w(CC.STATUS, 1, 0);
    expect(a.status).toBe(0);
    a.w(CC.Q_SELECT, 2, TXQ);
    expect(a.r(CC.Q_ENABLE, 2)).toBe(0);
    expect(a.r(CC.Q_MSIX, 2)).toBe(0xffff);
    expect(a.r(CC.Q_SIZE, 2)).toBe(256);
    expect(a.r(CC.MSIX, 2)).toBe(0xffff);
    a.w(CC.GFSELECT, 4, 0);
    expect(a.r(CC.GF, 4)).toBe(0);
  });

  it('a vector beyond the MSI-X table reads back NO_VECTOR', () => {
    const { a } = twoVfs();
    a.w(CC.MSIX, 2, 4); // the VF has 4 vectors: 0..3
    expect(a.r(CC.MSIX, 2)).toBe(0xffff);
    a.w(CC.MSIX, 2, 3);
    expect(a.r(CC.MSIX, 2)).toBe(3);
  });
});

describe('traffic', () => {
  it('TX to an unknown unicast address leaves through the external port, byte for byte', () => {
    const { pf, a } = twoVfs();
    const f = frame(EXTERNAL_HOST, a.mac(), [1, 2, 3, 4]);
    a.send(f);
    expect(pf.model.readExternal()).toEqual([f]);
    expect(a.reclaimTx()).toBe(1);
    expect(pf.model.vf(1)!.stats()).toMatchObject({ tx_packets: 1, tx_bytes: 18, tx_dropped: 0 });
  });

  it('VF to VF through the switch: the frame lands in the peer RX buffer after a 12-byte header', () => {
    const { pf, a, c } = twoVfs();
    c.postRx(4);
    const f = frame(c.mac(), a.mac(), [9, 8, 7]);
    a.send(f);
    const got = c.received();
    expect(got.map((g) => g.frame)).toEqual([f]);
    // virtio_net_hdr: all zero but num_buffers (le16 @10) = 1.
    expect([...got[0]!.hdr]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(pf.model.readExternal()).toEqual([]);
    expect(pf.model.vf(2)!.stats()).toMatchObject({ rx_packets: 1, rx_bytes: 17 });
  });

  it('RX filtering: external frames reach only the owner; unknown unicast is dropped; promisc sees all', () => {
    const { pf, a, c } = twoVfs();
    a.postRx(8);
    c.postRx(8);
    const toC = frame(c.mac(), EXTERNAL_HOST, [1]);
    const toNobody = frame(mac(0x02, 0x99, 0, 0, 0, 1), EXTERNAL_HOST, [2]);
    pf.model.injectExternal(toC);
    pf.model.injectExternal(toNobody);
    expect(a.received()).toEqual([]);
    expect(c.received().map((g) => g.frame)).toEqual([toC]);
    expect(pf.model.switch.uplinkStats.dropped).toBe(1);

    expect(a.ctrl(CTRL_RX, RX_PROMISC, Uint8Array.of(1))).toBe(0);
    pf.model.injectExternal(toC);
    pf.model.injectExternal(toNobody);
    expect(a.received().map((g) => g.frame)).toEqual([toC, toNobody]);
    expect(c.received().map((g) => g.frame)).toEqual([toC]);
  });

  it('broadcast from a VF reaches every other function with RX buffers and the external port', () => {
    const { pf, a, c } = twoVfs();
    c.postRx(2);
    const f = frame(BROADCAST, a.mac(), [5]);
    a.send(f);
    expect(c.received().map((g) => g.frame)).toEqual([f]);
    expect(pf.model.readExternal()).toEqual([f]);
    // VF 3 and 4 have no driver: their drops are counted.
    expect(pf.model.vf(3)!.stats().rx_dropped).toBe(1);
  });

  it('a frame without an RX buffer is dropped and counted', () => {
    const { pf, c } = twoVfs();
    pf.model.injectExternal(frame(c.mac(), EXTERNAL_HOST, [1]));
    expect(pf.model.vf(2)!.stats()).toMatchObject({ rx_packets: 0, rx_dropped: 1 });
  });
});

describe('control queue', () => {
  it('MAC ADDR_SET changes the config mac and where the switch sends frames', () => {
    const { pf, c } = twoVfs();
    c.postRx(2);
    const newMac = mac(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee);
    expect(c.ctrl(CTRL_MAC, MAC_ADDR_SET, newMac)).toBe(0);
    expect(c.mac()).toEqual(newMac);
    const f = frame(newMac, EXTERNAL_HOST, [3]);
    pf.model.injectExternal(f);
    expect(c.received().map((g) => g.frame)).toEqual([f]);
  });

  it('MAC TABLE_SET adds unicast and multicast filters', () => {
    const { pf, c } = twoVfs();
    c.postRx(4);
    const extra = mac(0x02, 1, 2, 3, 4, 5);
    const group = mac(0x01, 0x00, 0x5e, 0, 0, 1);
    // le32 1, mac; le32 1, mac (struct virtio_net_ctrl_mac twice).
    const table = Uint8Array.of(1, 0, 0, 0, ...extra, 1, 0, 0, 0, ...group);
    expect(c.ctrl(CTRL_MAC, MAC_TABLE_SET, table)).toBe(0);
    const f1 = frame(extra, EXTERNAL_HOST, [1]);
    const f2 = frame(group, EXTERNAL_HOST, [2]);
    const f3 = frame(mac(0x01, 0x00, 0x5e, 0, 0, 2), EXTERNAL_HOST, [3]);
    pf.model.injectExternal(f1);
    pf.model.injectExternal(f2);
    pf.model.injectExternal(f3);
    expect(c.received().map((g) => g.frame)).toEqual([f1, f2]);
  });

  it('malformed or unknown commands are acked VIRTIO_NET_ERR (1) and change nothing', () => {
    const { c } = twoVfs();
    const before = c.mac();
    expect(c.ctrl(CTRL_MAC, MAC_ADDR_SET, Uint8Array.of(1, 2, 3))).toBe(1);
    expect(c.ctrl(CTRL_MAC, MAC_TABLE_SET, Uint8Array.of(2, 0, 0, 0, 1, 2))).toBe(1);
    expect(c.ctrl(9, 0, Uint8Array.of(0))).toBe(1);
    expect(c.mac()).toEqual(before);
  });

  it('an RX command is refused when CTRL_RX was not negotiated', () => {
    const b = bench(1, 1);
    const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
    d.up(bits(F.VERSION_1, F.ACCESS_PLATFORM, F.CTRL_VQ));
    expect(d.ctrl(CTRL_RX, RX_PROMISC, Uint8Array.of(1))).toBe(1);
  });
});

describe('interrupts', () => {
  it('RX and TX completions raise their MSI-X vectors; the control queue its own', () => {
    const { pf, a } = twoVfs();
    a.postRx(2);
    pf.model.injectExternal(frame(a.mac(), EXTERNAL_HOST, [1]));
    expect(a.irq(1)).toBe(1);
    a.send(frame(EXTERNAL_HOST, a.mac(), [2]));
    expect(a.irq(2)).toBe(1);
    a.ctrl(CTRL_RX, RX_PROMISC, Uint8Array.of(0));
    expect(a.irq(3)).toBe(1);
    expect(a.irq(0)).toBe(0);
  });

  it('a masked vector sets its Pending Bit instead; unmasking delivers it and clears the bit', () => {
    const b = bench(1, 1);
    const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
    d.negotiate(VF_FEATURES);
    d.enableMsix(4, [1]);
    d.setupQueue(RXQ, 8, 1, false);
    d.setupQueue(TXQ, 8, 2, false);
    d.w(CC.STATUS, 1, S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    d.postRx(1);
    b.pfs[0]!.model.injectExternal(frame(d.mac(), EXTERNAL_HOST, [1]));
    expect(d.irq(1)).toBe(0);
    // PBA at BAR1 + 0x800: bit 1.
    expect(b.fabric.mmioRead(d.bar1 + 0x800n, 4)).toBe(0b10);
    b.fabric.mmioWrite(d.bar1 + 16n + 12n, 4, 0); // vector 1 control: unmask
    expect(d.irq(1)).toBe(1);
    expect(b.fabric.mmioRead(d.bar1 + 0x800n, 4)).toBe(0);
  });

  it('with EVENT_IDX the device interrupts only when used_event is crossed', () => {
    const b = bench(1, 1);
    const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
    d.up(VF_FEATURES | bits(F.EVENT_IDX), true);
    const tx = d.queues.get(TXQ)!;
    // used_event sits after avail.ring[16]: avail + 4 + 2*16 (split-ring.tex). Ask for entry 4.
    const usedEvent = d.base + BigInt(TXQ) * 0x4000n + 0x1000n + 4n + 32n;
    tx.disableUsedNotifications();
    b.memory.writeU16(usedEvent as Hpa, 4);
    d.send(
      frame(EXTERNAL_HOST, d.mac(), [1]),
      frame(EXTERNAL_HOST, d.mac(), [2]),
      frame(EXTERNAL_HOST, d.mac(), [3]),
    );
    expect(d.irq(2)).toBe(0); // used entries 0..2
    d.send(frame(EXTERNAL_HOST, d.mac(), [4]), frame(EXTERNAL_HOST, d.mac(), [5]));
    expect(d.irq(2)).toBe(1); // entry 4 written
    d.send(frame(EXTERNAL_HOST, d.mac(), [6]));
    expect(d.irq(2)).toBe(1);
    // The device keeps avail_event (after used.ring[16]: used + 4 + 8*16) at the next avail index.
    const availEvent = d.base + BigInt(TXQ) * 0x4000n + 0x2000n + 4n + 128n;
    expect(b.memory.readU16(availEvent as Hpa)).toBe(6);
  });

  it('without MSI-X the ISR carries the queue bit and reading it clears it', () => {
    const b = bench(1, 1);
    const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
    d.negotiate(VF_FEATURES);
    d.setupQueue(RXQ, 8, 0xffff, false);
    d.setupQueue(TXQ, 8, 0xffff, false);
    d.w(CC.STATUS, 1, S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    d.send(frame(EXTERNAL_HOST, d.mac(), [1]));
    expect(d.r(0x1000, 1)).toBe(1);
    expect(d.r(0x1000, 1)).toBe(0);
  });
});

describe('faults', () => {
  it('a descriptor pointing at unmapped IOVA: IOMMU fault, nothing written, DEVICE_NEEDS_RESET, config interrupt', () => {
    const b = bench(1, 1);
    const at = vfAddress(b, b.pfs[0]!, 1);
    const d = new NetDriver(b, at);
    // Map only the driver's area (rings and buffers) 1:1 for this VF.
    const domain = b.iommu.allocPagingDomain();
    domain.map(d.base as Iova, d.base as Hpa, 0x10_0000n, { read: true, write: true });
    b.iommu.attachDevice(at.rid, domain);
    d.up(VF_FEATURES);
    const tx = d.queues.get(TXQ)!;
    const usedIdxAddr = d.base + BigInt(TXQ) * 0x4000n + 0x2000n + 2n;
    tx.add([{ addr: 0x7000_0000n, len: 64 }], [], 0n);
    tx.publish();
    const faultsBefore = b.iommu.faultCount;
    d.kick(TXQ);
    expect(b.iommu.faultCount).toBe(faultsBefore + 1);
    expect(b.iommu.faults.at(-1)).toMatchObject({ rid: at.rid, iova: 0x7000_0000n, access: 'read' });
    expect(b.memory.readU16(usedIdxAddr as Hpa)).toBe(0);
    expect(d.status & S.NEEDS_RESET).toBe(S.NEEDS_RESET);
    expect(d.irq(0)).toBe(1);
    expect(b.pfs[0]!.model.readExternal()).toEqual([]);
    // Reset clears it.
    d.w(CC.STATUS, 1, 0);
    expect(d.status).toBe(0);
  });

  it('a misaligned ring sets DEVICE_NEEDS_RESET at queue_enable and leaves the queue disabled', () => {
    const b = bench(1, 1);
    const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
    d.negotiate(VF_FEATURES);
    d.w(CC.Q_SELECT, 2, CTRLQ);
    d.w(CC.Q_DESCLO, 4, 0x1000_0008); // descriptor table needs 16-byte alignment
    d.w(CC.Q_ENABLE, 2, 1);
    expect(d.r(CC.Q_ENABLE, 2)).toBe(0);
    expect(d.status & S.NEEDS_RESET).toBe(S.NEEDS_RESET);
  });
});
