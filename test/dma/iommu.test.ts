/**
 * The IOMMU (src/hw/iommu/): identity by default, paging domains (map, unmap, overlap and alignment
 * errors), translation across mappings, faults recorded and counted per RID, permissions, PASID
 * domains apart from the RID's, and the domain lifecycle. Expected ranges are worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { type Rid, rid, type VirtualClock } from '../../src/base/index.js';
import {
  type DmaAccess,
  Iommu,
  type IommuOptions,
  type IommuTranslation,
  iova,
  PROT_READ,
  PROT_READ_WRITE,
  PROT_WRITE,
  pasid,
} from '../../src/hw/iommu/index.js';
import { hpa } from '../../src/hw/memory/index.js';
import { dmaTestHost, expectErrno, expectLabCode } from './support.js';

const RID_A = rid(3, 0x00);
const RID_B = rid(3, 0x01);

function iommu(options: IommuOptions = {}): { mmu: Iommu; clock: VirtualClock } {
  const h = dmaTestHost();
  return { mmu: new Iommu(h.ctx, options), clock: h.clock };
}

function tr(
  mmu: Iommu,
  r: Rid,
  at: bigint,
  len: number,
  access: DmaAccess = 'read',
  p?: number,
): IommuTranslation {
  return mmu.translate({
    rid: r,
    iova: iova(at),
    lengthBytes: len,
    access,
    pasid: p === undefined ? undefined : pasid(p),
  });
}

/** The ranges of a successful translation as [hpa, length] pairs. */
function ranges(t: IommuTranslation): Array<[bigint, number]> {
  if (!t.ok)
    throw new Error(`expected a translation, got fault ${t.fault.reason} at 0x${t.fault.iova.toString(16)}`);
  return t.ranges.map((r) => [r.hpa, r.lengthBytes]);
}

function fault(t: IommuTranslation): { reason: string; iova: bigint; access: string } {
  if (t.ok) throw new Error('expected a fault');
  return { reason: t.fault.reason, iova: t.fault.iova, access: t.fault.access };
}

describe('default domain', () => {
  it('is identity: IOVA = HPA for any RID, reads and writes', () => {
    const { mmu } = iommu();
    expect(mmu.domainFor(RID_A)).toBe(mmu.identityDomain);
    expect(ranges(tr(mmu, RID_A, 0x1234_5678n, 100, 'write'))).toEqual([[0x1234_5678n, 100]]);
    expect(ranges(tr(mmu, RID_B, 2n ** 40n, 8192))).toEqual([[2n ** 40n, 8192]]);
    expect(mmu.faultCount).toBe(0);
  });

  it('identity stops at the 52-bit physical width', () => {
    const { mmu } = iommu();
    expect(fault(tr(mmu, RID_A, 2n ** 52n - 4n, 8))).toEqual({
      reason: 'address-size',
      iova: 2n ** 52n,
      access: 'read',
    });
  });

  it('can be blocked instead, and detaching returns a RID to it', () => {
    const { mmu } = iommu({ defaultDomain: 'blocked' });
    expect(fault(tr(mmu, RID_A, 0x1000n, 4, 'write'))).toEqual({
      reason: 'blocked',
      iova: 0x1000n,
      access: 'write',
    });
    const d = mmu.allocPagingDomain();
    d.map(iova(0x1000), hpa(0x8000), 0x1000n, PROT_READ_WRITE);
    mmu.attachDevice(RID_A, d);
    expect(ranges(tr(mmu, RID_A, 0x1000n, 4))).toEqual([[0x8000n, 4]]);
    mmu.detachDevice(RID_A);
    expect(fault(tr(mmu, RID_A, 0x1000n, 4)).reason).toBe('blocked');
  });

  it('a RID attached to the blocking domain has all DMA refused', () => {
    const { mmu } = iommu();
    mmu.attachDevice(RID_A, mmu.blockedDomain);
    expect(fault(tr(mmu, RID_A, 0n, 1)).reason).toBe('blocked');
    expect(ranges(tr(mmu, RID_B, 0n, 1))).toEqual([[0n, 1]]);
  });
});

