/**
 * What a guest driver reads from config space before it touches a BAR: the capability list walk
 * (PCI 3.0 6.7), the virtio vendor capabilities (virtio 1.4 transport-pci.tex; facts/virtio.md 1.2) and
 * the MSI-X capability (PCI 3.0 6.8.2), plus the MSI-X setup a guest OS performs (table entries, then
 * the enable bit) so that the virtio transport can give events vectors.
 *
 * Left out: the PCI_CFG access window (cfg_type 5; BARs are reached directly), shared-memory and vendor
 * caps, MSI (virtio drivers use MSI-X or INTx), pending-bit array handling.
 */
import { errnoError } from '../../../base/index.js';
import { pci, virtio } from '../../../spec/index.js';
import type { GuestPciAccess } from './guest-access.js';

/** Where one virtio structure lives (struct virtio_pci_cap fields). */
export interface VirtioStructureLocation {
  readonly bar: number;
  readonly offset: number;
  readonly length: number;
}

export interface VirtioModernCaps {
  readonly common: VirtioStructureLocation;
  readonly notify: VirtioStructureLocation & { readonly notifyOffMultiplier: number };
  readonly isr: VirtioStructureLocation;
  readonly device: VirtioStructureLocation | undefined;
}

export interface MsixCapability {
  /** Config-space offset of the capability. */
  readonly capOffset: number;
  /** Table Size (entries). */
  readonly tableSize: number;
  readonly tableBar: number;
  readonly tableOffset: number;
}

/** A guard against a looping capability list: a 256-byte config header holds at most 48 capabilities. */
const MAX_CAPS = 48;
/** Capability pointers are dword-aligned; the low 2 bits are reserved (PCI 3.0 6.7). */
const CAP_POINTER_MASK = 0xfc;

/** Offsets of the standard capabilities, in list order, as (id, offset). */
export function walkCapabilities(access: GuestPciAccess): Array<{ id: number; offset: number }> {
  const out: Array<{ id: number; offset: number }> = [];
  if ((access.configRead(pci.PCI_STATUS, 2) & pci.PCI_STATUS_CAP_LIST) === 0) return out;
  let at = access.configRead(pci.PCI_CAPABILITY_LIST, 1) & CAP_POINTER_MASK;
  while (at !== 0 && out.length < MAX_CAPS) {
    out.push({ id: access.configRead(at + pci.PCI_CAP_LIST_ID, 1), offset: at });
    at = access.configRead(at + pci.PCI_CAP_LIST_NEXT, 1) & CAP_POINTER_MASK;
  }
  return out;
}

/**
 * The first usable capability of each virtio structure type (facts 1.2: list order is the device's
 * preference; a cap naming a reserved BAR is ignored). Throws ENODEV if common, notify or ISR is missing.
 */
export function findVirtioCaps(access: GuestPciAccess): VirtioModernCaps {
  const found = new Map<number, VirtioStructureLocation & { notifyOffMultiplier: number }>();
  for (const cap of walkCapabilities(access)) {
    if (cap.id !== pci.PCI_CAP_ID_VNDR) continue;
    const cfgType = access.configRead(cap.offset + virtio.VIRTIO_PCI_CAP_CFG_TYPE, 1);
    const bar = access.configRead(cap.offset + virtio.VIRTIO_PCI_CAP_BAR, 1);
    if (bar > virtio.VIRTIO_PCI_CAP_BAR_MAX || found.has(cfgType)) continue;
    const offset = access.configRead(cap.offset + virtio.VIRTIO_PCI_CAP_OFFSET, 4);
    const length = access.configRead(cap.offset + virtio.VIRTIO_PCI_CAP_LENGTH, 4);
    const notifyOffMultiplier =
      cfgType === virtio.VIRTIO_PCI_CAP_NOTIFY_CFG
        ? access.configRead(cap.offset + virtio.VIRTIO_PCI_NOTIFY_CAP_MULT, 4)
        : 0;
    found.set(cfgType, { bar, offset, length, notifyOffMultiplier });
  }
  const need = (cfgType: number, name: string) => {
    const loc = found.get(cfgType);
    if (!loc) throw errnoError('ENODEV', `virtio-pci: no ${name} capability`);
    return loc;
  };
  const common = need(virtio.VIRTIO_PCI_CAP_COMMON_CFG, 'common cfg');
  if (common.length < virtio.VIRTIO_PCI_COMMON_Q_NDATA) {
    throw errnoError('ENODEV', `virtio-pci: common cfg of ${common.length} bytes is too short`);
  }
  const device = found.get(virtio.VIRTIO_PCI_CAP_DEVICE_CFG);
  return {
    common,
    notify: need(virtio.VIRTIO_PCI_CAP_NOTIFY_CFG, 'notify'),
    isr: need(virtio.VIRTIO_PCI_CAP_ISR_CFG, 'ISR'),
    device,
  };
}

