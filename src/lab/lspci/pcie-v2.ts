/**
 * The second half of the PCI Express capability (PCIe Base 6.x, 7.5.3.15-7.5.3.20), present when the
 * capability version is 2 or more: DevCap2/DevCtl2, LnkCap2/LnkCtl2 and LnkSta2, as lspci 3.9.0 prints
 * them.
 */
import { pci } from '../../spec/index.js';
import type { LspciContext, PciDev } from './context.js';
import {
  DOWNSTREAM,
  EP,
  isDownstreamPort,
  LEG_END,
  LINK_SPEEDS,
  RC_INT_EP,
  ROOT_PORT,
  UPSTREAM,
} from './pcie-types.js';
import * as r from './regs.js';
import { bits, flag, flags } from './text.js';

const TIMEOUT_RANGES: Record<number, string> = {
  0: 'Not Supported',
  1: 'Range A',
  2: 'Range B',
  3: 'Range AB',
  6: 'Range BC',
  7: 'Range ABC',
  14: 'Range BCD',
  15: 'Range ABCD',
};
const TIMEOUT_VALUES: Record<number, string> = {
  0: '50us to 50ms',
  1: '50us to 100us',
  2: '1ms to 10ms',
  5: '16ms to 55ms',
  6: '65ms to 210ms',
  9: '260ms to 900ms',
  10: '1s to 3.5s',
  13: '4s to 13s',
  14: '17s to 64s',
};
const OBFF_SUPPORT = ['Not Supported', 'Via message', 'Via WAKE#', 'Via message/WAKE#'];
const EPR_SUPPORT = ['Not Supported', 'Dev Specific', 'Form Factor Dev Specific', 'Reserved'];
const LN_CLS = ['Not Supported', '64byte cachelines', '128byte cachelines', 'Reserved'];
/** TPH Completer Supported; encoding 2 is reserved and prints nothing. */
const TPH_COMP = ['TPHComp- ExtTPHComp-', 'TPHComp+ ExtTPHComp-', '', 'TPHComp+ ExtTPHComp+'];
const OBFF_ENABLE = ['Disabled', 'Via message A', 'Via message B', 'Via WAKE#'];

/** Whether any BAR is a memory BAR (AtomicOp completer bits only apply then). */
function hasMemoryBar(d: PciDev): boolean {
  for (let i = 0; i < pci.PCI_NUM_BARS; i++) {
    const base = d.baseAddr[i] ?? 0n;
    if (base !== 0n || (d.sizes?.[i] ?? 0n) !== 0n) {
      if ((base & BigInt(pci.PCI_BASE_ADDRESS_SPACE_IO)) === 0n) return true;
    }
  }
  return false;
}

