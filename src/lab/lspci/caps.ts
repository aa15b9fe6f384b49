/**
 * The standard capability list (PCI Local Bus 3.0, 6.7): one `Capabilities: [xx] ...` line per entry,
 * with the -vv detail lines of Power Management (PCI PM 1.2), MSI (6.8.1), MSI-X (6.8.2), the virtio
 * vendor-specific capabilities (virtio 1.2, 4.1.4; what lspci decodes for 1af4:1000..107f), the PCI
 * Express capability (pcie.ts) and a few small ones. A chain that loops or reads ff stops as lspci stops
 * it; a capability beyond the bytes that were read is `<access denied>`.
 *
 * The capabilities of older buses (AGP, PCI-X, HyperTransport, EA, ...) are in caps-legacy.ts.
 */
import { pci } from '../../spec/index.js';
import { capAf, capAgp, capEa, capHt, capPcix, capSata, capVpd } from './caps-legacy.js';
import type { LspciContext, PciDev } from './context.js';
import { showExtCaps } from './ext-caps.js';
import { showExpress } from './pcie.js';
import * as r from './regs.js';
import { bits, flag, hx } from './text.js';

/** PCI PM 1.2 3.2.3: auxiliary current in mA per Aux_Current encoding. */
const PM_AUX_CURRENT_MA = [0, 55, 100, 160, 220, 270, 320, 375];

const PM_PME_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['D0', r.PCI_PM_CAP_PME_D0],
  ['D1', r.PCI_PM_CAP_PME_D1],
  ['D2', r.PCI_PM_CAP_PME_D2],
  ['D3hot', r.PCI_PM_CAP_PME_D3HOT],
  ['D3cold', r.PCI_PM_CAP_PME_D3COLD],
];

function capPm(ctx: LspciContext, d: PciDev, where: number, cap: number): void {
  const out = ctx.out;
  out.line(`Power Management version ${cap & pci.PCI_PM_CAP_VER_MASK}`);
  if (ctx.verbose < 2) return;
  const aux = PM_AUX_CURRENT_MA[(cap & pci.PCI_PM_CAP_AUX_POWER) >> r.PCI_PM_CAP_AUX_POWER_SHIFT];
  const pme = PM_PME_FLAGS.map(([n, m]) => n + flag(cap, m)).join(',');
  out.line(
    `\t\tFlags: PMEClk${flag(cap, pci.PCI_PM_CAP_PME_CLOCK)} DSI${flag(cap, pci.PCI_PM_CAP_DSI)} ` +
      `D1${flag(cap, pci.PCI_PM_CAP_D1)} D2${flag(cap, pci.PCI_PM_CAP_D2)} AuxCurrent=${aux}mA PME(${pme})`,
  );
  if (!d.cfg.has(where + pci.PCI_PM_CTRL, pci.PCI_PM_SIZEOF - pci.PCI_PM_CTRL)) return;
  const t = d.cfg.word(where + pci.PCI_PM_CTRL);
  out.line(
    `\t\tStatus: D${t & pci.PCI_PM_CTRL_STATE_MASK} NoSoftRst${flag(t, pci.PCI_PM_CTRL_NO_SOFT_RESET)} ` +
      `PME-Enable${flag(t, pci.PCI_PM_CTRL_PME_ENABLE)} ` +
      `DSel=${(t & pci.PCI_PM_CTRL_DATA_SEL_MASK) >> r.PCI_PM_CTRL_DATA_SEL_SHIFT} ` +
      `DScale=${(t & pci.PCI_PM_CTRL_DATA_SCALE_MASK) >> r.PCI_PM_CTRL_DATA_SCALE_SHIFT} ` +
      `PME${flag(t, pci.PCI_PM_CTRL_PME_STATUS)}`,
  );
  const b = d.cfg.byte(where + pci.PCI_PM_PPB_EXTENSIONS);
  if (b !== 0) out.line(`\t\tBridge: PM${flag(b, r.PCI_PM_BPCC_ENABLE)} B3${flag(~b, r.PCI_PM_PPB_B2_B3)}`);
}

