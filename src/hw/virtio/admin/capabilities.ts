/**
 * Device and driver capabilities (Self group; admin-cmds-capabilities.tex; facts/virtio.md §3.10). The
 * one capability is VIRTIO_DEV_PARTS_CAP: how many device-parts resource objects of each kind (GET,
 * SET) the device can hold. The driver may only lower the device's limits; until it sets them the
 * driver limits are 0 (no objects), and a device reset returns them to 0.
 *
 * Decision: DRIVER_CAP_SET of VIRTIO_DEV_PARTS_CAP while device-parts objects exist fails EBUSY if it
 * would change the limits (the spec: the driver must not change a capability while its objects exist,
 * and the device SHOULD answer EBUSY when one with live objects is disabled); setting the same limits
 * again succeeds.
 */
import { decodeStruct, encodeStruct, LabError } from '../../../base/index.js';
import { vadmin } from '../../../spec/index.js';
import { buildAdminResult, encodeIdBitmap } from '../admin-wire.js';
import { busy, invalidField, noSuchResource } from './reply.js';

/** VIRTIO_DEV_PARTS_CAP's data: object limits per kind, u8 each. */
export interface DevPartsLimits {
  readonly getLimit: number;
  readonly setLimit: number;
}

/**
 * Decision: the device offers 32 objects of each kind by default. Linux takes min(get, set) as one
 * PF-wide id range for the GET and SET objects of all VFs, so the limit caps concurrent migrations.
 */
export const DEFAULT_DEV_PARTS_LIMITS: DevPartsLimits = Object.freeze({ getLimit: 32, setLimit: 32 });

const U8_MAX = 0xff;
const NO_OBJECTS: DevPartsLimits = Object.freeze({ getLimit: 0, setLimit: 0 });

export function checkDevPartsLimits(limits: DevPartsLimits): DevPartsLimits {
  for (const v of [limits.getLimit, limits.setLimit]) {
    if (!Number.isInteger(v) || v < 0 || v > U8_MAX) {
      throw new LabError('bad-input', `a device-parts object limit is a u8, got ${v}`);
    }
  }
  return Object.freeze({ getLimit: limits.getLimit, setLimit: limits.setLimit });
}

export class Capabilities {
  private driverLimits: DevPartsLimits = NO_OBJECTS;

  constructor(private readonly deviceLimits: DevPartsLimits) {}

  /** The limits the driver set (0 until DRIVER_CAP_SET). */
  get devPartsLimits(): DevPartsLimits {
    return this.driverLimits;
  }

  /** CAP_ID_LIST_QUERY: a bitmap of capability ids, indexed like the opcode list. */
  idListQuery(): Uint8Array {
    return buildAdminResult('cap-id-list-query', {
      supportedCaps: encodeIdBitmap([vadmin.VIRTIO_DEV_PARTS_CAP]),
    });
  }

  /** DEVICE_CAP_GET: the device's limits; ENXIO for an id CAP_ID_LIST_QUERY does not report. */
  deviceCapGet(id: number): Uint8Array {
    if (id !== vadmin.VIRTIO_DEV_PARTS_CAP) return noSuchResource();
    return buildAdminResult('device-cap-get', {
      capSpecificData: encodeStruct(vadmin.VirtioDevPartsCap, {
        getPartsResourceObjectsLimit: this.deviceLimits.getLimit,
        setPartsResourceObjectsLimit: this.deviceLimits.setLimit,
      }),
    });
  }

  /**
   * DRIVER_CAP_SET: `capData` missing bytes read as zero (a 0 limit). Raising a limit above the
   * device's is EINVAL / INVALID_FIELD.
   */
  driverCapSet(id: number, capData: Uint8Array, objectsExist: boolean): Uint8Array {
    if (id !== vadmin.VIRTIO_DEV_PARTS_CAP) return noSuchResource();
    const cap = decodeStruct(vadmin.VirtioDevPartsCap, capData, { missing: 'zero' });
    const next = {
      getLimit: cap.getPartsResourceObjectsLimit,
      setLimit: cap.setPartsResourceObjectsLimit,
    };
    if (next.getLimit > this.deviceLimits.getLimit || next.setLimit > this.deviceLimits.setLimit) {
      return invalidField();
    }
    const changes =
      next.getLimit !== this.driverLimits.getLimit || next.setLimit !== this.driverLimits.setLimit;
    if (changes && objectsExist) return busy();
    this.driverLimits = Object.freeze(next);
    return buildAdminResult('driver-cap-set', {});
  }

  reset(): void {
    this.driverLimits = NO_OBJECTS;
  }
}
