/**
 * vfio_mnic_aux's vfio_device_ops for one carved function (an SF or a SIOV function) that has no PCI
 * function of its own. Design note (facts/kernel.md 7.4: no upstream driver exists; this is the seed
 * mail's proposal made concrete): the device is presented to userspace as a vfio-pci device
 * (VFIO_DEVICE_FLAGS_PCI | RESET, the nine vfio-pci regions and five IRQ indexes), so QEMU's vfio-pci
 * front end takes it unchanged:
 *
 * - region 0 (BAR0): the function's window, READ|WRITE|MMAP, reached through the parent PCI function's
 *   BAR (`shared.pciDev`, `shared.window`) mapped with pci_iomap: every access is real MMIO to the NIC,
 *   in naturally aligned pieces of 4, 2 or 1 bytes; EIO while the emulated Command has memory decode off;
 *   bytes between the window's end and the power-of-two BAR size read 0 and drop writes.
 * - regions 1-6: size 0 (no other BARs, no ROM); region 7: the emulated config space (aux-config.ts);
 *   region 8 (VGA): EINVAL.
 * - IRQs: INTx, MSI and MSI-X count 0; ERR EINVAL (the function is not PCIe); REQ 1.
 * - open: migration RUNNING; close: migration sessions end; reset: the emulated config goes back to
 *   its power-on values and reset_done runs (migration RUNNING, fds disabled, function resumed).
 *
 * SPEC-DEVIATION: no function-level reset reaches the hardware — MnicFw has no per-function reset
 * command, so open and VFIO_DEVICE_RESET cost no FLR wait and leave the function's internal state as it
 * was (docs/vfio-aux-vs-pf-drvdata.md counts this in the cost comparison). Interrupts of carved
 * functions are not modeled (no MSI-X emulation). IOMMUFD (cdev model): a SIOV function binds its guest
 * RID (aux-driver.ts registers it as the device's DMA RID); an SF has no RID of its own (its DMA carries
 * the parent PF's), so BIND_IOMMUFD is EINVAL for it — a real design would need PASID tagging.
 */
import { errnoError, readLe, writeLe } from '../../../base/index.js';
import { vfio } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { IoMem } from '../../kernel-api.js';
import type {
  EventFd,
  VfioDeviceInfoReply,
  VfioDeviceOps,
  VfioFdTable,
  VfioFeatureHandler,
  VfioIrqInfoReply,
  VfioIrqSetRequest,
  VfioRegionInfoReply,
  VfioWait,
} from '../../vfio/core/index.js';
import type { MnicAuxShared } from '../mnic/index.js';
import { regionOffset } from '../vfio-pci/index.js';
import { barSizeFor, MnicAuxConfig, type MnicAuxIdentity } from './aux-config.js';
import type { MnicMigration } from './common.js';

export const VFIO_MNIC_AUX_OPS_NAME = 'vfio-mnic-aux';
const NO_WAIT: VfioWait = { waitNs: 0 };
const REGION_POS_MASK = (1n << BigInt(vfio.VFIO_PCI_OFFSET_SHIFT)) - 1n;

export interface MnicAuxDeviceOptions {
  readonly dev: Device;
  readonly shared: MnicAuxShared;
  /** The function's window, mapped (pci_iomap of the parent's BAR range). */
  readonly window: IoMem;
  readonly identity: MnicAuxIdentity;
  readonly migration: MnicMigration | undefined;
}

export class VfioMnicAuxDevice implements VfioDeviceOps {
  readonly name = VFIO_MNIC_AUX_OPS_NAME;
  readonly numIrqTypes = vfio.VFIO_PCI_NUM_IRQS;
  readonly dev: Device;
  readonly shared: MnicAuxShared;
  readonly migration: MnicMigration | undefined;
  readonly features: Map<number, VfioFeatureHandler> = new Map();
  readonly #window: IoMem;
  readonly #identity: MnicAuxIdentity;
  readonly #barSizeBytes: number;
  #config: MnicAuxConfig;
  #reqTrigger: EventFd | undefined;

