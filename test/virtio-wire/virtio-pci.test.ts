/**
 * Virtio PCI transport constants and layouts (src/spec/virtio-pci.ts) against facts/virtio.md §1 and
 * the quick sheet §7, typed in here by hand, and hand-assembled vectors for the capability structs,
 * the common configuration structure and the virtio-net config space.
 */
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct, offsetOf } from '../../src/base/index.js';
import { virtio } from '../../src/spec/index.js';
import { cat, zeros } from './support.js';

/** [constant name, value from facts/virtio.md]. */
const CONSTANTS: ReadonlyArray<readonly [keyof typeof virtio, number]> = [
  ['PCI_VENDOR_ID_REDHAT_QUMRANET', 0x1af4],
  ['VIRTIO_PCI_MODERN_DEVICE_ID_BASE', 0x1040],
  ['VIRTIO_TRANS_ID_NET', 0x1000],
  ['VIRTIO_TRANS_ID_BLOCK', 0x1001],
  ['VIRTIO_TRANS_ID_BALLOON', 0x1002],
  ['VIRTIO_TRANS_ID_CONSOLE', 0x1003],
  ['VIRTIO_TRANS_ID_SCSI', 0x1004],
  ['VIRTIO_TRANS_ID_RNG', 0x1005],
  ['VIRTIO_TRANS_ID_9P', 0x1009],
  ['VIRTIO_ID_NET', 1],
  ['VIRTIO_ID_BLOCK', 2],
  ['VIRTIO_PCI_CAP_COMMON_CFG', 1],
  ['VIRTIO_PCI_CAP_NOTIFY_CFG', 2],
  ['VIRTIO_PCI_CAP_ISR_CFG', 3],
  ['VIRTIO_PCI_CAP_DEVICE_CFG', 4],
  ['VIRTIO_PCI_CAP_PCI_CFG', 5],
  ['VIRTIO_PCI_CAP_SHARED_MEMORY_CFG', 8],
  ['VIRTIO_PCI_CAP_VENDOR_CFG', 9],
  ['VIRTIO_PCI_CAP_VNDR', 0],
  ['VIRTIO_PCI_CAP_NEXT', 1],
  ['VIRTIO_PCI_CAP_LEN', 2],
  ['VIRTIO_PCI_CAP_CFG_TYPE', 3],
  ['VIRTIO_PCI_CAP_BAR', 4],
  ['VIRTIO_PCI_CAP_OFFSET', 8],
  ['VIRTIO_PCI_CAP_LENGTH', 12],
  ['VIRTIO_PCI_NOTIFY_CAP_MULT', 16],
  ['VIRTIO_PCI_COMMON_DFSELECT', 0],
  ['VIRTIO_PCI_COMMON_DF', 4],
  ['VIRTIO_PCI_COMMON_GFSELECT', 8],
  ['VIRTIO_PCI_COMMON_GF', 12],
  ['VIRTIO_PCI_COMMON_MSIX', 16],
  ['VIRTIO_PCI_COMMON_NUMQ', 18],
  ['VIRTIO_PCI_COMMON_STATUS', 20],
  ['VIRTIO_PCI_COMMON_CFGGENERATION', 21],
  ['VIRTIO_PCI_COMMON_Q_SELECT', 22],
  ['VIRTIO_PCI_COMMON_Q_SIZE', 24],
  ['VIRTIO_PCI_COMMON_Q_MSIX', 26],
  ['VIRTIO_PCI_COMMON_Q_ENABLE', 28],
  ['VIRTIO_PCI_COMMON_Q_NOFF', 30],
  ['VIRTIO_PCI_COMMON_Q_DESCLO', 32],
  ['VIRTIO_PCI_COMMON_Q_DESCHI', 36],
  ['VIRTIO_PCI_COMMON_Q_AVAILLO', 40],
  ['VIRTIO_PCI_COMMON_Q_AVAILHI', 44],
  ['VIRTIO_PCI_COMMON_Q_USEDLO', 48],
  ['VIRTIO_PCI_COMMON_Q_USEDHI', 52],
  ['VIRTIO_PCI_COMMON_Q_NDATA', 56],
  ['VIRTIO_PCI_COMMON_Q_RESET', 58],
  ['VIRTIO_PCI_COMMON_ADM_Q_IDX', 60],
  ['VIRTIO_PCI_COMMON_ADM_Q_NUM', 62],
  ['VIRTIO_PCI_ISR_QUEUE', 1],
  ['VIRTIO_PCI_ISR_CONFIG', 2],
  ['VIRTIO_MSI_NO_VECTOR', 0xffff],
  ['VIRTIO_CONFIG_S_ACKNOWLEDGE', 1],
  ['VIRTIO_CONFIG_S_DRIVER', 2],
  ['VIRTIO_CONFIG_S_DRIVER_OK', 4],
  ['VIRTIO_CONFIG_S_FEATURES_OK', 8],
  ['VIRTIO_CONFIG_S_SUSPEND', 16],
  ['VIRTIO_CONFIG_S_NEEDS_RESET', 64],
  ['VIRTIO_CONFIG_S_FAILED', 128],
  ['VIRTIO_F_NOTIFY_ON_EMPTY', 24],
  ['VIRTIO_F_ANY_LAYOUT', 27],
  ['VIRTIO_RING_F_INDIRECT_DESC', 28],
  ['VIRTIO_RING_F_EVENT_IDX', 29],
  ['VIRTIO_F_VERSION_1', 32],
  ['VIRTIO_F_ACCESS_PLATFORM', 33],
  ['VIRTIO_F_RING_PACKED', 34],
  ['VIRTIO_F_IN_ORDER', 35],
  ['VIRTIO_F_ORDER_PLATFORM', 36],
  ['VIRTIO_F_SR_IOV', 37],
  ['VIRTIO_F_NOTIFICATION_DATA', 38],
  ['VIRTIO_F_NOTIF_CONFIG_DATA', 39],
  ['VIRTIO_F_RING_RESET', 40],
  ['VIRTIO_F_ADMIN_VQ', 41],
  ['VIRTIO_F_SUSPEND', 43],
  ['VIRTIO_PCI_HOST_FEATURES', 0],
  ['VIRTIO_PCI_GUEST_FEATURES', 4],
  ['VIRTIO_PCI_QUEUE_PFN', 8],
  ['VIRTIO_PCI_QUEUE_NUM', 12],
  ['VIRTIO_PCI_QUEUE_SEL', 14],
  ['VIRTIO_PCI_QUEUE_NOTIFY', 16],
  ['VIRTIO_PCI_STATUS', 18],
  ['VIRTIO_PCI_ISR', 19],
  ['VIRTIO_MSI_CONFIG_VECTOR', 20],
  ['VIRTIO_MSI_QUEUE_VECTOR', 22],
  ['VIRTIO_PCI_QUEUE_ADDR_SHIFT', 12],
  ['VIRTIO_PCI_VRING_ALIGN', 4096],
  ['VIRTIO_NET_F_CSUM', 0],
  ['VIRTIO_NET_F_MTU', 3],
  ['VIRTIO_NET_F_MAC', 5],
  ['VIRTIO_NET_F_MRG_RXBUF', 15],
  ['VIRTIO_NET_F_STATUS', 16],
  ['VIRTIO_NET_F_CTRL_VQ', 17],
  ['VIRTIO_NET_F_MQ', 22],
  ['VIRTIO_NET_F_CTRL_MAC_ADDR', 23],
  ['VIRTIO_NET_F_GUEST_RSC4', 41],
  ['VIRTIO_NET_F_HASH_REPORT', 57],
  ['VIRTIO_NET_F_RSS', 60],
  ['VIRTIO_NET_F_STANDBY', 62],
  ['VIRTIO_NET_F_SPEED_DUPLEX', 63],
  ['VIRTIO_NET_S_LINK_UP', 1],
  ['VIRTIO_NET_S_ANNOUNCE', 2],
  ['VIRTIO_NET_OK', 0],
  ['VIRTIO_NET_ERR', 1],
  ['VIRTIO_NET_CTRL_MAC', 1],
  ['VIRTIO_NET_CTRL_MAC_ADDR_SET', 1],
  ['VIRTIO_NET_CTRL_VLAN', 2],
  ['VIRTIO_NET_CTRL_MQ', 4],
  ['VIRTIO_NET_CTRL_MQ_HASH_CONFIG', 2],
  ['VIRTIO_NET_CTRL_STATS', 8],
];

