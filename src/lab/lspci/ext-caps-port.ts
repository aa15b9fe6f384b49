/**
 * Extended capabilities of error handling, power and link management (PCIe Base 6.x, 7.8 and 7.9): AER,
 * DPC, LTR, L1 PM Substates, PTM, Secondary PCI Express, TPH, Resizable BAR and DOE, as lspci 3.9.0
 * prints them at -vv.
 */
import { pci } from '../../spec/index.js';
import type { Decoder, LspciContext, PciDev } from './context.js';
import * as r from './regs.js';
import { bits, flag, flags, hx } from './text.js';

const ERR_UNCOR_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['DLP', r.PCI_ERR_UNC_DLP],
  ['SDES', r.PCI_ERR_UNC_SURPDN],
  ['TLP', r.PCI_ERR_UNC_POISON_TLP],
  ['FCP', r.PCI_ERR_UNC_FCP],
  ['CmpltTO', r.PCI_ERR_UNC_COMP_TIME],
  ['CmpltAbrt', r.PCI_ERR_UNC_COMP_ABORT],
  ['UnxCmplt', r.PCI_ERR_UNC_UNX_COMP],
  ['RxOF', r.PCI_ERR_UNC_RX_OVER],
  ['MalfTLP', r.PCI_ERR_UNC_MALF_TLP],
  ['ECRC', r.PCI_ERR_UNC_ECRC],
  ['UnsupReq', r.PCI_ERR_UNC_UNSUP],
  ['ACSViol', r.PCI_ERR_UNC_ACSV],
];
const ERR_COR_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ['RxErr', r.PCI_ERR_COR_RCVR],
  ['BadTLP', r.PCI_ERR_COR_BAD_TLP],
  ['BadDLLP', r.PCI_ERR_COR_BAD_DLLP],
  ['Rollover', r.PCI_ERR_COR_REP_ROLL],
  ['Timeout', r.PCI_ERR_COR_REP_TIMER],
  ['AdvNonFatalErr', r.PCI_ERR_COR_ADV_NFAT],
];
/** AER registers through the header log (PCIe 7.8.4): 40 bytes after the header. */
const AER_BASIC_BYTES = 40;
const AER_ROOT_BYTES = 12;

