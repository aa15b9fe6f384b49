/**
 * Device parts on the wire (device-parts.tex; facts/virtio.md 4.2-4.4): part headers and parts packed
 * back to back, part selectors, and the METADATA_GET result union. Split from admin-wire.ts, which
 * re-exports it.
 */
import {
  type DecodeOptions,
  decodeStruct,
  decodeStructArray,
  encodeStruct,
  encodeStructArray,
  LabError,
  type StructValue,
} from '../../base/index.js';
import { vadmin, virtio } from '../../spec/index.js';

const ZERO: DecodeOptions = { missing: 'zero' };

// --- Device parts (device-parts.tex; facts §4.2-4.4) ---

export type DevPartHdr = StructValue<typeof vadmin.VirtioDevPartHdr>;

/** One `struct virtio_dev_part`; the header's `length` is the length of `value`. */
export interface DevPart {
  readonly partType: number;
  readonly flags: number;
  /** The 8-byte selector union; see encodePartSelector. */
  readonly selector: Uint8Array;
  readonly value: Uint8Array;
}

/** Parts packed back to back, each a 16-byte header and its value (no padding: facts §4.2, assumed). */
export function encodeDevParts(parts: readonly DevPart[]): Uint8Array {
  const chunks = parts.flatMap((p) => [
    encodeStruct(vadmin.VirtioDevPartHdr, {
      partType: p.partType,
      flags: p.flags,
      selector: p.selector,
      length: p.value.length,
    }),
    p.value,
  ]);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Split a parts list. Decision: a truncated part (a partial header, or a value shorter than its
 * `length`) throws LabError('bad-input'): zero-filling a part would invent state, and Linux never sends
 * partial parts. A device answers that with EINVAL / INVALID_FIELD.
 */
export function decodeDevParts(bytes: Uint8Array): DevPart[] {
  const hdrSize = vadmin.VirtioDevPartHdr.sizeBytes;
  const parts: DevPart[] = [];
  let at = 0;
  while (at < bytes.length) {
    const hdr = decodeStruct(vadmin.VirtioDevPartHdr, bytes.subarray(at));
    const valueAt = at + hdrSize;
    if (hdr.length > bytes.length - valueAt) {
      const remaining = bytes.length - valueAt;
      const what = `part ${parts.length} (type 0x${hdr.partType.toString(16)}) at byte ${at}`;
      throw new LabError('bad-input', `${what} claims ${hdr.length} value bytes, ${remaining} remain`);
    }
    parts.push({
      partType: hdr.partType,
      flags: hdr.flags,
      selector: hdr.selector,
      value: bytes.slice(valueAt, valueAt + hdr.length),
    });
    at = valueAt + hdr.length;
  }
  return parts;
}

/** A `struct virtio_dev_part_hdr hdr_list[]` (GET SELECTED data, metadata LIST). */
export function encodePartHdrs(hdrs: readonly DevPartHdr[]): Uint8Array {
  return encodeStructArray(vadmin.VirtioDevPartHdr, hdrs);
}

/** Headers of a hdr_list; a trailing partial header reads its missing bytes as zero. */
export function decodePartHdrs(bytes: Uint8Array): DevPartHdr[] {
  return decodeStructArray(vadmin.VirtioDevPartHdr, bytes, ZERO);
}

/** The selector union of struct virtio_dev_part_hdr, by the member its part type uses. */
export type PartSelector =
  | { readonly kind: 'none' }
  | { readonly kind: 'pci-common-cfg'; readonly offset: number }
  | { readonly kind: 'vq-index'; readonly index: number }
  | { readonly kind: 'net-cvq'; readonly class: number; readonly command: number }
  | { readonly kind: 'device-type-raw'; readonly bytes: Uint8Array };

export function encodePartSelector(selector: PartSelector): Uint8Array {
  switch (selector.kind) {
    case 'none':
      return new Uint8Array(vadmin.VIRTIO_DEV_PART_SELECTOR_SIZE);
    case 'pci-common-cfg':
      return encodeStruct(vadmin.VirtioDevPartSelectorPciCommonCfg, { offset: selector.offset });
    case 'vq-index':
      return encodeStruct(vadmin.VirtioDevPartSelectorVqIndex, { index: selector.index });
    case 'net-cvq':
      return encodeStruct(vadmin.VirtioNetDevPartSelectorCvq, {
        class: selector.class,
        command: selector.command,
      });
    case 'device-type-raw':
      if (selector.bytes.length !== vadmin.VIRTIO_DEV_PART_SELECTOR_SIZE) {
        throw new LabError('bad-input', `a selector is ${vadmin.VIRTIO_DEV_PART_SELECTOR_SIZE} bytes`);
      }
      return selector.bytes.slice();
    default:
      return assertNever(selector);
  }
}

/**
 * Read a selector as its part type says. Device-type part types (0x200..0x5ff) mean different things
 * per device type, so the virtio device type (virtio.VIRTIO_ID_*) is needed; only net's CVQ part is
 * decoded, others stay raw. Common part types without a selector read as 'none' whatever the bytes.
 */
export function decodePartSelector(
  partType: number,
  selector: Uint8Array,
  virtioDeviceType: number,
): PartSelector {
  switch (partType) {
    case vadmin.VIRTIO_DEV_PART_PCI_COMMON_CFG:
      return {
        kind: 'pci-common-cfg',
        ...decodeStruct(vadmin.VirtioDevPartSelectorPciCommonCfg, selector, ZERO),
      };
    case vadmin.VIRTIO_DEV_PART_VQ_CFG:
    case vadmin.VIRTIO_DEV_PART_VQ_NOTIFY_CFG:
      return { kind: 'vq-index', ...decodeStruct(vadmin.VirtioDevPartSelectorVqIndex, selector, ZERO) };
    default:
      break;
  }
  if (
    partType < vadmin.VIRTIO_DEV_PART_DEVICE_TYPE_MIN ||
    partType > vadmin.VIRTIO_DEV_PART_DEVICE_TYPE_MAX
  ) {
    return { kind: 'none' };
  }
  if (virtioDeviceType === virtio.VIRTIO_ID_NET && partType === vadmin.VIRTIO_NET_DEV_PART_CVQ_CFG_PART) {
    return { kind: 'net-cvq', ...decodeStruct(vadmin.VirtioNetDevPartSelectorCvq, selector, ZERO) };
  }
  const bytes = new Uint8Array(vadmin.VIRTIO_DEV_PART_SELECTOR_SIZE);
  bytes.set(selector.subarray(0, bytes.length));
  return { kind: 'device-type-raw', bytes };
}

/** DEV_PARTS_METADATA_GET's result union, by the metadata type the command asked for. */
export type DevPartsMetadata =
  | { readonly type: 'size'; readonly size: number }
  | { readonly type: 'count'; readonly count: number }
  | { readonly type: 'list'; readonly count: number; readonly hdrs: readonly DevPartHdr[] };

export function encodeDevPartsMetadata(metadata: DevPartsMetadata): Uint8Array {
  switch (metadata.type) {
    case 'size':
      return encodeStruct(vadmin.VirtioAdminCmdDevPartsMetadataSize, { size: metadata.size });
    case 'count':
      return encodeStruct(vadmin.VirtioAdminCmdDevPartsMetadataCount, { count: metadata.count });
    case 'list':
      return encodeStruct(vadmin.VirtioAdminCmdDevPartsMetadataList, {
        count: metadata.count,
        hdrs: encodePartHdrs(metadata.hdrs),
      });
    default:
      return assertNever(metadata);
  }
}

/**
 * Decode the metadata `bytes` (the result's `metadata` tail) for the metadata type that was asked
 * for. Missing bytes read as zero, also in a trailing partial header of a LIST. Decision: a LIST's
 * hdrs are the headers present in `bytes`, whatever `count` says; comparing them is the caller's job.
 */
export function decodeDevPartsMetadata(metadataType: number, bytes: Uint8Array): DevPartsMetadata {
  switch (metadataType) {
    case vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_SIZE:
      return { type: 'size', ...decodeStruct(vadmin.VirtioAdminCmdDevPartsMetadataSize, bytes, ZERO) };
    case vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_COUNT:
      return { type: 'count', ...decodeStruct(vadmin.VirtioAdminCmdDevPartsMetadataCount, bytes, ZERO) };
    case vadmin.VIRTIO_ADMIN_CMD_DEV_PARTS_METADATA_TYPE_LIST: {
      const list = decodeStruct(vadmin.VirtioAdminCmdDevPartsMetadataList, bytes, ZERO);
      return { type: 'list', count: list.count, hdrs: decodePartHdrs(list.hdrs) };
    }
    default:
      throw new LabError('bad-input', `unknown device parts metadata type ${metadataType}`);
  }
}

function assertNever(x: never): never {
  throw new LabError('internal', `unexpected value ${JSON.stringify(x)}`);
}
