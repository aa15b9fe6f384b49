/**
 * The vdpa generic netlink family (drivers/vdpa/vdpa.c): "vdpa", version 1, no multicast groups.
 * MGMTDEV_GET (doit + dump, replies as MGMTDEV_NEW), DEV_NEW, DEV_DEL, DEV_GET (doit + dump, replies as
 * DEV_NEW) and DEV_CONFIG_GET (doit + dump). Messages set with NL_SET_ERR_MSG_MOD carry the module
 * prefix "vdpa: ".
 *
 * Rules (vdpa_nl_cmd_*): a management device is named by DEV_NAME plus BUS_NAME exactly when it has a bus
 * (no DEV_NAME → EINVAL, no match → ENODEV; MGMTDEV_GET and DEV_NEW then say which lookup failed);
 * DEV_NEW needs DEV_NAME (EINVAL), a max_vqp of at least 1 (EINVAL), and only config attributes the
 * management device accepts (EOPNOTSUPP, "All provided attributes are not supported"); a name already
 * taken is EEXIST from device registration; DEV_DEL / DEV_GET / DEV_CONFIG_GET of an unknown name are
 * ENODEV "device not found". Policy: a MAC is exactly 6 bytes, an MTU at least 68.
 *
 * SPEC-DEVIATION: DEV_CONFIG_GET reports MAC, status (link up), MTU and max VQ pairs but no negotiated
 * features, and does not refuse (EAGAIN) a device whose features are not negotiated yet: no guest driver
 * negotiates through vDPA in the model.
 */
import { netlink as nl, vdpa as vd } from '../../spec/index.js';
import {
  findAttr,
  type GenlFamily,
  type GenlReply,
  type NetlinkBus,
  type NlAttr,
  type NlPolicy,
  nla,
  nlError,
} from '../netlink/index.js';
import type { VdpaDevConfig, VdpaDevice, VdpaMgmtDev, VdpaRegistry } from './registry.js';

export const VDPA_NL_POLICY: NlPolicy = {
  [vd.VDPA_ATTR_MGMTDEV_BUS_NAME]: 'string',
  [vd.VDPA_ATTR_MGMTDEV_DEV_NAME]: 'string',
  [vd.VDPA_ATTR_DEV_NAME]: 'string',
  [vd.VDPA_ATTR_DEV_NET_CFG_MACADDR]: 'binary',
  [vd.VDPA_ATTR_DEV_NET_CFG_MTU]: 'u16',
  [vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP]: 'u16',
};

const mod = (text: string) => `vdpa: ${text}`;

function str(attrs: readonly NlAttr[], type: number): string | undefined {
  const a = findAttr(attrs, type);
  return a?.kind === 'string' ? a.value : undefined;
}

function u16(attrs: readonly NlAttr[], type: number): number | undefined {
  const a = findAttr(attrs, type);
  return a?.kind === 'u16' ? a.value : undefined;
}

/** The NLA_POLICY_ETH_ADDR and NLA_POLICY_MIN entries, checked before any handler. */
function validatePolicy(attrs: readonly NlAttr[]): void {
  const mac = findAttr(attrs, vd.VDPA_ATTR_DEV_NET_CFG_MACADDR);
  if (mac?.kind === 'binary' && mac.value.length !== 6)
    throw nlError('EINVAL', 'Attribute failed policy validation', vd.VDPA_ATTR_DEV_NET_CFG_MACADDR);
  const mtu = u16(attrs, vd.VDPA_ATTR_DEV_NET_CFG_MTU);
  if (mtu !== undefined && mtu < vd.VDPA_MIN_MTU)
    throw nlError('EINVAL', 'integer out of range', vd.VDPA_ATTR_DEV_NET_CFG_MTU);
}

/** vdpa_mgmtdev_get_from_attr: the errno only; callers add their own message. */
function mgmtLookup(registry: VdpaRegistry, attrs: readonly NlAttr[]): VdpaMgmtDev | 'EINVAL' | 'ENODEV' {
  const dev = str(attrs, vd.VDPA_ATTR_MGMTDEV_DEV_NAME);
  if (dev === undefined) return 'EINVAL';
  const bus = str(attrs, vd.VDPA_ATTR_MGMTDEV_BUS_NAME);
  const m = registry.mgmtDevs.find(
    (x) => (bus === undefined ? x.bus === '' : x.bus === bus) && x.dev === dev,
  );
  return m ?? 'ENODEV';
}

function deviceOf(registry: VdpaRegistry, attrs: readonly NlAttr[]): VdpaDevice {
  const name = str(attrs, vd.VDPA_ATTR_DEV_NAME);
  if (name === undefined) throw nlError('EINVAL');
  const d = registry.device(name);
  if (d === undefined) throw nlError('ENODEV', mod('device not found'));
  return d;
}

function mgmtHandle(m: VdpaMgmtDev): NlAttr[] {
  const out: NlAttr[] = [];
  if (m.bus !== '') out.push(nla.string(vd.VDPA_ATTR_MGMTDEV_BUS_NAME, m.bus));
  out.push(nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, m.dev));
  return out;
}

/** vdpa_mgmtdev_fill. */
function mgmtFill(m: VdpaMgmtDev): GenlReply {
  return {
    cmd: vd.VDPA_CMD_MGMTDEV_NEW,
    attrs: [
      ...mgmtHandle(m),
      nla.u64(vd.VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES, m.supportedClasses),
      nla.u32(vd.VDPA_ATTR_DEV_MGMTDEV_MAX_VQS, m.maxSupportedVqs),
      nla.u64(vd.VDPA_ATTR_DEV_SUPPORTED_FEATURES, m.supportedFeatures),
    ],
  };
}

