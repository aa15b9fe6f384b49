/**
 * Support for the end-to-end virtio tests: a real lab host (fabric, virtio-net PFs and VFs, IOMMU,
 * MSI controller, kernel with virtio-pci bound to the PFs), and the three things a hypervisor would put
 * between that host and the guest virtio-net driver:
 *
 * - `FabricVfAccess`: a GuestPciAccess over the host fabric for a VF's real config space and BARs,
 *   with a shadow of what a hypervisor keeps (Command register, MSI-X control and table) so that the
 *   guest can be moved to another VF (`retarget`) as VFIO/QEMU restore config space and the MSI-X
 *   table after a migration (facts/virtio.md 4.7).
 * - `AdminLegacyAccess`: a GuestPciAccess whose BAR0 is the legacy virtio header (facts 1.11) reached
 *   only through the PF's admin commands (the kernel's virtio_pci_admin_legacy_* API on the VF's
 *   driver-core Device), with queue notifications written to the address LEGACY_NOTIFY_INFO returns,
 *   as Linux's vfio virtio legacy_io.c does (facts 5.2). Every access is recorded.
 * - `GuestMemory`: guest memory over host RAM at bus addresses (the identity IOMMU domain makes the
 *   bus address the host physical address) in a window the kernel's DMA pool does not use, and MSI
 *   messages from the host's MSI controller whose deliveries queue up for the guest driver.
 *
 * Register offsets are written out from the facts tables here, not taken from src/.
 */
import { type Bdf, DEFAULT_COSTS, type Rid } from '../../src/base/index.js';
import {
  type Hpa,
  type MsiController,
  type MsiMessage,
  type SparseMemory,
  type VirtioNetPf,
  virtioNetPfOf,
} from '../../src/hw/index.js';
import {
  type Device,
  DMA_POOL_BASE,
  DMA_POOL_SIZE_BYTES,
  virtioPciAdminLegacyCommonIoRead,
  virtioPciAdminLegacyCommonIoWrite,
  virtioPciAdminLegacyDeviceIoRead,
  virtioPciAdminLegacyDeviceIoWrite,
  virtioPciAdminLegacyIoNotifyInfo,
} from '../../src/kernel/index.js';
import { type Host, Lab } from '../../src/lab/index.js';
import {
  type GuestDmaMemory,
  type GuestPciAccess,
  type MsixMessages,
  RegionAllocator,
  type VirtioNetEvents,
  VirtioNetGuestDriver,
} from '../../src/vmm/guest/index.js';

export { DEFAULT_COSTS };

/** The two virtio-net PFs of `twoPfHost`, each behind its own root port. */
export const PF1 = '0000:01:00.0';
export const PF2 = '0000:03:00.0';

// PCI config offsets (PCI 3.0 6.1, 6.7, 6.8.2).
export const PCI_COMMAND = 0x04;
const PCI_CAPABILITY_LIST = 0x34;
const PCI_CAP_ID_MSIX = 0x11;
const MSIX_FLAGS = 2;
const MSIX_TABLE = 4;
const MSIX_ENTRY_BYTES = 16;

// Legacy virtio header (facts 1.11).
export const LEGACY = {
  HOST_FEATURES: 0,
  GUEST_FEATURES: 4,
  QUEUE_PFN: 8,
  QUEUE_NUM: 12,
  QUEUE_SEL: 14,
  QUEUE_NOTIFY: 16,
  STATUS: 18,
  ISR: 19,
  CONFIG_VECTOR: 20,
  QUEUE_VECTOR: 22,
} as const;
/** VIRTIO_PCI_CONFIG_OFF(msix): device config starts at 24 with MSI-X enabled, else 20. */
export const legacyConfigOff = (msix: boolean): number => (msix ? 24 : 20);
/** Linux's vfio virtual BAR0 for a net VF: 24 + offsetofend(virtio_net_config, status) = 32 bytes. */
export const LEGACY_BAR0_BYTES = 32;
/** LEGACY_NOTIFY_INFO flags value 2: a member (VF) BAR (facts 3.9; Linux's "OWNER_MEM"). */
export const NOTIFY_INFO_MEMBER_BAR = 2;

/** Modern BAR4 layout of this device (QEMU's, facts 1.4): common cfg is the first 64 bytes. */
export const COMMON_CFG_BYTES = 64;
export const NOTIFY_REGION_OFF = 0x3000;

/** Device status bits (facts 1.9). */
export const S = {
  ACK: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  NEEDS_RESET: 0x40,
  FAILED: 0x80,
} as const;

