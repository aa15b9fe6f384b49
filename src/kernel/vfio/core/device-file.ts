/**
 * An open VFIO device file (drivers/vfio/vfio_main.c vfio_device_fops): the uAPI bytes of every
 * device ioctl (facts/kernel.md 3.1-3.5, 1.6) decoded through spec/vfio.ts's descriptors, checked as
 * the kernel checks them, handed to the driver's typed ops, and the reply written back in place as
 * copy_to_user would. `ioctl` returns 0 or a negative errno like the syscall; the typed methods beside
 * it throw the errno error instead.
 *
 * Two ways in (3.6): the group model hands out an already-open file (GROUP_GET_DEVICE_FD opens the
 * device); the cdev model's file is inert until VFIO_DEVICE_BIND_IOMMUFD, which opens the device —
 * every other ioctl before it fails with EINVAL.
 *
 * Left out: mmap, VFIO_DEVICE_IOEVENTFD, hot reset, gfx, the PCI_VF_TOKEN check at open.
 */
import {
  decodeStruct,
  defineStruct,
  encodeStruct,
  errnoError,
  isLabError,
  LabError,
  le32Field,
  le64Field,
  writeLe,
} from '../../../base/index.js';
import { Errno, vfio } from '../../../spec/index.js';
import type { VfioDeviceInfoReply, VfioIrqInfoReply, VfioRegionInfoReply } from './device-ops.js';
import type { VfioFdTable } from './eventfd.js';
import { dispatchDeviceFeature } from './feature.js';
import type { VfioDevice } from './vfio-device.js';

/**
 * struct vfio_device_bind_iommufd (facts/kernel.md 3.6): argsz, flags, s32 iommufd (as le32),
 * out_devid, token_uuid_ptr. Not in spec/vfio.ts yet (it leaves the IOMMUFD structs out).
 */
export const VfioDeviceBindIommufd = defineStruct('vfio_device_bind_iommufd', 24, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  le32Field('iommufd', 8),
  le32Field('outDevid', 12),
  le64Field('tokenUuidPtr', 16),
]);

/** struct vfio_device_attach_iommufd_pt (facts/kernel.md 3.6). */
export const VfioDeviceAttachIommufdPt = defineStruct('vfio_device_attach_iommufd_pt', 16, [
  le32Field('argsz', 0),
  le32Field('flags', 4),
  le32Field('ptId', 8),
  le32Field('pasid', 12),
]);

/** offsetofend of the last field the kernel reads (minsz) per struct. */
const INFO_MINSZ = 16; // vfio_device_info up to num_irqs
const REGION_INFO_MINSZ = vfio.VfioRegionInfo.sizeBytes; // up to offset
const IRQ_INFO_MINSZ = vfio.VfioIrqInfo.sizeBytes; // up to count
const IRQ_SET_MINSZ = vfio.VfioIrqSet.sizeBytes; // up to count
const BIND_MINSZ = 16; // up to out_devid
const ATTACH_MINSZ = 12; // up to pt_id
const U32_MAX = 0xffff_ffff;

export type VfioFileModel = 'group' | 'cdev';

type FileState =
  | { readonly kind: 'unbound' }
  | { readonly kind: 'open'; readonly devid: number | undefined }
  | { readonly kind: 'closed' };

export class VfioDeviceFile {
  readonly device: VfioDevice;
  readonly model: VfioFileModel;
  readonly fds: VfioFdTable;
  #state: FileState;

  /** Made by VfioCore: a group-model file arrives open, a cdev file unbound. */
  constructor(device: VfioDevice, model: VfioFileModel, fds: VfioFdTable, opened: boolean) {
    this.device = device;
    this.model = model;
    this.fds = fds;
    this.#state = opened ? { kind: 'open', devid: undefined } : { kind: 'unbound' };
  }

  get isOpen(): boolean {
    return this.#state.kind === 'open';
  }

  /** The IOMMUFD device id BIND returned (cdev model). */
  get devid(): number | undefined {
    return this.#state.kind === 'open' ? this.#state.devid : undefined;
  }

  // ---- the syscall face ----

  /** ioctl(fd, cmd, arg): 0 (or a positive result) on success, -errno on failure. */
  ioctl(cmd: number, arg: Uint8Array): number {
    try {
      this.#ioctl(cmd, arg);
      return 0;
    } catch (e) {
      if (isLabError(e) && e.errno !== undefined) return -Errno[e.errno];
      throw e;
    }
  }

