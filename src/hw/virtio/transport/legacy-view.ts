/**
 * The legacy ("virtio header") register view of a modern transport's state (virtio 1.4
 * transport-pci.tex "Legacy Interfaces"; facts/virtio.md 1.11 and 3.9), as the admin legacy commands
 * reach it. The layout:
 *
 *   0 host features (R, 32)   4 guest features (RW, 32)   8 queue PFN (RW, 32)   12 queue num (R, 16)
 *   14 queue select (RW, 16)  16 queue notify (RW, 16)    18 status (RW, 8)      19 ISR (R, 8)
 *   20 config MSI-X vector, 22 queue MSI-X vector (RW, 16; only while MSI-X is enabled)
 *   device config from VIRTIO_PCI_CONFIG_OFF(msix) = 24 or 20.
 *
 * An access must lie inside one field (facts 3.9: "exactly one field"): a smaller access inside a
 * field is allowed (legacy drivers read the mac byte by byte). Data is little-endian. A write to a
 * read-only field is absorbed. Reading the ISR clears it; a status or PFN write of 0 resets; a Queue
 * Notify write kicks the queue whose index is written.
 *
 * Left out: guest-endian (big-endian guest) config and rings; VIRTIO_F_ANY_LAYOUT handling beyond
 * offering it (the device never cares how headers and data are split).
 */
import { readLe, writeLe } from '../../../base/index.js';
import { virtio } from '../../../spec/index.js';
import type { LegacyAccess } from '../owner-api.js';
import type { VirtioDeviceBackend, VirtioPciTransport } from './virtio-pci-transport.js';

interface LegacyField {
  readonly offset: number;
  readonly sizeBytes: number;
  readonly msixOnly: boolean;
}

const FIELDS: readonly LegacyField[] = [
  { offset: virtio.VIRTIO_PCI_HOST_FEATURES, sizeBytes: 4, msixOnly: false },
  { offset: virtio.VIRTIO_PCI_GUEST_FEATURES, sizeBytes: 4, msixOnly: false },
  { offset: virtio.VIRTIO_PCI_QUEUE_PFN, sizeBytes: 4, msixOnly: false },
  { offset: virtio.VIRTIO_PCI_QUEUE_NUM, sizeBytes: 2, msixOnly: false },
  { offset: virtio.VIRTIO_PCI_QUEUE_SEL, sizeBytes: 2, msixOnly: false },
  { offset: virtio.VIRTIO_PCI_QUEUE_NOTIFY, sizeBytes: 2, msixOnly: false },
  { offset: virtio.VIRTIO_PCI_STATUS, sizeBytes: 1, msixOnly: false },
  { offset: virtio.VIRTIO_PCI_ISR, sizeBytes: 1, msixOnly: false },
  { offset: virtio.VIRTIO_MSI_CONFIG_VECTOR, sizeBytes: 2, msixOnly: true },
  { offset: virtio.VIRTIO_MSI_QUEUE_VECTOR, sizeBytes: 2, msixOnly: true },
];

const REFUSED: LegacyAccess = Object.freeze({ ok: false });
const WRITTEN: LegacyAccess = Object.freeze({ ok: true, bytes: new Uint8Array(0) });
const U32_MASK = 0xffff_ffffn;

/** Transitional devices MUST offer VIRTIO_F_ANY_LAYOUT to legacy drivers (facts 1.10). */
export const LEGACY_EXTRA_FEATURES = 1n << BigInt(virtio.VIRTIO_F_ANY_LAYOUT);

export class LegacyRegisterView {
  readonly #t: VirtioPciTransport;
  readonly #backend: VirtioDeviceBackend;

  constructor(transport: VirtioPciTransport, backend: VirtioDeviceBackend) {
    this.#t = transport;
    this.#backend = backend;
  }

  get msixEnabled(): boolean {
    return this.#t.options.msix.enabled;
  }

  /** VIRTIO_PCI_CONFIG_OFF(msix): where device config starts in the legacy header. */
  get configOffset(): number {
    return virtio.VIRTIO_PCI_CONFIG_OFF(this.msixEnabled);
  }

  commonRead(offset: number, size: number): LegacyAccess {
    const f = this.#field(offset, size);
    if (f === undefined) return REFUSED;
    const value = this.#readField(f);
    const bytes = new Uint8Array(f.sizeBytes);
    writeLe(bytes, 0, f.sizeBytes as 1 | 2 | 4, value);
    return { ok: true, bytes: bytes.slice(offset - f.offset, offset - f.offset + size) };
  }