  constructor(o: MnicAuxDeviceOptions) {
    this.dev = o.dev;
    this.shared = o.shared;
    this.migration = o.migration;
    this.#window = o.window;
    this.#identity = o.identity;
    this.#barSizeBytes = barSizeFor(o.window.sizeBytes);
    this.#config = new MnicAuxConfig(o.identity, o.window.sizeBytes);
  }

  get config(): MnicAuxConfig {
    return this.#config;
  }

  openDevice(): VfioWait {
    this.#config = new MnicAuxConfig(this.#identity, this.#window.sizeBytes);
    this.migration?.fsm.open();
    return NO_WAIT;
  }

  closeDevice(): VfioWait {
    this.migration?.fsm.close();
    this.#reqTrigger = undefined;
    return NO_WAIT;
  }

  reset(): VfioWait {
    this.#config = new MnicAuxConfig(this.#identity, this.#window.sizeBytes);
    if (this.migration !== undefined) {
      this.migration.fsm.reset();
      this.migration.driver.resetDone();
    }
    return NO_WAIT;
  }

  getInfo(): VfioDeviceInfoReply {
    return {
      flags: vfio.VFIO_DEVICE_FLAGS_PCI | vfio.VFIO_DEVICE_FLAGS_RESET,
      numRegions: vfio.VFIO_PCI_NUM_REGIONS,
      numIrqs: vfio.VFIO_PCI_NUM_IRQS,
    };
  }

