/**
 * Register constants of the extended capabilities (PCIe Base 6.x 7.6-7.9) and the Linux resource flags
 * of the sysfs `resource` file that the decoder needs beyond spec/pci-regs.ts.
 * Each is named as include/uapi/linux/pci_regs.h names it; where pci_regs.h has no name for a field,
 * the name is the one pciutils' lib/header.h uses (marked "header.h"). Offsets are relative to the
 * capability start. Values are facts of the register layouts, not code.
 *
 * SPEC-DEVIATION: these belong in spec/pci-regs.ts; they live here until the spec owner adopts them
 * (see the lspci report), so that the lspci folder does not edit a file it does not own.
 */

// Extended capability IDs not in spec/pci-regs.ts (PCIe Base 7.6 .. 7.9)
export const PCI_EXT_CAP_ID_NULL = 0x00;
export const PCI_EXT_CAP_ID_VC = 0x02;
export const PCI_EXT_CAP_ID_PWR = 0x04;
export const PCI_EXT_CAP_ID_RCLD = 0x05;
export const PCI_EXT_CAP_ID_RCILC = 0x06;
export const PCI_EXT_CAP_ID_RCEC = 0x07;
export const PCI_EXT_CAP_ID_MFVC = 0x08;
export const PCI_EXT_CAP_ID_VC9 = 0x09;
export const PCI_EXT_CAP_ID_RCRB = 0x0a;
export const PCI_EXT_CAP_ID_VNDR = 0x0b;
export const PCI_EXT_CAP_ID_ACS = 0x0d;
export const PCI_EXT_CAP_ID_ATS = 0x0f;
export const PCI_EXT_CAP_ID_MRIOV = 0x11;
export const PCI_EXT_CAP_ID_MCAST = 0x12;
export const PCI_EXT_CAP_ID_PRI = 0x13;
export const PCI_EXT_CAP_ID_REBAR = 0x15;
export const PCI_EXT_CAP_ID_DPA = 0x16;
export const PCI_EXT_CAP_ID_TPH = 0x17;
export const PCI_EXT_CAP_ID_LTR = 0x18;
export const PCI_EXT_CAP_ID_SECPCI = 0x19;
export const PCI_EXT_CAP_ID_PMUX = 0x1a;
export const PCI_EXT_CAP_ID_PASID = 0x1b;
export const PCI_EXT_CAP_ID_LNR = 0x1c;
export const PCI_EXT_CAP_ID_DPC = 0x1d;
export const PCI_EXT_CAP_ID_L1SS = 0x1e;
export const PCI_EXT_CAP_ID_PTM = 0x1f;
export const PCI_EXT_CAP_ID_MPHY = 0x20;
export const PCI_EXT_CAP_ID_FRS = 0x21;
export const PCI_EXT_CAP_ID_RTR = 0x22;
export const PCI_EXT_CAP_ID_DVSEC = 0x23;
export const PCI_EXT_CAP_ID_VF_REBAR = 0x24;
export const PCI_EXT_CAP_ID_DLF = 0x25;
export const PCI_EXT_CAP_ID_PL_16GT = 0x26;
export const PCI_EXT_CAP_ID_LMR = 0x27;
export const PCI_EXT_CAP_ID_HIER_ID = 0x28;
export const PCI_EXT_CAP_ID_NPEM = 0x29;
export const PCI_EXT_CAP_ID_DOE = 0x2e;
export const PCI_EXT_CAP_VER_MASK = 0xf;
export const PCI_EXT_CAP_NEXT_MASK = 0xffc;