describe('paging domain: map and translate', () => {
  it('translates within and across mappings, merging contiguous host ranges', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain();
    mmu.attachDevice(RID_A, d);
    // IOVA 0x10000..0x12000 → HPA 0x50000..0x52000, IOVA 0x12000..0x13000 → HPA 0x52000 (contiguous),
    // IOVA 0x13000..0x14000 → HPA 0x20000 (not contiguous).
    d.map(iova(0x10000), hpa(0x50000), 0x2000n, PROT_READ_WRITE);
    d.map(iova(0x12000), hpa(0x52000), 0x1000n, PROT_READ_WRITE);
    d.map(iova(0x13000), hpa(0x20000), 0x1000n, PROT_READ_WRITE);
    expect(ranges(tr(mmu, RID_A, 0x10010n, 16))).toEqual([[0x50010n, 16]]);
    expect(ranges(tr(mmu, RID_A, 0x10ff0n, 0x20))).toEqual([[0x50ff0n, 0x20]]);
    expect(ranges(tr(mmu, RID_A, 0x11800n, 0x2000))).toEqual([
      [0x51800n, 0x1800],
      [0x20000n, 0x800],
    ]);
    expect(ranges(tr(mmu, RID_A, 0x10000n, 0x4000, 'write'))).toEqual([
      [0x50000n, 0x3000],
      [0x20000n, 0x1000],
    ]);
    expect(d.mappedBytes).toBe(0x4000n);
  });

  it('an unmapped IOVA faults at its first unmapped byte', () => {
    const { mmu, clock } = iommu();
    const d = mmu.allocPagingDomain();
    mmu.attachDevice(RID_A, d);
    d.map(iova(0x4000), hpa(0x9000), 0x1000n, PROT_READ_WRITE);
    clock.advance(777);
    const t = tr(mmu, RID_A, 0x4f00n, 0x200, 'write');
    expect(t).toEqual({
      ok: false,
      fault: {
        reason: 'not-present',
        rid: RID_A,
        pasid: undefined,
        iova: 0x5000n,
        access: 'write',
        atNs: 777,
      },
    });
    expect(fault(tr(mmu, RID_A, 0x3ffcn, 8)).iova).toBe(0x3ffcn);
    expect(mmu.faults.map((f) => f.iova)).toEqual([0x5000n, 0x3ffcn]);
  });

  it('unmap removes pages, cuts mappings that straddle its ends, and reports the bytes it removed', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain();
    mmu.attachDevice(RID_A, d);
    d.map(iova(0x100000), hpa(0x700000), 0x4000n, PROT_READ);
    expect(d.unmap(iova(0x101000), 0x2000n)).toBe(0x2000n);
    expect(d.mappings()).toEqual([
      { iova: 0x100000n, hpa: 0x700000n, sizeBytes: 0x1000n, prot: PROT_READ },
      { iova: 0x103000n, hpa: 0x703000n, sizeBytes: 0x1000n, prot: PROT_READ },
    ]);
    expect(ranges(tr(mmu, RID_A, 0x103004n, 4))).toEqual([[0x703004n, 4]]);
    expect(fault(tr(mmu, RID_A, 0x101000n, 4)).reason).toBe('not-present');
    expect(fault(tr(mmu, RID_A, 0x100ffen, 4)).iova).toBe(0x101000n);
    // Unmapping a range that is partly empty counts only what was mapped; an empty range is 0.
    expect(d.unmap(iova(0x0ff000), 0x6000n)).toBe(0x2000n);
    expect(d.unmap(iova(0x100000), 0x1000n)).toBe(0n);
    expect(d.mappings()).toEqual([]);
    // The space is free again.
    d.map(iova(0x100000), hpa(0x1000), 0x4000n, PROT_READ_WRITE);
    expect(ranges(tr(mmu, RID_A, 0x102000n, 4, 'write'))).toEqual([[0x3000n, 4]]);
  });

  it('overlapping maps are EEXIST and leave the table as it was', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain();
    d.map(iova(0x10000), hpa(0x10000), 0x4000n, PROT_READ_WRITE);
    expectErrno(() => d.map(iova(0x10000), hpa(0x90000), 0x4000n, PROT_READ), 'EEXIST'); // same
    expectErrno(() => d.map(iova(0xf000), hpa(0x90000), 0x2000n, PROT_READ), 'EEXIST'); // over the start
    expectErrno(() => d.map(iova(0x13000), hpa(0x90000), 0x2000n, PROT_READ), 'EEXIST'); // over the end
    expectErrno(() => d.map(iova(0x11000), hpa(0x90000), 0x1000n, PROT_READ), 'EEXIST'); // inside
    expectErrno(() => d.map(iova(0x8000), hpa(0x90000), 0x10000n, PROT_READ), 'EEXIST'); // around
    d.map(iova(0xf000), hpa(0x90000), 0x1000n, PROT_READ); // adjacent below: fine
    d.map(iova(0x14000), hpa(0x91000), 0x1000n, PROT_READ); // adjacent above: fine
    expect(d.mappings().map((m) => [m.iova, m.sizeBytes])).toEqual([
      [0xf000n, 0x1000n],
      [0x10000n, 0x4000n],
      [0x14000n, 0x1000n],
    ]);
  });

  it('unaligned, empty, permissionless or too-wide maps are refused', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain({ iovaWidthBits: 39 });
    expectErrno(() => d.map(iova(0x10800), hpa(0x1000), 0x1000n, PROT_READ), 'EINVAL');
    expectErrno(() => d.map(iova(0x10000), hpa(0x1800), 0x1000n, PROT_READ), 'EINVAL');
    expectErrno(() => d.map(iova(0x10000), hpa(0x1000), 0x800n, PROT_READ), 'EINVAL');
    expectErrno(() => d.map(iova(0x10000), hpa(0x1000), 0n, PROT_READ), 'EINVAL');
    expectErrno(() => d.map(iova(0x10000), hpa(0x1000), 0x1000n, { read: false, write: false }), 'EINVAL');
    expectErrno(() => d.map(iova(2n ** 39n - 0x1000n), hpa(0x1000), 0x2000n, PROT_READ), 'EFAULT');
    expectErrno(() => d.map(iova(0x10000), hpa(2n ** 52n - 0x1000n), 0x2000n, PROT_READ), 'EFAULT');
    expectErrno(() => d.unmap(iova(0x10000), 0x10n), 'EINVAL');
    expect(d.mappings()).toEqual([]);
    expectErrno(() => mmu.allocPagingDomain({ iovaWidthBits: 64 }), 'EINVAL');
  });

  it('IOVAs beyond the domain width are address-size faults', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain({ iovaWidthBits: 39 });
    mmu.attachDevice(RID_A, d);
    d.map(iova(2n ** 39n - 0x1000n), hpa(0x5000), 0x1000n, PROT_READ_WRITE);
    expect(fault(tr(mmu, RID_A, 2n ** 39n, 4)).reason).toBe('address-size');
    expect(fault(tr(mmu, RID_A, 2n ** 63n, 4)).reason).toBe('address-size');
    expect(fault(tr(mmu, RID_A, 2n ** 39n - 2n, 4))).toEqual({
      reason: 'address-size',
      iova: 2n ** 39n,
      access: 'read',
    });
  });
});

