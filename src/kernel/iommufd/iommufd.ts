/**
 * IOMMUFD (drivers/iommu/iommufd/*; facts/kernel.md 2.2, 3.6): `IommufdSubsystem` is /dev/iommu on one
 * host; each `open()` is an `Iommufd` context holding objects by id:
 *
 * - IOAS: an IOVA space of user memory mappings (io-pagetable.ts).
 * - HWPT (paging): a hardware paging domain of the host IOMMU that mirrors its IOAS. Allocated
 *   explicitly (IOMMU_HWPT_ALLOC, optionally with IOMMU_HWPT_ALLOC_DIRTY_TRACKING) or automatically
 *   when a device is attached straight to an IOAS (one auto HWPT per IOAS, shared by every device
 *   attached that way, destroyed with its last device).
 * - device: a requester ID bound to the context (iommufd_device_bind, what VFIO_DEVICE_BIND_IOMMUFD
 *   does). Binding claims DMA ownership: the RID is put in the blocking domain until attached, and
 *   returned to the IOMMU's default domain when unbound. A RID can be bound once per host (EBUSY).
 *
 * Ids start at 1 and are never reused within a context (xa_alloc over a cyclic range in spirit). Lookups
 * by id of the wrong kind are ENOENT, as iommufd_get_object reports them. DESTROY of an object still in
 * use is EBUSY: an IOAS with HWPTs, a HWPT with devices, and any device object (its VFIO binding holds
 * it; devices leave by `unbindDevice`).
 *
 * Typed methods throw LabError with the errno; iommufd-ioctl.ts wraps them in the byte-exact ioctls.
 * The kernel side of the hw IOMMU (iommu_domain_alloc, iommu_attach_group) is called directly: this
 * module plays both the IOMMUFD core and the IOMMU driver.
 *
 * Left out: IOMMU groups (each RID is its own group), access objects (mdev pinning), nesting, PASID
 * attachment, fault queues, the VFIO compatibility container, IOAS_COPY.
 */
import { errnoError, formatBdf, type Rid } from '../../base/index.js';
import {
  type Hpa,
  IOMMU_PAGE_SIZE_BYTES,
  type Iommu,
  type IommuProt,
  type Iova,
  type PagingDomain,
} from '../../hw/index.js';
import { IOAS_IOVA_ALIGNMENT_BYTES, IoPagetable } from './io-pagetable.js';
import { type IoctlResult, iommufdIoctl } from './iommufd-ioctl.js';
import { IovaBitmap, maxBig, minBig } from './iova-bitmap.js';
import type { UserMemory } from './user-memory.js';

const U64_MAX = 2n ** 64n - 1n;
const PAGE = BigInt(IOMMU_PAGE_SIZE_BYTES);

export class IoasObject {
  readonly kind = 'ioas';
  readonly id: number;
  readonly iopt = new IoPagetable();
  constructor(id: number) {
    this.id = id;
  }
}

export class HwptPagingObject {
  readonly kind = 'hwpt-paging';
  readonly id: number;
  readonly ioas: IoasObject;
  readonly domain: PagingDomain;
  /** Made by attaching a device to the IOAS, not by IOMMU_HWPT_ALLOC. */
  readonly auto: boolean;
  readonly nestParent: boolean;
  readonly devices = new Set<DeviceObject>();
  constructor(id: number, ioas: IoasObject, domain: PagingDomain, auto: boolean, nestParent: boolean) {
    this.id = id;
    this.ioas = ioas;
    this.domain = domain;
    this.auto = auto;
    this.nestParent = nestParent;
  }
}

export class DeviceObject {
  readonly kind = 'device';
  readonly id: number;
  readonly rid: Rid;
  hwpt: HwptPagingObject | undefined;
  constructor(id: number, rid: Rid) {
    this.id = id;
    this.rid = rid;
  }
}

export type IommufdObject = IoasObject | HwptPagingObject | DeviceObject;

