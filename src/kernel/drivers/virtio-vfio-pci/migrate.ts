/**
 * virtio_vfio_pci live migration (drivers/vfio/pci/virtio/migrate.c; facts/kernel.md 4.4, 1.5, 1.7):
 * the single arcs of the full flag set (STOP_COPY | P2P | PRE_COPY) carried out with the PF's admin
 * commands, in facts 4.4's order per arc:
 *
 *   RUNNING_P2P <-> STOP                          nothing
 *   RUNNING -> RUNNING_P2P, PRE_COPY -> PRE_COPY_P2P   DEV_MODE_SET(STOPPED)
 *   RUNNING_P2P -> RUNNING, PRE_COPY_P2P -> PRE_COPY   DEV_MODE_SET(0)
 *   STOP -> STOP_COPY                             OBJ_CREATE(GET), METADATA_GET(SIZE) (0 → EINVAL),
 *                                                 DEV_PARTS_GET(ALL); one record queued; complete
 *   RUNNING -> PRE_COPY, RUNNING_P2P -> PRE_COPY_P2P   the same, stream in pre-copy; initial_bytes =
 *                                                 the bytes queued so far
 *   PRE_COPY_P2P -> STOP_COPY                     METADATA_GET(SIZE), DEV_PARTS_GET(ALL): final record
 *   STOP_COPY -> STOP, PRE_COPY -> RUNNING, PRE_COPY_P2P -> RUNNING_P2P, RESUMING -> STOP
 *                                                 session ends: OBJ_DESTROY (the FSM ends the stream,
 *                                                 whose release destroys the object)
 *   STOP -> RESUMING                              OBJ_CREATE(SET); DEV_PARTS_SET per complete record
 *
 * SPEC-DEVIATION (stream framing, the driver's own): Linux's record header is 16 bytes {le64 size,
 * le32 flags, le32 tag} with no version or integrity check. vfiolab's record header is 32 bytes so that
 * a resume can refuse a stream from another format version and detect corruption before anything
 * reaches the device:
 *
 *   @0  le32 magic     0x53465656 ("VVFS")
 *   @4  le16 version   1 (VIRTIO_VFIO_STREAM_VERSION)
 *   @6  le16 flags     bit 0 OPTIONAL (an unknown tag with it is skipped; without it → EOPNOTSUPP)
 *   @8  le32 tag       0 DEVICE_DATA (payload = the raw DEV_PARTS_GET result)
 *   @12 le32 reserved  0
 *   @16 le64 length    payload bytes that follow the header
 *   @24 le32 data_crc  CRC-32 (IEEE) of the payload
 *   @28 le32 hdr_crc   CRC-32 of bytes 0..27
 *
 * Resume validation, as each write() arrives (any failure puts the stream in ERROR; later writes give
 * ENODEV): bad magic or header CRC → EINVAL; version other than 1 → EOPNOTSUPP; length above
 * VIRTIO_VFIO_MAX_RECORD_BYTES (16 MiB) → ENOMEM (Linux: record_size > U32_MAX → ENOMEM); payload CRC
 * mismatch → EINVAL (nothing of that record is applied); unknown mandatory tag → EOPNOTSUPP. At
 * RESUMING -> STOP: a stream in ERROR, a partial record (truncated), or no DEVICE_DATA applied at all
 * → the arc fails with EINVAL and the device goes to ERROR (its state may be partly loaded); a
 * VFIO_DEVICE_RESET brings it back to RUNNING.
 *
 * Left out: the deferred_reset lock dance (single-threaded model); chunked DEV_PARTS_GET for devices
 * whose state exceeds one command.
 */
import { crc32, errnoError, isLabError, type VirtualClock } from '../../../base/index.js';
import type { ErrnoName } from '../../../spec/index.js';
import { vadmin, vfio } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import {
  type ArcResult,
  ChunkQueue,
  type MigrationDriver,
  type ResumingSink,
  type SavingSource,
} from '../../vfio/migration/index.js';
import {
  virtioPciAdminDevPartsGet,
  virtioPciAdminDevPartsMetadataGet,
  virtioPciAdminDevPartsSet,
  virtioPciAdminModeSet,
  virtioPciAdminObjCreate,
  virtioPciAdminObjDestroy,
} from '../virtio-pci/admin-api.js';

type State = vfio.VfioDeviceMigState;

export const VIRTIO_VFIO_STREAM_MAGIC = 0x5346_5656;
export const VIRTIO_VFIO_STREAM_VERSION = 1;
export const VIRTIO_VFIO_RECORD_HEADER_BYTES = 32;
export const VIRTIO_VFIO_RECORD_OPTIONAL = 1;
export const VIRTIO_VFIO_TAG_DEVICE_DATA = 0;
export const VIRTIO_VFIO_MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** The PRE_COPY METADATA_GET rate limit (one per second, modeled time). */
const PRECOPY_SIZE_INTERVAL_NS = 1_000_000_000;

