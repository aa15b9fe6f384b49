/**
 * Test support for VFIO: a host whose virtio-net PF has VFs bound to vfio-pci through sysfs, as an
 * administrator would do it (autoprobe off, sriov_numvfs, driver_override, drivers_probe). Expected
 * values in the tests are written by hand from facts/kernel.md 3 and the catalog's VF layout; nothing
 * here calls the code under test to compute an expectation.
 */
import { type VfioCore, type VfioDeviceFile, VfioFdTable } from '../../src/kernel/vfio/core/index.js';
import { type Host, Lab } from '../../src/lab/index.js';
import { User, VIRTIO_PF } from '../kernel/host-support.js';

export { errnoOf, MS, User, VIRTIO_PF } from '../kernel/host-support.js';

/** VF n of the default virtio-net PF (ARI: First VF Offset 1, stride 1 → 01:00.1 + n). */
export function vfName(n: number): string {
  const rid = 0x0101 + n;
  const bus = rid >> 8;
  const dev = (rid >> 3) & 0x1f;
  const fn = rid & 7;
  return `0000:${bus.toString(16).padStart(2, '0')}:${dev.toString(16).padStart(2, '0')}.${fn}`;
}

/** A user on the default host with `numVfs` VFs bound to vfio-pci by driver_override. */
export function hostWithVfioVfs(
  numVfs: number,
  host: Host = Lab.default().host(),
): { u: User; vfio: VfioCore } {
  const u = new User(host);
  u.host.kernel.modules.modprobe('vfio-pci');
  u.ok(`${u.dev(VIRTIO_PF)}/sriov_drivers_autoprobe`, '0');
  u.ok(`${u.dev(VIRTIO_PF)}/sriov_numvfs`, `${numVfs}`);
  for (let i = 0; i < numVfs; i++) {
    u.ok(`${u.dev(vfName(i))}/driver_override`, 'vfio-pci');
    u.ok('/sys/bus/pci/drivers_probe', vfName(i));
  }
  return { u, vfio: u.host.kernel.vfio };
}

/** Open a VF through its group (the legacy model): the first open runs the FLR. */
export function openVf(vfio: VfioCore, name: string, fds = new VfioFdTable()): VfioDeviceFile {
  const vdev = vfio.find(name);
  if (vdev === undefined) throw new Error(`no VFIO device for ${name}`);
  return vfio.groupGetDeviceFd(vdev.group, name, fds);
}

/** Little-endian u32 words into bytes (test-side encoder, independent of the codec). */
export function words(...ws: number[]): Uint8Array {
  const out = new Uint8Array(4 * ws.length);
  ws.forEach((w, i) => {
    out[4 * i] = w & 0xff;
    out[4 * i + 1] = (w >>> 8) & 0xff;
    out[4 * i + 2] = (w >>> 16) & 0xff;
    out[4 * i + 3] = (w >>> 24) & 0xff;
  });
  return out;
}

export function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Region file offset (index << 40), hand-written. */
export const REGION = (index: number): bigint => BigInt(index) * 0x100_0000_0000n;
