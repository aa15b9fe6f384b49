/**
 * The virtio PCI vendor capabilities (virtio 1.4 transport-pci.tex "Virtio Structure PCI
 * Capabilities"; facts/virtio.md 1.2, 1.4, 1.7) and the BAR layout this transport uses, after QEMU's
 * (facts 1.4): every structure in one 64-bit memory BAR (BAR4), common config at 0x0000, ISR at
 * 0x1000, device config at 0x2000, notifications at 0x3000 with a multiplier of 4 and
 * queue_notify_off = queue index.
 *
 * The PCI configuration access capability (cfg_type 5) is a window into the BAR through config
 * space: the driver writes bar, length and offset, then reads or writes pci_cfg_data.
 * SPEC-DEVIATION: config space has no read hooks, so a read through the window returns the value
 * latched, without side effects (an ISR read through it does not clear the ISR), when the driver last
 * wrote bar, offset or length (or data). Writes through the window act as MMIO writes.
 */
import { pci, virtio } from '../../../spec/index.js';
import type { Capability } from '../../capability-builder.js';
import type { ConfigSpace } from '../../config-space.js';

/** The BAR that holds every virtio structure. */
export const VIRTIO_BAR = 4;
export const COMMON_CFG_OFFSET = 0x0000;
export const ISR_CFG_OFFSET = 0x1000;
export const DEVICE_CFG_OFFSET = 0x2000;
export const NOTIFY_CFG_OFFSET = 0x3000;
/** Each region's span inside the BAR (one 4 KiB page each). */
export const REGION_SPAN_BYTES = 0x1000;
/** notify_off_multiplier: 4 bytes per queue, enough for a 32-bit NOTIFICATION_DATA write. */
export const NOTIFY_OFF_MULTIPLIER = 4;
/** The common configuration structure with the admin queue fields (facts 1.3: 64 bytes). */
export const COMMON_CFG_LENGTH = virtio.VirtioPciCommonCfg.sizeBytes;
/** The ISR status is one byte. */
export const ISR_CFG_LENGTH = 1;

/** Offsets inside struct virtio_pci_cfg_cap of the window's registers (facts 1.2). */
const CFG_CAP_DATA = 16;
const VIRTIO_PCI_CAP_SIZEOF = virtio.VirtioPciCap.sizeBytes;
const VIRTIO_PCI_NOTIFY_CAP_SIZEOF = virtio.VirtioPciNotifyCap.sizeBytes;
const VIRTIO_PCI_CFG_CAP_SIZEOF = virtio.VirtioPciCfgCap.sizeBytes;

export interface VirtioCapsLayout {
  readonly deviceCfgLength: number;
  readonly notifyLength: number;
}

/** What the PCI configuration access window reaches: the BAR accesses of the transport. */
export interface PciCfgWindowTarget {
  /** A read without side effects, or undefined outside every virtio structure. */
  peek(bar: number, offset: number, width: 1 | 2 | 4): number | undefined;
  /** A write as an MMIO write would do it; ignored outside every virtio structure. */
  windowWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void;
}

function capBody(
  cs: ConfigSpace,
  at: number,
  capLen: number,
  cfgType: number,
  bar: number,
  offset: number,
  length: number,
): void {
  cs.set(at + virtio.VIRTIO_PCI_CAP_LEN, 1, capLen);
  cs.set(at + virtio.VIRTIO_PCI_CAP_CFG_TYPE, 1, cfgType);
  cs.set(at + virtio.VIRTIO_PCI_CAP_BAR, 1, bar);
  cs.set(at + virtio.VIRTIO_PCI_CAP_ID, 1, 0);
  cs.set(at + virtio.VIRTIO_PCI_CAP_OFFSET, 4, offset);
  cs.set(at + virtio.VIRTIO_PCI_CAP_LENGTH, 4, length);
}

