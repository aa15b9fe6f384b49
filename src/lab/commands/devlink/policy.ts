/**
 * How the devlink tool reads the kernel's replies (its attr_cb policy in iproute2's devlink.c): the
 * attribute kinds of the top level, the PORT_FUNCTION nest and the PARAM nest. Written from
 * include/uapi/linux/devlink.h independently of the kernel side's request policy. PARAM_VALUE_DATA is
 * "dynamic" (its kind depends on PARAM_TYPE), so it arrives as bytes and the formatter interprets it.
 */
import type { NlPolicy } from '../../../kernel/index.js';
import { devlink as dl } from '../../../spec/index.js';

const FUNCTION_POLICY: NlPolicy = {
  [dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR]: 'binary',
  [dl.DEVLINK_PORT_FN_ATTR_STATE]: 'u8',
  [dl.DEVLINK_PORT_FN_ATTR_OPSTATE]: 'u8',
  [dl.DEVLINK_PORT_FN_ATTR_CAPS]: 'binary',
  [dl.DEVLINK_PORT_FN_ATTR_MAX_IO_EQS]: 'u32',
};

const PARAM_VALUE_POLICY: NlPolicy = {
  [dl.DEVLINK_ATTR_PARAM_VALUE_CMODE]: 'u8',
  [dl.DEVLINK_ATTR_PARAM_VALUE_DATA]: 'binary',
};

const PARAM_POLICY: NlPolicy = {
  [dl.DEVLINK_ATTR_PARAM_NAME]: 'string',
  [dl.DEVLINK_ATTR_PARAM_GENERIC]: 'flag',
  [dl.DEVLINK_ATTR_PARAM_TYPE]: 'u8',
  [dl.DEVLINK_ATTR_PARAM_VALUES_LIST]: {
    kind: 'nested',
    policy: { [dl.DEVLINK_ATTR_PARAM_VALUE]: { kind: 'nested', policy: PARAM_VALUE_POLICY } },
  },
};

export const DEVLINK_REPLY_POLICY: NlPolicy = {
  [dl.DEVLINK_ATTR_BUS_NAME]: 'string',
  [dl.DEVLINK_ATTR_DEV_NAME]: 'string',
  [dl.DEVLINK_ATTR_PORT_INDEX]: 'u32',
  [dl.DEVLINK_ATTR_PORT_TYPE]: 'u16',
  [dl.DEVLINK_ATTR_PORT_DESIRED_TYPE]: 'u16',
  [dl.DEVLINK_ATTR_PORT_NETDEV_IFINDEX]: 'u32',
  [dl.DEVLINK_ATTR_PORT_NETDEV_NAME]: 'string',
  [dl.DEVLINK_ATTR_PORT_IBDEV_NAME]: 'string',
  [dl.DEVLINK_ATTR_PORT_SPLIT_GROUP]: 'u32',
  [dl.DEVLINK_ATTR_ESWITCH_MODE]: 'u16',
  [dl.DEVLINK_ATTR_ESWITCH_INLINE_MODE]: 'u8',
  [dl.DEVLINK_ATTR_ESWITCH_ENCAP_MODE]: 'u8',
  [dl.DEVLINK_ATTR_PORT_FLAVOUR]: 'u16',
  [dl.DEVLINK_ATTR_PORT_NUMBER]: 'u32',
  [dl.DEVLINK_ATTR_PARAM]: { kind: 'nested', policy: PARAM_POLICY },
  [dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER]: 'u16',
  [dl.DEVLINK_ATTR_PORT_PCI_VF_NUMBER]: 'u16',
  [dl.DEVLINK_ATTR_RELOAD_FAILED]: 'u8',
  [dl.DEVLINK_ATTR_PORT_FUNCTION]: { kind: 'nested', policy: FUNCTION_POLICY },
  [dl.DEVLINK_ATTR_PORT_LANES]: 'u32',
  [dl.DEVLINK_ATTR_PORT_SPLITTABLE]: 'u8',
  [dl.DEVLINK_ATTR_PORT_EXTERNAL]: 'u8',
  [dl.DEVLINK_ATTR_PORT_CONTROLLER_NUMBER]: 'u32',
  [dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER]: 'u32',
};
