/**
 * A SIOV function's two RIDs (hand-assembled commands on the bare-silicon rig): its own DMA (the
 * datapath registers of its window) carries the guest RID and goes through whatever domain is attached
 * to that RID — a paging domain translates, an unmapped IOVA faults with the guest RID — while the state
 * firmware saves for the hypervisor carries the hypervisor RID and goes through that RID's domain.
 */
import { describe, expect, it } from 'vitest';
import { type PagingDomain, PROT_READ_WRITE } from '../../src/hw/index.js';
import { fnInput, fromHex, PF_RID, pfWindow, raw, rig, SIOV_RID_BASE, siovWindow } from './rig.js';

const GUEST_RID = SIOV_RID_BASE;
const HYP_RID = SIOV_RID_BASE + 1;

function oneSiov() {
  const r = rig();
  const w = pfWindow(r);
  expect(raw(w, fromHex('2201 0000 00000000 01000000 00000000'), 32).status).toBe(0);
  expect(raw(w, fnInput(0x104, 0x10000), 8).status).toBe(0); // ENABLE_HCA → ACTIVE
  return { r, w, fn: siovWindow(r, 0) };
}

/** Datapath: 0x200/0x204 address, 0x208 length, 0x20c context offset, 0x210 op, 0x214 status. */
function dp(win: ReturnType<typeof siovWindow>, iova: bigint, length: number, op: 1 | 2): number {
  win.write(0x200, Number(iova & 0xffffffffn));
  win.write(0x204, Number(iova >> 32n));
  win.write(0x208, length);
  win.write(0x20c, 0);
  win.write(0x210, op);
  return win.read(0x214);
}

describe('SIOV guest RID', () => {
  it('DMA goes through the paging domain attached to the guest RID', () => {
    const { r, fn } = oneSiov();
    const domain = r.iommu.allocPagingDomain() as PagingDomain;
    r.iommu.attachDevice(GUEST_RID as never, domain);
    domain.map(0x1000n as never, 0x7000_0000n as never, 0x1000n, PROT_READ_WRITE);
    fn.write(0x1000, 0x11223344); // context area
    expect(dp(fn, 0x1000n, 4, 1)).toBe(0);
    expect(r.memory.read(0x7000_0000n as never, 4)).toEqual(Uint8Array.of(0x44, 0x33, 0x22, 0x11));
    // Identity would have hit HPA 0x1000: nothing there.
    expect(r.memory.read(0x1000n as never, 4)).toEqual(new Uint8Array(4));
  });

  it('an unmapped IOVA faults with the guest RID and moves nothing', () => {
    const { r, fn } = oneSiov();
    r.iommu.attachDevice(GUEST_RID as never, r.iommu.allocPagingDomain());
    const before = r.iommu.faultCount;
    expect(dp(fn, 0x5000n, 8, 1)).toBe(1);
    expect(r.iommu.faultCount).toBe(before + 1);
    expect(r.iommu.faults.at(-1)).toMatchObject({ rid: GUEST_RID, access: 'write' });
  });

  it('datapath reads count as tx, writes as rx; a suspended initiator starts no DMA', () => {
    const { r, w, fn } = oneSiov();
    r.memory.write(0x9000n as never, fromHex('0102030405060708'), 'cpu');
    expect(dp(fn, 0x9000n, 8, 2)).toBe(0);
    expect(fn.read(0x1000)).toBe(0x04030201);
    expect(dp(fn, 0xa000n, 8, 1)).toBe(0);
    const c = raw(w, fnInput(0x134, 0x10000), 40);
    expect(c.status).toBe(0);
    // SET_FN_CAPS migratable, then SUSPEND initiator.
    expect(raw(w, fromHex('3201 0000 00000000 00000100 02000000 02000000 00000000'), 8).status).toBe(0);
    expect(raw(w, fnInput(0x140, 0x10000, 0), 8).status).toBe(0);
    expect(dp(fn, 0xa000n, 8, 1)).toBe(3);
  });
});

describe('SIOV hypervisor RID', () => {
  it('SAVE_VHCA_STATE DMA carries the hypervisor RID: it works with the guest RID blocked, fails with the hypervisor RID blocked', () => {
    const { r, w } = oneSiov();
    expect(raw(w, fromHex('3201 0000 00000000 00000100 02000000 02000000 00000000'), 8).status).toBe(0);
    r.iommu.attachDevice(GUEST_RID as never, r.iommu.blockedDomain);
    r.iommu.attachDevice(PF_RID as never, r.iommu.blockedDomain);
    // SAVE precopy (op_mod 1): fnId, size 8192, addr 0x80_0000.
    const save = fromHex('4301 0100 00000000 00000100 00200000 0000800000000000');
    const ok = raw(w, save, 16);
    // The PF's own mailbox needs no DMA for this inline command; the image went out by the hypervisor RID.
    expect(ok.status).toBe(0);
    expect(new DataView(ok.inline.buffer).getUint32(8, true)).toBe(4192);
    expect(r.memory.read(0x80_0000n as never, 4)).toEqual(fromHex('4d4e5653'));
    r.iommu.attachDevice(HYP_RID as never, r.iommu.blockedDomain);
    const refused = raw(w, save, 16);
    expect([refused.status, refused.syndrome]).toEqual([0x01, 0x13]);
    expect(r.iommu.faults.at(-1)).toMatchObject({ rid: HYP_RID });
  });

  it('a VF-less SF moves its state with the PF RID', () => {
    const { r, w } = oneSiov();
    expect(raw(w, fromHex('2001 0000 00000000 07000000 00000000'), 16).status).toBe(0);
    expect(raw(w, fromHex('3201 0000 00000000 00800000 02000000 02000000 00000000'), 8).status).toBe(0);
    r.iommu.attachDevice(PF_RID as never, r.iommu.blockedDomain);
    const save = fromHex('4301 0100 00000000 00800000 00200000 0000800000000000');
    expect(raw(w, save, 16).status).toBe(0x01);
    expect(r.iommu.faults.at(-1)).toMatchObject({ rid: PF_RID });
  });
});
