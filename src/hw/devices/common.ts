/**
 * Pieces every endpoint model here shares: the PCI Express endpoint capability wired to the
 * function's FLR, and the VF identity derived from its PF (facts/kernel.md 5.3: VF IDs read all-ones,
 * class, revision and subsystem IDs are real).
 */
import type { Capability } from '../capability-builder.js';
import { pcieCapability } from '../caps/pcie.js';
import type { FunctionIdentity, PciFunction } from '../pci-function.js';

/** PCIe Gen4 (16 GT/s) x16, the link the cost model's DMA bandwidth assumes. */
export const LINK_SPEED_GEN4 = 4;
export const LINK_WIDTH_X16 = 16;

export function endpointPcie(fn: PciFunction): Capability {
  return pcieCapability({
    type: 'endpoint',
    flr: true,
    onInitiateFlr: () => fn.flr(),
    linkSpeed: LINK_SPEED_GEN4,
    linkWidth: LINK_WIDTH_X16,
  });
}

export function vfIdentity(pf: FunctionIdentity, vfDeviceId: number): FunctionIdentity {
  return { ...pf, deviceId: vfDeviceId };
}