const OBJ = vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS;
const MODE_STOPPED = 1 << vadmin.VIRTIO_ADMIN_CMD_DEV_MODE_F_STOPPED;
const { STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P } = {
  STOP: vfio.VFIO_DEVICE_STATE_STOP,
  RUNNING: vfio.VFIO_DEVICE_STATE_RUNNING,
  STOP_COPY: vfio.VFIO_DEVICE_STATE_STOP_COPY,
  RESUMING: vfio.VFIO_DEVICE_STATE_RESUMING,
  RUNNING_P2P: vfio.VFIO_DEVICE_STATE_RUNNING_P2P,
  PRE_COPY: vfio.VFIO_DEVICE_STATE_PRE_COPY,
  PRE_COPY_P2P: vfio.VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

/** One record: header + payload. */
export function encodeRecord(payload: Uint8Array, tag = VIRTIO_VFIO_TAG_DEVICE_DATA, flags = 0): Uint8Array {
  const out = new Uint8Array(VIRTIO_VFIO_RECORD_HEADER_BYTES + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, VIRTIO_VFIO_STREAM_MAGIC, true);
  v.setUint16(4, VIRTIO_VFIO_STREAM_VERSION, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, tag, true);
  v.setBigUint64(16, BigInt(payload.length), true);
  v.setUint32(24, crc32(payload), true);
  v.setUint32(28, crc32(out.subarray(0, 28)), true);
  out.set(payload, VIRTIO_VFIO_RECORD_HEADER_BYTES);
  return out;
}

/** What the migration driver needs. */
export interface VirtioMigrationEnv {
  readonly k: KernelApi;
  readonly vf: Device;
  readonly clock: VirtualClock;
}

const failed = (e: unknown, deviceState: 'unchanged' | 'ERROR' = 'unchanged'): ArcResult => {
  if (isLabError(e) && e.errno !== undefined) return { kind: 'failed', errno: e.errno, deviceState };
  throw e;
};

/** virtiovf migration ops for one VF. */
export class VirtioMigrationDriver implements MigrationDriver {
  readonly flags = vfio.VFIO_MIGRATION_STOP_COPY | vfio.VFIO_MIGRATION_P2P | vfio.VFIO_MIGRATION_PRE_COPY;
  readonly #env: VirtioMigrationEnv;
  #saving: SavingSession | undefined;
  #resuming: ResumingSession | undefined;
  /** The admin commands the arcs sent, in order (opcode names), for tests and tools. */
  readonly commands: string[] = [];

  constructor(env: VirtioMigrationEnv) {
    this.#env = env;
  }

  arc(from: State, to: State): ArcResult {
    try {
      return this.#arc(from, to);
    } catch (e) {
      return failed(e);
    }
  }

  #arc(from: State, to: State): ArcResult {
    const done: ArcResult = { kind: 'done' };
    if ((from === RUNNING_P2P && to === STOP) || (from === STOP && to === RUNNING_P2P)) return done;
    if ((from === RUNNING && to === RUNNING_P2P) || (from === PRE_COPY && to === PRE_COPY_P2P)) {
      this.#modeSet(MODE_STOPPED);
      return done;
    }
    if ((from === RUNNING_P2P && to === RUNNING) || (from === PRE_COPY_P2P && to === PRE_COPY)) {
      this.#modeSet(0);
      return done;
    }
    if (from === STOP && to === STOP_COPY) return { kind: 'saving', source: this.#startSaving(false) };
    if ((from === RUNNING && to === PRE_COPY) || (from === RUNNING_P2P && to === PRE_COPY_P2P)) {
      return { kind: 'saving', source: this.#startSaving(true) };
    }
    if (from === PRE_COPY_P2P && to === STOP_COPY) {
      const s = this.#saving;
      if (s === undefined) throw errnoError('EINVAL', 'no saving session');
      try {
        s.queueChunk();
        s.complete = true;
      } catch (e) {
        s.error = true;
        throw e;
      }
      return done;
    }
    if (
      (from === STOP_COPY && to === STOP) ||
      (from === PRE_COPY && to === RUNNING) ||
      (from === PRE_COPY_P2P && to === RUNNING_P2P)
    ) {
      return done; // the FSM ends the session; SavingSession.release destroys the object
    }
    if (from === STOP && to === RESUMING) {
      this.commands.push('RESOURCE_OBJ_CREATE(SET)');
      const id = virtioPciAdminObjCreate(
        this.#env.k,
        this.#env.vf,
        OBJ,
        vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_SET,
      );
      const r = new ResumingSession(this, id);
      this.#resuming = r;
      return { kind: 'resuming', sink: r };
    }
    if (from === RESUMING && to === STOP) {
      const r = this.#resuming;
      const problem = r?.finish();
      if (problem !== undefined) {
        return { kind: 'failed', errno: problem.errno, deviceState: 'ERROR' };
      }
      return done;
    }
    this.#env.k.log.warn(`WARNING: virtiovf: unexpected arc ${from} -> ${to}`);
    throw errnoError('EINVAL', `arc ${from} -> ${to}`);
  }

  /** migration_get_data_size: the saving object's size, or a temporary GET object's. */
  dataSize(): bigint {
    const s = this.#saving;
    if (s !== undefined && !s.released) return BigInt(this.metadataSize(s.objId));
    const id = this.objCreate(vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_GET);
    try {
      return BigInt(this.metadataSize(id));
    } finally {
      this.objDestroy(id);
    }
  }

  // ---- admin command helpers (recorded) ----

  #modeSet(flags: number): void {
    this.commands.push(`DEV_MODE_SET(${flags})`);
    virtioPciAdminModeSet(this.#env.k, this.#env.vf, flags);
  }

  objCreate(op: number): number {
    this.commands.push(`RESOURCE_OBJ_CREATE(${op === 0 ? 'GET' : 'SET'})`);
    return virtioPciAdminObjCreate(this.#env.k, this.#env.vf, OBJ, op);
  }

  objDestroy(id: number): void {
    this.commands.push('RESOURCE_OBJ_DESTROY');
    virtioPciAdminObjDestroy(this.#env.k, this.#env.vf, OBJ, id);
  }

  metadataSize(id: number): number {
    this.commands.push('DEV_PARTS_METADATA_GET(SIZE)');
    return virtioPciAdminDevPartsMetadataGet(
      this.#env.k,
      this.#env.vf,
      OBJ,
      id,
      vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_SIZE,
    );
  }

  partsGet(id: number, size: number): Uint8Array {
    this.commands.push('DEV_PARTS_GET(ALL)');
    const r = virtioPciAdminDevPartsGet(
      this.#env.k,
      this.#env.vf,
      OBJ,
      id,
      vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_GET_TYPE_ALL,
      size,
    );
    return r.parts.slice();
  }

  partsSet(id: number, parts: Uint8Array): void {
    this.commands.push('DEV_PARTS_SET');
    const data = new Uint8Array(8 + parts.length);
    const v = new DataView(data.buffer);
    v.setUint16(0, OBJ, true);
    v.setUint32(4, id, true);
    data.set(parts, 8);
    virtioPciAdminDevPartsSet(this.#env.k, this.#env.vf, data);
  }

  get nowNs(): number {
    return this.#env.clock.nowNs;
  }

  #startSaving(precopy: boolean): SavingSession {
    const id = this.objCreate(vadmin.VIRTIO_RESOURCE_OBJ_DEV_PARTS_TYPE_GET);
    const s = new SavingSession(this, id, precopy);
    try {
      s.queueChunk();
    } catch (e) {
      s.release();
      throw e;
    }
    s.initialBytes = s.queuedBytes;
    this.#saving = s;
    return s;
  }

  /** A session let go of its object. */
  forget(s: SavingSession | ResumingSession): void {
    if (this.#saving === s) this.#saving = undefined;
    if (this.#resuming === s) this.#resuming = undefined;
  }
}

/** The saving side: records queued as [header + DEV_PARTS_GET result]. */
class SavingSession implements SavingSource {
  readonly #drv: VirtioMigrationDriver;
  readonly objId: number;
  readonly #queue = new ChunkQueue();
  complete: boolean;
  error = false;
  released = false;
  initialBytes = 0;
  #ctxSize = 0;
  #lastSizeNs: number | undefined;

  constructor(drv: VirtioMigrationDriver, objId: number, precopy: boolean) {
    this.#drv = drv;
    this.objId = objId;
    this.complete = !precopy;
  }

  get queuedBytes(): number {
    return this.#queue.pendingBytes;
  }

  /** METADATA_GET(SIZE) (0 → EINVAL) + DEV_PARTS_GET(ALL), queued as one record. */
  queueChunk(): void {
    const size = this.#drv.metadataSize(this.objId);
    if (size === 0) throw errnoError('EINVAL', 'device parts size 0');
    this.#ctxSize = size;
    this.#lastSizeNs = this.#drv.nowNs;
    this.#queue.push(encodeRecord(this.#drv.partsGet(this.objId, size)));
  }

  read(maxBytes: number, inStopCopy: boolean): Uint8Array {
    if (this.error) throw errnoError('ENODEV', 'saving stream in error');
    if (this.#queue.isEmpty && inStopCopy && !this.complete)
      throw errnoError('EINVAL', 'stream not complete');
    return this.#queue.take(maxBytes);
  }

  /** virtiovf_precopy_ioctl. */
  precopyInfo(): { initialBytes: bigint; dirtyBytes: bigint } {
    const pos = this.#queue.readBytes;
    if (pos < this.initialBytes) {
      return { initialBytes: BigInt(this.initialBytes - pos), dirtyBytes: 0n };
    }
    const now = this.#drv.nowNs;
    if (this.#lastSizeNs === undefined || now - this.#lastSizeNs >= PRECOPY_SIZE_INTERVAL_NS) {
      this.#ctxSize = this.#drv.metadataSize(this.objId);
      this.#lastSizeNs = now;
    }
    if (this.queuedBytes === 0 && this.#ctxSize > 0) this.queueChunk();
    return { initialBytes: 0n, dirtyBytes: BigInt(this.queuedBytes + this.#ctxSize) };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.error = true;
    this.#queue.clear();
    this.#drv.forget(this);
    try {
      this.#drv.objDestroy(this.objId);
    } catch (e) {
      if (!(isLabError(e) && e.errno !== undefined)) throw e;
    }
  }
}

/** The resuming side: the record parser and DEV_PARTS_SET per complete DEVICE_DATA record. */
class ResumingSession implements ResumingSink {
  readonly #drv: VirtioMigrationDriver;
  readonly #objId: number;
  /** Bytes of the record being assembled (header, then header + payload). */
  #buf = new Uint8Array(0);
  #error: ErrnoName | undefined;
  #applied = 0;
  #released = false;

  constructor(drv: VirtioMigrationDriver, objId: number) {
    this.#drv = drv;
    this.#objId = objId;
  }

  write(data: Uint8Array): void {
    if (this.#error !== undefined) throw errnoError('ENODEV', 'resuming stream in error');
    try {
      this.#take(data);
    } catch (e) {
      if (isLabError(e) && e.errno !== undefined) this.#error = e.errno;
      throw e;
    }
  }

  #take(data: Uint8Array): void {
    const joined = new Uint8Array(this.#buf.length + data.length);
    joined.set(this.#buf);
    joined.set(data, this.#buf.length);
    let at = 0;
    const H = VIRTIO_VFIO_RECORD_HEADER_BYTES;
    while (joined.length - at >= H) {
      const hdr = joined.subarray(at, at + H);
      const v = new DataView(hdr.buffer, hdr.byteOffset, H);
      if (v.getUint32(0, true) !== VIRTIO_VFIO_STREAM_MAGIC) throw errnoError('EINVAL', 'bad record magic');
      if (v.getUint32(28, true) !== crc32(hdr.subarray(0, 28)))
        throw errnoError('EINVAL', 'record header CRC');
      const version = v.getUint16(4, true);
      if (version !== VIRTIO_VFIO_STREAM_VERSION) throw errnoError('EOPNOTSUPP', `stream version ${version}`);
      const length = v.getBigUint64(16, true);
      if (length > BigInt(VIRTIO_VFIO_MAX_RECORD_BYTES))
        throw errnoError('ENOMEM', `record of ${length} bytes`);
      const n = Number(length);
      if (joined.length - at < H + n) break;
      const payload = joined.subarray(at + H, at + H + n);
      if (crc32(payload) !== v.getUint32(24, true)) throw errnoError('EINVAL', 'record payload CRC');
      const tag = v.getUint32(8, true);
      const flags = v.getUint16(6, true);
      if (tag === VIRTIO_VFIO_TAG_DEVICE_DATA) {
        this.#drv.partsSet(this.#objId, payload);
        this.#applied++;
      } else if ((flags & VIRTIO_VFIO_RECORD_OPTIONAL) === 0) {
        throw errnoError('EOPNOTSUPP', `mandatory record tag ${tag}`);
      }
      at += H + n;
    }
    this.#buf = joined.slice(at);
  }

  /** RESUMING -> STOP: the errno that fails the arc, if the stream is not a complete valid one. */
  finish(): { errno: ErrnoName } | undefined {
    if (this.#error !== undefined) return { errno: 'EINVAL' };
    if (this.#buf.length > 0) return { errno: 'EINVAL' };
    if (this.#applied === 0) return { errno: 'EINVAL' };
    return undefined;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#buf = new Uint8Array(0);
    this.#drv.forget(this);
    try {
      this.#drv.objDestroy(this.#objId);
    } catch (e) {
      if (!(isLabError(e) && e.errno !== undefined)) throw e;
    }
  }
}
