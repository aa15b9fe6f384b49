/**
 * The in-kernel virtio_pci_admin API VF drivers call through the PF (include/linux/virtio_pci_admin.h,
 * drivers/virtio/virtio_pci_admin_legacy_io.c and virtio_pci_modern.c, 6.13+; facts/virtio.md §5.1):
 * each function finds the PF with virtio_pci_vf_get_pf_dev = pci_iov_get_pf_drvdata(vf,
 * &virtio_pci_driver) (ENODEV when the PF is not bound to virtio-pci), takes the member id as
 * pci_iov_vf_id(vf) + 1, builds exactly the command Linux builds (sizes in the comments), and runs it
 * on the PF's admin queue with vp_modern_admin_cmd_exec's checks and -status mapping.
 *
 * Errors are thrown as errno LabErrors (Linux returns -errno). Callers serialize, as Linux's callers
 * must ("callers must serialize access for the given device").
 */
import { errnoError, LabError } from '../../../base/index.js';
import { vadmin, virtio } from '../../../spec/index.js';
import type { Device, Driver } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import {
  type AdminCmdOutcome,
  type AdminVq,
  VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP,
  VIRTIO_LEGACY_ADMIN_CMD_BITMAP,
} from './admin-vq.js';
import { hasFeature, isVirtioPciDevice, VIRTIO_PCI_DRIVER_NAME, type VirtioPciDevice } from './driver.js';

const SRIOV = vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV;
const WR_HDR_BYTES = vadmin.VirtioAdminCmdLegacyWrData.sizeBytes;

const NOTIFY_INFO_BYTES = vadmin.VirtioAdminCmdLegacyNotifyInfoResult.sizeBytes;
const NOTIFY_ENTRY_BYTES = vadmin.VirtioPciLegacyNotifyInfo.sizeBytes;
const OBJ_HDR_BYTES = vadmin.VirtioAdminCmdResourceObjCmdHdr.sizeBytes;
/** struct virtio_admin_cmd_resource_obj_create_data + struct virtio_resource_obj_dev_parts = 24. */
const OBJ_CREATE_BYTES =
  vadmin.VirtioAdminCmdResourceObjCreateData.sizeBytes + vadmin.VirtioResourceObjDevParts.sizeBytes;
const METADATA_DATA_BYTES = vadmin.VirtioAdminCmdDevPartsMetadataData.sizeBytes;
/** sizeof(struct virtio_admin_cmd_dev_parts_metadata_result): the 8-byte union. */
const METADATA_RESULT_BYTES = vadmin.VirtioAdminCmdDevPartsMetadataSize.sizeBytes;
const PARTS_GET_DATA_BYTES = vadmin.VirtioAdminCmdDevPartsGetData.sizeBytes;
const MODE_SET_BYTES = vadmin.VirtioAdminCmdDevModeSetData.sizeBytes;
/** Byte offsets inside the structs above (facts §3.9, §3.11, §3.12). */
const OBJ_HDR_TYPE = 0;
const OBJ_HDR_ID = 4;
const OBJ_CREATE_SPECIFIC = 16;
const DATA_TYPE_AFTER_HDR = 8;
const NOTIFY_ENTRY_FLAGS = 0;
const NOTIFY_ENTRY_BAR = 1;
const NOTIFY_ENTRY_OFFSET = 8;

