/**
 * One PCI function: its configuration space, BARs and capabilities, and the device model behind its
 * BARs. A function is reached only through the fabric (config cycles by routing ID, MMIO by address);
 * software never calls into a device model directly.
 *
 * Header rules modeled (PCI Local Bus 3.0 ch. 6; PCIe Base 7.5.1; SR-IOV 9.3.4 for VFs):
 * - Command: I/O, Memory, Bus Master, Parity, SERR#, INTx Disable are RW; a VF's I/O and Memory bits are
 *   read-only 0 (its memory decoding is the PF's VF MSE) and it has no INTx.
 * - Status: the error bits are RW1C; Capabilities List is set when a list exists.
 * - A VF's Vendor and Device ID read all-ones; its BARs are read-only 0 (the PF's SR-IOV capability
 *   holds them).
 */
import { type Bdf, LabError, type Rid } from '../base/index.js';
import { pci } from '../spec/index.js';
import { type BarLayout, barAddress, barSizeBytes, installBars, validateBarLayout } from './bar.js';
import {
  buildCapabilities,
  type Capability,
  type CapabilityMap,
  type ExtCapability,
} from './capability-builder.js';
import type { Msix } from './caps/msix.js';
import { ConfigSpace } from './config-space.js';
import type { HwContext } from './hw-context.js';
import { SriovEngine, type SriovOptions } from './sriov.js';

export interface FunctionIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revisionId: number;
  /** 24-bit class code: base class << 16 | subclass << 8 | programming interface. */
  readonly classCode: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
}

/** The silicon behind a function's BARs. Absent methods mean: reads return 0, writes are dropped. */
export interface DeviceModel {
  barRead?(bar: number, offset: number, width: 1 | 2 | 4): number;
  barWrite?(bar: number, offset: number, width: 1 | 2 | 4, value: number): void;
  /** Called after config space and MSI-X returned to their reset state. */
  reset?(kind: 'flr' | 'conventional'): void;
}

export type FunctionRole =
  | { readonly kind: 'endpoint' }
  | { readonly kind: 'bridge' }
  | { readonly kind: 'vf'; readonly pf: PciFunction; readonly index: number };

export interface PciFunctionInit {
  /** A unique name on the host (`virtio-net0`, `virtio-net0/vf3`); cost overrides are keyed by it. */
  readonly name: string;
  readonly identity: FunctionIdentity;
  readonly role: FunctionRole;
  readonly bars?: BarLayout;
  /** Standard capabilities; given the function so hooks can call back (Initiate FLR). */
  readonly capabilities?: (fn: PciFunction) => Capability[];
  readonly extCapabilities?: (fn: PciFunction) => ExtCapability[];
  readonly msix?: Msix;
  readonly sriov?: SriovOptions;
  readonly model?: DeviceModel;
  /** Interrupt Pin: 1 = INTA. VFs must report 0. */
  readonly interruptPin?: number;
  /** Multi-Function Device bit of the Header Type register. */
  readonly multiFunction?: boolean;
}

/** Where a function sits on a fabric; the SR-IOV engine uses it to attach and detach its VFs. */
export interface FunctionPlacement {
  readonly rid: Rid;
  readonly domain: number;
  attach(rid: Rid, fn: PciFunction): void;
  detach(rid: Rid): void;
}

const STATUS_RW1C =
  pci.PCI_STATUS_PARITY |
  pci.PCI_STATUS_SIG_TARGET_ABORT |
  pci.PCI_STATUS_REC_TARGET_ABORT |
  pci.PCI_STATUS_REC_MASTER_ABORT |
  pci.PCI_STATUS_SIG_SYSTEM_ERROR |
  pci.PCI_STATUS_DETECTED_PARITY;
const VF_ID_ALL_ONES = 0xffff;

export class PciFunction {
  readonly name: string;
  readonly identity: FunctionIdentity;
  readonly role: FunctionRole;
  readonly config = new ConfigSpace();
  readonly bars: BarLayout;
  readonly msix: Msix | undefined;
  readonly sriov: SriovEngine | undefined;
  readonly caps: CapabilityMap;
  readonly ctx: HwContext;
  readonly #model: DeviceModel;
  #placement: FunctionPlacement | undefined;

  constructor(ctx: HwContext, init: PciFunctionInit) {
    this.ctx = ctx;
    this.name = init.name;
    this.identity = init.identity;
    this.role = init.role;
    this.bars = init.role.kind === 'vf' ? [] : (init.bars ?? []);
    validateBarLayout(this.bars, init.name);
    this.msix = init.msix;
    this.#model = init.model ?? {};
    this.#installHeader(init);
    this.sriov = init.sriov === undefined ? undefined : new SriovEngine(this, init.sriov);
    const ext = [...(init.extCapabilities?.(this) ?? [])];
    if (this.sriov !== undefined) ext.push(this.sriov.capability());
    this.caps = buildCapabilities(this.config, init.capabilities?.(this) ?? [], ext);
    this.config.sealResetState();
  }

  get isVf(): boolean {
    return this.role.kind === 'vf';
  }

  get placement(): FunctionPlacement | undefined {
    return this.#placement;
  }

