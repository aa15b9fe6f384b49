/**
 * The extended capability list (PCIe Base 6.x, 7.6: from offset 0x100, a 32-bit header of ID, version,
 * next). lspci 3.9.0 walks it after a PCI Express or PCI-X capability; it stops at a zero or all-ones
 * header, at a loop, or where the bytes read end. Decoded at -vv: AER, ACS, ARI, ATS, PRI, PASID,
 * SR-IOV, LTR, TPH, Secondary PCIe, DPC, L1 PM Substates, PTM, Resizable BAR, DOE; the serial number
 * and vendor-specific headers at any level; other known IDs by name with lspci's `<?>`. The decoders
 * live in ext-caps-iov.ts (virtualization) and ext-caps-port.ts (errors, power, link).
 *
 * Deliberately left out: the -vv detail lines of Virtual Channel, Multicast, Root Complex Link
 * Declaration, Root Complex Event Collector and the CXL DVSECs (their first line is printed); vfiolab
 * models no device with them.
 */
import { pci } from '../../spec/index.js';
import type { Decoder, LspciContext, PciDev } from './context.js';
import { capAcs, capAri, capAts, capPasid, capPri, capSriov } from './ext-caps-iov.js';
import {
  capAer,
  capDoe,
  capDpc,
  capL1pm,
  capLtr,
  capPtm,
  capRebar,
  capSecPci,
  capTph,
} from './ext-caps-port.js';
import * as r from './regs.js';
import { bits, hx } from './text.js';

