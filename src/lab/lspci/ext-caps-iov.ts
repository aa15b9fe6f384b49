/**
 * Extended capabilities of I/O virtualization (PCIe Base 6.x, 9.3 and 10): SR-IOV, ARI, ACS, ATS, PRI
 * and PASID, as lspci 3.9.0 prints them at -vv.
 *
 * The SR-IOV VF BAR lines carry no `[size=]`: pciutils 3.9.0 prints none there, live or not, and skips
 * a VF BAR that reads 0.
 */
import { pci } from '../../spec/index.js';
import type { Decoder } from './context.js';
import * as r from './regs.js';
import { bits, flag, flags, hx } from './text.js';

const ACS_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['SrcValid', r.PCI_ACS_SV],
  ['TransBlk', r.PCI_ACS_TB],
  ['ReqRedir', r.PCI_ACS_RR],
  ['CmpltRedir', r.PCI_ACS_CR],
  ['UpstreamFwd', r.PCI_ACS_UF],
  ['EgressCtrl', r.PCI_ACS_EC],
  ['DirectTrans', r.PCI_ACS_DT],
];

export const capAcs: Decoder = (ctx, d, where) => {
  ctx.out.line('Access Control Services');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_ACS_CAP, 4)) return;
  ctx.out.line(`\t\tACSCap:\t${flags(d.cfg.word(where + r.PCI_ACS_CAP), ACS_FLAGS)}`);
  ctx.out.line(`\t\tACSCtl:\t${flags(d.cfg.word(where + r.PCI_ACS_CTRL), ACS_FLAGS)}`);
};

export const capAri: Decoder = (ctx, d, where) => {
  ctx.out.line('Alternative Routing-ID Interpretation (ARI)');
  if (ctx.verbose < 2 || !d.cfg.has(where + pci.PCI_ARI_CAP, 4)) return;
  const cap = d.cfg.word(where + pci.PCI_ARI_CAP);
  ctx.out.line(
    `\t\tARICap:\tMFVC${flag(cap, pci.PCI_ARI_CAP_MFVC)} ACS${flag(cap, pci.PCI_ARI_CAP_ACS)}, ` +
      `Next Function: ${bits(cap, pci.PCI_ARI_CAP_NFN_SHIFT, 8)}`,
  );
  const ctl = d.cfg.word(where + pci.PCI_ARI_CTRL);
  ctx.out.line(
    `\t\tARICtl:\tMFVC${flag(ctl, pci.PCI_ARI_CTRL_MFVC)} ACS${flag(ctl, pci.PCI_ARI_CTRL_ACS)}, ` +
      `Function Group: ${(ctl & pci.PCI_ARI_CTRL_FG) >> 4}`,
  );
};

export const capAts: Decoder = (ctx, d, where) => {
  ctx.out.line('Address Translation Service (ATS)');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_ATS_CAP, 4)) return;
  ctx.out.line(
    `\t\tATSCap:\tInvalidate Queue Depth: ` +
      hx(d.cfg.word(where + r.PCI_ATS_CAP) & r.PCI_ATS_CAP_QDEP_MASK, 2),
  );
  const w = d.cfg.word(where + r.PCI_ATS_CTRL);
  ctx.out.line(
    `\t\tATSCtl:\tEnable${flag(w, r.PCI_ATS_CTRL_ENABLE)}, Smallest Translation Unit: ` +
      hx(w & r.PCI_ATS_CTRL_STU_MASK, 2),
  );
};

/** PRI control through the allocation register (PCIe 10.5.2). */
const PRI_BYTES = r.PCI_PRI_ALLOC_REQ + 4 - r.PCI_PRI_CTRL;

export const capPri: Decoder = (ctx, d, where) => {
  ctx.out.line('Page Request Interface (PRI)');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_PRI_CTRL, PRI_BYTES)) return;
  const ctl = d.cfg.word(where + r.PCI_PRI_CTRL);
  ctx.out.line(
    `\t\tPRICtl: Enable${flag(ctl, r.PCI_PRI_CTRL_ENABLE)} Reset${flag(ctl, r.PCI_PRI_CTRL_RESET)}`,
  );
  const sta = d.cfg.word(where + r.PCI_PRI_STATUS);
  ctx.out.line(
    `\t\tPRISta: RF${flag(sta, r.PCI_PRI_STATUS_RF)} UPRGI${flag(sta, r.PCI_PRI_STATUS_UPRGI)} ` +
      `Stopped${flag(sta, r.PCI_PRI_STATUS_STOPPED)}`,
  );
  ctx.out.line(
    `\t\tPage Request Capacity: ${hx(d.cfg.long(where + r.PCI_PRI_MAX_REQ), 8)}, ` +
      `Page Request Allocation: ${hx(d.cfg.long(where + r.PCI_PRI_ALLOC_REQ), 8)}`,
  );
};