/** Where guest memory lives in host RAM: from 8 GiB up, clear of the kernel's DMA pool. */
export const GUEST_RAM_BASE = 0x2_0000_0000n;
export const GUEST_WINDOW_BYTES = 0x100_0000n; // 16 MiB per guest
const PAGE_BYTES = 4096;
if (GUEST_RAM_BASE < DMA_POOL_BASE + BigInt(DMA_POOL_SIZE_BYTES)) {
  throw new Error('guest RAM window overlaps the kernel DMA pool');
}

/** A host with two virtio-net PFs on two root ports, virtio-pci bound to both, `numVfs` VFs each, unbound. */
export function twoPfHost(numVfs = 4): Host {
  const host = Lab.fromTopology(
    {
      hosts: [
        {
          name: 'itest',
          rootPorts: [
            {
              name: 'rp-v1',
              address: '00:01.0',
              secondaryBus: 0x01,
              subordinateBus: 0x02,
              devices: [{ kind: 'virtio-net', name: 'vnet1', address: '01:00.0', totalVfs: 8 }],
            },
            {
              name: 'rp-v2',
              address: '00:02.0',
              secondaryBus: 0x03,
              subordinateBus: 0x04,
              devices: [{ kind: 'virtio-net', name: 'vnet2', address: '03:00.0', totalVfs: 8 }],
            },
          ],
        },
      ],
    },
    'integration test',
  ).host();
  for (const pf of [PF1, PF2]) {
    host.kernel.sysfs.write(`/sys/bus/pci/devices/${pf}/sriov_drivers_autoprobe`, '0\n');
    host.kernel.sysfs.write(`/sys/bus/pci/devices/${pf}/sriov_numvfs`, `${numVfs}\n`);
    host.kernel.settle();
  }
  return host;
}

/** The PF model of a PF BDF name. */
export function pfModel(host: Host, pfName: string): VirtioNetPf {
  const dev = host.kernel.findPciDevice(pfName);
  if (dev === undefined) throw new Error(`no ${pfName}`);
  const hd = host.devices.find((d) => d.fn.bdf !== undefined && sameBdf(d.bdf, host.kernel.pdev(dev).bdf));
  const model = hd === undefined ? undefined : virtioNetPfOf(hd.fn);
  if (model === undefined) throw new Error(`${pfName} is not a virtio-net PF`);
  return model;
}

const sameBdf = (a: Bdf, b: Bdf): boolean => a.bus === b.bus && a.devfn === b.devfn;

/** One VF as the hypervisor knows it: driver-core Device, RID, BAR addresses, VF number. */
export interface VfTarget {
  readonly name: string;
  readonly dev: Device;
  readonly rid: Rid;
  /** Start address of each BAR (0n where the BAR is absent). */
  readonly bars: readonly bigint[];
  /** 1-based VF number = admin group member id. */
  readonly vfNumber: number;
}

/** VF `vfNumber` (1-based) of PF `pfName`, found through the kernel's PCI core. */
export function vfTarget(host: Host, pfName: string, vfNumber: number): VfTarget {
  const pf = host.kernel.findPciDevice(pfName);
  if (pf === undefined) throw new Error(`no ${pfName}`);
  const pfDev = host.kernel.pdev(pf);
  const vf = host.pci.devices.find((d) => d.physfn === pfDev && d.vfIndex === vfNumber - 1);
  if (vf === undefined) throw new Error(`${pfName} has no VF ${vfNumber}`);
  const dev = host.kernel.findPciDevice(vf.name);
  if (dev === undefined) throw new Error(`no device ${vf.name}`);
  return {
    name: vf.name,
    dev,
    rid: vf.rid,
    bars: Array.from({ length: 6 }, (_, i) => {
      const r = vf.resources[i];
      return r !== undefined && r.flags !== 0 ? r.start : 0n;
    }),
    vfNumber,
  };
}

/** Config-space offset of a function's MSI-X capability, by a capability walk through the fabric. */
function msixCapOf(host: Host, rid: Rid): number {
  let at = host.fabric.configRead(rid, PCI_CAPABILITY_LIST, 1) & 0xfc;
  for (let i = 0; i < 48 && at !== 0; i++) {
    if (host.fabric.configRead(rid, at, 1) === PCI_CAP_ID_MSIX) return at;
    at = host.fabric.configRead(rid, at + 1, 1) & 0xfc;
  }
  throw new Error(`no MSI-X capability at RID ${rid}`);
}

