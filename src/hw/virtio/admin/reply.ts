/**
 * What an admin command handler answers: the whole device-writable part it would write with room to
 * spare (status header, then the result). The engine cuts it to the driver's buffer (admin.tex length
 * rules; facts/virtio.md §3.2). Handlers validate everything before they change any state, so an
 * EINVAL reply never has a side effect (admin.tex: "EINVAL MUST have no side effects").
 *
 * Decision (UNVERIFIED; the spec pairs qualifiers with EINVAL and says only that OK carries Q_OK): a
 * failure other than EINVAL carries Q_NORESOURCE when resources ran out (ENOSPC, ENOMEM) and Q_OK
 * otherwise (ENXIO, EEXIST, EBUSY). Linux only logs the qualifier.
 */
import { vadmin } from '../../../spec/index.js';
import { buildAdminError } from '../admin-wire.js';

/** EINVAL with a qualifier. */
export function invalid(statusQualifier: number): Uint8Array {
  return buildAdminError(vadmin.VIRTIO_ADMIN_STATUS_EINVAL, statusQualifier);
}

/** EINVAL / INVALID_FIELD: a field of command_specific_data is invalid. */
export function invalidField(): Uint8Array {
  return invalid(vadmin.VIRTIO_ADMIN_STATUS_Q_INVALID_FIELD);
}

/** ENXIO: no such capability or resource object. */
export function noSuchResource(): Uint8Array {
  return buildAdminError(vadmin.VIRTIO_ADMIN_STATUS_ENXIO, vadmin.VIRTIO_ADMIN_STATUS_Q_OK);
}

/** EEXIST: the resource object already exists. */
export function alreadyExists(): Uint8Array {
  return buildAdminError(vadmin.VIRTIO_ADMIN_STATUS_EEXIST, vadmin.VIRTIO_ADMIN_STATUS_Q_OK);
}

/** EBUSY: objects still depend on what the command would change. */
export function busy(): Uint8Array {
  return buildAdminError(vadmin.VIRTIO_ADMIN_STATUS_EBUSY, vadmin.VIRTIO_ADMIN_STATUS_Q_OK);
}

/** ENOSPC: a resource object could not be created. */
export function noSpace(): Uint8Array {
  return buildAdminError(vadmin.VIRTIO_ADMIN_STATUS_ENOSPC, vadmin.VIRTIO_ADMIN_STATUS_Q_NORESOURCE);
}

/** ENOMEM: insufficient resources, or (METADATA_GET) a result buffer too small for the result. */
export function noMemory(): Uint8Array {
  return buildAdminError(vadmin.VIRTIO_ADMIN_STATUS_ENOMEM, vadmin.VIRTIO_ADMIN_STATUS_Q_NORESOURCE);
}
