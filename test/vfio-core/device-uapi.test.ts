/**
 * The device ioctls as bytes (facts/kernel.md 3.2-3.4, 1.6), config space virtualization (3.7), BAR
 * access and MSI-X through SET_IRQS, on VF 0 of the default virtio-net PF bound to vfio-pci.
 *
 * The VF's layout, written out from the catalog: MSI-X (4 vectors, table in BAR1 at 0, PBA at 0x800)
 * at 0x40 → PCIe at 0x4c (DevCap FLR) → vendor caps at 0x88…; ARI at 0x100; BAR1 4 KiB 32-bit memory,
 * BAR4 16 KiB 64-bit prefetchable; no interrupt pin. Expected bytes are built by hand with `words`.
 */
import { describe, expect, it } from 'vitest';
import {
  type VfioDeviceFile,
  VfioFdTable,
  type VfioFeatureHandler,
} from '../../src/kernel/vfio/core/index.js';
import { errnoOf, hostWithVfioVfs, MS, openVf, REGION, u32At, vfName, words } from './support.js';

const GET_INFO = 0x3b6b;
const GET_REGION_INFO = 0x3b6c;
const GET_IRQ_INFO = 0x3b6d;
const SET_IRQS = 0x3b6e;
const FEATURE = 0x3b75;
const EINVAL = -22;
const ENOTTY = -25;
const EBADF = -9;

function setup(): { f: VfioDeviceFile; fds: VfioFdTable; u: ReturnType<typeof hostWithVfioVfs>['u'] } {
  const { u, vfio } = hostWithVfioVfs(1);
  const fds = new VfioFdTable();
  return { f: openVf(vfio, vfName(0), fds), fds, u };
}

const cfgRead32 = (f: VfioDeviceFile, at: number): number => u32At(f.read(REGION(7) + BigInt(at), 4), 0);
const cfgWrite32 = (f: VfioDeviceFile, at: number, v: number): void => {
  f.write(REGION(7) + BigInt(at), words(v));
};

describe('info ioctls, byte for byte', () => {
  it('VFIO_DEVICE_GET_INFO: PCI|RESET, 9 regions, 5 irqs', () => {
    const { f } = setup();
    const arg = words(24, 0, 0, 0, 0, 0);
    expect(f.ioctl(GET_INFO, arg)).toBe(0);
    expect(arg).toEqual(words(24, 0x3, 9, 5, 0, 0));
    // argsz below offsetofend(num_irqs) = 16.
    expect(f.ioctl(GET_INFO, words(12, 0, 0, 0, 0, 0))).toBe(EINVAL);
    // A 16-byte argsz gets only 16 bytes written back.
    const short = words(16, 0, 0, 0, 0xaaaa, 0xbbbb);
    expect(f.ioctl(GET_INFO, short)).toBe(0);
    expect(short).toEqual(words(16, 0x3, 9, 5, 0xaaaa, 0xbbbb));
  });

  it('VFIO_DEVICE_GET_REGION_INFO: BARs, ROM, config, VGA, and the MSI-X BAR’s capability chain', () => {
    const { f } = setup();
    const region = (index: number, argsz = 32): Uint8Array => {
      const arg = new Uint8Array(Math.max(argsz, 32));
      arg.set(words(argsz, 0, index));
      expect(f.ioctl(GET_REGION_INFO, arg)).toBe(0);
      return arg;
    };
    // argsz, flags, index, cap_offset, size lo/hi, offset lo/hi
    expect(region(0)).toEqual(words(32, 0, 0, 0, 0, 0, 0, 0x000));
    // BAR1 holds the MSI-X table: READ|WRITE|MMAP|CAPS; 32 bytes is too small for the chain → argsz 40.
    expect(region(1)).toEqual(words(40, 0xf, 1, 0, 0x1000, 0, 0, 0x100));
    expect(region(1, 40)).toEqual(words(40, 0xf, 1, 32, 0x1000, 0, 0, 0x100, 0x0001_0003, 0));
    expect(region(4)).toEqual(words(32, 0x7, 4, 0, 0x4000, 0, 0, 0x400));
    expect(region(6)).toEqual(words(32, 0, 6, 0, 0, 0, 0, 0x600));
    expect(region(7)).toEqual(words(32, 0x3, 7, 0, 0x1000, 0, 0, 0x700));
    expect(f.ioctl(GET_REGION_INFO, words(32, 0, 8, 0, 0, 0, 0, 0))).toBe(EINVAL);
    expect(f.ioctl(GET_REGION_INFO, words(32, 0, 9, 0, 0, 0, 0, 0))).toBe(EINVAL);
    expect(f.ioctl(GET_REGION_INFO, words(28, 0, 7, 0, 0, 0, 0, 0))).toBe(EINVAL);
  });

  it('VFIO_DEVICE_GET_IRQ_INFO: INTx 0 for a VF, MSI 0, MSI-X 4, ERR 1, REQ 1', () => {
    const { f } = setup();
    const table: [index: number, flags: number, count: number][] = [
      [0, 0x7, 0],
      [1, 0x9, 0],
      [2, 0x9, 4],
      [3, 0x9, 1],
      [4, 0x9, 1],
    ];
    for (const [index, flags, count] of table) {
      const arg = words(16, 0, index, 0);
      expect(f.ioctl(GET_IRQ_INFO, arg)).toBe(0);
      expect([index, ...[0, 4, 8, 12].map((o) => u32At(arg, o))]).toEqual([index, 16, flags, index, count]);
    }
    expect(f.ioctl(GET_IRQ_INFO, words(16, 0, 5, 0))).toBe(EINVAL);
    expect(f.ioctl(GET_IRQ_INFO, words(12, 0, 2, 0))).toBe(EINVAL);
  });

  it('unknown ioctls are ENOTTY; a closed file is EBADF', () => {
    const { f } = setup();
    expect(f.ioctl(0x3b74, new Uint8Array(16))).toBe(ENOTTY);
    f.close();
    expect(f.ioctl(GET_INFO, words(24, 0, 0, 0, 0, 0))).toBe(EBADF);
  });
});