/** One recorded guest access. */
export interface AccessRecord {
  readonly kind: 'config-read' | 'config-write' | 'bar-read' | 'bar-write';
  readonly bar?: number;
  readonly offset: number;
  readonly width: number;
  readonly value: number;
}

/**
 * The guest's view of a VF through the host fabric: config cycles to the VF's RID and BAR accesses
 * as MMIO to its assigned addresses. Keeps a hypervisor's shadow of the Command register and of the
 * MSI-X capability and table, to restore on another VF (`retarget`).
 */
export class FabricVfAccess implements GuestPciAccess {
  readonly host: Host;
  #vf: VfTarget;
  #msixCap: number;
  #msixTableBar = 0;
  #msixTableOffset = 0;
  readonly records: AccessRecord[] = [];
  #command: number | undefined;
  #msixFlags: number | undefined;
  /** MSI-X table dwords the guest wrote, by byte offset into the table. */
  readonly #msixTable = new Map<number, number>();

  constructor(host: Host, vf: VfTarget) {
    this.host = host;
    this.#vf = vf;
    this.#msixCap = msixCapOf(host, vf.rid);
    this.#readTableLocation();
  }

  get vf(): VfTarget {
    return this.#vf;
  }

  /** Whether the guest has MSI-X enabled (from the shadow, as the host kernel's msix_enabled would say). */
  get msixEnabled(): boolean {
    return ((this.#msixFlags ?? 0) & 0x8000) !== 0;
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    const value = this.host.fabric.configRead(this.#vf.rid, offset, width);
    this.records.push({ kind: 'config-read', offset, width, value });
    return value;
  }

  configWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    this.records.push({ kind: 'config-write', offset, width, value });
    if (offset === PCI_COMMAND && width === 2) this.#command = value;
    if (offset === this.#msixCap + MSIX_FLAGS && width === 2) this.#msixFlags = value;
    this.host.fabric.configWrite(this.#vf.rid, offset, width, value);
  }

  barRead(bar: number, offset: number, width: 1 | 2 | 4): number {
    const value = this.host.fabric.mmioRead(this.#barAddress(bar) + BigInt(offset), width);
    this.records.push({ kind: 'bar-read', bar, offset, width, value });
    return value;
  }

  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    this.records.push({ kind: 'bar-write', bar, offset, width, value });
    if (bar === this.#msixTableBar && offset >= this.#msixTableOffset && width === 4) {
      this.#msixTable.set(offset - this.#msixTableOffset, value >>> 0);
    }
    this.host.fabric.mmioWrite(this.#barAddress(bar) + BigInt(offset), width, value);
  }

  /**
   * The hypervisor moved the guest to `vf` (same guest memory): restore the Command register, the
   * MSI-X table and the MSI-X control as the guest left them (facts 4.7: not device parts).
   */
  retarget(vf: VfTarget): void {
    this.#vf = vf;
    this.#msixCap = msixCapOf(this.host, vf.rid);
    this.#readTableLocation();
    const f = this.host.fabric;
    if (this.#command !== undefined) f.configWrite(vf.rid, PCI_COMMAND, 2, this.#command);
    if (this.#msixFlags !== undefined) {
      // Function-masked while the table is written, as the guest's own enable did.
      f.configWrite(vf.rid, this.#msixCap + MSIX_FLAGS, 2, this.#msixFlags | 0x4000);
      const table = this.#barAddress(this.#msixTableBar) + BigInt(this.#msixTableOffset);
      for (const [off, v] of [...this.#msixTable].sort((a, b) => a[0] - b[0])) {
        f.mmioWrite(table + BigInt(off), 4, v);
      }
      f.configWrite(vf.rid, this.#msixCap + MSIX_FLAGS, 2, this.#msixFlags);
    }
  }

  /** MSI-X table entries the shadow holds. */
  get msixEntries(): number {
    return Math.ceil(this.#msixTable.size / (MSIX_ENTRY_BYTES / 4));
  }

  #readTableLocation(): void {
    const t = this.host.fabric.configRead(this.#vf.rid, this.#msixCap + MSIX_TABLE, 4) >>> 0;
    this.#msixTableBar = t & 7;
    this.#msixTableOffset = t & ~7;
  }

  #barAddress(bar: number): bigint {
    const a = this.#vf.bars[bar] ?? 0n;
    if (a === 0n) throw new Error(`${this.#vf.name}: BAR${bar} is not assigned`);
    return a;
  }
}

/** One admin API call the legacy access made. */
export interface AdminCall {
  readonly fn: 'common-read' | 'common-write' | 'device-read' | 'device-write' | 'notify-info';
  readonly offset: number;
  readonly size: number;
}

/**
 * A guest's view of a VF with an emulated legacy I/O BAR0 (facts 1.11, 5.2): BAR0 accesses below
 * VIRTIO_PCI_CONFIG_OFF(msix) become LEGACY_COMMON_CFG_READ/WRITE at that offset; accesses at or above
 * it become LEGACY_DEV_CFG_READ/WRITE at offset - CONFIG_OFF; a 2-byte write of Queue Notify is a
 * 16-bit MMIO write of the queue index to the VF BAR + offset LEGACY_NOTIFY_INFO returned. Config
 * space and the other BARs (the MSI-X table) pass through to the VF.
 */
export class AdminLegacyAccess implements GuestPciAccess {
  readonly host: Host;
  readonly inner: FabricVfAccess;
  readonly adminCalls: AdminCall[] = [];
  readonly notifyWrites: Array<{ address: bigint; value: number }> = [];
  readonly notifyAddress: bigint;

  constructor(host: Host, vf: VfTarget) {
    this.host = host;
    this.inner = new FabricVfAccess(host, vf);
    const info = virtioPciAdminLegacyIoNotifyInfo(host.kernel, vf.dev, NOTIFY_INFO_MEMBER_BAR);
    this.adminCalls.push({ fn: 'notify-info', offset: 0, size: 64 });
    const base = vf.bars[info.bar] ?? 0n;
    if (base === 0n) throw new Error(`${vf.name}: notify BAR${info.bar} is not assigned`);
    this.notifyAddress = base + info.offset;
  }

  get vf(): VfTarget {
    return this.inner.vf;
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    return this.inner.configRead(offset, width);
  }

  configWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    this.inner.configWrite(offset, width, value);
  }

  barRead(bar: number, offset: number, width: 1 | 2 | 4): number {
    if (bar !== 0) return this.inner.barRead(bar, offset, width);
    this.#check(offset, width);
    const k = this.host.kernel;
    const dev = this.vf.dev;
    const cfg = legacyConfigOff(this.inner.msixEnabled);
    let bytes: Uint8Array;
    if (offset < cfg) {
      if (offset === LEGACY.QUEUE_NOTIFY) return 0;
      this.adminCalls.push({ fn: 'common-read', offset, size: width });
      bytes = virtioPciAdminLegacyCommonIoRead(k, dev, offset, width);
    } else {
      this.adminCalls.push({ fn: 'device-read', offset: offset - cfg, size: width });
      bytes = virtioPciAdminLegacyDeviceIoRead(k, dev, offset - cfg, width);
    }
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + (bytes[i] ?? 0);
    return v;
  }

  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    if (bar !== 0) {
      this.inner.barWrite(bar, offset, width, value);
      return;
    }
    this.#check(offset, width);
    const k = this.host.kernel;
    const dev = this.vf.dev;
    if (offset === LEGACY.QUEUE_NOTIFY) {
      // legacy_io.c: Queue Notify must be a 2-byte access and goes straight to the notify address.
      if (width !== 2) throw new Error(`Queue Notify write of ${width} bytes`);
      this.notifyWrites.push({ address: this.notifyAddress, value });
      this.host.fabric.mmioWrite(this.notifyAddress, 2, value);
      return;
    }
    const bytes = new Uint8Array(width);
    for (let i = 0; i < width; i++) bytes[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
    const cfg = legacyConfigOff(this.inner.msixEnabled);
    if (offset < cfg) {
      this.adminCalls.push({ fn: 'common-write', offset, size: width });
      virtioPciAdminLegacyCommonIoWrite(k, dev, offset, bytes);
    } else {
      this.adminCalls.push({ fn: 'device-write', offset: offset - cfg, size: width });
      virtioPciAdminLegacyDeviceIoWrite(k, dev, offset - cfg, bytes);
    }
  }

  #check(offset: number, width: number): void {
    if (offset < 0 || offset + width > LEGACY_BAR0_BYTES) {
      throw new Error(`legacy BAR0 access ${offset}+${width} is outside the ${LEGACY_BAR0_BYTES}-byte BAR`);
    }
  }
}

/** Guest memory at bus addresses over host RAM. */
export function guestMemory(memory: SparseMemory<Hpa>): GuestDmaMemory {
  return {
    read: (a, n) => memory.read(a as Hpa, n),
    write: (a, bytes) => memory.write(a as Hpa, bytes),
    readU16: (a) => memory.readU16(a as Hpa),
    writeU16: (a, v) => memory.writeU16(a as Hpa, v),
  };
}

/** MSI messages for `count` vectors and the deliveries they produce, waiting for the guest. */
export class GuestInterrupts {
  readonly messages: MsixMessages;
  readonly pending: number[] = [];
  /** Every delivery: vector and the requester ID that wrote the message. */
  readonly log: Array<{ vector: number; rid: Rid }> = [];
  readonly #allocated: MsiMessage[] = [];

  constructor(msi: MsiController, count: number) {
    for (let v = 0; v < count; v++) {
      const m = msi.allocate((d) => {
        this.pending.push(v);
        this.log.push({ vector: v, rid: d.rid });
      });
      this.#allocated.push(m);
    }
    const first = this.#allocated[0]!;
    const consecutive = this.#allocated.every(
      (m, i) => m.address === first.address && m.data === first.data + i,
    );
    if (!consecutive) throw new Error('MSI controller did not hand out consecutive vectors');
    this.messages = { messageAddr: first.address, messageDataBase: first.data };
  }
}

/** A guest: one virtio-net driver, its memory window, and interrupt delivery from the host MSI controller. */
export class Guest {
  readonly host: Host;
  readonly driver = new VirtioNetGuestDriver();
  readonly memory: GuestDmaMemory;
  readonly allocator: RegionAllocator;
  readonly irqs: GuestInterrupts;
  readonly base: bigint;
  /** Everything the driver reported, in order. */
  readonly received: Uint8Array[] = [];
  readonly txCompleted: number[] = [];
  readonly allocations: Array<{ addr: bigint; size: number; align: number }> = [];

  constructor(host: Host, slot: number) {
    this.host = host;
    this.base = GUEST_RAM_BASE + BigInt(slot) * GUEST_WINDOW_BYTES;
    this.memory = guestMemory(host.memory);
    const inner = new RegionAllocator(this.base, GUEST_WINDOW_BYTES);
    this.allocator = inner;
    // Every region page-aligned, as the guest kernel's dma_alloc_coherent hands them out, and
    // recorded (the IOMMU test maps only the rings, so no ring may share a page with a buffer).
    const alloc = inner.alloc.bind(inner);
    inner.alloc = (size: number, align: number) => {
      const addr = alloc(size, Math.max(align, PAGE_BYTES));
      this.allocations.push({ addr, size, align });
      return addr;
    };
    const msi = host.fabric.ctx.msi;
    if (msi === undefined) throw new Error('host has no MSI controller');
    this.irqs = new GuestInterrupts(msi, 4);
  }

  /** Driver init; without `msix` the driver uses INTx and the test polls (`poll`). */
  init(mode: 'modern' | 'legacy', access: GuestPciAccess, options: { msix?: boolean } = {}): void {
    this.driver.init({
      mode,
      access,
      memory: this.memory,
      allocator: this.allocator,
      ...(options.msix === false ? {} : { msix: this.irqs.messages }),
      maxQueueSize: 64,
    });
  }

  /** Poll as a driver without interrupts does (reads and clears the ISR first on INTx). */
  poll(): VirtioNetEvents {
    const ev = this.driver.poll();
    for (const r of ev.received) this.received.push(r.frame);
    this.txCompleted.push(...ev.txCompleted);
    return ev;
  }

  /** Deliver the interrupts that arrived, in order, as the guest's interrupt entry would. */
  service(): VirtioNetEvents[] {
    const out: VirtioNetEvents[] = [];
    while (this.irqs.pending.length > 0) {
      const v = this.irqs.pending.shift()!;
      const ev = this.driver.handleInterrupt(v);
      for (const r of ev.received) this.received.push(r.frame);
      this.txCompleted.push(...ev.txCompleted);
      out.push(ev);
    }
    return out;
  }
}

/** An Ethernet frame: dst, src, ethertype 0x88b5 (local experimental), then a payload tagged `tag`. */
export function frame(dst: Uint8Array, src: Uint8Array, tag: number, length = 64): Uint8Array {
  const f = new Uint8Array(length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = (tag >> 8) & 0xff;
  f[15] = tag & 0xff;
  for (let i = 16; i < length; i++) f[i] = (tag + i) & 0xff;
  return f;
}

/** The tag `frame` put in a frame. */
export const tagOf = (f: Uint8Array): number => (f[14]! << 8) | f[15]!;

export const macText = (b: Uint8Array): string =>
  [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
export const EXTERNAL_HOST = Uint8Array.of(0x0e, 0, 0, 0, 0, 0x01);