/** vdpa_dev_fill. */
function devFill(d: VdpaDevice): GenlReply {
  return {
    cmd: vd.VDPA_CMD_DEV_NEW,
    attrs: [
      ...mgmtHandle(d.mgmt),
      nla.string(vd.VDPA_ATTR_DEV_NAME, d.name),
      nla.u32(vd.VDPA_ATTR_DEV_ID, d.virtioDeviceId),
      nla.u32(vd.VDPA_ATTR_DEV_VENDOR_ID, d.vendorId),
      nla.u32(vd.VDPA_ATTR_DEV_MAX_VQS, d.maxVqs),
      nla.u16(vd.VDPA_ATTR_DEV_MAX_VQ_SIZE, d.maxVqSize),
      nla.u16(vd.VDPA_ATTR_DEV_MIN_VQ_SIZE, d.minVqSize),
    ],
  };
}

/** vdpa_dev_config_fill with vdpa_dev_net_config_fill for a net device. */
function configFill(d: VdpaDevice): GenlReply {
  if (d.virtioDeviceId !== vd.VIRTIO_ID_NET) throw nlError('EOPNOTSUPP');
  const c = d.config();
  return {
    cmd: vd.VDPA_CMD_DEV_CONFIG_GET,
    attrs: [
      nla.string(vd.VDPA_ATTR_DEV_NAME, d.name),
      nla.u32(vd.VDPA_ATTR_DEV_ID, d.virtioDeviceId),
      nla.binary(vd.VDPA_ATTR_DEV_NET_CFG_MACADDR, c.mac),
      nla.u16(vd.VDPA_ATTR_DEV_NET_STATUS, vd.VIRTIO_NET_S_LINK_UP),
      nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MTU, c.mtu),
      nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP, c.maxVqPairs),
    ],
  };
}

function devNew(registry: VdpaRegistry, attrs: readonly NlAttr[]): void {
  const name = str(attrs, vd.VDPA_ATTR_DEV_NAME);
  if (name === undefined) throw nlError('EINVAL');
  const mac = findAttr(attrs, vd.VDPA_ATTR_DEV_NET_CFG_MACADDR);
  const mtu = u16(attrs, vd.VDPA_ATTR_DEV_NET_CFG_MTU);
  const maxVqPairs = u16(attrs, vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
  if (maxVqPairs === 0) throw nlError('EINVAL', mod('At least one pair of VQs is required'));
  const config: VdpaDevConfig = {
    ...(mac?.kind === 'binary' ? { mac: mac.value } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(maxVqPairs !== undefined ? { maxVqPairs } : {}),
  };
  let mask = 0n;
  if (config.mac !== undefined) mask |= 1n << BigInt(vd.VDPA_ATTR_DEV_NET_CFG_MACADDR);
  if (config.mtu !== undefined) mask |= 1n << BigInt(vd.VDPA_ATTR_DEV_NET_CFG_MTU);
  if (config.maxVqPairs !== undefined) mask |= 1n << BigInt(vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
  const m = mgmtLookup(registry, attrs);
  if (typeof m === 'string') throw nlError(m, mod('Fail to find the specified management device'));
  if ((mask & m.configAttrMask) !== mask)
    throw nlError('EOPNOTSUPP', mod('All provided attributes are not supported'));
  // __vdpa_register_device refuses a name the vdpa bus already has.
  if (registry.device(name) !== undefined) throw nlError('EEXIST');
  m.ops.devAdd(name, config);
}

/** Register the family on `bus`. */
export function registerVdpaFamily(bus: NetlinkBus, registry: VdpaRegistry): GenlFamily {
  const checked =
    <T>(fn: (attrs: readonly NlAttr[]) => T) =>
    (req: { msg: { attrs: readonly NlAttr[] } }) => {
      validatePolicy(req.msg.attrs);
      return fn(req.msg.attrs);
    };
  return bus.registerFamily({
    name: vd.VDPA_GENL_NAME,
    version: vd.VDPA_GENL_VERSION,
    maxAttr: vd.VDPA_ATTR_MAX,
    policy: VDPA_NL_POLICY,
    ops: [
      {
        cmd: vd.VDPA_CMD_MGMTDEV_GET,
        doit: checked((attrs) => {
          const m = mgmtLookup(registry, attrs);
          if (typeof m === 'string') throw nlError(m, mod('Fail to find the specified mgmt device'));
          return [mgmtFill(m)];
        }),
        dumpit: checked(() => registry.mgmtDevs.map(mgmtFill)),
      },
      {
        cmd: vd.VDPA_CMD_DEV_NEW,
        flags: nl.GENL_ADMIN_PERM,
        doit: checked((attrs) => {
          devNew(registry, attrs);
          return [];
        }),
      },
      {
        cmd: vd.VDPA_CMD_DEV_DEL,
        flags: nl.GENL_ADMIN_PERM,
        doit: checked((attrs) => {
          const d = deviceOf(registry, attrs);
          d.mgmt.ops.devDel(d);
          return [];
        }),
      },
      {
        cmd: vd.VDPA_CMD_DEV_GET,
        doit: checked((attrs) => [devFill(deviceOf(registry, attrs))]),
        dumpit: checked(() => registry.devices.map(devFill)),
      },
      {
        cmd: vd.VDPA_CMD_DEV_CONFIG_GET,
        doit: checked((attrs) => [configFill(deviceOf(registry, attrs))]),
        dumpit: checked(() => registry.devices.map(configFill)),
      },
    ],
  });
}
