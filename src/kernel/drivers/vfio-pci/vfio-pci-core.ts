/**
 * vfio-pci-core's vfio_device_ops for one PCI function (drivers/vfio/pci/vfio_pci_core.c,
 * vfio_pci_intrs.c, vfio_pci_rdwr.c; facts/kernel.md 3.2-3.5):
 *
 * - open_device (vfio_pci_core_enable): pci_enable_device, an FLR when the function can reset, the
 *   config shadow built fresh; close_device (vfio_pci_core_disable): interrupts off, FLR, disable.
 *   The FLR's config cycles run at once; its 100 ms completion is returned as a wait for the VFIO
 *   core to charge (directly, or scheduled under the dev_set lock by openMany).
 * - regions: BAR0-5 (READ|WRITE, MMAP for memory BARs of a page or more or page-aligned, the
 *   MSIX_MAPPABLE capability on the MSI-X BAR), ROM (READ when present), config (READ|WRITE,
 *   256 or 4096 bytes), VGA (EINVAL: no VGA device here). Offset = index << 40.
 * - BAR access through pci_iomap, split into naturally aligned accesses of 4, 2 or 1 bytes; EIO while
 *   memory decode is off in the virtual Command register.
 * - IRQs: INTx (count 1 with a pin; 0 for VFs), MSI (0: no MSI capability is modeled), MSI-X (table
 *   size; vectors from the host MSI controller through pci_alloc_irq_vectors, each signalling the
 *   eventfd the user gave), ERR (PCIe only), REQ.
 *
 * SPEC-DEVIATION: INTx delivery is not modeled by the kernel (KernelIo has MSI-X only): INTx triggers
 * are recorded and signalled only by loopback (DATA_NONE/BOOL). Dynamic MSI-X allocation is reported
 * unsupported (NORESIZE), as on a platform without pci_msix_can_alloc_dyn.
 */
import { errnoError, readLe, writeLe } from '../../../base/index.js';
import { pci, vfio } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { PciDev } from '../../pci/pci-dev.js';
import { IORESOURCE_MEM, PCI_ROM_RESOURCE, resourceSize } from '../../pci/resource.js';
import type {
  EventFd,
  VfioDeviceInfoReply,
  VfioDeviceOps,
  VfioFdTable,
  VfioFeatureHandler,
  VfioInfoCap,
  VfioIrqInfoReply,
  VfioIrqSetRequest,
  VfioRegionInfoReply,
  VfioWait,
} from '../../vfio/core/index.js';
import { VfioPciConfig } from './config.js';

const PAGE_BYTES = 4096n;
const REGION_INDEX_MASK = (1n << BigInt(vfio.VFIO_PCI_OFFSET_SHIFT)) - 1n;

/**
 * The checks vfio_pci_core_register_device makes before any vfio-pci-based driver takes a function:
 * a normal (type 0) header (EINVAL), and not a PF whose VFs are enabled (EBUSY, with the kernel's
 * warning under the driver's name).
 */
export function vfioPciCoreCheckDevice(k: KernelApi, dev: Device, driverName: string): PciDev {
  const p = k.pdev(dev);
  if (p.hdrType !== pci.PCI_HEADER_TYPE_NORMAL)
    throw errnoError('EINVAL', `${dev.name}: header type ${p.hdrType}`);
  if (p.sriov !== undefined && k.pciNumVf(dev) > 0) {
    k.log.warn(`${driverName} ${dev.name}: Cannot bind to PF with SR-IOV enabled`);
    throw errnoError('EBUSY', `${dev.name} has VFs enabled`);
  }
  return p;
}

export const regionOffset = (index: number): bigint => BigInt(index) << BigInt(vfio.VFIO_PCI_OFFSET_SHIFT);

/** What the driver needs beyond KernelApi (the FLR's wait comes from the PCI core's cost model). */
export interface VfioPciEnv {
  readonly k: KernelApi;
  /** Charge modeled time now (a trapped Initiate FLR's wait). */
  chargeNs(ns: number): void;
}

/** The active interrupt type (vdev->irq_type). */
type IrqMode =
  | { readonly kind: 'none' }
  | { readonly kind: 'intx' }
  | { readonly kind: 'msix'; readonly triggers: Map<number, EventFd>; readonly vectors: Set<number> };

