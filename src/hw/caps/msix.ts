/**
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability (Message Control with Table Size, Function Mask
 * and Enable; Table and PBA offset/BIR) and the table and PBA themselves, which live in a BAR and are
 * reached by MMIO. Each table entry is 16 bytes: address low/high, data, vector control (bit 0 mask,
 * set at reset).
 *
 * Signalling (6.8.2.8): `signal(vector)` sends the entry's message through the host's MSI controller
 * (`HwContext.msi`) with the function's requester ID, unless MSI-X is disabled, the function is masked
 * (Function Mask) or the entry is masked: then the vector's Pending Bit is set, and the message goes
 * out when the mask is cleared (the Pending Bit clears as it does). Sending needs Bus Master Enable,
 * MSI-X Enable and the function placed on a fabric; without them the signal is dropped as hardware
 * cannot write it.
 */
import { LabError, type Rid, readLe, writeLe } from '../../base/index.js';
import { pci } from '../../spec/index.js';
import type { Capability } from '../capability-builder.js';
import type { ConfigSpace } from '../config-space.js';
import type { HwContext } from '../hw-context.js';

/** The function an MSI-X capability belongs to, as signalling needs it. */
export interface MsixFunction {
  readonly ctx: HwContext;
  readonly config: ConfigSpace;
  readonly placement: { readonly rid: Rid } | undefined;
}

export interface MsixOptions {
  readonly vectors: number;
  readonly tableBar: number;
  readonly tableOffset: number;
  readonly pbaBar: number;
  readonly pbaOffset: number;
}

export class Msix {
  readonly options: MsixOptions;
  readonly #table: Uint8Array;
  readonly #pba: Uint8Array;
  #cs: ConfigSpace | undefined;
  #capOffset = 0;
  #fn: MsixFunction | undefined;
  #sent = 0;
  #dropped = 0;

  constructor(options: MsixOptions) {
    if (!Number.isInteger(options.vectors) || options.vectors < 1 || options.vectors > 2048) {
      throw new LabError('bad-input', `MSI-X vectors must be 1..2048, not ${options.vectors}`);
    }
    if (options.tableOffset % 8 !== 0 || options.pbaOffset % 8 !== 0) {
      throw new LabError('bad-input', 'MSI-X table and PBA offsets must be 8-byte aligned');
    }
    this.options = options;
    this.#table = new Uint8Array(options.vectors * pci.PCI_MSIX_ENTRY_SIZE);
    this.#pba = new Uint8Array(Math.ceil(options.vectors / 64) * 8);
    this.reset();
  }

  get tableSizeBytes(): number {
    return this.#table.length;
  }

  get pbaSizeBytes(): number {
    return this.#pba.length;
  }