  #ioctl(cmd: number, arg: Uint8Array): void {
    if (this.#state.kind === 'closed') throw errnoError('EBADF', 'file closed');
    if (this.#state.kind === 'unbound') {
      if (cmd !== vfio.VFIO_DEVICE_BIND_IOMMUFD) throw errnoError('EINVAL', 'device not bound to an iommufd');
      this.#bindIoctl(arg);
      return;
    }
    switch (cmd) {
      case vfio.VFIO_DEVICE_GET_INFO:
        this.#getInfoIoctl(arg);
        return;
      case vfio.VFIO_DEVICE_GET_REGION_INFO:
        this.#regionInfoIoctl(arg);
        return;
      case vfio.VFIO_DEVICE_GET_IRQ_INFO:
        this.#irqInfoIoctl(arg);
        return;
      case vfio.VFIO_DEVICE_SET_IRQS:
        this.#setIrqsIoctl(arg);
        return;
      case vfio.VFIO_DEVICE_RESET:
        this.reset();
        return;
      case vfio.VFIO_DEVICE_FEATURE:
        dispatchDeviceFeature(arg, this.device.featureHandlers, { installFd: (f) => this.fds.install(f) });
        return;
      case vfio.VFIO_DEVICE_BIND_IOMMUFD:
        throw errnoError('EINVAL', this.model === 'group' ? 'not a cdev file' : 'already bound');
      case vfio.VFIO_DEVICE_ATTACH_IOMMUFD_PT:
      case vfio.VFIO_DEVICE_DETACH_IOMMUFD_PT:
        if (this.model !== 'cdev') throw errnoError('ENOTTY', 'iommufd ioctl on a group-model file');
        this.#attachIoctl(cmd, arg);
        return;
      default:
        throw errnoError('ENOTTY', `ioctl 0x${cmd.toString(16)}`);
    }
  }

