/**
 * The cdev model end to end on a default host: a VFIO device file answers EINVAL until
 * VFIO_DEVICE_BIND_IOMMUFD names an iommufd in the caller's fd table; binding blocks the device's DMA,
 * ATTACH_IOMMUFD_PT puts it in an IOAS whose mappings then decide what its DMA reaches. Also the per-host
 * dev_set policy from the topology file.
 */
import { describe, expect, it } from 'vitest';
import { hpa, iova, PROT_READ_WRITE } from '../../src/hw/index.js';
import { flatUserMemory, VfioFdTable } from '../../src/kernel/index.js';
import { DEFAULT_TOPOLOGY, Lab } from '../../src/lab/index.js';
import { Errno } from '../../src/spec/index.js';
import { hostWithVfioVfs, vfName, words } from './support.js';

// Literal ioctl numbers (facts/kernel.md 3.1: _IO(';', 100 + n)).
const VFIO_DEVICE_GET_INFO = 0x3b6b;
const VFIO_DEVICE_BIND_IOMMUFD = 0x3b76;
const VFIO_DEVICE_ATTACH_IOMMUFD_PT = 0x3b77;

describe('cdev model with IOMMUFD', () => {
  it('refuses ioctls before BIND, binds by iommufd fd, attaches to an IOAS, and DMA follows the IOAS', () => {
    const { u, vfio } = hostWithVfioVfs(1);
    const host = u.host;
    const vdev = vfio.find(vfName(0))!;
    const fds = new VfioFdTable();
    const file = vfio.openCdev(vdev.cdevPath, fds);
    expect(file.ioctl(VFIO_DEVICE_GET_INFO, words(24, 0, 0, 0, 0, 0))).toBe(-Errno.EINVAL);

    const ctx = host.iommufd.open(flatUserMemory(host.memory));
    const notIommufd = fds.eventfd().fd;
    // argsz 24, flags 0, iommufd = an eventfd: EINVAL; an fd that names nothing: EBADF.
    expect(file.ioctl(VFIO_DEVICE_BIND_IOMMUFD, words(24, 0, notIommufd, 0, 0, 0))).toBe(-Errno.EINVAL);
    expect(file.ioctl(VFIO_DEVICE_BIND_IOMMUFD, words(24, 0, 99, 0, 0, 0))).toBe(-Errno.EBADF);
    const iommufdFd = fds.install(ctx);
    const bind = words(24, 0, iommufdFd, 0, 0, 0);
    expect(file.ioctl(VFIO_DEVICE_BIND_IOMMUFD, bind)).toBe(0);
    const devId = new DataView(bind.buffer).getUint32(12, true);
    expect(devId).toBeGreaterThan(0);

    // Bound but not attached: the VF's DMA is blocked.
    const rid = host.pci.find(
      vdev.dev.data.bus === 'pci' ? vdev.dev.data.pdev.bdf : (undefined as never),
    )!.rid;
    const port = host.dma.port({ rid });
    expect(port.write(iova(0x1000), new Uint8Array([1])).ok).toBe(false);

    const ioas = ctx.ioasAlloc();
    ctx.ioasMap({
      ioasId: ioas,
      hpa: hpa(0x2_0000_0000),
      lengthBytes: 0x10000n,
      prot: PROT_READ_WRITE,
      iova: iova(0x10000),
    });
    const attach = words(16, 0, ioas, 0);
    expect(file.ioctl(VFIO_DEVICE_ATTACH_IOMMUFD_PT, attach)).toBe(0);
    // Mapped IOVA reaches host memory at the mapped address; anything else faults.
    expect(port.write(iova(0x10008), new Uint8Array([0xab])).ok).toBe(true);
    expect(host.memory.readU8(hpa(0x2_0000_0008))).toBe(0xab);
    expect(port.write(iova(0x40000), new Uint8Array([1])).ok).toBe(false);
    // Now the device answers.
    expect(file.ioctl(VFIO_DEVICE_GET_INFO, words(24, 0, 0, 0, 0, 0))).toBe(0);
  });

  it('takes the dev_set policy from the topology, per host', () => {
    const topo = structuredClone(DEFAULT_TOPOLOGY) as { hosts: Record<string, unknown>[] };
    topo.hosts[1]!.vfioResetPolicy = 'parallel';
    const lab = Lab.fromTopology(topo, 'test');
    expect(lab.host('host0').kernel.vfio.resetPolicy).toBe('serialized-per-bus');
    expect(lab.host('host1').kernel.vfio.resetPolicy).toBe('parallel');
  });
});
