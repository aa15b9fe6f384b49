/**
 * The PF's admin virtqueue as Linux's virtio_pci_modern.c runs it (facts/virtio.md §3.1, §3.2, §5.1):
 * vp_modern_admin_cmd_exec builds one descriptor chain per command — out: the 24-byte header, then
 * the command data if any; in: the 8-byte status, then the result buffer if any — after the local
 * checks (ADMIN_VQ negotiated, else EOPNOTSUPP; the opcode is LIST_QUERY, LIST_USE or in
 * supported_cmds, else EOPNOTSUPP), adds it, kicks, and waits for completion. A status other than OK
 * becomes -status (the status values are Linux errno numbers), logged with the qualifier.
 *
 * Waiting: the queue's MSI-X vector runs vp_modern_avq_done (take every used buffer, mark its command
 * done). Without a vector the driver polls the used ring, as the 6.8 implementation did.
 * SPEC-DEVIATION: Linux waits (wait_for_completion) until the device answers; the model runs devices
 * synchronously, so a command still outstanding after the kick and one poll never completes and is
 * failed with EIO (as vp_modern_avq_cleanup fails in-flight commands at reset).
 * Buffers: each command's header, data, status and result live in one DMA-coherent allocation (Linux
 * kmallocs them separately); the device sees the same segments and lengths.
 */
import { errnoError, LabError } from '../../../base/index.js';
import { buildAdminCommandRaw, qualifierName, statusName } from '../../../hw/virtio/index.js';
import { Errno, type ErrnoName, vadmin } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { HostVq } from './vq.js';

const STATUS_BYTES = vadmin.VirtioAdminCmdStatus.sizeBytes;
const HDR_BYTES = vadmin.VirtioAdminCmdHdr.sizeBytes;
const SEGMENT_ALIGN = 8;
/** Largest opcode with a bit in the one-word supported_cmds. */
const SUPPORTED_CMDS_BITS = 64;

/** One command as the in-kernel callers describe it (struct virtio_admin_cmd). */
export interface AdminCmd {
  readonly opcode: number;
  readonly groupType: number;
  readonly groupMemberId: bigint;
  /** command_specific_data (data_sg), or none. */
  readonly data?: Uint8Array;
  /** Size of the result buffer (result_sg), 0 or absent for none. */
  readonly resultSizeBytes?: number;
}

/** What the device answered. */
export interface AdminCmdOutcome {
  readonly status: number;
  readonly statusQualifier: number;
  /** The result buffer as the driver sees it after completion (bytes past the used length are zero). */
  readonly result: Uint8Array;
  /** Used length minus the status header (Linux's result_sg_size), 0 if shorter. */
  readonly resultSizeBytes: number;
}

interface Pending {
  done: boolean;
  usedLenBytes: number;
}

const alignUp = (n: number): number => Math.ceil(n / SEGMENT_ALIGN) * SEGMENT_ALIGN;

export function errnoNameOf(value: number): ErrnoName | undefined {
  return (Object.keys(Errno) as ErrnoName[]).find((n) => Errno[n] === value);
}

export class AdminVq {
  readonly vq: HostVq<Pending>;
  readonly #k: KernelApi;
  readonly #dev: Device;
  /** The LIST_USE result (admin_vq.supported_cmds); 0 until the list init ran. */
  supportedCmds = 0n;
  /** CAP_ID_LIST_QUERY's first word (admin_vq.supported_caps). */
  supportedCaps = 0n;
  /** DRIVER_CAP_SET's limit for dev-parts objects (admin_vq.max_dev_parts_objects). */
  maxDevPartsObjects = 0;
  /** The PF-wide IDA of dev-parts object ids in use. */
  readonly devPartsIds = new Set<number>();
  #broken = false;

  constructor(k: KernelApi, dev: Device, vq: HostVq<Pending>) {
    this.#k = k;
    this.#dev = dev;
    this.vq = vq;
  }

  /** vp_modern_avq_done: take every used buffer and complete its command. */
  onInterrupt(): void {
    this.#drain();
  }

  /** vp_modern_avq_cleanup at reset: fail whatever is in flight; the queue is unusable until re-setup. */
  cleanup(): void {
    this.#broken = true;
  }