export function showDev2(ctx: LspciContext, d: PciDev, where: number, type: number): void {
  const out = ctx.out;
  const memBar = hasMemoryBar(d);
  const l = d.cfg.long(where + pci.PCI_EXP_DEVCAP2);
  const isRoot = type === ROOT_PORT;
  const isSwitchPort = type === UPSTREAM || type === DOWNSTREAM;
  out.line(
    `\t\tDevCap2: Completion Timeout: ` +
      `${TIMEOUT_RANGES[l & r.PCI_EXP_DEVCAP2_COMP_TMOUT_RANGES] ?? 'Unknown'}, ` +
      flags(l, [
        ['TimeoutDis', r.PCI_EXP_DEVCAP2_COMP_TMOUT_DIS],
        ['NROPrPrP', r.PCI_EXP_DEVCAP2_NROPRPRP],
        ['LTR', r.PCI_EXP_DEVCAP2_LTR],
      ]),
  );
  let line =
    `\t\t\t 10BitTagComp${flag(l, r.PCI_EXP_DEVCAP2_10BIT_TAG_COMP)} ` +
    `10BitTagReq${flag(l, r.PCI_EXP_DEVCAP2_10BIT_TAG_REQ)} ` +
    `OBFF ${OBFF_SUPPORT[bits(l, r.PCI_EXP_DEVCAP2_OBFF_SHIFT, 2)]}, ` +
    `ExtFmt${flag(l, r.PCI_EXP_DEVCAP2_EXTFMT)} ` +
    `EETLPPrefix${flag(l, r.PCI_EXP_DEVCAP2_EE_PREFIX)}`;
  if ((l & r.PCI_EXP_DEVCAP2_EE_PREFIX) !== 0) {
    const max = bits(l, r.PCI_EXP_DEVCAP2_MEE_TLP_SHIFT, 2);
    line += `, MaxEETLPPrefixes ${max !== 0 ? max : 4}`;
  }
  out.line(line);
  out.line(
    `\t\t\t EmergencyPowerReduction ${EPR_SUPPORT[bits(l, r.PCI_EXP_DEVCAP2_EPR_SHIFT, 2)]}, ` +
      `EmergencyPowerReductionInit${flag(l, r.PCI_EXP_DEVCAP2_EPR_INIT)}`,
  );
  line = `\t\t\t FRS${flag(l, r.PCI_EXP_DEVCAP2_FRS)}`;
  if (isRoot) line += ` LN System CLS ${LN_CLS[bits(l, r.PCI_EXP_DEVCAP2_LN_CLS_SHIFT, 2)]},`;
  if (isRoot || type === EP) line += ` ${TPH_COMP[bits(l, r.PCI_EXP_DEVCAP2_TPH_COMP_SHIFT, 2)]}`;
  if (isRoot || type === DOWNSTREAM) line += ` ARIFwd${flag(l, pci.PCI_EXP_DEVCAP2_ARI)}`;
  out.line(line);
  if (isRoot || isSwitchPort || memBar) {
    line = '\t\t\t AtomicOpsCap:';
    if (isRoot || isSwitchPort) line += ` Routing${flag(l, r.PCI_EXP_DEVCAP2_ATOMIC_ROUTE)}`;
    if (isRoot || memBar) {
      line += ` 32bit${flag(l, r.PCI_EXP_DEVCAP2_ATOMIC_COMP32)}`;
      line += ` 64bit${flag(l, r.PCI_EXP_DEVCAP2_ATOMIC_COMP64)}`;
      line += ` 128bitCAS${flag(l, r.PCI_EXP_DEVCAP2_ATOMIC_COMP128)}`;
    }
    out.line(line);
  }

  const w = d.cfg.word(where + pci.PCI_EXP_DEVCTL2);
  line =
    `\t\tDevCtl2: Completion Timeout: ${TIMEOUT_VALUES[w & r.PCI_EXP_DEVCTL2_COMP_TIMEOUT] ?? 'Unknown'}, ` +
    `${flags(w, [
      ['TimeoutDis', r.PCI_EXP_DEVCTL2_COMP_TMOUT_DIS],
      ['LTR', r.PCI_EXP_DEVCTL2_LTR_EN],
      ['10BitTagReq', r.PCI_EXP_DEVCTL2_10BIT_TAG_REQ],
    ])} OBFF ${OBFF_ENABLE[bits(w, r.PCI_EXP_DEVCTL2_OBFF_SHIFT, 2)]},`;
  if (isRoot || type === DOWNSTREAM) line += ` ARIFwd${flag(w, pci.PCI_EXP_DEVCTL2_ARI)}`;
  out.line(line);
  const requester = isRoot || type === EP || type === RC_INT_EP || type === LEG_END;
  if (requester || isSwitchPort) {
    line = '\t\t\t AtomicOpsCtl:';
    if (requester) line += ` ReqEn${flag(w, r.PCI_EXP_DEVCTL2_ATOMIC_REQ)}`;
    if (isRoot || isSwitchPort) line += ` EgressBlck${flag(w, r.PCI_EXP_DEVCTL2_ATOMIC_EGRESS_BLOCK)}`;
    out.line(line);
  }
}

/** Supported Link Speeds Vector bits 0..4 (2.5 to 32 GT/s); bits 5 and 6 are reserved in PCIe 5.0. */
const SPEED_VECTOR_NAMES = ['2.5GT/s', '2.5-5GT/s', '2.5-8GT/s', '2.5-16GT/s', '2.5-32GT/s'];

/** Supported Link Speeds Vector: a device supports every rate up to its highest (PCIe 8.2.1). */
function speedVector(vector: number): string {
  if (vector >> SPEED_VECTOR_NAMES.length !== 0) return 'RsvdP';
  for (let bit = SPEED_VECTOR_NAMES.length - 1; bit >= 0; bit--) {
    if (vector & (1 << bit)) return SPEED_VECTOR_NAMES[bit]!;
  }
  return 'Unknown';
}

/** Target Link Speed: 0 (hard-wired) means 2.5GT/s only. */
const targetSpeed = (v: number): string => (v === 0 ? '2.5GT/s' : (LINK_SPEEDS[v] ?? 'Unknown'));
const DEEMPHASIS = ['-6dB', '-3.5dB'];
const COMPLIANCE_PRESETS = [
  '-6dB de-emphasis, 0dB preshoot',
  '-3.5dB de-emphasis, 0dB preshoot',
  '-4.4dB de-emphasis, 0dB preshoot',
  '-2.5dB de-emphasis, 0dB preshoot',
  '0dB de-emphasis, 0dB preshoot',
  '0dB de-emphasis, 1.9dB preshoot',
  '0dB de-emphasis, 2.5dB preshoot',
  '-6.0dB de-emphasis, 3.5dB preshoot',
  '-3.5dB de-emphasis, 3.5dB preshoot',
  '0dB de-emphasis, 3.5dB preshoot',
];
const TRANSMIT_MARGIN = [
  'Normal Operating Range',
  '800-1200mV(full-swing)/400-700mV(half-swing)',
  '200-400mV(full-swing)/100-200mV(half-swing)',
  '200-400mV(full-swing)/100-200mV(half-swing)',
  '200-400mV(full-swing)/100-200mV(half-swing)',
  '200-400mV(full-swing)/100-200mV(half-swing)',
];
const CROSSLINK_RES = ['unsupported', 'Upstream Port', 'Downstream Port', 'incomplete'];
const DOWNSTREAM_COMPONENT: Record<number, string> = {
  0: 'Link Down - Not Determined',
  1: 'Link Down - Not Present',
  2: 'Link Down - Present',
  4: 'Link Up - Present',
  5: 'Link Up - Present and DRS Received',
};

