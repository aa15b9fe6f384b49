/**
 * virtio_vfio_pci binding (facts/kernel.md 4.1), the transitional presentation and the emulated I/O
 * BAR0 (4.3), and a legacy guest driver brought up through the VFIO device file alone.
 */
import { describe, expect, it } from 'vitest';
import { virtioVfioDrvdata } from '../../src/kernel/drivers/virtio-vfio-pci/index.js';
import {
  bindVirtioVfio,
  CONFIG_REGION,
  deviceOf,
  EXTERNAL_HOST,
  FEATURE_GET,
  FEATURE_MIGRATION,
  featureBytes,
  frame,
  Guest,
  getMigState,
  LEGACY,
  M,
  NOTIFY_REGION_OFF,
  neg,
  openVfio,
  PF1,
  PF2,
  pfModel,
  REGION,
  S,
  tagOf,
  twoPfHost,
  VFIO_DEVICE_FEATURE,
  VfioGuestAccess,
  vfTarget,
} from './support.js';

const le = (b: Uint8Array): number => b.reduce((v, x, i) => v + x * 2 ** (8 * i), 0);
const cfg = (f: ReturnType<typeof openVfio>, at: number, w: number) =>
  le(f.read(REGION(CONFIG_REGION) + BigInt(at), w));

describe('binding', () => {
  it('is never autoloaded: its only alias is an override-only vfio_pci: one', () => {
    const host = twoPfHost(1);
    const m = host.kernel.modules;
    const a = vfTarget(host, PF1, 1);
    const modalias = String(host.kernel.sysfs.read(`/sys/bus/pci/devices/${a.name}/modalias`)).trim();
    expect(modalias.startsWith('pci:v00001AF4d00001041')).toBe(true);
    expect(m.resolve(modalias)).not.toContain('virtio_vfio_pci');
    expect(m.aliases().filter((x) => x.module === 'virtio_vfio_pci')).toEqual([
      { alias: 'vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*', module: 'virtio_vfio_pci' },
    ]);
  });

  it('binds a virtio-net VF only through driver_override, with the trans-lm ops', () => {
    const host = twoPfHost(2);
    const k = host.kernel;
    k.modules.modprobe('virtio_vfio_pci');
    const a = vfTarget(host, PF1, 1);
    // drivers_probe without an override: virtio-pci (a normal pci: match) takes it, never this driver.
    k.sysfs.write('/sys/bus/pci/drivers_probe', `${a.name}\n`);
    k.settle();
    expect(a.dev.driver?.name).not.toBe('virtio-vfio-pci');
    if (a.dev.driver !== undefined)
      k.sysfs.write(`/sys/bus/pci/devices/${a.name}/driver/unbind`, `${a.name}\n`);
    bindVirtioVfio(host, a.name);
    expect(a.dev.driver?.name).toBe('virtio-vfio-pci');
    const d = virtioVfioDrvdata(a.dev)!;
    expect(d.ops.name).toBe('virtio-vfio-pci-trans-lm');
    expect(d.migration).toBeDefined();
  });

  it('binds a PF without VFs as plain pass-through; refuses a PF with VFs (EBUSY)', () => {
    const host = twoPfHost(1);
    const k = host.kernel;
    k.modules.modprobe('virtio_vfio_pci');
    const pf = deviceOf(host, PF1);
    // virtio_pci_remove disables SR-IOV, so the unbound PF has no VFs left.
    k.sysfs.write(`/sys/bus/pci/devices/${PF1}/driver/unbind`, `${PF1}\n`);
    bindVirtioVfio(host, PF1);
    expect(pf.driver?.name).toBe('virtio-vfio-pci');
    expect(virtioVfioDrvdata(pf)!.ops.name).toBe('virtio-vfio-pci');
    expect(virtioVfioDrvdata(pf)!.migration).toBeUndefined();
    // The other PF has VFs: the probe itself refuses it (vfio_pci_core_register_device).
    const drv = k.core.findDriver('pci', 'virtio-vfio-pci')!;
    const pf2 = deviceOf(host, PF2);
    let errno: string | undefined;
    try {
      drv.ops.probe(pf2);
    } catch (e) {
      errno = (e as { errno?: string }).errno;
    }
    expect(errno).toBe('EBUSY');
    expect(pf2.driver?.name).toBe('virtio-pci');
  });

  it('a device without migration answers MIGRATION with ENOTTY', () => {
    const host = twoPfHost(1);
    host.kernel.sysfs.write(`/sys/bus/pci/devices/${PF1}/driver/unbind`, `${PF1}\n`);
    bindVirtioVfio(host, PF1);
    const f = openVfio(host, PF1);
    const arg = featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8));
    expect(f.ioctl(VFIO_DEVICE_FEATURE, arg)).toBe(neg('ENOTTY'));
  });
});

