/**
 * The IOMMU of one host (the model's stand-in for VT-d / AMD-Vi / SMMUv3 in scalable/PASID mode): it
 * owns translation domains, attaches requesters to them, translates each DMA request and records the
 * requests it refuses.
 *
 * - Every requester ID (RID) uses the default domain (identity unless the IOMMU is built with
 *   `defaultDomain: 'blocked'`) until a domain is attached to it. Attaching replaces the current domain
 *   (iommu_group_replace_domain); detaching returns the RID to the default domain.
 * - A (RID, PASID) pair can have its own domain (iommu_attach_device_pasid). A request that carries a
 *   PASID uses that domain only, and faults (`pasid-not-attached`) when the pair has none; a request
 *   without a PASID uses the RID's domain. PASID 0 is IOMMU_NO_PASID and cannot be attached apart.
 * - A refused request transfers nothing. The fault is recorded (rid, pasid, iova, access, reason, time)
 *   in a log that keeps the most recent `faultLogCapacity` entries, and counted per RID without limit,
 *   as a fault-recording register file plus the driver's statistics would.
 * - Dirty tracking capability (IOMMU_HW_CAP_DIRTY_TRACKING) is an option of the IOMMU; a paging domain
 *   allocated with dirty tracking on an IOMMU without it is EOPNOTSUPP.
 *
 * Left out: IOMMU groups and ACS isolation (each RID is its own group), interrupt remapping, PRI/page
 * requests, ATS and device-side IOTLBs, fault reporting to the host by interrupt.
 */
import { errnoError, LabError, type Rid } from '../../base/index.js';
import type { HwContext } from '../hw-context.js';
import { MAX_PHYS_ADDR_BITS } from '../memory/index.js';
import {
  BlockedDomain,
  DEFAULT_IOVA_WIDTH_BITS,
  IdentityDomain,
  type IommuDomain,
  MIN_IOVA_WIDTH_BITS,
  PagingDomain,
  retireDomain,
} from './domain.js';
import {
  type DmaRequest,
  IOMMU_NO_PASID,
  type IommuFault,
  type IommuTranslation,
  type Iova,
  PASID_WIDTH_BITS,
  type Pasid,
} from './iommu-types.js';

export interface IommuOptions {
  /** Used in error messages. */
  readonly name?: string;
  /** IOMMU_HW_CAP_DIRTY_TRACKING: whether paging domains can track dirty pages. Default true. */
  readonly dirtyTracking?: boolean;
  /** The domain an unattached RID uses: `identity` (iommu=pt, the default) or `blocked`. */
  readonly defaultDomain?: 'identity' | 'blocked';
  /** Most recent faults kept in `faults` (older ones drop out; counters keep counting). Default 256. */
  readonly faultLogCapacity?: number;
}

export interface PagingDomainRequest {
  /** IOMMU_HWPT_ALLOC_DIRTY_TRACKING. Default false. */
  readonly dirtyTracking?: boolean;
  /** IOVA width, 32..52 bits. Default 48. */
  readonly iovaWidthBits?: number;
}

export interface IommuCapabilities {
  readonly dirtyTracking: boolean;
}

const DEFAULT_FAULT_LOG_CAPACITY = 256;

export class Iommu {
  readonly name: string;
  readonly capabilities: IommuCapabilities;
  readonly identityDomain: IdentityDomain;
  readonly blockedDomain: BlockedDomain;
  readonly defaultDomain: IdentityDomain | BlockedDomain;
  readonly #ctx: HwContext;
  readonly #faultLogCapacity: number;
  readonly #domains = new Set<IommuDomain>();
  readonly #ridDomains = new Map<Rid, IommuDomain>();
  /** Key: rid · 2^20 + pasid. */
  readonly #pasidDomains = new Map<number, IommuDomain>();
  readonly #faultLog: IommuFault[] = [];
  readonly #faultsPerRid = new Map<Rid, number>();
  #faultTotal = 0;
  #nextDomainId = 1;

