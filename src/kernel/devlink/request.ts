/**
 * What every devlink doit does before its own work (net/devlink/netlink.c): the policy checks the generic
 * netlink layer runs on the top-level attributes (types are the bus's decode; the NLA_POLICY_RANGE
 * entries are checked here, "integer out of range" with the attribute), then the instance lookup of
 * devlink_get_from_attrs_lock (no BUS_NAME or DEV_NAME → EINVAL; no such instance → ENODEV, neither with
 * an extack message) and, for port commands, devlink_port_get_from_attrs (no PORT_INDEX → EINVAL; no such
 * port → ENODEV).
 *
 * Also the kernel's request policy (devlink_nl_policy): the attribute kinds the bus decodes requests with.
 * DEVLINK_ATTR_PORT_FUNCTION is a nest whose contents are only parsed by PORT_SET (nla_parse_nested with
 * the function policy), so its sub-policy is empty here and port-cmds.ts checks the members.
 *
 * SPEC-DEVIATION: one family-wide policy, as kernels before the generated split ops (6.3) had; the
 * per-command policies that newer kernels use to refuse attributes a command does not take are not
 * modeled, so such attributes are ignored.
 */
import { devlink as dl } from '../../spec/index.js';
import { findAttr, type GenlRequest, type NlAttr, type NlPolicy, nlError } from '../netlink/index.js';
import type { DevlinkInstance, DevlinkPort, DevlinkRegistry } from './registry.js';

export const DEVLINK_NL_POLICY: NlPolicy = {
  [dl.DEVLINK_ATTR_BUS_NAME]: 'string',
  [dl.DEVLINK_ATTR_DEV_NAME]: 'string',
  [dl.DEVLINK_ATTR_PORT_INDEX]: 'u32',
  [dl.DEVLINK_ATTR_PORT_TYPE]: 'u16',
  [dl.DEVLINK_ATTR_PORT_SPLIT_COUNT]: 'u32',
  [dl.DEVLINK_ATTR_ESWITCH_MODE]: 'u16',
  [dl.DEVLINK_ATTR_ESWITCH_INLINE_MODE]: 'u8',
  [dl.DEVLINK_ATTR_ESWITCH_ENCAP_MODE]: 'u8',
  [dl.DEVLINK_ATTR_PARAM_NAME]: 'string',
  [dl.DEVLINK_ATTR_PARAM_TYPE]: 'u8',
  [dl.DEVLINK_ATTR_PARAM_VALUE_CMODE]: 'u8',
  [dl.DEVLINK_ATTR_PORT_FUNCTION]: { kind: 'nested', policy: {} },
  [dl.DEVLINK_ATTR_PORT_FLAVOUR]: 'u16',
  [dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER]: 'u16',
  [dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER]: 'u32',
  [dl.DEVLINK_ATTR_PORT_CONTROLLER_NUMBER]: 'u32',
};

/** NLA_POLICY_RANGE entries of devlink_nl_policy: attribute → [min, max]. */
const RANGES: ReadonlyArray<readonly [number, number, number]> = [
  [dl.DEVLINK_ATTR_PORT_TYPE, dl.DEVLINK_PORT_TYPE_AUTO, dl.DEVLINK_PORT_TYPE_IB],
  [dl.DEVLINK_ATTR_ESWITCH_MODE, dl.DEVLINK_ESWITCH_MODE_LEGACY, dl.DEVLINK_ESWITCH_MODE_SWITCHDEV],
];

/** The request's top-level attributes. */
export function attrsOf(req: GenlRequest): readonly NlAttr[] {
  return req.msg.attrs;
}

export function u32Of(attrs: readonly NlAttr[], type: number): number | undefined {
  const a = findAttr(attrs, type);
  return a !== undefined && (a.kind === 'u8' || a.kind === 'u16' || a.kind === 'u32') ? a.value : undefined;
}

export function stringOf(attrs: readonly NlAttr[], type: number): string | undefined {
  const a = findAttr(attrs, type);
  return a?.kind === 'string' ? a.value : undefined;
}

/** The range part of policy validation, which the kernel runs before any handler. */
export function validateRanges(attrs: readonly NlAttr[]): void {
  for (const [type, min, max] of RANGES) {
    const v = u32Of(attrs, type);
    if (v !== undefined && (v < min || v > max)) throw nlError('EINVAL', 'integer out of range', type);
  }
}

/** devlink_get_from_attrs_lock. */
export function instanceOf(registry: DevlinkRegistry, attrs: readonly NlAttr[]): DevlinkInstance {
  const bus = stringOf(attrs, dl.DEVLINK_ATTR_BUS_NAME);
  const dev = stringOf(attrs, dl.DEVLINK_ATTR_DEV_NAME);
  if (bus === undefined || dev === undefined) throw nlError('EINVAL');
  const inst = registry.find(bus, dev);
  if (inst === undefined) throw nlError('ENODEV');
  return inst;
}

/** devlink_port_get_from_attrs. */
export function portOf(inst: DevlinkInstance, attrs: readonly NlAttr[]): DevlinkPort {
  const index = u32Of(attrs, dl.DEVLINK_ATTR_PORT_INDEX);
  if (index === undefined) throw nlError('EINVAL');
  const port = inst.port(index);
  if (port === undefined) throw nlError('ENODEV');
  return port;
}

/** Instances a dump walks: one when the request names a handle (devlink_nl_inst_single_dumpit), else all. */
export function dumpInstances(
  registry: DevlinkRegistry,
  attrs: readonly NlAttr[],
): readonly DevlinkInstance[] {
  const named =
    findAttr(attrs, dl.DEVLINK_ATTR_BUS_NAME) !== undefined ||
    findAttr(attrs, dl.DEVLINK_ATTR_DEV_NAME) !== undefined;
  return named ? [instanceOf(registry, attrs)] : registry.instances;
}
