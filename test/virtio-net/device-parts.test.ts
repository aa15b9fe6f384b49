/**
 * Device parts of a virtio-net VF (facts/virtio.md §4): the order of GET, the SET validation rules,
 * FLR back to defaults, and the round trip: traffic on VF a of one PF, stop, get its parts, set them
 * on stopped VF b of another PF, resume, and the same guest continues with nothing lost or duplicated.
 * Parts are reached through the owner contract (AdminGroupMember), as the admin engine reaches them.
 */
import { describe, expect, it } from 'vitest';
import type { DevPart } from '../../src/hw/index.js';
import { bench, bits, CC, EXTERNAL_HOST, F, frame, mac, NetDriver, S, TXQ, vfAddress } from './support.js';

const VF_FEATURES = bits(
  F.VERSION_1,
  F.ACCESS_PLATFORM,
  F.MAC,
  F.STATUS,
  F.CTRL_VQ,
  F.CTRL_RX,
  F.CTRL_MAC_ADDR,
);
// Part types (facts 4.3) and this device's vendor parts (documented SPEC-DEVIATIONs).
const DEV_FEATURES = 0x100;
const DRV_FEATURES = 0x101;
const PCI_COMMON_CFG = 0x102;
const DEVICE_STATUS = 0x103;
const VQ_CFG = 0x104;
const VQ_NOTIFY_CFG = 0x105;
const VQ_PROGRESS = 0x1f0;
const NET_CVQ = 0x200;
const NET_CONFIG = 0x5f0;

const sel = (...b: number[]): Uint8Array => {
  const s = new Uint8Array(8);
  s.set(b);
  return s;
};
const withValue = (p: DevPart, value: Uint8Array): DevPart => ({ ...p, value });

function running() {
  const b = bench(2, 2);
  const d = new NetDriver(b, vfAddress(b, b.pfs[0]!, 1));
  d.up(VF_FEATURES);
  const member = b.pfs[0]!.model.member(1)!;
  return { b, d, member };
}

describe('device parts: GET', () => {
  it('come in the mandatory order: common parts, vendor ring progress, then net parts', () => {
    const { member } = running();
    const types = member.getParts().map((p) => p.partType);
    expect(types).toEqual([
      DEV_FEATURES,
      DRV_FEATURES,
      ...Array(8).fill(PCI_COMMON_CFG),
      DEVICE_STATUS,
      VQ_CFG,
      VQ_CFG,
      VQ_CFG,
      VQ_NOTIFY_CFG,
      VQ_NOTIFY_CFG,
      VQ_NOTIFY_CFG,
      VQ_PROGRESS,
      VQ_PROGRESS,
      VQ_PROGRESS,
      ...Array(8).fill(NET_CVQ),
      NET_CONFIG,
    ]);
  });

  it('carry the values a driver programmed, byte for byte', () => {
    const { d, member } = running();
    const parts = member.getParts();
    const dev = parts[0]!;
    expect(dev.flags).toBe(1); // OPTIONAL
    // le64 of the VF's features: window 0 0x30970028, window 1 0x43.
    expect([...dev.value]).toEqual([0x28, 0x00, 0x97, 0x30, 0x43, 0, 0, 0]);
    // Accepted: MAC 5, STATUS 16, CTRL_VQ 17, CTRL_RX 18, CTRL_MAC_ADDR 23 | VERSION_1, ACCESS_PLATFORM.
    expect(parts[1]!.value).toEqual(Uint8Array.of(0x20, 0x00, 0x87, 0x00, 0x03, 0, 0, 0));
    // PCI_COMMON_CFG selectors: le32 offset of each field (facts 1.3), ascending.
    const common = parts.filter((p) => p.partType === PCI_COMMON_CFG);
    expect(common.map((p) => p.selector[0])).toEqual([0, 8, 16, 18, 21, 22, 60, 62]);
    expect(common.find((p) => p.selector[0] === 18)!.value).toEqual(Uint8Array.of(3, 0)); // num_queues
    const status = parts.find((p) => p.partType === DEVICE_STATUS)!;
    expect(status.value).toEqual(Uint8Array.of(S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK));
    // VQ_CFG of TX (index 1): size 16, vector 2, enabled 1, desc/driver/device addresses.
    const tx = parts.find((p) => p.partType === VQ_CFG && p.selector[0] === TXQ)!;
    const desc = d.base + 0x4000n;
    const v = new DataView(tx.value.buffer, tx.value.byteOffset);
    expect([v.getUint16(0, true), v.getUint16(2, true), v.getUint16(4, true)]).toEqual([16, 2, 1]);
    expect([v.getBigUint64(8, true), v.getBigUint64(16, true), v.getBigUint64(24, true)]).toEqual([
      desc,
      desc + 0x1000n,
      desc + 0x2000n,
    ]);
    // The net config part: mac, status LINK_UP, 1 pair, mtu 1500.
    const cfg = parts.at(-1)!;
    expect(cfg.value).toEqual(Uint8Array.of(...d.mac(), 1, 0, 1, 0, 0xdc, 0x05));
  });

  it('GET SELECTED returns only the selected parts that exist', () => {
    const { member } = running();
    const got = member.getParts([
      { partType: VQ_CFG, flags: 0, selector: sel(2), length: 0 },
      { partType: VQ_CFG, flags: 0, selector: sel(7), length: 0 },
      { partType: NET_CVQ, flags: 0, selector: sel(1, 1), length: 0 },
    ]);
    expect(got.map((p) => [p.partType, p.selector[0], p.selector[1]])).toEqual([
      [VQ_CFG, 2, 0],
      [NET_CVQ, 1, 1],
    ]);
  });
});