describe('permissions', () => {
  it('a write to a read-only mapping faults with the access recorded; a read passes', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain();
    mmu.attachDevice(RID_A, d);
    d.map(iova(0x2000), hpa(0x6000), 0x1000n, PROT_READ);
    d.map(iova(0x3000), hpa(0x7000), 0x1000n, PROT_WRITE);
    expect(ranges(tr(mmu, RID_A, 0x2000n, 0x100))).toEqual([[0x6000n, 0x100]]);
    expect(fault(tr(mmu, RID_A, 0x2000n, 0x100, 'write'))).toEqual({
      reason: 'permission',
      iova: 0x2000n,
      access: 'write',
    });
    // A read across both: the write-only page refuses the read at its first byte.
    expect(fault(tr(mmu, RID_A, 0x2f00n, 0x200, 'read'))).toEqual({
      reason: 'permission',
      iova: 0x3000n,
      access: 'read',
    });
    expect(ranges(tr(mmu, RID_A, 0x3000n, 8, 'write'))).toEqual([[0x7000n, 8]]);
  });
});

describe('fault accounting', () => {
  it('counts per RID, keeps a bounded log of the most recent faults', () => {
    const { mmu } = iommu({ faultLogCapacity: 3 });
    const d = mmu.allocPagingDomain();
    mmu.attachDevice(RID_A, d);
    mmu.attachDevice(RID_B, d);
    for (let i = 0; i < 4; i++) tr(mmu, RID_A, BigInt(i) * 0x1000n, 4, 'write');
    tr(mmu, RID_B, 0x9000n, 4);
    expect(mmu.faultCountFor(RID_A)).toBe(4);
    expect(mmu.faultCountFor(RID_B)).toBe(1);
    expect(mmu.faultCountFor(rid(9, 0))).toBe(0);
    expect(mmu.faultCount).toBe(5);
    expect(mmu.faults.map((f) => [f.rid, f.iova])).toEqual([
      [RID_A, 0x2000n],
      [RID_A, 0x3000n],
      [RID_B, 0x9000n],
    ]);
    mmu.clearFaultLog();
    expect(mmu.faults).toEqual([]);
    expect(mmu.faultCount).toBe(5);
  });

  it('zero-length requests translate to nothing and never fault', () => {
    const { mmu } = iommu({ defaultDomain: 'blocked' });
    expect(ranges(tr(mmu, RID_A, 0x1000n, 0, 'write'))).toEqual([]);
    expect(mmu.faultCount).toBe(0);
    expectLabCode(() => tr(mmu, RID_A, 0x1000n, -1), 'internal');
  });
});

