/**
 * PCI Power Management capability (PCI PM 1.2, ch. 3): PMC (read-only capabilities) and PMCSR.
 * Modeled: the PowerState field (D0/D3hot; D1/D2 are not supported and writes of them are ignored as
 * the spec lets hardware do), No_Soft_Reset, PME_En and the RW1C PME_Status bit.
 */
import { pci } from '../../spec/index.js';
import type { Capability } from '../capability-builder.js';

export interface PmOptions {
  /** PMC bits beyond the version: e.g. PME support from D0/D3hot/D3cold (bits 15:11). */
  readonly pmeSupport?: number;
  readonly noSoftReset?: boolean;
}

/** PM spec version 1.2 encodes as 3 in PMC[2:0]. */
const PM_VERSION_1_2 = 3;
const D3HOT = 3;

export function pmCapability(options: PmOptions = {}): Capability {
  return {
    id: pci.PCI_CAP_ID_PM,
    sizeBytes: pci.PCI_PM_SIZEOF,
    init(cs, offset) {
      cs.set(
        offset + pci.PCI_PM_PMC,
        2,
        PM_VERSION_1_2 | ((options.pmeSupport ?? 0) & pci.PCI_PM_CAP_PME_MASK),
      );
      const ctrl = offset + pci.PCI_PM_CTRL;
      cs.set(ctrl, 2, options.noSoftReset === false ? 0 : pci.PCI_PM_CTRL_NO_SOFT_RESET);
      const pmeEnable = (options.pmeSupport ?? 0) !== 0 ? pci.PCI_PM_CTRL_PME_ENABLE : 0;
      cs.setWritable(ctrl, 2, pci.PCI_PM_CTRL_STATE_MASK | pmeEnable);
      cs.setRw1c(ctrl, 2, (options.pmeSupport ?? 0) !== 0 ? pci.PCI_PM_CTRL_PME_STATUS : 0);
      cs.addHook({
        offset: ctrl,
        length: 2,
        onWrite(offset, _width, _written, previous) {
          // D1 and D2 are not supported: a write of them leaves the previous state (PM 1.2, 5.4.1).
          // PowerState is in the low byte of PMCSR, so an access that changed it starts at `ctrl`.
          const state = cs.get(ctrl, 2) & pci.PCI_PM_CTRL_STATE_MASK;
          if (state === 1 || state === 2) {
            const before = (previous >>> (8 * (ctrl - offset))) & pci.PCI_PM_CTRL_STATE_MASK;
            cs.set(ctrl, 2, (cs.get(ctrl, 2) & ~pci.PCI_PM_CTRL_STATE_MASK) | before);
          }
        },
      });
    },
  };
}

export { D3HOT as PM_STATE_D3HOT };