export const capAer: Decoder = (ctx, d, where, type) => {
  const out = ctx.out;
  const c = d.cfg;
  out.line('Advanced Error Reporting');
  if (ctx.verbose < 2 || !c.has(where + r.PCI_ERR_UNCOR_STATUS, AER_BASIC_BYTES)) return;
  out.line(`\t\tUESta:\t${flags(c.long(where + r.PCI_ERR_UNCOR_STATUS), ERR_UNCOR_FLAGS)}`);
  out.line(`\t\tUEMsk:\t${flags(c.long(where + r.PCI_ERR_UNCOR_MASK), ERR_UNCOR_FLAGS)}`);
  out.line(`\t\tUESvrt:\t${flags(c.long(where + r.PCI_ERR_UNCOR_SEVER), ERR_UNCOR_FLAGS)}`);
  out.line(`\t\tCESta:\t${flags(c.long(where + r.PCI_ERR_COR_STATUS), ERR_COR_FLAGS)}`);
  out.line(`\t\tCEMsk:\t${flags(c.long(where + r.PCI_ERR_COR_MASK), ERR_COR_FLAGS)}`);
  const l = c.long(where + r.PCI_ERR_CAP);
  out.line(
    `\t\tAERCap:\tFirst Error Pointer: ${hx(l & r.PCI_ERR_CAP_FEP_MASK, 2)}, ` +
      flags(l, [
        ['ECRCGenCap', r.PCI_ERR_CAP_ECRC_GENC],
        ['ECRCGenEn', r.PCI_ERR_CAP_ECRC_GENE],
        ['ECRCChkCap', r.PCI_ERR_CAP_ECRC_CHKC],
        ['ECRCChkEn', r.PCI_ERR_CAP_ECRC_CHKE],
      ]),
  );
  out.line(
    `\t\t\t${flags(l, [
      ['MultHdrRecCap', r.PCI_ERR_CAP_MULT_HDRC],
      ['MultHdrRecEn', r.PCI_ERR_CAP_MULT_HDRE],
      ['TLPPfxPres', r.PCI_ERR_CAP_TLP_PFX],
      ['HdrLogCap', r.PCI_ERR_CAP_HDR_LOG],
    ])}`,
  );
  const log = [0, 4, 8, 12].map((o) => hx(c.long(where + r.PCI_ERR_HEADER_LOG + o), 8));
  out.line(`\t\tHeaderLog: ${log.join(' ')}`);
  if (type !== pci.PCI_EXP_TYPE_ROOT_PORT && type !== r.PCI_EXP_TYPE_RC_EC) return;
  if (!c.has(where + r.PCI_ERR_ROOT_COMMAND, AER_ROOT_BYTES)) return;
  const cmd = c.long(where + r.PCI_ERR_ROOT_COMMAND);
  out.line(
    `\t\tRootCmd: ${flags(cmd, [
      ['CERptEn', r.PCI_ERR_ROOT_CMD_COR_EN],
      ['NFERptEn', r.PCI_ERR_ROOT_CMD_NONFATAL_EN],
      ['FERptEn', r.PCI_ERR_ROOT_CMD_FATAL_EN],
    ])}`,
  );
  const sta = c.long(where + r.PCI_ERR_ROOT_STATUS);
  out.line(
    `\t\tRootSta: ${flags(sta, [
      ['CERcvd', r.PCI_ERR_ROOT_COR_RCV],
      ['MultCERcvd', r.PCI_ERR_ROOT_MULTI_COR_RCV],
      ['UERcvd', r.PCI_ERR_ROOT_UNCOR_RCV],
      ['MultUERcvd', r.PCI_ERR_ROOT_MULTI_UNCOR_RCV],
    ])}`,
  );
  out.line(
    `\t\t\t ${flags(sta, [
      ['FirstFatal', r.PCI_ERR_ROOT_FIRST_FATAL],
      ['NonFatalMsg', r.PCI_ERR_ROOT_NONFATAL_RCV],
      ['FatalMsg', r.PCI_ERR_ROOT_FATAL_RCV],
    ])} IntMsg ${bits(sta, r.PCI_ERR_ROOT_AER_IRQ_SHIFT, 5)}`,
  );
  out.line(
    `\t\tErrorSrc: ERR_COR: ${hx(c.word(where + r.PCI_ERR_ROOT_ERR_SRC), 4)} ` +
      `ERR_FATAL/NONFATAL: ${hx(c.word(where + r.PCI_ERR_ROOT_ERR_SRC + 2), 4)}`,
  );
};

/** LTR values are value × 32^scale ns (PCIe 7.8.2). */
const ltrScale = (scale: number): number => 2 ** (scale * 5);

export const capLtr: Decoder = (ctx, d, where) => {
  ctx.out.line('Latency Tolerance Reporting');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_LTR_MAX_SNOOP_LAT, 4)) return;
  for (const [label, reg] of [
    ['Max snoop latency', r.PCI_LTR_MAX_SNOOP_LAT],
    ['Max no snoop latency', r.PCI_LTR_MAX_NOSNOOP_LAT],
  ] as const) {
    const v = d.cfg.word(where + reg);
    const ns = (v & r.PCI_LTR_VALUE_MASK) * ltrScale(bits(v, r.PCI_LTR_SCALE_SHIFT, 3));
    ctx.out.line(`\t\t${label}: ${ns}ns`);
  }
};

export const capTph: Decoder = (ctx, d, where) => {
  const out = ctx.out;
  out.line('Transaction Processing Hints');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_TPH_CAP, 4)) return;
  const cap = d.cfg.long(where + r.PCI_TPH_CAP);
  if (cap & r.PCI_TPH_CAP_INT_VEC) out.line('\t\tInterrupt vector mode supported');
  if (cap & r.PCI_TPH_CAP_DEV_SPEC) out.line('\t\tDevice specific mode supported');
  if (cap & r.PCI_TPH_CAP_EXT_TPH) out.line('\t\tExtended requester support');
  switch (cap & r.PCI_TPH_CAP_LOC_MASK) {
    case r.PCI_TPH_LOC_NONE:
      out.line('\t\tNo steering table available');
      return;
    case r.PCI_TPH_LOC_CAP:
      out.line('\t\tSteering table in TPH capability structure');
      return;
    case r.PCI_TPH_LOC_MSIX:
      out.line('\t\tSteering table in MSI-X table');
      return;
    default:
      out.line('\t\tReserved steering table location');
      return;
  }
};