export class VfioPciCoreDevice implements VfioDeviceOps {
  readonly name: string;
  readonly numIrqTypes = vfio.VFIO_PCI_NUM_IRQS;
  readonly dev: Device;
  readonly features: Map<number, VfioFeatureHandler> = new Map();
  readonly #env: VfioPciEnv;
  #config: VfioPciConfig | undefined;
  #irq: IrqMode = { kind: 'none' };
  #intxTrigger: EventFd | undefined;
  #errTrigger: EventFd | undefined;
  #reqTrigger: EventFd | undefined;

  constructor(dev: Device, env: VfioPciEnv, name = 'vfio-pci') {
    this.dev = dev;
    this.#env = env;
    this.name = name;
  }

  get pdev(): PciDev {
    return this.#env.k.pdev(this.dev);
  }

  /** reset_works: a function-level reset method exists (FLR is the one modeled). */
  get resetWorks(): boolean {
    const p = this.pdev;
    if (p.pcieCap === undefined) return false;
    return (
      (this.#env.k.pciReadConfig(this.dev, p.pcieCap + pci.PCI_EXP_DEVCAP, 4) & pci.PCI_EXP_DEVCAP_FLR) !== 0
    );
  }

  /** The config shadow (open devices only). */
  get config(): VfioPciConfig {
    if (this.#config === undefined) throw errnoError('ENODEV', `${this.dev.name} is not open`);
    return this.#config;
  }

  // ---- open / close / reset ----

  openDevice(): VfioWait {
    const k = this.#env.k;
    k.pciEnableDevice(this.dev);
    const wait = this.resetWorks ? this.#flr() : { waitNs: 0 };
    this.#config = new VfioPciConfig(this.pdev, {
      read: (o, w) => k.pciReadConfig(this.dev, o, w),
      write: (o, w, v) => k.pciWriteConfig(this.dev, o, w, v),
      flr: () => this.#env.chargeNs(this.#flrOrNothing()),
    });
    return wait;
  }

  closeDevice(): VfioWait {
    this.#disableIrqs();
    this.#intxTrigger = undefined;
    this.#errTrigger = undefined;
    this.#reqTrigger = undefined;
    const wait = this.resetWorks ? this.#flr() : { waitNs: 0 };
    this.#env.k.pciDisableDevice(this.dev);
    this.#config = undefined;
    return wait;
  }