function capMsi(ctx: LspciContext, d: PciDev, where: number, cap: number): void {
  const out = ctx.out;
  const is64 = (cap & r.PCI_MSI_FLAGS_64BIT) !== 0;
  out.line(
    `MSI: Enable${flag(cap, r.PCI_MSI_FLAGS_ENABLE)} ` +
      `Count=${1 << ((cap & r.PCI_MSI_FLAGS_QSIZE) >> 4)}/${1 << ((cap & r.PCI_MSI_FLAGS_QMASK) >> 1)} ` +
      `Maskable${flag(cap, r.PCI_MSI_FLAGS_MASKBIT)} 64bit${flag(cap, r.PCI_MSI_FLAGS_64BIT)}`,
  );
  if (ctx.verbose < 2) return;
  const dataAt = is64 ? r.PCI_MSI_DATA_64 : r.PCI_MSI_DATA_32;
  if (!d.cfg.has(where + r.PCI_MSI_ADDRESS_LO, dataAt + 2 - r.PCI_MSI_ADDRESS_LO)) return;
  const high = is64 ? hx(d.cfg.long(where + r.PCI_MSI_ADDRESS_HI), 8) : '';
  const data = d.cfg.word(where + dataAt);
  out.line(`\t\tAddress: ${high}${hx(d.cfg.long(where + r.PCI_MSI_ADDRESS_LO), 8)}  Data: ${hx(data, 4)}`);
  if ((cap & r.PCI_MSI_FLAGS_MASKBIT) === 0) return;
  const maskAt = is64 ? r.PCI_MSI_MASK_64 : r.PCI_MSI_MASK_32;
  const pendingAt = is64 ? r.PCI_MSI_PENDING_64 : r.PCI_MSI_PENDING_32;
  if (!d.cfg.has(where + maskAt, 8)) return;
  const mask = d.cfg.long(where + maskAt);
  const pending = d.cfg.long(where + pendingAt);
  out.line(`\t\tMasking: ${hx(mask, 8)}  Pending: ${hx(pending, 8)}`);
}

function capMsix(ctx: LspciContext, d: PciDev, where: number, cap: number): void {
  const out = ctx.out;
  out.line(
    `MSI-X: Enable${flag(cap, pci.PCI_MSIX_FLAGS_ENABLE)} Count=${(cap & pci.PCI_MSIX_FLAGS_QSIZE) + 1} ` +
      `Masked${flag(cap, pci.PCI_MSIX_FLAGS_MASKALL)}`,
  );
  if (ctx.verbose < 2 || !d.cfg.has(where + pci.PCI_MSIX_TABLE, 8)) return;
  const table = d.cfg.long(where + pci.PCI_MSIX_TABLE);
  out.line(
    `\t\tVector table: BAR=${table & pci.PCI_MSIX_TABLE_BIR} ` +
      `offset=${hx((table & ~pci.PCI_MSIX_TABLE_BIR) >>> 0, 8)}`,
  );
  const pba = d.cfg.long(where + pci.PCI_MSIX_PBA);
  out.line(`\t\tPBA: BAR=${pba & pci.PCI_MSIX_PBA_BIR} offset=${hx((pba & ~pci.PCI_MSIX_PBA_BIR) >>> 0, 8)}`);
}

/** virtio 1.2 4.1.4: the cfg_type of a virtio PCI capability. */
const VIRTIO_CFG_TYPE_NAMES: Record<number, string> = {
  1: 'CommonCfg',
  2: 'Notify',
  3: 'ISR',
  4: 'DeviceCfg',
};
const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
/** virtio_pci_cap is 16 bytes; the notify capability adds the 4-byte multiplier. */
const VIRTIO_PCI_CAP_SIZEOF = 16;
const VIRTIO_PCI_NOTIFY_CAP_SIZEOF = 20;
const VIRTIO_PCI_CAP_BAR = 4;
const VIRTIO_PCI_CAP_OFFSET = 8;
const VIRTIO_PCI_CAP_LENGTH = 12;
const VIRTIO_PCI_NOTIFY_MULTIPLIER = 16;
/** virtio 1.2 4.1.2.1: PCI vendor 1af4 with device IDs 1000..107f are virtio devices. */
const VIRTIO_VENDOR_ID = 0x1af4;
const VIRTIO_DEVICE_ID_FIRST = 0x1000;
const VIRTIO_DEVICE_ID_LAST = 0x107f;

/**
 * Vendor-specific capability (ID 09). pciutils 3.9.0 decodes only virtio's, and decides that from the
 * vendor/device IDs in config space (so not on a VF, whose config space reads ffff:ffff); otherwise it
 * prints `Vendor Specific Information: Len=xx <?>`.
 */
function capVendor(ctx: LspciContext, d: PciDev, where: number, cap: number): void {
  const out = ctx.out;
  out.print('Vendor Specific Information: ');
  const length = bits(cap, 0, 8);
  const type = bits(cap, 8, 8);
  const deviceId = d.cfg.word(pci.PCI_DEVICE_ID);
  const isVirtio =
    d.cfg.word(pci.PCI_VENDOR_ID) === VIRTIO_VENDOR_ID &&
    deviceId >= VIRTIO_DEVICE_ID_FIRST &&
    deviceId <= VIRTIO_DEVICE_ID_LAST;
  if (!isVirtio || length < VIRTIO_PCI_CAP_SIZEOF || !d.cfg.has(where, length)) {
    out.line(`Len=${hx(length, 2)} <?>`);
    return;
  }
  out.line(`VirtIO: ${VIRTIO_CFG_TYPE_NAMES[type] ?? '<unknown>'}`);
  if (ctx.verbose < 2) return;
  let text =
    `\t\tBAR=${d.cfg.byte(where + VIRTIO_PCI_CAP_BAR)} ` +
    `offset=${hx(d.cfg.long(where + VIRTIO_PCI_CAP_OFFSET), 8)} ` +
    `size=${hx(d.cfg.long(where + VIRTIO_PCI_CAP_LENGTH), 8)}`;
  if (type === VIRTIO_PCI_CAP_NOTIFY_CFG && length >= VIRTIO_PCI_NOTIFY_CAP_SIZEOF) {
    text += ` multiplier=${hx(d.cfg.long(where + VIRTIO_PCI_NOTIFY_MULTIPLIER), 8)}`;
  }
  out.line(text);
}

