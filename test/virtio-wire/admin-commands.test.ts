/**
 * Every admin command's device-readable part (header + command-specific data) and device-writable
 * part (status + command-specific result), byte for byte. Each vector is assembled by hand from the
 * layout tables of facts/virtio.md §3.2, §3.8-3.12 and §4.2-4.4 (literal bytes, one commented chunk per
 * field); the code under test must build exactly these bytes and parse them back to the same values.
 * Opcodes come from the literal in each case, not from the code's table.
 */
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct } from '../../src/base/index.js';
import {
  type AdminCmdData,
  type AdminCmdName,
  type AdminCmdResult,
  type AdminCmdTarget,
  buildAdminCommand,
  buildAdminError,
  buildAdminResult,
  decodeDevParts,
  decodeDevPartsMetadata,
  decodeIdBitmap,
  decodePartHdrs,
  decodePartSelector,
  encodeDevParts,
  encodeDevPartsMetadata,
  encodeIdBitmap,
  encodePartHdrs,
  encodePartSelector,
  parseAdminCommand,
  parseAdminResult,
  usableNotifyInfoEntries,
} from '../../src/hw/virtio/admin-wire.js';
import { vadmin, virtio } from '../../src/spec/index.js';
import { cat, zeros } from './support.js';

const SRIOV = 1;
const SELF = 0;
const OK_STATUS = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]; // status 0, qualifier 0, reserved2[4]

function vf(n: bigint): AdminCmdTarget {
  return { groupType: SRIOV, groupMemberId: n };
}

function checkRequest<K extends AdminCmdName>(
  name: K,
  opcode: number,
  target: AdminCmdTarget,
  data: AdminCmdData<K>,
  expected: Uint8Array,
): void {
  expect(buildAdminCommand(name, target, data)).toEqual(expected);
  const parsed = parseAdminCommand(expected);
  expect(parsed.kind).toBe('known');
  if (parsed.kind !== 'known') return;
  expect(parsed.name).toBe(name);
  expect(parsed.header).toEqual({ opcode, ...target });
  expect(parsed.data).toEqual(data);
  expect(parsed.dataBytes).toEqual(expected.subarray(24));
}

function checkResult<K extends AdminCmdName>(name: K, result: AdminCmdResult<K>, expected: Uint8Array): void {
  expect(buildAdminResult(name, result)).toEqual(expected);
  const parsed = parseAdminResult(name, expected, expected.length);
  expect(parsed).toEqual({ status: 0, statusQualifier: 0, result, resultSizeBytes: expected.length - 8 });
}

describe('LIST_QUERY (0x0) and LIST_USE (0x1)', () => {
  it('LIST_QUERY: SR-IOV group, member 0, no data; result is one le64 word', () => {
    const req = cat(
      [0x00, 0x00, 0x01, 0x00], // opcode 0x0, group_type SR-IOV
      zeros(12), // reserved1
      zeros(8), // group_member_id 0
    );
    checkRequest('list-query', 0x0, vf(0n), {}, req);
    // Supported: 0x0..0xa and 0xd..0x11 (= 0x3e7ff).
    const res = cat(OK_STATUS, [0xff, 0xe7, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]);
    checkResult('list-query', { deviceAdminCmdOpcodes: res.slice(8) }, res);
    expect(decodeIdBitmap(res.subarray(8))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17]);
  });

  it("LIST_USE: Linux's legacy | dev-parts bitmap 0x7c | 0x3e780; status-only result", () => {
    const req = cat(
      [0x01, 0x00, 0x01, 0x00], // opcode 0x1, group_type SR-IOV
      zeros(12),
      zeros(8),
      [0xfc, 0xe7, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00], // device_admin_cmd_opcodes[0] = 0x3e7fc
    );
    const bitmap = encodeIdBitmap([2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17]);
    expect(bitmap).toEqual(req.subarray(24));
    checkRequest('list-use', 0x1, vf(0n), { deviceAdminCmdOpcodes: bitmap }, req);
    checkResult('list-use', {}, cat(OK_STATUS));
  });

  it('an opcode list reaching past 63 takes a second word', () => {
    expect(encodeIdBitmap([0, 64, 0x7f])).toEqual(
      cat([0x01, 0, 0, 0, 0, 0, 0, 0x00], [0x01, 0, 0, 0, 0, 0, 0, 0x80]),
    );
  });
});