  reset(): VfioWait {
    if (!this.resetWorks) throw errnoError('EINVAL', `${this.dev.name}: reset does not work`);
    this.#disableIrqs();
    const w = this.#flr();
    this.#config = new VfioPciConfig(this.pdev, {
      read: (o, wd) => this.#env.k.pciReadConfig(this.dev, o, wd),
      write: (o, wd, v) => this.#env.k.pciWriteConfig(this.dev, o, wd, v),
      flr: () => this.#env.chargeNs(this.#flrOrNothing()),
    });
    return w;
  }

  #flrOrNothing(): number {
    return this.resetWorks ? this.#flr().waitNs : 0;
  }

  /** pci_reset_function by FLR; the completion wait is returned for the VFIO core to schedule. */
  #flr(): VfioWait {
    return { waitNs: this.#env.k.pciResetFunction(this.dev, false) };
  }

  // ---- info ----

  getInfo(): VfioDeviceInfoReply {
    return {
      flags: vfio.VFIO_DEVICE_FLAGS_PCI | (this.resetWorks ? vfio.VFIO_DEVICE_FLAGS_RESET : 0),
      numRegions: vfio.VFIO_PCI_NUM_REGIONS,
      numIrqs: vfio.VFIO_PCI_NUM_IRQS,
    };
  }

  getRegionInfo(index: number): VfioRegionInfoReply {
    const p = this.pdev;
    const offset = regionOffset(index);
    if (index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) {
      const flags = vfio.VFIO_REGION_INFO_FLAG_READ | vfio.VFIO_REGION_INFO_FLAG_WRITE;
      return { index, flags, sizeBytes: BigInt(p.cfgSize), offset, caps: [] };
    }
    if (index >= vfio.VFIO_PCI_BAR0_REGION_INDEX && index <= vfio.VFIO_PCI_BAR5_REGION_INDEX) {
      const r = p.resources[index];
      const size = r === undefined ? 0n : resourceSize(r);
      if (size === 0n) return { index, flags: 0, sizeBytes: 0n, offset, caps: [] };
      let flags = vfio.VFIO_REGION_INFO_FLAG_READ | vfio.VFIO_REGION_INFO_FLAG_WRITE;
      const isMem = (r!.flags & IORESOURCE_MEM) !== 0;
      if (isMem && (size >= PAGE_BYTES || r!.start % PAGE_BYTES === 0n))
        flags |= vfio.VFIO_REGION_INFO_FLAG_MMAP;
      const caps: VfioInfoCap[] = [];
      if (this.#msixBar() === index) {
        caps.push({ id: vfio.VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, version: 1, body: new Uint8Array(0) });
      }
      return { index, flags, sizeBytes: size, offset, caps };
    }
    if (index === vfio.VFIO_PCI_ROM_REGION_INDEX) {
      const r = p.resources[PCI_ROM_RESOURCE];
      const size = r === undefined ? 0n : resourceSize(r);
      return {
        index,
        flags: size === 0n ? 0 : vfio.VFIO_REGION_INFO_FLAG_READ,
        sizeBytes: size,
        offset,
        caps: [],
      };
    }
    throw errnoError('EINVAL', `region ${index}`);
  }

  getIrqInfo(index: number): VfioIrqInfoReply {
    switch (index) {
      case vfio.VFIO_PCI_INTX_IRQ_INDEX:
      case vfio.VFIO_PCI_MSI_IRQ_INDEX:
      case vfio.VFIO_PCI_MSIX_IRQ_INDEX:
      case vfio.VFIO_PCI_REQ_IRQ_INDEX:
        break;
      case vfio.VFIO_PCI_ERR_IRQ_INDEX:
        if (this.pdev.pcieCap !== undefined) break;
        throw errnoError('EINVAL', 'ERR IRQ on a conventional PCI function');
      default:
        throw errnoError('EINVAL', `irq index ${index}`);
    }
    let flags = vfio.VFIO_IRQ_INFO_EVENTFD;
    if (index === vfio.VFIO_PCI_INTX_IRQ_INDEX)
      flags |= vfio.VFIO_IRQ_INFO_MASKABLE | vfio.VFIO_IRQ_INFO_AUTOMASKED;
    else flags |= vfio.VFIO_IRQ_INFO_NORESIZE;
    return { index, flags, count: this.irqCount(index) };
  }

  /** vfio_pci_get_irq_count. */
  irqCount(index: number): number {
    const p = this.pdev;
    switch (index) {
      case vfio.VFIO_PCI_INTX_IRQ_INDEX:
        return !p.isVirtfn &&
          p.irq !== 0 &&
          this.#env.k.pciReadConfig(this.dev, pci.PCI_INTERRUPT_PIN, 1) !== 0
          ? 1
          : 0;
      case vfio.VFIO_PCI_MSI_IRQ_INDEX:
        return 0;
      case vfio.VFIO_PCI_MSIX_IRQ_INDEX: {
        const cap = this.#findCap(pci.PCI_CAP_ID_MSIX);
        if (cap === undefined) return 0;
        return (
          (this.#env.k.pciReadConfig(this.dev, cap + pci.PCI_MSIX_FLAGS, 2) & pci.PCI_MSIX_FLAGS_QSIZE) + 1
        );
      }
      case vfio.VFIO_PCI_ERR_IRQ_INDEX:
        return p.pcieCap !== undefined ? 1 : 0;
      case vfio.VFIO_PCI_REQ_IRQ_INDEX:
        return 1;
      default:
        return 0;
    }
  }

  // ---- SET_IRQS (vfio_pci_set_irqs_ioctl) ----

  setIrqs(req: VfioIrqSetRequest, fds: VfioFdTable): void {
    const action = req.flags & vfio.VFIO_IRQ_SET_ACTION_TYPE_MASK;
    switch (req.index) {
      case vfio.VFIO_PCI_INTX_IRQ_INDEX:
        if (action === vfio.VFIO_IRQ_SET_ACTION_TRIGGER) {
          this.#intxTrigger_(req, fds);
          return;
        }
        if (action === vfio.VFIO_IRQ_SET_ACTION_MASK || action === vfio.VFIO_IRQ_SET_ACTION_UNMASK) {
          // vfio_pci_set_intx_mask / unmask: only while INTx is the active type.
          if (this.#irq.kind !== 'intx') throw errnoError('EINVAL', 'INTx not enabled');
          return;
        }
        break;
      case vfio.VFIO_PCI_MSIX_IRQ_INDEX:
        if (action === vfio.VFIO_IRQ_SET_ACTION_TRIGGER) {
          this.#msixTrigger(req, fds);
          return;
        }
        break;
      case vfio.VFIO_PCI_ERR_IRQ_INDEX:
        if (action === vfio.VFIO_IRQ_SET_ACTION_TRIGGER && this.pdev.pcieCap !== undefined) {
          this.#errTrigger = singleTrigger(this.#errTrigger, req, fds);
          return;
        }
        break;
      case vfio.VFIO_PCI_REQ_IRQ_INDEX:
        if (action === vfio.VFIO_IRQ_SET_ACTION_TRIGGER) {
          this.#reqTrigger = singleTrigger(this.#reqTrigger, req, fds);
          return;
        }
        break;
    }
    throw errnoError('ENOTTY', `irq index ${req.index} action 0x${action.toString(16)}`);
  }

  /** Ask the user to release the device (vfio_pci_core_request): signal REQ. Returns whether anyone listened. */
  request(): boolean {
    this.#reqTrigger?.signal();
    return this.#reqTrigger !== undefined;
  }

  #intxTrigger_(req: VfioIrqSetRequest, fds: VfioFdTable): void {
    const type = req.flags & vfio.VFIO_IRQ_SET_DATA_TYPE_MASK;
    if (this.#irq.kind === 'intx' && type === vfio.VFIO_IRQ_SET_DATA_NONE && req.count === 0) {
      this.#irq = { kind: 'none' };
      this.#intxTrigger = undefined;
      return;
    }
    if (!(this.#irq.kind === 'intx' || this.#irq.kind === 'none'))
      throw errnoError('EINVAL', 'another IRQ type is on');
    if (type === vfio.VFIO_IRQ_SET_DATA_EVENTFD) {
      const fd = readLe(req.data, 0, 4) | 0;
      if (fd === -1) {
        this.#intxTrigger = undefined;
        this.#irq = { kind: 'none' };
      } else {
        this.#intxTrigger = fds.getEventFd(fd);
        this.#irq = { kind: 'intx' };
      }
      return;
    }
    if (this.#irq.kind !== 'intx') throw errnoError('EINVAL', 'INTx not enabled');
    if (type === vfio.VFIO_IRQ_SET_DATA_NONE || req.data[0] !== 0) this.#intxTrigger?.signal();
  }

  /** vfio_pci_set_msi_trigger for MSI-X. */
  #msixTrigger(req: VfioIrqSetRequest, fds: VfioFdTable): void {
    const type = req.flags & vfio.VFIO_IRQ_SET_DATA_TYPE_MASK;
    const mode = this.#irq;
    if (mode.kind === 'msix' && type === vfio.VFIO_IRQ_SET_DATA_NONE && req.count === 0) {
      this.#disableIrqs();
      return;
    }
    if (!(mode.kind === 'msix' || mode.kind === 'none')) throw errnoError('EINVAL', 'another IRQ type is on');
    if (type === vfio.VFIO_IRQ_SET_DATA_EVENTFD) {
      // Resolve every fd first: a bad one fails the call before anything changes.
      const wanted: (EventFd | undefined)[] = [];
      for (let i = 0; i < req.count; i++) {
        const fd = readLe(req.data, 4 * i, 4) | 0;
        wanted.push(fd < 0 ? undefined : fds.getEventFd(fd));
      }
      const m: IrqMode & { kind: 'msix' } =
        mode.kind === 'msix' ? mode : { kind: 'msix', triggers: new Map(), vectors: new Set() };
      this.#irq = m;
      wanted.forEach((efd, i) => {
        const vector = req.start + i;
        if (efd === undefined) {
          m.triggers.delete(vector);
          return;
        }
        m.triggers.set(vector, efd);
        if (!m.vectors.has(vector)) {
          const v = this.#env.k.pciRequestMsixVector(this.dev, vector, () =>
            m.triggers.get(vector)?.signal(),
          );
          if (v === undefined) throw errnoError('EINVAL', `${this.dev.name}: no MSI-X vector ${vector}`);
          m.vectors.add(vector);
        }
      });
      return;
    }
    if (mode.kind !== 'msix') throw errnoError('EINVAL', 'MSI-X not enabled');
    for (let i = 0; i < req.count; i++) {
      if (type === vfio.VFIO_IRQ_SET_DATA_NONE || req.data[i] !== 0)
        mode.triggers.get(req.start + i)?.signal();
    }
  }

  #disableIrqs(): void {
    if (this.#irq.kind === 'msix') this.#env.k.pciFreeMsixVectors(this.dev);
    this.#irq = { kind: 'none' };
  }

  // ---- read / write ----

  read(offset: bigint, lengthBytes: number): Uint8Array {
    const { index, pos } = splitOffset(offset);
    if (index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) return this.config.read(pos, lengthBytes);
    if (index <= vfio.VFIO_PCI_BAR5_REGION_INDEX) {
      const out = new Uint8Array(lengthBytes);
      this.#barRw(index, pos, lengthBytes, (mem, at, w, i) => writeLe(out, i, w, mem.read(at, w)));
      return out;
    }
    throw errnoError('EINVAL', `region ${index} is not readable`);
  }

  write(offset: bigint, bytes: Uint8Array): number {
    const { index, pos } = splitOffset(offset);
    if (index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) {
      this.config.write(pos, bytes);
      return bytes.length;
    }
    if (index <= vfio.VFIO_PCI_BAR5_REGION_INDEX) {
      this.#barRw(index, pos, bytes.length, (mem, at, w, i) => mem.write(at, w, readLe(bytes, i, w)));
      return bytes.length;
    }
    throw errnoError('EINVAL', `region ${index} is not writable`);
  }

  /** vfio_pci_bar_rw: naturally aligned pieces of 4, 2, 1 bytes through the BAR's iomap. */
  #barRw(
    bar: number,
    pos: number,
    lengthBytes: number,
    each: (mem: ReturnType<KernelApi['pciIomap']>, at: number, width: 1 | 2 | 4, i: number) => void,
  ): void {
    const r = this.pdev.resources[bar];
    const size = r === undefined ? 0n : resourceSize(r);
    if (size === 0n || BigInt(pos + lengthBytes) > size)
      throw errnoError('EINVAL', `BAR ${bar} ${pos}+${lengthBytes}`);
    if (!this.config.memoryEnabled) throw errnoError('EIO', `${this.dev.name}: memory decode is off`);
    const mem = this.#env.k.pciIomap(this.dev, bar);
    for (let i = 0; i < lengthBytes; ) {
      const at = pos + i;
      const left = lengthBytes - i;
      const width: 1 | 2 | 4 = left >= 4 && at % 4 === 0 ? 4 : left >= 2 && at % 2 === 0 ? 2 : 1;
      each(mem, at, width, i);
      i += width;
    }
  }

  #msixBar(): number | undefined {
    const cap = this.#findCap(pci.PCI_CAP_ID_MSIX);
    if (cap === undefined) return undefined;
    return this.#env.k.pciReadConfig(this.dev, cap + pci.PCI_MSIX_TABLE, 4) & pci.PCI_MSIX_TABLE_BIR;
  }

  #findCap(id: number): number | undefined {
    const k = this.#env.k;
    if ((k.pciReadConfig(this.dev, pci.PCI_STATUS, 2) & pci.PCI_STATUS_CAP_LIST) === 0) return undefined;
    let pos = k.pciReadConfig(this.dev, pci.PCI_CAPABILITY_LIST, 1) & ~3;
    for (let n = 0; pos !== 0 && n < 48; n++) {
      if (k.pciReadConfig(this.dev, pos + pci.PCI_CAP_LIST_ID, 1) === id) return pos;
      pos = k.pciReadConfig(this.dev, pos + pci.PCI_CAP_LIST_NEXT, 1) & ~3;
    }
    return undefined;
  }
}