describe('device parts: SET validation', () => {
  function stoppedTarget() {
    const { b, member } = running();
    member.setStopped(true);
    const parts = member.getParts();
    const target = b.pfs[1]!.model.member(2)!;
    return { parts, target };
  }

  it('refuses SET while the member runs', () => {
    const { parts, target } = stoppedTarget();
    expect(target.setParts(parts)).toEqual({ ok: false, reason: 'not-stopped' });
  });

  it('refuses a wrong length, a features mismatch, a bad order, a duplicate, an unknown part; accepts an unknown optional one', () => {
    const { parts, target } = stoppedTarget();
    target.setStopped(true);
    const vq = parts.findIndex((p) => p.partType === VQ_CFG);
    const short = parts.map((p, i) => (i === vq ? withValue(p, p.value.slice(0, 31)) : p));
    expect(target.setParts(short)).toEqual({ ok: false, reason: 'length' });
    const otherFeatures = parts.map((p, i) => (i === 0 ? withValue(p, new Uint8Array(8)) : p));
    expect(target.setParts(otherFeatures)).toEqual({ ok: false, reason: 'mismatch' });
    const numq = parts.findIndex((p) => p.partType === PCI_COMMON_CFG && p.selector[0] === 18);
    const otherNumq = parts.map((p, i) => (i === numq ? withValue(p, Uint8Array.of(4, 0)) : p));
    expect(target.setParts(otherNumq)).toEqual({ ok: false, reason: 'mismatch' });
    const status = parts.findIndex((p) => p.partType === DEVICE_STATUS);
    const reordered = [parts[status]!, ...parts.filter((_, i) => i !== status)];
    expect(target.setParts(reordered)).toEqual({ ok: false, reason: 'order' });
    expect(target.setParts([parts[1]!, parts[1]!])).toEqual({ ok: false, reason: 'order' });
    const unknown = { partType: 0x300, flags: 0, selector: sel(), value: new Uint8Array(4) };
    expect(target.setParts([...parts, unknown])).toEqual({ ok: false, reason: 'unknown-part' });
    expect(target.setParts([parts[1]!, { ...unknown, flags: 1 }])).toEqual({ ok: true });
  });

  it('a refused SET changes nothing: resume leaves the target as it was', () => {
    const { parts, target } = stoppedTarget();
    target.setStopped(true);
    const before = target.getParts();
    const bad = parts.map((p, i) => (i === 0 ? withValue(p, new Uint8Array(8)) : p));
    expect(target.setParts(bad).ok).toBe(false);
    target.setStopped(false);
    expect(target.getParts()).toEqual(before);
  });

  it('a member FLR returns every part to its default', () => {
    const b = bench(1, 1);
    const at = vfAddress(b, b.pfs[0]!, 1);
    const d = new NetDriver(b, at);
    const member = b.pfs[0]!.model.member(1)!;
    const defaults = member.getParts();
    d.up(VF_FEATURES);
    d.ctrl(1, 1, mac(0x02, 9, 9, 9, 9, 9));
    expect(member.getParts()).not.toEqual(defaults);
    // Initiate Function Level Reset: PCIe Device Control bit 15 (cap 0x10, + 0x08).
    const pcie = 0x4c;
    b.fabric.configWrite(at.rid, pcie + 0x08, 2, 0x8000);
    expect(member.getParts()).toEqual(defaults);
  });
});