export const capSecPci: Decoder = (ctx, d, where) => {
  const out = ctx.out;
  out.line('Secondary PCI Express');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_EXP_LNKCTL3, 12)) return;
  const ctl3 = d.cfg.word(where + r.PCI_EXP_LNKCTL3);
  out.line(
    `\t\tLnkCtl3: LnkEquIntrruptEn${flag(ctl3, r.PCI_EXP_LNKCTL3_LNK_EQU_REQ_INTR_EN)} ` +
      `PerformEqu${flag(ctl3, r.PCI_EXP_LNKCTL3_PERFORM_LINK_EQU)}`,
  );
  const lanes = d.cfg.word(where + r.PCI_EXP_LANE_ERR_STA);
  const errs: number[] = [];
  for (let lane = 0; lane < 16; lane++) if (lanes & (1 << lane)) errs.push(lane);
  out.line(`\t\tLaneErrStat: ${lanes !== 0 ? `LaneErr at lane: ${errs.join(' ')}` : '0'}`);
};

export const capDpc: Decoder = (ctx, d, where) => {
  const out = ctx.out;
  out.line('Downstream Port Containment');
  if (ctx.verbose < 2 || !d.cfg.has(where + r.PCI_EXP_DPC_CAP, 8)) return;
  const cap = d.cfg.word(where + r.PCI_EXP_DPC_CAP);
  out.line(
    `\t\tDpcCap:\tINT Msg #${bits(cap, 0, 5)}, RPExt${flag(cap, r.PCI_EXP_DPC_CAP_RP_EXT)} ` +
      `PoisonedTLP${flag(cap, r.PCI_EXP_DPC_CAP_POISONED_TLP)} ` +
      `SwTrigger${flag(cap, r.PCI_EXP_DPC_CAP_SW_TRIGGER)} ` +
      `RP PIO Log ${bits(cap, 8, 4)}, DL_ActiveErr${flag(cap, r.PCI_EXP_DPC_CAP_DL_ACTIVE)}`,
  );
  const ctl = d.cfg.word(where + r.PCI_EXP_DPC_CTL);
  out.line(
    `\t\tDpcCtl:\tTrigger:${hx(bits(ctl, 0, 2), 1)} ${flags(ctl, [
      ['Cmpl', r.PCI_EXP_DPC_CTL_CMPL],
      ['INT', r.PCI_EXP_DPC_CTL_INT_EN],
      ['ErrCor', r.PCI_EXP_DPC_CTL_ERR_COR],
      ['PoisonedTLP', r.PCI_EXP_DPC_CTL_POISONED_TLP],
      ['SwTrigger', r.PCI_EXP_DPC_CTL_SW_TRIGGER],
      ['DL_ActiveErr', r.PCI_EXP_DPC_CTL_DL_ACTIVE],
    ])}`,
  );
  const sta = d.cfg.word(where + r.PCI_EXP_DPC_STATUS);
  out.line(
    `\t\tDpcSta:\tTrigger${flag(sta, r.PCI_EXP_DPC_STATUS_TRIGGER)} Reason:${hx(bits(sta, 1, 2), 2)} ` +
      `INT${flag(sta, r.PCI_EXP_DPC_STATUS_INTERRUPT)} RPBusy${flag(sta, r.PCI_EXP_DPC_RP_BUSY)} ` +
      `TriggerExt:${hx(bits(sta, 5, 2), 2)} RP PIO ErrPtr:${hx(bits(sta, 8, 5), 2)}`,
  );
  out.line(`\t\tSource:\t${hx(d.cfg.word(where + r.PCI_EXP_DPC_SOURCE_ID), 4)}`);
};

