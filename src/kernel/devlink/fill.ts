/**
 * The devlink family's reply messages, attribute for attribute in the kernel's order:
 * - devlink_nl_fill (net/devlink/dev.c): handle, RELOAD_FAILED;
 * - devlink_nl_port_fill (net/devlink/port.c): handle, PORT_INDEX, PORT_TYPE, the netdev's ifindex and
 *   name for an ETH port that has one, then devlink_nl_port_attrs_put (SPLITTABLE, FLAVOUR, and per
 *   flavour CONTROLLER_NUMBER / PCI_PF_NUMBER / PCI_VF_NUMBER / PCI_SF_NUMBER / EXTERNAL, or PORT_NUMBER
 *   for physical ports), then the PORT_FUNCTION nest (nla_nest_start_noflag): HW_ADDR, CAPS (a
 *   bitfield32 whose selector says which caps the driver reported; migratable only for PCI_VF ports),
 *   STATE and OPSTATE; the nest is left out when it would be empty;
 * - devlink_nl_eswitch_fill: handle, ESWITCH_MODE when the driver has eswitch_mode_get;
 * - devlink_nl_param_fill (net/devlink/param.c): handle, then a PARAM nest with NAME, GENERIC (flag),
 *   TYPE and a VALUES_LIST of one PARAM_VALUE nest per supported cmode (CMODE, then DATA; a false bool
 *   has no DATA).
 *
 * SPEC-DEVIATION: devlink_nl_fill also sends DEV_STATS (reload statistics) and nested devlink handles;
 * nothing here reloads, so they are left out. Port desired type, lanes, split groups, IB device names
 * and the function's nested devlink handle and max_io_eqs are not modeled.
 */
import { devlink as dl } from '../../spec/index.js';
import { type GenlReply, type NlAttr, nla } from '../netlink/index.js';
import type { DevlinkInstance, DevlinkParam, DevlinkParamCmode, DevlinkPort } from './registry.js';

export const CMODE_NUMBER: Record<DevlinkParamCmode, number> = {
  runtime: dl.DEVLINK_PARAM_CMODE_RUNTIME,
  driverinit: dl.DEVLINK_PARAM_CMODE_DRIVERINIT,
  permanent: dl.DEVLINK_PARAM_CMODE_PERMANENT,
};

export const PARAM_TYPE_NUMBER: Record<DevlinkParam['type'], number> = {
  u8: dl.DEVLINK_PARAM_TYPE_U8,
  u16: dl.DEVLINK_PARAM_TYPE_U16,
  u32: dl.DEVLINK_PARAM_TYPE_U32,
  string: dl.DEVLINK_PARAM_TYPE_STRING,
  bool: dl.DEVLINK_PARAM_TYPE_BOOL,
};

/** devlink_nl_put_handle. */
export function handleAttrs(inst: DevlinkInstance): NlAttr[] {
  return [nla.string(dl.DEVLINK_ATTR_BUS_NAME, inst.bus), nla.string(dl.DEVLINK_ATTR_DEV_NAME, inst.dev)];
}

export function devFill(inst: DevlinkInstance, cmd: number): GenlReply {
  return { cmd, attrs: [...handleAttrs(inst), nla.u8(dl.DEVLINK_ATTR_RELOAD_FAILED, 0)] };
}

function bitfield32(type: number, value: number, selector: number): NlAttr {
  const b = new Uint8Array(dl.NLA_BITFIELD32_SIZE_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, value >>> 0, true);
  v.setUint32(4, selector >>> 0, true);
  return nla.binary(type, b);
}

function portAttrsPut(port: DevlinkPort): NlAttr[] {
  const out: NlAttr[] = [
    nla.u8(dl.DEVLINK_ATTR_PORT_SPLITTABLE, port.splittable ? 1 : 0),
    nla.u16(dl.DEVLINK_ATTR_PORT_FLAVOUR, port.flavour),
  ];
  const controller = nla.u32(dl.DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, port.controller);
  const pf = nla.u16(dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER, port.pfnum);
  const external = nla.u8(dl.DEVLINK_ATTR_PORT_EXTERNAL, port.external ? 1 : 0);
  switch (port.flavour) {
    case dl.DEVLINK_PORT_FLAVOUR_PCI_PF:
      out.push(controller, pf, external);
      break;
    case dl.DEVLINK_PORT_FLAVOUR_PCI_VF:
      out.push(controller, pf, nla.u16(dl.DEVLINK_ATTR_PORT_PCI_VF_NUMBER, port.vfnum ?? 0), external);
      break;
    case dl.DEVLINK_PORT_FLAVOUR_PCI_SF:
      out.push(controller, pf, nla.u32(dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER, port.sfnum ?? 0));
      break;
    case dl.DEVLINK_PORT_FLAVOUR_PHYSICAL:
    case dl.DEVLINK_PORT_FLAVOUR_CPU:
    case dl.DEVLINK_PORT_FLAVOUR_DSA:
      out.push(nla.u32(dl.DEVLINK_ATTR_PORT_NUMBER, port.portNumber ?? 0));
      break;
    default:
      break;
  }
  return out;
}

