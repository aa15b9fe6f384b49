/**
 * vfio_mnic_aux on a hand-made "mnic_core.vfio.<id>" auxiliary device (fake firmware behind it): the
 * module autoloads from the uevent's MODALIAS, the device is presented as a vfio-pci device (GET_INFO,
 * region and IRQ info byte for byte, emulated config space with BAR sizing, BAR0 = the window in the
 * parent's BAR), the migration features exist only for a migratable piece, and deleting the auxiliary
 * device unregisters the vfio_device and closes its files. Numbers written out from facts/kernel.md
 * 3.1-3.4 and the driver's documented design.
 */
import { describe, expect, it } from 'vitest';
import { VfioFdTable } from '../../src/kernel/vfio/core/index.js';
import { Lab } from '../../src/lab/index.js';
import { FakeMnicFw } from './fake-fw.js';
import {
  addVfioAux,
  auxDevice,
  CONFIG_REGION,
  FEATURE_GET,
  FEATURE_MIGRATION,
  featureBytes,
  GET_INFO,
  GET_IRQ_INFO,
  GET_REGION_INFO,
  neg,
  openVfio,
  REGION,
  removeVfioAux,
  u32At,
  VFIO_DEVICE_FEATURE,
  VFIO_DEVICE_SET_IRQS,
  words,
} from './support.js';

const WINDOW = 0x1_0000;

function setup(migratable = true) {
  const host = Lab.default().host();
  const fw = new FakeMnicFw();
  const fn = fw.addFn('sf', 7, 5);
  const loadedBefore = host.kernel.modules.isLoaded('vfio_mnic_aux');
  const { adev, released } = addVfioAux(host, {
    id: 900,
    fw,
    fn,
    windowOffset: 0x80_0000,
    windowBytes: WINDOW,
    migratable,
  });
  return { host, fw, fn, adev, released, loadedBefore };
}

describe('vfio_mnic_aux binding', () => {
  it('autoloads on MODALIAS=auxiliary:mnic_core.vfio and registers a vfio_device; mnic_vfio_pci stays unloaded', () => {
    const { host, loadedBefore } = setup();
    expect(loadedBefore).toBe(false);
    expect(host.kernel.modules.isLoaded('vfio_mnic_aux')).toBe(true);
    expect(host.kernel.modules.isLoaded('mnic_vfio_pci')).toBe(false);
    const dev = auxDevice(host, 'mnic_core.vfio.900');
    expect(dev.driver?.name).toBe('vfio_mnic_aux.vfio');
    const add = host.kernel.udev.events.find(
      (e) => e.action === 'add' && e.devpath.endsWith('/mnic_core.vfio.900'),
    );
    expect(add?.env).toContainEqual(['MODALIAS', 'auxiliary:mnic_core.vfio']);
    const vdev = host.kernel.vfio.find('mnic_core.vfio.900');
    expect(vdev?.ops.name).toBe('vfio-mnic-aux');
    expect(host.kernel.sysfs.readlink(`/sys/bus/auxiliary/devices/mnic_core.vfio.900/driver`)).toBe(
      '../../../../../bus/auxiliary/drivers/vfio_mnic_aux.vfio',
    );
  });

  it('deleting the auxiliary device signals REQ, closes the files and unregisters the vfio_device', () => {
    const { host, adev, released } = setup();
    const fds = new VfioFdTable();
    const f = openVfio(host, 'mnic_core.vfio.900', fds);
    const req = fds.eventfd();
    // REQ (index 4), DATA_EVENTFD | ACTION_TRIGGER, one eventfd.
    expect(f.ioctl(VFIO_DEVICE_SET_IRQS, words(24, 0x24, 4, 0, 1, req.fd))).toBe(0);
    removeVfioAux(host, adev);
    expect(req.eventfd.count).toBe(1);
    expect(f.isOpen).toBe(false);
    expect(host.kernel.vfio.find('mnic_core.vfio.900')).toBeUndefined();
    expect(host.kernel.core.findDevice('auxiliary', 'mnic_core.vfio.900')).toBeUndefined();
    expect(released()).toBe(true);
  });
});

describe('refusals', () => {
  it("a piece standing for the PF itself is refused (EINVAL): its window is the manager's mailbox", () => {
    const host = Lab.default().host();
    const fw = new FakeMnicFw();
    const fn = fw.addFn('pf', 0, 1);
    addVfioAux(host, { id: 901, fw, fn, windowOffset: 0, windowBytes: WINDOW, migratable: false });
    const dev = auxDevice(host, 'mnic_core.vfio.901');
    expect(dev.driver).toBeUndefined();
    expect(host.kernel.vfio.find('mnic_core.vfio.901')).toBeUndefined();
    expect(host.kernel.log.records.map((r) => r.text).join('\n')).toContain(
      "refusing the manager function's own window",
    );
  });
});

