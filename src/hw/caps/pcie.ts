/**
 * PCI Express Capability structure, version 2 (PCIe Base 7.5.3), for an Endpoint, a Root Port, or an
 * SR-IOV VF. Modeled: Device Control's writable fields and the self-clearing Initiate Function Level
 * Reset bit (which calls back into the function), RW1C Device Status error bits, a fixed trained link,
 * Device Control 2's ARI Forwarding Enable on root ports, Root Control/Capabilities/Status on root ports.
 * Not modeled: slots, hot plug, link training, ASPM.
 */
import { pci } from '../../spec/index.js';
import type { Capability } from '../capability-builder.js';

export type PciePortType = 'endpoint' | 'root-port';

export interface PcieOptions {
  readonly type: PciePortType;
  /** Function Level Reset Capability (DevCap bit 28); endpoints only. */
  readonly flr: boolean;
  /** Called when software writes 1 to Initiate Function Level Reset and FLR is supported. */
  readonly onInitiateFlr?: () => void;
  /** Link speed code (1 = 2.5 GT/s … 4 = 16 GT/s, 5 = 32 GT/s) and width in lanes. */
  readonly linkSpeed: number;
  readonly linkWidth: number;
  /** A VF's PCIe cap reports no link of its own: link registers read as the PF's in real parts. */
  readonly portNumber?: number;
  /** Root ports: ARI Forwarding Supported in DevCap2. */
  readonly ariForwarding?: boolean;
}

const PCIE_CAP_VERSION_2 = 2;
/** Max_Payload_Size Supported: 256 bytes (encoding 1). */
const DEVCAP_PAYLOAD_256 = 1;
/** Device Control reset value: Relaxed Ordering + No Snoop enabled, MPS 128, MRRS 512 (encoding 2). */
const DEVCTL_RESET = pci.PCI_EXP_DEVCTL_RELAX_EN | pci.PCI_EXP_DEVCTL_NOSNOOP_EN | (2 << 12);
const DEVCTL_WRITABLE =
  pci.PCI_EXP_DEVCTL_CERE |
  pci.PCI_EXP_DEVCTL_NFERE |
  pci.PCI_EXP_DEVCTL_FERE |
  pci.PCI_EXP_DEVCTL_URRE |
  pci.PCI_EXP_DEVCTL_RELAX_EN |
  pci.PCI_EXP_DEVCTL_PAYLOAD |
  pci.PCI_EXP_DEVCTL_EXT_TAG |
  pci.PCI_EXP_DEVCTL_NOSNOOP_EN |
  pci.PCI_EXP_DEVCTL_READRQ;
const DEVSTA_RW1C =
  pci.PCI_EXP_DEVSTA_CED | pci.PCI_EXP_DEVSTA_NFED | pci.PCI_EXP_DEVSTA_FED | pci.PCI_EXP_DEVSTA_URD;
/** Completion Timeout Ranges A-D supported, disable supported (DevCap2 bits 3:0 and 4). */
const DEVCAP2_COMPLETION_TIMEOUT = 0x1f;
/** Link Control 2 Target Link Speed occupies bits 3:0. */
const LNKCTL2_TARGET_SPEED = 0x000f;
/** Supported Link Speeds Vector starts at bit 1 of Link Capabilities 2. */
const LNKCAP2_SPEEDS_SHIFT = 1;
/** Root Control writable bits: SECEE, SENFEE, SEFEE, PMEIE, CRSSVE. */
const RTCTL_WRITABLE = 0x001f;
/** Root Status PME Status (bit 16) is RW1C. */
const RTSTA_PME_STATUS = 0x00010000;

export function pcieCapability(o: PcieOptions): Capability {
  const typeCode = o.type === 'root-port' ? pci.PCI_EXP_TYPE_ROOT_PORT : pci.PCI_EXP_TYPE_ENDPOINT;
  return {
    id: pci.PCI_CAP_ID_EXP,
    sizeBytes: pci.PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
    init(cs, at) {
      cs.set(at + pci.PCI_EXP_FLAGS, 2, PCIE_CAP_VERSION_2 | (typeCode << 4));
      const devcap =
        DEVCAP_PAYLOAD_256 |
        pci.PCI_EXP_DEVCAP_EXT_TAG |
        pci.PCI_EXP_DEVCAP_RBER |
        (o.type === 'endpoint' && o.flr ? pci.PCI_EXP_DEVCAP_FLR : 0);
      cs.set(at + pci.PCI_EXP_DEVCAP, 4, devcap >>> 0);
      cs.set(at + pci.PCI_EXP_DEVCTL, 2, DEVCTL_RESET);
      cs.setWritable(at + pci.PCI_EXP_DEVCTL, 2, DEVCTL_WRITABLE);
      cs.setRw1c(at + pci.PCI_EXP_DEVSTA, 2, DEVSTA_RW1C);
      const lnkcap = (o.linkSpeed | (o.linkWidth << 4) | ((o.portNumber ?? 0) << 24)) >>> 0;
      cs.set(at + pci.PCI_EXP_LNKCAP, 4, lnkcap);
      cs.set(at + pci.PCI_EXP_LNKSTA, 2, o.linkSpeed | (o.linkWidth << 4));
      const speedsVector = ((1 << o.linkSpeed) - 1) << LNKCAP2_SPEEDS_SHIFT;
      cs.set(at + pci.PCI_EXP_LNKCAP2, 4, speedsVector);
      cs.set(at + pci.PCI_EXP_LNKCTL2, 2, o.linkSpeed);
      cs.setWritable(at + pci.PCI_EXP_LNKCTL2, 2, LNKCTL2_TARGET_SPEED);
      cs.set(
        at + pci.PCI_EXP_DEVCAP2,
        4,
        DEVCAP2_COMPLETION_TIMEOUT |
          (o.type === 'root-port' && o.ariForwarding ? pci.PCI_EXP_DEVCAP2_ARI : 0),
      );
      if (o.type === 'root-port') {
        if (o.ariForwarding) cs.setWritable(at + pci.PCI_EXP_DEVCTL2, 2, pci.PCI_EXP_DEVCTL2_ARI);
        cs.setWritable(at + pci.PCI_EXP_RTCTL, 2, RTCTL_WRITABLE);
        cs.setRw1c(at + pci.PCI_EXP_RTSTA, 4, RTSTA_PME_STATUS);
      }
      if (o.type === 'endpoint' && o.flr && o.onInitiateFlr !== undefined) {
        const onFlr = o.onInitiateFlr;
        cs.addHook({
          offset: at + pci.PCI_EXP_DEVCTL,
          length: 2,
          onWrite(offset, width, written) {
            // Initiate FLR always reads 0 (not in the write mask); it acts on a written one.
            const shifted = (written << (8 * (offset - (at + pci.PCI_EXP_DEVCTL)))) >>> 0;
            const covers =
              offset <= at + pci.PCI_EXP_DEVCTL + 1 && offset + width > at + pci.PCI_EXP_DEVCTL + 1;
            if (covers && (shifted & pci.PCI_EXP_DEVCTL_BCR_FLR) !== 0) onFlr();
          },
        });
      }
    },
  };
}

/** Read whether ARI Forwarding Enable is set in a root port's Device Control 2. */
export function ariForwardingEnabled(
  cs: { get(o: number, w: 1 | 2 | 4): number },
  capOffset: number,
): boolean {
  return (cs.get(capOffset + pci.PCI_EXP_DEVCTL2, 2) & pci.PCI_EXP_DEVCTL2_ARI) !== 0;
}