describe('virtio PCI constants (facts §1, §7)', () => {
  it.each(CONSTANTS)('%s = %s', (name, value) => {
    expect(virtio[name]).toBe(value);
  });

  it('puts legacy device config at 24 with MSI-X enabled and at 20 without', () => {
    expect(virtio.VIRTIO_PCI_CONFIG_OFF(true)).toBe(24);
    expect(virtio.VIRTIO_PCI_CONFIG_OFF(false)).toBe(20);
  });
});

describe('virtio PCI capability structs', () => {
  it('struct virtio_pci_notify_cap (20 bytes) matches a hand vector', () => {
    const value = {
      cap: {
        capVndr: 0x09,
        capNext: 0x50,
        capLen: 20,
        cfgType: 2,
        bar: 4,
        id: 0,
        offset: 0x3000,
        length: 0x1000,
      },
      notifyOffMultiplier: 4,
    };
    const bytes = cat(
      [0x09, 0x50, 0x14, 0x02], // cap_vndr, cap_next, cap_len, cfg_type
      [0x04, 0x00, 0x00, 0x00], // bar, id, padding[2]
      [0x00, 0x30, 0x00, 0x00], // offset
      [0x00, 0x10, 0x00, 0x00], // length
      [0x04, 0x00, 0x00, 0x00], // notify_off_multiplier
    );
    expect(encodeStruct(virtio.VirtioPciNotifyCap, value)).toEqual(bytes);
    expect(decodeStruct(virtio.VirtioPciNotifyCap, bytes)).toEqual(value);
  });

  it('struct virtio_pci_cfg_cap and virtio_pci_cap64 have the facts sizes', () => {
    expect(virtio.VirtioPciCap.sizeBytes).toBe(16);
    expect(virtio.VirtioPciCfgCap.sizeBytes).toBe(20);
    expect(offsetOf(virtio.VirtioPciCfgCap, 'pciCfgData')).toBe(16);
    expect(virtio.VirtioPciCap64.sizeBytes).toBe(24);
    expect(offsetOf(virtio.VirtioPciCap64, 'lengthHi')).toBe(20);
  });
});