describe('transitional presentation', () => {
  it('config space shows 1af4:1000 rev 0, subsystem 1af4:0001 and a 32-byte I/O BAR0', () => {
    const host = twoPfHost(1);
    const a = vfTarget(host, PF1, 1);
    bindVirtioVfio(host, a.name);
    const f = openVfio(host, a.name);
    expect(cfg(f, 0, 2)).toBe(0x1af4);
    expect(cfg(f, 2, 2)).toBe(0x1000);
    expect(cfg(f, 0, 4)).toBe(0x1000_1af4);
    expect(cfg(f, 8, 1)).toBe(0);
    expect(cfg(f, 0x2c, 2)).toBe(0x1af4);
    expect(cfg(f, 0x2e, 2)).toBe(0x0001);
    expect(cfg(f, 0x2c, 4)).toBe(0x0001_1af4);
    expect(cfg(f, 0x10, 4)).toBe(0x1);
    // BAR sizing: all ones written, 32 bytes and the I/O space bit read back.
    f.write(REGION(CONFIG_REGION) + 0x10n, Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    expect(cfg(f, 0x10, 4)).toBe(0xffff_ffe1);
    f.write(REGION(CONFIG_REGION) + 0x10n, Uint8Array.of(0x40, 0xc0, 0, 0));
    expect(cfg(f, 0x10, 4)).toBe(0xc041);
    // GET_REGION_INFO(BAR0): 32 bytes, READ|WRITE, no MMAP, offset 0.
    expect(f.getRegionInfo(0)).toMatchObject({ index: 0, flags: 3, sizeBytes: 32n, offset: 0n, caps: [] });
    // The Command register's I/O bit is the virtual one.
    expect(cfg(f, 4, 2) & 1).toBe(0);
    f.write(REGION(CONFIG_REGION) + 4n, Uint8Array.of(0x05, 0));
    expect(cfg(f, 4, 2) & 1).toBe(1);
  });

  it('BAR0 rules: EIO without I/O decode, EINVAL past 32 bytes and for a 1-byte Queue Notify', () => {
    const host = twoPfHost(1);
    const a = vfTarget(host, PF1, 1);
    bindVirtioVfio(host, a.name);
    const f = openVfio(host, a.name);
    const errno = (fn: () => unknown) => {
      try {
        fn();
        return undefined;
      } catch (e) {
        return (e as { errno?: string }).errno;
      }
    };
    expect(errno(() => f.read(REGION(0) + 18n, 1))).toBe('EIO');
    f.write(REGION(CONFIG_REGION) + 4n, Uint8Array.of(0x01, 0));
    expect(errno(() => f.read(REGION(0) + 30n, 4))).toBe('EINVAL');
    expect(errno(() => f.write(REGION(0) + 16n, Uint8Array.of(0)))).toBe('EINVAL');
    // Device status through LEGACY_COMMON_CFG_READ: 0 after the open's FLR.
    const d = virtioVfioDrvdata(a.dev)!;
    expect(le(f.read(REGION(0) + 18n, 1))).toBe(0);
    expect(d.ops.legacyCommands.at(-1)).toEqual({ op: 'common-read', offset: 18, size: 1 });
    // Without MSI-X the device config starts at 20: a read at 20 is LEGACY_DEV_CFG_READ at 0.
    f.read(REGION(0) + 20n, 4);
    expect(d.ops.legacyCommands.at(-1)).toEqual({ op: 'dev-read', offset: 0, size: 4 });
    // After a reset the virtual Command is cleared again.
    f.reset();
    expect(errno(() => f.read(REGION(0) + 18n, 1))).toBe('EIO');
    expect(getMigState(f)).toBe(M.RUNNING);
  });
});

describe('a legacy guest driver through the emulated I/O BAR0', () => {
  it('brings the VF up and passes traffic both ways; kicks go straight to the notify address', () => {
    const host = twoPfHost(2);
    const pf = pfModel(host, PF1);
    const a = vfTarget(host, PF1, 1);
    bindVirtioVfio(host, a.name);
    const f = openVfio(host, a.name);
    const g = new Guest(host, 0);
    const acc = new VfioGuestAccess(f, g, a.rid);
    const writes: bigint[] = [];
    const w = host.fabric.mmioWrite.bind(host.fabric);
    host.fabric.mmioWrite = (addr, width, value) => {
      writes.push(addr);
      w(addr, width, value);
    };
    g.init('legacy', acc);
    expect(g.driver.snapshot()).toMatchObject({ state: 'up', mode: 'legacy' });
    expect(g.driver.features >> 32n).toBe(0n);
    const d = virtioVfioDrvdata(a.dev)!;
    // Status went through admin writes; the MAC through device-config reads at offset 0.. (MSI-X on: 24).
    expect(d.ops.legacyCommands.some((c) => c.op === 'common-write' && c.offset === LEGACY.STATUS)).toBe(
      true,
    );
    expect(d.ops.legacyCommands.some((c) => c.op === 'dev-read' && c.offset === 0)).toBe(true);
    expect(le(f.read(REGION(0) + BigInt(LEGACY.STATUS), 1))).toBe(S.ACK | S.DRIVER | S.DRIVER_OK);

    const mac = g.driver.mac;
    const adminBefore = d.ops.legacyCommands.length;
    for (const t of [1, 2, 3]) g.driver.send(frame(EXTERNAL_HOST, mac, t));
    g.service();
    expect(pf.readExternal().map(tagOf)).toEqual([1, 2, 3]);
    // The kicks were 16-bit MMIO writes to BAR4 + notify offset, no admin command.
    expect(writes).toContain(a.bars[4]! + BigInt(NOTIFY_REGION_OFF));
    for (const t of [101, 102]) pf.injectExternal(frame(mac, EXTERNAL_HOST, t));
    g.service();
    expect(g.received.map(tagOf)).toEqual([101, 102]);
    // Interrupt-driven: vector deliveries came through the VFIO eventfds.
    expect(g.irqs.log.length).toBeGreaterThan(0);
    // Servicing may read the ISR only without MSI-X; with MSI-X nothing on BAR0 is needed per frame.
    expect(d.ops.legacyCommands.length - adminBefore).toBeLessThan(4);
  });
});