function portFunctionAttrs(port: DevlinkPort): NlAttr[] {
  if (port.fn === undefined) return [];
  const fn = port.fn();
  const inner: NlAttr[] = [nla.binary(dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, fn.hwAddr)];
  if (fn.caps !== undefined) {
    let value = 0;
    let selector = dl.DEVLINK_PORT_FN_CAP_ROCE;
    if (fn.caps.roce) value |= dl.DEVLINK_PORT_FN_CAP_ROCE;
    if (port.flavour === dl.DEVLINK_PORT_FLAVOUR_PCI_VF) {
      selector |= dl.DEVLINK_PORT_FN_CAP_MIGRATABLE;
      if (fn.caps.migratable) value |= dl.DEVLINK_PORT_FN_CAP_MIGRATABLE;
    }
    inner.push(bitfield32(dl.DEVLINK_PORT_FN_ATTR_CAPS, value, selector));
  }
  if (fn.state !== undefined) {
    const state = fn.state === 'active' ? dl.DEVLINK_PORT_FN_STATE_ACTIVE : dl.DEVLINK_PORT_FN_STATE_INACTIVE;
    const opstate =
      fn.opstate === 'attached' ? dl.DEVLINK_PORT_FN_OPSTATE_ATTACHED : dl.DEVLINK_PORT_FN_OPSTATE_DETACHED;
    inner.push(
      nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, state),
      nla.u8(dl.DEVLINK_PORT_FN_ATTR_OPSTATE, opstate),
    );
  }
  return [nla.nestNoflag(dl.DEVLINK_ATTR_PORT_FUNCTION, inner)];
}

export function portFill(inst: DevlinkInstance, port: DevlinkPort, cmd: number): GenlReply {
  const attrs: NlAttr[] = [
    ...handleAttrs(inst),
    nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, port.index),
    nla.u16(dl.DEVLINK_ATTR_PORT_TYPE, port.type),
  ];
  if (port.type === dl.DEVLINK_PORT_TYPE_ETH && port.netdevName !== undefined) {
    attrs.push(
      nla.u32(dl.DEVLINK_ATTR_PORT_NETDEV_IFINDEX, port.netdevIfindex ?? 0),
      nla.string(dl.DEVLINK_ATTR_PORT_NETDEV_NAME, port.netdevName),
    );
  }
  attrs.push(...portAttrsPut(port), ...portFunctionAttrs(port));
  return { cmd, attrs };
}

export function eswitchFill(inst: DevlinkInstance): GenlReply {
  const attrs = handleAttrs(inst);
  const get = inst.ops.eswitchModeGet;
  if (get !== undefined) attrs.push(nla.u16(dl.DEVLINK_ATTR_ESWITCH_MODE, get.call(inst.ops)));
  return { cmd: dl.DEVLINK_CMD_ESWITCH_GET, attrs };
}

export function isGenericParam(p: DevlinkParam): boolean {
  return p.generic ?? dl.DEVLINK_PARAM_GENERIC_NAMES.includes(p.name);
}

function paramValueData(p: DevlinkParam, cmode: DevlinkParamCmode): NlAttr[] {
  const v = p.get(cmode);
  const t = dl.DEVLINK_ATTR_PARAM_VALUE_DATA;
  switch (p.type) {
    case 'bool':
      return v === true ? [nla.flag(t)] : [];
    case 'u8':
      return [nla.u8(t, Number(v))];
    case 'u16':
      return [nla.u16(t, Number(v))];
    case 'u32':
      return [nla.u32(t, Number(v))];
    case 'string':
      return [nla.string(t, String(v))];
  }
}

export function paramFill(inst: DevlinkInstance, p: DevlinkParam, cmd: number): GenlReply {
  const values = p.cmodes.map((cmode) =>
    nla.nestNoflag(dl.DEVLINK_ATTR_PARAM_VALUE, [
      nla.u8(dl.DEVLINK_ATTR_PARAM_VALUE_CMODE, CMODE_NUMBER[cmode]),
      ...paramValueData(p, cmode),
    ]),
  );
  const param: NlAttr[] = [nla.string(dl.DEVLINK_ATTR_PARAM_NAME, p.name)];
  if (isGenericParam(p)) param.push(nla.flag(dl.DEVLINK_ATTR_PARAM_GENERIC));
  param.push(
    nla.u8(dl.DEVLINK_ATTR_PARAM_TYPE, PARAM_TYPE_NUMBER[p.type]),
    nla.nestNoflag(dl.DEVLINK_ATTR_PARAM_VALUES_LIST, values),
  );
  return { cmd, attrs: [...handleAttrs(inst), nla.nestNoflag(dl.DEVLINK_ATTR_PARAM, param)] };
}
