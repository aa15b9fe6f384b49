/**
 * The cdev model's link between VFIO and IOMMUFD (facts/kernel.md 3.6): VFIO_DEVICE_BIND_IOMMUFD names an
 * iommufd by file descriptor in the caller's table; the device's routing ID is bound to that context
 * (its DMA is blocked until attached), ATTACH_IOMMUFD_PT puts it in an IOAS or HWPT, DETACH and close
 * undo it.
 */
import { errnoError, type Rid } from '../../base/index.js';
import { Iommufd } from '../iommufd/index.js';
import type { VfioDevice, VfioIommufdHooks } from './core/index.js';

export function iommufdBinding(): VfioIommufdHooks {
  const bound = new Map<VfioDevice, { readonly ctx: Iommufd; readonly devId: number }>();
  const entry = (device: VfioDevice) => {
    const e = bound.get(device);
    if (e === undefined) throw errnoError('EINVAL', `${device.dev.name} is not bound to an iommufd`);
    return e;
  };
  return {
    bind(iommufd, device, fds) {
      const file = fds.get(iommufd);
      if (file === undefined) throw errnoError('EBADF', `fd ${iommufd}`);
      if (!(file instanceof Iommufd)) throw errnoError('EINVAL', `fd ${iommufd} is not an iommufd`);
      const rid = device.dmaRid ?? (device.dev.data.bus === 'pci' ? device.dev.data.pdev.rid : undefined);
      if (rid === undefined) throw errnoError('EINVAL', `${device.dev.name} has no DMA requester ID`);
      const devId = file.bindDevice(rid as Rid);
      bound.set(device, { ctx: file, devId });
      return devId;
    },
    attach(device, ptId) {
      const e = entry(device);
      return e.ctx.attach(e.devId, ptId);
    },
    detach(device) {
      const e = entry(device);
      e.ctx.detach(e.devId);
    },
    unbind(device) {
      const e = bound.get(device);
      if (e === undefined) return;
      bound.delete(device);
      e.ctx.unbindDevice(e.devId);
    },
  };
}
