/**
 * vfio-pci config space virtualization (drivers/vfio/pci/vfio_pci_config.c; facts/kernel.md 3.7).
 *
 * Every byte has a virtualized mask (those bits read from `vconfig`, the shadow) and a writable mask
 * (those bits the user may change: into vconfig when virtualized, into hardware otherwise). Bits that
 * are neither read from hardware and user writes to them are dropped.
 *
 *   00 Vendor/Device     virtualized, read-only (a VF's shadow holds the PF vendor and VF Device ID)
 *   04 Command           all writable; INTx Disable virtualized; Memory/I/O tracked in vconfig, and a
 *                        VF (no working Memory bit) reads the virtual one
 *   06 Status            Capabilities List virtualized; no writes
 *   0c,0d,0f             cache line, latency timer, BIST: pass-through, writable
 *   10-27, 30 BARs, ROM  virtualized and writable; reads give (written & size mask) | flag bits, so BAR
 *                        sizing works and host addresses never show
 *   34 Cap pointer       virtualized read-only; 3c Interrupt Line virtualized RW; 3d Pin virtualized RO
 *   capabilities         id pass-through RO, next pointer virtualized (hidden capabilities skipped);
 *                        PM PowerState writable; PCIe Device Control writable but Phantom, and
 *                        Initiate FLR is trapped into a function reset; Device Control 2 writable;
 *                        MSI-X, vendor, SR-IOV, ARI, DSN read-only pass-through; MSI-X is programmed
 *                        through SET_IRQS only; unknown capabilities are hidden
 *
 * SPEC-DEVIATION: vfio-pci copies the host's BAR registers into vconfig, so a user reads the host
 * address until it writes the BAR; facts 3.7 says the user never sees host addresses, and the model
 * follows the facts (BARs start as 0 plus flag bits). MSI is left out (no catalog device has it); PM
 * PowerState writes go straight to hardware instead of through pci_set_power_state.
 */
import { errnoError, readLe, writeLe } from '../../../base/index.js';
import { pci } from '../../../spec/index.js';
import type { PciDev } from '../../pci/pci-dev.js';
import { IORESOURCE_IO, IORESOURCE_MEM_64, PCI_ROM_RESOURCE, resourceSize } from '../../pci/resource.js';

/** Hardware config access of one function. */
export interface ConfigHw {
  read(offset: number, width: 1 | 2 | 4): number;
  write(offset: number, width: 1 | 2 | 4, value: number): void;
  /** A function reset the user asked for through Initiate FLR (trapped write). */
  flr(): void;
}

const PCI_STD_HEADER_SIZEOF = 0x40;
/** Length of each standard capability vfio-pci knows (pci_cap_length); others are hidden. */
const STD_CAP_LENGTH: Readonly<Record<number, number>> = {
  [pci.PCI_CAP_ID_PM]: pci.PCI_PM_SIZEOF,
  [pci.PCI_CAP_ID_MSIX]: pci.PCI_CAP_MSIX_SIZEOF,
  [pci.PCI_CAP_ID_EXP]: pci.PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
};
/** Extended capabilities vfio-pci knows (pci_ext_cap_length): shown read-only. Others are hidden. */
const EXT_CAP_LENGTH: Readonly<Record<number, number>> = {
  [pci.PCI_EXT_CAP_ID_ARI]: pci.PCI_EXT_CAP_ARI_SIZEOF,
  [pci.PCI_EXT_CAP_ID_SRIOV]: pci.PCI_EXT_CAP_SRIOV_SIZEOF,
  [pci.PCI_EXT_CAP_ID_DSN]: 12,
};
const MAX_CAPS = 48;
const EXT_CAP_HEADER_NEXT_MASK = 0xfff;

export class VfioPciConfig {
  readonly sizeBytes: number;
  readonly #p: PciDev;
  readonly #hw: ConfigHw;
  readonly #v: Uint8Array;
  readonly #virt: Uint8Array;
  readonly #write: Uint8Array;
  /** Offset of the PCIe capability, for the Initiate FLR trap. */
  #exp: number | undefined;

  constructor(p: PciDev, hw: ConfigHw) {
    this.#p = p;
    this.#hw = hw;
    this.sizeBytes = p.cfgSize;
    this.#v = new Uint8Array(this.sizeBytes);
    this.#virt = new Uint8Array(this.sizeBytes);
    this.#write = new Uint8Array(this.sizeBytes);
    this.#init();
  }

