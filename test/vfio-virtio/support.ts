/**
 * Test support for virtio_vfio_pci: the two-PF host of test/integration (virtio-pci on both PFs, VFs
 * unbound), VFs handed to virtio-vfio-pci through driver_override, and what QEMU would put between a
 * VFIO device file and the guest driver:
 *
 * - `VfioGuestAccess`: a GuestPciAccess over a VFIO device file. Config space through the config region
 *   (index 7), BARs through their regions (BAR0 = the emulated I/O BAR). The MSI-X capability and table
 *   are emulated as QEMU does: the guest's table writes stay in a shadow, and when the guest enables
 *   MSI-X the access programs VFIO_DEVICE_SET_IRQS (MSI-X, eventfds) whose signals queue the vector for
 *   the guest (`Guest.irqs.pending`). `retarget` moves the guest to another device file as QEMU restores
 *   a migrated device: Command register and the MSI-X eventfds.
 * - uAPI helpers that build the ioctl bytes by hand (facts/kernel.md 1.6, 1.7, 3.1): MIG_DEVICE_STATE
 *   SET/GET, MIGRATION GET, PRECOPY_INFO, RESET.
 *
 * Numbers are written out from the facts here, not taken from src/.
 */

import type { Rid } from '../../src/base/index.js';
import type { Device } from '../../src/kernel/index.js';
import { type VfioDeviceFile, VfioFdTable } from '../../src/kernel/vfio/core/index.js';
import type { MigrationStream } from '../../src/kernel/vfio/migration/index.js';
import type { Host } from '../../src/lab/index.js';
import { Errno } from '../../src/spec/index.js';
import type { GuestPciAccess } from '../../src/vmm/guest/index.js';
import type { Guest } from '../integration/support.js';

export * from '../integration/support.js';

// Facts 3.1: _IO(';', 100 + n).
export const VFIO_DEVICE_SET_IRQS = 0x3b6e;
export const VFIO_DEVICE_RESET = 0x3b6f;
export const VFIO_DEVICE_FEATURE = 0x3b75;
export const VFIO_MIG_GET_PRECOPY_INFO = 0x3b79;
// Facts 1.6.
export const FEATURE_GET = 1 << 16;
export const FEATURE_SET = 1 << 17;
export const FEATURE_PROBE = 1 << 18;
export const FEATURE_MIGRATION = 1;
export const FEATURE_MIG_DEVICE_STATE = 2;
export const FEATURE_MIG_DATA_SIZE = 9;
// Facts 1.1.
export const M = {
  ERROR: 0,
  STOP: 1,
  RUNNING: 2,
  STOP_COPY: 3,
  RESUMING: 4,
  RUNNING_P2P: 5,
  PRE_COPY: 6,
  PRE_COPY_P2P: 7,
} as const;
/** Region file offsets: index << 40 (facts 3.3). */
export const REGION = (index: number): bigint => BigInt(index) * 0x100_0000_0000n;
export const CONFIG_REGION = 7;

export const neg = (name: keyof typeof Errno): number => -Errno[name];

/** Load virtio_vfio_pci and bind `vf` to it through driver_override + drivers_probe. */
export function bindVirtioVfio(host: Host, vfName: string): void {
  const k = host.kernel;
  k.modules.modprobe('virtio_vfio_pci');
  k.sysfs.write(`/sys/bus/pci/devices/${vfName}/driver_override`, 'virtio-vfio-pci\n');
  k.sysfs.write('/sys/bus/pci/drivers_probe', `${vfName}\n`);
  k.settle();
}

/** Open `vfName` through its group (first open: FLR). */
export function openVfio(host: Host, vfName: string, fds = new VfioFdTable()): VfioDeviceFile {
  const core = host.kernel.vfio;
  const vdev = core.find(vfName);
  if (vdev === undefined) throw new Error(`no VFIO device for ${vfName}`);
  return core.groupGetDeviceFd(vdev.group, vfName, fds);
}

const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

function le(value: number, width: number): Uint8Array {
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) out[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return out;
}

function leValue(b: Uint8Array): number {
  let v = 0;
  for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i]!;
  return v;
}