describe('PASID', () => {
  it('a PASID domain is separate from the RID domain', () => {
    const { mmu } = iommu();
    const ridDomain = mmu.allocPagingDomain();
    const pasidDomain = mmu.allocPagingDomain();
    ridDomain.map(iova(0x1000), hpa(0xa000), 0x1000n, PROT_READ_WRITE);
    pasidDomain.map(iova(0x1000), hpa(0xb000), 0x1000n, PROT_READ_WRITE);
    pasidDomain.map(iova(0x2000), hpa(0xc000), 0x1000n, PROT_READ_WRITE);
    mmu.attachDevice(RID_A, ridDomain);
    mmu.attachPasid(RID_A, pasid(5), pasidDomain);
    expect(ranges(tr(mmu, RID_A, 0x1010n, 4))).toEqual([[0xa010n, 4]]);
    expect(ranges(tr(mmu, RID_A, 0x1010n, 4, 'read', 5))).toEqual([[0xb010n, 4]]);
    expect(ranges(tr(mmu, RID_A, 0x2000n, 4, 'write', 5))).toEqual([[0xc000n, 4]]);
    // Only the PASID domain maps 0x2000.
    expect(fault(tr(mmu, RID_A, 0x2000n, 4)).reason).toBe('not-present');
    expect(mmu.domainFor(RID_A, pasid(5))).toBe(pasidDomain);
  });

  it('a PASID without a domain faults, even for a RID on the identity domain', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain();
    d.map(iova(0), hpa(0x4000), 0x1000n, PROT_READ_WRITE);
    mmu.attachPasid(RID_A, pasid(5), d);
    const t = tr(mmu, RID_A, 0x10n, 4, 'write', 6);
    expect(t.ok).toBe(false);
    if (!t.ok)
      expect(t.fault).toMatchObject({ reason: 'pasid-not-attached', rid: RID_A, pasid: 6, iova: 0x10n });
    expect(fault(tr(mmu, RID_B, 0x10n, 4, 'read', 5)).reason).toBe('pasid-not-attached');
    expect(ranges(tr(mmu, RID_B, 0x10n, 4))).toEqual([[0x10n, 4]]);
    mmu.detachPasid(RID_A, pasid(5));
    expect(fault(tr(mmu, RID_A, 0x10n, 4, 'read', 5)).reason).toBe('pasid-not-attached');
    expect(mmu.faultCountFor(RID_A)).toBe(2);
    expect(mmu.faultCountFor(RID_B)).toBe(1);
  });

  it('PASID 0 is IOMMU_NO_PASID and cannot be attached; PASIDs are 20 bits', () => {
    const { mmu } = iommu();
    expectErrno(() => mmu.attachPasid(RID_A, pasid(0), mmu.identityDomain), 'EINVAL');
    expectLabCode(() => pasid(0x100000), 'bad-input');
    expect(pasid(0xfffff)).toBe(0xfffff);
  });
});

describe('domain lifecycle', () => {
  it('a domain in use cannot be freed; a freed one cannot be used', () => {
    const { mmu } = iommu();
    const d = mmu.allocPagingDomain();
    mmu.attachDevice(RID_A, d);
    mmu.attachPasid(RID_B, pasid(1), d);
    expectErrno(() => mmu.freeDomain(d), 'EBUSY');
    mmu.attachDevice(RID_A, mmu.identityDomain);
    expectErrno(() => mmu.freeDomain(d), 'EBUSY');
    mmu.detachPasid(RID_B, pasid(1));
    mmu.freeDomain(d);
    expectLabCode(() => d.map(iova(0), hpa(0), 0x1000n, PROT_READ), 'invalid-state');
    expectErrno(() => mmu.attachDevice(RID_A, d), 'EINVAL');
    expectErrno(() => mmu.freeDomain(d), 'EINVAL');
  });

  it("another IOMMU's domain is refused", () => {
    const a = iommu().mmu;
    const b = iommu().mmu;
    expectErrno(() => a.attachDevice(RID_A, b.allocPagingDomain()), 'EINVAL');
    expectErrno(() => a.attachDevice(RID_A, b.identityDomain), 'EINVAL');
  });

  it('domain ids are distinct', () => {
    const { mmu } = iommu();
    const ids = [
      mmu.identityDomain.id,
      mmu.blockedDomain.id,
      mmu.allocPagingDomain().id,
      mmu.allocPagingDomain().id,
    ];
    expect(new Set(ids).size).toBe(4);
  });
});