  /**
   * vp_modern_admin_cmd_exec, with the supported_cmds check of virtqueue_exec_admin_cmd. Throws the
   * errno Linux returns: EOPNOTSUPP for a refused opcode, EIO for a broken queue, -status for a device
   * error. `execRaw` is the same without mapping a device status to an error.
   */
  exec(cmd: AdminCmd): AdminCmdOutcome {
    const out = this.execRaw(cmd);
    if (out.status !== vadmin.VIRTIO_ADMIN_STATUS_OK) {
      this.#k.log.err(
        `virtio_pci ${this.#dev.name}: admin command error: status(${hex(out.status)}) qualifier(${hex(out.statusQualifier)})`,
      );
      const name = errnoNameOf(out.status) ?? 'EINVAL';
      throw errnoError(
        name,
        `admin opcode ${hex(cmd.opcode)}: ${statusName(out.status)}/${qualifierName(out.statusQualifier)}`,
      );
    }
    return out;
  }

  /**
   * `unchecked` skips the supported_cmds check (a debugging tool's choice, not Linux's: it lets a
   * device developer see how the device answers an opcode the driver did not enable).
   */
  execRaw(cmd: AdminCmd, options: { readonly unchecked?: boolean } = {}): AdminCmdOutcome {
    if (options.unchecked !== true && !this.isAllowed(cmd.opcode)) {
      throw errnoError('EOPNOTSUPP', `admin opcode ${hex(cmd.opcode)} is not in supported_cmds`);
    }
    if (this.#broken || this.vq.driver.broken !== undefined) {
      throw errnoError('EIO', 'admin virtqueue is broken');
    }
    const data = cmd.data ?? new Uint8Array(0);
    const resultSize = cmd.resultSizeBytes ?? 0;
    const header = buildAdminCommandRaw(
      { opcode: cmd.opcode, groupType: cmd.groupType, groupMemberId: cmd.groupMemberId },
      new Uint8Array(0),
    );
    const dataAt = alignUp(HDR_BYTES);
    const statusAt = alignUp(dataAt + data.length);
    const resultAt = alignUp(statusAt + STATUS_BYTES);
    const buf = this.#k.dmaAllocCoherent(this.#dev, resultAt + Math.max(resultSize, 1));
    try {
      const base = buf.iova;
      this.#k.ram.write(base, header);
      if (data.length > 0) this.#k.ram.write(base + BigInt(dataAt), data);
      const outSegs = [{ addr: base, len: HDR_BYTES }];
      if (data.length > 0) outSegs.push({ addr: base + BigInt(dataAt), len: data.length });
      const inSegs = [{ addr: base + BigInt(statusAt), len: STATUS_BYTES }];
      if (resultSize > 0) inSegs.push({ addr: base + BigInt(resultAt), len: resultSize });
      const pending: Pending = { done: false, usedLenBytes: 0 };
      this.vq.driver.add(outSegs, inSegs, pending);
      this.vq.kick();
      if (!pending.done) this.#drain();
      if (!pending.done) {
        this.#k.log.err(`virtio_pci ${this.#dev.name}: admin command ${hex(cmd.opcode)} did not complete`);
        this.cleanup();
        throw errnoError('EIO', `admin opcode ${hex(cmd.opcode)} did not complete`);
      }
      const statusBytes = this.#k.ram.read(base + BigInt(statusAt), STATUS_BYTES);
      const status = statusBytes[0]! | (statusBytes[1]! << 8);
      const statusQualifier = statusBytes[2]! | (statusBytes[3]! << 8);
      const result =
        resultSize > 0 ? this.#k.ram.read(base + BigInt(resultAt), resultSize) : new Uint8Array(0);
      const resultSizeBytes = Math.max(0, pending.usedLenBytes - STATUS_BYTES);
      // The driver treats bytes past the used length as zero (admin.tex).
      result.fill(0, Math.min(resultSizeBytes, result.length));
      return { status, statusQualifier, result, resultSizeBytes };
    } finally {
      this.#k.dmaFreeCoherent(this.#dev, buf);
    }
  }

  /** The local opcode check: LIST_QUERY and LIST_USE always, others only with their supported_cmds bit. */
  isAllowed(opcode: number): boolean {
    if (opcode === vadmin.VIRTIO_ADMIN_CMD_LIST_QUERY || opcode === vadmin.VIRTIO_ADMIN_CMD_LIST_USE)
      return true;
    return opcode < SUPPORTED_CMDS_BITS && ((this.supportedCmds >> BigInt(opcode)) & 1n) === 1n;
  }

  #drain(): void {
    for (;;) {
      const used = this.vq.driver.getUsed();
      if (used === undefined) return;
      used.token.done = true;
      used.token.usedLenBytes = used.len;
    }
  }
}

