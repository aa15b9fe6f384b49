/**
 * Message Signalled Interrupt delivery on the host side (PCI Local Bus 3.0 6.8; Intel SDM vol. 3
 * 11.11, "Message Signalled Interrupts"): a device signals by a DWORD memory write of `data` to
 * `address` in the x86 MSI window 0xFEE0_0000..0xFEEF_FFFF. The host's interrupt controller owns that
 * window: kernel code allocates an (address, data) pair with a handler, programs it into a device's
 * MSI-X table, and the controller calls the handler when the device writes the pair.
 *
 * Left out: interrupt remapping (the IOMMU does not translate MSI writes here), destination modes,
 * redirection hints and delivery modes, per-CPU vector spaces beyond the one address per 224 vectors.
 * A write of an (address, data) pair nobody allocated is counted as spurious and otherwise dropped.
 */
import { LabError, type Rid } from '../base/index.js';

/** Base of the x86 MSI address window (Intel SDM 11.11.1: 0xFEE in bits 31-20). */
export const MSI_ADDRESS_BASE = 0xfee0_0000n;
/** The window is 1 MiB: bits 19-12 are the destination ID, bits 3 and 2 the RH and DM bits. */
export const MSI_ADDRESS_WINDOW_BYTES = 0x10_0000n;
/** Destination ID field of the MSI address (bits 19-12). */
const MSI_ADDRESS_DEST_ID_SHIFT = 12n;
/** Vectors 0x00-0x1f are exceptions; a device interrupt uses 0x20-0xff (SDM 6.2). */
const FIRST_DEVICE_VECTOR = 0x20;
const LAST_DEVICE_VECTOR = 0xff;
const VECTORS_PER_DESTINATION = LAST_DEVICE_VECTOR - FIRST_DEVICE_VECTOR + 1;
const MAX_DESTINATIONS = 256;

/** What a handler learns about one delivered message. */
export interface MsiDelivery {
  readonly address: bigint;
  readonly data: number;
  /** The requester that wrote the message. */
  readonly rid: Rid;
  readonly atNs: number;
}

export type MsiHandler = (delivery: MsiDelivery) => void;

/** One allocated message: program `address` and `data` into a device's MSI-X table entry. */
export interface MsiMessage {
  readonly address: bigint;
  readonly data: number;
}

export interface MsiStats {
  readonly delivered: number;
  readonly spurious: number;
  readonly allocated: number;
}

const key = (address: bigint, data: number): string => `${address.toString(16)}:${data >>> 0}`;

export class MsiController {
  readonly #handlers = new Map<string, MsiHandler>();
  readonly #clock: { readonly nowNs: number };
  #next = 0;
  #free: number[] = [];
  #delivered = 0;
  #spurious = 0;

  constructor(clock: { readonly nowNs: number }) {
    this.#clock = clock;
  }

  get stats(): MsiStats {
    return { delivered: this.#delivered, spurious: this.#spurious, allocated: this.#handlers.size };
  }

  /** Allocate a message whose delivery calls `handler`. Throws ENOSPC-like LabError when exhausted. */
  allocate(handler: MsiHandler): MsiMessage {
    const slot = this.#free.pop() ?? this.#next++;
    if (slot >= VECTORS_PER_DESTINATION * MAX_DESTINATIONS) {
      this.#next--;
      throw new LabError('invalid-state', 'MSI controller: every vector of every destination is taken');
    }
    const dest = Math.floor(slot / VECTORS_PER_DESTINATION);
    const message = {
      address: MSI_ADDRESS_BASE | (BigInt(dest) << MSI_ADDRESS_DEST_ID_SHIFT),
      data: FIRST_DEVICE_VECTOR + (slot % VECTORS_PER_DESTINATION),
    };
    this.#handlers.set(key(message.address, message.data), handler);
    return message;
  }

  /** Release a message; later writes of it count as spurious. */
  free(message: MsiMessage): void {
    const k = key(message.address, message.data);
    if (!this.#handlers.delete(k)) {
      throw new LabError('invalid-state', `MSI controller: message ${k} is not allocated`);
    }
    const dest = Number((message.address - MSI_ADDRESS_BASE) >> MSI_ADDRESS_DEST_ID_SHIFT);
    this.#free.push(dest * VECTORS_PER_DESTINATION + (message.data - FIRST_DEVICE_VECTOR));
  }

  /** True if `address` is inside the MSI window (a DWORD write there is an interrupt message). */
  static claims(address: bigint): boolean {
    return address >= MSI_ADDRESS_BASE && address < MSI_ADDRESS_BASE + MSI_ADDRESS_WINDOW_BYTES;
  }

  /** A device's message write. Unallocated pairs (and writes outside the window) are spurious. */
  deliver(address: bigint, data: number, rid: Rid): void {
    const handler = MsiController.claims(address) ? this.#handlers.get(key(address, data)) : undefined;
    if (handler === undefined) {
      this.#spurious++;
      return;
    }
    this.#delivered++;
    handler({ address, data: data >>> 0, rid, atNs: this.#clock.nowNs });
  }
}
