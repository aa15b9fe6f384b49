/**
 * The saved state of one mnic function (SAVE_VHCA_STATE / LOAD_VHCA_STATE), its own versioned type
 * (style rule 5): a 32-byte header (magic "MNVS", version 1, header and payload sizes, CRC-32 of the
 * payload, flags: final image, the source function's kind) and the v1 payload (MAC, caps, context area,
 * counters). Layouts in spec/mnic-fw.ts.
 *
 * Saving reads the function and never changes it. Loading is untrusted: every header and payload field
 * is checked (magic, version, sizes, CRC, reserved bytes zero, known caps bits, a unicast MAC through
 * the same check SET_FN_HW_ADDR uses) before anything is applied, so a rejected image leaves the
 * function exactly as it was. Left out: incremental (dirty-only) images; every image is whole.
 */
import { crc32, decodeStruct, encodeStruct, nonZeroReserved } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import { FN_KIND_NUMBER, type MnicFunction } from './mnic-function.js';

export interface MnicSavedState {
  readonly version: 1;
  readonly final: boolean;
  readonly kind: number;
  readonly mac: Uint8Array;
  readonly caps: number;
  readonly context: Uint8Array;
  readonly counters: { rxPackets: bigint; rxBytes: bigint; txPackets: bigint; txBytes: bigint };
}

export type LoadResult =
  | { readonly ok: true; readonly state: MnicSavedState }
  | { readonly ok: false; readonly syndrome: number; readonly why: string };

/** A MAC a function may have: not multicast (bit 0 of the first byte). All zeros is "unset". */
export function validUnicastMac(mac: Uint8Array): boolean {
  return mac.length === 6 && (mac[0]! & 1) === 0;
}

export function saveVhcaState(fn: MnicFunction, final: boolean): Uint8Array {
  const payload = encodeStruct(mnicfw.MnicStatePayloadV1, {
    mac: fn.mac.slice(),
    caps: fn.caps,
    contextBytes: mnicfw.MNIC_CONTEXT_BYTES,
    rxPackets: fn.counters.rxPackets,
    rxBytes: fn.counters.rxBytes,
    txPackets: fn.counters.txPackets,
    txBytes: fn.counters.txBytes,
    context: fn.context.slice(),
  });
  const hdr = encodeStruct(mnicfw.MnicStateHdr, {
    magic: mnicfw.MNIC_STATE_MAGIC,
    version: mnicfw.MNIC_STATE_VERSION,
    headerBytes: mnicfw.MnicStateHdr.sizeBytes,
    payloadBytes: payload.length,
    payloadCrc: crc32(payload),
    flags: final ? mnicfw.MNIC_STATE_FLAG_FINAL : 0,
    kind: FN_KIND_NUMBER[fn.kind],
  });
  const out = new Uint8Array(hdr.length + payload.length);
  out.set(hdr);
  out.set(payload, hdr.length);
  return out;
}

const S = mnicfw.MNIC_SYNDROME;
const fail = (syndrome: number, why: string): LoadResult => ({ ok: false, syndrome, why });

/** Validate an image from the wire; nothing is applied here. */
export function parseVhcaState(bytes: Uint8Array): LoadResult {
  const H = mnicfw.MnicStateHdr;
  if (bytes.length < H.sizeBytes) return fail(S.STATE_BAD_LENGTH, `${bytes.length} bytes, no header`);
  const h = decodeStruct(H, bytes);
  if (h.magic !== mnicfw.MNIC_STATE_MAGIC) return fail(S.STATE_BAD_MAGIC, `magic 0x${h.magic.toString(16)}`);
  if (h.version !== mnicfw.MNIC_STATE_VERSION) return fail(S.STATE_BAD_VERSION, `version ${h.version}`);
  if (h.headerBytes !== H.sizeBytes) return fail(S.STATE_BAD_LENGTH, `header of ${h.headerBytes} bytes`);
  const P = mnicfw.MnicStatePayloadV1;
  if (h.payloadBytes !== P.sizeBytes || bytes.length !== H.sizeBytes + P.sizeBytes) {
    return fail(S.STATE_BAD_LENGTH, `payload of ${h.payloadBytes} bytes in an image of ${bytes.length}`);
  }
  if ((h.flags & ~mnicfw.MNIC_STATE_FLAG_FINAL) !== 0)
    return fail(S.STATE_BAD_FIELD, `flags 0x${h.flags.toString(16)}`);
  if (h.kind > mnicfw.MNIC_FN_KIND_SIOV) return fail(S.STATE_BAD_FIELD, `function kind ${h.kind}`);
  if (nonZeroReserved(H, bytes).length > 0) return fail(S.RESERVED_NOT_ZERO, 'header reserved bytes');
  const raw = bytes.subarray(H.sizeBytes);
  if (crc32(raw) !== h.payloadCrc) return fail(S.STATE_BAD_CRC, 'payload CRC mismatch');
  if (nonZeroReserved(P, raw).length > 0) return fail(S.RESERVED_NOT_ZERO, 'payload reserved bytes');
  const p = decodeStruct(P, raw);
  if (p.contextBytes !== mnicfw.MNIC_CONTEXT_BYTES)
    return fail(S.STATE_BAD_FIELD, `context of ${p.contextBytes} bytes`);
  if ((p.caps & ~mnicfw.MNIC_FN_CAPS_KNOWN) !== 0) return fail(S.BAD_CAPS, `caps 0x${p.caps.toString(16)}`);
  if (!validUnicastMac(p.mac)) return fail(S.BAD_MAC, 'multicast MAC');
  return {
    ok: true,
    state: {
      version: 1,
      final: (h.flags & mnicfw.MNIC_STATE_FLAG_FINAL) !== 0,
      kind: h.kind,
      mac: p.mac,
      caps: p.caps,
      context: p.context,
      counters: { rxPackets: p.rxPackets, rxBytes: p.rxBytes, txPackets: p.txPackets, txBytes: p.txBytes },
    },
  };
}

/** Apply a validated image (all fields at once). */
export function applyVhcaState(fn: MnicFunction, s: MnicSavedState): void {
  fn.mac.set(s.mac);
  fn.caps = s.caps;
  fn.context.set(s.context);
  fn.counters.rxPackets = s.counters.rxPackets;
  fn.counters.rxBytes = s.counters.rxBytes;
  fn.counters.txPackets = s.counters.txPackets;
  fn.counters.txBytes = s.counters.txBytes;
}