/** printk's %#x: 0 prints as "0", others with a 0x prefix. */
function hex(n: number): string {
  if (!Number.isInteger(n)) throw new LabError('internal', `not an integer: ${n}`);
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

const opcodeBits = (ops: readonly number[]): bigint => ops.reduce((acc, op) => acc | (1n << BigInt(op)), 0n);

/** VIRTIO_LEGACY_ADMIN_CMD_BITMAP (virtio_pci_common.h): opcodes 2..6 = 0x7C. */
export const VIRTIO_LEGACY_ADMIN_CMD_BITMAP = opcodeBits([
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_WRITE,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_COMMON_CFG_READ,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_WRITE,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_DEV_CFG_READ,
  vadmin.VIRTIO_ADMIN_CMD_LEGACY_NOTIFY_INFO,
]);

/** VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP (6.13+): opcodes 7,8,9,10,13,14,15,16,17 = 0x3E780. */
export const VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP = opcodeBits([
  vadmin.VIRTIO_ADMIN_CMD_CAP_ID_LIST_QUERY,
  vadmin.VIRTIO_ADMIN_CMD_DEVICE_CAP_GET,
  vadmin.VIRTIO_ADMIN_CMD_DRIVER_CAP_SET,
  vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_CREATE,
  vadmin.VIRTIO_ADMIN_CMD_RESOURCE_OBJ_DESTROY,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_GET,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET,
  vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_SET,
  vadmin.VIRTIO_ADMIN_CMD_DEV_MODE_SET,
]);

/** VIRTIO_ADMIN_CMD_BITMAP with CONFIG_VIRTIO_PCI_ADMIN_LEGACY (x86): both sets, without 0 and 1. */
export const VIRTIO_ADMIN_CMD_BITMAP = VIRTIO_LEGACY_ADMIN_CMD_BITMAP | VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP;

const LE64_BYTES = 8;

function le64(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = LE64_BYTES - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] ?? 0);
  return v;
}

function le64Bytes(v: bigint): Uint8Array {
  const out = new Uint8Array(LE64_BYTES);
  for (let i = 0; i < LE64_BYTES; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/**
 * virtio_pci_admin_cmd_list_init: LIST_QUERY on the SR-IOV group with a one-word result, AND it
 * with VIRTIO_ADMIN_CMD_BITMAP, LIST_USE with that word, and keep it as supported_cmds. Errors end
 * the init silently (Linux's function is void); supported_cmds then stays 0.
 */
export function adminCmdListInit(avq: AdminVq): void {
  const target = { groupType: vadmin.VIRTIO_ADMIN_GROUP_TYPE_SRIOV, groupMemberId: 0n };
  try {
    const query = avq.exec({
      opcode: vadmin.VIRTIO_ADMIN_CMD_LIST_QUERY,
      ...target,
      resultSizeBytes: LE64_BYTES,
    });
    const use = le64(query.result) & VIRTIO_ADMIN_CMD_BITMAP;
    avq.exec({ opcode: vadmin.VIRTIO_ADMIN_CMD_LIST_USE, ...target, data: le64Bytes(use) });
    avq.supportedCmds = use;
  } catch (e) {
    if (!(e instanceof LabError) || e.errno === undefined) throw e;
  }
}

/**
 * virtio_pci_admin_cmd_cap_init (6.13+): CAP_ID_LIST_QUERY on Self (8-byte result); with
 * VIRTIO_DEV_PARTS_CAP set, virtio_pci_admin_cmd_dev_parts_objects_enable: DEVICE_CAP_GET (data
 * {id 0, reserved[6]}, 2-byte result), then DRIVER_CAP_SET (data {id 0, reserved[6], {limit,
 * limit}}, limit = min(get, set): object ids are PF-wide), then max_dev_parts_objects = limit.
 */
export function adminCmdCapInit(avq: AdminVq): void {
  const self = { groupType: vadmin.VIRTIO_ADMIN_GROUP_TYPE_SELF, groupMemberId: 0n };
  try {
    const caps = avq.exec({
      opcode: vadmin.VIRTIO_ADMIN_CMD_CAP_ID_LIST_QUERY,
      ...self,
      resultSizeBytes: LE64_BYTES,
    });
    avq.supportedCaps = le64(caps.result);
    if (((avq.supportedCaps >> BigInt(vadmin.VIRTIO_DEV_PARTS_CAP)) & 1n) === 0n) return;
    const getData = new Uint8Array(vadmin.VirtioAdminCmdCapGetData.sizeBytes);
    getData[0] = vadmin.VIRTIO_DEV_PARTS_CAP & 0xff;
    getData[1] = vadmin.VIRTIO_DEV_PARTS_CAP >> 8;
    const got = avq.exec({
      opcode: vadmin.VIRTIO_ADMIN_CMD_DEVICE_CAP_GET,
      ...self,
      data: getData,
      resultSizeBytes: vadmin.VirtioDevPartsCap.sizeBytes,
    });
    const limit = Math.min(got.result[0]!, got.result[1]!);
    const setData = new Uint8Array(
      vadmin.VirtioAdminCmdCapSetData.sizeBytes + vadmin.VirtioDevPartsCap.sizeBytes,
    );
    setData.set(getData.subarray(0, 2));
    setData[vadmin.VirtioAdminCmdCapSetData.sizeBytes] = limit;
    setData[vadmin.VirtioAdminCmdCapSetData.sizeBytes + 1] = limit;
    avq.exec({ opcode: vadmin.VIRTIO_ADMIN_CMD_DRIVER_CAP_SET, ...self, data: setData });
    avq.devPartsIds.clear();
    avq.maxDevPartsObjects = limit;
  } catch (e) {
    if (!(e instanceof LabError) || e.errno === undefined) throw e;
  }
}
