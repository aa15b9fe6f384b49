/**
 * The SR-IOV engine of a PF (PCIe Base ch. 9; layout in facts/kernel.md 5.1): the SR-IOV extended
 * capability and what hardware does when software writes it.
 *
 * - NumVFs is RW while VF Enable is clear and read-only while it is set.
 * - First VF Offset and VF Stride are recomputed by the device whenever NumVFs or ARI Capable
 *   Hierarchy changes (the device may make them depend on both; Linux re-reads them for that reason).
 * - Setting VF Enable creates NumVFs VFs at PF RID + offset + stride × i. They answer configuration
 *   requests only after the device's enable time (the 100 ms software must wait; until then the model
 *   answers as a function that is not yet there). Clearing VF Enable removes them.
 * - VF MSE gates memory decoding of every VF; VF n's BAR i is VF BAR i + n × (size of VF BAR i).
 *
 * SPEC-DEVIATION: before a VF is ready real hardware answers Configuration Request Retry Status; the
 * model answers all-ones (as for an absent function) and traces a `crs` event.
 */
import { LabError, type Rid } from '../base/index.js';
import { pci } from '../spec/index.js';
import { type BarLayout, barAddress, barSizeBytes, installBars, validateBarLayout } from './bar.js';
import type { ExtCapability } from './capability-builder.js';
import type { PciFunction } from './pci-function.js';

export interface VfRouting {
  readonly firstVfOffset: number;
  readonly vfStride: number;
}

export interface SriovOptions {
  readonly totalVfs: number;
  /** Defaults to TotalVFs (a PF that is not VF-migration-capable must have InitialVFs = TotalVFs). */
  readonly initialVfs?: number;
  readonly vfDeviceId: number;
  /** Per-VF BAR templates (VF BAR0..5). */
  readonly vfBars: BarLayout;
  /** Supported Page Sizes bitmap (bit n = 4 KiB << n). Default 0x553 (4K, 8K, 64K, 256K, 1M, 4M). */
  readonly supportedPageSizes?: number;
  /** How this device lays out its VFs for a given NumVFs and ARI Capable Hierarchy setting. */
  readonly routing: (numVfs: number, ariCapableHierarchy: boolean) => VfRouting;
  /** Builds VF `index` (0-based) of `pf`; called when VF Enable is set. */
  readonly createVf: (pf: PciFunction, index: number) => PciFunction;
}

const DEFAULT_SUPPORTED_PAGE_SIZES = 0x553;
const PAGE_SIZE_4K = 0x1;

/**
 * The common layout. With ARI the VFs follow the PF as function numbers 1, 2, …. Without ARI only
 * Device 0 is reachable on a root port's link, so the VFs start on the next bus number (which the
 * device captures from type 1 requests), as non-ARI SR-IOV parts do.
 */
export function defaultVfRouting(numVfs: number, ari: boolean): VfRouting {
  void numVfs;
  return ari ? { firstVfOffset: 1, vfStride: 1 } : { firstVfOffset: 0x100, vfStride: 1 };
}

export class SriovEngine {
  readonly pf: PciFunction;
  readonly options: SriovOptions;
  #capOffset = -1;
  #vfs: PciFunction[] = [];
  #readyAtNs = 0;
  /** VF Enable as the device last acted on it (the register may be rewritten with the same value). */
  #active = false;

  constructor(pf: PciFunction, options: SriovOptions) {
    const initial = options.initialVfs ?? options.totalVfs;
    if (!Number.isInteger(options.totalVfs) || options.totalVfs < 1 || options.totalVfs > 0xffff) {
      throw new LabError('bad-input', `${pf.name}: TotalVFs ${options.totalVfs} out of range 1..65535`);
    }
    if (!Number.isInteger(initial) || initial < 0 || initial > options.totalVfs) {
      throw new LabError(
        'bad-input',
        `${pf.name}: InitialVFs ${initial} out of range 0..${options.totalVfs}`,
      );
    }
    validateBarLayout(options.vfBars, `${pf.name} VF BARs`);
    this.pf = pf;
    this.options = options;
  }