  /** The fabric calls this when the function is placed at a routing ID. */
  place(placement: FunctionPlacement): void {
    if (this.#placement !== undefined) throw new LabError('internal', `${this.name} is already placed`);
    this.#placement = placement;
  }

  unplace(): void {
    this.#placement = undefined;
  }

  get bdf(): Bdf | undefined {
    const p = this.#placement;
    return p === undefined ? undefined : { domain: p.domain, bus: p.rid >> 8, devfn: p.rid & 0xff };
  }

  capabilityOffset(id: number): number | undefined {
    return this.caps.standard.find((c) => c.id === id)?.offset;
  }

  extCapabilityOffset(id: number): number | undefined {
    return this.caps.extended.find((c) => c.id === id)?.offset;
  }

  // ---- memory decoding ----

  /** The programmed address of BAR `index` (for a VF: from the PF's VF BAR), or undefined. */
  barAddress(index: number): bigint | undefined {
    if (this.role.kind === 'vf') return this.role.pf.sriov?.vfBarAddress(this.role.index, index);
    return barAddress(this.config, pci.PCI_BASE_ADDRESS_0, this.bars, index);
  }

  barSize(index: number): bigint | undefined {
    if (this.role.kind === 'vf') return this.role.pf.sriov?.vfBarSize(index);
    const spec = this.bars[index];
    return spec === undefined ? undefined : barSizeBytes(spec);
  }

  /** Whether the function currently decodes memory: Command.MEM, or for a VF the PF's VF MSE. */
  get memoryEnabled(): boolean {
    if (this.role.kind === 'vf') return this.role.pf.sriov?.vfMemoryEnabled ?? false;
    return (this.config.get(pci.PCI_COMMAND, 2) & pci.PCI_COMMAND_MEMORY) !== 0;
  }

  /** If `address` hits one of this function's memory BARs, which BAR and at what offset. */
  decodeMemory(address: bigint): { bar: number; offset: number } | undefined {
    if (!this.memoryEnabled) return undefined;
    const count = this.role.kind === 'vf' ? pci.PCI_SRIOV_NUM_BARS : this.bars.length;
    for (let i = 0; i < count; i++) {
      // An I/O BAR decodes I/O requests only, never memory ones.
      if (this.role.kind !== 'vf' && this.bars[i]?.kind === 'io') continue;
      const base = this.barAddress(i);
      const size = this.barSize(i);
      if (base === undefined || size === undefined || base === 0n) continue;
      if (address >= base && address < base + size) return { bar: i, offset: Number(address - base) };
    }
    return undefined;
  }

  /** An MMIO read that already decoded to this function. MSI-X table and PBA are claimed first. */
  barRead(bar: number, offset: number, width: 1 | 2 | 4): number {
    if (this.msix?.claims(bar, offset, width)) return this.msix.read(bar, offset, width);
    return this.#model.barRead?.(bar, offset, width) ?? 0;
  }

  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    if (this.msix?.claims(bar, offset, width)) {
      this.msix.write(bar, offset, width, value);
      return;
    }
    this.#model.barWrite?.(bar, offset, width, value);
  }

  // ---- resets ----

  /**
   * Function Level Reset (PCIe Base 6.6.2): config space, MSI-X and the device model return to their
   * reset state. A PF's FLR also clears VF Enable, which removes its VFs. The requester waits for
   * completion (100 ms) itself: that wait is software's, charged by whoever initiated the FLR.
   */
  flr(): void {
    this.sriov?.disableForReset();
    this.config.resetToSealed();
    this.msix?.reset();
    this.#model.reset?.('flr');
    const p = this.#placement;
    if (p !== undefined) this.ctx.trace({ kind: 'flr', rid: p.rid });
  }

  #installHeader(init: PciFunctionInit): void {
    const cs = this.config;
    const vf = init.role.kind === 'vf';
    const id = init.identity;
    cs.set(pci.PCI_VENDOR_ID, 2, vf ? VF_ID_ALL_ONES : id.vendorId);
    cs.set(pci.PCI_DEVICE_ID, 2, vf ? VF_ID_ALL_ONES : id.deviceId);
    cs.set(pci.PCI_REVISION_ID, 1, id.revisionId);
    cs.set(pci.PCI_CLASS_PROG, 1, id.classCode & 0xff);
    cs.set(pci.PCI_CLASS_DEVICE, 2, (id.classCode >> 8) & 0xffff);
    const bridge = init.role.kind === 'bridge';
    const headerType =
      (bridge ? pci.PCI_HEADER_TYPE_BRIDGE : pci.PCI_HEADER_TYPE_NORMAL) |
      (init.multiFunction ? pci.PCI_HEADER_TYPE_MFD : 0);
    cs.set(pci.PCI_HEADER_TYPE, 1, headerType);
    const hasIo = this.bars.some((b) => b?.kind === 'io');
    const commandRw = vf
      ? pci.PCI_COMMAND_MASTER | pci.PCI_COMMAND_PARITY | pci.PCI_COMMAND_SERR
      : pci.PCI_COMMAND_MEMORY |
        pci.PCI_COMMAND_MASTER |
        pci.PCI_COMMAND_PARITY |
        pci.PCI_COMMAND_SERR |
        pci.PCI_COMMAND_INTX_DISABLE |
        (hasIo || bridge ? pci.PCI_COMMAND_IO : 0);
    cs.setWritable(pci.PCI_COMMAND, 2, commandRw);
    cs.setRw1c(pci.PCI_STATUS, 2, STATUS_RW1C);
    cs.setWritable(pci.PCI_CACHE_LINE_SIZE, 1, 0xff);
    cs.setWritable(pci.PCI_INTERRUPT_LINE, 1, 0xff);
    cs.set(pci.PCI_INTERRUPT_PIN, 1, vf ? 0 : (init.interruptPin ?? 0));
    if (!bridge) {
      cs.set(pci.PCI_SUBSYSTEM_VENDOR_ID, 2, id.subsystemVendorId);
      cs.set(pci.PCI_SUBSYSTEM_ID, 2, id.subsystemId);
      installBars(cs, pci.PCI_BASE_ADDRESS_0, this.bars);
    }
  }
}