describe('struct virtio_pci_common_cfg', () => {
  const value = {
    deviceFeatureSelect: 1,
    deviceFeature: 0x221, // window 1: VERSION_1 (32), SR_IOV (37), ADMIN_VQ (41)
    driverFeatureSelect: 0,
    driverFeature: 0x10020, // MAC (5), STATUS (16)
    configMsixVector: 0xffff,
    numQueues: 3,
    deviceStatus: 0x0f,
    configGeneration: 2,
    queueSelect: 3,
    queueSize: 64,
    queueMsixVector: 1,
    queueEnable: 1,
    queueNotifyOff: 3,
    queueDesc: 0x123456000n,
    queueDriver: 0x123457000n,
    queueDevice: 0x123458000n,
    queueNotifConfigData: 0,
    queueReset: 0,
    adminQueueIndex: 3,
    adminQueueNum: 1,
  };
  const bytes = cat(
    [0x01, 0x00, 0x00, 0x00], // 0 device_feature_select
    [0x21, 0x02, 0x00, 0x00], // 4 device_feature
    [0x00, 0x00, 0x00, 0x00], // 8 driver_feature_select
    [0x20, 0x00, 0x01, 0x00], // 12 driver_feature
    [0xff, 0xff, 0x03, 0x00], // 16 config_msix_vector, 18 num_queues
    [0x0f, 0x02, 0x03, 0x00], // 20 device_status, 21 config_generation, 22 queue_select
    [0x40, 0x00, 0x01, 0x00], // 24 queue_size, 26 queue_msix_vector
    [0x01, 0x00, 0x03, 0x00], // 28 queue_enable, 30 queue_notify_off
    [0x00, 0x60, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00], // 32 queue_desc
    [0x00, 0x70, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00], // 40 queue_driver
    [0x00, 0x80, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00], // 48 queue_device
    [0x00, 0x00, 0x00, 0x00], // 56 queue_notif_config_data, 58 queue_reset
    [0x03, 0x00, 0x01, 0x00], // 60 admin_queue_index, 62 admin_queue_num
  );

  it('is 64 bytes and matches a hand vector both ways', () => {
    expect(bytes.length).toBe(64);
    expect(virtio.VirtioPciCommonCfg.sizeBytes).toBe(64);
    expect(encodeStruct(virtio.VirtioPciCommonCfg, value)).toEqual(bytes);
    expect(decodeStruct(virtio.VirtioPciCommonCfg, bytes)).toEqual(value);
  });

  it('reads a 56-byte (pre-admin) structure with the admin fields as zero when asked to', () => {
    const old = decodeStruct(virtio.VirtioPciCommonCfg, bytes.subarray(0, 56), { missing: 'zero' });
    expect(old.adminQueueNum).toBe(0);
    expect(old.queueDevice).toBe(0x123458000n);
  });
});

describe('virtio-net layouts', () => {
  it('struct virtio_net_config matches a hand vector', () => {
    const value = {
      mac: Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56),
      status: 1,
      maxVirtqueuePairs: 4,
      mtu: 1500,
      speed: 10000,
      duplex: 1,
      rssMaxKeySize: 40,
      rssMaxIndirectionTableLength: 128,
      supportedHashTypes: 0x3f,
      supportedTunnelTypes: 0,
    };
    const bytes = cat(
      [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], // mac
      [0x01, 0x00, 0x04, 0x00, 0xdc, 0x05], // status, max_virtqueue_pairs, mtu
      [0x10, 0x27, 0x00, 0x00], // speed
      [0x01, 0x28, 0x80, 0x00], // duplex, rss_max_key_size, rss_max_indirection_table_length
      [0x3f, 0x00, 0x00, 0x00], // supported_hash_types
      zeros(4), // supported_tunnel_types
    );
    expect(encodeStruct(virtio.VirtioNetConfig, value)).toEqual(bytes);
    expect(decodeStruct(virtio.VirtioNetConfig, bytes)).toEqual(value);
  });

  it('struct virtio_net_hdr is 12 bytes with num_buffers last; the legacy form is 10', () => {
    const bytes = cat([0x01, 0x04, 0x36, 0x00, 0xb4, 0x05, 0x22, 0x00, 0x10, 0x00, 0x02, 0x00]);
    expect(decodeStruct(virtio.VirtioNetHdr, bytes)).toEqual({
      flags: 1,
      gsoType: 4,
      hdrLen: 54,
      gsoSize: 1460,
      csumStart: 34,
      csumOffset: 16,
      numBuffers: 2,
    });
    expect(offsetOf(virtio.VirtioNetHdr, 'numBuffers')).toBe(virtio.VIRTIO_NET_HDR_LEGACY_SIZE);
  });
});