function capSsvid(ctx: LspciContext, d: PciDev, where: number): void {
  if (!d.cfg.has(where, 8)) return;
  const sv = d.cfg.word(where + r.PCI_SSVID_VENDOR_ID);
  const sd = d.cfg.word(where + r.PCI_SSVID_DEVICE_ID);
  ctx.out.line(`Subsystem: ${ctx.names.subsystem(d.vendorId, d.deviceId, sv, sd)}`);
}

/** EHCI 1.0 C.2: the debug port capability holds a 3-bit BAR number above a 13-bit offset. */
const DBG_BAR_SHIFT = 13;

/** Capability names printed without decoding (`<?>` marks what lspci does not decode either). */
const PLAIN_CAPS: Record<number, string> = {
  [r.PCI_CAP_ID_NULL]: 'Null',
  [r.PCI_CAP_ID_CHSWP]: 'CompactPCI hot-swap <?>',
  [r.PCI_CAP_ID_CCRC]: 'CompactPCI central resource control <?>',
  [r.PCI_CAP_ID_SHPC]: 'Hot-plug capable',
  [r.PCI_CAP_ID_AGP3]: 'AGP3 <?>',
  [r.PCI_CAP_ID_SECDEV]: 'Secure device <?>',
};

/** The standard capability list starting at the pointer register `where`; then the extended list. */
export function showCaps(ctx: LspciContext, d: PciDev, where: number): void {
  const out = ctx.out;
  const c = d.cfg;
  let canHaveExtCaps = false;
  let type = -1;
  if ((c.word(pci.PCI_STATUS) & pci.PCI_STATUS_CAP_LIST) !== 0) {
    const seen = new Set<number>();
    let at = c.byte(where) & ~3;
    while (at !== 0) {
      out.print('\tCapabilities: ');
      if (!c.has(at, 4)) {
        out.line('<access denied>');
        break;
      }
      const id = c.byte(at + pci.PCI_CAP_LIST_ID);
      const next = c.byte(at + pci.PCI_CAP_LIST_NEXT) & ~3;
      const cap = c.word(at + r.PCI_CAP_FLAGS);
      out.print(`[${hx(at, 2)}] `);
      if (seen.has(at)) {
        out.line('<chain looped>');
        break;
      }
      seen.add(at);
      if (id === r.PCI_CAP_ID_INVALID) {
        out.line('<chain broken>');
        break;
      }
      switch (id) {
        case pci.PCI_CAP_ID_PM:
          capPm(ctx, d, at, cap);
          break;
        case r.PCI_CAP_ID_AGP:
          capAgp(ctx, d, at, cap);
          break;
        case r.PCI_CAP_ID_VPD:
          capVpd(ctx);
          break;
        case r.PCI_CAP_ID_SLOTID:
          out.line(
            `Slot ID: ${cap & r.PCI_SID_ESR_NSLOTS} slots, First${flag(cap, r.PCI_SID_ESR_FIC)}, ` +
              `chassis ${hx(cap >> 8, 2)}`,
          );
          break;
        case pci.PCI_CAP_ID_MSI:
          capMsi(ctx, d, at, cap);
          break;
        case r.PCI_CAP_ID_PCIX:
          capPcix(ctx, d, at);
          canHaveExtCaps = true;
          break;
        case r.PCI_CAP_ID_HT:
          capHt(ctx, d, at, cap);
          break;
        case pci.PCI_CAP_ID_VNDR:
          capVendor(ctx, d, at, cap);
          break;
        case r.PCI_CAP_ID_DBG:
          out.line(
            `Debug port: BAR=${bits(cap, DBG_BAR_SHIFT, 3)} offset=${hx(bits(cap, 0, DBG_BAR_SHIFT), 4)}`,
          );
          break;
        case r.PCI_CAP_ID_SSVID:
          capSsvid(ctx, d, at);
          break;
        case pci.PCI_CAP_ID_EXP:
          type = showExpress(ctx, d, at, cap);
          canHaveExtCaps = true;
          break;
        case pci.PCI_CAP_ID_MSIX:
          capMsix(ctx, d, at, cap);
          break;
        case r.PCI_CAP_ID_SATA:
          capSata(ctx, d, at, cap);
          break;
        case r.PCI_CAP_ID_AF:
          capAf(ctx, d, at);
          break;
        case r.PCI_CAP_ID_EA:
          capEa(ctx, d, at, cap);
          break;
        default: {
          const plain = PLAIN_CAPS[id];
          out.line(plain ?? `Capability ID ${id === 0 ? '0' : `0x${hx(id, 1)}`} [${hx(cap, 4)}]`);
        }
      }
      at = next;
    }
  }
  if (canHaveExtCaps) showExtCaps(ctx, d, type);
}
