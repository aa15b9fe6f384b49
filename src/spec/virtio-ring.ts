/**
 * The split virtqueue's layout (virtio 1.x split-ring.tex, virtio-queue.h): descriptor flags, ring flags,
 * the byte layout of struct virtq_desc, virtq_avail, virtq_used and virtq_used_elem, and alignments.
 * Both the device side (hw/virtio/split-queue.ts) and the driver side (vmm/guest) use these.
 */

/** This descriptor continues via the next field. */
export const VIRTQ_DESC_F_NEXT = 1;
/** Device-writable buffer (otherwise device-readable). */
export const VIRTQ_DESC_F_WRITE = 2;
/** The buffer holds a table of indirect descriptors. */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Driver to device: do not interrupt when consuming a buffer (without event index). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Device to driver: do not notify when adding a buffer (without event index). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** Largest Queue Size (the largest power of 2 that fits a 16-bit index). */
export const VIRTQ_MAX_SIZE = 32768;

/** struct virtq_desc: le64 addr @0, le32 len @8, le16 flags @12, le16 next @14. */
export const DESC_BYTES = 16;
export const DESC_ADDR = 0;
export const DESC_LEN = 8;
export const DESC_FLAGS = 12;
export const DESC_NEXT = 14;
/** struct virtq_avail: le16 flags @0, le16 idx @2, le16 ring[size] @4, le16 used_event after the ring. */
export const AVAIL_FLAGS = 0;
export const AVAIL_IDX = 2;
export const AVAIL_RING = 4;
export const AVAIL_ELEM_BYTES = 2;
/** struct virtq_used: le16 flags @0, le16 idx @2, virtq_used_elem ring[size] @4, le16 avail_event after. */
export const USED_FLAGS = 0;
export const USED_IDX = 2;
export const USED_RING = 4;
/** struct virtq_used_elem: le32 id @0, le32 len @4. */
export const USED_ELEM_BYTES = 8;
export const USED_ELEM_ID = 0;
export const USED_ELEM_LEN = 4;
/** Each ring area's fixed part: flags, idx and the event field (6 bytes). */
export const RING_FIXED_BYTES = 6;
export const DESC_TABLE_ALIGN = 16;
export const AVAIL_RING_ALIGN = 2;
export const USED_RING_ALIGN = 4;