function structCap(cfgType: number, offset: number, length: number): Capability {
  return {
    id: pci.PCI_CAP_ID_VNDR,
    sizeBytes: VIRTIO_PCI_CAP_SIZEOF,
    init: (cs, at) => capBody(cs, at, VIRTIO_PCI_CAP_SIZEOF, cfgType, VIRTIO_BAR, offset, length),
  };
}

/** The five vendor capabilities in the driver's order of preference. */
export function virtioCapabilities(layout: VirtioCapsLayout, window: PciCfgWindowTarget): Capability[] {
  return [
    structCap(virtio.VIRTIO_PCI_CAP_COMMON_CFG, COMMON_CFG_OFFSET, COMMON_CFG_LENGTH),
    structCap(virtio.VIRTIO_PCI_CAP_ISR_CFG, ISR_CFG_OFFSET, ISR_CFG_LENGTH),
    structCap(virtio.VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_CFG_OFFSET, layout.deviceCfgLength),
    {
      id: pci.PCI_CAP_ID_VNDR,
      sizeBytes: VIRTIO_PCI_NOTIFY_CAP_SIZEOF,
      init: (cs, at) => {
        capBody(
          cs,
          at,
          VIRTIO_PCI_NOTIFY_CAP_SIZEOF,
          virtio.VIRTIO_PCI_CAP_NOTIFY_CFG,
          VIRTIO_BAR,
          NOTIFY_CFG_OFFSET,
          layout.notifyLength,
        );
        cs.set(at + virtio.VIRTIO_PCI_NOTIFY_CAP_MULT, 4, NOTIFY_OFF_MULTIPLIER);
      },
    },
    pciCfgCapability(window),
  ];
}

function pciCfgCapability(window: PciCfgWindowTarget): Capability {
  return {
    id: pci.PCI_CAP_ID_VNDR,
    sizeBytes: VIRTIO_PCI_CFG_CAP_SIZEOF,
    init: (cs, at) => {
      capBody(cs, at, VIRTIO_PCI_CFG_CAP_SIZEOF, virtio.VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0);
      cs.setWritable(at + virtio.VIRTIO_PCI_CAP_BAR, 1, 0xff);
      cs.setWritable(at + virtio.VIRTIO_PCI_CAP_OFFSET, 4, 0xffffffff);
      cs.setWritable(at + virtio.VIRTIO_PCI_CAP_LENGTH, 4, 0xffffffff);
      cs.setWritable(at + CFG_CAP_DATA, 4, 0xffffffff);
      const target = (): { bar: number; offset: number; width: 1 | 2 | 4 } | undefined => {
        const bar = cs.get(at + virtio.VIRTIO_PCI_CAP_BAR, 1);
        const offset = cs.get(at + virtio.VIRTIO_PCI_CAP_OFFSET, 4);
        const length = cs.get(at + virtio.VIRTIO_PCI_CAP_LENGTH, 4);
        // transport-pci.tex: length is 1, 2 or 4 and offset a multiple of it.
        if (length !== 1 && length !== 2 && length !== 4) return undefined;
        if (offset % length !== 0) return undefined;
        return { bar, offset, width: length };
      };
      const latch = (): void => {
        const t = target();
        const v = t === undefined ? undefined : window.peek(t.bar, t.offset, t.width);
        if (v !== undefined) cs.set(at + CFG_CAP_DATA, t!.width, v);
      };
      cs.addHook({
        offset: at + virtio.VIRTIO_PCI_CAP_BAR,
        length: CFG_CAP_DATA - virtio.VIRTIO_PCI_CAP_BAR,
        onWrite: latch,
      });
      cs.addHook({
        offset: at + CFG_CAP_DATA,
        length: 4,
        onWrite: () => {
          const t = target();
          if (t === undefined) return;
          window.windowWrite(t.bar, t.offset, t.width, cs.get(at + CFG_CAP_DATA, t.width));
          latch();
        },
      });
    },
  };
}
