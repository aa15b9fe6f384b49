/**
 * virtio_vfio_pci's vfio_device_ops (drivers/vfio/pci/virtio/main.c, legacy_io.c; facts/kernel.md
 * 4.1, 4.3): a wrapper around vfio-pci-core's ops for one virtio-net VF that, in the "trans" flavours,
 * presents the VF as a transitional device:
 *
 * - config reads (region 7): Device ID 0x1000, Revision 0, Subsystem 0x1af4:0x0001, the Command
 *   register's I/O bit from the virtual copy the user wrote, BAR0 = (virtual BAR0 & ~31) | I/O;
 *   config writes save the bytes landing on Command and BAR0 into the virtual copies and then go to the
 *   core as usual;
 * - region 0 (BAR0): a 32-byte READ|WRITE I/O region. I/O decode off (virtual Command) → EIO; past 32
 *   → EINVAL; Queue Notify (16) must be a 2-byte access and goes straight to the VF's notify address
 *   from LEGACY_NOTIFY_INFO (OWNER_MEM entry) as one 16-bit MMIO access; anything else is exactly one
 *   legacy admin command on the PF: below VIRTIO_PCI_CONFIG_OFF(msix) (24 with the VFIO irq type
 *   MSI-X, else 20) LEGACY_COMMON_CFG_READ/WRITE at pos, else LEGACY_DEV_CFG_READ/WRITE at pos -
 *   config_off (an access crossing the boundary is not split);
 * - open_device resets the migration state to RUNNING, close_device ends migration sessions,
 *   VFIO_DEVICE_RESET runs reset_done afterwards (migration RUNNING and sessions ended, virtual Command
 *   cleared).
 *
 * Everything else is vfio-pci-core's.
 */
import { errnoError, readLe, writeLe } from '../../../base/index.js';
import { pci, vfio } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type {
  VfioDeviceInfoReply,
  VfioDeviceOps,
  VfioFdTable,
  VfioFeatureHandlers,
  VfioIrqInfoReply,
  VfioIrqSetRequest,
  VfioRegionInfoReply,
  VfioWait,
} from '../../vfio/core/index.js';
import type { MigrationFsm } from '../../vfio/migration/index.js';
import { regionOffset, type VfioPciCoreDevice } from '../vfio-pci/vfio-pci-core.js';
import {
  virtioPciAdminLegacyCommonIoRead,
  virtioPciAdminLegacyCommonIoWrite,
  virtioPciAdminLegacyDeviceIoRead,
  virtioPciAdminLegacyDeviceIoWrite,
} from '../virtio-pci/admin-api.js';

/** VIRTIO_PCI_CONFIG_OFF(true) + offsetofend(struct virtio_net_config, status) = 24 + 8. */
export const VIRTIO_VFIO_LEGACY_BAR0_BYTES = 32;
/** VIRTIO_PCI_QUEUE_NOTIFY in the legacy header. */
const LEGACY_QUEUE_NOTIFY = 16;
/** VIRTIO_PCI_CONFIG_OFF(msix). */
const configOff = (msix: boolean): number => (msix ? 24 : 20);
/** VIRTIO_TRANS_ID_NET and VIRTIO_ID_NET. */
const TRANS_DEVICE_ID = 0x1000;
const VIRTIO_ID_NET = 1;
const VIRTIO_VENDOR = 0x1af4;

export type VirtioVfioOpsName = 'virtio-vfio-pci-trans-lm' | 'virtio-vfio-pci-lm' | 'virtio-vfio-pci';

export interface VirtioVfioOptions {
  readonly k: KernelApi;
  readonly dev: Device;
  readonly core: VfioPciCoreDevice;
  readonly name: VirtioVfioOpsName;
  /** The VF's notify area (LEGACY_NOTIFY_INFO, OWNER_MEM entry) when the legacy I/O BAR is emulated. */
  readonly notify: { readonly bar: number; readonly offset: number } | undefined;
  /** The migration state machine when live migration is supported. */
  readonly fsm: MigrationFsm | undefined;
}

/** One bound VF's ops (struct virtiovf_pci_core_device). */
export class VirtioVfioPciDevice implements VfioDeviceOps {
  readonly name: VirtioVfioOpsName;
  readonly numIrqTypes: number;
  readonly core: VfioPciCoreDevice;
  readonly fsm: MigrationFsm | undefined;
  readonly #k: KernelApi;
  readonly #dev: Device;
  readonly #notify: VirtioVfioOptions['notify'];
  /** virtvdev->pci_cmd: the Command register as the user last wrote it. */
  #pciCmd = 0;
  /** virtvdev->pci_base_addr_0. */
  #bar0 = 0;
  /** The VFIO irq type is MSI-X (vdev->irq_type == VFIO_PCI_MSIX_IRQ_INDEX). */
  #msix = false;
  /** Every admin command the emulated BAR0 sent, for tests and tools. */
  readonly legacyCommands: Array<{
    op: 'common-read' | 'common-write' | 'dev-read' | 'dev-write';
    offset: number;
    size: number;
  }> = [];

