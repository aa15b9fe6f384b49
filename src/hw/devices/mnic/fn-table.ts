/**
 * The NIC's function table: hardware function ids (PF 0, VF i at 1 + i, SFs from sf_base_id, SIOV
 * functions from siov_base_id), vhca ids, the SF table and its sfnums, the SIOV table and its RID pool.
 * Every lookup, allocation and free is O(1): slots come from a free stack or a never-used counter.
 *
 * The SIOV RID pool: slot k owns RIDs base + 2k (guest) and base + 2k + 1 (hypervisor), so a
 * function's two RIDs are allocated and freed with its slot. The pool is a range of requester IDs the
 * platform lets the NIC use (behind its root port, colliding with no PCI function; the topology checks
 * that), which the IOMMU accepts like any other RID.
 * Left out: vports and their numbering, external controllers (ECPF), per-PF SF id ranges.
 */
import { LabError } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { PciFunction } from '../../pci-function.js';
import { MnicFunction } from './mnic-function.js';

export interface MnicLimits {
  readonly totalVfs: number;
  readonly maxSfs: number;
  readonly maxSiovFns: number;
  /** First RID of the SIOV pool (two RIDs per SIOV function). */
  readonly siovRidBase: number;
}

/** A stack of free slot numbers plus a counter of slots never used: O(1) alloc and free. */
class SlotPool {
  readonly #free: number[] = [];
  #next = 0;
  #used = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get used(): number {
    return this.#used;
  }

  get available(): number {
    return this.capacity - this.#used;
  }

  take(): number {
    const slot = this.#free.pop() ?? this.#next++;
    this.#used++;
    return slot;
  }

  give(slot: number): void {
    this.#free.push(slot);
    this.#used--;
  }

  clear(): void {
    this.#free.length = 0;
    this.#next = 0;
    this.#used = 0;
  }
}

export class MnicFnTable {
  readonly limits: MnicLimits;
  readonly pf: MnicFunction;
  readonly #vfs: (MnicFunction | undefined)[] = [];
  readonly #sfs: (MnicFunction | undefined)[] = [];
  readonly #siov: (MnicFunction | undefined)[] = [];
  readonly #sfSlots: SlotPool;
  readonly #siovSlots: SlotPool;
  /** vhca ids of SFs and SIOV functions, after those of the PF and its VFs. */
  readonly #vhcaIds = new SlotPool(Number.MAX_SAFE_INTEGER);
  readonly #sfnums = new Map<number, MnicFunction>();
  /** The VF PCI function currently at `index`, if VFs are enabled that far. */
  readonly #liveVf: (index: number) => PciFunction | undefined;

  constructor(limits: MnicLimits, liveVf: (index: number) => PciFunction | undefined) {
    if (limits.maxSfs > mnicfw.MNIC_MAX_SFS || limits.maxSiovFns > mnicfw.MNIC_MAX_SIOV_FNS) {
      throw new LabError(
        'bad-input',
        `mnic: at most ${mnicfw.MNIC_MAX_SFS} SFs and ${mnicfw.MNIC_MAX_SIOV_FNS} SIOV functions`,
      );
    }
    if (limits.maxSiovFns > 0 && limits.siovRidBase + 2 * limits.maxSiovFns > 0x10000) {
      throw new LabError('bad-input', 'mnic: the SIOV RID pool goes beyond RID ffff');
    }
    this.limits = limits;
    this.#liveVf = liveVf;
    this.#sfSlots = new SlotPool(limits.maxSfs);
    this.#siovSlots = new SlotPool(limits.maxSiovFns);
    this.pf = new MnicFunction({ kind: 'pf' }, mnicfw.MNIC_PF_FN_ID, 0, mnicfw.MNIC_VHCA_STATE_ACTIVE);
  }

  get sfCount(): number {
    return this.#sfSlots.used;
  }

  get siovCount(): number {
    return this.#siovSlots.used;
  }