// AER (PCIe Base 7.8.4)
export const PCI_ERR_UNCOR_STATUS = 0x04;
export const PCI_ERR_UNCOR_MASK = 0x08;
export const PCI_ERR_UNCOR_SEVER = 0x0c;
export const PCI_ERR_COR_STATUS = 0x10;
export const PCI_ERR_COR_MASK = 0x14;
export const PCI_ERR_CAP = 0x18;
export const PCI_ERR_HEADER_LOG = 0x1c;
export const PCI_ERR_ROOT_COMMAND = 0x2c;
export const PCI_ERR_ROOT_STATUS = 0x30;
export const PCI_ERR_ROOT_ERR_SRC = 0x34;
export const PCI_ERR_UNC_DLP = 0x00000010;
export const PCI_ERR_UNC_SURPDN = 0x00000020;
export const PCI_ERR_UNC_POISON_TLP = 0x00001000;
export const PCI_ERR_UNC_FCP = 0x00002000;
export const PCI_ERR_UNC_COMP_TIME = 0x00004000;
export const PCI_ERR_UNC_COMP_ABORT = 0x00008000;
export const PCI_ERR_UNC_UNX_COMP = 0x00010000;
export const PCI_ERR_UNC_RX_OVER = 0x00020000;
export const PCI_ERR_UNC_MALF_TLP = 0x00040000;
export const PCI_ERR_UNC_ECRC = 0x00080000;
export const PCI_ERR_UNC_UNSUP = 0x00100000;
export const PCI_ERR_UNC_ACSV = 0x00200000;
export const PCI_ERR_COR_RCVR = 0x00000001;
export const PCI_ERR_COR_BAD_TLP = 0x00000040;
export const PCI_ERR_COR_BAD_DLLP = 0x00000080;
export const PCI_ERR_COR_REP_ROLL = 0x00000100;
export const PCI_ERR_COR_REP_TIMER = 0x00001000;
export const PCI_ERR_COR_ADV_NFAT = 0x00002000;
export const PCI_ERR_CAP_FEP_MASK = 0x0000001f;
export const PCI_ERR_CAP_ECRC_GENC = 0x00000020;
export const PCI_ERR_CAP_ECRC_GENE = 0x00000040;
export const PCI_ERR_CAP_ECRC_CHKC = 0x00000080;
export const PCI_ERR_CAP_ECRC_CHKE = 0x00000100;
export const PCI_ERR_CAP_MULT_HDRC = 0x00000200;
export const PCI_ERR_CAP_MULT_HDRE = 0x00000400;
export const PCI_ERR_CAP_TLP_PFX = 0x00000800;
export const PCI_ERR_CAP_HDR_LOG = 0x00001000;
export const PCI_ERR_ROOT_CMD_COR_EN = 0x00000001;
export const PCI_ERR_ROOT_CMD_NONFATAL_EN = 0x00000002;
export const PCI_ERR_ROOT_CMD_FATAL_EN = 0x00000004;
export const PCI_ERR_ROOT_COR_RCV = 0x00000001;
export const PCI_ERR_ROOT_MULTI_COR_RCV = 0x00000002;
export const PCI_ERR_ROOT_UNCOR_RCV = 0x00000004;
export const PCI_ERR_ROOT_MULTI_UNCOR_RCV = 0x00000008;
export const PCI_ERR_ROOT_FIRST_FATAL = 0x00000010;
export const PCI_ERR_ROOT_NONFATAL_RCV = 0x00000020;
export const PCI_ERR_ROOT_FATAL_RCV = 0x00000040;
export const PCI_ERR_ROOT_AER_IRQ_SHIFT = 27;

// DSN, vendor-specific, DVSEC
export const PCI_DSN_LOWER = 0x04;
export const PCI_DSN_UPPER = 0x08;
export const PCI_VNDR_HEADER = 0x04;
export const PCI_DVSEC_HEADER1 = 0x04;
export const PCI_DVSEC_HEADER2 = 0x08;

// ACS (PCIe Base 7.7.11)
export const PCI_ACS_CAP = 0x04;
export const PCI_ACS_CTRL = 0x06;
export const PCI_ACS_SV = 0x0001;
export const PCI_ACS_TB = 0x0002;
export const PCI_ACS_RR = 0x0004;
export const PCI_ACS_CR = 0x0008;
export const PCI_ACS_UF = 0x0010;
export const PCI_ACS_EC = 0x0020;
export const PCI_ACS_DT = 0x0040;

