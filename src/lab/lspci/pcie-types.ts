/**
 * PCI Express port types (PCIe Base 6.x, 7.5.3.2, Device/Port Type) and link speed names, shared by
 * the two halves of the Express capability decoder.
 */
import { pci } from '../../spec/index.js';
import * as r from './regs.js';

export const EP = pci.PCI_EXP_TYPE_ENDPOINT;
export const LEG_END = pci.PCI_EXP_TYPE_LEG_END;
export const ROOT_PORT = pci.PCI_EXP_TYPE_ROOT_PORT;
export const UPSTREAM = r.PCI_EXP_TYPE_UPSTREAM;
export const DOWNSTREAM = r.PCI_EXP_TYPE_DOWNSTREAM;
export const PCI_BRIDGE = r.PCI_EXP_TYPE_PCI_BRIDGE;
export const PCIE_BRIDGE = r.PCI_EXP_TYPE_PCIE_BRIDGE;
export const RC_INT_EP = pci.PCI_EXP_TYPE_RC_END;
export const RC_EC = r.PCI_EXP_TYPE_RC_EC;

export const isDownstreamPort = (type: number): boolean =>
  type === ROOT_PORT || type === DOWNSTREAM || type === PCIE_BRIDGE;

/** Link speeds by Supported/Current Link Speed encoding (PCIe 7.5.3.6). */
export const LINK_SPEEDS: Record<number, string> = {
  1: '2.5GT/s',
  2: '5GT/s',
  3: '8GT/s',
  4: '16GT/s',
  5: '32GT/s',
  6: '64GT/s',
};