  /** The function with hardware id `fnId`, if it exists now. */
  get(fnId: number): MnicFunction | undefined {
    if (fnId === mnicfw.MNIC_PF_FN_ID) return this.pf;
    if (fnId >= mnicfw.MNIC_SIOV_BASE_ID) return this.#siov[fnId - mnicfw.MNIC_SIOV_BASE_ID];
    if (fnId >= mnicfw.MNIC_SF_BASE_ID) return this.#sfs[fnId - mnicfw.MNIC_SF_BASE_ID];
    return this.vf(fnId - 1);
  }

  /** VF `index` while it exists (VF Enable set and NumVFs covering it). */
  vf(index: number): MnicFunction | undefined {
    const fn = this.#vfs[index];
    const live = this.#liveVf(index);
    return fn !== undefined && live !== undefined && fn.pci === live ? fn : undefined;
  }

  sf(sfIndex: number): MnicFunction | undefined {
    return this.#sfs[sfIndex];
  }

  siov(siovIndex: number): MnicFunction | undefined {
    return this.#siov[siovIndex];
  }

  /** A new VF function (VF Enable built the PCI function for VF `index`); it comes up ACTIVE. */
  createVf(index: number): MnicFunction {
    const fn = new MnicFunction(
      { kind: 'vf', vfIndex: index },
      1 + index,
      1 + index,
      mnicfw.MNIC_VHCA_STATE_ACTIVE,
    );
    this.#vfs[index] = fn;
    return fn;
  }

  /** Allocate an SF (ALLOCATED): undefined when the table is full. The caller checks the sfnum. */
  allocSf(sfnum: number): MnicFunction | undefined {
    if (this.#sfSlots.available === 0) return undefined;
    const sfIndex = this.#sfSlots.take();
    const fn = new MnicFunction(
      { kind: 'sf', sfIndex, sfnum },
      mnicfw.MNIC_SF_BASE_ID + sfIndex,
      this.#vhcaId(),
      mnicfw.MNIC_VHCA_STATE_ALLOCATED,
    );
    this.#sfs[sfIndex] = fn;
    this.#sfnums.set(sfnum, fn);
    return fn;
  }

  sfnumInUse(sfnum: number): boolean {
    return this.#sfnums.has(sfnum);
  }

  freeSf(fn: MnicFunction): void {
    if (fn.id.kind !== 'sf') throw new LabError('internal', 'freeSf of a non-SF');
    this.#sfs[fn.id.sfIndex] = undefined;
    this.#sfnums.delete(fn.id.sfnum);
    this.#sfSlots.give(fn.id.sfIndex);
    this.#vhcaIds.give(fn.vhcaId - this.#vhcaIdBase());
  }

  /** Allocate `count` SIOV functions, all or none (undefined when they do not fit). */
  allocSiov(count: number): MnicFunction[] | undefined {
    if (count > this.#siovSlots.available) return undefined;
    const out: MnicFunction[] = [];
    for (let i = 0; i < count; i++) {
      const siovIndex = this.#siovSlots.take();
      const guestRid = this.limits.siovRidBase + 2 * siovIndex;
      const fn = new MnicFunction(
        { kind: 'siov', siovIndex, guestRid, hypervisorRid: guestRid + 1 },
        mnicfw.MNIC_SIOV_BASE_ID + siovIndex,
        this.#vhcaId(),
        mnicfw.MNIC_VHCA_STATE_ALLOCATED,
      );
      this.#siov[siovIndex] = fn;
      out.push(fn);
    }
    return out;
  }

  freeSiov(fn: MnicFunction): void {
    if (fn.id.kind !== 'siov') throw new LabError('internal', 'freeSiov of a non-SIOV function');
    this.#siov[fn.id.siovIndex] = undefined;
    this.#siovSlots.give(fn.id.siovIndex);
    this.#vhcaIds.give(fn.vhcaId - this.#vhcaIdBase());
  }

  /** Drop every SF and SIOV function (a PF reset). */
  clearCarved(): void {
    this.#sfs.length = 0;
    this.#siov.length = 0;
    this.#sfnums.clear();
    this.#sfSlots.clear();
    this.#siovSlots.clear();
    this.#vhcaIds.clear();
  }

  #vhcaIdBase(): number {
    return 1 + this.limits.totalVfs;
  }

  #vhcaId(): number {
    return this.#vhcaIdBase() + this.#vhcaIds.take();
  }
}