function splitOffset(offset: bigint): { index: number; pos: number } {
  const index = Number(offset >> BigInt(vfio.VFIO_PCI_OFFSET_SHIFT));
  if (index >= vfio.VFIO_PCI_NUM_REGIONS) throw errnoError('EINVAL', `region ${index}`);
  return { index, pos: Number(offset & REGION_INDEX_MASK) };
}

/** vfio_pci_set_ctx_trigger_single (ERR, REQ). */
function singleTrigger(
  cur: EventFd | undefined,
  req: VfioIrqSetRequest,
  fds: VfioFdTable,
): EventFd | undefined {
  const type = req.flags & vfio.VFIO_IRQ_SET_DATA_TYPE_MASK;
  if (type === vfio.VFIO_IRQ_SET_DATA_NONE) {
    if (cur === undefined) throw errnoError('EINVAL', 'no trigger set');
    if (req.count === 0) return undefined;
    cur.signal();
    return cur;
  }
  if (req.count === 0) throw errnoError('EINVAL', 'count 0');
  if (type === vfio.VFIO_IRQ_SET_DATA_BOOL) {
    if (req.data[0] !== 0) cur?.signal();
    return cur;
  }
  const fd = readLe(req.data, 0, 4) | 0;
  if (fd === -1) return undefined;
  if (fd < 0) throw errnoError('EINVAL', `fd ${fd}`);
  return fds.getEventFd(fd);
}