describe('config space virtualization', () => {
  it('identity is virtual (a VF reads 1af4:1041, not all-ones) and cannot be written', () => {
    const { f, u } = setup();
    const vf = u.device(vfName(0));
    expect(u.host.kernel.pciReadConfig(vf, 0, 4)).toBe(0xffffffff);
    expect(cfgRead32(f, 0x00)).toBe(0x10411af4);
    cfgWrite32(f, 0x00, 0x12345678);
    expect(cfgRead32(f, 0x00)).toBe(0x10411af4);
  });

  it('BARs read 0 plus flags, never the host address; sizing returns the VF’s BAR sizes', () => {
    const { f } = setup();
    expect(cfgRead32(f, 0x14)).toBe(0x0000_0000);
    expect(cfgRead32(f, 0x20)).toBe(0x0000_000c);
    for (const at of [0x10, 0x14, 0x20, 0x24, 0x30]) cfgWrite32(f, at, 0xffffffff);
    expect(cfgRead32(f, 0x10)).toBe(0x0000_0000); // no BAR0
    expect(cfgRead32(f, 0x14)).toBe(0xffff_f000); // 4 KiB, 32-bit
    expect(cfgRead32(f, 0x20)).toBe(0xffff_c00c); // 16 KiB, 64-bit prefetchable
    expect(cfgRead32(f, 0x24)).toBe(0xffff_ffff); // upper half
    expect(cfgRead32(f, 0x30)).toBe(0x0000_0000); // no ROM
    cfgWrite32(f, 0x14, 0xfebf_1234);
    expect(cfgRead32(f, 0x14)).toBe(0xfebf_1000);
  });

  it('Status, capability pointer and pin are read-only; Interrupt Line is virtual RW', () => {
    const { f, u } = setup();
    f.write(REGION(7) + 6n, new Uint8Array([0xff, 0xff]));
    expect(cfgRead32(f, 0x04) >>> 16).toBe(0x0010);
    f.write(REGION(7) + 0x34n, new Uint8Array([0x80]));
    expect(cfgRead32(f, 0x34) & 0xff).toBe(0x40);
    f.write(REGION(7) + 0x3cn, new Uint8Array([0x0b, 0x01]));
    expect(cfgRead32(f, 0x3c) & 0xffff).toBe(0x000b);
    expect(u.host.kernel.pciReadConfig(u.device(vfName(0)), 0x3c, 1)).toBe(0);
  });

  it('a VF reads back the Memory enable it wrote; memory decode never blocks its BARs', () => {
    const { f } = setup();
    f.write(REGION(7) + 4n, new Uint8Array([0x06, 0x00]));
    expect(cfgRead32(f, 0x04) & 0x0002).toBe(0x0002);
    f.write(REGION(7) + 4n, new Uint8Array([0x00, 0x00]));
    expect(cfgRead32(f, 0x04) & 0x0002).toBe(0);
    expect(f.read(REGION(1) + 0x800n, 4)).toHaveLength(4);
  });

  it('MSI-X Message Control is read-only through config; capabilities keep their chain', () => {
    const { f } = setup();
    f.write(REGION(7) + 0x42n, new Uint8Array([0x00, 0xc0]));
    expect(cfgRead32(f, 0x40)).toBe(0x0003_4c11);
    expect(cfgRead32(f, 0x4c) & 0xffff).toBe(0x8810);
    expect(cfgRead32(f, 0x100)).toBe(0x0001_000e);
  });

  it('Initiate FLR in Device Control is trapped into a function reset (one FLR on the clock)', () => {
    const { f, u } = setup();
    const t0 = u.host.clock.nowNs;
    f.write(REGION(7) + 0x54n, new Uint8Array([0x00, 0x80]));
    expect(u.host.clock.nowNs - t0).toBeGreaterThanOrEqual(100 * MS);
    expect(cfgRead32(f, 0x54) & 0x8000).toBe(0);
  });

  it('out-of-range region accesses are EINVAL', () => {
    const { f } = setup();
    expect(errnoOf(() => f.read(REGION(7) + 0xffen, 4))).toBe('EINVAL');
    expect(errnoOf(() => f.read(REGION(1) + 0xffen, 4))).toBe('EINVAL');
    expect(errnoOf(() => f.read(REGION(0), 4))).toBe('EINVAL');
    expect(errnoOf(() => f.read(REGION(9), 4))).toBe('EINVAL');
  });
});

