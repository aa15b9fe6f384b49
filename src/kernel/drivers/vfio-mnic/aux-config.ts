/**
 * The emulated PCI configuration space vfio_mnic_aux presents for a function that has no PCI function
 * of its own (an SF or a SIOV function). Design note, not a model of an upstream driver (facts/kernel.md
 * 7.4: no VFIO driver for mlx5 SFs exists): QEMU's vfio-pci wants a PCI device, so the function is shown
 * as one — a conventional (256-byte) type-0 header with the NIC's VF identity (vendor 0x1f00, device
 * 0x1022, class 02:00:00), because the function's window has the programming interface of a VF's BAR0,
 * so a guest's VF driver drives it unchanged; the subsystem ID says which kind it is (SF 0x0002, SIOV
 * 0x0003).
 *
 * Registers, after vfio-pci's virtualization rules (facts 3.7), but with nothing behind them:
 * - Vendor/Device/Revision/Class/Subsystem/Header type: read-only.
 * - Command: MEMORY, MASTER, SERR, PARITY and INTX_DISABLE writable; IO stays 0 (no I/O BAR).
 * - Status: read-only 0 (no capability list: SPEC-DEVIATION — no PCIe, PM or MSI-X capability, so the
 *   device has no ERR interrupt and no MSI-X; interrupt delivery for carved functions is left out).
 * - BAR0: a 32-bit non-prefetchable memory BAR sized to the window (rounded up to a power of two of at
 *   least 16 bytes); sizing by writing all ones reads back the size mask. BAR1-5 and the ROM BAR read 0.
 * - Cache line size, latency timer, Interrupt Line: writable; Interrupt Pin 0 (INTx-less).
 * Writes to anything else are dropped, as hardware drops writes to read-only bits.
 */
import { errnoError, readLe, writeLe } from '../../../base/index.js';
import { pci } from '../../../spec/index.js';

const CONFIG_BYTES = 256;
/** PCI_CLASS_NETWORK_ETHERNET << 8 (include/linux/pci_ids.h: 0x0200, prog-if 0). */
const CLASS_NETWORK_ETHERNET = 0x02_0000;
/** BAR low bits that are not address (memory space, type, prefetchable). */
const BAR_FLAG_BITS = 0xf;
const COMMAND_WRITABLE =
  pci.PCI_COMMAND_MEMORY |
  pci.PCI_COMMAND_MASTER |
  pci.PCI_COMMAND_PARITY |
  pci.PCI_COMMAND_SERR |
  pci.PCI_COMMAND_INTX_DISABLE;

export interface MnicAuxIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
}

/** The size a BAR must decode to hold `windowBytes`: a power of two, at least 16. */
export function barSizeFor(windowBytes: number): number {
  let size = 16;
  while (size < windowBytes) size *= 2;
  return size;
}

export class MnicAuxConfig {
  readonly #bytes = new Uint8Array(CONFIG_BYTES);
  readonly #barSizeBytes: number;

  constructor(id: MnicAuxIdentity, windowBytes: number) {
    if (!Number.isInteger(windowBytes) || windowBytes <= 0 || windowBytes > 2 ** 31) {
      throw errnoError('EINVAL', `window of ${windowBytes} bytes`);
    }
    this.#barSizeBytes = barSizeFor(windowBytes);
    const b = this.#bytes;
    writeLe(b, pci.PCI_VENDOR_ID, 2, id.vendorId);
    writeLe(b, pci.PCI_DEVICE_ID, 2, id.deviceId);
    writeLe(b, pci.PCI_CLASS_REVISION, 4, CLASS_NETWORK_ETHERNET << 8);
    writeLe(b, pci.PCI_HEADER_TYPE, 1, pci.PCI_HEADER_TYPE_NORMAL);
    writeLe(b, pci.PCI_BASE_ADDRESS_0, 4, pci.PCI_BASE_ADDRESS_MEM_TYPE_32);
    writeLe(b, pci.PCI_SUBSYSTEM_VENDOR_ID, 2, id.subsystemVendorId);
    writeLe(b, pci.PCI_SUBSYSTEM_ID, 2, id.subsystemId);
  }

  get sizeBytes(): number {
    return CONFIG_BYTES;
  }

  get memoryEnabled(): boolean {
    return (readLe(this.#bytes, pci.PCI_COMMAND, 2) & pci.PCI_COMMAND_MEMORY) !== 0;
  }

  /** Region 7 read: any length inside the 256 bytes. */
  read(pos: number, lengthBytes: number): Uint8Array {
    this.#check(pos, lengthBytes);
    return this.#bytes.slice(pos, pos + lengthBytes);
  }

  /** Region 7 write: byte by byte through the write rules, so any width and alignment behaves alike. */
  write(pos: number, data: Uint8Array): void {
    this.#check(pos, data.length);
    data.forEach((v, i) => {
      this.#writeByte(pos + i, v);
    });
  }

  #check(pos: number, lengthBytes: number): void {
    if (!Number.isInteger(pos) || pos < 0 || lengthBytes < 0 || pos + lengthBytes > CONFIG_BYTES) {
      throw errnoError('EINVAL', `config ${pos}+${lengthBytes}`);
    }
  }

  #writeByte(at: number, v: number): void {
    const b = this.#bytes;
    if (at === pci.PCI_COMMAND || at === pci.PCI_COMMAND + 1) {
      const mask = (COMMAND_WRITABLE >> (8 * (at - pci.PCI_COMMAND))) & 0xff;
      b[at] = (b[at]! & ~mask) | (v & mask);
      return;
    }
    if (at >= pci.PCI_BASE_ADDRESS_0 && at < pci.PCI_BASE_ADDRESS_0 + 4) {
      const shift = 8 * (at - pci.PCI_BASE_ADDRESS_0);
      const addrMask = ~(this.#barSizeBytes - 1) & ~BAR_FLAG_BITS;
      const mask = (addrMask >>> shift) & 0xff;
      b[at] = (b[at]! & ~mask) | (v & mask);
      return;
    }
    if (at === pci.PCI_CACHE_LINE_SIZE || at === pci.PCI_LATENCY_TIMER || at === pci.PCI_INTERRUPT_LINE) {
      b[at] = v;
    }
  }
}
