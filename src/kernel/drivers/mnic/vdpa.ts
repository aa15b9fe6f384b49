/**
 * mnic_vdpa: the NIC's vDPA driver (mlx5_vdpa's role; facts/kernel.md 6, mlx5 usage), a module with
 * the auxiliary driver "mnic_vdpa.vnet" for "mnic_core.vnet" devices (autoloaded by udev). Probe
 * registers a vDPA management device named after the core device that carved the vnet piece:
 * "pci/<bdf>" for a PF or VF, "auxiliary/mnic_core.sf.<id>" for an SF. `vdpa dev add` then asks it
 * for a virtio-net vDPA device: one per management device (mlx5_vdpa's rule, ENOSPC otherwise), names
 * unique across the kernel (EEXIST), max_vqp at most the queue pairs the device has (EINVAL), MTU
 * 68..9000 (EINVAL); a MAC is programmed into the function by firmware (SET_FN_HW_ADDR).
 * Left out: the virtqueues themselves and the vhost/virtio-vdpa bus above the device.
 * UNVERIFIED (design choice): the MTU range and max_vqp bound are this device's limits, not text
 * taken from mlx5_vdpa; the extack texts are ours. vendorId 0 as for a device without a vendor id.
 */
import { errnoError } from '../../../base/index.js';
import { vdpa, virtio } from '../../../spec/index.js';
import { auxiliaryDriver } from '../../auxiliary/auxiliary.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import { nlError } from '../../netlink/bus.js';
import type { VdpaDevConfig, VdpaDevice, VdpaMgmtDev } from '../../vdpa/registry.js';
import { mnicShared } from './core-dev.js';
import { MNIC_CORE } from './ids.js';

export const MNIC_VDPA = 'mnic_vdpa';
/** Queue pairs a vnet piece offers (2 × pairs + control queue = max virtqueues). */
export const MNIC_VDPA_MAX_VQP = 8;
export const MNIC_VDPA_MAX_VQ_SIZE = 256;
const MIN_MTU = 68;
const MAX_MTU = 9000;
const DEFAULT_MTU = 1500;

const bit = (n: number): bigint => 1n << BigInt(n);
const FEATURES =
  bit(virtio.VIRTIO_F_VERSION_1) |
  bit(virtio.VIRTIO_F_ACCESS_PLATFORM) |
  bit(virtio.VIRTIO_NET_F_MTU) |
  bit(virtio.VIRTIO_NET_F_MAC) |
  bit(virtio.VIRTIO_NET_F_STATUS) |
  bit(virtio.VIRTIO_NET_F_CTRL_VQ) |
  bit(virtio.VIRTIO_NET_F_MQ);
const CONFIG_ATTRS =
  bit(vdpa.VDPA_ATTR_DEV_NET_CFG_MACADDR) |
  bit(vdpa.VDPA_ATTR_DEV_NET_CFG_MTU) |
  bit(vdpa.VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
const ext = (text: string): string => `${MNIC_VDPA}: ${text}`;

export function mnicVdpaModule(k: KernelApi): ModuleDef {
  const driver = auxiliaryDriver({
    modname: MNIC_VDPA,
    name: 'vnet',
    idTable: [{ name: `${MNIC_CORE}.vnet`, driverData: 0 }],
    probeClass: 'vdpa',
    ops: {
      probe(dev) {
        const s = mnicShared(dev);
        if (s === undefined) throw errnoError('ENODEV', `${dev.name}: no mnic shared API`);
        const parent = s.coreDev;
        let current: VdpaDevice | undefined;
        const mgmt: VdpaMgmtDev = {
          bus: parent.data.bus === 'pci' ? 'pci' : 'auxiliary',
          dev: parent.name,
          supportedClasses: bit(vdpa.VIRTIO_ID_NET),
          maxSupportedVqs: 2 * MNIC_VDPA_MAX_VQP + 1,
          supportedFeatures: FEATURES,
          configAttrMask: CONFIG_ATTRS,
          ops: {
            devAdd(name: string, config: VdpaDevConfig): VdpaDevice {
              if (k.vdpa.device(name) !== undefined) throw nlError('EEXIST', ext(`device ${name} exists`));
              if (current !== undefined)
                throw nlError('ENOSPC', ext('the management device already has its vDPA device'));
              const maxVqPairs = config.maxVqPairs ?? 1;
              if (maxVqPairs < 1 || maxVqPairs > MNIC_VDPA_MAX_VQP)
                throw nlError('EINVAL', ext(`max_vqp must be 1..${MNIC_VDPA_MAX_VQP}`));
              const mtu = config.mtu ?? DEFAULT_MTU;
              if (mtu < MIN_MTU || mtu > MAX_MTU)
                throw nlError('EINVAL', ext(`mtu must be ${MIN_MTU}..${MAX_MTU}`));
              const mac = config.mac ?? s.mac;
              if (config.mac !== undefined) s.managerFw.setFnHwAddr(s.fn, config.mac);
              const d: VdpaDevice = {
                name,
                mgmt,
                virtioDeviceId: vdpa.VIRTIO_ID_NET,
                vendorId: 0,
                maxVqs: 2 * MNIC_VDPA_MAX_VQP + 1,
                maxVqSize: MNIC_VDPA_MAX_VQ_SIZE,
                minVqSize: 1,
                config: () => ({ mac, mtu, maxVqPairs }),
              };
              k.vdpa.registerDevice(d);
              current = d;
              return d;
            },
            devDel(d: VdpaDevice): void {
              if (d !== current) throw nlError('ENODEV', ext(`${d.name} is not on this management device`));
              k.vdpa.unregisterDevice(d);
              current = undefined;
            },
          },
        };
        k.vdpa.registerMgmtDev(mgmt);
        dev.driverData = mgmt;
        k.log.info(`${MNIC_VDPA} ${dev.name}: management device ${mgmt.bus}/${mgmt.dev}`);
      },
      remove(dev) {
        const mgmt = dev.driverData as VdpaMgmtDev | undefined;
        if (mgmt !== undefined) k.vdpa.unregisterMgmtDev(mgmt);
      },
    },
  });
  return { name: MNIC_VDPA, builtin: false, sizeBytes: 81920, depends: [MNIC_CORE], drivers: [driver] };
}