describe('SET_IRQS and MSI-X', () => {
  const irqSet = (
    flags: number,
    index: number,
    start: number,
    count: number,
    ...data: number[]
  ): Uint8Array => words(20 + 4 * data.length, flags, index, start, count, ...data);

  it('eventfds on MSI-X vectors count the device’s interrupts; loopback and disable work', () => {
    const { f, fds, u } = setup();
    // The user enables bus mastering, as QEMU does for the guest (Command is pass-through).
    f.write(REGION(7) + 4n, new Uint8Array([0x04, 0x00]));
    const seen: number[] = [];
    const a = fds.eventfd((n) => seen.push(n));
    const b = fds.eventfd();
    // DATA_EVENTFD | ACTION_TRIGGER on vectors 0 and 1.
    expect(f.ioctl(SET_IRQS, irqSet(0x24, 2, 0, 2, a.fd, b.fd))).toBe(0);
    const vf = u.host.devices[0]!.fn.sriov!.vfs[0]!;
    vf.msix!.signal(0);
    vf.msix!.signal(0);
    vf.msix!.signal(1);
    expect([a.eventfd.count, b.eventfd.count, seen]).toEqual([2, 1, [1, 2]]);
    // DATA_NONE | TRIGGER with count 1: loopback signal of vector 1.
    expect(f.ioctl(SET_IRQS, irqSet(0x21, 2, 1, 1))).toBe(0);
    expect(b.eventfd.count).toBe(2);
    // DATA_BOOL | TRIGGER: only true entries signal.
    const bools = words(22, 0x22, 2, 0, 2);
    const arg = new Uint8Array(24);
    arg.set(bools);
    arg[20] = 0;
    arg[21] = 1;
    expect(f.ioctl(SET_IRQS, arg)).toBe(0);
    expect([a.eventfd.count, b.eventfd.count]).toEqual([2, 3]);
    // count 0 with DATA_NONE disables; the device's signals then go nowhere.
    expect(f.ioctl(SET_IRQS, irqSet(0x21, 2, 0, 0))).toBe(0);
    vf.msix!.signal(0);
    expect(a.eventfd.count).toBe(2);
  });

  it('validation: range, data type, size, unknown flags, fds; MASK on MSI-X is ENOTTY', () => {
    const { f, fds } = setup();
    const e = fds.eventfd();
    const cases: [what: string, arg: Uint8Array, ret: number][] = [
      ['start + count past the table', irqSet(0x24, 2, 3, 2, e.fd, e.fd), EINVAL],
      ['start at the count', irqSet(0x21, 2, 4, 0), EINVAL],
      ['index past NUM_IRQS', irqSet(0x21, 5, 0, 0), EINVAL],
      ['two data types', irqSet(0x26, 2, 0, 1, e.fd), EINVAL],
      ['unknown flag bit', irqSet(0x24 | 0x40, 2, 0, 1, e.fd), EINVAL],
      ['data shorter than count × 4', words(20, 0x24, 2, 0, 1), EINVAL],
      ['argsz below 20', words(16, 0x21, 2, 0, 0), EINVAL],
      ['INTx on a VF (count 0)', irqSet(0x24, 0, 0, 1, e.fd), EINVAL],
      ['not an fd', irqSet(0x24, 2, 0, 1, 999), EBADF],
      ['MASK on MSI-X', irqSet(0x09, 2, 0, 1), ENOTTY],
      ['loopback before enable', irqSet(0x21, 2, 0, 1), EINVAL],
    ];
    for (const [what, arg, ret] of cases) expect([what, f.ioctl(SET_IRQS, arg)]).toEqual([what, ret]);
  });

  it('ERR and REQ take one eventfd; REQ is signalled when the driver asks for the device back', () => {
    const { f, fds, u } = setup();
    const req = fds.eventfd();
    expect(f.ioctl(SET_IRQS, irqSet(0x24, 4, 0, 1, req.fd))).toBe(0);
    expect(f.ioctl(SET_IRQS, irqSet(0x24, 3, 0, 1, req.fd))).toBe(0);
    u.ok(`/sys/bus/pci/drivers/vfio-pci/unbind`, vfName(0));
    expect(req.eventfd.count).toBe(1);
    expect(f.isOpen).toBe(false);
  });
});