const capDsn: Decoder = (ctx, d, where) => {
  if (!d.cfg.has(where + r.PCI_DSN_LOWER, 8)) return;
  const low = d.cfg.long(where + r.PCI_DSN_LOWER);
  const high = d.cfg.long(where + r.PCI_DSN_UPPER);
  const octets = [high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff];
  octets.push(low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
  ctx.out.line(`Device Serial Number ${octets.map((o) => hx(o, 2)).join('-')}`);
};

const capVendor: Decoder = (ctx, d, where) => {
  ctx.out.print('Vendor Specific Information: ');
  if (!d.cfg.has(where + r.PCI_VNDR_HEADER, 4)) {
    ctx.out.line('<unreadable>');
    return;
  }
  const h = d.cfg.long(where + r.PCI_VNDR_HEADER);
  ctx.out.line(`ID=${hx(bits(h, 0, 16), 4)} Rev=${bits(h, 16, 4)} Len=${hx(bits(h, 20, 12), 3)} <?>`);
};

/** PCI-SIG vendor ID: a DVSEC owned by CXL (decoded by lspci, not here). */
const CXL_VENDOR_ID = 0x1e98;
const CXL_DVSEC_MIN_LEN = 16;

const capDvsec: Decoder = (ctx, d, where) => {
  ctx.out.print('Designated Vendor-Specific: ');
  if (!d.cfg.has(where + r.PCI_DVSEC_HEADER1, 8)) {
    ctx.out.line('<unreadable>');
    return;
  }
  const h = d.cfg.long(where + r.PCI_DVSEC_HEADER1);
  const vendor = bits(h, 0, 16);
  const len = bits(h, 20, 12);
  const id = d.cfg.word(where + r.PCI_DVSEC_HEADER2);
  ctx.out.print(`Vendor=${hx(vendor, 4)} ID=${hx(id, 4)} Rev=${bits(h, 16, 4)} Len=${len}`);
  // SPEC-DEVIATION: CXL DVSECs are not decoded; lspci would print CXL lines here.
  ctx.out.line(vendor === CXL_VENDOR_ID && len >= CXL_DVSEC_MIN_LEN ? ': CXL' : ' <?>');
};

const named =
  (text: string): Decoder =>
  (ctx) =>
    ctx.out.line(text);

const DECODERS: Record<number, Decoder> = {
  [r.PCI_EXT_CAP_ID_NULL]: named('Null'),
  [pci.PCI_EXT_CAP_ID_ERR]: capAer,
  [r.PCI_EXT_CAP_ID_DPC]: capDpc,
  [r.PCI_EXT_CAP_ID_VC]: named('Virtual Channel'),
  [r.PCI_EXT_CAP_ID_VC9]: named('Virtual Channel'),
  [pci.PCI_EXT_CAP_ID_DSN]: capDsn,
  [r.PCI_EXT_CAP_ID_PWR]: named('Power Budgeting <?>'),
  [r.PCI_EXT_CAP_ID_RCLD]: named('Root Complex Link'),
  [r.PCI_EXT_CAP_ID_RCILC]: named('Root Complex Internal Link <?>'),
  [r.PCI_EXT_CAP_ID_RCEC]: named('Root Complex Event Collector Endpoint Association'),
  [r.PCI_EXT_CAP_ID_MFVC]: named('Multi-Function Virtual Channel <?>'),
  [r.PCI_EXT_CAP_ID_RCRB]: named('Root Complex Register Block <?>'),
  [r.PCI_EXT_CAP_ID_VNDR]: capVendor,
  [r.PCI_EXT_CAP_ID_ACS]: capAcs,
  [pci.PCI_EXT_CAP_ID_ARI]: capAri,
  [r.PCI_EXT_CAP_ID_ATS]: capAts,
  [pci.PCI_EXT_CAP_ID_SRIOV]: capSriov,
  [r.PCI_EXT_CAP_ID_MRIOV]: named('Multi-Root I/O Virtualization <?>'),
  [r.PCI_EXT_CAP_ID_MCAST]: named('Multicast'),
  [r.PCI_EXT_CAP_ID_PRI]: capPri,
  [r.PCI_EXT_CAP_ID_REBAR]: (ctx, d, where) => capRebar(ctx, d, where, false),
  [r.PCI_EXT_CAP_ID_DPA]: named('Dynamic Power Allocation <?>'),
  [r.PCI_EXT_CAP_ID_TPH]: capTph,
  [r.PCI_EXT_CAP_ID_LTR]: capLtr,
  [r.PCI_EXT_CAP_ID_SECPCI]: capSecPci,
  [r.PCI_EXT_CAP_ID_PMUX]: named('Protocol Multiplexing <?>'),
  [r.PCI_EXT_CAP_ID_PASID]: capPasid,
  [r.PCI_EXT_CAP_ID_LNR]: named('LN Requester <?>'),
  [r.PCI_EXT_CAP_ID_L1SS]: capL1pm,
  [r.PCI_EXT_CAP_ID_PTM]: capPtm,
  [r.PCI_EXT_CAP_ID_MPHY]: named('PCI Express over M_PHY <?>'),
  [r.PCI_EXT_CAP_ID_FRS]: named('FRS Queueing <?>'),
  [r.PCI_EXT_CAP_ID_RTR]: named('Readiness Time Reporting <?>'),
  [r.PCI_EXT_CAP_ID_DVSEC]: capDvsec,
  [r.PCI_EXT_CAP_ID_VF_REBAR]: (ctx, d, where) => capRebar(ctx, d, where, true),
  [r.PCI_EXT_CAP_ID_DLF]: named('Data Link Feature <?>'),
  [r.PCI_EXT_CAP_ID_PL_16GT]: named('Physical Layer 16.0 GT/s <?>'),
  [r.PCI_EXT_CAP_ID_LMR]: named('Lane Margining at the Receiver <?>'),
  [r.PCI_EXT_CAP_ID_HIER_ID]: named('Hierarchy ID <?>'),
  [r.PCI_EXT_CAP_ID_NPEM]: named('Native PCIe Enclosure Management <?>'),
  [r.PCI_EXT_CAP_ID_DOE]: capDoe,
};

/** Walk the extended capabilities; `type` is the PCI Express port type (-1 without the capability). */
export function showExtCaps(ctx: LspciContext, d: PciDev, type: number): void {
  const out = ctx.out;
  const seen = new Set<number>();
  let where = pci.PCI_EXT_CAP_START;
  do {
    if (!d.cfg.has(where, 4)) break;
    const header = d.cfg.long(where);
    if (header === 0 || header === 0xffffffff) break;
    const id = header & pci.PCI_EXT_CAP_ID_MASK;
    const version = (header >>> pci.PCI_EXT_CAP_VER_SHIFT) & r.PCI_EXT_CAP_VER_MASK;
    out.print(`\tCapabilities: [${hx(where, 3)}${ctx.verbose > 1 ? ` v${version}` : ''}] `);
    if (seen.has(where)) {
      out.line('<chain looped>');
      break;
    }
    seen.add(where);
    const decode = DECODERS[id];
    if (decode !== undefined) decode(ctx, d, where, type);
    else out.line(`Extended Capability ID ${id === 0 ? '0' : `0x${id.toString(16)}`}`);
    where = (header >>> pci.PCI_EXT_CAP_NEXT_SHIFT) & r.PCI_EXT_CAP_NEXT_MASK;
  } while (where !== 0);
}
