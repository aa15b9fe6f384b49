/**
 * The driver's register sequences, checked access by access against sequences written by hand from
 * facts/virtio.md 1.2-1.3 and 1.9 (modern) and 1.11 (legacy), with queue addresses and PFNs computed
 * by hand; and the feature negotiation outcomes.
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import type { Access } from './fake-virtio-net.js';
import { F, LEGACY_OFFERED, MODERN_OFFERED, MSI_ADDR, MSI_DATA_BASE, rig } from './support.js';

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/** The common cfg writes that set up queue `q` of size 8 at the given hand-computed addresses. */
function modernQueue(q: number, desc: number, avail: number, used: number): Access[] {
  return [
    ['W', 'common', 22, 2, q],
    ['R', 'common', 24, 2, 8],
    ['W', 'common', 22, 2, q],
    ['W', 'common', 24, 2, 8],
    ['W', 'common', 32, 4, desc],
    ['W', 'common', 36, 4, 0],
    ['W', 'common', 40, 4, avail],
    ['W', 'common', 44, 4, 0],
    ['W', 'common', 48, 4, used],
    ['W', 'common', 52, 4, 0],
    ['R', 'common', 30, 2, q],
  ];
}

describe('modern init', () => {
  it('walks the capabilities and enables memory decoding and bus mastering in config space', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED, queueSizes: [8, 8, 8] });
    driver.init({ mode: 'modern', access: dev, memory: mem, allocator });
    const cfg = dev.trace.filter((a) => a[1] === 'cfg');
    expect(cfg).toEqual<Access[]>([
      ['R', 'cfg', 0x04, 2, 0],
      ['W', 'cfg', 0x04, 2, 0x6], // PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
      ['R', 'cfg', 0x06, 2, 0x10], // PCI_STATUS_CAP_LIST
      ['R', 'cfg', 0x34, 1, 0x40],
      ['R', 'cfg', 0x40, 1, 0x09],
      ['R', 'cfg', 0x41, 1, 0x50],
      ['R', 'cfg', 0x50, 1, 0x09],
      ['R', 'cfg', 0x51, 1, 0x64],
      ['R', 'cfg', 0x64, 1, 0x09],
      ['R', 'cfg', 0x65, 1, 0x74],
      ['R', 'cfg', 0x74, 1, 0x09],
      ['R', 'cfg', 0x75, 1, 0x00],
      // common: cfg_type @3, bar @4, offset @8, length @12
      ['R', 'cfg', 0x43, 1, 1],
      ['R', 'cfg', 0x44, 1, 4],
      ['R', 'cfg', 0x48, 4, 0x0000],
      ['R', 'cfg', 0x4c, 4, 0x40],
      // notify, with notify_off_multiplier @16
      ['R', 'cfg', 0x53, 1, 2],
      ['R', 'cfg', 0x54, 1, 4],
      ['R', 'cfg', 0x58, 4, 0x3000],
      ['R', 'cfg', 0x5c, 4, 0x1000],
      ['R', 'cfg', 0x60, 4, 4],
      ['R', 'cfg', 0x67, 1, 3],
      ['R', 'cfg', 0x68, 1, 4],
      ['R', 'cfg', 0x6c, 4, 0x1000],
      ['R', 'cfg', 0x70, 4, 1],
      ['R', 'cfg', 0x77, 1, 4],
      ['R', 'cfg', 0x78, 1, 4],
      ['R', 'cfg', 0x7c, 4, 0x2000],
      ['R', 'cfg', 0x80, 4, 0x1c],
    ]);
  });

  it('follows facts 1.9 register by register, with hand-computed queue addresses', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED, queueSizes: [8, 8, 8] });
    driver.init({ mode: 'modern', access: dev, memory: mem, allocator });
    // Offered low window: CSUM(0) MAC(5) STATUS(16) CTRL_VQ(17) CTRL_RX(18) CTRL_MAC_ADDR(23).
    // Queue of 8: desc 128 bytes (16-aligned), avail 6+2*8 = 22 (2-aligned), used 6+8*8 = 70 (4-aligned).
    expect(dev.barTrace()).toEqual<Access[]>([
      ['W', 'common', 20, 1, 0], // 1. reset
      ['R', 'common', 20, 1, 0], //    wait for 0
      ['W', 'common', 20, 1, 1], // 2. ACKNOWLEDGE
      ['W', 'common', 20, 1, 3], // 3. DRIVER
      ['W', 'common', 0, 4, 0], // 4. device features, both windows
      ['R', 'common', 4, 4, 0x870021],
      ['W', 'common', 0, 4, 1],
      ['R', 'common', 4, 4, 0x1],
      ['W', 'common', 8, 4, 0], //    driver features: all but CSUM
      ['W', 'common', 12, 4, 0x870020],
      ['W', 'common', 8, 4, 1],
      ['W', 'common', 12, 4, 0x1],
      ['W', 'common', 20, 1, 11], // 5. FEATURES_OK
      ['R', 'common', 20, 1, 11], // 6. still set
      ['R', 'common', 21, 1, 0], //  7. device config: mac between two generation reads
      ...MAC.map((b, i): Access => ['R', 'device', i, 1, b]),
      ['R', 'common', 21, 1, 0],
      ['R', 'device', 6, 2, 1], //    status: LINK_UP
      ...modernQueue(0, 0x10000, 0x10080, 0x10098),
      ...modernQueue(1, 0x100e0, 0x10160, 0x10178),
      ...modernQueue(2, 0x101c0, 0x10240, 0x10258),
      ['W', 'common', 22, 2, 0],
      ['W', 'common', 28, 2, 1],
      ['W', 'common', 22, 2, 1],
      ['W', 'common', 28, 2, 1],
      ['W', 'common', 22, 2, 2],
      ['W', 'common', 28, 2, 1],
      ['W', 'common', 20, 1, 15], // 8. DRIVER_OK
      ['W', 'notify', 0, 2, 0], //    RX buffers posted: kick queue 0 at notify_off 0 * 4
    ]);
    expect(driver.features).toBe(MODERN_OFFERED & ~F.CSUM);
    expect([...driver.mac]).toEqual(MAC);
    expect(driver.linkUp).toBe(true);
    expect(dev.queues.map((q) => q.enabled)).toEqual([true, true, true]);
  });

  it('lowers a large device queue to the largest power of 2 within maxQueueSize', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED, queueSizes: [1024, 100, 64] });
    driver.init({ mode: 'modern', access: dev, memory: mem, allocator, maxQueueSize: 256 });
    expect(dev.queues.map((q) => q.size)).toEqual([256, 64, 64]);
  });

  it('fails init with ENODEV and sets FAILED when the device does not keep FEATURES_OK', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED, refuseFeaturesOk: true });
    let error: unknown;
    try {
      driver.init({ mode: 'modern', access: dev, memory: mem, allocator });
    } catch (e) {
      error = e;
    }
    expect(isLabError(error) && error.errno).toBe('ENODEV');
    expect((error as Error).message).toMatch(/device refused features 0x100870020 \(status 0x3\)/);
    // FAILED is added to what the device shows (FEATURES_OK was dropped by the device).
    expect(dev.barTrace().slice(-2)).toEqual<Access[]>([
      ['R', 'common', 20, 1, 0x3],
      ['W', 'common', 20, 1, 0x83],
    ]);
    expect(driver.state).toBe('failed');
    expect(allocator.regionCount).toBe(0);
    expect(dev.queues.every((q) => q.desc === 0n)).toBe(true);
  });

  it('refuses a device that does not offer VIRTIO_F_VERSION_1 in modern mode', () => {
    const { dev, driver, mem, allocator } = rig({ offered: LEGACY_OFFERED });
    expect(() => driver.init({ mode: 'modern', access: dev, memory: mem, allocator })).toThrow(/VERSION_1/);
    expect(dev.status & 0x80).toBe(0x80);
  });

  it('accepts ACCESS_PLATFORM when offered, and only offered features the caller wants', () => {
    const { dev, driver, mem, allocator } = rig({
      offered: MODERN_OFFERED | F.ACCESS_PLATFORM | F.MRG_RXBUF,
    });
    driver.init({ mode: 'modern', access: dev, memory: mem, allocator, features: F.MAC });
    expect(dev.negotiated).toBe(F.VERSION_1 | F.ACCESS_PLATFORM | F.MAC);
    // Without CTRL_VQ there are two queues only.
    expect(dev.queues.map((q) => q.desc !== 0n)).toEqual([true, true, false]);
  });

  it('fails when a required queue is absent', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED, queueSizes: [8, 0, 8] });
    expect(() => driver.init({ mode: 'modern', access: dev, memory: mem, allocator })).toThrow(/queue 1/);
    expect(allocator.regionCount).toBe(0);
  });

  it('with MSI-X: programs the table, enables it, and gives config and each queue a vector', () => {
    const { dev, driver, mem, allocator } = rig({
      offered: MODERN_OFFERED,
      queueSizes: [8, 8, 8],
      msixTableSize: 4,
    });
    const msix = { messageAddr: MSI_ADDR, messageDataBase: MSI_DATA_BASE };
    driver.init({ mode: 'modern', access: dev, memory: mem, allocator, msix });
    const msixCfg = dev.trace.filter((a) => a[1] === 'cfg' && a[0] === 'W' && a[2] === 0x86);
    expect(msixCfg).toEqual<Access[]>([
      ['W', 'cfg', 0x86, 2, 0xc000], // ENABLE | MASKALL while the table is written
      ['W', 'cfg', 0x86, 2, 0x8000],
    ]);
    const table = dev.trace.filter((a) => a[1] === 'msix');
    expect(table).toEqual<Access[]>(
      [0, 1, 2, 3].flatMap((v): Access[] => [
        ['W', 'msix', v * 16 + 0, 4, 0xfee00000],
        ['W', 'msix', v * 16 + 4, 4, 0],
        ['W', 'msix', v * 16 + 8, 4, MSI_DATA_BASE + v],
        ['W', 'msix', v * 16 + 12, 4, 0],
      ]),
    );
    const vectors = dev.barTrace().filter((a) => a[1] === 'common' && (a[2] === 16 || a[2] === 26));
    expect(vectors).toEqual<Access[]>([
      ['W', 'common', 16, 2, 0],
      ['R', 'common', 16, 2, 0],
      ['W', 'common', 26, 2, 1],
      ['R', 'common', 26, 2, 1],
      ['W', 'common', 26, 2, 2],
      ['R', 'common', 26, 2, 2],
      ['W', 'common', 26, 2, 3],
      ['R', 'common', 26, 2, 3],
    ]);
    expect(driver.interrupts).toEqual({
      kind: 'msix',
      layout: 'per-queue',
      configVector: 0,
      queueVectors: [1, 2, 3],
    });
  });

  it('with a 2-entry MSI-X table: config on vector 0, all queues share vector 1', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED, msixTableSize: 2 });
    driver.init({
      mode: 'modern',
      access: dev,
      memory: mem,
      allocator,
      msix: { messageAddr: MSI_ADDR, messageDataBase: 0 },
    });
    expect(dev.queues.map((q) => q.vector)).toEqual([1, 1, 1]);
    expect(driver.interrupts).toMatchObject({ layout: 'shared' });
  });

  it('fails init with EBUSY when the device refuses a vector, and leaves MSI-X disabled', () => {
    const { dev, driver, mem, allocator } = rig({
      offered: MODERN_OFFERED,
      msixTableSize: 4,
      refuseVectors: [2],
    });
    let error: unknown;
    try {
      driver.init({
        mode: 'modern',
        access: dev,
        memory: mem,
        allocator,
        msix: { messageAddr: MSI_ADDR, messageDataBase: 0 },
      });
    } catch (e) {
      error = e;
    }
    expect(isLabError(error) && error.errno).toBe('EBUSY');
    expect(dev.msixEnabled).toBe(false);
    expect(allocator.regionCount).toBe(0);
  });

  it('without an msix option the driver uses INTx even when the function has MSI-X', () => {
    const { dev, driver, mem, allocator } = rig({ offered: MODERN_OFFERED, msixTableSize: 4 });
    driver.init({ mode: 'modern', access: dev, memory: mem, allocator });
    expect(driver.interrupts).toEqual({ kind: 'intx' });
    expect(dev.msixEnabled).toBe(false);
  });
});

