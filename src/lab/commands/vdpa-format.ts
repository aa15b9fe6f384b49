/**
 * The vdpa tool's reply policy and printers (iproute2 vdpa/vdpa.c pr_out_mgmtdev_show, pr_out_dev,
 * pr_out_dev_net_config, print_features), from reply attributes to text and JSON. Spacing is the
 * tool's: a management device line is "<handle>: " and each field follows on its own indented line;
 * the config line's fields each end in a space, and its JSON keys "link " and "link_announce " keep
 * the trailing space of the tool's format strings.
 */
import { findAttr, type NlAttr, type NlPolicy } from '../../kernel/index.js';
import { vdpa as vd } from '../../spec/index.js';
import { formatHwAddr, type JsonValue, type ToolOutput } from './devlink/output.js';

export const VDPA_REPLY_POLICY: NlPolicy = {
  [vd.VDPA_ATTR_MGMTDEV_BUS_NAME]: 'string',
  [vd.VDPA_ATTR_MGMTDEV_DEV_NAME]: 'string',
  [vd.VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES]: 'u64',
  [vd.VDPA_ATTR_DEV_NAME]: 'string',
  [vd.VDPA_ATTR_DEV_ID]: 'u32',
  [vd.VDPA_ATTR_DEV_VENDOR_ID]: 'u32',
  [vd.VDPA_ATTR_DEV_MAX_VQS]: 'u32',
  [vd.VDPA_ATTR_DEV_MAX_VQ_SIZE]: 'u16',
  [vd.VDPA_ATTR_DEV_MIN_VQ_SIZE]: 'u16',
  [vd.VDPA_ATTR_DEV_NET_CFG_MACADDR]: 'binary',
  [vd.VDPA_ATTR_DEV_NET_STATUS]: 'u16',
  [vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP]: 'u16',
  [vd.VDPA_ATTR_DEV_NET_CFG_MTU]: 'u16',
  [vd.VDPA_ATTR_DEV_NEGOTIATED_FEATURES]: 'u64',
  [vd.VDPA_ATTR_DEV_MGMTDEV_MAX_VQS]: 'u32',
  [vd.VDPA_ATTR_DEV_SUPPORTED_FEATURES]: 'u64',
};

function val(attrs: readonly NlAttr[], type: number): number | bigint | string | Uint8Array | undefined {
  const a = findAttr(attrs, type);
  if (a === undefined || a.kind === 'flag' || a.kind === 'nested') return undefined;
  return a.value;
}

function mgmtName(attrs: readonly NlAttr[]): string | undefined {
  const dev = val(attrs, vd.VDPA_ATTR_MGMTDEV_DEV_NAME);
  const bus = val(attrs, vd.VDPA_ATTR_MGMTDEV_BUS_NAME);
  if (typeof dev !== 'string') return undefined;
  return typeof bus === 'string' ? `${bus}/${dev}` : dev;
}

/** The tool's feature names (net_feature_strs, ext_feature_strs): virtio-net bits and transport bits 28..41. */
const NET_FEATURES: Record<number, string> = {
  0: 'CSUM',
  1: 'GUEST_CSUM',
  2: 'CTRL_GUEST_OFFLOADS',
  3: 'MTU',
  5: 'MAC',
  7: 'GUEST_TSO4',
  8: 'GUEST_TSO6',
  9: 'GUEST_ECN',
  10: 'GUEST_UFO',
  11: 'HOST_TSO4',
  12: 'HOST_TSO6',
  13: 'HOST_ECN',
  14: 'HOST_UFO',
  15: 'MRG_RXBUF',
  16: 'STATUS',
  17: 'CTRL_VQ',
  18: 'CTRL_RX',
  19: 'CTRL_VLAN',
  20: 'CTRL_RX_EXTRA',
  21: 'GUEST_ANNOUNCE',
  22: 'MQ',
  23: 'CTRL_MAC_ADDR',
  24: 'NOTIFY_ON_EMPTY',
  27: 'ANY_LAYOUT',
  57: 'HASH_REPORT',
  60: 'RSS',
  61: 'RSC_EXT',
  62: 'STANDBY',
  63: 'SPEED_DUPLEX',
};
const TRANSPORT_FEATURES: Record<number, string> = {
  28: 'RING_INDIRECT_DESC',
  29: 'RING_EVENT_IDX',
  32: 'VERSION_1',
  33: 'ACCESS_PLATFORM',
  34: 'RING_PACKED',
  35: 'IN_ORDER',
  36: 'ORDER_PLATFORM',
  37: 'SR_IOV',
  38: 'NOTIFICATION_DATA',
};

