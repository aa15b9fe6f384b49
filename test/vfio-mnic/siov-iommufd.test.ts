/**
 * The seed's "a function with two RIDs" through vfio_mnic_aux in the cdev model: a SIOV function's
 * VFIO device binds its guest RID to an iommufd (VFIO_DEVICE_BIND_IOMMUFD) and attaches to an IOAS, so
 * its own datapath DMA goes where the IOAS maps it (and faults elsewhere), while migration, which the
 * NIC does with the hypervisor RID, still saves the state. An SF has no RID of its own (its DMA carries
 * the PF's): BIND is EINVAL. Ioctl numbers from facts/kernel.md 3.1, struct layouts from 3.6.
 */
import { describe, expect, it } from 'vitest';
import { hpa, iova, PROT_READ_WRITE } from '../../src/hw/index.js';
import { flatUserMemory, VfioFdTable } from '../../src/kernel/index.js';
import type { Host } from '../../src/lab/index.js';
import { Lab } from '../../src/lab/index.js';
import { auxToVfio, CONTEXT, DP, enableDevice, r32, w32 } from './nic-flows.js';
import { M, neg, REGION, readAll, setMigState, streamOf, words } from './support.js';

const BIND = 0x3b76;
const ATTACH = 0x3b77;
const MAC = Uint8Array.from([0x02, 0, 0, 0, 0, 0x33]);
const GUEST_IOVA = 0x10000;
const BACKING = 0x2_0000_0000n;

function cdevOf(host: Host, name: string, fds: VfioFdTable) {
  const core = host.kernel.vfio;
  return core.openCdev(core.find(name)!.cdevPath, fds);
}

function dmaToHost(f: ReturnType<typeof cdevOf>, at: number, len: number): number {
  w32(f, DP.ADDR_LO, at);
  w32(f, DP.ADDR_HI, 0);
  w32(f, DP.LENGTH, len);
  w32(f, DP.CTX_OFFSET, 0);
  w32(f, DP.CTRL, 1);
  return r32(f, DP.STATUS);
}

describe('vfio_mnic_aux in the cdev model', () => {
  it('SIOV: the guest RID binds to an iommufd; datapath DMA follows the IOAS; migration still saves', () => {
    const host = Lab.default().host('host0');
    const name = auxToVfio(host, 'siov', { mac: MAC, migratable: true });
    const fds = new VfioFdTable();
    const f = cdevOf(host, name, fds);
    const ctx = host.iommufd.open(flatUserMemory(host.memory));
    const bind = words(24, 0, fds.install(ctx), 0, 0, 0);
    expect(f.ioctl(BIND, bind)).toBe(0);
    const ioas = ctx.ioasAlloc();
    ctx.ioasMap({
      ioasId: ioas,
      hpa: hpa(BACKING),
      lengthBytes: 0x10000n,
      prot: PROT_READ_WRITE,
      iova: iova(BigInt(GUEST_IOVA)),
    });
    expect(f.ioctl(ATTACH, words(16, 0, ioas, 0))).toBe(0);

    enableDevice(f);
    const data = Uint8Array.from({ length: 64 }, (_, i) => 0xc0 ^ i);
    for (let i = 0; i < data.length; i += 4)
      f.write(REGION(0) + BigInt(CONTEXT + i), data.subarray(i, i + 4));
    expect(dmaToHost(f, GUEST_IOVA + 0x100, 64)).toBe(0); // OK
    expect(host.memory.read(hpa(BACKING + 0x100n), 64)).toEqual(data);
    expect(dmaToHost(f, 0x40000, 64)).toBe(1); // DMA_FAULT: not mapped in the guest's IOAS

    const sc = setMigState(f, M.STOP_COPY);
    expect(sc.rc).toBe(0);
    expect(readAll(streamOf(f, sc.fd)).length).toBeGreaterThan(4096);
  });

  it('SF: no RID of its own to bind (EINVAL)', () => {
    const host = Lab.default().host('host0');
    const name = auxToVfio(host, 'sf', { mac: MAC, migratable: true });
    const fds = new VfioFdTable();
    const f = cdevOf(host, name, fds);
    const ctx = host.iommufd.open(flatUserMemory(host.memory));
    expect(f.ioctl(BIND, words(24, 0, fds.install(ctx), 0, 0, 0))).toBe(neg('EINVAL'));
  });
});