export interface IoasMapRequest {
  readonly ioasId: number;
  /** The pinned user memory, as host RAM (see user-memory.ts). */
  readonly hpa: Hpa;
  readonly lengthBytes: bigint;
  /** Neither read nor write is EINVAL. */
  readonly prot: IommuProt;
  /** IOMMU_IOAS_MAP_FIXED_IOVA when given; allocated otherwise. */
  readonly iova?: Iova | undefined;
}

export interface HwptAllocRequest {
  readonly devId: number;
  /** The IOAS to mirror. */
  readonly ptId: number;
  readonly dirtyTracking?: boolean;
  readonly nestParent?: boolean;
}

export interface DirtyBitmapRequest {
  readonly hwptId: number;
  readonly iova: bigint;
  readonly lengthBytes: bigint;
  readonly pageSizeBytes: bigint;
  /** IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR. */
  readonly noClear?: boolean;
}

export interface HwInfo {
  /** IOMMU_HW_INFO_TYPE_*: the model reports NONE (no driver-specific data). */
  readonly dataType: number;
  /** IOMMU_HW_CAP_* bits. */
  readonly capabilities: { readonly dirtyTracking: boolean };
}

/** /dev/iommu of one host: the IOMMU it drives and which RIDs any context has claimed. */
export class IommufdSubsystem {
  readonly iommu: Iommu;
  readonly #claimed = new Set<Rid>();

  constructor(iommu: Iommu) {
    this.iommu = iommu;
  }

  /** open("/dev/iommu") by a process whose user pointers resolve through `user`. */
  open(user: UserMemory): Iommufd {
    return new Iommufd(this.iommu, this.#claimed, user);
  }
}

export class Iommufd {
  readonly iommu: Iommu;
  /** The opening process's memory, for the user pointers in ioctl structs. */
  readonly user: UserMemory;
  readonly #claimed: Set<Rid>;
  readonly #objects = new Map<number, IommufdObject>();
  #nextId = 1;
  #closed = false;

  /** Use `IommufdSubsystem.open`. */
  constructor(iommu: Iommu, claimed: Set<Rid>, user: UserMemory) {
    this.iommu = iommu;
    this.#claimed = claimed;
    this.user = user;
  }

  /**
   * ioctl(fd, cmd, arg) with the uAPI struct as bytes: the struct after copy-back, or a negative errno
   * (iommufd-ioctl.ts).
   */
  ioctl(cmd: number, arg: Uint8Array): IoctlResult {
    return iommufdIoctl(this, this.user, cmd, arg);
  }

  /** The objects by id (for inspection and tests). */
  get objects(): ReadonlyMap<number, IommufdObject> {
    return this.#objects;
  }

  // ---- devices (the VFIO cdev side: BIND_IOMMUFD, ATTACH/DETACH_IOMMUFD_PT) ----

