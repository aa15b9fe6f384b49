/**
 * The devlink driver parameters of mnic core devices: which auxiliary devices a function carves.
 *
 * - enable_eth / enable_vnet / enable_vfio on every mnic devlink instance (PF, VF, SF): whether the
 *   core device has its "eth", "vnet" and "vfio" auxiliary device. Defaults: eth on; vnet and vfio off
 *   on PFs and VFs; eth and vnet on for SFs (unless the PF's sf_* defaults say otherwise).
 * - sf_enable_eth / sf_enable_vnet / sf_enable_vfio on the PF: the defaults an SF takes when it is
 *   activated (how a user asks for "SF straight to VFIO": sf_enable_eth false, sf_enable_vfio true).
 *
 * SPEC-DEVIATION: mlx5's enable_eth/enable_rdma/enable_vnet are driverinit parameters applied by
 * `devlink dev reload`; reload is not modeled, so both cmodes are offered, share one value, and a set
 * carves or deletes the device at once. mlx5 has no enable_vfio and no
 * sf_* defaults; they are this model's knobs for the seed mail's "VFIO probes to an auxiliary device".
 */
import type { DevlinkParam, DevlinkParamCmode, DevlinkParamValue } from '../../devlink/registry.js';
import { nlError } from '../../netlink/bus.js';
import type { MnicCoreDev, MnicEnables } from './core-dev.js';
import type { MnicAuxName } from './ids.js';

const CMODES: readonly DevlinkParamCmode[] = ['runtime', 'driverinit'];

function boolParam(name: string, get: () => boolean, set: (v: boolean) => void): DevlinkParam {
  return {
    name,
    type: 'bool',
    cmodes: CMODES,
    get: () => get(),
    set(cmode: DevlinkParamCmode, value: DevlinkParamValue) {
      if (typeof value !== 'boolean') throw nlError('EINVAL', `Parameter ${name} takes a bool`);
      if (!CMODES.includes(cmode)) throw nlError('EOPNOTSUPP', `Parameter ${name} has no ${cmode} cmode`);
      set(value);
    },
  };
}

/** enable_eth / enable_vnet / enable_vfio of one core device. */
export function enableParams(
  core: () => MnicCoreDev | undefined,
  hold: <T>(f: () => T) => T,
): DevlinkParam[] {
  const one = (name: MnicAuxName): DevlinkParam =>
    boolParam(
      `enable_${name}`,
      () => core()?.enables[name] ?? false,
      (v) => {
        const c = core();
        if (c !== undefined && c.enables[name] !== v) hold(() => c.setEnabled(name, v));
      },
    );
  return [one('eth'), one('vnet'), one('vfio')];
}

/** sf_enable_* on the PF: the enables an SF starts with. */
export function sfDefaultParams(defaults: MnicEnables): DevlinkParam[] {
  const one = (name: MnicAuxName): DevlinkParam =>
    boolParam(
      `sf_enable_${name}`,
      () => defaults[name],
      (v) => {
        defaults[name] = v;
      },
    );
  return [one('eth'), one('vnet'), one('vfio')];
}