/** struct vfio_device_feature + payload, by hand. */
export function featureBytes(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out.set(le(8 + payload.length, 4), 0);
  out.set(le(flags, 4), 4);
  out.set(payload, 8);
  return out;
}

/** MIG_DEVICE_STATE SET: rc, and the data fd copied back (-1 for none). */
export function setMigState(f: VfioDeviceFile, state: number): { rc: number; fd: number } {
  const payload = new Uint8Array(8);
  payload.set(le(state, 4), 0);
  payload.set(le(0xffffffff, 4), 4);
  const arg = featureBytes(FEATURE_SET | FEATURE_MIG_DEVICE_STATE, payload);
  const rc = f.ioctl(VFIO_DEVICE_FEATURE, arg);
  return { rc, fd: u32(arg, 12) | 0 };
}

export function getMigState(f: VfioDeviceFile): number {
  const arg = featureBytes(FEATURE_GET | FEATURE_MIG_DEVICE_STATE, new Uint8Array(8));
  const rc = f.ioctl(VFIO_DEVICE_FEATURE, arg);
  if (rc !== 0) throw new Error(`MIG_DEVICE_STATE GET: ${rc}`);
  return u32(arg, 8);
}

/** The data fd's file. */
export function streamOf(f: VfioDeviceFile, fd: number): MigrationStream {
  const s = f.fds.get(fd);
  if (s === undefined) throw new Error(`no fd ${fd}`);
  return s as MigrationStream;
}