describe('legacy init', () => {
  it('follows facts 1.11: legacy header, 32 feature bits, PFNs, no FEATURES_OK', () => {
    const { dev, driver, mem, allocator } = rig({ offered: LEGACY_OFFERED, queueSizes: [8, 8, 8] });
    driver.init({ mode: 'legacy', access: dev, memory: mem, allocator });
    expect(dev.trace.filter((a) => a[1] === 'cfg')).toEqual<Access[]>([
      ['R', 'cfg', 0x04, 2, 0],
      ['W', 'cfg', 0x04, 2, 0x5], // PCI_COMMAND_IO | PCI_COMMAND_MASTER
    ]);
    // Queue of 8: ALIGN(16*8 + 2*(3+8)) + ALIGN(6 + 8*8) = 4096 + 4096 bytes, so PFNs 0x10, 0x12, 0x14.
    const queue = (q: number, pfn: number): Access[] => [
      ['W', 'legacy', 14, 2, q],
      ['R', 'legacy', 12, 2, 8],
      ['R', 'legacy', 8, 4, 0],
      ['W', 'legacy', 14, 2, q],
      ['W', 'legacy', 8, 4, pfn],
    ];
    expect(dev.barTrace()).toEqual<Access[]>([
      ['W', 'legacy', 18, 1, 0],
      ['R', 'legacy', 18, 1, 0],
      ['W', 'legacy', 18, 1, 1],
      ['W', 'legacy', 18, 1, 3],
      ['R', 'legacy', 0, 4, 0x08070021],
      ['W', 'legacy', 4, 4, 0x08070020],
      // mac at VIRTIO_PCI_CONFIG_OFF(false) = 20, read twice until two reads agree
      ...MAC.map((b, i): Access => ['R', 'legacy', 20 + i, 1, b]),
      ...MAC.map((b, i): Access => ['R', 'legacy', 20 + i, 1, b]),
      ['R', 'legacy', 26, 2, 1],
      ...queue(0, 0x10),
      ...queue(1, 0x12),
      ...queue(2, 0x14),
      ['W', 'legacy', 18, 1, 7], // ACKNOWLEDGE | DRIVER | DRIVER_OK
      ['W', 'legacy', 16, 2, 0], // QUEUE_NOTIFY rx
    ]);
    expect(driver.features).toBe(LEGACY_OFFERED & ~F.CSUM);
  });

  it('places a 256-entry legacy ring: avail after 4096 bytes of descriptors, used at the next page', () => {
    const { dev, driver, mem, allocator } = rig({ offered: LEGACY_OFFERED, queueSizes: [256, 256, 64] });
    driver.init({ mode: 'legacy', access: dev, memory: mem, allocator });
    // 16*256 + 2*(3+256) = 4614 -> 8192; 6 + 8*256 = 2054 -> 4096: 3 pages per 256-entry queue.
    const pfns = dev.trace.filter((a) => a[1] === 'legacy' && a[0] === 'W' && a[2] === 8).map((a) => a[4]);
    expect(pfns).toEqual([0x10, 0x13, 0x16]);
    expect(dev.queues[1]).toMatchObject({ desc: 0x13000n, avail: 0x14000n, used: 0x15000n });
  });

  it('refuses a queue whose PFN is already set', () => {
    const { dev, driver, mem, allocator } = rig({ offered: LEGACY_OFFERED, pfnSurvivesReset: 0 });
    expect(() => driver.init({ mode: 'legacy', access: dev, memory: mem, allocator })).toThrow(
      /already active/,
    );
  });

  it('with MSI-X: vectors at 20 and 22, device config moves to 24', () => {
    const { dev, driver, mem, allocator } = rig({
      offered: LEGACY_OFFERED,
      queueSizes: [8, 8, 8],
      msixTableSize: 4,
    });
    driver.init({
      mode: 'legacy',
      access: dev,
      memory: mem,
      allocator,
      msix: { messageAddr: MSI_ADDR, messageDataBase: 0 },
    });
    const t = dev.barTrace().filter((a) => a[1] === 'legacy');
    const at = (offset: number) => t.filter((a) => a[2] === offset);
    expect(at(20)).toEqual<Access[]>([
      ['W', 'legacy', 20, 2, 0],
      ['R', 'legacy', 20, 2, 0],
    ]);
    expect(at(22)).toEqual<Access[]>(
      [1, 2, 3].flatMap((v): Access[] => [
        ['W', 'legacy', 22, 2, v],
        ['R', 'legacy', 22, 2, v],
      ]),
    );
    expect(at(24).map((a) => a[4])).toEqual([MAC[0], MAC[0]]);
    expect(at(30)).toEqual<Access[]>([['R', 'legacy', 30, 2, 1]]);
  });
});