export function showLink2(ctx: LspciContext, d: PciDev, where: number, type: number): void {
  const out = ctx.out;
  let l = 0;
  const endpointNotFirst = (type === EP || type === LEG_END) && (d.dev !== 0 || d.func !== 0);
  if (!endpointNotFirst) {
    l = d.cfg.long(where + pci.PCI_EXP_LNKCAP2);
    if (l !== 0) {
      out.line(
        `\t\tLnkCap2: Supported Link Speeds: ${speedVector(bits(l, r.PCI_EXP_LNKCAP2_SLS_SHIFT, 7))}, ` +
          flags(l, [
            ['Crosslink', r.PCI_EXP_LNKCAP2_CROSSLINK],
            ['Retimer', r.PCI_EXP_LNKCAP2_RETIMER],
            ['2Retimers', r.PCI_EXP_LNKCAP2_2RETIMERS],
            ['DRS', r.PCI_EXP_LNKCAP2_DRS],
          ]),
      );
    }
    const w = d.cfg.word(where + pci.PCI_EXP_LNKCTL2);
    let line =
      `\t\tLnkCtl2: Target Link Speed: ${targetSpeed(w & r.PCI_EXP_LNKCTL2_TLS)}, ` +
      `EnterCompliance${flag(w, r.PCI_EXP_LNKCTL2_CMPLNC)} SpeedDis${flag(w, r.PCI_EXP_LNKCTL2_SPEED_DIS)}`;
    if (type === DOWNSTREAM) {
      line += `, Selectable De-emphasis: ${DEEMPHASIS[bits(w, r.PCI_EXP_LNKCTL2_DEEMPHASIS_SHIFT, 1)]}`;
    }
    out.line(line);
    out.line(
      `\t\t\t Transmit Margin: ` +
        `${TRANSMIT_MARGIN[bits(w, r.PCI_EXP_LNKCTL2_MARGIN_SHIFT, 3)] ?? 'Unknown'}, ` +
        `EnterModifiedCompliance${flag(w, r.PCI_EXP_LNKCTL2_MOD_CMPLNC)} ` +
        `ComplianceSOS${flag(w, r.PCI_EXP_LNKCTL2_CMPLNC_SOS)}`,
    );
    const preset = COMPLIANCE_PRESETS[bits(w, r.PCI_EXP_LNKCTL2_COM_DEEMPHASIS_SHIFT, 4)] ?? 'Unknown';
    out.line(`\t\t\t Compliance Preset/De-emphasis: ${preset}`);
  }
  const s = d.cfg.word(where + pci.PCI_EXP_LNKSTA2);
  out.line(
    `\t\tLnkSta2: Current De-emphasis Level: ${DEEMPHASIS[s & r.PCI_EXP_LNKSTA2_DEEMPHASIS]}, ` +
      `EqualizationComplete${flag(s, r.PCI_EXP_LNKSTA2_EQU_COMP)} ` +
      `EqualizationPhase1${flag(s, r.PCI_EXP_LNKSTA2_EQU_PHASE1)}`,
  );
  out.line(
    `\t\t\t EqualizationPhase2${flag(s, r.PCI_EXP_LNKSTA2_EQU_PHASE2)} ` +
      `EqualizationPhase3${flag(s, r.PCI_EXP_LNKSTA2_EQU_PHASE3)} ` +
      `LinkEqualizationRequest${flag(s, r.PCI_EXP_LNKSTA2_EQU_REQ)}`,
  );
  let line =
    `\t\t\t Retimer${flag(s, r.PCI_EXP_LNKSTA2_RETIMER)} 2Retimers${flag(s, r.PCI_EXP_LNKSTA2_2RETIMERS)} ` +
    `CrosslinkRes: ${CROSSLINK_RES[bits(s, r.PCI_EXP_LNKSTA2_CROSSLINK_SHIFT, 2)]}`;
  if (isDownstreamPort(type) && (l & r.PCI_EXP_LNKCAP2_DRS) !== 0) {
    out.line(`${line}, DRS${flag(s, r.PCI_EXP_LNKSTA2_DRS_RCVD)}`);
    line = `\t\t\t DownstreamComp: ${
      DOWNSTREAM_COMPONENT[bits(s, r.PCI_EXP_LNKSTA2_COMPONENT_SHIFT, 3)] ?? 'Reserved'
    }`;
  }
  out.line(line);
}
