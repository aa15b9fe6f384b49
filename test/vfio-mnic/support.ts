/**
 * Support for the mnic VFIO driver tests: an "mnic_core.vfio.<id>" auxiliary device made by hand under
 * the default host's mnic PF with a fake firmware behind it (for the driver's presentation, binding and
 * teardown independent of the core driver), plus the uAPI helpers of test/vfio-virtio (ioctl bytes
 * built by hand from the facts).
 */

import type { MnicAuxShared, MnicFnHandle, MnicFw } from '../../src/kernel/drivers/mnic/index.js';
import { AuxiliaryDevice, type Device } from '../../src/kernel/index.js';
import type { Host } from '../../src/lab/index.js';

export * from '../vfio-virtio/support.js';

export const MNIC_PF = '0000:10:00.0';

// Facts 3.1.
export const GET_INFO = 0x3b6b;
export const GET_REGION_INFO = 0x3b6c;
export const GET_IRQ_INFO = 0x3b6d;

/** Little-endian u32 words. */
export function words(...ws: number[]): Uint8Array {
  const out = new Uint8Array(4 * ws.length);
  const v = new DataView(out.buffer);
  ws.forEach((w, i) => {
    v.setUint32(4 * i, w >>> 0, true);
  });
  return out;
}

export const u32At = (b: Uint8Array, at: number): number =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

/** A hand-made "mnic_core.vfio.<id>" under the mnic PF, carrying `shared` as mnic_core would. */
export function addVfioAux(
  host: Host,
  o: {
    id: number;
    fw: MnicFw;
    fn: MnicFnHandle;
    windowOffset: number;
    windowBytes: number;
    migratable: boolean;
  },
): { adev: AuxiliaryDevice; released: () => boolean } {
  const pf = host.kernel.findPciDevice(MNIC_PF)!;
  const shared: MnicAuxShared = {
    coreDev: pf,
    pciDev: pf,
    managerFw: o.fw,
    fn: o.fn,
    rid: 0x1000,
    window: { bar: 0, offset: o.windowOffset, sizeBytes: o.windowBytes },
    migratable: o.migratable,
    mac: new Uint8Array(6),
  };
  let released = false;
  const adev = new AuxiliaryDevice({
    name: 'vfio',
    id: o.id,
    parent: pf,
    shared,
    release: () => {
      released = true;
    },
  });
  adev.init();
  adev.add(host.kernel.core, 'mnic_core');
  host.kernel.settle();
  return { adev, released: () => released };
}

/** Delete + uninit, as the parent does on teardown. */
export function removeVfioAux(host: Host, adev: AuxiliaryDevice): void {
  adev.delete(host.kernel.core);
  adev.uninit();
}

export function auxDevice(host: Host, name: string): Device {
  const d = host.kernel.core.findDevice('auxiliary', name);
  if (d === undefined) throw new Error(`no ${name}`);
  return d;
}