export function findMsix(access: GuestPciAccess): MsixCapability | undefined {
  const cap = walkCapabilities(access).find((c) => c.id === pci.PCI_CAP_ID_MSIX);
  if (!cap) return undefined;
  const flags = access.configRead(cap.offset + pci.PCI_MSIX_FLAGS, 2);
  const table = access.configRead(cap.offset + pci.PCI_MSIX_TABLE, 4);
  return {
    capOffset: cap.offset,
    tableSize: (flags & pci.PCI_MSIX_FLAGS_QSIZE) + 1,
    tableBar: table & pci.PCI_MSIX_TABLE_BIR,
    tableOffset: (table & pci.PCI_MSIX_TABLE_OFFSET) >>> 0,
  };
}

/** The message a vector sends: chosen by whoever delivers MSI (the VMM or a test). */
export interface MsixMessages {
  readonly messageAddr: bigint;
  /** Vector i sends data `messageDataBase + i`. */
  readonly messageDataBase: number;
}

const U32_MASK = 0xffff_ffffn;

/**
 * Enable MSI-X with `count` vectors as Linux's pci_msix_enable does: function masked while the table is
 * written, entries programmed and unmasked, then the function mask cleared.
 */
export function enableMsix(
  access: GuestPciAccess,
  cap: MsixCapability,
  count: number,
  messages: MsixMessages,
): void {
  const flagsAt = cap.capOffset + pci.PCI_MSIX_FLAGS;
  access.configWrite(flagsAt, 2, pci.PCI_MSIX_FLAGS_ENABLE | pci.PCI_MSIX_FLAGS_MASKALL);
  for (let v = 0; v < count; v++) {
    const entry = cap.tableOffset + v * pci.PCI_MSIX_ENTRY_SIZE;
    const addr = messages.messageAddr;
    access.barWrite(cap.tableBar, entry + pci.PCI_MSIX_ENTRY_LOWER_ADDR, 4, Number(addr & U32_MASK));
    access.barWrite(cap.tableBar, entry + pci.PCI_MSIX_ENTRY_UPPER_ADDR, 4, Number((addr >> 32n) & U32_MASK));
    access.barWrite(cap.tableBar, entry + pci.PCI_MSIX_ENTRY_DATA, 4, (messages.messageDataBase + v) >>> 0);
    access.barWrite(cap.tableBar, entry + pci.PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
  }
  access.configWrite(flagsAt, 2, pci.PCI_MSIX_FLAGS_ENABLE);
}

export function disableMsix(access: GuestPciAccess, cap: MsixCapability): void {
  access.configWrite(cap.capOffset + pci.PCI_MSIX_FLAGS, 2, 0);
}

/** pci_enable_device + pci_set_master: decode the BARs the transport uses and allow DMA. */
export function enableFunction(access: GuestPciAccess, space: 'memory' | 'io'): void {
  const command = access.configRead(pci.PCI_COMMAND, 2);
  const decode = space === 'memory' ? pci.PCI_COMMAND_MEMORY : pci.PCI_COMMAND_IO;
  access.configWrite(pci.PCI_COMMAND, 2, command | decode | pci.PCI_COMMAND_MASTER);
}