  getRegionInfo(index: number): VfioRegionInfoReply {
    const offset = regionOffset(index);
    const rw = vfio.VFIO_REGION_INFO_FLAG_READ | vfio.VFIO_REGION_INFO_FLAG_WRITE;
    if (index === vfio.VFIO_PCI_BAR0_REGION_INDEX) {
      const flags = rw | vfio.VFIO_REGION_INFO_FLAG_MMAP;
      return { index, flags, sizeBytes: BigInt(this.#barSizeBytes), offset, caps: [] };
    }
    if (index > vfio.VFIO_PCI_BAR0_REGION_INDEX && index <= vfio.VFIO_PCI_ROM_REGION_INDEX) {
      return { index, flags: 0, sizeBytes: 0n, offset, caps: [] };
    }
    if (index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) {
      return { index, flags: rw, sizeBytes: BigInt(this.#config.sizeBytes), offset, caps: [] };
    }
    throw errnoError('EINVAL', `region ${index}`);
  }

  getIrqInfo(index: number): VfioIrqInfoReply {
    switch (index) {
      case vfio.VFIO_PCI_INTX_IRQ_INDEX: {
        const flags =
          vfio.VFIO_IRQ_INFO_EVENTFD | vfio.VFIO_IRQ_INFO_MASKABLE | vfio.VFIO_IRQ_INFO_AUTOMASKED;
        return { index, flags, count: 0 };
      }
      case vfio.VFIO_PCI_MSI_IRQ_INDEX:
      case vfio.VFIO_PCI_MSIX_IRQ_INDEX:
      case vfio.VFIO_PCI_REQ_IRQ_INDEX:
        return {
          index,
          flags: vfio.VFIO_IRQ_INFO_EVENTFD | vfio.VFIO_IRQ_INFO_NORESIZE,
          count: this.irqCount(index),
        };
      default:
        throw errnoError('EINVAL', `irq index ${index}`);
    }
  }

  irqCount(index: number): number {
    return index === vfio.VFIO_PCI_REQ_IRQ_INDEX ? 1 : 0;
  }

  setIrqs(req: VfioIrqSetRequest, fds: VfioFdTable): void {
    const action = req.flags & vfio.VFIO_IRQ_SET_ACTION_TYPE_MASK;
    const type = req.flags & vfio.VFIO_IRQ_SET_DATA_TYPE_MASK;
    if (action !== vfio.VFIO_IRQ_SET_ACTION_TRIGGER)
      throw errnoError('ENOTTY', `irq action 0x${action.toString(16)}`);
    if (req.index !== vfio.VFIO_PCI_REQ_IRQ_INDEX) {
      // Zero interrupts: only "disable all" (DATA_NONE, count 0) gets past the core's validation.
      if (
        req.index <= vfio.VFIO_PCI_MSIX_IRQ_INDEX &&
        type === vfio.VFIO_IRQ_SET_DATA_NONE &&
        req.count === 0
      )
        return;
      throw errnoError('ENOTTY', `irq index ${req.index}`);
    }
    if (type === vfio.VFIO_IRQ_SET_DATA_NONE) {
      if (req.count === 0) this.#reqTrigger = undefined;
      else this.#reqTrigger?.signal();
      return;
    }
    if (type === vfio.VFIO_IRQ_SET_DATA_BOOL) {
      if (req.count > 0 && req.data[0] !== 0) this.#reqTrigger?.signal();
      return;
    }
    if (req.count === 0) throw errnoError('EINVAL', 'count 0');
    const fd = readLe(req.data, 0, 4) | 0;
    this.#reqTrigger = fd === -1 ? undefined : fds.getEventFd(fd);
  }

  /** Ask the user to release the device (the REQ interrupt); whether anyone listened. */
  request(): boolean {
    this.#reqTrigger?.signal();
    return this.#reqTrigger !== undefined;
  }

  read(offset: bigint, lengthBytes: number): Uint8Array {
    const { index, pos } = split(offset);
    if (index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) return this.#config.read(pos, lengthBytes);
    if (index === vfio.VFIO_PCI_BAR0_REGION_INDEX) {
      const out = new Uint8Array(lengthBytes);
      this.#barRw(pos, lengthBytes, (at, w, i) => writeLe(out, i, w, this.#window.read(at, w)));
      return out;
    }
    throw errnoError('EINVAL', `region ${index} is not readable`);
  }

  write(offset: bigint, bytes: Uint8Array): number {
    const { index, pos } = split(offset);
    if (index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) {
      this.#config.write(pos, bytes);
      return bytes.length;
    }
    if (index === vfio.VFIO_PCI_BAR0_REGION_INDEX) {
      this.#barRw(pos, bytes.length, (at, w, i) => this.#window.write(at, w, readLe(bytes, i, w)));
      return bytes.length;
    }
    throw errnoError('EINVAL', `region ${index} is not writable`);
  }

  /** Naturally aligned pieces of 4, 2, 1 bytes; the part past the window is zeros / dropped. */
  #barRw(pos: number, lengthBytes: number, each: (at: number, width: 1 | 2 | 4, i: number) => void): void {
    if (!Number.isInteger(pos) || pos < 0 || lengthBytes < 0 || pos + lengthBytes > this.#barSizeBytes)
      throw errnoError('EINVAL', `BAR0 ${pos}+${lengthBytes}`);
    if (!this.#config.memoryEnabled) throw errnoError('EIO', `${this.dev.name}: memory decode is off`);
    for (let i = 0; i < lengthBytes; ) {
      const at = pos + i;
      const left = lengthBytes - i;
      const width: 1 | 2 | 4 = left >= 4 && at % 4 === 0 ? 4 : left >= 2 && at % 2 === 0 ? 2 : 1;
      if (at + width <= this.#window.sizeBytes) each(at, width, i);
      i += width;
    }
  }
}

function split(offset: bigint): { index: number; pos: number } {
  const index = Number(offset >> BigInt(vfio.VFIO_PCI_OFFSET_SHIFT));
  if (index >= vfio.VFIO_PCI_NUM_REGIONS) throw errnoError('EINVAL', `region ${index}`);
  return { index, pos: Number(offset & REGION_POS_MASK) };
}
