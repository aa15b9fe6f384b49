/**
 * A PCI Express Root Port: a type 1 (bridge) function on bus 0 that owns a range of bus numbers and
 * the memory windows behind it (PCI-to-PCI Bridge 1.2, ch. 3; PCIe Base 7.5.1.3). Config requests to
 * its secondary bus become type 0 requests on the link, which reach only Device 0 unless ARI
 * Forwarding is enabled in Device Control 2; requests to buses above the secondary bus up to the
 * subordinate bus are forwarded as type 1 (an SR-IOV device captures them for VFs that spill over).
 */
import { pci } from '../../spec/index.js';
import { pcieCapability } from '../caps/pcie.js';
import { pmCapability } from '../caps/pm.js';
import type { HwContext } from '../hw-context.js';
import { PciFunction } from '../pci-function.js';

export interface RootPortOptions {
  readonly name: string;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly portNumber: number;
  readonly ariForwarding: boolean;
  readonly linkSpeed: number;
  readonly linkWidth: number;
}

/** PCI_CLASS_BRIDGE_PCI (0x0604), programming interface 0 (normal decode). */
export const CLASS_BRIDGE_PCI_NORMAL = 0x060400;
/** I/O base/limit low nibble 1 = 32-bit I/O addressing; prefetchable low nibble 1 = 64-bit. */
const BRIDGE_IO_32BIT = 0x1;
const BRIDGE_PREF_64BIT = 0x1;
/** Bridge Control writable bits: parity, SERR, ISA, VGA, VGA16, master abort mode, secondary reset. */
const BRIDGE_CONTROL_WRITABLE = 0x007f;

export function createRootPort(ctx: HwContext, o: RootPortOptions): PciFunction {
  const fn = new PciFunction(ctx, {
    name: o.name,
    role: { kind: 'bridge' },
    identity: {
      vendorId: o.vendorId,
      deviceId: o.deviceId,
      revisionId: 0,
      classCode: CLASS_BRIDGE_PCI_NORMAL,
      subsystemVendorId: 0,
      subsystemId: 0,
    },
    interruptPin: 1,
    capabilities: () => [
      pcieCapability({
        type: 'root-port',
        flr: false,
        linkSpeed: o.linkSpeed,
        linkWidth: o.linkWidth,
        portNumber: o.portNumber,
        ariForwarding: o.ariForwarding,
      }),
      pmCapability(),
    ],
  });
  const cs = fn.config;
  cs.setWritable(pci.PCI_PRIMARY_BUS, 1, 0xff);
  cs.setWritable(pci.PCI_SECONDARY_BUS, 1, 0xff);
  cs.setWritable(pci.PCI_SUBORDINATE_BUS, 1, 0xff);
  cs.set(pci.PCI_IO_BASE, 1, BRIDGE_IO_32BIT);
  cs.set(pci.PCI_IO_LIMIT, 1, BRIDGE_IO_32BIT);
  cs.setWritable(pci.PCI_IO_BASE, 1, 0xf0);
  cs.setWritable(pci.PCI_IO_LIMIT, 1, 0xf0);
  cs.setWritable(pci.PCI_MEMORY_BASE, 2, 0xfff0);
  cs.setWritable(pci.PCI_MEMORY_LIMIT, 2, 0xfff0);
  cs.set(pci.PCI_PREF_MEMORY_BASE, 2, BRIDGE_PREF_64BIT);
  cs.set(pci.PCI_PREF_MEMORY_LIMIT, 2, BRIDGE_PREF_64BIT);
  cs.setWritable(pci.PCI_PREF_MEMORY_BASE, 2, 0xfff0);
  cs.setWritable(pci.PCI_PREF_MEMORY_LIMIT, 2, 0xfff0);
  cs.setWritable(pci.PCI_PREF_BASE_UPPER32, 4, 0xffffffff);
  cs.setWritable(pci.PCI_PREF_LIMIT_UPPER32, 4, 0xffffffff);
  cs.setWritable(pci.PCI_IO_BASE_UPPER16, 2, 0xffff);
  cs.setWritable(pci.PCI_IO_LIMIT_UPPER16, 2, 0xffff);
  cs.setWritable(pci.PCI_BRIDGE_CONTROL, 2, BRIDGE_CONTROL_WRITABLE);
  cs.sealResetState();
  return fn;
}

/** Bus numbers and windows as the bridge's registers currently hold them. */
export function bridgeWindows(fn: PciFunction): {
  secondaryBus: number;
  subordinateBus: number;
  memory: { base: bigint; limit: bigint } | undefined;
  prefetchable: { base: bigint; limit: bigint } | undefined;
} {
  const cs = fn.config;
  const memBase = BigInt(cs.get(pci.PCI_MEMORY_BASE, 2) & 0xfff0) << 16n;
  const memLimit = (BigInt(cs.get(pci.PCI_MEMORY_LIMIT, 2) & 0xfff0) << 16n) | 0xfffffn;
  const prefBase =
    (BigInt(cs.get(pci.PCI_PREF_BASE_UPPER32, 4)) << 32n) |
    (BigInt(cs.get(pci.PCI_PREF_MEMORY_BASE, 2) & 0xfff0) << 16n);
  const prefLimit =
    (BigInt(cs.get(pci.PCI_PREF_LIMIT_UPPER32, 4)) << 32n) |
    (BigInt(cs.get(pci.PCI_PREF_MEMORY_LIMIT, 2) & 0xfff0) << 16n) |
    0xfffffn;
  return {
    secondaryBus: cs.get(pci.PCI_SECONDARY_BUS, 1),
    subordinateBus: cs.get(pci.PCI_SUBORDINATE_BUS, 1),
    memory: memBase <= memLimit ? { base: memBase, limit: memLimit } : undefined,
    prefetchable: prefBase <= prefLimit ? { base: prefBase, limit: prefLimit } : undefined,
  };
}
