/**
 * VF routing-ID arithmetic (facts/kernel.md 5.2, drivers/pci/iov.c): VF i of a PF sits at
 * PF RID + First VF Offset + VF Stride × i, which may spill onto following bus numbers. Without ARI the
 * 8-bit devfn splits into device (5 bits) and function (3 bits); with ARI it is one function number.
 */
import { LabError, type Rid } from '../base/index.js';

export interface VfRidInput {
  readonly pfRid: number;
  readonly firstVfOffset: number;
  readonly vfStride: number;
}

/** RID of VF `index` (0-based); throws when it would exceed 16 bits. */
export function vfRoutingId(input: VfRidInput, index: number): Rid {
  const r = input.pfRid + input.firstVfOffset + input.vfStride * index;
  if (r > 0xffff)
    throw new LabError('invalid-state', `VF ${index} routing ID 0x${r.toString(16)} exceeds 16 bits`);
  return r as Rid;
}

/** pci_iov_virtfn_bus: the bus number of VF `index`. */
export function vfBus(input: VfRidInput, index: number): number {
  return vfRoutingId(input, index) >> 8;
}

/** pci_iov_virtfn_devfn: the devfn of VF `index`. */
export function vfDevfn(input: VfRidInput, index: number): number {
  return vfRoutingId(input, index) & 0xff;
}

/** pci_iov_vf_id: which VF (0-based) a RID is, or undefined if it is not one of the PF's VF slots. */
export function vfIndexOf(input: VfRidInput, rid: number, numVfs: number): number | undefined {
  const delta = rid - (input.pfRid + input.firstVfOffset);
  if (input.vfStride === 0 || delta < 0 || delta % input.vfStride !== 0) return undefined;
  const index = delta / input.vfStride;
  return index < numVfs ? index : undefined;
}

/** The highest bus number VFs 0..numVfs-1 occupy (what must fit in the bridge's bus range). */
export function lastVfBus(input: VfRidInput, numVfs: number): number {
  return numVfs === 0 ? input.pfRid >> 8 : vfBus(input, numVfs - 1);
}

/** Device and function numbers of a devfn as software reads them, with or without ARI. */
export function splitDevfn(devfn: number, ari: boolean): { device: number; fn: number } {
  return ari ? { device: 0, fn: devfn } : { device: devfn >> 3, fn: devfn & 7 };
}