/** L1 PM Substates power-on time: scale 0/1/2 is 2/10/100 us per unit (PCIe 7.8.3.2). */
function l1pmPowerOn(scale: number, value: number): string {
  const unit = [2, 10, 100][scale];
  return unit === undefined ? '<error>' : `${unit * value}us`;
}

export const capL1pm: Decoder = (ctx, d, where) => {
  const out = ctx.out;
  out.line('L1 PM Substates');
  if (ctx.verbose < 2) return;
  if (!d.cfg.has(where + r.PCI_L1SS_CAP, 12)) {
    out.line('\t\t<unreadable>');
    return;
  }
  const cap = d.cfg.long(where + r.PCI_L1SS_CAP);
  out.line(
    `\t\tL1SubCap: ${flags(cap, [
      ['PCI-PM_L1.2', r.PCI_L1SS_CAP_PCIPM_L1_2],
      ['PCI-PM_L1.1', r.PCI_L1SS_CAP_PCIPM_L1_1],
      ['ASPM_L1.2', r.PCI_L1SS_CAP_ASPM_L1_2],
      ['ASPM_L1.1', r.PCI_L1SS_CAP_ASPM_L1_1],
      ['L1_PM_Substates', r.PCI_L1SS_CAP_L1_PM_SS],
    ])}`,
  );
  const l12 = (cap & (r.PCI_L1SS_CAP_PCIPM_L1_2 | r.PCI_L1SS_CAP_ASPM_L1_2)) !== 0;
  if (l12) {
    out.line(
      `\t\t\t  PortCommonModeRestoreTime=${bits(cap, 8, 8)}us ` +
        `PortTPowerOnTime=${l1pmPowerOn(bits(cap, 16, 2), bits(cap, 19, 5))}`,
    );
  }
  const ctl1 = d.cfg.long(where + r.PCI_L1SS_CTL1);
  out.line(
    `\t\tL1SubCtl1: ${flags(ctl1, [
      ['PCI-PM_L1.2', r.PCI_L1SS_CTL1_PCIPM_L1_2],
      ['PCI-PM_L1.1', r.PCI_L1SS_CTL1_PCIPM_L1_1],
      ['ASPM_L1.2', r.PCI_L1SS_CTL1_ASPM_L1_2],
      ['ASPM_L1.1', r.PCI_L1SS_CTL1_ASPM_L1_1],
    ])}`,
  );
  if (l12) {
    let line = `\t\t\t   T_CommonMode=${bits(ctl1, 8, 8)}us`;
    if (cap & r.PCI_L1SS_CAP_ASPM_L1_2) {
      const scale = bits(ctl1, 29, 3);
      const threshold = scale > 5 ? '<error>' : `${bits(ctl1, 16, 10) * ltrScale(scale)}ns`;
      line += ` LTR1.2_Threshold=${threshold}`;
    }
    out.line(line);
  }
  const ctl2 = d.cfg.long(where + r.PCI_L1SS_CTL2);
  out.line(`\t\tL1SubCtl2:${l12 ? ` T_PwrOn=${l1pmPowerOn(bits(ctl2, 0, 2), bits(ctl2, 3, 5))}` : ''}`);
};

function granularity(value: number, zero: string): string {
  if (value === 0) return zero;
  return value === 0xff ? 'Greater than 254ns' : `${value}ns`;
}

export const capPtm: Decoder = (ctx, d, where) => {
  const out = ctx.out;
  out.line('Precision Time Measurement');
  if (ctx.verbose < 2) return;
  if (!d.cfg.has(where + r.PCI_PTM_CAP, 8)) {
    out.line('\t\t<unreadable>');
    return;
  }
  const cap = d.cfg.long(where + r.PCI_PTM_CAP);
  out.line(
    `\t\tPTMCap: Requester:${flag(cap, r.PCI_PTM_CAP_REQ)} Responder:${flag(cap, r.PCI_PTM_CAP_RES)} ` +
      `Root:${flag(cap, r.PCI_PTM_CAP_ROOT)}`,
  );
  out.line(`\t\tPTMClockGranularity: ${granularity(bits(cap, 8, 8), 'Unimplemented')}`);
  const ctl = d.cfg.long(where + r.PCI_PTM_CTRL);
  out.line(
    `\t\tPTMControl: Enabled:${flag(ctl, r.PCI_PTM_CTRL_ENABLE)} ` +
      `RootSelected:${flag(ctl, r.PCI_PTM_CTRL_ROOT)}`,
  );
  out.line(`\t\tPTMEffectiveGranularity: ${granularity(bits(ctl, 8, 8), 'Unknown')}`);
};