// ATS, PRI, PASID
export const PCI_ATS_CAP = 0x04;
export const PCI_ATS_CAP_QDEP_MASK = 0x1f;
export const PCI_ATS_CTRL = 0x06;
export const PCI_ATS_CTRL_ENABLE = 0x8000;
export const PCI_ATS_CTRL_STU_MASK = 0x1f;
export const PCI_PRI_CTRL = 0x04;
export const PCI_PRI_CTRL_ENABLE = 0x0001;
export const PCI_PRI_CTRL_RESET = 0x0002;
export const PCI_PRI_STATUS = 0x06;
export const PCI_PRI_STATUS_RF = 0x0001;
export const PCI_PRI_STATUS_UPRGI = 0x0002;
export const PCI_PRI_STATUS_STOPPED = 0x0100;
export const PCI_PRI_MAX_REQ = 0x08;
export const PCI_PRI_ALLOC_REQ = 0x0c;
export const PCI_PASID_CAP = 0x04;
export const PCI_PASID_CAP_EXEC = 0x0002;
export const PCI_PASID_CAP_PRIV = 0x0004;
export const PCI_PASID_CAP_WIDTH_SHIFT = 8;
export const PCI_PASID_CTRL = 0x06;
export const PCI_PASID_CTRL_ENABLE = 0x0001;
export const PCI_PASID_CTRL_EXEC = 0x0002;
export const PCI_PASID_CTRL_PRIV = 0x0004;

// SR-IOV fields not in spec/pci-regs.ts
/** header.h: PCI_IOV_CAP_VF_10BIT_TAG_REQ */
export const PCI_SRIOV_CAP_VF_10BIT_TAG_REQ = 0x00000004;
/** header.h: PCI_IOV_CTRL_VF_10BIT_TAG_REQ_EN */
export const PCI_SRIOV_CTRL_VF_10BIT_TAG_REQ_EN = 0x0020;
export const PCI_SRIOV_VFM_BIR = 0x00000007;
export const PCI_SRIOV_VFM_OFFSET = 0xfffffff8;

