/**
 * The migration data stream of both mnic VFIO drivers (mnic_vfio_pci and vfio_mnic_aux): how the
 * function state SAVE_VHCA_STATE returns travels through the VFIO data fd, and the validating parser
 * the resuming side runs on every write() (facts/kernel.md 1.5: the data is opaque and driver-specific).
 *
 * SPEC-DEVIATION (framing, the drivers' own; mlx5 sends its images with a 16-byte header and no integrity
 * check): a stream is a sequence of records, each a 32-byte header described once below plus payload:
 *
 *   @0  le32 magic     0x46564e4d ("MNVF")
 *   @4  le16 version   1
 *   @6  le16 flags     bit 0 OPTIONAL: a record the reader may skip when it does not know its tag
 *   @8  le32 tag       0 FINAL (the image to load at RESUMING -> STOP), 1 PRECOPY (the image taken
 *                      while running; optional, validated and dropped: firmware has no incremental load)
 *   @12 le32 fn_kind   1 VF, 2 SF, 3 SIOV (where the image came from; informational, firmware decides
 *                      compatibility at load)
 *   @16 le64 length    payload bytes
 *   @24 le32 data_crc  CRC-32 of the payload
 *   @28 le32 hdr_crc   CRC-32 of bytes 0..27
 *
 * Hostile input: every framing fault is EINVAL at the write() that completes the bad piece (bad magic,
 * header CRC, version, fn_kind, length above MNIC_VFIO_MAX_RECORD_BYTES, payload CRC, unknown mandatory
 * tag); after one, the stream is in error and later writes give ENODEV. Nothing reaches the device
 * before RESUMING -> STOP, so a rejected stream leaves the destination function as it was.
 */
import {
  crc32,
  decodeStruct,
  defineStruct,
  encodeStruct,
  errnoError,
  isLabError,
  le16Field,
  le32Field,
  le64Field,
} from '../../../base/index.js';
import type { ErrnoName } from '../../../spec/index.js';
import type { MnicFnKind } from '../mnic/index.js';

export const MNIC_VFIO_STREAM_MAGIC = 0x4656_4e4d;
export const MNIC_VFIO_STREAM_VERSION = 1;
export const MNIC_VFIO_RECORD_OPTIONAL = 1;
export const MNIC_VFIO_TAG_FINAL = 0;
export const MNIC_VFIO_TAG_PRECOPY = 1;
/** Far above any image the NIC's firmware produces; a larger length is a hostile stream. */
export const MNIC_VFIO_MAX_RECORD_BYTES = 16 * 1024 * 1024;

const FN_KIND_CODE: Readonly<Record<MnicFnKind, number>> = { pf: 0, vf: 1, sf: 2, siov: 3 };
const KNOWN_FN_KINDS = new Set([FN_KIND_CODE.vf, FN_KIND_CODE.sf, FN_KIND_CODE.siov]);

/** The record header (one description for encode and decode). */
export const MnicVfioRecordHeader = defineStruct('mnic_vfio_record_header', 32, [
  le32Field('magic', 0),
  le16Field('version', 4),
  le16Field('flags', 6),
  le32Field('tag', 8),
  le32Field('fnKind', 12),
  le64Field('length', 16),
  le32Field('dataCrc', 24),
  le32Field('hdrCrc', 28),
]);
export const MNIC_VFIO_RECORD_HEADER_BYTES = MnicVfioRecordHeader.sizeBytes;

/** One record: header + payload. `fnKind` as the function's kind. */
export function encodeMnicRecord(
  payload: Uint8Array,
  o: { tag: number; fnKind: MnicFnKind; flags?: number },
): Uint8Array {
  const hdr = encodeStruct(MnicVfioRecordHeader, {
    magic: MNIC_VFIO_STREAM_MAGIC,
    version: MNIC_VFIO_STREAM_VERSION,
    flags: o.flags ?? (o.tag === MNIC_VFIO_TAG_PRECOPY ? MNIC_VFIO_RECORD_OPTIONAL : 0),
    tag: o.tag,
    fnKind: FN_KIND_CODE[o.fnKind],
    length: BigInt(payload.length),
    dataCrc: crc32(payload),
    hdrCrc: 0,
  });
  new DataView(hdr.buffer).setUint32(28, crc32(hdr.subarray(0, 28)), true);
  const out = new Uint8Array(hdr.length + payload.length);
  out.set(hdr);
  out.set(payload, hdr.length);
  return out;
}

/** The resuming side's parser: records validated as bytes arrive; the last FINAL image kept. */
export class MnicStreamParser {
  #buf = new Uint8Array(0);
  #error: ErrnoName | undefined;
  #final: Uint8Array | undefined;
  #records = 0;

  /** Take one write()'s bytes. Throws EINVAL on a framing fault (and ENODEV after one). */
  write(data: Uint8Array): void {
    if (this.#error !== undefined) throw errnoError('ENODEV', 'resuming stream in error');
    try {
      this.#take(data);
    } catch (e) {
      if (isLabError(e) && e.errno !== undefined) this.#error = e.errno;
      throw e;
    }
  }

  /** The image to load, or why the stream cannot be loaded (error, partial record, no FINAL image). */
  finish(): { ok: true; image: Uint8Array } | { ok: false; detail: string } {
    if (this.#error !== undefined) return { ok: false, detail: `stream rejected earlier (${this.#error})` };
    if (this.#buf.length > 0) return { ok: false, detail: `${this.#buf.length} bytes of a partial record` };
    if (this.#final === undefined) return { ok: false, detail: 'no FINAL record' };
    return { ok: true, image: this.#final };
  }

  get recordsSeen(): number {
    return this.#records;
  }

  #take(data: Uint8Array): void {
    const joined = new Uint8Array(this.#buf.length + data.length);
    joined.set(this.#buf);
    joined.set(data, this.#buf.length);
    const H = MNIC_VFIO_RECORD_HEADER_BYTES;
    let at = 0;
    while (joined.length - at >= H) {
      const raw = joined.subarray(at, at + H);
      const h = decodeStruct(MnicVfioRecordHeader, raw);
      if (h.magic !== MNIC_VFIO_STREAM_MAGIC) throw errnoError('EINVAL', 'bad record magic');
      if (h.hdrCrc !== crc32(raw.subarray(0, 28))) throw errnoError('EINVAL', 'record header CRC');
      if (h.version !== MNIC_VFIO_STREAM_VERSION) throw errnoError('EINVAL', `stream version ${h.version}`);
      if (!KNOWN_FN_KINDS.has(h.fnKind)) throw errnoError('EINVAL', `function kind ${h.fnKind}`);
      if (h.length > BigInt(MNIC_VFIO_MAX_RECORD_BYTES))
        throw errnoError('EINVAL', `record of ${h.length} bytes`);
      const n = Number(h.length);
      if (joined.length - at < H + n) break;
      const payload = joined.subarray(at + H, at + H + n);
      if (crc32(payload) !== h.dataCrc) throw errnoError('EINVAL', 'record payload CRC');
      if (h.tag === MNIC_VFIO_TAG_FINAL) this.#final = payload.slice();
      else if (h.tag !== MNIC_VFIO_TAG_PRECOPY && (h.flags & MNIC_VFIO_RECORD_OPTIONAL) === 0) {
        throw errnoError('EINVAL', `mandatory record tag ${h.tag}`);
      }
      this.#records++;
      at += H + n;
    }
    this.#buf = joined.slice(at);
  }
}
