/**
 * Register constants of the standard header and the standard capabilities (PCI Local Bus 3.0, PCI PM
 * 1.2, PCI-X 2.0, PCIe Base 6.x 7.5.3) that the decoder needs beyond spec/pci-regs.ts.
 * Each is named as include/uapi/linux/pci_regs.h names it; where pci_regs.h has no name for a field,
 * the name is the one pciutils' lib/header.h uses (marked "header.h"). Offsets are relative to the
 * capability start. Values are facts of the register layouts, not code.
 *
 * SPEC-DEVIATION: these belong in spec/pci-regs.ts; they live here until the spec owner adopts them
 * (see the lspci report), so that the lspci folder does not edit a file it does not own.
 */

// Status register (PCI Local Bus 3.0 6.2.3)
export const PCI_STATUS_DEVSEL_FAST = 0x000;
export const PCI_STATUS_DEVSEL_MEDIUM = 0x200;
export const PCI_STATUS_DEVSEL_SLOW = 0x400;

// BIST
export const PCI_BIST_CODE_MASK = 0x0f;
export const PCI_BIST_START = 0x40;
export const PCI_BIST_CAPABLE = 0x80;

export const PCI_HEADER_TYPE_CARDBUS = 2;
/** Class codes (pci_ids.h). */
export const PCI_CLASS_BRIDGE_PCI = 0x0604;
export const PCI_BASE_CLASS_BRIDGE = 0x06;
export const PCI_CLASS_STORAGE_IDE = 0x0101;

export const PCI_BASE_ADDRESS_SPACE = 0x01;
export const PCI_BASE_ADDRESS_MEM_TYPE_1M = 0x02;

// Type 1 bridge windows
export const PCI_IO_RANGE_TYPE_MASK = 0x0f;
export const PCI_IO_RANGE_TYPE_16 = 0x00;
export const PCI_IO_RANGE_TYPE_32 = 0x01;
export const PCI_IO_RANGE_MASK = 0xf0;
export const PCI_MEMORY_RANGE_TYPE_MASK = 0x0f;
export const PCI_MEMORY_RANGE_MASK = 0xfff0;
export const PCI_PREF_RANGE_TYPE_MASK = 0x0f;
export const PCI_PREF_RANGE_TYPE_32 = 0x00;
export const PCI_PREF_RANGE_TYPE_64 = 0x01;
export const PCI_PREF_RANGE_MASK = 0xfff0;
export const PCI_BRIDGE_CTL_PARITY = 0x01;
export const PCI_BRIDGE_CTL_SERR = 0x02;
export const PCI_BRIDGE_CTL_ISA = 0x04;
export const PCI_BRIDGE_CTL_VGA = 0x08;
export const PCI_BRIDGE_CTL_VGA_16BIT = 0x10;
export const PCI_BRIDGE_CTL_MASTER_ABORT = 0x20;
export const PCI_BRIDGE_CTL_BUS_RESET = 0x40;
export const PCI_BRIDGE_CTL_FAST_BACK = 0x80;
/** header.h */
export const PCI_BRIDGE_CTL_PRI_DISCARD_TIMER = 0x100;
export const PCI_BRIDGE_CTL_SEC_DISCARD_TIMER = 0x200;
export const PCI_BRIDGE_CTL_DISCARD_TIMER_STATUS = 0x400;
export const PCI_BRIDGE_CTL_DISCARD_TIMER_SERR_EN = 0x800;

// Type 2 (CardBus bridge) header
export const PCI_CB_CAPABILITY_LIST = 0x14;
export const PCI_CB_SEC_STATUS = 0x16;
export const PCI_CB_PRIMARY_BUS = 0x18;
export const PCI_CB_CARD_BUS = 0x19;
export const PCI_CB_SUBORDINATE_BUS = 0x1a;
export const PCI_CB_LATENCY_TIMER = 0x1b;
export const PCI_CB_MEMORY_BASE_0 = 0x1c;
export const PCI_CB_MEMORY_LIMIT_0 = 0x20;
export const PCI_CB_IO_BASE_0 = 0x2c;
export const PCI_CB_IO_LIMIT_0 = 0x30;
export const PCI_CB_IO_RANGE_MASK = 0xfffffffc;
export const PCI_CB_BRIDGE_CONTROL = 0x3e;
export const PCI_CB_BRIDGE_CTL_PARITY = 0x01;
export const PCI_CB_BRIDGE_CTL_SERR = 0x02;
export const PCI_CB_BRIDGE_CTL_ISA = 0x04;
export const PCI_CB_BRIDGE_CTL_VGA = 0x08;
export const PCI_CB_BRIDGE_CTL_MASTER_ABORT = 0x20;
export const PCI_CB_BRIDGE_CTL_CB_RESET = 0x40;
export const PCI_CB_BRIDGE_CTL_16BIT_INT = 0x80;
export const PCI_CB_BRIDGE_CTL_PREFETCH_MEM0 = 0x100;
export const PCI_CB_BRIDGE_CTL_POST_WRITES = 0x400;
export const PCI_CB_SUBSYSTEM_VENDOR_ID = 0x40;
export const PCI_CB_SUBSYSTEM_ID = 0x42;
export const PCI_CB_LEGACY_MODE_BASE = 0x44;
/** The CardBus header is 128 bytes long. */
export const PCI_CB_HEADER_SIZE = 0x80;