  /** vfio_config_init: snapshot the hardware, set permissions, virtualize identity, BARs and chains. */
  #init(): void {
    const p = this.#p;
    for (let at = 0; at < this.sizeBytes; at += 4) writeLe(this.#v, at, 4, this.#hw.read(at, 4));
    // The basic header (init_pci_cap_basic_perm).
    this.#perm(pci.PCI_VENDOR_ID, 4, 0xffffffff, 0);
    this.#perm(pci.PCI_COMMAND, 2, pci.PCI_COMMAND_INTX_DISABLE, 0xffff);
    this.#perm(pci.PCI_STATUS, 2, pci.PCI_STATUS_CAP_LIST, 0);
    this.#perm(pci.PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
    this.#perm(pci.PCI_LATENCY_TIMER, 1, 0, 0xff);
    this.#perm(pci.PCI_BIST, 1, 0, 0xff);
    for (let i = 0; i < pci.PCI_NUM_BARS; i++)
      this.#perm(pci.PCI_BASE_ADDRESS_0 + 4 * i, 4, 0xffffffff, 0xffffffff);
    this.#perm(pci.PCI_ROM_ADDRESS, 4, 0xffffffff, 0xffffffff);
    this.#perm(pci.PCI_CAPABILITY_LIST, 1, 0xff, 0);
    this.#perm(pci.PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
    this.#perm(pci.PCI_INTERRUPT_PIN, 1, 0xff, 0);
    writeLe(this.#v, pci.PCI_VENDOR_ID, 2, p.vendor);
    writeLe(this.#v, pci.PCI_DEVICE_ID, 2, p.device);
    if (p.isVirtfn) this.#v[pci.PCI_INTERRUPT_PIN] = 0;
    for (let i = 0; i < pci.PCI_NUM_BARS; i++) writeLe(this.#v, pci.PCI_BASE_ADDRESS_0 + 4 * i, 4, 0);
    writeLe(this.#v, pci.PCI_ROM_ADDRESS, 4, 0);
    this.#initStdCaps();
    if (this.sizeBytes > pci.PCI_CFG_SPACE_SIZE) this.#initExtCaps();
  }

  #perm(offset: number, width: number, virt: number, write: number): void {
    for (let i = 0; i < width; i++) {
      this.#virt[offset + i] = (virt >>> (8 * i)) & 0xff;
      this.#write[offset + i] = (write >>> (8 * i)) & 0xff;
    }
  }

  #initStdCaps(): void {
    if ((readLe(this.#v, pci.PCI_STATUS, 2) & pci.PCI_STATUS_CAP_LIST) === 0) return;
    let prevNext = pci.PCI_CAPABILITY_LIST;
    let pos = this.#v[pci.PCI_CAPABILITY_LIST]! & ~3;
    for (let n = 0; pos >= PCI_STD_HEADER_SIZEOF && n < MAX_CAPS; n++) {
      const id = this.#v[pos]!;
      const next = this.#v[pos + pci.PCI_CAP_LIST_NEXT]! & ~3;
      const len = id === pci.PCI_CAP_ID_VNDR ? this.#v[pos + 2]! : STD_CAP_LENGTH[id];
      if (len === undefined) {
        // Hidden: the previous visible next pointer will skip it.
        pos = next;
        continue;
      }
      this.#perm(pos + pci.PCI_CAP_LIST_NEXT, 1, 0xff, 0);
      if (id === pci.PCI_CAP_ID_PM) this.#perm(pos + pci.PCI_PM_CTRL, 2, 0, pci.PCI_PM_CTRL_STATE_MASK);
      if (id === pci.PCI_CAP_ID_EXP) {
        this.#exp = pos;
        this.#perm(pos + pci.PCI_EXP_DEVCTL, 2, 0, 0xffff & ~pci.PCI_EXP_DEVCTL_PHANTOM);
        this.#perm(pos + pci.PCI_EXP_DEVCTL2, 2, 0, 0xffff);
      }
      this.#v[prevNext] = pos;
      prevNext = pos + pci.PCI_CAP_LIST_NEXT;
      pos = next;
    }
    this.#v[prevNext] = 0;
  }

  /** vfio_ecap_init: unknown extended capabilities leave the chain; the header at 0x100 stays. */
  #initExtCaps(): void {
    let pos = pci.PCI_EXT_CAP_START;
    let prev: number | undefined;
    for (let n = 0; pos >= pci.PCI_EXT_CAP_START && n < MAX_CAPS; n++) {
      const header = readLe(this.#v, pos, 4);
      if (header === 0 || header === 0xffffffff) return;
      const id = header & pci.PCI_EXT_CAP_ID_MASK;
      const next = (header >>> pci.PCI_EXT_CAP_NEXT_SHIFT) & EXT_CAP_HEADER_NEXT_MASK & ~3;
      this.#perm(pos, 4, 0xffffffff, 0);
      if (EXT_CAP_LENGTH[id] === undefined) {
        if (prev === undefined) {
          // The first one cannot move: keep a null header that points on.
          writeLe(this.#v, pos, 4, (next << pci.PCI_EXT_CAP_NEXT_SHIFT) >>> 0);
          prev = pos;
        } else {
          const ph = readLe(this.#v, prev, 4) & ~(EXT_CAP_HEADER_NEXT_MASK << pci.PCI_EXT_CAP_NEXT_SHIFT);
          writeLe(this.#v, prev, 4, (ph | (next << pci.PCI_EXT_CAP_NEXT_SHIFT)) >>> 0);
        }
      } else {
        prev = pos;
      }
      pos = next;
    }
  }

  /** The virtual Command register (what the user last wrote; Memory/I/O enables tracked here). */
  get command(): number {
    return readLe(this.#v, pci.PCI_COMMAND, 2);
  }

  /** __vfio_pci_memory_enabled: VFs have no working Memory bit, so their BARs always decode. */
  get memoryEnabled(): boolean {
    return this.#p.isVirtfn || (this.command & pci.PCI_COMMAND_MEMORY) !== 0;
  }

  /** The config region read: `lengthBytes` at `offset`, each byte virtual or from hardware. */
  read(offset: number, lengthBytes: number): Uint8Array {
    this.#bounds(offset, lengthBytes);
    const out = new Uint8Array(lengthBytes);
    const hw = new Map<number, number>();
    for (let i = 0; i < lengthBytes; i++) {
      const at = offset + i;
      const dword = at & ~3;
      const virt = this.#virt[at]!;
      let hwByte = 0;
      if (virt !== 0xff) {
        if (!hw.has(dword)) hw.set(dword, this.#hw.read(dword, 4));
        hwByte = (hw.get(dword)! >>> (8 * (at - dword))) & 0xff;
      }
      out[i] = (this.#virtualByte(at) & virt) | (hwByte & ~virt);
    }
    // A VF's Memory enable is virtual: OR in what the user wrote (no_command_memory).
    if (this.#p.isVirtfn && offset <= pci.PCI_COMMAND && offset + lengthBytes > pci.PCI_COMMAND) {
      out[pci.PCI_COMMAND - offset]! |= this.#v[pci.PCI_COMMAND]! & pci.PCI_COMMAND_MEMORY;
    }
    return out;
  }

  /** The config region write: virtual bits to vconfig, writable hardware bits to the device. */
  write(offset: number, bytes: Uint8Array): void {
    this.#bounds(offset, bytes.length);
    let flr = false;
    const hwDwords = new Map<number, { mask: number; value: number }>();
    for (let i = 0; i < bytes.length; i++) {
      const at = offset + i;
      let w = this.#write[at]!;
      const virt = this.#virt[at]!;
      const val = bytes[i]!;
      if (this.#exp !== undefined && at === this.#exp + pci.PCI_EXP_DEVCTL + 1) {
        // Initiate FLR (bit 15): trapped, not passed through.
        const flrBit = pci.PCI_EXP_DEVCTL_BCR_FLR >>> 8;
        if ((val & flrBit) !== 0) flr = true;
        w &= ~flrBit;
      }
      // The Command register is tracked whole in vconfig, and its non-virtual bits go to hardware.
      const track = at === pci.PCI_COMMAND || at === pci.PCI_COMMAND + 1 ? w : w & virt;
      this.#v[at] = (this.#v[at]! & ~track) | (val & track);
      const hwMask = w & ~virt & 0xff;
      if (hwMask !== 0) {
        const dword = at & ~3;
        const shift = 8 * (at - dword);
        const e = hwDwords.get(dword) ?? { mask: 0, value: 0 };
        e.mask |= hwMask << shift;
        e.value |= (val & hwMask) << shift;
        hwDwords.set(dword, e);
      }
    }
    for (const [dword, e] of hwDwords) {
      // Read-modify-write at the user's width within this dword, as vfio_default_config_write does.
      const lo = Math.max(dword, offset);
      const hi = Math.min(dword + 4, offset + bytes.length);
      const width = (hi - lo) as 1 | 2 | 4;
      const shift = 8 * (lo - dword);
      const widthMask = width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
      const mask = (e.mask >>> shift) & widthMask;
      const phys = this.#hw.read(lo, width);
      this.#hw.write(lo, width, ((phys & ~mask) | ((e.value >>> shift) & mask)) >>> 0);
    }
    if (flr) this.#hw.flr();
  }

  /** A byte of the virtual view: BARs and ROM go through the sizing fixup. */
  #virtualByte(at: number): number {
    const bar = barAt(at);
    if (bar === undefined) return this.#v[at]!;
    const reg = at & ~3;
    return (this.#barValue(bar, readLe(this.#v, reg, 4)) >>> (8 * (at - reg))) & 0xff;
  }

  /** vfio_bar_fixup for one register: the written value masked to the BAR size, plus its flag bits. */
  #barValue(bar: number, written: number): number {
    const p = this.#p;
    if (bar === PCI_ROM_RESOURCE) {
      const size = resourceSize(p.resources[PCI_ROM_RESOURCE] ?? { start: 0n, end: 0n, flags: 0 });
      if (size === 0n) return 0;
      const mask = Number(~(size - 1n) & 0xffffffffn) & pci.PCI_ROM_ADDRESS_MASK;
      return ((written & mask) | (written & pci.PCI_ROM_ADDRESS_ENABLE)) >>> 0;
    }
    const r = p.resources[bar];
    // The upper half of a 64-bit BAR belongs to the resource below it.
    const lowRes = bar > 0 ? p.resources[bar - 1] : undefined;
    if (
      (r === undefined || r.flags === 0) &&
      lowRes !== undefined &&
      (lowRes.flags & IORESOURCE_MEM_64) !== 0
    ) {
      const size = resourceSize(lowRes);
      return Number((~(size - 1n) >> 32n) & 0xffffffffn & BigInt(written >>> 0)) >>> 0;
    }
    if (r === undefined || r.flags === 0) return 0;
    const size = resourceSize(r);
    const mask = Number(~(size - 1n) & 0xffffffffn);
    // The BAR's own low flag bits (decode_bar copied them into the resource flags).
    const flagBits =
      (r.flags & IORESOURCE_IO) !== 0
        ? pci.PCI_BASE_ADDRESS_SPACE_IO
        : r.flags & 0xf & ~pci.PCI_BASE_ADDRESS_SPACE_IO;
    const addrMask =
      (r.flags & IORESOURCE_IO) !== 0 ? pci.PCI_BASE_ADDRESS_IO_MASK : pci.PCI_BASE_ADDRESS_MEM_MASK;
    return ((written & mask & addrMask) | flagBits) >>> 0;
  }

  #bounds(offset: number, lengthBytes: number): void {
    if (!Number.isInteger(offset) || offset < 0 || lengthBytes < 0 || offset + lengthBytes > this.sizeBytes) {
      throw errnoError('EINVAL', `config ${offset}+${lengthBytes} outside ${this.sizeBytes} bytes`);
    }
  }
}

/** Which BAR (0-5) or ROM (6) a config byte belongs to. */
function barAt(at: number): number | undefined {
  if (at >= pci.PCI_BASE_ADDRESS_0 && at < pci.PCI_BASE_ADDRESS_5 + 4)
    return (at - pci.PCI_BASE_ADDRESS_0) >> 2;
  if (at >= pci.PCI_ROM_ADDRESS && at < pci.PCI_ROM_ADDRESS + 4) return PCI_ROM_RESOURCE;
  return undefined;
}
