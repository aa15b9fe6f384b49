/**
 * VFIO_DEVICE_FEATURE dispatch (drivers/vfio/vfio_main.c vfio_ioctl_device_feature and
 * vfio_check_feature; facts/kernel.md 1.6).
 *
 * The core checks the header (argsz >= 8, no unknown flag bits, not GET and SET together without
 * PROBE), then the driver's hook looks the feature index up; an unknown index is ENOTTY. Each handler
 * declares the operations it supports and the payload size it needs, and the dispatcher applies
 * vfio_check_feature for it: requested GET/SET not a subset of the supported ones → EINVAL; PROBE →
 * 0 with nothing transferred; neither GET nor SET → EINVAL; payload shorter than the minimum → EINVAL.
 * Then the handler runs on the payload in place (the bytes after the 8-byte header, as a view of the
 * caller's buffer: what it writes there is what copy_to_user would have written, even when it fails).
 */
import { decodeStruct, encodeStruct, errnoError } from '../../../base/index.js';
import { vfio } from '../../../spec/index.js';

const HEADER_BYTES = vfio.VfioDeviceFeature.sizeBytes;
const KNOWN_FLAGS =
  vfio.VFIO_DEVICE_FEATURE_MASK |
  vfio.VFIO_DEVICE_FEATURE_GET |
  vfio.VFIO_DEVICE_FEATURE_SET |
  vfio.VFIO_DEVICE_FEATURE_PROBE;

/** What a feature handler learns about the call besides its payload. */
export interface VfioFeatureContext {
  /** Install a file (a migration data fd) in the caller's fd table; returns its number. */
  installFd(file: unknown): number;
}

/**
 * One feature of one device (the body of a driver's `device_feature` case). `get` and `set` work on
 * `payload` in place; they throw an errno error to fail.
 */
export interface VfioFeatureHandler {
  /** VFIO_DEVICE_FEATURE_GET and/or VFIO_DEVICE_FEATURE_SET (the supported_ops of vfio_check_feature). */
  readonly ops: number;
  /** The minsz of vfio_check_feature: payload bytes the handler needs. */
  readonly minPayloadBytes: number;
  get?(payload: Uint8Array, ctx: VfioFeatureContext): void;
  set?(payload: Uint8Array, ctx: VfioFeatureContext): void;
}

/** Feature handlers of one device, by feature index (VFIO_DEVICE_FEATURE_*). */
export type VfioFeatureHandlers = ReadonlyMap<number, VfioFeatureHandler>;

/**
 * Run VFIO_DEVICE_FEATURE on `arg` (struct vfio_device_feature + payload). `handlers` undefined means
 * the driver has no device_feature hook (EINVAL); every vfio-pci driver has one.
 */
export function dispatchDeviceFeature(
  arg: Uint8Array,
  handlers: VfioFeatureHandlers | undefined,
  ctx: VfioFeatureContext,
): void {
  if (arg.length < HEADER_BYTES) throw errnoError('EFAULT', 'feature header beyond the buffer');
  const hdr = HEADER_BYTES;
  const { argsz, flags } = decodeStruct(vfio.VfioDeviceFeature, arg.subarray(0, hdr));
  if (argsz < hdr) throw errnoError('EINVAL', `argsz ${argsz} < ${hdr}`);
  if ((flags & ~KNOWN_FLAGS) >>> 0 !== 0) throw errnoError('EINVAL', `unknown flags 0x${flags.toString(16)}`);
  const getSet = vfio.VFIO_DEVICE_FEATURE_GET | vfio.VFIO_DEVICE_FEATURE_SET;
  if ((flags & vfio.VFIO_DEVICE_FEATURE_PROBE) === 0 && (flags & getSet) === getSet) {
    throw errnoError('EINVAL', 'GET and SET together without PROBE');
  }
  if (handlers === undefined) throw errnoError('EINVAL', 'driver has no device_feature');
  const index = flags & vfio.VFIO_DEVICE_FEATURE_MASK;
  const h = handlers.get(index);
  if (h === undefined) throw errnoError('ENOTTY', `feature ${index}`);
  if (checkFeature(flags, argsz - hdr, h.ops, h.minPayloadBytes) === 'probe') return;
  if (arg.length < argsz) throw errnoError('EFAULT', `argsz ${argsz} beyond the ${arg.length}-byte buffer`);
  const payload = arg.subarray(hdr, argsz);
  if ((flags & vfio.VFIO_DEVICE_FEATURE_GET) !== 0) {
    if (h.get === undefined) throw errnoError('EINVAL', `feature ${index}: no GET`);
    h.get(payload, ctx);
  } else {
    if (h.set === undefined) throw errnoError('EINVAL', `feature ${index}: no SET`);
    h.set(payload, ctx);
  }
}

/** The header + payload bytes of a VFIO_DEVICE_FEATURE call (a helper for typed callers). */
export function featureArg(flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeStruct(vfio.VfioDeviceFeature, { argsz: HEADER_BYTES + payload.length, flags, data: payload });
}

/**
 * vfio_check_feature, the one check every feature runs: requested GET/SET not among the supported ones
 * → EINVAL; PROBE → done ('probe'); neither GET nor SET → EINVAL; payload shorter than the feature's
 * struct → EINVAL; otherwise 'proceed'.
 */
export function checkFeature(flags: number, payloadBytes: number, supportedOps: number, minBytes: number) {
  const ops = flags & (vfio.VFIO_DEVICE_FEATURE_GET | vfio.VFIO_DEVICE_FEATURE_SET);
  if ((ops & ~supportedOps) !== 0) throw errnoError('EINVAL', 'operation not supported by the feature');
  if ((flags & vfio.VFIO_DEVICE_FEATURE_PROBE) !== 0) return 'probe' as const;
  if (ops === 0) throw errnoError('EINVAL', 'neither GET nor SET');
  if (payloadBytes < minBytes) throw errnoError('EINVAL', `payload ${payloadBytes} bytes, needs ${minBytes}`);
  return 'proceed' as const;
}
