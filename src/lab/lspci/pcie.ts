/**
 * The PCI Express capability (PCIe Base 6.x, 7.5.3) as lspci 3.9.0 prints it: the type line, then at
 * -vv DevCap/DevCtl/DevSta, LnkCap/LnkCtl/LnkSta, SltCap/SltCtl/SltSta (ports with a slot),
 * RootCap/RootCtl/RootSta (root ports and event collectors), and for a v2 capability DevCap2/DevCtl2,
 * LnkCap2/LnkCtl2 and LnkSta2 (pcie-v2.ts). Which fields appear depends on the port type exactly as
 * in lspci, e.g. an endpoint that is not function 00.0 shows no LnkCap2/LnkCtl2 (reserved before
 * PCIe 3.0).
 */
import { pci } from '../../spec/index.js';
import type { LspciContext, PciDev } from './context.js';
import {
  DOWNSTREAM,
  EP,
  isDownstreamPort,
  LEG_END,
  LINK_SPEEDS,
  PCI_BRIDGE,
  PCIE_BRIDGE,
  RC_EC,
  RC_INT_EP,
  ROOT_PORT,
  UPSTREAM,
} from './pcie-types.js';
import { showDev2, showLink2 } from './pcie-v2.js';
import * as r from './regs.js';
import { bits, flag, flags } from './text.js';