function putLe(out: Uint8Array, at: number, width: number, value: number): void {
  for (let i = 0; i < width; i++) out[at + i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
}

function le(bytes: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + (bytes[at + i] ?? 0);
  return v;
}

/** The virtio-pci driver object (&virtio_pci_driver), if its module is loaded. */
function virtioPciDriver(k: KernelApi): Driver | undefined {
  return k.core.findDriver('pci', VIRTIO_PCI_DRIVER_NAME);
}

/** virtio_pci_vf_get_pf_dev: the PF's virtio-pci data, or undefined when the lookup is refused. */
export function virtioPciVfGetPfDev(k: KernelApi, vf: Device): VirtioPciDevice | undefined {
  const drv = virtioPciDriver(k);
  if (drv === undefined) return undefined;
  let data: unknown;
  try {
    data = k.pciIovGetPfDrvdata(vf, drv);
  } catch (e) {
    if (e instanceof LabError && e.errno !== undefined) return undefined;
    throw e;
  }
  return isVirtioPciDevice(data) ? data : undefined;
}

/** pci_iov_vf_id: (RID(vf) - (RID(pf) + First VF Offset)) / VF Stride, 0-based. */
export function pciIovVfId(k: KernelApi, vf: Device): number {
  const p = k.pdev(vf);
  const iov = p.physfn?.sriov;
  if (!p.isVirtfn || p.physfn === undefined || iov === undefined || iov.stride === 0) {
    throw errnoError('EINVAL', `${vf.name} is not a VF`);
  }
  return Math.floor((p.rid - (p.physfn.rid + iov.offset)) / iov.stride);
}

/** The PF's admin queue for `vf`, with the checks every API function starts with. */
function pfAdmin(k: KernelApi, vf: Device): { avq: AdminVq; memberId: bigint } {
  const vp = virtioPciVfGetPfDev(k, vf);
  if (vp === undefined) throw errnoError('ENODEV', `${vf.name}: PF is not driven by virtio-pci`);
  const memberId = BigInt(pciIovVfId(k, vf) + 1);
  return { avq: adminQueueOf(vp), memberId };
}

/** vp_modern_admin_cmd_exec's first check: no ADMIN_VQ negotiated, EOPNOTSUPP. */
export function adminQueueOf(vp: VirtioPciDevice): AdminVq {
  const t = vp.transport;
  if (t.kind !== 'modern' || !hasFeature(vp, virtio.VIRTIO_F_ADMIN_VQ) || t.admin === undefined) {
    throw errnoError('EOPNOTSUPP', `${vp.dev.name}: no admin virtqueue`);
  }
  return t.admin;
}

/** The PF's admin queue from the PF's own device (for tools that address the PF directly). */
export function virtioPciPfAdminQueue(pf: Device): AdminVq {
  const vp = pf.driverData;
  if (pf.driver?.name !== VIRTIO_PCI_DRIVER_NAME || !isVirtioPciDevice(vp)) {
    throw errnoError('ENODEV', `${pf.name} is not bound to virtio-pci`);
  }
  return adminQueueOf(vp);
}

// ---- capability checks ----

/** virtio_pci_admin_has_legacy_io: ADMIN_VQ and all of opcodes 2..6 in supported_cmds. */
export function virtioPciAdminHasLegacyIo(k: KernelApi, vf: Device): boolean {
  const vp = virtioPciVfGetPfDev(k, vf);
  if (vp === undefined || vp.transport.kind !== 'modern' || !hasFeature(vp, virtio.VIRTIO_F_ADMIN_VQ))
    return false;
  const cmds = vp.transport.admin?.supportedCmds ?? 0n;
  return (cmds & VIRTIO_LEGACY_ADMIN_CMD_BITMAP) === VIRTIO_LEGACY_ADMIN_CMD_BITMAP;
}

/** virtio_pci_admin_has_dev_parts: ADMIN_VQ, every dev-parts opcode, and a non-zero object limit. */
export function virtioPciAdminHasDevParts(k: KernelApi, vf: Device): boolean {
  const vp = virtioPciVfGetPfDev(k, vf);
  if (vp === undefined || vp.transport.kind !== 'modern' || !hasFeature(vp, virtio.VIRTIO_F_ADMIN_VQ))
    return false;
  const avq = vp.transport.admin;
  if (avq === undefined) return false;
  return (
    (avq.supportedCmds & VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP) === VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP &&
    avq.maxDevPartsObjects > 0
  );
}

// ---- legacy I/O (virtio_pci_admin_legacy_io.c) ----

function legacyWrite(k: KernelApi, vf: Device, opcode: number, offset: number, bytes: Uint8Array): void {
  const { avq, memberId } = pfAdmin(k, vf);
  // struct virtio_admin_cmd_legacy_wr_data + size: {u8 offset; u8 reserved[7]; u8 registers[size]}.
  const data = new Uint8Array(WR_HDR_BYTES + bytes.length);
  data[0] = offset;
  data.set(bytes, WR_HDR_BYTES);
  avq.exec({ opcode, groupType: SRIOV, groupMemberId: memberId, data });
}

function legacyRead(k: KernelApi, vf: Device, opcode: number, offset: number, size: number): Uint8Array {
  const { avq, memberId } = pfAdmin(k, vf);
  // struct virtio_admin_cmd_legacy_rd_data {u8 offset;}; the result buffer is `size` bytes.
  const data = Uint8Array.of(offset);
  return avq.exec({ opcode, groupType: SRIOV, groupMemberId: memberId, data, resultSizeBytes: size }).result;
}

/** virtio_pci_admin_legacy_common_io_write (opcode 0x2). */
export function virtioPciAdminLegacyCommonIoWrite(
  k: KernelApi,
  vf: Device,
  offset: number,
  bytes: Uint8Array,
): void {
  legacyWrite(k, vf, vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_WRITE, offset, bytes);
}

/** virtio_pci_admin_legacy_common_io_read (opcode 0x3). */
export function virtioPciAdminLegacyCommonIoRead(
  k: KernelApi,
  vf: Device,
  offset: number,
  size: number,
): Uint8Array {
  return legacyRead(k, vf, vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_READ, offset, size);
}

/** virtio_pci_admin_legacy_device_io_write (opcode 0x4). */
export function virtioPciAdminLegacyDeviceIoWrite(
  k: KernelApi,
  vf: Device,
  offset: number,
  bytes: Uint8Array,
): void {
  legacyWrite(k, vf, vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_WRITE, offset, bytes);
}

/** virtio_pci_admin_legacy_device_io_read (opcode 0x5). */
export function virtioPciAdminLegacyDeviceIoRead(
  k: KernelApi,
  vf: Device,
  offset: number,
  size: number,
): Uint8Array {
  return legacyRead(k, vf, vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_READ, offset, size);
}

/**
 * virtio_pci_admin_legacy_io_notify_info (opcode 0x6, 64-byte result): the first of the 4 entries,
 * before an END entry, whose flags equal `reqBarFlags`; ENOENT if none.
 */
export function virtioPciAdminLegacyIoNotifyInfo(
  k: KernelApi,
  vf: Device,
  reqBarFlags: number,
): { bar: number; offset: bigint } {
  const { avq, memberId } = pfAdmin(k, vf);
  const out = avq.exec({
    opcode: vadmin.VIRTIO_ADMIN_CMD_LEGACY_NOTIFY_INFO,
    groupType: SRIOV,
    groupMemberId: memberId,
    resultSizeBytes: NOTIFY_INFO_BYTES,
  });
  for (let i = 0; i < vadmin.VIRTIO_ADMIN_CMD_MAX_NOTIFY_INFO; i++) {
    const at = i * NOTIFY_ENTRY_BYTES;
    const flags = out.result[at + NOTIFY_ENTRY_FLAGS]!;
    if (flags === vadmin.VIRTIO_ADMIN_CMD_NOTIFY_INFO_FLAGS_END) break;
    if (flags !== reqBarFlags) continue;
    const lo = BigInt(le(out.result, at + NOTIFY_ENTRY_OFFSET, 4));
    const hi = BigInt(le(out.result, at + NOTIFY_ENTRY_OFFSET + 4, 4));
    return { bar: out.result[at + NOTIFY_ENTRY_BAR]!, offset: (hi << 32n) | lo };
  }
  throw errnoError('ENOENT', `no notify entry with flags ${reqBarFlags}`);
}

// ---- device parts (virtio_pci_modern.c, 6.13+) ----

/**
 * virtio_pci_admin_obj_create: only VIRTIO_RESOURCE_OBJ_DEV_PARTS (else EOPNOTSUPP), operation GET
 * or SET (else EINVAL); the id comes from the PF-wide IDA [0, max_dev_parts_objects - 1] (ENOSPC when
 * none is free) and goes back if the command fails. Data: 24 bytes {hdr{type, 0, id}, flags 0, {type}}.
 */
export function virtioPciAdminObjCreate(
  k: KernelApi,
  vf: Device,
  objType: number,
  operationType: number,
): number {
  const { avq, memberId } = pfAdmin(k, vf);
  if (objType !== vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS)
    throw errnoError('EOPNOTSUPP', `object type ${objType}`);
  if (
    operationType !== vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_GET &&
    operationType !== vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_SET
  ) {
    throw errnoError('EINVAL', `dev parts operation type ${operationType}`);
  }
  let id = 0;
  while (id < avq.maxDevPartsObjects && avq.devPartsIds.has(id)) id++;
  if (id >= avq.maxDevPartsObjects) throw errnoError('ENOSPC', 'no dev parts object id free');
  avq.devPartsIds.add(id);
  const data = new Uint8Array(OBJ_CREATE_BYTES);
  putLe(data, OBJ_HDR_TYPE, 2, objType);
  putLe(data, OBJ_HDR_ID, 4, id);
  data[OBJ_CREATE_SPECIFIC] = operationType;
  try {
    avq.exec({
      opcode: vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_CREATE,
      groupType: SRIOV,
      groupMemberId: memberId,
      data,
    });
  } catch (e) {
    avq.devPartsIds.delete(id);
    throw e;
  }
  return id;
}

/** virtio_pci_admin_obj_destroy: 8-byte hdr; only DEV_PARTS (else EINVAL); the id is freed on success. */
export function virtioPciAdminObjDestroy(k: KernelApi, vf: Device, objType: number, id: number): void {
  const { avq, memberId } = pfAdmin(k, vf);
  if (objType !== vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS) throw errnoError('EINVAL', `object type ${objType}`);
  const data = new Uint8Array(OBJ_HDR_BYTES);
  putLe(data, OBJ_HDR_TYPE, 2, objType);
  putLe(data, OBJ_HDR_ID, 4, id);
  avq.exec({
    opcode: vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_DESTROY,
    groupType: SRIOV,
    groupMemberId: memberId,
    data,
  });
  avq.devPartsIds.delete(id);
}

/** virtio_pci_admin_dev_parts_metadata_get: SIZE only (else EOPNOTSUPP); 16-byte data, 8-byte result. */
export function virtioPciAdminDevPartsMetadataGet(
  k: KernelApi,
  vf: Device,
  objType: number,
  id: number,
  metadataType: number,
): number {
  const { avq, memberId } = pfAdmin(k, vf);
  if (metadataType !== vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_SIZE) {
    throw errnoError('EOPNOTSUPP', `metadata type ${metadataType}`);
  }
  const data = new Uint8Array(METADATA_DATA_BYTES);
  putLe(data, OBJ_HDR_TYPE, 2, objType);
  putLe(data, OBJ_HDR_ID, 4, id);
  data[DATA_TYPE_AFTER_HDR] = metadataType;
  const out = avq.exec({
    opcode: vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_GET,
    groupType: SRIOV,
    groupMemberId: memberId,
    data,
    resultSizeBytes: METADATA_RESULT_BYTES,
  });
  return le(out.result, 0, 4);
}

/**
 * virtio_pci_admin_dev_parts_get: ALL only (else EOPNOTSUPP); 16-byte data; the result goes into a
 * buffer of `resultSizeBytes`; returns the bytes the device wrote (used length - 8) and the buffer.
 */
export function virtioPciAdminDevPartsGet(
  k: KernelApi,
  vf: Device,
  objType: number,
  id: number,
  getType: number,
  resultSizeBytes: number,
): { parts: Uint8Array; resSizeBytes: number } {
  const { avq, memberId } = pfAdmin(k, vf);
  if (getType !== vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET_TYPE_ALL)
    throw errnoError('EOPNOTSUPP', `get type ${getType}`);
  const data = new Uint8Array(PARTS_GET_DATA_BYTES);
  putLe(data, OBJ_HDR_TYPE, 2, objType);
  putLe(data, OBJ_HDR_ID, 4, id);
  data[DATA_TYPE_AFTER_HDR] = getType;
  const out: AdminCmdOutcome = avq.exec({
    opcode: vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET,
    groupType: SRIOV,
    groupMemberId: memberId,
    data,
    resultSizeBytes,
  });
  return {
    parts: out.result.subarray(0, Math.min(out.resultSizeBytes, out.result.length)),
    resSizeBytes: out.resultSizeBytes,
  };
}

/** virtio_pci_admin_dev_parts_set: `data` already starts with the 8-byte object header. */
export function virtioPciAdminDevPartsSet(k: KernelApi, vf: Device, data: Uint8Array): void {
  const { avq, memberId } = pfAdmin(k, vf);
  avq.exec({
    opcode: vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_SET,
    groupType: SRIOV,
    groupMemberId: memberId,
    data,
  });
}

/** virtio_pci_admin_mode_set: 1-byte data {flags} (bit 0 = stopped). */
export function virtioPciAdminModeSet(k: KernelApi, vf: Device, flags: number): void {
  const { avq, memberId } = pfAdmin(k, vf);
  const data = new Uint8Array(MODE_SET_BYTES);
  data[0] = flags;
  avq.exec({ opcode: vadmin.VIRTIO_ADMIN_CMD_DEV_MODE_SET, groupType: SRIOV, groupMemberId: memberId, data });
}