  commonWrite(offset: number, data: Uint8Array): LegacyAccess {
    const f = this.#field(offset, data.length);
    if (f === undefined) return REFUSED;
    // A partial write merges into the field's current value (read without side effects).
    const bytes = new Uint8Array(f.sizeBytes);
    writeLe(bytes, 0, f.sizeBytes as 1 | 2 | 4, f.offset === virtio.VIRTIO_PCI_ISR ? 0 : this.#peekField(f));
    bytes.set(data, offset - f.offset);
    this.#writeField(f, readLe(bytes, 0, f.sizeBytes as 1 | 2 | 4));
    return WRITTEN;
  }

  deviceRead(offset: number, size: number): LegacyAccess {
    const f = this.#configField(offset, size);
    if (f === undefined) return REFUSED;
    const cfg = this.#backend.configBytes();
    return { ok: true, bytes: cfg.slice(offset, offset + size) };
  }

  deviceWrite(offset: number, data: Uint8Array): LegacyAccess {
    const f = this.#configField(offset, data.length);
    if (f === undefined) return REFUSED;
    this.#t.markLegacyInterface();
    if (f.legacyWritable) this.#backend.legacyConfigWrite(offset, data);
    return WRITTEN;
  }

  #field(offset: number, size: number): LegacyField | undefined {
    if (!Number.isInteger(offset) || !Number.isInteger(size) || size < 1) return undefined;
    const msix = this.msixEnabled;
    return FIELDS.find(
      (f) => (!f.msixOnly || msix) && offset >= f.offset && offset + size <= f.offset + f.sizeBytes,
    );
  }

  #configField(offset: number, size: number) {
    if (!Number.isInteger(offset) || !Number.isInteger(size) || size < 1) return undefined;
    return this.#backend.configFields.find(
      (f) => offset >= f.offset && offset + size <= f.offset + f.sizeBytes,
    );
  }

  /** The field's value as a read returns it, without the ISR's read-to-clear. */
  #peekField(f: LegacyField): number {
    const t = this.#t;
    const q = t.queue(t.queueSelect);
    switch (f.offset) {
      case virtio.VIRTIO_PCI_HOST_FEATURES:
        return Number((t.options.deviceFeatures | LEGACY_EXTRA_FEATURES) & U32_MASK);
      case virtio.VIRTIO_PCI_GUEST_FEATURES:
        return Number(t.driverFeatures & U32_MASK);
      case virtio.VIRTIO_PCI_QUEUE_PFN:
        return t.legacyQueuePfn();
      case virtio.VIRTIO_PCI_QUEUE_NUM:
        return q?.size ?? 0;
      case virtio.VIRTIO_PCI_QUEUE_SEL:
        return t.queueSelect;
      case virtio.VIRTIO_PCI_QUEUE_NOTIFY:
        return 0;
      case virtio.VIRTIO_PCI_STATUS:
        return t.status;
      case virtio.VIRTIO_PCI_ISR:
        return t.isr;
      case virtio.VIRTIO_MSI_CONFIG_VECTOR:
        return t.configMsixVector;
      case virtio.VIRTIO_MSI_QUEUE_VECTOR:
        return q?.msixVector ?? virtio.VIRTIO_MSI_NO_VECTOR;
      default:
        return 0;
    }
  }

  #readField(f: LegacyField): number {
    return f.offset === virtio.VIRTIO_PCI_ISR ? this.#t.readAndClearIsr() : this.#peekField(f);
  }

  #writeField(f: LegacyField, value: number): void {
    const t = this.#t;
    switch (f.offset) {
      case virtio.VIRTIO_PCI_GUEST_FEATURES:
        t.writeLegacyDriverFeatures(value);
        return;
      case virtio.VIRTIO_PCI_QUEUE_PFN:
        t.setLegacyQueuePfn(value);
        return;
      case virtio.VIRTIO_PCI_QUEUE_SEL:
        t.markLegacyInterface();
        t.setQueueSelect(value);
        return;
      case virtio.VIRTIO_PCI_QUEUE_NOTIFY:
        t.markLegacyInterface();
        t.notifyQueue(value);
        return;
      case virtio.VIRTIO_PCI_STATUS:
        t.writeStatus(value, true);
        return;
      case virtio.VIRTIO_MSI_CONFIG_VECTOR:
        t.setConfigMsixVector(value);
        return;
      case virtio.VIRTIO_MSI_QUEUE_VECTOR: {
        const q = t.queue(t.queueSelect);
        if (q !== undefined) q.msixVector = t.acceptVector(value);
        return;
      }
      default:
        // Host features, queue num and the ISR are read-only: absorbed.
        return;
    }
  }
}