/** read() until EOF (STOP_COPY) or ENOMSG (PRE_COPY), `chunk` bytes at a time. */
export function readAll(s: MigrationStream, chunk = 4096): Uint8Array {
  const parts: Uint8Array[] = [];
  for (;;) {
    let got: Uint8Array;
    try {
      got = s.read(chunk);
    } catch (e) {
      if ((e as { errno?: string }).errno === 'ENOMSG') break;
      throw e;
    }
    if (got.length === 0) break;
    parts.push(got.slice());
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** VFIO_MIG_GET_PRECOPY_INFO: rc, initial_bytes, dirty_bytes. */
export function precopyInfo(s: MigrationStream): { initial: bigint; dirty: bigint } {
  const arg = new Uint8Array(24);
  arg.set(le(24, 4), 0);
  const reply = s.ioctl(VFIO_MIG_GET_PRECOPY_INFO, arg);
  const v = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  return { initial: v.getBigUint64(8, true), dirty: v.getBigUint64(16, true) };
}

// PCI (PCI 3.0 6.1, 6.8.2): Command, capability list, MSI-X.
const PCI_COMMAND = 0x04;
const PCI_CAPABILITY_LIST = 0x34;
const PCI_CAP_ID_MSIX = 0x11;
const MSIX_ENABLE = 0x8000;
const MSIX_MASKALL = 0x4000;

/**
 * The guest's view of a device through a VFIO device file, with QEMU's MSI-X emulation. `rid` is the
 * requester id the interrupt log records for deliveries.
 */
export class VfioGuestAccess implements GuestPciAccess {
  #file: VfioDeviceFile;
  #guest: Guest;
  #rid: Rid;
  #msixCap: number;
  #tableBar = 0;
  #tableOffset = 0;
  #command: number | undefined;
  #msixOn = false;
  /** Table entries the guest programmed (vector → written). */
  readonly #entries = new Set<number>();
  readonly log: Array<{
    kind: 'config' | 'bar';
    write: boolean;
    bar?: number;
    offset: number;
    width: number;
  }> = [];

  constructor(file: VfioDeviceFile, guest: Guest, rid: Rid) {
    this.#file = file;
    this.#guest = guest;
    this.#rid = rid;
    this.#msixCap = this.#findMsix();
  }

  get file(): VfioDeviceFile {
    return this.#file;
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    this.log.push({ kind: 'config', write: false, offset, width });
    return leValue(this.#file.read(REGION(CONFIG_REGION) + BigInt(offset), width));
  }

  configWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    this.log.push({ kind: 'config', write: true, offset, width });
    if (offset === this.#msixCap + 2 && width === 2) {
      this.#msixControl(value);
      return;
    }
    if (offset === PCI_COMMAND && width === 2) this.#command = value;
    this.#file.write(REGION(CONFIG_REGION) + BigInt(offset), le(value, width));
  }

  barRead(bar: number, offset: number, width: 1 | 2 | 4): number {
    this.log.push({ kind: 'bar', write: false, bar, offset, width });
    return leValue(this.#file.read(REGION(bar) + BigInt(offset), width));
  }

  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    this.log.push({ kind: 'bar', write: true, bar, offset, width });
    if (bar === this.#tableBar && offset >= this.#tableOffset && this.#msixCap !== 0) {
      // QEMU keeps the MSI-X table itself; the vector's eventfd is what reaches VFIO.
      this.#entries.add(Math.floor((offset - this.#tableOffset) / 16));
      return;
    }
    this.#file.write(REGION(bar) + BigInt(offset), le(value, width));
  }

  /** Move the guest to another device file (after a migration): Command and MSI-X restored. */
  retarget(file: VfioDeviceFile, rid: Rid): void {
    this.#file = file;
    this.#rid = rid;
    this.#msixCap = this.#findMsix();
    if (this.#command !== undefined)
      this.#file.write(REGION(CONFIG_REGION) + BigInt(PCI_COMMAND), le(this.#command, 2));
    if (this.#msixOn) this.#setIrqs();
  }

  #msixControl(value: number): void {
    const on = (value & MSIX_ENABLE) !== 0 && (value & MSIX_MASKALL) === 0;
    if (on && !this.#msixOn) {
      this.#msixOn = true;
      this.#setIrqs();
    } else if ((value & MSIX_ENABLE) === 0 && this.#msixOn) {
      this.#msixOn = false;
      const rc = this.#file.ioctl(VFIO_DEVICE_SET_IRQS, irqSetBytes(0x20 | 0x1, 2, 0, 0, []));
      if (rc !== 0) throw new Error(`SET_IRQS disable: ${rc}`);
    }
  }

  #setIrqs(): void {
    const count = Math.max(...this.#entries) + 1;
    const fds: number[] = [];
    for (let v = 0; v < count; v++) {
      const { fd } = this.#file.fds.eventfd(() => {
        this.#guest.irqs.pending.push(v);
        this.#guest.irqs.log.push({ vector: v, rid: this.#rid });
      });
      fds.push(fd);
    }
    // DATA_EVENTFD (1 << 2) | ACTION_TRIGGER (1 << 5), index MSI-X (2).
    const rc = this.#file.ioctl(VFIO_DEVICE_SET_IRQS, irqSetBytes(0x24, 2, 0, count, fds));
    if (rc !== 0) throw new Error(`SET_IRQS MSI-X: ${rc}`);
  }

  #findMsix(): number {
    const rd = (o: number, w: number) => leValue(this.#file.read(REGION(CONFIG_REGION) + BigInt(o), w));
    let at = rd(PCI_CAPABILITY_LIST, 1) & 0xfc;
    for (let i = 0; i < 48 && at !== 0; i++) {
      if (rd(at, 1) === PCI_CAP_ID_MSIX) {
        const t = rd(at + 4, 4);
        this.#tableBar = t & 7;
        this.#tableOffset = t & ~7;
        return at;
      }
      at = rd(at + 1, 1) & 0xfc;
    }
    return 0;
  }
}

function irqSetBytes(flags: number, index: number, start: number, count: number, fds: number[]): Uint8Array {
  const out = new Uint8Array(20 + 4 * fds.length);
  out.set(le(out.length, 4), 0);
  out.set(le(flags, 4), 4);
  out.set(le(index, 4), 8);
  out.set(le(start, 4), 12);
  out.set(le(count, 4), 16);
  fds.forEach((fd, i) => {
    out.set(le(fd, 4), 20 + 4 * i);
  });
  return out;
}

/** The driver-core device of a PCI name. */
export function deviceOf(host: Host, name: string): Device {
  const d = host.kernel.findPciDevice(name);
  if (d === undefined) throw new Error(`no ${name}`);
  return d;
}