  constructor(o: VirtioVfioOptions) {
    this.name = o.name;
    this.core = o.core;
    this.fsm = o.fsm;
    this.numIrqTypes = o.core.numIrqTypes;
    this.#k = o.k;
    this.#dev = o.dev;
    this.#notify = o.notify;
  }

  /** Whether BAR0 is the emulated legacy I/O BAR (the "trans" ops). */
  get transitional(): boolean {
    return this.#notify !== undefined;
  }

  get features(): VfioFeatureHandlers | undefined {
    return this.core.features;
  }

  openDevice(): VfioWait {
    const w = this.core.openDevice();
    this.#msix = false;
    this.fsm?.open();
    return w;
  }

  closeDevice(): VfioWait {
    this.fsm?.close();
    this.#msix = false;
    return this.core.closeDevice();
  }

  reset(): VfioWait {
    const w = this.core.reset();
    this.resetDone();
    return w;
  }

  /** virtiovf_pci_aer_reset_done: migration RUNNING, fds disabled, virtual Command cleared. */
  resetDone(): void {
    this.#msix = false;
    this.#pciCmd = 0;
    this.fsm?.reset();
  }

  getInfo(): VfioDeviceInfoReply {
    return this.core.getInfo();
  }

  getRegionInfo(index: number): VfioRegionInfoReply {
    if (this.transitional && index === vfio.VFIO_PCI_BAR0_REGION_INDEX) {
      return {
        index,
        flags: vfio.VFIO_REGION_INFO_FLAG_READ | vfio.VFIO_REGION_INFO_FLAG_WRITE,
        sizeBytes: BigInt(VIRTIO_VFIO_LEGACY_BAR0_BYTES),
        offset: regionOffset(index),
        caps: [],
      };
    }
    return this.core.getRegionInfo(index);
  }

  getIrqInfo(index: number): VfioIrqInfoReply {
    return this.core.getIrqInfo(index);
  }

  irqCount(index: number): number {
    return this.core.irqCount(index);
  }

  setIrqs(req: VfioIrqSetRequest, fds: VfioFdTable): void {
    this.core.setIrqs(req, fds);
    const action = req.flags & vfio.VFIO_IRQ_SET_ACTION_TYPE_MASK;
    const type = req.flags & vfio.VFIO_IRQ_SET_DATA_TYPE_MASK;
    if (req.index !== vfio.VFIO_PCI_MSIX_IRQ_INDEX || action !== vfio.VFIO_IRQ_SET_ACTION_TRIGGER) return;
    if (type === vfio.VFIO_IRQ_SET_DATA_NONE && req.count === 0) this.#msix = false;
    else if (type === vfio.VFIO_IRQ_SET_DATA_EVENTFD) this.#msix = true;
  }

  read(offset: bigint, lengthBytes: number): Uint8Array {
    const { index, pos } = split(offset);
    if (this.transitional && index === vfio.VFIO_PCI_BAR0_REGION_INDEX)
      return this.#bar0Read(pos, lengthBytes);
    const out = this.core.read(offset, lengthBytes);
    if (this.transitional && index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) this.#overlayConfig(pos, out);
    return out;
  }

  write(offset: bigint, bytes: Uint8Array): number {
    const { index, pos } = split(offset);
    if (this.transitional && index === vfio.VFIO_PCI_BAR0_REGION_INDEX) {
      this.#bar0Write(pos, bytes);
      return bytes.length;
    }
    if (this.transitional && index === vfio.VFIO_PCI_CONFIG_REGION_INDEX) {
      this.#pciCmd = saveBytes(this.#pciCmd, pci.PCI_COMMAND, 2, pos, bytes);
      this.#bar0 = saveBytes(this.#bar0, pci.PCI_BASE_ADDRESS_0, 4, pos, bytes);
    }
    return this.core.write(offset, bytes);
  }

  // ---- config space (virtiovf_pci_read_config) ----

