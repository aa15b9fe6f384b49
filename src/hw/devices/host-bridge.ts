/**
 * The root complex's host bridge at 00:00.0: a type 0 function of class 0x0600 (host bridge) with no
 * BARs, present so that bus 0 looks like a real machine's.
 */
import type { HwContext } from '../hw-context.js';
import { PciFunction } from '../pci-function.js';

/** PCI_CLASS_BRIDGE_HOST. */
export const CLASS_BRIDGE_HOST = 0x060000;

export function createHostBridge(ctx: HwContext, vendorId: number, deviceId: number): PciFunction {
  return new PciFunction(ctx, {
    name: 'host-bridge',
    role: { kind: 'endpoint' },
    identity: {
      vendorId,
      deviceId,
      revisionId: 0,
      classCode: CLASS_BRIDGE_HOST,
      subsystemVendorId: 0,
      subsystemId: 0,
    },
  });
}
