/**
 * Test support: a default-topology host with two virtio-net VFs (autoprobe off, so nothing is bound),
 * an IOMMUFD context over the host's IOMMU with flat user memory, and errno capture. Expected values in
 * the tests are computed by hand from facts/kernel.md 2.2 and include/uapi/linux/iommufd.h.
 */
import { LabError, parseBdf, type Rid } from '../../src/base/index.js';
import { flatUserMemory, type Iommufd, IommufdSubsystem } from '../../src/kernel/iommufd/index.js';
import { type Host, Lab } from '../../src/lab/index.js';

export const PF = '0000:01:00.0';

export interface Rig {
  readonly host: Host;
  readonly fd: Iommufd;
  readonly subsystem: IommufdSubsystem;
  readonly vf0: Rid;
  readonly vf1: Rid;
}

export function hostWithVfs(): Host {
  const host = Lab.default().host();
  host.kernel.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_drivers_autoprobe`, '0\n');
  host.kernel.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, '2\n');
  host.kernel.settle();
  return host;
}

export function rig(): Rig {
  const host = hostWithVfs();
  const subsystem = new IommufdSubsystem(host.iommu);
  const fd = subsystem.open(flatUserMemory(host.memory));
  const vf0 = host.pci.find(parseBdf('0000:01:00.1'))!.rid;
  const vf1 = host.pci.find(parseBdf('0000:01:00.2'))!.rid;
  return { host, fd, subsystem, vf0, vf1 };
}

/** The errno a call fails with, or undefined on success. */
export function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof LabError) return e.errno ?? `LabError:${e.code}`;
    throw e;
  }
  return undefined;
}

/** Little-endian struct bytes written by hand: [width, value] pairs in order. */
export function le(...fields: [4 | 8 | 2, number | bigint][]): Uint8Array {
  const out: number[] = [];
  for (const [w, v] of fields) {
    let x = BigInt(v);
    for (let i = 0; i < w; i++) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
    }
  }
  return Uint8Array.from(out);
}

export function u32At(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16)) + b[off + 3]! * 2 ** 24;
}

export function u64At(b: Uint8Array, off: number): bigint {
  return BigInt(u32At(b, off)) + (BigInt(u32At(b, off + 4)) << 32n);
}
