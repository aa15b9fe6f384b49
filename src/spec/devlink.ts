/**
 * The devlink generic netlink family's numbers, as include/uapi/linux/devlink.h spells them (issue 6 §3,
 * facts/kernel.md §7.1). Commands and attributes are ABI enums numbered from 0 (UNSPEC); the values here
 * were counted from the header's enum order (torvalds/linux, up to DEVLINK_ATTR_PORT_EXTERNAL = 149) and
 * cross-checked against facts 7.1 for the later ones (PORT_CONTROLLER_NUMBER 150, PORT_PCI_SF_NUMBER 164,
 * NESTED_DEVLINK 175), which the counts through the RELOAD_* block (151..163) agree with.
 *
 * Left out: shared buffer, dpipe, resource, region, health, trap, rate and linecard numbers (no family
 * op here uses them).
 */

export const DEVLINK_GENL_NAME = 'devlink';
export const DEVLINK_GENL_VERSION = 1;
export const DEVLINK_GENL_MCGRP_CONFIG_NAME = 'config';

// --- enum devlink_command ---
export const DEVLINK_CMD_GET = 1;
export const DEVLINK_CMD_SET = 2;
export const DEVLINK_CMD_NEW = 3;
export const DEVLINK_CMD_DEL = 4;
export const DEVLINK_CMD_PORT_GET = 5;
export const DEVLINK_CMD_PORT_SET = 6;
export const DEVLINK_CMD_PORT_NEW = 7;
export const DEVLINK_CMD_PORT_DEL = 8;
export const DEVLINK_CMD_PORT_SPLIT = 9;
export const DEVLINK_CMD_PORT_UNSPLIT = 10;
export const DEVLINK_CMD_ESWITCH_GET = 29;
export const DEVLINK_CMD_ESWITCH_SET = 30;
export const DEVLINK_CMD_RELOAD = 37;
export const DEVLINK_CMD_PARAM_GET = 38;
export const DEVLINK_CMD_PARAM_SET = 39;
export const DEVLINK_CMD_PARAM_NEW = 40;
export const DEVLINK_CMD_PARAM_DEL = 41;
export const DEVLINK_CMD_INFO_GET = 51;

// --- enum devlink_attr ---
export const DEVLINK_ATTR_BUS_NAME = 1;
export const DEVLINK_ATTR_DEV_NAME = 2;
export const DEVLINK_ATTR_PORT_INDEX = 3;
export const DEVLINK_ATTR_PORT_TYPE = 4;
export const DEVLINK_ATTR_PORT_DESIRED_TYPE = 5;
export const DEVLINK_ATTR_PORT_NETDEV_IFINDEX = 6;
export const DEVLINK_ATTR_PORT_NETDEV_NAME = 7;
export const DEVLINK_ATTR_PORT_IBDEV_NAME = 8;
export const DEVLINK_ATTR_PORT_SPLIT_COUNT = 9;
export const DEVLINK_ATTR_PORT_SPLIT_GROUP = 10;
export const DEVLINK_ATTR_ESWITCH_MODE = 25;
export const DEVLINK_ATTR_ESWITCH_INLINE_MODE = 26;
export const DEVLINK_ATTR_ESWITCH_ENCAP_MODE = 62;
export const DEVLINK_ATTR_PORT_FLAVOUR = 77;
export const DEVLINK_ATTR_PORT_NUMBER = 78;
export const DEVLINK_ATTR_PORT_SPLIT_SUBPORT_NUMBER = 79;
export const DEVLINK_ATTR_PARAM = 80;
export const DEVLINK_ATTR_PARAM_NAME = 81;
export const DEVLINK_ATTR_PARAM_GENERIC = 82;
export const DEVLINK_ATTR_PARAM_TYPE = 83;
export const DEVLINK_ATTR_PARAM_VALUES_LIST = 84;
export const DEVLINK_ATTR_PARAM_VALUE = 85;
export const DEVLINK_ATTR_PARAM_VALUE_DATA = 86;
export const DEVLINK_ATTR_PARAM_VALUE_CMODE = 87;
export const DEVLINK_ATTR_PORT_PCI_PF_NUMBER = 127;
export const DEVLINK_ATTR_PORT_PCI_VF_NUMBER = 128;
export const DEVLINK_ATTR_RELOAD_FAILED = 136;
export const DEVLINK_ATTR_PORT_FUNCTION = 145;
export const DEVLINK_ATTR_PORT_LANES = 147;
export const DEVLINK_ATTR_PORT_SPLITTABLE = 148;
export const DEVLINK_ATTR_PORT_EXTERNAL = 149;
export const DEVLINK_ATTR_PORT_CONTROLLER_NUMBER = 150;
export const DEVLINK_ATTR_PORT_PCI_SF_NUMBER = 164;
export const DEVLINK_ATTR_NESTED_DEVLINK = 175;

// --- enum devlink_port_function_attr (the DEVLINK_ATTR_PORT_FUNCTION nest) ---
export const DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR = 1;
export const DEVLINK_PORT_FN_ATTR_STATE = 2;
export const DEVLINK_PORT_FN_ATTR_OPSTATE = 3;
export const DEVLINK_PORT_FN_ATTR_CAPS = 4;
export const DEVLINK_PORT_FN_ATTR_DEVLINK = 5;
export const DEVLINK_PORT_FN_ATTR_MAX_IO_EQS = 6;