/** Resizable BAR sizes are powers of two from 1 MB (PCIe 7.8.6). */
function rebarSize(log2: number): string {
  const units = ['MB', 'GB', 'TB', 'PB', 'EB'];
  if (log2 < 0 || log2 >= 44) return ' <unknown>';
  return ` ${2 ** (log2 % 10)}${units[Math.floor(log2 / 10)]}`;
}

export function capRebar(ctx: LspciContext, d: PciDev, where: number, virtual: boolean): void {
  const out = ctx.out;
  out.line(`${virtual ? 'Virtual' : 'Physical'} Resizable BAR`);
  if (ctx.verbose < 2) return;
  let at = where;
  let numBars = 1;
  for (let n = 0; n < numBars; n++) {
    at += 4;
    if (!d.cfg.has(at, 8)) {
      out.line('\t\t<unreadable>');
      return;
    }
    const sizes = d.cfg.long(at) >>> 4;
    at += 4;
    const ctl = d.cfg.long(at);
    if (n === 0) {
      numBars = bits(ctl, 5, 3);
      if (numBars < 1 || numBars > 6) {
        out.line(`\t\t<error in resizable BAR: num_bars=${numBars} is out of specification>`);
        break;
      }
    }
    let line = `\t\tBAR ${bits(ctl, 0, 3)}: current size:${rebarSize(bits(ctl, 8, 6))}`;
    const ext = bits(ctl, 16, 16);
    if (sizes !== 0 || ext !== 0) {
      line += ', supported:';
      for (let i = 0; i < 28; i++) if (sizes & (1 << i)) line += rebarSize(i);
      for (let i = 0; i < 16; i++) if (ext & (1 << i)) line += rebarSize(i + 28);
    }
    out.line(line);
  }
}

/** DOE registers through the status register (PCIe 7.9.24). */
const DOE_BYTES = 0x14;
/** SPEC-DEVIATION: faithful to pciutils 3.9.0, whose DOE "Error" flag tests mask 0x3 (Busy|IntSta). */
const PCIUTILS_DOE_STS_ERROR = 0x3;
const DOE_INT_MSG_SHIFT = 1;

export const capDoe: Decoder = (ctx, d, where) => {
  const out = ctx.out;
  out.line('Data Object Exchange');
  if (ctx.verbose < 2) return;
  if (!d.cfg.has(where + r.PCI_DOE_CAP, DOE_BYTES)) {
    out.line('\t\t<unreadable>');
    return;
  }
  const cap = d.cfg.long(where + r.PCI_DOE_CAP);
  out.line(`\t\tDOECap: IntSup${flag(cap, r.PCI_DOE_CAP_INT_SUP)}`);
  if (cap & r.PCI_DOE_CAP_INT_SUP) {
    out.line(`\t\t\tInterrupt Message Number ${hx(bits(cap, DOE_INT_MSG_SHIFT, 11), 3)}`);
  }
  out.line(`\t\tDOECtl: IntEn${flag(d.cfg.long(where + r.PCI_DOE_CTRL), r.PCI_DOE_CTRL_INT_EN)}`);
  const sta = d.cfg.long(where + r.PCI_DOE_STATUS);
  out.line(
    `\t\tDOESta: Busy${flag(sta, r.PCI_DOE_STATUS_BUSY)} IntSta${flag(sta, r.PCI_DOE_STATUS_INT_STATUS)} ` +
      `Error${flag(sta, PCIUTILS_DOE_STS_ERROR)} ObjectReady${flag(sta, r.PCI_DOE_STATUS_DATA_OBJECT_READY)}`,
  );
};
