/**
 * devlink instance commands: GET (doit and dump, replies as DEVLINK_CMD_NEW), ESWITCH_GET / ESWITCH_SET
 * (net/devlink/dev.c) and PARAM_GET (doit and dump) / PARAM_SET (net/devlink/param.c).
 *
 * ESWITCH_SET: a mode attribute needs eswitch_mode_set (EOPNOTSUPP); inline and encap modes are not
 * modeled, so asking for them is EOPNOTSUPP as for a driver without those ops.
 *
 * PARAM_SET (__devlink_nl_cmd_param_set_doit): the parameter must exist (EINVAL, no message, also when
 * the name is missing), PARAM_TYPE must be present and equal the parameter's type (EINVAL), the value
 * must have the type's exact width (a bool is a flag: present and empty means true, absent false; a
 * string is NUL-terminated and shorter than 32 bytes), CMODE must be present (EINVAL) and supported
 * (EOPNOTSUPP); then the driver's set, whose NetlinkError passes through. Success notifies PARAM_NEW.
 */
import { devlink as dl } from '../../spec/index.js';
import type { GenlOp, NetlinkBus, NlAttr } from '../netlink/index.js';
import { findAttr, nlError } from '../netlink/index.js';
import { CMODE_NUMBER, devFill, eswitchFill, PARAM_TYPE_NUMBER, paramFill } from './fill.js';
import type {
  DevlinkInstance,
  DevlinkParam,
  DevlinkParamCmode,
  DevlinkParamValue,
  DevlinkRegistry,
} from './registry.js';
import { attrsOf, dumpInstances, instanceOf, stringOf, u32Of, validateRanges } from './request.js';

function paramsOf(inst: DevlinkInstance): readonly DevlinkParam[] {
  return inst.ops.params?.() ?? [];
}

/** devlink_param_get_from_info + the doit's "not found is EINVAL". */
function paramOf(inst: DevlinkInstance, attrs: readonly NlAttr[]): DevlinkParam {
  const name = stringOf(attrs, dl.DEVLINK_ATTR_PARAM_NAME);
  const p = name === undefined ? undefined : paramsOf(inst).find((x) => x.name === name);
  if (p === undefined) throw nlError('EINVAL');
  return p;
}

/** devlink_param_value_get_from_info. */
function paramValueOf(p: DevlinkParam, attrs: readonly NlAttr[]): DevlinkParamValue {
  const data = findAttr(attrs, dl.DEVLINK_ATTR_PARAM_VALUE_DATA);
  const bytes = data?.kind === 'binary' ? data.value : undefined;
  if (data !== undefined && bytes === undefined) throw nlError('EINVAL');
  if (p.type === 'bool') {
    if (bytes !== undefined && bytes.length !== 0) throw nlError('EINVAL');
    return bytes !== undefined;
  }
  if (bytes === undefined) throw nlError('EINVAL');
  const width = { u8: 1, u16: 2, u32: 4 } as const;
  if (p.type === 'string') {
    const nul = bytes.indexOf(0);
    if (nul < 0 || nul >= dl.DEVLINK_PARAM_MAX_STRING_VALUE) throw nlError('EINVAL');
    return new TextDecoder().decode(bytes.subarray(0, nul));
  }
  if (bytes.length !== width[p.type]) throw nlError('EINVAL');
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i]!;
  return v;
}

function cmodeName(n: number): DevlinkParamCmode | undefined {
  return (Object.keys(CMODE_NUMBER) as DevlinkParamCmode[]).find((c) => CMODE_NUMBER[c] === n);
}

function paramSet(bus: NetlinkBus, inst: DevlinkInstance, attrs: readonly NlAttr[]): void {
  const p = paramOf(inst, attrs);
  const type = u32Of(attrs, dl.DEVLINK_ATTR_PARAM_TYPE);
  if (type === undefined || type !== PARAM_TYPE_NUMBER[p.type]) throw nlError('EINVAL');
  const value = paramValueOf(p, attrs);
  const cmodeNumber = u32Of(attrs, dl.DEVLINK_ATTR_PARAM_VALUE_CMODE);
  if (cmodeNumber === undefined) throw nlError('EINVAL');
  const cmode = cmodeName(cmodeNumber);
  if (cmode === undefined || !p.cmodes.includes(cmode)) throw nlError('EOPNOTSUPP');
  p.set(cmode, value);
  bus.notify(
    dl.DEVLINK_GENL_NAME,
    dl.DEVLINK_GENL_MCGRP_CONFIG_NAME,
    paramFill(inst, p, dl.DEVLINK_CMD_PARAM_NEW),
  );
}

export function devOps(registry: DevlinkRegistry, bus: NetlinkBus): GenlOp[] {
  const checked = (attrs: readonly NlAttr[]) => {
    validateRanges(attrs);
    return instanceOf(registry, attrs);
  };
  return [
    {
      cmd: dl.DEVLINK_CMD_GET,
      doit: (req) => [devFill(checked(attrsOf(req)), dl.DEVLINK_CMD_NEW)],
      dumpit: (req) => {
        validateRanges(attrsOf(req));
        return dumpInstances(registry, attrsOf(req)).map((i) => devFill(i, dl.DEVLINK_CMD_NEW));
      },
    },
    {
      cmd: dl.DEVLINK_CMD_ESWITCH_GET,
      doit: (req) => [eswitchFill(checked(attrsOf(req)))],
    },
    {
      cmd: dl.DEVLINK_CMD_ESWITCH_SET,
      doit: (req) => {
        const attrs = attrsOf(req);
        const inst = checked(attrs);
        const mode = u32Of(attrs, dl.DEVLINK_ATTR_ESWITCH_MODE);
        if (mode !== undefined) {
          if (inst.ops.eswitchModeSet === undefined) throw nlError('EOPNOTSUPP');
          inst.ops.eswitchModeSet(mode);
        }
        if (
          findAttr(attrs, dl.DEVLINK_ATTR_ESWITCH_INLINE_MODE) !== undefined ||
          findAttr(attrs, dl.DEVLINK_ATTR_ESWITCH_ENCAP_MODE) !== undefined
        )
          throw nlError('EOPNOTSUPP');
        return [];
      },
    },
    {
      cmd: dl.DEVLINK_CMD_PARAM_GET,
      doit: (req) => {
        const inst = checked(attrsOf(req));
        return [paramFill(inst, paramOf(inst, attrsOf(req)), dl.DEVLINK_CMD_PARAM_GET)];
      },
      dumpit: (req) => {
        validateRanges(attrsOf(req));
        return dumpInstances(registry, attrsOf(req)).flatMap((inst) =>
          paramsOf(inst).map((p) => paramFill(inst, p, dl.DEVLINK_CMD_PARAM_GET)),
        );
      },
    },
    {
      cmd: dl.DEVLINK_CMD_PARAM_SET,
      doit: (req) => {
        const attrs = attrsOf(req);
        paramSet(bus, checked(attrs), attrs);
        return [];
      },
    },
  ];
}