/** enum devlink_port_fn_attr_cap, as bits of the CAPS bitfield32 (DEVLINK_PORT_FN_CAP_*). */
export const DEVLINK_PORT_FN_CAP_ROCE = 1 << 0;
export const DEVLINK_PORT_FN_CAP_MIGRATABLE = 1 << 1;
export const DEVLINK_PORT_FN_CAP_IPSEC_CRYPTO = 1 << 2;
export const DEVLINK_PORT_FN_CAP_IPSEC_PACKET = 1 << 3;
/** DEVLINK_PORT_FN_CAPS_VALID_MASK: the bits NLA_POLICY_BITFIELD32 accepts. */
export const DEVLINK_PORT_FN_CAPS_VALID_MASK = 0xf;

/** struct nla_bitfield32 { __u32 value; __u32 selector; } (include/uapi/linux/netlink.h). */
export const NLA_BITFIELD32_SIZE_BYTES = 8;

// --- enum devlink_port_fn_state / devlink_port_fn_opstate ---
export const DEVLINK_PORT_FN_STATE_INACTIVE = 0;
export const DEVLINK_PORT_FN_STATE_ACTIVE = 1;
export const DEVLINK_PORT_FN_OPSTATE_DETACHED = 0;
export const DEVLINK_PORT_FN_OPSTATE_ATTACHED = 1;

// --- enum devlink_port_type ---
export const DEVLINK_PORT_TYPE_NOTSET = 0;
export const DEVLINK_PORT_TYPE_AUTO = 1;
export const DEVLINK_PORT_TYPE_ETH = 2;
export const DEVLINK_PORT_TYPE_IB = 3;

// --- enum devlink_port_flavour ---
export const DEVLINK_PORT_FLAVOUR_PHYSICAL = 0;
export const DEVLINK_PORT_FLAVOUR_CPU = 1;
export const DEVLINK_PORT_FLAVOUR_DSA = 2;
export const DEVLINK_PORT_FLAVOUR_PCI_PF = 3;
export const DEVLINK_PORT_FLAVOUR_PCI_VF = 4;
export const DEVLINK_PORT_FLAVOUR_VIRTUAL = 5;
export const DEVLINK_PORT_FLAVOUR_UNUSED = 6;
export const DEVLINK_PORT_FLAVOUR_PCI_SF = 7;

// --- enum devlink_eswitch_mode / inline mode / encap mode ---
export const DEVLINK_ESWITCH_MODE_LEGACY = 0;
export const DEVLINK_ESWITCH_MODE_SWITCHDEV = 1;
export const DEVLINK_ESWITCH_INLINE_MODE_NONE = 0;
export const DEVLINK_ESWITCH_ENCAP_MODE_NONE = 0;

// --- enum devlink_param_cmode ---
export const DEVLINK_PARAM_CMODE_RUNTIME = 0;
export const DEVLINK_PARAM_CMODE_DRIVERINIT = 1;
export const DEVLINK_PARAM_CMODE_PERMANENT = 2;
export const DEVLINK_PARAM_CMODE_MAX = 2;

/**
 * enum devlink_param_type: the netlink attribute types the values travel as (NLA_U8 1, NLA_U16 2,
 * NLA_U32 3, NLA_STRING 5, NLA_FLAG 6); newer headers spell them DEVLINK_VAR_ATTR_TYPE_*.
 */
export const DEVLINK_PARAM_TYPE_U8 = 1;
export const DEVLINK_PARAM_TYPE_U16 = 2;
export const DEVLINK_PARAM_TYPE_U32 = 3;
export const DEVLINK_PARAM_TYPE_STRING = 5;
export const DEVLINK_PARAM_TYPE_BOOL = 6;

/** __DEVLINK_PARAM_MAX_STRING_VALUE: string parameter values are shorter than this (with the NUL). */
export const DEVLINK_PARAM_MAX_STRING_VALUE = 32;

/**
 * Generic parameter names (devlink_param_generic[] in net/devlink/param.c, the ones a NIC driver of this
 * model may register); a parameter with one of these names is reported with DEVLINK_ATTR_PARAM_GENERIC.
 */
export const DEVLINK_PARAM_GENERIC_NAMES: readonly string[] = [
  'internal_error_reset',
  'max_macs',
  'enable_sriov',
  'region_snapshot_enable',
  'ignore_ari',
  'msix_vec_per_pf_max',
  'msix_vec_per_pf_min',
  'fw_load_policy',
  'reset_dev_on_drv_probe',
  'enable_roce',
  'enable_remote_dev_reset',
  'enable_eth',
  'enable_rdma',
  'enable_vnet',
  'enable_iwarp',
  'io_eq_size',
  'event_eq_size',
];

/** MAX_ADDR_LEN (include/linux/netdevice.h): the longest port function hardware address. */
export const MAX_ADDR_LEN = 32;
/** ETH_ALEN. */
export const ETH_ALEN = 6;
