/**
 * Alternative Routing-ID Interpretation extended capability (PCIe Base 7.8.7): lets a device use all
 * 8 devfn bits as its function number. ARI Capability holds the Next Function Number; ARI Control's
 * function-group bits are writable, the MFVC/ACS function-group enables are not modeled.
 */
import { pci } from '../../spec/index.js';
import type { ExtCapability } from '../capability-builder.js';

export function ariCapability(nextFunction: number): ExtCapability {
  return {
    id: pci.PCI_EXT_CAP_ID_ARI,
    version: 1,
    sizeBytes: pci.PCI_EXT_CAP_ARI_SIZEOF,
    init(cs, offset) {
      cs.set(offset + pci.PCI_ARI_CAP, 2, (nextFunction & 0xff) << pci.PCI_ARI_CAP_NFN_SHIFT);
      cs.setWritable(offset + pci.PCI_ARI_CTRL, 2, pci.PCI_ARI_CTRL_FG);
    },
  };
}