describe('device parts: the round trip to a VF of another PF', () => {
  it('the guest continues on VF b with no frame lost or duplicated, and sees the same device', () => {
    const b = bench(2, 2);
    const [pf0, pf1] = [b.pfs[0]!, b.pfs[1]!];
    const g = new NetDriver(b, vfAddress(b, pf0, 1));
    g.up(VF_FEATURES);
    g.postRx(8);
    const myMac = g.mac();
    const out = (seq: number) => frame(EXTERNAL_HOST, myMac, [seq]);
    const into = (seq: number) => frame(myMac, EXTERNAL_HOST, [seq]);
    // A changed RX mode and MAC table must move too.
    const group = mac(0x01, 0x00, 0x5e, 0, 0, 7);
    expect(g.ctrl(1, 0, Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, ...group))).toBe(0);

    g.send(out(0), out(1), out(2));
    pf0.model.injectExternal(into(100));
    pf0.model.injectExternal(into(101));
    const gen = g.r(CC.CFGGEN, 1);

    // Source: stop, then the guest keeps going (a kick is accepted, nothing moves).
    const a = pf0.model.member(1)!;
    a.setStopped(true);
    g.send(out(3), out(4));
    pf0.model.injectExternal(into(102)); // the stopped source cannot take it: dropped, counted
    expect(pf0.model.readExternal().map((f) => f[14])).toEqual([0, 1, 2]);
    const image = a.getParts();

    // Destination: stop, set, resume on VF b of the other PF; the hypervisor moves the guest.
    const vb = pf1.model.member(2)!;
    vb.setStopped(true);
    expect(vb.setParts(image)).toEqual({ ok: true });
    g.moveTo(vfAddress(b, pf1, 2));
    vb.setStopped(false);
    // The kicked-while-stopped frames leave once, from the new port.
    expect(pf1.model.readExternal().map((f) => f[14])).toEqual([3, 4]);
    // The source, still stopped, is reset by the hypervisor (FLR) and sends nothing more.
    b.fabric.configWrite(vfAddress(b, pf0, 1).rid, 0x4c + 0x08, 2, 0x8000);
    expect(pf0.model.readExternal()).toEqual([]);

    // Same device as far as the guest can tell.
    expect(g.mac()).toEqual(myMac);
    expect(g.status).toBe(S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    expect(g.r(CC.CFGGEN, 1)).toBe(gen);
    expect(g.deviceFeatures()).toBe(0x43_3097_0028n);

    // Traffic continues: the switch of PF 1 now knows the guest's mac and multicast group.
    g.send(out(5));
    pf1.model.injectExternal(into(103));
    pf1.model.injectExternal(frame(group, EXTERNAL_HOST, [104]));
    expect(pf1.model.readExternal().map((f) => f[14])).toEqual([5]);
    expect(g.received().map((r) => r.frame[14])).toEqual([100, 101, 103, 104]);
    expect(g.reclaimTx()).toBe(6);
    expect(pf0.model.vf(1)!.stats().rx_dropped).toBe(1);
    expect(g.queues.get(TXQ)!.broken).toBeUndefined();
  });
});