  constructor(ctx: HwContext, options: IommuOptions = {}) {
    this.#ctx = ctx;
    this.name = options.name ?? 'iommu';
    this.capabilities = Object.freeze({ dirtyTracking: options.dirtyTracking ?? true });
    const capacity = options.faultLogCapacity ?? DEFAULT_FAULT_LOG_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new LabError('bad-input', `fault log capacity ${capacity} is not a count`);
    this.#faultLogCapacity = capacity;
    this.identityDomain = new IdentityDomain(this.#nextDomainId++);
    this.blockedDomain = new BlockedDomain(this.#nextDomainId++);
    this.#domains.add(this.identityDomain).add(this.blockedDomain);
    this.defaultDomain = options.defaultDomain === 'blocked' ? this.blockedDomain : this.identityDomain;
  }

  // ---- domains ----

  /** A new, empty paging domain. EOPNOTSUPP: dirty tracking without the capability; EINVAL: bad width. */
  allocPagingDomain(request: PagingDomainRequest = {}): PagingDomain {
    const dirty = request.dirtyTracking ?? false;
    if (dirty && !this.capabilities.dirtyTracking)
      throw errnoError('EOPNOTSUPP', `${this.name} has no dirty tracking`);
    const width = request.iovaWidthBits ?? DEFAULT_IOVA_WIDTH_BITS;
    if (!Number.isInteger(width) || width < MIN_IOVA_WIDTH_BITS || width > MAX_PHYS_ADDR_BITS)
      throw errnoError(
        'EINVAL',
        `IOVA width ${width} outside ${MIN_IOVA_WIDTH_BITS}..${MAX_PHYS_ADDR_BITS} bits`,
      );
    const domain = new PagingDomain({
      id: this.#nextDomainId++,
      dirtyTrackingCapable: dirty,
      iovaWidthBits: width,
    });
    this.#domains.add(domain);
    return domain;
  }

  /** Free a paging domain. EBUSY while any RID or PASID is attached to it. */
  freeDomain(domain: PagingDomain): void {
    this.#own(domain);
    if (this.#users(domain) > 0) throw errnoError('EBUSY', `domain ${domain.id} is attached`);
    this.#domains.delete(domain);
    retireDomain(domain);
  }

  // ---- attachment ----

  /** Attach `rid` (its requests without a PASID) to `domain`, replacing what it had. */
  attachDevice(rid: Rid, domain: IommuDomain): void {
    this.#own(domain);
    this.#ridDomains.set(rid, domain);
  }

  /** Return `rid` to the default domain. */
  detachDevice(rid: Rid): void {
    this.#ridDomains.delete(rid);
  }

  /** Attach the pair (rid, pasid) to `domain`, replacing what it had. EINVAL for PASID 0. */
  attachPasid(rid: Rid, pasid: Pasid, domain: IommuDomain): void {
    this.#own(domain);
    if (pasid === IOMMU_NO_PASID)
      throw errnoError('EINVAL', 'PASID 0 is IOMMU_NO_PASID: attach the RID instead');
    this.#pasidDomains.set(pasidKey(rid, pasid), domain);
  }

  /** Remove the pair's domain; its PASID requests fault afterwards. */
  detachPasid(rid: Rid, pasid: Pasid): void {
    this.#pasidDomains.delete(pasidKey(rid, pasid));
  }

  /** The domain a request from (rid, pasid) would use; undefined for a PASID with none attached. */
  domainFor(rid: Rid, pasid?: Pasid): IommuDomain | undefined {
    if (pasid !== undefined) return this.#pasidDomains.get(pasidKey(rid, pasid));
    return this.#ridDomains.get(rid) ?? this.defaultDomain;
  }

  // ---- translation ----

  /**
   * Translate one DMA request into the host physical ranges it touches, in order (contiguous ones
   * merged), or refuse it with a recorded fault. A write that succeeds in a paging domain with dirty
   * tracking on marks its IOVA pages dirty. Lengths must be non-negative integers (a caller bug
   * otherwise); a zero-length request translates to no ranges.
   */
  translate(request: DmaRequest): IommuTranslation {
    const { rid, pasid, iova, lengthBytes, access } = request;
    if (!Number.isSafeInteger(lengthBytes) || lengthBytes < 0)
      throw new LabError('internal', `DMA length ${lengthBytes} is not a byte count`);
    if (lengthBytes === 0) return { ok: true, ranges: [] };
    const domain = this.domainFor(rid, pasid);
    const walk =
      domain === undefined
        ? ({ ok: false, reason: 'pasid-not-attached', at: iova } as const)
        : domain.walk(iova, lengthBytes, access);
    if (walk.ok) return walk;
    const fault: IommuFault = {
      reason: walk.reason,
      rid,
      pasid,
      iova: walk.at as Iova,
      access,
      atNs: this.#ctx.clock.nowNs,
    };
    this.#record(fault);
    return { ok: false, fault };
  }

  // ---- faults ----

  /** The most recent faults, oldest first. */
  get faults(): readonly IommuFault[] {
    return this.#faultLog;
  }

  /** All faults since the IOMMU was built. */
  get faultCount(): number {
    return this.#faultTotal;
  }

  /** Faults of one requester (with or without PASID) since the IOMMU was built. */
  faultCountFor(rid: Rid): number {
    return this.#faultsPerRid.get(rid) ?? 0;
  }

  /** Empty the fault log (counters keep counting). */
  clearFaultLog(): void {
    this.#faultLog.length = 0;
  }

  #record(fault: IommuFault): void {
    this.#faultTotal++;
    this.#faultsPerRid.set(fault.rid, (this.#faultsPerRid.get(fault.rid) ?? 0) + 1);
    if (this.#faultLogCapacity === 0) return;
    if (this.#faultLog.length === this.#faultLogCapacity) this.#faultLog.shift();
    this.#faultLog.push(fault);
  }

  #own(domain: IommuDomain): void {
    if (!this.#domains.has(domain))
      throw errnoError('EINVAL', `domain ${domain.id} does not belong to ${this.name} (or was freed)`);
  }

  #users(domain: IommuDomain): number {
    let n = 0;
    for (const d of this.#ridDomains.values()) if (d === domain) n++;
    for (const d of this.#pasidDomains.values()) if (d === domain) n++;
    return n;
  }
}

function pasidKey(rid: Rid, pasid: Pasid): number {
  return rid * 2 ** PASID_WIDTH_BITS + pasid;
}