  #bindIoctl(arg: Uint8Array): void {
    const req = decodeHead(VfioDeviceBindIommufd, arg, BIND_MINSZ);
    if (req.flags !== 0) throw errnoError('EINVAL', 'bind flags');
    const hooks = this.device.core.iommufd;
    if (hooks === undefined) throw errnoError('EBADF', 'no iommufd in this kernel');
    const devid = hooks.bind(req.iommufd | 0, this.device, this.fds);
    this.device.core.openDeviceNow(this.device);
    this.#state = { kind: 'open', devid };
    writeLe32(arg, 12, devid);
  }

  #attachIoctl(cmd: number, arg: Uint8Array): void {
    const hooks = this.device.core.iommufd;
    if (hooks === undefined) throw errnoError('ENODEV', 'no iommufd');
    const req = decodeHead(VfioDeviceAttachIommufdPt, arg, ATTACH_MINSZ);
    if (cmd === vfio.VFIO_DEVICE_DETACH_IOMMUFD_PT) {
      hooks.detach(this.device);
      return;
    }
    const ptId = hooks.attach(this.device, req.ptId);
    writeLe32(arg, 8, ptId);
  }

  #getInfoIoctl(arg: Uint8Array): void {
    const req = decodeHead(vfio.VfioDeviceInfo, arg, INFO_MINSZ);
    const r = this.getInfo();
    const reply = encodeStruct(vfio.VfioDeviceInfo, {
      argsz: req.argsz,
      flags: r.flags,
      numRegions: r.numRegions,
      numIrqs: r.numIrqs,
      capOffset: 0,
    });
    arg.set(reply.subarray(0, Math.min(req.argsz, reply.length)));
  }

  #regionInfoIoctl(arg: Uint8Array): void {
    const req = decodeHead(vfio.VfioRegionInfo, arg, REGION_INFO_MINSZ);
    const r = this.getRegionInfo(req.index);
    const head = vfio.VfioRegionInfo.sizeBytes;
    const chain = encodeCapChain(r.caps, head);
    let argsz = req.argsz;
    let capOffset = 0;
    let flags = r.flags;
    if (chain.length > 0) {
      flags |= vfio.VFIO_REGION_INFO_FLAG_CAPS;
      if (req.argsz < head + chain.length) {
        // Too small for the chain: say how much is needed, point at nothing.
        argsz = head + chain.length;
      } else {
        if (arg.length < head + chain.length) throw errnoError('EFAULT', 'cap chain beyond the buffer');
        arg.set(chain, head);
        capOffset = head;
      }
    }
    arg.set(
      encodeStruct(vfio.VfioRegionInfo, {
        argsz,
        flags,
        index: r.index,
        capOffset,
        size: r.sizeBytes,
        offset: r.offset,
      }),
    );
  }

  #irqInfoIoctl(arg: Uint8Array): void {
    const req = decodeHead(vfio.VfioIrqInfo, arg, IRQ_INFO_MINSZ);
    const r = this.getIrqInfo(req.index);
    arg.set(
      encodeStruct(vfio.VfioIrqInfo, { argsz: req.argsz, flags: r.flags, index: r.index, count: r.count }),
    );
  }

  /** vfio_set_irqs_validate_and_prepare, then the driver. */
  #setIrqsIoctl(arg: Uint8Array): void {
    const hdr = decodeHead(vfio.VfioIrqSet, arg, IRQ_SET_MINSZ);
    const ops = this.device.ops;
    const known = vfio.VFIO_IRQ_SET_DATA_TYPE_MASK | vfio.VFIO_IRQ_SET_ACTION_TYPE_MASK;
    if (
      hdr.argsz < IRQ_SET_MINSZ ||
      hdr.index >= ops.numIrqTypes ||
      hdr.count >= U32_MAX - hdr.start ||
      (hdr.flags & ~known) >>> 0 !== 0
    ) {
      throw errnoError('EINVAL', 'irq_set header');
    }
    const numIrqs = ops.irqCount(hdr.index);
    if (hdr.start >= numIrqs || hdr.start + hdr.count > numIrqs) {
      throw errnoError('EINVAL', `irqs ${hdr.start}+${hdr.count} of ${numIrqs}`);
    }
    let size: number;
    switch (hdr.flags & vfio.VFIO_IRQ_SET_DATA_TYPE_MASK) {
      case vfio.VFIO_IRQ_SET_DATA_NONE:
        size = 0;
        break;
      case vfio.VFIO_IRQ_SET_DATA_BOOL:
        size = 1;
        break;
      case vfio.VFIO_IRQ_SET_DATA_EVENTFD:
        size = 4;
        break;
      default:
        throw errnoError('EINVAL', 'irq_set data type');
    }
    const dataBytes = hdr.count * size;
    if (size > 0 && hdr.argsz - IRQ_SET_MINSZ < dataBytes) throw errnoError('EINVAL', 'irq_set data short');
    if (arg.length < IRQ_SET_MINSZ + dataBytes) throw errnoError('EFAULT', 'irq_set data beyond the buffer');
    ops.setIrqs(
      {
        flags: hdr.flags,
        index: hdr.index,
        start: hdr.start,
        count: hdr.count,
        data: arg.slice(IRQ_SET_MINSZ, IRQ_SET_MINSZ + dataBytes),
      },
      this.fds,
    );
  }

  // ---- typed face ----

  getInfo(): VfioDeviceInfoReply {
    this.#requireOpen();
    return this.device.ops.getInfo();
  }

  getRegionInfo(index: number): VfioRegionInfoReply {
    this.#requireOpen();
    return this.device.ops.getRegionInfo(index);
  }

  getIrqInfo(index: number): VfioIrqInfoReply {
    this.#requireOpen();
    return this.device.ops.getIrqInfo(index);
  }

  /** VFIO_DEVICE_RESET; the FLR wait is charged on the clock. */
  reset(): void {
    this.#requireOpen();
    this.device.core.charge(this.device.ops.reset());
  }

  /** pread on the device file. */
  read(offset: bigint, lengthBytes: number): Uint8Array {
    this.#requireOpen();
    return this.device.ops.read(offset, lengthBytes);
  }

  /** pwrite on the device file. */
  write(offset: bigint, bytes: Uint8Array): number {
    this.#requireOpen();
    return this.device.ops.write(offset, bytes);
  }

  /** close(): the last close of the device runs close_device (and its reset). */
  close(): void {
    if (this.#state.kind === 'closed') throw errnoError('EBADF', 'file closed');
    const wasOpen = this.#state.kind === 'open';
    this.#state = { kind: 'closed' };
    if (wasOpen) {
      this.device.core.iommufd?.unbind?.(this.device);
      this.device.core.closeDeviceNow(this.device, this);
    } else {
      this.device.core.forgetFile(this.device, this);
    }
  }

  #requireOpen(): void {
    if (this.#state.kind === 'closed') throw errnoError('EBADF', 'file closed');
    if (this.#state.kind === 'unbound') throw errnoError('EINVAL', 'device not bound to an iommufd');
  }
}

/** Read the struct head the kernel copies in (minsz bytes; the rest as zero), EINVAL if argsz < minsz. */
function decodeHead<T extends { argsz: number }>(
  desc: Parameters<typeof decodeStruct<T>>[0],
  arg: Uint8Array,
  minsz: number,
): T {
  if (arg.length < minsz) throw errnoError('EFAULT', `${desc.name}: ${arg.length} < ${minsz} bytes`);
  const v = decodeStruct(desc, arg.subarray(0, Math.min(arg.length, desc.sizeBytes)), { missing: 'zero' });
  if (v.argsz < minsz) throw errnoError('EINVAL', `${desc.name}: argsz ${v.argsz} < ${minsz}`);
  return v;
}

function writeLe32(arg: Uint8Array, at: number, value: number): void {
  if (arg.length < at + 4) throw new LabError('internal', 'reply field beyond the buffer');
  writeLe(arg, at, 4, value >>> 0);
}

/** A capability chain placed after a `headBytes` struct: each header's next is an offset from its start. */
export function encodeCapChain(
  caps: readonly { id: number; version: number; body: Uint8Array }[],
  headBytes: number,
): Uint8Array {
  const hdr = vfio.VfioInfoCapHeader.sizeBytes;
  const total = caps.reduce((n, c) => n + hdr + c.body.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  caps.forEach((c, i) => {
    const end = at + hdr + c.body.length;
    const next = i === caps.length - 1 ? 0 : headBytes + end;
    out.set(encodeStruct(vfio.VfioInfoCapHeader, { id: c.id, version: c.version, next }), at);
    out.set(c.body, at + hdr);
    at = end;
  });
  return out;
}