describe('VFIO_DEVICE_FEATURE dispatch', () => {
  const GET = 1 << 16;
  const SET = 1 << 17;
  const PROBE = 1 << 18;

  function withFeature(): { f: VfioDeviceFile; calls: string[] } {
    const { f } = setup();
    const calls: string[] = [];
    const handler: VfioFeatureHandler = {
      ops: GET,
      minPayloadBytes: 8,
      get(payload) {
        calls.push(`get ${payload.length}`);
        payload.set(words(0x11, 0x22));
      },
    };
    f.device.registerFeatureHandlers(new Map([[1, handler]]));
    return { f, calls };
  }

  it('applies the header and vfio_check_feature rules', () => {
    const { f, calls } = withFeature();
    const cases: [what: string, arg: Uint8Array, ret: number][] = [
      ['argsz < 8', words(4, GET | 1, 0, 0), EINVAL],
      ['unknown flag bit', words(16, GET | (1 << 19) | 1, 0, 0), EINVAL],
      ['GET|SET without PROBE', words(16, GET | SET | 1, 0, 0), EINVAL],
      ['unknown feature', words(16, GET | 42, 0, 0), ENOTTY],
      ['SET on a GET-only feature', words(16, SET | 1, 0, 0), EINVAL],
      ['PROBE|GET: supported, nothing transferred', words(16, PROBE | GET | 1, 0, 0), 0],
      ['PROBE alone', words(8, PROBE | 1), 0],
      ['PROBE|SET: not supported', words(16, PROBE | SET | 1, 0, 0), EINVAL],
      ['neither GET nor SET', words(16, 1, 0, 0), EINVAL],
      ['payload below minsz', words(12, GET | 1, 0), EINVAL],
    ];
    for (const [what, arg, ret] of cases) expect([what, f.ioctl(FEATURE, arg)]).toEqual([what, ret]);
    expect(calls).toEqual([]);
    const arg = words(16, GET | 1, 0, 0);
    expect(f.ioctl(FEATURE, arg)).toBe(0);
    expect(arg).toEqual(words(16, GET | 1, 0x11, 0x22));
    expect(calls).toEqual(['get 8']);
  });

  it('vfio-pci without extra handlers answers ENOTTY for every feature index', () => {
    const { f } = setup();
    for (const index of [0, 1, 2, 6, 9]) expect(f.ioctl(FEATURE, words(16, GET | index, 0, 0))).toBe(ENOTTY);
  });
});