export const capPasid: Decoder = (ctx, d, where) => {
  ctx.out.line('Process Address Space ID (PASID)');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_PASID_CAP, 4)) return;
  const cap = d.cfg.word(where + r.PCI_PASID_CAP);
  ctx.out.line(
    `\t\tPASIDCap: Exec${flag(cap, r.PCI_PASID_CAP_EXEC)} Priv${flag(cap, r.PCI_PASID_CAP_PRIV)}, ` +
      `Max PASID Width: ${hx(bits(cap, r.PCI_PASID_CAP_WIDTH_SHIFT, 5), 2)}`,
  );
  const ctl = d.cfg.word(where + r.PCI_PASID_CTRL);
  ctx.out.line(
    `\t\tPASIDCtl: Enable${flag(ctl, r.PCI_PASID_CTRL_ENABLE)} Exec${flag(ctl, r.PCI_PASID_CTRL_EXEC)} ` +
      `Priv${flag(ctl, r.PCI_PASID_CTRL_PRIV)}`,
  );
};

/** SR-IOV capability registers up to the VF Migration State register (PCIe 9.3.3). */
const SRIOV_BYTES = 0x3c;

export const capSriov: Decoder = (ctx, d, where) => {
  const out = ctx.out;
  const c = d.cfg;
  out.line('Single Root I/O Virtualization (SR-IOV)');
  if (ctx.verbose < 2 || !c.has(where + pci.PCI_SRIOV_CAP, SRIOV_BYTES)) return;
  const cap = c.long(where + pci.PCI_SRIOV_CAP);
  out.line(
    `\t\tIOVCap:\tMigration${flag(cap, pci.PCI_SRIOV_CAP_VFM)} ` +
      `10BitTagReq${flag(cap, r.PCI_SRIOV_CAP_VF_10BIT_TAG_REQ)} ` +
      `Interrupt Message Number: ${hx(cap >>> pci.PCI_SRIOV_CAP_INTR_SHIFT, 3)}`,
  );
  const ctl = c.word(where + pci.PCI_SRIOV_CTRL);
  out.line(
    `\t\tIOVCtl:\t${flags(ctl, [
      ['Enable', pci.PCI_SRIOV_CTRL_VFE],
      ['Migration', pci.PCI_SRIOV_CTRL_VFM],
      ['Interrupt', pci.PCI_SRIOV_CTRL_INTR],
      ['MSE', pci.PCI_SRIOV_CTRL_MSE],
      ['ARIHierarchy', pci.PCI_SRIOV_CTRL_ARI],
      ['10BitTagReq', r.PCI_SRIOV_CTRL_VF_10BIT_TAG_REQ_EN],
    ])}`,
  );
  out.line(`\t\tIOVSta:\tMigration${flag(c.word(where + pci.PCI_SRIOV_STATUS), pci.PCI_SRIOV_STATUS_VFM)}`);
  out.line(
    `\t\tInitial VFs: ${c.word(where + pci.PCI_SRIOV_INITIAL_VF)}, ` +
      `Total VFs: ${c.word(where + pci.PCI_SRIOV_TOTAL_VF)}, ` +
      `Number of VFs: ${c.word(where + pci.PCI_SRIOV_NUM_VF)}, ` +
      `Function Dependency Link: ${hx(c.byte(where + pci.PCI_SRIOV_FUNC_LINK), 2)}`,
  );
  out.line(
    `\t\tVF offset: ${c.word(where + pci.PCI_SRIOV_VF_OFFSET)}, ` +
      `stride: ${c.word(where + pci.PCI_SRIOV_VF_STRIDE)}, ` +
      `Device ID: ${hx(c.word(where + pci.PCI_SRIOV_VF_DID), 4)}`,
  );
  out.line(
    `\t\tSupported Page Size: ${hx(c.long(where + pci.PCI_SRIOV_SUP_PGSIZE), 8)}, ` +
      `System Page Size: ${hx(c.long(where + pci.PCI_SRIOV_SYS_PGSIZE), 8)}`,
  );
  for (let i = 0; i < pci.PCI_SRIOV_NUM_BARS; i++) {
    let l = c.long(where + pci.PCI_SRIOV_BAR + 4 * i);
    if (l === 0xffffffff) l = 0;
    if (l === 0) continue;
    const bar = i;
    const type = l & pci.PCI_BASE_ADDRESS_MEM_TYPE_MASK;
    let high = '';
    if (type === pci.PCI_BASE_ADDRESS_MEM_TYPE_64) {
      i++;
      high = hx(c.long(where + pci.PCI_SRIOV_BAR + 4 * i), 8);
    }
    const width = type === pci.PCI_BASE_ADDRESS_MEM_TYPE_32 ? '32' : '64';
    const pref = (l & pci.PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0 ? '' : 'non-';
    out.line(
      `\t\tRegion ${bar}: Memory at ${high}${hx((l & pci.PCI_BASE_ADDRESS_MEM_MASK) >>> 0, 8)} (${width}-bit, ${pref}prefetchable)`,
    );
  }
  const vfm = c.long(where + pci.PCI_SRIOV_VFM);
  out.line(
    `\t\tVF Migration: offset: ${hx((vfm & r.PCI_SRIOV_VFM_OFFSET) >>> 0, 8)}, ` +
      `BIR: ${vfm & r.PCI_SRIOV_VFM_BIR}`,
  );
};