  #overlayConfig(pos: number, out: Uint8Array): void {
    const cmdFromCore = gatherBytes(pci.PCI_COMMAND, 2, pos, out);
    const io = this.#pciCmd & pci.PCI_COMMAND_IO;
    const cmd = (cmdFromCore & ~pci.PCI_COMMAND_IO) | io;
    const bar0 = ((this.#bar0 & ~(VIRTIO_VFIO_LEGACY_BAR0_BYTES - 1)) | pci.PCI_BASE_ADDRESS_SPACE_IO) >>> 0;
    const overlay: Array<[number, number, number]> = [
      [pci.PCI_DEVICE_ID, 2, TRANS_DEVICE_ID],
      [pci.PCI_REVISION_ID, 1, 0],
      [pci.PCI_SUBSYSTEM_VENDOR_ID, 2, VIRTIO_VENDOR],
      [pci.PCI_SUBSYSTEM_VENDOR_ID + 2, 2, VIRTIO_ID_NET],
      [pci.PCI_COMMAND, 2, cmd],
      [pci.PCI_BASE_ADDRESS_0, 4, bar0],
    ];
    for (const [at, width, value] of overlay) {
      for (let i = 0; i < width; i++) {
        const j = at + i - pos;
        if (j >= 0 && j < out.length) out[j] = (value >>> (8 * i)) & 0xff;
      }
    }
  }

  // ---- the emulated I/O BAR0 (translate_io_bar_to_mem_bar) ----

  #bar0Check(pos: number, count: number): void {
    if ((this.#pciCmd & pci.PCI_COMMAND_IO) === 0)
      throw errnoError('EIO', `${this.#dev.name}: I/O decode is off`);
    if (pos < 0 || pos + count > VIRTIO_VFIO_LEGACY_BAR0_BYTES)
      throw errnoError('EINVAL', `BAR0 ${pos}+${count} past ${VIRTIO_VFIO_LEGACY_BAR0_BYTES}`);
  }

  #notifyMem() {
    const n = this.#notify!;
    return { mem: this.#k.pciIomap(this.#dev, n.bar), at: n.offset };
  }

  #bar0Read(pos: number, count: number): Uint8Array {
    this.#bar0Check(pos, count);
    if (pos === LEGACY_QUEUE_NOTIFY) {
      if (count !== 2) throw errnoError('EINVAL', `Queue Notify read of ${count} bytes`);
      const { mem, at } = this.#notifyMem();
      const out = new Uint8Array(2);
      writeLe(out, 0, 2, mem.read(at, 2));
      return out;
    }
    const off = configOff(this.#msix);
    if (pos < off) {
      this.legacyCommands.push({ op: 'common-read', offset: pos, size: count });
      return virtioPciAdminLegacyCommonIoRead(this.#k, this.#dev, pos, count).slice(0, count);
    }
    this.legacyCommands.push({ op: 'dev-read', offset: pos - off, size: count });
    return virtioPciAdminLegacyDeviceIoRead(this.#k, this.#dev, pos - off, count).slice(0, count);
  }

  #bar0Write(pos: number, bytes: Uint8Array): void {
    const count = bytes.length;
    this.#bar0Check(pos, count);
    if (pos === LEGACY_QUEUE_NOTIFY) {
      if (count !== 2) throw errnoError('EINVAL', `Queue Notify write of ${count} bytes`);
      const { mem, at } = this.#notifyMem();
      mem.write(at, 2, readLe(bytes, 0, 2));
      return;
    }
    const off = configOff(this.#msix);
    if (pos < off) {
      this.legacyCommands.push({ op: 'common-write', offset: pos, size: count });
      virtioPciAdminLegacyCommonIoWrite(this.#k, this.#dev, pos, bytes);
      return;
    }
    this.legacyCommands.push({ op: 'dev-write', offset: pos - off, size: count });
    virtioPciAdminLegacyDeviceIoWrite(this.#k, this.#dev, pos - off, bytes);
  }
}

const OFFSET_MASK = (1n << BigInt(vfio.VFIO_PCI_OFFSET_SHIFT)) - 1n;

function split(offset: bigint): { index: number; pos: number } {
  return { index: Number(offset >> BigInt(vfio.VFIO_PCI_OFFSET_SHIFT)), pos: Number(offset & OFFSET_MASK) };
}

/** Copy the bytes of a write at `pos` that land on register [at, at+width) into `cur`. */
function saveBytes(cur: number, at: number, width: number, pos: number, bytes: Uint8Array): number {
  let v = cur >>> 0;
  for (let i = 0; i < width; i++) {
    const j = at + i - pos;
    if (j < 0 || j >= bytes.length) continue;
    const mask = 0xff << (8 * i);
    v = ((v & ~mask) | (bytes[j]! << (8 * i))) >>> 0;
  }
  return v;
}

/** The register value [at, at+width) as far as `out` (read at `pos`) covers it. */
function gatherBytes(at: number, width: number, pos: number, out: Uint8Array): number {
  return saveBytes(0, at, width, pos, out);
}