/** The standard header every function has: lspci reads it first. */
export const PCI_STD_HEADER_SIZEOF = 64;

// Capability IDs not in spec/pci-regs.ts
export const PCI_CAP_ID_NULL = 0x00;
export const PCI_CAP_ID_AGP = 0x02;
export const PCI_CAP_ID_VPD = 0x03;
export const PCI_CAP_ID_SLOTID = 0x04;
export const PCI_CAP_ID_CHSWP = 0x06;
export const PCI_CAP_ID_PCIX = 0x07;
export const PCI_CAP_ID_HT = 0x08;
export const PCI_CAP_ID_DBG = 0x0a;
export const PCI_CAP_ID_CCRC = 0x0b;
export const PCI_CAP_ID_SHPC = 0x0c;
export const PCI_CAP_ID_SSVID = 0x0d;
export const PCI_CAP_ID_AGP3 = 0x0e;
export const PCI_CAP_ID_SECDEV = 0x0f;
export const PCI_CAP_ID_SATA = 0x12;
export const PCI_CAP_ID_AF = 0x13;
export const PCI_CAP_ID_EA = 0x14;
export const PCI_CAP_FLAGS = 2;
/** A broken capability chain reads this ID. */
export const PCI_CAP_ID_INVALID = 0xff;

// Power Management (PCI PM 1.2)
export const PCI_PM_CAP_AUX_POWER_SHIFT = 6;
export const PCI_PM_CAP_PME_D0 = 0x0800;
export const PCI_PM_CAP_PME_D1 = 0x1000;
export const PCI_PM_CAP_PME_D2 = 0x2000;
export const PCI_PM_CAP_PME_D3HOT = 0x4000;
export const PCI_PM_CAP_PME_D3COLD = 0x8000;
export const PCI_PM_CTRL_DATA_SEL_SHIFT = 9;
export const PCI_PM_CTRL_DATA_SCALE_SHIFT = 13;
export const PCI_PM_PPB_B2_B3 = 0x40;
export const PCI_PM_BPCC_ENABLE = 0x80;

// MSI
export const PCI_MSI_FLAGS = 2;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 4;
export const PCI_MSI_ADDRESS_HI = 8;
export const PCI_MSI_DATA_32 = 8;
export const PCI_MSI_DATA_64 = 12;
export const PCI_MSI_MASK_32 = 12;
export const PCI_MSI_MASK_64 = 16;
export const PCI_MSI_PENDING_32 = 16;
export const PCI_MSI_PENDING_64 = 20;

// PCI-X
export const PCI_X_CMD = 2;
export const PCI_X_STATUS = 4;
export const PCI_X_BRIDGE_SSTATUS = 2;
export const PCI_X_BRIDGE_STATUS = 4;

// Slot ID, SSVID, Debug port, Advanced Features, SATA
export const PCI_SID_ESR_NSLOTS = 0x1f;
export const PCI_SID_ESR_FIC = 0x20;
export const PCI_SSVID_VENDOR_ID = 4;
export const PCI_SSVID_DEVICE_ID = 6;
export const PCI_AF_CAP = 3;
export const PCI_AF_CAP_TP = 0x01;
export const PCI_AF_CAP_FLR = 0x02;
export const PCI_AF_CTRL = 4;
export const PCI_AF_CTRL_FLR = 0x01;
export const PCI_AF_STATUS = 5;
export const PCI_AF_STATUS_TP = 0x01;
export const PCI_SATA_REGS = 4;

