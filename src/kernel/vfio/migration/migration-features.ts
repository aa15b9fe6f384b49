/**
 * The three migration features of VFIO_DEVICE_FEATURE (facts/kernel.md §1.2, §1.6), encoded and
 * decoded through spec/vfio.ts: MIGRATION (GET), MIG_DEVICE_STATE (GET, SET) and MIG_DATA_SIZE (GET).
 *
 * Contract with the VFIO core's VFIO_DEVICE_FEATURE dispatch: the core does its own checks on the
 * vfio_device_feature header (argsz >= 8, no unknown flag bits, not GET and SET without PROBE), looks
 * the feature index up in this map (absent index: the core's ENOTTY) and calls the handler with the
 * whole `flags` word and the payload (the argsz - 8 bytes after the header). The handler runs
 * vfio_check_feature itself (GET/SET not among the feature's ops -> EINVAL; PROBE -> success with an
 * empty reply; neither GET nor SET -> EINVAL; payload shorter than the struct -> EINVAL).
 * - Success: `payload` is what is copied back to the start of the payload area (empty for PROBE; for
 *   MIG_DEVICE_STATE SET the struct with data_fd = the installed fd or -1), and `fd` is the stream the
 *   handler installed through `ctx.installFd`.
 * - Failure: a thrown LabError with the errno. A failed MIG_DEVICE_STATE SET throws a
 *   VfioFeatureCopyBackError: the kernel copies the struct back (data_fd = -1) and then returns the
 *   errno, so the core must write `copyBack` before failing.
 * A device without mig_ops gets handlers that answer ENOTTY to everything, PROBE included.
 */
import { decodeStruct, encodeStruct, errnoError, LabError } from '../../../base/index.js';
import type { ErrnoName } from '../../../spec/index.js';
import { vfio } from '../../../spec/index.js';
import { checkFeature } from '../core/feature.js';
import { type MigrationFsm, MigrationSetStateError } from './migration-fsm.js';
import type { MigrationStream } from './migration-stream.js';

/** What the core provides to a handler. */
export interface FeatureContext {
  /** get_unused_fd_flags(O_CLOEXEC) + fd_install: the fd number userspace will see. May throw (EMFILE). */
  installFd(stream: MigrationStream): number;
}

export interface FeatureReply {
  /** Bytes copied back to the payload area (vfio_device_feature.data). Empty: nothing copied. */
  readonly payload: Uint8Array;
  /** The data fd installed for a MIG_DEVICE_STATE SET whose last arc started a session. */
  readonly fd: MigrationStream | undefined;
}

export type FeatureHandler = (flags: number, payload: Uint8Array, ctx: FeatureContext) => FeatureReply;

/** A failure after which the kernel has already copied `copyBack` to the payload area. */
export class VfioFeatureCopyBackError extends LabError {
  readonly copyBack: Uint8Array;
  constructor(errno: ErrnoName, message: string, copyBack: Uint8Array, cause: unknown) {
    super('errno', message, { errno, cause });
    this.name = 'VfioFeatureCopyBackError';
    this.copyBack = copyBack;
  }
}

const GET = vfio.VFIO_DEVICE_FEATURE_GET;
const SET = vfio.VFIO_DEVICE_FEATURE_SET;
const NOTHING: FeatureReply = { payload: new Uint8Array(0), fd: undefined };

/** The handlers for the three migration feature ids; `fsm` undefined = a device without mig_ops. */
export function migrationFeatureHandlers(fsm: MigrationFsm | undefined): Map<number, FeatureHandler> {
  if (fsm === undefined) {
    const enotty: FeatureHandler = () => {
      throw errnoError('ENOTTY', 'device has no migration support');
    };
    return new Map([
      [vfio.VFIO_DEVICE_FEATURE_MIGRATION, enotty],
      [vfio.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, enotty],
      [vfio.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, enotty],
    ]);
  }

  const migration: FeatureHandler = (flags, payload) => {
    if (checkFeature(flags, payload.length, GET, vfio.VfioDeviceFeatureMigration.sizeBytes) === 'probe') {
      return NOTHING;
    }
    return {
      payload: encodeStruct(vfio.VfioDeviceFeatureMigration, { flags: BigInt(fsm.flags) }),
      fd: undefined,
    };
  };

  const migDeviceState: FeatureHandler = (flags, payload, ctx) => {
    const size = vfio.VfioDeviceFeatureMigState.sizeBytes;
    if (checkFeature(flags, payload.length, GET | SET, size) === 'probe') return NOTHING;
    if ((flags & GET) !== 0) {
      const reply = { deviceState: fsm.state, dataFd: vfio.VFIO_DATA_FD_NONE_U32 };
      return { payload: encodeStruct(vfio.VfioDeviceFeatureMigState, reply), fd: undefined };
    }
    const { deviceState } = decodeStruct(vfio.VfioDeviceFeatureMigState, payload);
    const noFd = encodeStruct(vfio.VfioDeviceFeatureMigState, {
      deviceState,
      dataFd: vfio.VFIO_DATA_FD_NONE_U32,
    });
    let stream: MigrationStream | undefined;
    try {
      stream = fsm.setState(deviceState).stream;
    } catch (e) {
      if (e instanceof MigrationSetStateError && e.errno !== undefined) {
        throw new VfioFeatureCopyBackError(e.errno, e.message, noFd, e);
      }
      throw e;
    }
    if (stream === undefined) return { payload: noFd, fd: undefined };
    let fd: number;
    try {
      fd = ctx.installFd(stream);
    } catch (e) {
      stream.close(); // fput(filp): the device stays in the new state, the file goes
      throw e;
    }
    return {
      payload: encodeStruct(vfio.VfioDeviceFeatureMigState, { deviceState, dataFd: fd >>> 0 }),
      fd: stream,
    };
  };

  const migDataSize: FeatureHandler = (flags, payload) => {
    const size = vfio.VfioDeviceFeatureMigDataSize.sizeBytes;
    if (checkFeature(flags, payload.length, GET, size) === 'probe') return NOTHING;
    const stopCopyLength = fsm.dataSize();
    return { payload: encodeStruct(vfio.VfioDeviceFeatureMigDataSize, { stopCopyLength }), fd: undefined };
  };

  return new Map([
    [vfio.VFIO_DEVICE_FEATURE_MIGRATION, migration],
    [vfio.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, migDeviceState],
    [vfio.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, migDataSize],
  ]);
}