// LTR, TPH, Secondary PCIe, DPC, L1 PM Substates, PTM, Resizable BAR, DOE
export const PCI_LTR_MAX_SNOOP_LAT = 0x04;
export const PCI_LTR_MAX_NOSNOOP_LAT = 0x06;
export const PCI_LTR_VALUE_MASK = 0x03ff;
export const PCI_LTR_SCALE_SHIFT = 10;
export const PCI_TPH_CAP = 0x04;
export const PCI_TPH_CAP_INT_VEC = 0x0002;
export const PCI_TPH_CAP_DEV_SPEC = 0x0004;
export const PCI_TPH_CAP_EXT_TPH = 0x0100;
export const PCI_TPH_CAP_LOC_MASK = 0x0600;
export const PCI_TPH_LOC_NONE = 0x0000;
export const PCI_TPH_LOC_CAP = 0x0200;
export const PCI_TPH_LOC_MSIX = 0x0400;
export const PCI_EXP_LNKCTL3 = 0x04;
export const PCI_EXP_LNKCTL3_PERFORM_LINK_EQU = 0x01;
export const PCI_EXP_LNKCTL3_LNK_EQU_REQ_INTR_EN = 0x02;
export const PCI_EXP_LANE_ERR_STA = 0x08;
export const PCI_EXP_DPC_CAP = 0x04;
export const PCI_EXP_DPC_CTL = 0x06;
export const PCI_EXP_DPC_STATUS = 0x08;
export const PCI_EXP_DPC_SOURCE_ID = 0x0a;
export const PCI_EXP_DPC_CAP_RP_EXT = 0x0020;
export const PCI_EXP_DPC_CAP_POISONED_TLP = 0x0040;
export const PCI_EXP_DPC_CAP_SW_TRIGGER = 0x0080;
export const PCI_EXP_DPC_CAP_DL_ACTIVE = 0x1000;
/** header.h: PCI_DPC_CTL_CMPL */
export const PCI_EXP_DPC_CTL_CMPL = 0x0004;
export const PCI_EXP_DPC_CTL_INT_EN = 0x0008;
/** header.h: PCI_DPC_CTL_ERR_COR */
export const PCI_EXP_DPC_CTL_ERR_COR = 0x0010;
/** header.h: PCI_DPC_CTL_TLP */
export const PCI_EXP_DPC_CTL_POISONED_TLP = 0x0020;
/** header.h: PCI_DPC_CTL_SW_TRIGGER */
export const PCI_EXP_DPC_CTL_SW_TRIGGER = 0x0040;
/** header.h: PCI_DPC_CTL_DL_ACTIVE */
export const PCI_EXP_DPC_CTL_DL_ACTIVE = 0x0080;
export const PCI_EXP_DPC_STATUS_TRIGGER = 0x0001;
export const PCI_EXP_DPC_STATUS_INTERRUPT = 0x0008;
export const PCI_EXP_DPC_RP_BUSY = 0x0010;
export const PCI_L1SS_CAP = 0x04;
export const PCI_L1SS_CAP_PCIPM_L1_2 = 0x01;
export const PCI_L1SS_CAP_PCIPM_L1_1 = 0x02;
export const PCI_L1SS_CAP_ASPM_L1_2 = 0x04;
export const PCI_L1SS_CAP_ASPM_L1_1 = 0x08;
export const PCI_L1SS_CAP_L1_PM_SS = 0x10;
export const PCI_L1SS_CTL1 = 0x08;
export const PCI_L1SS_CTL1_PCIPM_L1_2 = 0x01;
export const PCI_L1SS_CTL1_PCIPM_L1_1 = 0x02;
export const PCI_L1SS_CTL1_ASPM_L1_2 = 0x04;
export const PCI_L1SS_CTL1_ASPM_L1_1 = 0x08;
export const PCI_L1SS_CTL2 = 0x0c;
export const PCI_PTM_CAP = 0x04;
export const PCI_PTM_CAP_REQ = 0x01;
export const PCI_PTM_CAP_RES = 0x02;
export const PCI_PTM_CAP_ROOT = 0x04;
export const PCI_PTM_CTRL = 0x08;
export const PCI_PTM_CTRL_ENABLE = 0x01;
export const PCI_PTM_CTRL_ROOT = 0x02;
export const PCI_REBAR_CAP = 0x04;
export const PCI_DOE_CAP = 0x04;
export const PCI_DOE_CAP_INT_SUP = 0x00000001;
export const PCI_DOE_CTRL = 0x08;
export const PCI_DOE_CTRL_INT_EN = 0x00000002;
export const PCI_DOE_STATUS = 0x0c;
export const PCI_DOE_STATUS_BUSY = 0x00000001;
export const PCI_DOE_STATUS_INT_STATUS = 0x00000002;
export const PCI_DOE_STATUS_ERROR = 0x00000004;
export const PCI_DOE_STATUS_DATA_OBJECT_READY = 0x80000000;

// Linux resource flags as the sysfs `resource` file prints them (include/linux/ioport.h)
export const IORESOURCE_TYPE_BITS = 0x00001f00n;
export const IORESOURCE_IO = 0x00000100n;
export const IORESOURCE_MEM = 0x00000200n;
export const IORESOURCE_PREFETCH = 0x00002000n;
export const IORESOURCE_MEM_64 = 0x00100000n;
/** The low flag bits Linux copies from the BAR (pciutils: PCI_ADDR_FLAG_MASK). */
export const PCI_ADDR_FLAG_MASK = 0xfn;
/** pciutils: PCI_IORESOURCE_PCI_EA_BEI, set for Enhanced Allocation entries. */
export const IORESOURCE_PCI_EA_BEI = 1n << 5n;
/** pciutils: PCI_IORESOURCE_IO_16BIT_ADDR */
export const IORESOURCE_IO_16BIT_ADDR = 1n << 0n;