describe('the presentation: a vfio-pci device whose BAR0 is the window', () => {
  it('GET_INFO: PCI|RESET, 9 regions, 5 irqs', () => {
    const { host } = setup();
    const f = openVfio(host, 'mnic_core.vfio.900');
    const arg = words(24, 0, 0, 0, 0, 0);
    expect(f.ioctl(GET_INFO, arg)).toBe(0);
    expect(arg).toEqual(words(24, 0x3, 9, 5, 0, 0));
  });

  it('GET_REGION_INFO: BAR0 RW|MMAP of the window size; BAR1-5 and ROM empty; config 256 RW; VGA EINVAL', () => {
    const { host } = setup();
    const f = openVfio(host, 'mnic_core.vfio.900');
    const region = (index: number): Uint8Array | number => {
      const arg = words(32, 0, index, 0, 0, 0, 0, 0);
      const rc = f.ioctl(GET_REGION_INFO, arg);
      return rc === 0 ? arg : rc;
    };
    // argsz, flags, index, cap_offset, size lo/hi, offset lo/hi (offset = index << 40)
    expect(region(0)).toEqual(words(32, 0x7, 0, 0, WINDOW, 0, 0, 0));
    for (const i of [1, 2, 3, 4, 5, 6]) expect(region(i)).toEqual(words(32, 0, i, 0, 0, 0, 0, i << 8));
    expect(region(7)).toEqual(words(32, 0x3, 7, 0, 256, 0, 0, 7 << 8));
    expect(region(8)).toBe(neg('EINVAL'));
  });

  it('GET_IRQ_INFO: no INTx, MSI or MSI-X vectors; ERR EINVAL (not PCIe); REQ 1', () => {
    const { host } = setup();
    const f = openVfio(host, 'mnic_core.vfio.900');
    const irq = (index: number): Uint8Array | number => {
      const arg = words(16, 0, index, 0);
      const rc = f.ioctl(GET_IRQ_INFO, arg);
      return rc === 0 ? arg : rc;
    };
    expect(irq(0)).toEqual(words(16, 0x7, 0, 0));
    expect(irq(1)).toEqual(words(16, 0x9, 1, 0));
    expect(irq(2)).toEqual(words(16, 0x9, 2, 0));
    expect(irq(3)).toBe(neg('EINVAL'));
    expect(irq(4)).toEqual(words(16, 0x9, 4, 1));
    // Enabling MSI-X vectors the device does not have fails in the core's validation.
    expect(f.ioctl(VFIO_DEVICE_SET_IRQS, words(24, 0x24, 2, 0, 1, 5))).toBe(neg('EINVAL'));
  });

  it('config space: VF identity, SF subsystem, BAR0 sizing, writable Command bits only', () => {
    const { host } = setup();
    const f = openVfio(host, 'mnic_core.vfio.900');
    const rd = (at: number) => u32At(f.read(REGION(CONFIG_REGION) + BigInt(at), 4), 0);
    const wr = (at: number, v: number) => f.write(REGION(CONFIG_REGION) + BigInt(at), words(v));
    expect(rd(0x00)).toBe(0x1022_1f00);
    expect(rd(0x08)).toBe(0x0200_0000);
    expect(rd(0x0c)).toBe(0);
    expect(rd(0x2c)).toBe(0x0002_1f00);
    expect(rd(0x34)).toBe(0);
    expect(rd(0x3c)).toBe(0); // Interrupt Pin 0
    wr(0x10, 0xffff_ffff);
    expect(rd(0x10)).toBe(0xffff_0000); // 64 KiB, 32-bit non-prefetchable memory
    wr(0x10, 0xfebc_1234);
    expect(rd(0x10)).toBe(0xfebc_0000);
    wr(0x14, 0xffff_ffff);
    expect(rd(0x14)).toBe(0);
    wr(0x04, 0xffff);
    expect(rd(0x04) & 0xffff).toBe(0x0546);
    wr(0x00, 0);
    expect(rd(0x00)).toBe(0x1022_1f00);
    expect(() => f.read(REGION(CONFIG_REGION) + 0xfeen, 4)).toThrow(/EINVAL/);
  });

  it('BAR0: EIO with memory decode off; then MMIO into the parent BAR, one access per aligned piece', () => {
    const { host } = setup();
    const f = openVfio(host, 'mnic_core.vfio.900');
    expect(() => f.read(REGION(0), 4)).toThrow(/EIO/);
    f.write(REGION(CONFIG_REGION) + 4n, words(0x2).subarray(0, 2));
    const t0 = host.kernel.clock.nowNs;
    f.read(REGION(0) + 0x10n, 8); // two 4-byte reads at 1 µs each (default mmioReadNs)
    expect(host.kernel.clock.nowNs - t0).toBe(2_000);
    expect(() => f.read(REGION(0) + BigInt(WINDOW - 2), 4)).toThrow(/EINVAL/);
  });

  it('a VFIO_DEVICE_RESET puts the emulated config back to power-on values', () => {
    const { host } = setup();
    const f = openVfio(host, 'mnic_core.vfio.900');
    f.write(REGION(CONFIG_REGION) + 4n, words(0x6).subarray(0, 2));
    expect(f.ioctl(0x3b6f, new Uint8Array(0))).toBe(0);
    expect(u32At(f.read(REGION(CONFIG_REGION) + 4n, 4), 0) & 0xffff).toBe(0);
  });
});

describe('migration features', () => {
  it('a migratable piece reports STOP_COPY|P2P|PRE_COPY', () => {
    const { host } = setup(true);
    const f = openVfio(host, 'mnic_core.vfio.900');
    const arg = featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8));
    expect(f.ioctl(VFIO_DEVICE_FEATURE, arg)).toBe(0);
    expect(arg[8]).toBe(7);
  });

  it('without the migratable cap there are no mig_ops: MIGRATION is ENOTTY (PROBE too)', () => {
    const { host } = setup(false);
    const f = openVfio(host, 'mnic_core.vfio.900');
    expect(
      f.ioctl(VFIO_DEVICE_FEATURE, featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8))),
    ).toBe(neg('ENOTTY'));
    expect(
      f.ioctl(
        VFIO_DEVICE_FEATURE,
        featureBytes(FEATURE_GET | (1 << 18) | FEATURE_MIGRATION, new Uint8Array(8)),
      ),
    ).toBe(neg('ENOTTY'));
  });
});