// PCI Express capability (PCIe Base 7.5.3)
export const PCI_EXP_TYPE_UPSTREAM = 0x5;
export const PCI_EXP_TYPE_DOWNSTREAM = 0x6;
export const PCI_EXP_TYPE_PCI_BRIDGE = 0x7;
export const PCI_EXP_TYPE_PCIE_BRIDGE = 0x8;
export const PCI_EXP_TYPE_RC_EC = 0xa;
export const PCI_EXP_DEVCAP_ATN_BUT = 0x00001000;
export const PCI_EXP_DEVCAP_ATN_IND = 0x00002000;
export const PCI_EXP_DEVCAP_PWR_IND = 0x00004000;
export const PCI_EXP_LNKCAP_ASPM_L0S = 0x00007000;
export const PCI_EXP_LNKCAP_ASPM_L1 = 0x00038000;
export const PCI_EXP_LNKCAP_ASPM_OPTCOMP = 0x00400000;
export const PCI_EXP_LNKCTL_ASPMC = 0x0003;
export const PCI_EXP_LNKCTL_RCB = 0x0008;
export const PCI_EXP_LNKCTL_LD = 0x0010;
export const PCI_EXP_LNKCTL_CCC = 0x0040;
export const PCI_EXP_LNKCTL_ES = 0x0080;
export const PCI_EXP_LNKCTL_CLKREQ_EN = 0x0100;
export const PCI_EXP_LNKCTL_HAWD = 0x0200;
export const PCI_EXP_LNKCTL_LBMIE = 0x0400;
export const PCI_EXP_LNKCTL_LABIE = 0x0800;
export const PCI_EXP_LNKSTA_LT_ERR = 0x0400;
export const PCI_EXP_LNKSTA_LT = 0x0800;
export const PCI_EXP_LNKSTA_SLC = 0x1000;
export const PCI_EXP_LNKSTA_DLLLA = 0x2000;
export const PCI_EXP_LNKSTA_LBMS = 0x4000;
export const PCI_EXP_LNKSTA_LABS = 0x8000;
export const PCI_EXP_SLTCAP_ABP = 0x00000001;
export const PCI_EXP_SLTCAP_PCP = 0x00000002;
export const PCI_EXP_SLTCAP_MRLSP = 0x00000004;
export const PCI_EXP_SLTCAP_AIP = 0x00000008;
export const PCI_EXP_SLTCAP_PIP = 0x00000010;
export const PCI_EXP_SLTCAP_HPS = 0x00000020;
export const PCI_EXP_SLTCAP_HPC = 0x00000040;
export const PCI_EXP_SLTCAP_SPLV = 0x00007f80;
export const PCI_EXP_SLTCAP_SPLS = 0x00018000;
export const PCI_EXP_SLTCAP_EIP = 0x00020000;
export const PCI_EXP_SLTCAP_NCCS = 0x00040000;
export const PCI_EXP_SLTCAP_PSN = 0xfff80000;
export const PCI_EXP_SLTCTL_ABPE = 0x0001;
export const PCI_EXP_SLTCTL_PFDE = 0x0002;
export const PCI_EXP_SLTCTL_MRLSCE = 0x0004;
export const PCI_EXP_SLTCTL_PDCE = 0x0008;
export const PCI_EXP_SLTCTL_CCIE = 0x0010;
export const PCI_EXP_SLTCTL_HPIE = 0x0020;
export const PCI_EXP_SLTCTL_AIC = 0x00c0;
export const PCI_EXP_SLTCTL_PIC = 0x0300;
export const PCI_EXP_SLTCTL_PCC = 0x0400;
export const PCI_EXP_SLTCTL_EIC = 0x0800;
export const PCI_EXP_SLTCTL_DLLSCE = 0x1000;
export const PCI_EXP_SLTSTA_ABP = 0x0001;
export const PCI_EXP_SLTSTA_PFD = 0x0002;
export const PCI_EXP_SLTSTA_MRLSC = 0x0004;
export const PCI_EXP_SLTSTA_PDC = 0x0008;
export const PCI_EXP_SLTSTA_CC = 0x0010;
export const PCI_EXP_SLTSTA_MRLSS = 0x0020;
export const PCI_EXP_SLTSTA_PDS = 0x0040;
export const PCI_EXP_SLTSTA_EIS = 0x0080;
export const PCI_EXP_SLTSTA_DLLSC = 0x0100;
export const PCI_EXP_RTCTL_SECEE = 0x0001;
export const PCI_EXP_RTCTL_SENFEE = 0x0002;
export const PCI_EXP_RTCTL_SEFEE = 0x0004;
export const PCI_EXP_RTCTL_PMEIE = 0x0008;
export const PCI_EXP_RTCTL_CRSSVE = 0x0010;
export const PCI_EXP_RTCAP_CRSVIS = 0x0001;
export const PCI_EXP_RTSTA_PME_RQ_ID = 0x0000ffff;
export const PCI_EXP_RTSTA_PME = 0x00010000;
export const PCI_EXP_RTSTA_PENDING = 0x00020000;
export const PCI_EXP_DEVCAP2_COMP_TMOUT_RANGES = 0x0000000f;
export const PCI_EXP_DEVCAP2_COMP_TMOUT_DIS = 0x00000010;
export const PCI_EXP_DEVCAP2_ATOMIC_ROUTE = 0x00000040;
export const PCI_EXP_DEVCAP2_ATOMIC_COMP32 = 0x00000080;
export const PCI_EXP_DEVCAP2_ATOMIC_COMP64 = 0x00000100;
export const PCI_EXP_DEVCAP2_ATOMIC_COMP128 = 0x00000200;
/** header.h */
export const PCI_EXP_DEVCAP2_NROPRPRP = 0x00000400;
export const PCI_EXP_DEVCAP2_LTR = 0x00000800;
export const PCI_EXP_DEVCAP2_TPH_COMP_SHIFT = 12;
export const PCI_EXP_DEVCAP2_LN_CLS_SHIFT = 14;
export const PCI_EXP_DEVCAP2_10BIT_TAG_COMP = 0x00010000;
export const PCI_EXP_DEVCAP2_10BIT_TAG_REQ = 0x00020000;
export const PCI_EXP_DEVCAP2_OBFF_SHIFT = 18;
export const PCI_EXP_DEVCAP2_EXTFMT = 0x00100000;
export const PCI_EXP_DEVCAP2_EE_PREFIX = 0x00200000;
export const PCI_EXP_DEVCAP2_MEE_TLP_SHIFT = 22;
export const PCI_EXP_DEVCAP2_EPR_SHIFT = 24;
export const PCI_EXP_DEVCAP2_EPR_INIT = 0x04000000;
export const PCI_EXP_DEVCAP2_FRS = 0x80000000;
export const PCI_EXP_DEVCTL2_COMP_TIMEOUT = 0x000f;
export const PCI_EXP_DEVCTL2_COMP_TMOUT_DIS = 0x0010;
export const PCI_EXP_DEVCTL2_ATOMIC_REQ = 0x0040;
export const PCI_EXP_DEVCTL2_ATOMIC_EGRESS_BLOCK = 0x0080;
export const PCI_EXP_DEVCTL2_LTR_EN = 0x0400;
/** header.h */
export const PCI_EXP_DEVCTL2_10BIT_TAG_REQ = 0x1000;
export const PCI_EXP_DEVCTL2_OBFF_SHIFT = 13;
export const PCI_EXP_LNKCAP2_SLS_SHIFT = 1;
export const PCI_EXP_LNKCAP2_CROSSLINK = 0x00000100;
/** header.h */
export const PCI_EXP_LNKCAP2_RETIMER = 0x00800000;
/** header.h */
export const PCI_EXP_LNKCAP2_2RETIMERS = 0x01000000;
/** header.h */
export const PCI_EXP_LNKCAP2_DRS = 0x80000000;
export const PCI_EXP_LNKCTL2_TLS = 0x000f;
/** header.h */
export const PCI_EXP_LNKCTL2_CMPLNC = 0x0010;
/** header.h */
export const PCI_EXP_LNKCTL2_SPEED_DIS = 0x0020;
export const PCI_EXP_LNKCTL2_DEEMPHASIS_SHIFT = 6;
export const PCI_EXP_LNKCTL2_MARGIN_SHIFT = 7;
/** header.h */
export const PCI_EXP_LNKCTL2_MOD_CMPLNC = 0x0400;
/** header.h */
export const PCI_EXP_LNKCTL2_CMPLNC_SOS = 0x0800;
export const PCI_EXP_LNKCTL2_COM_DEEMPHASIS_SHIFT = 12;
/** header.h: PCI_EXP_LINKSTA2_* */
export const PCI_EXP_LNKSTA2_DEEMPHASIS = 0x0001;
export const PCI_EXP_LNKSTA2_EQU_COMP = 0x0002;
export const PCI_EXP_LNKSTA2_EQU_PHASE1 = 0x0004;
export const PCI_EXP_LNKSTA2_EQU_PHASE2 = 0x0008;
export const PCI_EXP_LNKSTA2_EQU_PHASE3 = 0x0010;
export const PCI_EXP_LNKSTA2_EQU_REQ = 0x0020;
export const PCI_EXP_LNKSTA2_RETIMER = 0x0040;
export const PCI_EXP_LNKSTA2_2RETIMERS = 0x0080;
export const PCI_EXP_LNKSTA2_CROSSLINK_SHIFT = 8;
export const PCI_EXP_LNKSTA2_COMPONENT_SHIFT = 12;
export const PCI_EXP_LNKSTA2_DRS_RCVD = 0x8000;