/** print_features: a name per set bit, "bit_N" when the tool has none. */
function featureNames(features: bigint, net: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) {
    if ((features & (1n << BigInt(i))) === 0n) continue;
    const name = i >= 28 && i <= 41 ? TRANSPORT_FEATURES[i] : net ? NET_FEATURES[i] : undefined;
    out.push(name ?? `bit_${i}`);
  }
  return out;
}

export function printMgmtdev(out: ToolOutput, attrs: readonly NlAttr[]): void {
  const h = mgmtName(attrs);
  if (h === undefined) return;
  const json: { [k: string]: JsonValue } = {};
  let text = `${h}: `;
  const classes = val(attrs, vd.VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES);
  if (typeof classes === 'bigint') {
    const names: string[] = [];
    for (let i = 1n; i < 64n; i++) {
      if ((classes & (1n << i)) === 0n) continue;
      names.push(i === 1n ? 'net' : i === 2n ? 'block' : '< unknown class >');
    }
    text += `\n  supported_classes${names.map((n) => ` ${n}`).join('')}`;
    json['supported_classes'] = names;
  }
  const maxVqs = val(attrs, vd.VDPA_ATTR_DEV_MGMTDEV_MAX_VQS);
  if (typeof maxVqs === 'number') {
    text += `\n  max_supported_vqs ${maxVqs}`;
    json['max_supported_vqs'] = maxVqs;
  }
  const features = val(attrs, vd.VDPA_ATTR_DEV_SUPPORTED_FEATURES);
  if (typeof features === 'bigint') {
    const net = typeof classes === 'bigint' && (classes & (1n << BigInt(vd.VIRTIO_ID_NET))) !== 0n;
    const names = featureNames(features, net);
    text += `\n  dev_features${names.map((n) => ` ${n}`).join('')}`;
    json['dev_features'] = names.map((n) => (n.startsWith('bit_') ? Number(n.slice(4)) : n));
  }
  out.text(`${text}\n`);
  out.entry(h, json);
}

export function printDev(out: ToolOutput, attrs: readonly NlAttr[]): void {
  const name = val(attrs, vd.VDPA_ATTR_DEV_NAME);
  const id = val(attrs, vd.VDPA_ATTR_DEV_ID);
  const mgmt = mgmtName(attrs);
  if (typeof name !== 'string' || typeof id !== 'number' || mgmt === undefined) return;
  const type = id === vd.VIRTIO_ID_NET ? 'network' : id === vd.VIRTIO_ID_BLOCK ? 'block' : '<unknown type>';
  const json: { [k: string]: JsonValue } = { type, mgmtdev: mgmt };
  let text = `${name}: type ${type} mgmtdev ${mgmt}`;
  for (const [k, t] of [
    ['vendor_id', vd.VDPA_ATTR_DEV_VENDOR_ID],
    ['max_vqs', vd.VDPA_ATTR_DEV_MAX_VQS],
    ['max_vq_size', vd.VDPA_ATTR_DEV_MAX_VQ_SIZE],
  ] as const) {
    const v = val(attrs, t);
    if (typeof v === 'number') {
      text += ` ${k} ${v}`;
      json[k] = v;
    }
  }
  out.text(`${text}\n`);
  out.entry(name, json);
}

export function printConfig(out: ToolOutput, attrs: readonly NlAttr[]): void {
  const name = val(attrs, vd.VDPA_ATTR_DEV_NAME);
  const id = val(attrs, vd.VDPA_ATTR_DEV_ID);
  if (typeof name !== 'string' || typeof id !== 'number') return;
  const json: { [k: string]: JsonValue } = {};
  let text = `${name}: `;
  if (id === vd.VIRTIO_ID_NET) {
    const mac = val(attrs, vd.VDPA_ATTR_DEV_NET_CFG_MACADDR);
    if (mac instanceof Uint8Array) {
      text += `mac ${formatHwAddr(mac)} `;
      json['mac'] = formatHwAddr(mac);
    }
    const status = val(attrs, vd.VDPA_ATTR_DEV_NET_STATUS);
    if (typeof status === 'number') {
      const up = status & vd.VIRTIO_NET_S_LINK_UP ? 'up' : 'down';
      const announce = (status & vd.VIRTIO_NET_S_ANNOUNCE) !== 0;
      text += `link ${up} link_announce ${announce} `;
      json['link '] = up;
      json['link_announce '] = announce;
    }
    for (const [k, t] of [
      ['max_vq_pairs', vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP],
      ['mtu', vd.VDPA_ATTR_DEV_NET_CFG_MTU],
    ] as const) {
      const v = val(attrs, t);
      if (typeof v === 'number') {
        text += `${k} ${v} `;
        json[k] = v;
      }
    }
  }
  out.text(`${text}\n`);
  out.entry(name, json);
}
