/**
 * How the kernel reaches PCI configuration space: config cycles through the host bridge, by domain
 * and routing ID, exactly as pci_bus_read_config_* do. The kernel never looks into device models.
 */
import type { Rid } from '../../base/index.js';

export interface PciConfigAccess {
  read(domain: number, rid: Rid, offset: number, width: 1 | 2 | 4): number;
  write(domain: number, rid: Rid, offset: number, width: 1 | 2 | 4, value: number): void;
}