  capability(): ExtCapability {
    return {
      id: pci.PCI_EXT_CAP_ID_SRIOV,
      version: 1,
      sizeBytes: pci.PCI_EXT_CAP_SRIOV_SIZEOF,
      init: (cs, at) => {
        this.#capOffset = at;
        const o = this.options;
        cs.set(at + pci.PCI_SRIOV_INITIAL_VF, 2, o.initialVfs ?? o.totalVfs);
        cs.set(at + pci.PCI_SRIOV_TOTAL_VF, 2, o.totalVfs);
        cs.setWritable(at + pci.PCI_SRIOV_NUM_VF, 2, 0xffff);
        cs.set(at + pci.PCI_SRIOV_FUNC_LINK, 1, 0); // fixed up when placed; see functionDependencyLink
        cs.set(at + pci.PCI_SRIOV_VF_DID, 2, o.vfDeviceId);
        cs.set(at + pci.PCI_SRIOV_SUP_PGSIZE, 4, o.supportedPageSizes ?? DEFAULT_SUPPORTED_PAGE_SIZES);
        cs.set(at + pci.PCI_SRIOV_SYS_PGSIZE, 4, PAGE_SIZE_4K);
        cs.setWritable(
          at + pci.PCI_SRIOV_SYS_PGSIZE,
          4,
          o.supportedPageSizes ?? DEFAULT_SUPPORTED_PAGE_SIZES,
        );
        cs.setWritable(
          at + pci.PCI_SRIOV_CTRL,
          2,
          pci.PCI_SRIOV_CTRL_VFE | pci.PCI_SRIOV_CTRL_MSE | pci.PCI_SRIOV_CTRL_ARI,
        );
        installBars(cs, at + pci.PCI_SRIOV_BAR, o.vfBars);
        this.#updateRouting();
        cs.addHook({ offset: at + pci.PCI_SRIOV_CTRL, length: 2, onWrite: () => this.#onControlWrite() });
        cs.addHook({ offset: at + pci.PCI_SRIOV_NUM_VF, length: 2, onWrite: () => this.#updateRouting() });
      },
    };
  }

  get capOffset(): number {
    return this.#capOffset;
  }

  /** VFs currently present (VF Enable set), in VF order. */
  get vfs(): readonly PciFunction[] {
    return this.#vfs;
  }

  /** Modeled time at which the current VFs answer configuration requests. */
  get readyAtNs(): number {
    return this.#readyAtNs;
  }

  get vfEnabled(): boolean {
    return (this.#reg(pci.PCI_SRIOV_CTRL, 2) & pci.PCI_SRIOV_CTRL_VFE) !== 0;
  }

  get vfMemoryEnabled(): boolean {
    return (this.#reg(pci.PCI_SRIOV_CTRL, 2) & pci.PCI_SRIOV_CTRL_MSE) !== 0;
  }

  get numVfs(): number {
    return this.#reg(pci.PCI_SRIOV_NUM_VF, 2);
  }

  get routing(): VfRouting {
    return {
      firstVfOffset: this.#reg(pci.PCI_SRIOV_VF_OFFSET, 2),
      vfStride: this.#reg(pci.PCI_SRIOV_VF_STRIDE, 2),
    };
  }

  /** The routing ID VF `index` (0-based) would have with the current offset and stride. */
  vfRid(index: number): number {
    const p = this.pf.placement;
    if (p === undefined) throw new LabError('internal', `${this.pf.name} is not placed`);
    const r = this.routing;
    return p.rid + r.firstVfOffset + r.vfStride * index;
  }

  vfBarAddress(vfIndex: number, bar: number): bigint | undefined {
    const base = barAddress(this.pf.config, this.#capOffset + pci.PCI_SRIOV_BAR, this.options.vfBars, bar);
    const size = this.vfBarSize(bar);
    if (base === undefined || size === undefined) return undefined;
    return base + BigInt(vfIndex) * size;
  }

  vfBarSize(bar: number): bigint | undefined {
    const spec = this.options.vfBars[bar];
    return spec === undefined ? undefined : barSizeBytes(spec);
  }

  /** A PF FLR clears VF Enable: the VFs go away without the software disable wait. */
  disableForReset(): void {
    this.#removeVfs();
  }

  #reg(offset: number, width: 1 | 2 | 4): number {
    return this.pf.config.get(this.#capOffset + offset, width);
  }

  #updateRouting(): void {
    if (this.vfEnabled) return;
    const ari = (this.#reg(pci.PCI_SRIOV_CTRL, 2) & pci.PCI_SRIOV_CTRL_ARI) !== 0;
    const r = this.options.routing(this.numVfs, ari);
    this.pf.config.set(this.#capOffset + pci.PCI_SRIOV_VF_OFFSET, 2, r.firstVfOffset);
    this.pf.config.set(this.#capOffset + pci.PCI_SRIOV_VF_STRIDE, 2, r.vfStride);
  }

  #onControlWrite(): void {
    const enabled = this.vfEnabled;
    if (enabled && !this.#active) this.#createVfs();
    else if (!enabled && this.#active) this.#removeVfs();
    else this.#updateRouting();
  }

  #createVfs(): void {
    const cs = this.pf.config;
    this.#active = true;
    // NumVFs is frozen while VF Enable is set.
    cs.setWritable(this.#capOffset + pci.PCI_SRIOV_NUM_VF, 2, 0);
    const placement = this.pf.placement;
    const count = Math.min(this.numVfs, this.options.totalVfs);
    const ctx = this.pf.ctx;
    this.#readyAtNs = ctx.clock.nowNs + ctx.costsFor(this.pf.name).vfEnableWaitNs;
    for (let i = 0; i < count; i++) {
      const vf = this.options.createVf(this.pf, i);
      this.#vfs.push(vf);
      if (placement === undefined) continue;
      const rid = this.vfRid(i);
      if (rid <= 0xffff) placement.attach(rid as Rid, vf);
    }
    if (placement !== undefined) {
      ctx.trace({ kind: 'vf-enable', pfRid: placement.rid, numVfs: count, readyAtNs: this.#readyAtNs });
    }
  }

  #removeVfs(): void {
    const placement = this.pf.placement;
    const removed = this.#vfs.length;
    for (const vf of this.#vfs) {
      const p = vf.placement;
      if (placement !== undefined && p !== undefined) placement.detach(p.rid);
    }
    this.#vfs = [];
    this.#active = false;
    if (this.#capOffset >= 0) {
      this.pf.config.setWritable(this.#capOffset + pci.PCI_SRIOV_NUM_VF, 2, 0xffff);
      this.#updateRouting();
    }
    if (placement !== undefined && removed > 0) {
      this.pf.ctx.trace({ kind: 'vf-disable', pfRid: placement.rid, numVfs: removed });
    }
  }
}