/** `%g` of a C float-scaled value: six significant digits, trailing zeros dropped. */
function formatG(x: number): string {
  const s = x.toPrecision(6);
  if (s.includes('e')) return s;
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Slot power limit: value × scale (PCIe 7.5.3.3), with the 0xF0..0xFF extended encodings. */
function powerLimit(value: number, scale: number): string {
  const EXTENDED_FIRST = 0xf0;
  const EXTENDED_LAST = 0xfe;
  const OVER_600W = 0xff;
  if (scale === 0 && value === OVER_600W) return '>600W';
  let v = value;
  if (scale === 0 && v >= EXTENDED_FIRST && v <= EXTENDED_LAST) v = 250 + 25 * (v - EXTENDED_FIRST);
  const scales = [1.0, 0.1, 0.01, 0.001].map((s) => Math.fround(s));
  return `${formatG(v * scales[scale]!)}W`;
}

const L0S_LATENCY = ['<64ns', '<128ns', '<256ns', '<512ns', '<1us', '<2us', '<4us', 'unlimited'];
const L1_LATENCY = ['<1us', '<2us', '<4us', '<8us', '<16us', '<32us', '<64us', 'unlimited'];

function showDev(ctx: LspciContext, d: PciDev, where: number, type: number): void {
  const out = ctx.out;
  const t = d.cfg.long(where + pci.PCI_EXP_DEVCAP);
  const endpointish = type === EP || type === LEG_END;
  let line = `\t\tDevCap:\tMaxPayload ${128 << (t & pci.PCI_EXP_DEVCAP_PAYLOAD)} bytes, `;
  line += `PhantFunc ${(1 << ((t & pci.PCI_EXP_DEVCAP_PHANTOM) >> 3)) - 1}`;
  if (endpointish) {
    line += `, Latency L0s ${L0S_LATENCY[bits(t, 6, 3)]}, L1 ${L1_LATENCY[bits(t, 9, 3)]}`;
  }
  out.line(line);
  line = `\t\t\tExtTag${flag(t, pci.PCI_EXP_DEVCAP_EXT_TAG)}`;
  if (endpointish || type === UPSTREAM || type === PCI_BRIDGE) {
    line += ` AttnBtn${flag(t, r.PCI_EXP_DEVCAP_ATN_BUT)} AttnInd${flag(t, r.PCI_EXP_DEVCAP_ATN_IND)}`;
    line += ` PwrInd${flag(t, r.PCI_EXP_DEVCAP_PWR_IND)}`;
  }
  line += ` RBE${flag(t, pci.PCI_EXP_DEVCAP_RBER)}`;
  const flrCapable = endpointish || type === RC_INT_EP;
  if (flrCapable) line += ` FLReset${flag(t, pci.PCI_EXP_DEVCAP_FLR)}`;
  if (type === EP || type === UPSTREAM || type === PCI_BRIDGE) {
    line += ` SlotPowerLimit ${powerLimit(bits(t, 18, 8), bits(t, 26, 2))}`;
  }
  out.line(line);

  const w = d.cfg.word(where + pci.PCI_EXP_DEVCTL);
  out.line(
    `\t\tDevCtl:\t${flags(w, [
      ['CorrErr', pci.PCI_EXP_DEVCTL_CERE],
      ['NonFatalErr', pci.PCI_EXP_DEVCTL_NFERE],
      ['FatalErr', pci.PCI_EXP_DEVCTL_FERE],
      ['UnsupReq', pci.PCI_EXP_DEVCTL_URRE],
    ])}`,
  );
  line = `\t\t\t${flags(w, [
    ['RlxdOrd', pci.PCI_EXP_DEVCTL_RELAX_EN],
    ['ExtTag', pci.PCI_EXP_DEVCTL_EXT_TAG],
    ['PhantFunc', pci.PCI_EXP_DEVCTL_PHANTOM],
    ['AuxPwr', pci.PCI_EXP_DEVCTL_AUX_PME],
    ['NoSnoop', pci.PCI_EXP_DEVCTL_NOSNOOP_EN],
  ])}`;
  if (type === PCI_BRIDGE) line += ` BrConfRtry${flag(w, pci.PCI_EXP_DEVCTL_BCR_FLR)}`;
  if (flrCapable && (t & pci.PCI_EXP_DEVCAP_FLR) !== 0)
    line += ` FLReset${flag(w, pci.PCI_EXP_DEVCTL_BCR_FLR)}`;
  out.line(line);
  out.line(
    `\t\t\tMaxPayload ${128 << ((w & pci.PCI_EXP_DEVCTL_PAYLOAD) >> 5)} bytes, ` +
      `MaxReadReq ${128 << ((w & pci.PCI_EXP_DEVCTL_READRQ) >> 12)} bytes`,
  );
  const s = d.cfg.word(where + pci.PCI_EXP_DEVSTA);
  out.line(
    `\t\tDevSta:\t${flags(s, [
      ['CorrErr', pci.PCI_EXP_DEVSTA_CED],
      ['NonFatalErr', pci.PCI_EXP_DEVSTA_NFED],
      ['FatalErr', pci.PCI_EXP_DEVSTA_FED],
      ['UnsupReq', pci.PCI_EXP_DEVSTA_URD],
      ['AuxPwr', pci.PCI_EXP_DEVSTA_AUXPD],
      ['TransPend', pci.PCI_EXP_DEVSTA_TRPND],
    ])}`,
  );
}

const linkSpeed = (speed: number): string => LINK_SPEEDS[speed] ?? 'unknown';

function linkCompare(type: number, sta: number, cap: number): string {
  if (sta > cap) return ' (overdriven)';
  if (sta === cap || isDownstreamPort(type)) return '';
  return ' (downgraded)';
}

const ASPM_SUPPORT = ['not supported', 'L0s', 'L1', 'L0s L1'];
const ASPM_ENABLED = ['Disabled', 'L0s Enabled', 'L1 Enabled', 'L0s L1 Enabled'];

function showLink(ctx: LspciContext, d: PciDev, where: number, type: number): void {
  const out = ctx.out;
  const t = d.cfg.long(where + pci.PCI_EXP_LNKCAP);
  const aspm = bits(t, 10, 2);
  const capSpeed = t & pci.PCI_EXP_LNKCAP_SLS;
  const capWidth = bits(t, 4, 6);
  let line = `\t\tLnkCap:\tPort #${t >>> 24}, Speed ${linkSpeed(capSpeed)}, Width x${capWidth}, `;
  line += `ASPM ${ASPM_SUPPORT[aspm]}`;
  if (aspm !== 0) {
    line += ', Exit Latency ';
    if (aspm & 1) line += `L0s ${L0S_LATENCY[bits(t, 12, 3)]}`;
    if (aspm & 2) line += `${aspm & 1 ? ', ' : ''}L1 ${L1_LATENCY[bits(t, 15, 3)]}`;
  }
  out.line(line);
  out.line(
    `\t\t\t${flags(t, [
      ['ClockPM', pci.PCI_EXP_LNKCAP_CLKPM],
      ['Surprise', pci.PCI_EXP_LNKCAP_SDERC],
      ['LLActRep', pci.PCI_EXP_LNKCAP_DLLLARC],
      ['BwNot', pci.PCI_EXP_LNKCAP_LBNC],
      ['ASPMOptComp', r.PCI_EXP_LNKCAP_ASPM_OPTCOMP],
    ])}`,
  );
  const w = d.cfg.word(where + pci.PCI_EXP_LNKCTL);
  line = `\t\tLnkCtl:\tASPM ${ASPM_ENABLED[w & r.PCI_EXP_LNKCTL_ASPMC]};`;
  if (type === ROOT_PORT || type === EP || type === LEG_END || type === PCI_BRIDGE) {
    line += ` RCB ${(w & r.PCI_EXP_LNKCTL_RCB) !== 0 ? 128 : 64} bytes,`;
  }
  line += ` Disabled${flag(w, r.PCI_EXP_LNKCTL_LD)} CommClk${flag(w, r.PCI_EXP_LNKCTL_CCC)}`;
  out.line(line);
  out.line(
    `\t\t\t${flags(w, [
      ['ExtSynch', r.PCI_EXP_LNKCTL_ES],
      ['ClockPM', r.PCI_EXP_LNKCTL_CLKREQ_EN],
      ['AutWidDis', r.PCI_EXP_LNKCTL_HAWD],
      ['BWInt', r.PCI_EXP_LNKCTL_LBMIE],
      ['AutBWInt', r.PCI_EXP_LNKCTL_LABIE],
    ])}`,
  );
  const s = d.cfg.word(where + pci.PCI_EXP_LNKSTA);
  const staSpeed = s & pci.PCI_EXP_LNKSTA_CLS;
  const staWidth = bits(s, 4, 6);
  out.line(
    `\t\tLnkSta:\tSpeed ${linkSpeed(staSpeed)}${linkCompare(type, staSpeed, capSpeed)}, ` +
      `Width x${staWidth}${linkCompare(type, staWidth, capWidth)}`,
  );
  out.line(
    `\t\t\t${flags(s, [
      ['TrErr', r.PCI_EXP_LNKSTA_LT_ERR],
      ['Train', r.PCI_EXP_LNKSTA_LT],
      ['SlotClk', r.PCI_EXP_LNKSTA_SLC],
      ['DLActive', r.PCI_EXP_LNKSTA_DLLLA],
      ['BWMgmt', r.PCI_EXP_LNKSTA_LBMS],
      ['ABWMgmt', r.PCI_EXP_LNKSTA_LABS],
    ])}`,
  );
}

const INDICATOR = ['Unknown', 'On', 'Blink', 'Off'];

function showSlot(ctx: LspciContext, d: PciDev, where: number): void {
  const out = ctx.out;
  const t = d.cfg.long(where + pci.PCI_EXP_SLTCAP);
  out.line(
    `\t\tSltCap:\t${flags(t, [
      ['AttnBtn', r.PCI_EXP_SLTCAP_ABP],
      ['PwrCtrl', r.PCI_EXP_SLTCAP_PCP],
      ['MRL', r.PCI_EXP_SLTCAP_MRLSP],
      ['AttnInd', r.PCI_EXP_SLTCAP_AIP],
      ['PwrInd', r.PCI_EXP_SLTCAP_PIP],
      ['HotPlug', r.PCI_EXP_SLTCAP_HPC],
      ['Surprise', r.PCI_EXP_SLTCAP_HPS],
    ])}`,
  );
  out.line(
    `\t\t\tSlot #${t >>> 19}, PowerLimit ${powerLimit(bits(t, 7, 8), bits(t, 15, 2))}; ` +
      `Interlock${flag(t, r.PCI_EXP_SLTCAP_EIP)} NoCompl${flag(t, r.PCI_EXP_SLTCAP_NCCS)}`,
  );
  const w = d.cfg.word(where + pci.PCI_EXP_SLTCTL);
  out.line(
    `\t\tSltCtl:\tEnable: ${flags(w, [
      ['AttnBtn', r.PCI_EXP_SLTCTL_ABPE],
      ['PwrFlt', r.PCI_EXP_SLTCTL_PFDE],
      ['MRL', r.PCI_EXP_SLTCTL_MRLSCE],
      ['PresDet', r.PCI_EXP_SLTCTL_PDCE],
      ['CmdCplt', r.PCI_EXP_SLTCTL_CCIE],
      ['HPIrq', r.PCI_EXP_SLTCTL_HPIE],
      ['LinkChg', r.PCI_EXP_SLTCTL_DLLSCE],
    ])}`,
  );
  out.line(
    `\t\t\tControl: AttnInd ${INDICATOR[bits(w, 6, 2)]}, PwrInd ${INDICATOR[bits(w, 8, 2)]}, ` +
      `Power${flag(w, r.PCI_EXP_SLTCTL_PCC)} Interlock${flag(w, r.PCI_EXP_SLTCTL_EIC)}`,
  );
  const s = d.cfg.word(where + pci.PCI_EXP_SLTSTA);
  out.line(
    `\t\tSltSta:\tStatus: ${flags(s, [
      ['AttnBtn', r.PCI_EXP_SLTSTA_ABP],
      ['PowerFlt', r.PCI_EXP_SLTSTA_PFD],
      ['MRL', r.PCI_EXP_SLTSTA_MRLSS],
      ['CmdCplt', r.PCI_EXP_SLTSTA_CC],
      ['PresDet', r.PCI_EXP_SLTSTA_PDS],
      ['Interlock', r.PCI_EXP_SLTSTA_EIS],
    ])}`,
  );
  out.line(
    `\t\t\tChanged: ${flags(s, [
      ['MRL', r.PCI_EXP_SLTSTA_MRLSC],
      ['PresDet', r.PCI_EXP_SLTSTA_PDC],
      ['LinkState', r.PCI_EXP_SLTSTA_DLLSC],
    ])}`,
  );
}

function showRoot(ctx: LspciContext, d: PciDev, where: number): void {
  const out = ctx.out;
  const cap = d.cfg.word(where + pci.PCI_EXP_RTCAP);
  out.line(`\t\tRootCap: CRSVisible${flag(cap, r.PCI_EXP_RTCAP_CRSVIS)}`);
  const ctl = d.cfg.word(where + pci.PCI_EXP_RTCTL);
  out.line(
    `\t\tRootCtl: ${flags(ctl, [
      ['ErrCorrectable', r.PCI_EXP_RTCTL_SECEE],
      ['ErrNon-Fatal', r.PCI_EXP_RTCTL_SENFEE],
      ['ErrFatal', r.PCI_EXP_RTCTL_SEFEE],
      ['PMEIntEna', r.PCI_EXP_RTCTL_PMEIE],
      ['CRSVisible', r.PCI_EXP_RTCTL_CRSSVE],
    ])}`,
  );
  const sta = d.cfg.long(where + pci.PCI_EXP_RTSTA);
  out.line(
    `\t\tRootSta: PME ReqID ${(sta & r.PCI_EXP_RTSTA_PME_RQ_ID).toString(16).padStart(4, '0')}, ` +
      `PMEStatus${flag(sta, r.PCI_EXP_RTSTA_PME)} PMEPending${flag(sta, r.PCI_EXP_RTSTA_PENDING)}`,
  );
}

/** Bytes of the capability that must be readable before each block is decoded (lspci's fetch sizes). */
const EXP_BLOCK_BYTES = 16;
const EXP_BLOCK_BYTES_SLOT = 24;
const EXP_BLOCK_BYTES_ROOT = 32;

function typeName(type: number, cap: number): string {
  const slot = `(Slot${flag(cap, pci.PCI_EXP_FLAGS_SLOT)})`;
  switch (type) {
    case EP:
      return 'Endpoint';
    case LEG_END:
      return 'Legacy Endpoint';
    case ROOT_PORT:
      return `Root Port ${slot}`;
    case UPSTREAM:
      return 'Upstream Port';
    case DOWNSTREAM:
      return `Downstream Port ${slot}`;
    case PCI_BRIDGE:
      return 'PCI-Express to PCI/PCI-X Bridge';
    case PCIE_BRIDGE:
      return `PCI/PCI-X to PCI-Express Bridge ${slot}`;
    case RC_INT_EP:
      return 'Root Complex Integrated Endpoint';
    case RC_EC:
      return 'Root Complex Event Collector';
    default:
      return `Unknown type ${type}`;
  }
}

/** The Express capability at `where`; returns the port type (the extended capabilities need it). */
export function showExpress(ctx: LspciContext, d: PciDev, where: number, cap: number): number {
  const type = (cap & pci.PCI_EXP_FLAGS_TYPE) >> 4;
  const version = cap & pci.PCI_EXP_FLAGS_VERS;
  const hasSlot = isDownstreamPort(type) && (cap & pci.PCI_EXP_FLAGS_SLOT) !== 0;
  const hasLink = type !== RC_INT_EP && type !== RC_EC;
  const verText = ctx.verbose >= 2 ? `(v${version}) ` : '';
  const msi = ((cap & pci.PCI_EXP_FLAGS_IRQ) >> 9).toString(16).padStart(2, '0');
  ctx.out.line(`Express ${verText}${typeName(type, cap)}, MSI ${msi}`);
  if (ctx.verbose < 2) return type;
  let size = hasSlot ? EXP_BLOCK_BYTES_SLOT : EXP_BLOCK_BYTES;
  if (type === ROOT_PORT || type === RC_EC) size = EXP_BLOCK_BYTES_ROOT;
  if (!d.cfg.has(where + pci.PCI_EXP_DEVCAP, size)) return type;
  showDev(ctx, d, where, type);
  if (hasLink) showLink(ctx, d, where, type);
  if (hasSlot) showSlot(ctx, d, where);
  if (type === ROOT_PORT || type === RC_EC) showRoot(ctx, d, where);
  if (version < 2) return type;
  size = hasSlot ? EXP_BLOCK_BYTES_SLOT : EXP_BLOCK_BYTES;
  if (!d.cfg.has(where + pci.PCI_EXP_DEVCAP2, size)) return type;
  showDev2(ctx, d, where, type);
  if (hasLink) showLink2(ctx, d, where, type);
  return type;
}
