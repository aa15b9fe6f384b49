/**
 * Test support for vdpa: a bare netlink bus with the vdpa family over a registry holding two
 * test-local management devices — "pci/0000:65:00.1" (net; MAC, MTU and max_vqp configurable, 17 VQs)
 * and the bus-less simulator "vdpasim_net" (no configurable attributes) — and the `vdpa` tool on it.
 */
import {
  NetlinkBus,
  registerVdpaFamily,
  type VdpaDevConfig,
  type VdpaDevice,
  type VdpaMgmtDev,
  VdpaRegistry,
} from '../../src/kernel/index.js';
import { vdpaCommand } from '../../src/lab/commands/vdpa.js';
import { vdpa as vd } from '../../src/spec/index.js';

export interface Run {
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

const bit = (attr: number) => 1n << BigInt(attr);

function mgmtDev(
  registry: VdpaRegistry,
  bus: string,
  dev: string,
  mask: bigint,
  vendorId: number,
): VdpaMgmtDev {
  const m: VdpaMgmtDev = {
    bus,
    dev,
    supportedClasses: 1n << 1n,
    maxSupportedVqs: 17,
    supportedFeatures: (1n << 32n) | (1n << 5n),
    configAttrMask: mask,
    ops: {
      devAdd: (name: string, config: VdpaDevConfig): VdpaDevice => {
        const mac = config.mac ?? new Uint8Array(6);
        const d: VdpaDevice = {
          name,
          mgmt: m,
          virtioDeviceId: vd.VIRTIO_ID_NET,
          vendorId,
          maxVqs: 2 * (config.maxVqPairs ?? 1) + 1,
          maxVqSize: 256,
          minVqSize: 1,
          config: () => ({ mac, mtu: config.mtu ?? 1500, maxVqPairs: config.maxVqPairs ?? 1 }),
        };
        registry.registerDevice(d);
        return d;
      },
      devDel: (d: VdpaDevice) => registry.unregisterDevice(d),
    },
  };
  registry.registerMgmtDev(m);
  return m;
}

export function vdpaWorld() {
  const bus = new NetlinkBus({ nowNs: () => 0 });
  const registry = new VdpaRegistry();
  const family = registerVdpaFamily(bus, registry);
  const mask =
    bit(vd.VDPA_ATTR_DEV_NET_CFG_MACADDR) |
    bit(vd.VDPA_ATTR_DEV_NET_CFG_MTU) |
    bit(vd.VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
  const pci = mgmtDev(registry, 'pci', '0000:65:00.1', mask, 0x15b3);
  const sim = mgmtDev(registry, '', 'vdpasim_net', 0n, 0);
  const tool = vdpaCommand({ netlink: bus });
  const vdpa = (line: string): Run => {
    let out = '';
    let err = '';
    const status = tool.run(
      line.split(' ').filter((w) => w !== ''),
      { out: (t) => (out += t), err: (t) => (err += t) },
    );
    return { status, out, err };
  };
  return { bus, registry, familyId: family.id, pci, sim, vdpa };
}