  /** iommufd_device_bind: the new device object's id (VFIO's out_devid). EBUSY if the RID is claimed. */
  bindDevice(rid: Rid): number {
    this.#open();
    if (this.#claimed.has(rid))
      throw errnoError('EBUSY', `${formatBdf({ domain: 0, bus: rid >> 8, devfn: rid & 0xff })} is bound`);
    this.#claimed.add(rid);
    this.iommu.attachDevice(rid, this.iommu.blockedDomain);
    return this.#add((id) => new DeviceObject(id, rid)).id;
  }

  /** iommufd_device_unbind: detach if attached, release DMA ownership (back to the default domain). */
  unbindDevice(devId: number): void {
    const dev = this.#get(devId, 'device');
    if (dev.hwpt !== undefined) this.detach(devId);
    this.iommu.detachDevice(dev.rid);
    this.#claimed.delete(dev.rid);
    this.#objects.delete(devId);
  }

  /**
   * Attach a device to an IOAS (through the IOAS's auto HWPT, made on first use) or to a paging HWPT.
   * Returns the HWPT id now in use (what VFIO_DEVICE_ATTACH_IOMMUFD_PT writes back as pt_id).
   * EINVAL when the device is already attached (UNVERIFIED: Linux offers replace as a separate call);
   * ENOENT for an unknown pt_id.
   */
  attach(devId: number, ptId: number): number {
    const dev = this.#get(devId, 'device');
    if (dev.hwpt !== undefined) throw errnoError('EINVAL', `device ${devId} is already attached`);
    const pt = this.#objects.get(ptId);
    let hwpt: HwptPagingObject;
    if (pt?.kind === 'hwpt-paging') {
      hwpt = pt;
    } else if (pt?.kind === 'ioas') {
      hwpt = this.#autoHwpt(pt) ?? this.#allocHwpt(pt, { dirtyTracking: false, nestParent: false }, true);
    } else {
      throw errnoError('ENOENT', `no IOAS or HWPT ${ptId}`);
    }
    this.iommu.attachDevice(dev.rid, hwpt.domain);
    hwpt.devices.add(dev);
    dev.hwpt = hwpt;
    return hwpt.id;
  }

  /** Detach (back to blocking DMA); an auto HWPT left without devices is destroyed. EINVAL if detached. */
  detach(devId: number): void {
    const dev = this.#get(devId, 'device');
    const hwpt = dev.hwpt;
    if (hwpt === undefined) throw errnoError('EINVAL', `device ${devId} is not attached`);
    this.iommu.attachDevice(dev.rid, this.iommu.blockedDomain);
    hwpt.devices.delete(dev);
    dev.hwpt = undefined;
    if (hwpt.auto && hwpt.devices.size === 0) this.#freeHwpt(hwpt);
  }

  /** IOMMU_GET_HW_INFO for a bound device. */
  hwInfo(devId: number): HwInfo {
    this.#get(devId, 'device');
    return { dataType: 0, capabilities: { dirtyTracking: this.iommu.capabilities.dirtyTracking } };
  }

  // ---- IOAS ----

  /** IOMMU_IOAS_ALLOC: the new IOAS's id. */
  ioasAlloc(): number {
    this.#open();
    return this.#add((id) => new IoasObject(id)).id;
  }

  /**
   * IOMMU_IOAS_MAP: the IOVA the range is mapped at. EOVERFLOW: iova or length ≥ U64_MAX; EINVAL: no
   * permission (UNVERIFIED), zero length, unaligned; EEXIST, ENOSPC: see io-pagetable.ts.
   */
  ioasMap(request: IoasMapRequest): Iova {
    const { hpa } = request;
    return this.ioasMapUser(request.ioasId, hpa, () => hpa, request.lengthBytes, request.prot, request.iova);
  }

  /** IOMMU_IOAS_MAP from a user address: `pin` runs after the IOVA checks (see IoPagetable.map). */
  ioasMapUser(
    ioasId: number,
    userAddr: bigint,
    pin: () => Hpa,
    lengthBytes: bigint,
    prot: IommuProt,
    iova: Iova | undefined,
  ): Iova {
    const ioas = this.#get(ioasId, 'ioas');
    if ((iova ?? 0n) >= U64_MAX || lengthBytes >= U64_MAX)
      throw errnoError('EOVERFLOW', 'iova or length is U64_MAX');
    if (!prot.read && !prot.write)
      throw errnoError('EINVAL', 'neither IOMMU_IOAS_MAP_READABLE nor _WRITEABLE');
    return ioas.iopt.map(userAddr, pin, lengthBytes, prot, iova);
  }

  /**
   * IOMMU_IOAS_UNMAP: the bytes unmapped. iova 0 with length U64_MAX unmaps everything; otherwise
   * iova or length ≥ U64_MAX is EOVERFLOW, and io-pagetable.ts's rules apply (ENOENT, EINVAL).
   */
  ioasUnmap(ioasId: number, iova: bigint, lengthBytes: bigint): bigint {
    const ioas = this.#get(ioasId, 'ioas');
    if (iova === 0n && lengthBytes === U64_MAX) return ioas.iopt.unmapAll();
    if (iova >= U64_MAX || lengthBytes >= U64_MAX) throw errnoError('EOVERFLOW', 'iova or length is U64_MAX');
    return ioas.iopt.unmap(iova, lengthBytes);
  }

  // ---- HWPT ----

  /**
   * IOMMU_HWPT_ALLOC of a paging HWPT mirroring the IOAS `ptId`, for device `devId`. ENOENT: unknown
   * device or IOAS (a HWPT as pt_id would ask for nesting: EOPNOTSUPP, not modeled); EOPNOTSUPP: dirty
   * tracking on an IOMMU without IOMMU_HW_CAP_DIRTY_TRACKING.
   */
  hwptAlloc(request: HwptAllocRequest): number {
    this.#get(request.devId, 'device');
    const pt = this.#objects.get(request.ptId);
    if (pt?.kind === 'hwpt-paging') throw errnoError('EOPNOTSUPP', 'nested HWPTs are not modeled');
    if (pt?.kind !== 'ioas') throw errnoError('ENOENT', `no IOAS ${request.ptId}`);
    const flags = { dirtyTracking: request.dirtyTracking ?? false, nestParent: request.nestParent ?? false };
    return this.#allocHwpt(pt, flags, false).id;
  }

  /**
   * IOMMU_HWPT_SET_DIRTY_TRACKING. ENOENT: no paging HWPT of that id; EOPNOTSUPP: the HWPT was not
   * allocated with dirty tracking. Enabling clears stale dirty bits.
   */
  setDirtyTracking(hwptId: number, enable: boolean): void {
    this.#get(hwptId, 'hwpt-paging').domain.setDirtyTracking(enable);
  }

  /**
   * IOMMU_HWPT_GET_DIRTY_BITMAP as a bitmap object (the ioctl ORs it into the user's buffer).
   * Checks, in the kernel's order (iopt_read_and_clear_dirty_data, iommufd_check_iova_range):
   * ENOENT no such HWPT; EOPNOTSUPP no dirty tracking; EOVERFLOW iova + length - 1 wraps past U64_MAX;
   * EINVAL iova or iova + length not aligned to the IOAS iova_alignment (4096); EINVAL page_size 0;
   * EINVAL iova or iova + length not multiples of page_size. A length of 0 at IOVA 0 passes the checks
   * (last = U64_MAX, last + 1 wraps to 0) and reports nothing; at any other IOVA it is EOVERFLOW.
   */
  readDirtyBitmap(request: DirtyBitmapRequest): IovaBitmap | undefined {
    const hwpt = this.#get(request.hwptId, 'hwpt-paging');
    const { iova, lengthBytes, pageSizeBytes } = request;
    if (!hwpt.domain.dirtyTrackingCapable)
      throw errnoError('EOPNOTSUPP', `HWPT ${hwpt.id} was not allocated with dirty tracking`);
    const last = iova + ((lengthBytes - 1n) & U64_MAX);
    if (last > U64_MAX) throw errnoError('EOVERFLOW', 'iova + length - 1 wraps');
    const end = (last + 1n) & U64_MAX;
    const align = IOAS_IOVA_ALIGNMENT_BYTES - 1n;
    if ((iova & align) !== 0n || (end & align) !== 0n)
      throw errnoError('EINVAL', 'range not aligned to the IOAS iova_alignment');
    if (pageSizeBytes === 0n) throw errnoError('EINVAL', 'page_size is 0');
    const mask = pageSizeBytes - 1n;
    if ((iova & mask) !== 0n || (end & mask) !== 0n)
      throw errnoError('EINVAL', 'range not aligned to page_size');
    if (lengthBytes === 0n) return undefined;
    const bitmap = new IovaBitmap(iova, lengthBytes, pageSizeBytes);
    for (const m of hwpt.domain.mappings()) {
      const lo = maxBig(m.iova, iova);
      const mEnd = m.iova + m.sizeBytes;
      const hi = minBig(mEnd, iova + lengthBytes);
      if (hi <= lo) continue;
      const bits = hwpt.domain.readAndClearDirty(lo as Iova, hi - lo, { noClear: request.noClear === true });
      bits.forEach((byte, i) => {
        for (let b = 0; b < 8; b++)
          if ((byte & (1 << b)) !== 0) bitmap.set(lo + BigInt(i * 8 + b) * PAGE, PAGE);
      });
    }
    return bitmap;
  }

  /** IOMMU_HWPT_GET_DIRTY_BITMAP into a fresh buffer of ⌈bits/64⌉ u64 words (empty for length 0). */
  getDirtyBitmap(request: DirtyBitmapRequest): Uint8Array {
    return this.readDirtyBitmap(request)?.toBytes() ?? new Uint8Array(0);
  }

  // ---- objects ----

  /** IOMMU_DESTROY. ENOENT: no object; EBUSY: in use (see the file comment). */
  destroy(id: number): void {
    this.#open();
    const obj = this.#objects.get(id);
    if (obj === undefined) throw errnoError('ENOENT', `no object ${id}`);
    switch (obj.kind) {
      case 'device':
        throw errnoError('EBUSY', `device ${id} is held by its binding`);
      case 'ioas':
        for (const o of this.#objects.values())
          if (o.kind === 'hwpt-paging' && o.ioas === obj)
            throw errnoError('EBUSY', `IOAS ${id} has HWPT ${o.id}`);
        obj.iopt.unmapAll();
        this.#objects.delete(id);
        return;
      case 'hwpt-paging':
        if (obj.devices.size > 0) throw errnoError('EBUSY', `HWPT ${id} has attached devices`);
        this.#freeHwpt(obj);
        return;
      default:
        assertNever(obj);
    }
  }

  /** close(): unbind every device and free every object, as process exit would. */
  close(): void {
    if (this.#closed) return;
    for (const o of [...this.#objects.values()]) if (o.kind === 'device') this.unbindDevice(o.id);
    for (const o of [...this.#objects.values()]) if (o.kind === 'hwpt-paging') this.#freeHwpt(o);
    for (const o of [...this.#objects.values()]) if (o.kind === 'ioas') this.destroy(o.id);
    this.#closed = true;
  }

  #autoHwpt(ioas: IoasObject): HwptPagingObject | undefined {
    for (const o of this.#objects.values())
      if (o.kind === 'hwpt-paging' && o.auto && o.ioas === ioas) return o;
    return undefined;
  }

  #allocHwpt(
    ioas: IoasObject,
    flags: { dirtyTracking: boolean; nestParent: boolean },
    auto: boolean,
  ): HwptPagingObject {
    const domain = this.iommu.allocPagingDomain({ dirtyTracking: flags.dirtyTracking });
    try {
      ioas.iopt.addDomain(domain);
    } catch (e) {
      this.iommu.freeDomain(domain);
      throw e;
    }
    return this.#add((id) => new HwptPagingObject(id, ioas, domain, auto, flags.nestParent));
  }

  #freeHwpt(hwpt: HwptPagingObject): void {
    hwpt.ioas.iopt.removeDomain(hwpt.domain);
    this.iommu.freeDomain(hwpt.domain);
    this.#objects.delete(hwpt.id);
  }

  #add<T extends IommufdObject>(make: (id: number) => T): T {
    const obj = make(this.#nextId++);
    this.#objects.set(obj.id, obj);
    return obj;
  }

  #get<K extends IommufdObject['kind']>(id: number, kind: K): Extract<IommufdObject, { kind: K }> {
    this.#open();
    const obj = this.#objects.get(id);
    if (obj?.kind !== kind) throw errnoError('ENOENT', `no ${kind} object ${id}`);
    return obj as Extract<IommufdObject, { kind: K }>;
  }

  #open(): void {
    if (this.#closed) throw errnoError('EBADF', 'the iommufd is closed');
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected object ${JSON.stringify(x)}`);
}
