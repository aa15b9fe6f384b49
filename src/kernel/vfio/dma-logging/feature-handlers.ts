/**
 * DMA logging as VFIO_DEVICE_FEATURE handlers (facts/kernel.md 1.6, 2.1), for the VFIO core to plug in.
 *
 * `dmaLoggingFeatureHandlers(logger, user)` returns a Map from feature index (6 START, 7 STOP, 8 REPORT)
 * to a handler `(flags, payload) => Uint8Array | number`:
 * - the core has already done its own checks (argsz ≥ 8, known flag bits, not GET and SET together)
 *   and passes the whole `flags` word and the payload (the `argsz - 8` bytes after the header);
 * - the handler runs vfio_check_feature itself (GET/SET not supported EINVAL; PROBE succeeds with
 *   nothing transferred; neither GET nor SET EINVAL; payload shorter than the struct EINVAL), then the
 *   feature; it returns the payload to copy back (START writes back the chosen page_size) or a negative
 *   errno. User pointers inside the payload (the range array, the bitmap) go through `user`.
 * A device without DMA logging simply has no such entries: the core's default for an unknown feature
 * is ENOTTY, which is what vfio_main.c returns for a device without log_ops.
 *
 * `dmaLoggingInPlaceHandlers` gives the same three features in the in-place shape of
 * src/kernel/vfio/core/feature.ts (ops, minPayloadBytes, get/set that throw); both share one body per
 * feature, so the two shapes cannot drift.
 *
 * Note: the requested shape was `dmaLoggingFeatureHandlers(logger)`; the user memory of the
 * process that issued the ioctl is a second argument because the payloads carry user pointers.
 */
import { decodeStruct, encodeStruct, errnoError } from '../../../base/index.js';
import { vfio } from '../../../spec/index.js';
import { negativeErrno, type UserMemory } from '../../iommufd/index.js';
import { checkFeature } from '../core/feature.js';
import { checkDmaLoggingReport, type DmaLogger, validateDmaLoggingRanges } from './dma-logger.js';

/** A VFIO_DEVICE_FEATURE handler: the payload to copy back, or a negative errno. */
export type DeviceFeatureHandler = (flags: number, payload: Uint8Array) => Uint8Array | number;

/** vfio_check_feature: 'probe' (return 0), 'proceed', or a negative errno. */
export function vfioCheckFeature(
  flags: number,
  payloadBytes: number,
  supportedOps: number,
  minPayloadBytes: number,
): 'probe' | 'proceed' | number {
  try {
    return checkFeature(flags, payloadBytes, supportedOps, minPayloadBytes);
  } catch (e) {
    return negativeErrno(e);
  }
}

/** One DMA logging feature: its vfio_check_feature parameters and its body (payload in, copy-back out). */
interface LoggingFeature {
  readonly ops: number;
  readonly minPayloadBytes: number;
  readonly run: (payload: Uint8Array) => Uint8Array;
}

const RANGE_BYTES = vfio.VfioDeviceFeatureDmaLoggingRange.sizeBytes;

function loggingFeatures(logger: DmaLogger, user: UserMemory): Map<number, LoggingFeature> {
  const start: LoggingFeature = {
    ops: vfio.VFIO_DEVICE_FEATURE_SET,
    minPayloadBytes: vfio.VfioDeviceFeatureDmaLoggingControl.sizeBytes,
    run: (p) => {
      const control = decodeStruct(vfio.VfioDeviceFeatureDmaLoggingControl, p);
      const ranges = validateDmaLoggingRanges(control.pageSize, control.numRanges, (i) => {
        const r = decodeStruct(
          vfio.VfioDeviceFeatureDmaLoggingRange,
          user.read(control.ranges + BigInt(i * RANGE_BYTES), RANGE_BYTES),
        );
        return { iova: r.iova, lengthBytes: r.length };
      });
      const chosen = logger.start(control.pageSize, ranges);
      const out = p.slice();
      const page = encodeStruct(vfio.VfioDeviceFeatureDmaLoggingControl, { ...control, pageSize: chosen });
      out.set(page.subarray(0, 8));
      return out;
    },
  };
  const stop: LoggingFeature = {
    ops: vfio.VFIO_DEVICE_FEATURE_SET,
    minPayloadBytes: 0,
    run: (p) => {
      logger.stop();
      return p;
    },
  };
  const report: LoggingFeature = {
    ops: vfio.VFIO_DEVICE_FEATURE_GET,
    minPayloadBytes: vfio.VfioDeviceFeatureDmaLoggingReport.sizeBytes,
    run: (p) => {
      const r = decodeStruct(vfio.VfioDeviceFeatureDmaLoggingReport, p);
      checkDmaLoggingReport(r.iova, r.length, r.pageSize);
      if (r.length === 0n) return p;
      // iova_bitmap_alloc pins the user's bitmap before the driver is asked.
      const words = (r.length - 1n) / r.pageSize / 64n + 1n;
      user.read(r.bitmap, 1);
      user.read(r.bitmap + words * 8n - 1n, 1);
      const bitmap = logger.report(r.iova, r.length, r.pageSize);
      if (bitmap === undefined) throw errnoError('EINVAL', 'empty report');
      bitmap.orIntoUser(user, r.bitmap);
      return p;
    },
  };
  return new Map([
    [vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_START, start],
    [vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, stop],
    [vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, report],
  ]);
}

/** The handlers in the `(flags, payload) => payload | -errno` shape described in the file comment. */
export function dmaLoggingFeatureHandlers(
  logger: DmaLogger,
  user: UserMemory,
): ReadonlyMap<number, DeviceFeatureHandler> {
  const out = new Map<number, DeviceFeatureHandler>();
  for (const [index, f] of loggingFeatures(logger, user)) {
    out.set(index, (flags, payload) => {
      const check = vfioCheckFeature(flags, payload.length, f.ops, f.minPayloadBytes);
      if (check === 'probe') return payload;
      if (check !== 'proceed') return check;
      try {
        return f.run(payload);
      } catch (e) {
        return negativeErrno(e);
      }
    });
  }
  return out;
}

/**
 * The same features in the shape src/kernel/vfio/core/feature.ts dispatches (`VfioFeatureHandler`:
 * `ops`, `minPayloadBytes`, and `get`/`set` working on the payload in place, throwing the errno); the
 * dispatcher runs vfio_check_feature itself. Typed structurally so this folder does not depend on the
 * core's.
 */
export interface InPlaceFeatureHandler {
  readonly ops: number;
  readonly minPayloadBytes: number;
  get?(payload: Uint8Array): void;
  set?(payload: Uint8Array): void;
}

export function dmaLoggingInPlaceHandlers(
  logger: DmaLogger,
  user: UserMemory,
): ReadonlyMap<number, InPlaceFeatureHandler> {
  const out = new Map<number, InPlaceFeatureHandler>();
  for (const [index, f] of loggingFeatures(logger, user)) {
    const body = (payload: Uint8Array): void => {
      payload.set(f.run(payload));
    };
    out.set(
      index,
      f.ops === vfio.VFIO_DEVICE_FEATURE_GET
        ? { ops: f.ops, minPayloadBytes: f.minPayloadBytes, get: body }
        : { ops: f.ops, minPayloadBytes: f.minPayloadBytes, set: body },
    );
  }
  return out;
}