  capability(): Capability {
    return {
      id: pci.PCI_CAP_ID_MSIX,
      sizeBytes: pci.PCI_CAP_MSIX_SIZEOF,
      init: (cs, offset) => {
        this.#cs = cs;
        this.#capOffset = offset;
        const o = this.options;
        cs.set(offset + pci.PCI_MSIX_FLAGS, 2, (o.vectors - 1) & pci.PCI_MSIX_FLAGS_QSIZE);
        cs.setWritable(
          offset + pci.PCI_MSIX_FLAGS,
          2,
          pci.PCI_MSIX_FLAGS_ENABLE | pci.PCI_MSIX_FLAGS_MASKALL,
        );
        cs.set(offset + pci.PCI_MSIX_TABLE, 4, (o.tableOffset | o.tableBar) >>> 0);
        cs.set(offset + pci.PCI_MSIX_PBA, 4, (o.pbaOffset | o.pbaBar) >>> 0);
        // Clearing Function Mask (or setting Enable) releases the pending vectors.
        cs.addHook({ offset: offset + pci.PCI_MSIX_FLAGS, length: 2, onWrite: () => this.#flushPending() });
      },
    };
  }

  /** Tie the capability to its function: signalling needs its context, Command register and RID. */
  bindFunction(fn: MsixFunction): void {
    this.#fn = fn;
  }

  /** Messages sent, and signals dropped because the function could not send (no BME, not enabled). */
  get signalStats(): { readonly sent: number; readonly dropped: number } {
    return { sent: this.#sent, dropped: this.#dropped };
  }

  get functionMasked(): boolean {
    return (
      this.#cs !== undefined &&
      (this.#cs.get(this.#capOffset + pci.PCI_MSIX_FLAGS, 2) & pci.PCI_MSIX_FLAGS_MASKALL) !== 0
    );
  }

  /** Whether vector `vector`'s Pending Bit is set. */
  pending(vector: number): boolean {
    this.#checkVector(vector);
    return ((this.#pba[vector >> 3]! >> (vector & 7)) & 1) !== 0;
  }

  /**
   * The device raises `vector`: send its message, or set its Pending Bit while it is masked. A vector
   * outside the table is a device-model bug.
   */
  signal(vector: number): void {
    this.#checkVector(vector);
    if (!this.enabled) {
      this.#dropped++;
      return;
    }
    if (this.functionMasked || this.entry(vector).masked) {
      this.#pba[vector >> 3]! |= 1 << (vector & 7);
      return;
    }
    this.#send(vector);
  }

  #send(vector: number): void {
    const fn = this.#fn;
    const placement = fn?.placement;
    const busMaster = fn !== undefined && (fn.config.get(pci.PCI_COMMAND, 2) & pci.PCI_COMMAND_MASTER) !== 0;
    if (fn === undefined || placement === undefined || !busMaster || fn.ctx.msi === undefined) {
      this.#dropped++;
      return;
    }
    const { address, data } = this.entry(vector);
    this.#sent++;
    fn.ctx.msi.deliver(address, data, placement.rid);
  }

  #flushPending(): void {
    if (!this.enabled || this.functionMasked) return;
    for (let v = 0; v < this.options.vectors; v++) {
      if (this.pending(v) && !this.entry(v).masked) {
        this.#pba[v >> 3]! &= ~(1 << (v & 7));
        this.#send(v);
      }
    }
  }

  #checkVector(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector >= this.options.vectors) {
      throw new LabError('internal', `MSI-X vector ${vector} outside the table of ${this.options.vectors}`);
    }
  }

  get enabled(): boolean {
    return (
      this.#cs !== undefined &&
      (this.#cs.get(this.#capOffset + pci.PCI_MSIX_FLAGS, 2) & pci.PCI_MSIX_FLAGS_ENABLE) !== 0
    );
  }

  /** Claim an MMIO access if it falls in the table or PBA; returns the value for reads. */
  claims(bar: number, offset: number, width: number): 'table' | 'pba' | undefined {
    const o = this.options;
    if (
      bar === o.tableBar &&
      offset >= o.tableOffset &&
      offset + width <= o.tableOffset + this.#table.length
    ) {
      return 'table';
    }
    if (bar === o.pbaBar && offset >= o.pbaOffset && offset + width <= o.pbaOffset + this.#pba.length)
      return 'pba';
    return undefined;
  }

  read(bar: number, offset: number, width: 1 | 2 | 4): number {
    const where = this.claims(bar, offset, width);
    if (where === 'table') return readLe(this.#table, offset - this.options.tableOffset, width);
    if (where === 'pba') return readLe(this.#pba, offset - this.options.pbaOffset, width);
    throw new LabError('internal', 'MSI-X read outside table and PBA');
  }

  write(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    const where = this.claims(bar, offset, width);
    // The PBA is read-only; writes to it are dropped as hardware drops them.
    if (where !== 'table') return;
    const at = offset - this.options.tableOffset;
    writeLe(this.#table, at, width, value);
    // A write that clears an entry's Mask bit sends its pending message.
    const ctrl = pci.PCI_MSIX_ENTRY_VECTOR_CTRL;
    if (at % pci.PCI_MSIX_ENTRY_SIZE <= ctrl && (at % pci.PCI_MSIX_ENTRY_SIZE) + width > ctrl)
      this.#flushPending();
  }

  /** The address, data and mask of one vector as the device would use them to signal. */
  entry(vector: number): { address: bigint; data: number; masked: boolean } {
    const at = vector * pci.PCI_MSIX_ENTRY_SIZE;
    const lo = BigInt(readLe(this.#table, at + pci.PCI_MSIX_ENTRY_LOWER_ADDR, 4));
    const hi = BigInt(readLe(this.#table, at + pci.PCI_MSIX_ENTRY_UPPER_ADDR, 4));
    return {
      address: (hi << 32n) | lo,
      data: readLe(this.#table, at + pci.PCI_MSIX_ENTRY_DATA, 4),
      masked:
        (readLe(this.#table, at + pci.PCI_MSIX_ENTRY_VECTOR_CTRL, 4) & pci.PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0,
    };
  }

  /** Reset state: every vector masked, addresses and data zero, no pending bits. */
  reset(): void {
    this.#table.fill(0);
    this.#pba.fill(0);
    for (let v = 0; v < this.options.vectors; v++) {
      writeLe(
        this.#table,
        v * pci.PCI_MSIX_ENTRY_SIZE + pci.PCI_MSIX_ENTRY_VECTOR_CTRL,
        4,
        pci.PCI_MSIX_ENTRY_CTRL_MASKBIT,
      );
    }
  }
}
