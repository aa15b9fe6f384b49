/**
 * The PF probe as Linux's virtio_pci_modern + virtio core + virtio_net run it (facts/virtio.md §1.9,
 * §5.1), against the fake device: status progression, negotiated features, the admin commands sent at
 * DRIVER_OK, and what failures do.
 */
import { describe, expect, it } from 'vitest';
import { bit, DEFAULT_FEATURES, fakeHost } from './fake-virtio.js';
import { hexOf } from './support.js';

describe('virtio-pci PF probe', () => {
  it('goes reset, ACK, DRIVER, FEATURES_OK, DRIVER_OK and stays bound', () => {
    const h = fakeHost();
    const dev = h.kernel.findPciDevice(h.pfName)!;
    expect(dev.driver?.name).toBe('virtio-pci');
    // 0 = reset, then virtio_add_status ORs in 1, 2, 8, 4.
    expect(h.fake.statusWrites).toEqual([0, 1, 3, 11, 15]);
    expect(h.fake.status).toBe(15);
  });

  it('negotiates VERSION_1, ACCESS_PLATFORM, SR_IOV, ADMIN_VQ, INDIRECT_DESC and the net features offered', () => {
    const h = fakeHost();
    const got = h.fake.driverFeatures[0]! | (h.fake.driverFeatures[1]! << 32n);
    expect(got).toBe(DEFAULT_FEATURES);
  });

  it('takes only the bits it knows: no MQ (not in its table), no RING_PACKED (cleared by the ring code)', () => {
    // Bit 22 (MQ) and bit 34 (RING_PACKED) offered: virtio_net here does not take MQ; the ring code clears PACKED.
    const h = fakeHost({ features: DEFAULT_FEATURES | bit(22) | bit(34) });
    const got = h.fake.driverFeatures[0]! | (h.fake.driverFeatures[1]! << 32n);
    expect(got).toBe(DEFAULT_FEATURES);
  });

  it('sends LIST_QUERY, LIST_USE, CAP_ID_LIST_QUERY, DEVICE_CAP_GET, DRIVER_CAP_SET at DRIVER_OK, byte for byte', () => {
    const h = fakeHost();
    const cmds = h.fake.adminCmds.map((c) => ({ hex: hexOf(c.readable), w: c.writableSizes }));
    const hdr = (op: string, group: string): string => `${op}00${group}00${'00'.repeat(12)}${'00'.repeat(8)}`;
    expect(cmds).toEqual([
      // LIST_QUERY, SR-IOV, member 0, no data; writable: status 8 + result 8.
      { hex: hdr('00', '01'), w: [8, 8] },
      // LIST_USE with (device's list 0x3FFFF) & (0x7C | 0x3E780) = 0x3E7FC.
      { hex: `${hdr('01', '01')}fce7030000000000`, w: [8] },
      // CAP_ID_LIST_QUERY, Self.
      { hex: hdr('07', '00'), w: [8, 8] },
      // DEVICE_CAP_GET {id 0, reserved[6]}, 2-byte result.
      { hex: `${hdr('08', '00')}0000000000000000`, w: [8, 2] },
      // DRIVER_CAP_SET {id 0, reserved[6], get = set = min(4, 3) = 3}.
      { hex: `${hdr('09', '00')}00000000000000000303`, w: [8] },
    ]);
    // Four segments go in one indirect table (INDIRECT_DESC negotiated), as virtqueue_add_split does.
    expect(h.fake.adminCmds.every((c) => c.indirect)).toBe(true);
  });
});