describe('legacy interface commands (0x2-0x6)', () => {
  it('LEGACY_COMMON_CFG_WRITE: VF 3 writes 1 to Queue Select (offset 14, 2 bytes)', () => {
    const req = cat(
      [0x02, 0x00, 0x01, 0x00], // opcode 0x2, SR-IOV
      zeros(12),
      [0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // member 3
      [0x0e], // offset 14
      zeros(7), // reserved[7]
      [0x01, 0x00], // data
    );
    checkRequest('legacy-common-cfg-write', 0x2, vf(3n), { offset: 14, data: Uint8Array.of(1, 0) }, req);
    checkResult('legacy-common-cfg-write', {}, cat(OK_STATUS));
  });

  it('LEGACY_COMMON_CFG_READ: VF 3 reads ISR (offset 19); 24 + 1 bytes as Linux sends', () => {
    const req = cat([0x03, 0x00, 0x01, 0x00], zeros(12), [0x03, 0, 0, 0, 0, 0, 0, 0], [0x13]);
    expect(req.length).toBe(25);
    checkRequest('legacy-common-cfg-read', 0x3, vf(3n), { offset: 19 }, req);
    checkResult('legacy-common-cfg-read', { data: Uint8Array.of(0x01) }, cat(OK_STATUS, [0x01]));
  });

  it('LEGACY_DEV_CFG_WRITE: VF 256 writes the 6-byte mac at device-config offset 0', () => {
    const req = cat(
      [0x04, 0x00, 0x01, 0x00],
      zeros(12),
      [0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // member 256
      [0x00], // offset 0
      zeros(7),
      [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
    );
    const mac = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
    checkRequest('legacy-dev-cfg-write', 0x4, vf(256n), { offset: 0, data: mac }, req);
  });

  it('LEGACY_DEV_CFG_READ: VF 1 reads net status (offset 6, 2 bytes)', () => {
    const req = cat([0x05, 0x00, 0x01, 0x00], zeros(12), [0x01, 0, 0, 0, 0, 0, 0, 0], [0x06]);
    checkRequest('legacy-dev-cfg-read', 0x5, vf(1n), { offset: 6 }, req);
    checkResult('legacy-dev-cfg-read', { data: Uint8Array.of(0x01, 0x00) }, cat(OK_STATUS, [0x01, 0x00]));
  });

  it('LEGACY_NOTIFY_INFO: no data; 64-byte result of four 16-byte entries', () => {
    const req = cat([0x06, 0x00, 0x01, 0x00], zeros(12), [0x02, 0, 0, 0, 0, 0, 0, 0]);
    checkRequest('legacy-notify-info', 0x6, vf(2n), {}, req);
    const res = cat(
      OK_STATUS,
      [0x02, 0x02], // flags MEMBER (VF BAR), bar 2
      zeros(6), // padding
      [0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // offset 0x1000
      [0x01, 0x04], // flags OWNER (PF BAR), bar 4
      zeros(6),
      [0x08, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // offset 0x3008
      zeros(16), // flags END
      [0x02, 0x03], // after END: ignored by a driver
      zeros(6),
      [0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    );
    expect(res.length).toBe(8 + 64);
    const entries = [
      { flags: 2, bar: 2, offset: 0x1000n },
      { flags: 1, bar: 4, offset: 0x3008n },
      { flags: 0, bar: 0, offset: 0n },
      { flags: 2, bar: 3, offset: 0x20n },
    ];
    checkResult('legacy-notify-info', { entries }, res);
    expect(usableNotifyInfoEntries({ entries })).toEqual(entries.slice(0, 2));
  });

  it('LEGACY_NOTIFY_INFO: entries with reserved flags are skipped, and a full list has no END', () => {
    const entries = [
      { flags: 7, bar: 2, offset: 0n },
      { flags: 2, bar: 2, offset: 0x40n },
      { flags: 1, bar: 1, offset: 0x42n },
      { flags: 2, bar: 5, offset: 0x44n },
    ];
    expect(usableNotifyInfoEntries({ entries })).toEqual(entries.slice(1));
  });
});

describe('capability commands (0x7-0x9, Self group)', () => {
  it('CAP_ID_LIST_QUERY: Self group, member 0; result bitmap with VIRTIO_DEV_PARTS_CAP (id 0)', () => {
    const req = cat([0x07, 0x00, 0x00, 0x00], zeros(12), zeros(8));
    checkRequest('cap-id-list-query', 0x7, { groupType: SELF, groupMemberId: 0n }, {}, req);
    const res = cat(OK_STATUS, [0x01, 0, 0, 0, 0, 0, 0, 0]);
    checkResult('cap-id-list-query', { supportedCaps: res.slice(8) }, res);
    expect(decodeIdBitmap(res.subarray(8))).toEqual([0]);
  });

  it('DEVICE_CAP_GET: id 0; result is struct virtio_dev_parts_cap {get limit 16, set limit 8}', () => {
    const req = cat([0x08, 0x00, 0x00, 0x00], zeros(12), zeros(8), [0x00, 0x00], zeros(6));
    checkRequest('device-cap-get', 0x8, { groupType: SELF, groupMemberId: 0n }, { id: 0 }, req);
    const res = cat(OK_STATUS, [0x10, 0x08]);
    checkResult('device-cap-get', { capSpecificData: Uint8Array.of(0x10, 0x08) }, res);
    expect(decodeStruct(vadmin.VirtioDevPartsCap, res.subarray(8))).toEqual({
      getPartsResourceObjectsLimit: 16,
      setPartsResourceObjectsLimit: 8,
    });
  });

  it('DRIVER_CAP_SET: id 0 with limits {8, 8}', () => {
    const req = cat(
      [0x09, 0x00, 0x00, 0x00],
      zeros(12),
      zeros(8),
      [0x00, 0x00], // id 0
      zeros(6), // reserved[6]
      [0x08, 0x08], // get / set limits
    );
    const caps = encodeStruct(vadmin.VirtioDevPartsCap, {
      getPartsResourceObjectsLimit: 8,
      setPartsResourceObjectsLimit: 8,
    });
    checkRequest(
      'driver-cap-set',
      0x9,
      { groupType: SELF, groupMemberId: 0n },
      { id: 0, capSpecificData: caps },
      req,
    );
  });
});

describe('resource object commands (0xa-0xd)', () => {
  it('RESOURCE_OBJ_CREATE: VF 4, dev-parts object 7 of type SET; 24 bytes of data', () => {
    const req = cat(
      [0x0a, 0x00, 0x01, 0x00],
      zeros(12),
      [0x04, 0, 0, 0, 0, 0, 0, 0], // member 4
      [0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00], // hdr: type DEV_PARTS, reserved[2], id 7
      zeros(8), // flags 0
      [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // virtio_resource_obj_dev_parts: type SET
    );
    const obj = encodeStruct(vadmin.VirtioResourceObjDevParts, { type: 1 });
    checkRequest(
      'resource-obj-create',
      0xa,
      vf(4n),
      { hdr: { type: 0, id: 7 }, flags: 0n, resourceObjSpecificData: obj },
      req,
    );
  });

  it('RESOURCE_OBJ_MODIFY (0xb, UNVERIFIED number): Self group, type 0x203, id 0x01020304', () => {
    const req = cat(
      [0x0b, 0x00, 0x00, 0x00],
      zeros(12),
      zeros(8),
      [0x03, 0x02, 0x00, 0x00, 0x04, 0x03, 0x02, 0x01], // type 0x203, reserved, id
      zeros(8), // flags
      [0xde, 0xad],
    );
    const data = {
      hdr: { type: 0x203, id: 0x01020304 },
      flags: 0n,
      resourceObjSpecificData: Uint8Array.of(0xde, 0xad),
    };
    checkRequest('resource-obj-modify', 0xb, { groupType: SELF, groupMemberId: 0n }, data, req);
  });

  it('RESOURCE_OBJ_QUERY (0xc, UNVERIFIED number): returns the object data', () => {
    const req = cat(
      [0x0c, 0x00, 0x01, 0x00],
      zeros(12),
      [0x04, 0, 0, 0, 0, 0, 0, 0],
      [0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00],
      zeros(8),
    );
    checkRequest('resource-obj-query', 0xc, vf(4n), { hdr: { type: 0, id: 7 }, flags: 0n }, req);
    const res = cat(OK_STATUS, [0x01], zeros(7));
    checkResult('resource-obj-query', { resourceObjSpecificResult: res.slice(8) }, res);
    expect(decodeStruct(vadmin.VirtioResourceObjDevParts, res.subarray(8))).toEqual({ type: 1 });
  });

  it('RESOURCE_OBJ_DESTROY: the 8-byte header only', () => {
    const req = cat(
      [0x0d, 0x00, 0x01, 0x00],
      zeros(12),
      [0x04, 0, 0, 0, 0, 0, 0, 0],
      [0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00],
    );
    expect(req.length).toBe(32);
    checkRequest('resource-obj-destroy', 0xd, vf(4n), { type: 0, id: 7 }, req);
  });
});

const PART_HDR_DRV_FEATURES = [0x01, 0x01, 0x00, 0x00, ...zeros(8), 0x08, 0x00, 0x00, 0x00];
const PART_HDR_VQ1_CFG = [0x04, 0x01, 0x00, 0x00, 0x01, ...zeros(7), 0x20, 0x00, 0x00, 0x00];

describe('device parts commands (0xe-0x11)', () => {
  const metadataReq = (type: number): Uint8Array =>
    cat(
      [0x0e, 0x00, 0x01, 0x00],
      zeros(12),
      [0x04, 0, 0, 0, 0, 0, 0, 0],
      [0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00], // object 5
      [type], // metadata type
      zeros(7),
    );

  it('DEV_PARTS_METADATA_GET SIZE: 16 bytes of data; result {le32 size; reserved}', () => {
    checkRequest('dev-parts-metadata-get', 0xe, vf(4n), { hdr: { type: 0, id: 5 }, type: 0 }, metadataReq(0));
    const res = cat(OK_STATUS, [0x34, 0x12, 0x00, 0x00], zeros(4));
    checkResult('dev-parts-metadata-get', { metadata: res.slice(8) }, res);
    expect(decodeDevPartsMetadata(0, res.subarray(8))).toEqual({ type: 'size', size: 0x1234 });
    expect(encodeDevPartsMetadata({ type: 'size', size: 0x1234 })).toEqual(res.subarray(8));
  });

  it('DEV_PARTS_METADATA_GET COUNT: result {le32 count; reserved}', () => {
    checkRequest('dev-parts-metadata-get', 0xe, vf(4n), { hdr: { type: 0, id: 5 }, type: 1 }, metadataReq(1));
    const metadata = Uint8Array.of(0x06, 0, 0, 0, 0, 0, 0, 0);
    expect(decodeDevPartsMetadata(1, metadata)).toEqual({ type: 'count', count: 6 });
    expect(encodeDevPartsMetadata({ type: 'count', count: 6 })).toEqual(metadata);
  });

  it('DEV_PARTS_METADATA_GET LIST: count, reserved, then 16-byte part headers', () => {
    checkRequest('dev-parts-metadata-get', 0xe, vf(4n), { hdr: { type: 0, id: 5 }, type: 2 }, metadataReq(2));
    const metadata = cat([0x02, 0x00, 0x00, 0x00], zeros(4), PART_HDR_DRV_FEATURES, PART_HDR_VQ1_CFG);
    const list = {
      type: 'list' as const,
      count: 2,
      hdrs: [
        { partType: 0x101, flags: 0, selector: new Uint8Array(8), length: 8 },
        { partType: 0x104, flags: 0, selector: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), length: 32 },
      ],
    };
    expect(decodeDevPartsMetadata(2, metadata)).toEqual(list);
    expect(encodeDevPartsMetadata(list)).toEqual(metadata);
  });

  it('DEV_PARTS_GET ALL: 16 bytes of data as Linux sends', () => {
    const req = cat(
      [0x0f, 0x00, 0x01, 0x00],
      zeros(12),
      [0x04, 0, 0, 0, 0, 0, 0, 0],
      [0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00],
      [0x01], // type ALL
      zeros(7),
    );
    checkRequest(
      'dev-parts-get',
      0xf,
      vf(4n),
      { hdr: { type: 0, id: 5 }, type: 1, hdrList: new Uint8Array(0) },
      req,
    );
  });

  it('DEV_PARTS_GET SELECTED: a hdr_list naming PCI_COMMON_CFG at offset 18 (num_queues)', () => {
    const hdr = [
      0x02, 0x01, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    const req = cat(
      [0x0f, 0x00, 0x01, 0x00],
      zeros(12),
      [0x04, 0, 0, 0, 0, 0, 0, 0],
      [0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00],
      [0x00], // type SELECTED
      zeros(7),
      hdr, // part_type 0x102, flags, reserved, selector.pci_common_cfg.offset 18, length 0
    );
    const selector = encodePartSelector({ kind: 'pci-common-cfg', offset: 18 });
    const hdrList = encodePartHdrs([{ partType: 0x102, flags: 0, selector, length: 0 }]);
    expect(hdrList).toEqual(Uint8Array.from(hdr));
    checkRequest('dev-parts-get', 0xf, vf(4n), { hdr: { type: 0, id: 5 }, type: 0, hdrList }, req);
    expect(decodePartHdrs(req.subarray(40))).toEqual([{ partType: 0x102, flags: 0, selector, length: 0 }]);
  });

  it('DEV_PARTS_GET result: parts packed back to back', () => {
    const parts = cat(
      [0x00, 0x01, 0x01, 0x00], // DEV_FEATURES, flags OPTIONAL, reserved
      zeros(8), // selector
      [0x08, 0x00, 0x00, 0x00], // length 8
      [0x20, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // MAC | STATUS | VERSION_1
      [0x03, 0x01, 0x00, 0x00], // DEVICE_STATUS
      zeros(8),
      [0x01, 0x00, 0x00, 0x00], // length 1
      [0x0f], // ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK
      [0x05, 0x01, 0x00, 0x00], // VQ_NOTIFY_CFG
      [0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // vq_index 2
      [0x08, 0x00, 0x00, 0x00], // length 8
      [0x02, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00], // queue_notify_off 2, notif_config_data 0x10
    );
    const res = cat(OK_STATUS, [...parts]);
    checkResult('dev-parts-get', { parts }, res);
    const decoded = decodeDevParts(parts);
    expect(decoded).toEqual([
      {
        partType: 0x100,
        flags: 1,
        selector: new Uint8Array(8),
        value: Uint8Array.of(0x20, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00),
      },
      { partType: 0x103, flags: 0, selector: new Uint8Array(8), value: Uint8Array.of(0x0f) },
      {
        partType: 0x105,
        flags: 0,
        selector: Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0),
        value: Uint8Array.of(0x02, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00),
      },
    ]);
    expect(encodeDevParts(decoded)).toEqual(parts);
    const vqNotify = decoded[2]!;
    expect(decodePartSelector(vqNotify.partType, vqNotify.selector, virtio.VIRTIO_ID_NET)).toEqual({
      kind: 'vq-index',
      index: 2,
    });
    expect(decodeStruct(vadmin.VirtioDevPartVqNotifyData, vqNotify.value)).toEqual({
      queueNotifyOff: 2,
      queueNotifConfigData: 0x10,
    });
  });

  it('DEV_PARTS_SET: object hdr, then PCI_COMMON_CFG, VQ_CFG and a net CVQ part', () => {
    const req = cat(
      [0x10, 0x00, 0x01, 0x00],
      zeros(12),
      [0x06, 0, 0, 0, 0, 0, 0, 0], // member 6
      [0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00], // object 9
      [0x02, 0x01, 0x00, 0x00], // PCI_COMMON_CFG
      [0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // offset 18 (num_queues)
      [0x02, 0x00, 0x00, 0x00], // length 2
      [0x03, 0x00], // 3 queues
      [0x04, 0x01, 0x00, 0x00], // VQ_CFG
      zeros(8), // vq_index 0
      [0x20, 0x00, 0x00, 0x00], // length 32
      [0x00, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // queue_size 256, vector 1, enabled 1, reserved
      [0x00, 0x50, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00], // queue_desc
      [0x00, 0x60, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00], // queue_driver
      [0x00, 0x70, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00], // queue_device
      [0x00, 0x02, 0x00, 0x00], // VIRTIO_NET_DEV_PART_CVQ_CFG_PART
      [0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // class MAC, command ADDR_SET
      [0x06, 0x00, 0x00, 0x00], // length 6
      [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef],
    );
    const vqCfg = encodeStruct(vadmin.VirtioDevPartVqCfg, {
      queueSize: 256,
      vector: 1,
      enabled: 1,
      queueDesc: 0x12345000n,
      queueDriver: 0x12346000n,
      queueDevice: 0x12347000n,
    });
    const parts = encodeDevParts([
      {
        partType: vadmin.VIRTIO_DEV_PART_PCI_COMMON_CFG,
        flags: 0,
        selector: encodePartSelector({ kind: 'pci-common-cfg', offset: 18 }),
        value: Uint8Array.of(3, 0),
      },
      {
        partType: vadmin.VIRTIO_DEV_PART_VQ_CFG,
        flags: 0,
        selector: encodePartSelector({ kind: 'vq-index', index: 0 }),
        value: vqCfg,
      },
      {
        partType: vadmin.VIRTIO_NET_DEV_PART_CVQ_CFG_PART,
        flags: 0,
        selector: encodePartSelector({ kind: 'net-cvq', class: 1, command: 1 }),
        value: Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef),
      },
    ]);
    checkRequest('dev-parts-set', 0x10, vf(6n), { hdr: { type: 0, id: 9 }, parts }, req);
    checkResult('dev-parts-set', {}, cat(OK_STATUS));
    const cvq = decodeDevParts(parts)[2]!;
    expect(decodePartSelector(cvq.partType, cvq.selector, virtio.VIRTIO_ID_NET)).toEqual({
      kind: 'net-cvq',
      class: 1,
      command: 1,
    });
  });

  it('DEV_MODE_SET: 24 + 1 bytes, flags bit 0 = stopped', () => {
    const stop = cat([0x11, 0x00, 0x01, 0x00], zeros(12), [0x06, 0, 0, 0, 0, 0, 0, 0], [0x01]);
    checkRequest('dev-mode-set', 0x11, vf(6n), { flags: 1 }, stop);
    const resume = cat([0x11, 0x00, 0x01, 0x00], zeros(12), [0x06, 0, 0, 0, 0, 0, 0, 0], [0x00]);
    checkRequest('dev-mode-set', 0x11, vf(6n), { flags: 0 }, resume);
  });
});

describe('failed commands', () => {
  it('EINVAL / INVALID_MEMBER is the 8-byte status header 16 00 05 00 00 00 00 00', () => {
    const bytes = Uint8Array.of(0x16, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00);
    expect(buildAdminError(22, 5)).toEqual(bytes);
    expect(parseAdminResult('dev-mode-set', bytes, 8)).toEqual({
      status: 22,
      statusQualifier: 5,
      result: {},
      resultSizeBytes: 0,
    });
  });

  it('ENOMEM for a too-small metadata buffer leaves the result as zeros', () => {
    const buffer = cat([0x0c, 0x00, 0x06, 0x00], zeros(4), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const parsed = parseAdminResult('dev-parts-metadata-get', buffer, 8);
    expect(parsed.status).toBe(12);
    expect(parsed.statusQualifier).toBe(6);
    expect(parsed.result.metadata).toEqual(new Uint8Array(0));
  });
});
