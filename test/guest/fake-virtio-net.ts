/**
 * A small virtio-net PCI function for driver tests, written from the tables of facts/virtio.md with
 * literal offsets and sharing no code with src/: config space with a capability list (vendor caps per
 * 1.2, MSI-X), the modern BAR (QEMU's example layout from 1.4: common cfg at 0x0000, ISR at 0x1000,
 * device cfg at 0x2000, notify at 0x3000 with multiplier 4) in BAR4, the MSI-X table in BAR1, and the
 * legacy header of 1.11 in BAR0. Rings are walked per section 2 (ring-fixtures.ts). It records every
 * register access, every frame sent, every control request, and the interrupts it raised.
 *
 * One queue pair and a control queue: 0 = rx, 1 = tx, 2 = ctrl. It processes a queue when notified (or
 * when a test says so, while `autoProcess` is off); it never looks at an indirect table.
 */
import type { ArrayQueueMemory } from '../virtqueue/array-queue-memory.js';
import { getDesc, getU16, putU16, putUsedElem } from '../virtqueue/ring-fixtures.js';

export type Region = 'cfg' | 'common' | 'isr' | 'device' | 'notify' | 'msix' | 'legacy';
/** One register access: [R|W, region, offset inside the region, width, value]. */
export type Access = [op: 'R' | 'W', region: Region, offset: number, width: number, value: number];

export interface FakeOptions {
  readonly offered: bigint;
  /** Max size per queue (rx, tx, ctrl); 0 = queue absent. */
  readonly queueSizes?: readonly number[];
  /** MSI-X Table Size; 0 = no MSI-X capability. */
  readonly msixTableSize?: number;
  readonly mac?: readonly number[];
  readonly netStatus?: number;
  /** Never keep FEATURES_OK. */
  readonly refuseFeaturesOk?: boolean;
  /** Vectors the device refuses (reads back 0xFFFF). */
  readonly refuseVectors?: readonly number[];
  /** A broken device: this queue keeps a PFN (0x5) through reset. */
  readonly pfnSurvivesReset?: number;
}

export interface QueueState {
  size: number;
  vector: number;
  enabled: boolean;
  desc: bigint;
  avail: bigint;
  used: bigint;
  lastAvail: number;
  usedIdx: number;
}

// Config space layout of the fake.
const CAP_COMMON = 0x40;
const CAP_NOTIFY = 0x50;
const CAP_ISR = 0x64;
const CAP_DEVICE = 0x74;
const CAP_MSIX = 0x84;
const MODERN_BAR = 4;
const MSIX_BAR = 1;
const COMMON_AT = 0x0000;
const ISR_AT = 0x1000;
const DEVICE_AT = 0x2000;
const NOTIFY_AT = 0x3000;
const NOTIFY_MULT = 4;
const NO_VECTOR = 0xffff;
const VERSION_1 = 1n << 32n;

export class FakeVirtioNet {
  readonly trace: Access[] = [];
  readonly transmitted: Array<{ hdr: Uint8Array; frame: Uint8Array }> = [];
  readonly ctrlRequests: Array<{ readable: Uint8Array; writableLens: number[] }> = [];
  /** MSI-X messages sent: vector and the data word programmed for it. */
  readonly msiSent: Array<{ vector: number; addr: bigint; data: number }> = [];
  /** Answer control requests with this ack. */
  ctrlAck = 0;
  /** Process a queue as soon as it is notified. */
  autoProcess = true;
  promisc = false;
  allmulti = false;
  readonly mem: ArrayQueueMemory;
  readonly cfg = new Uint8Array(256);
  readonly msixTable: Uint8Array;
  readonly options: FakeOptions;
  mac: number[];
  netStatus: number;
  status = 0;
  isr = 0;
  generation = 0;
  dfselect = 0;
  gfselect = 0;
  driverFeatures = [0, 0];
  configVector = NO_VECTOR;
  queueSelect = 0;
  queues: QueueState[] = [];
  readonly notified: number[] = [];

  constructor(mem: ArrayQueueMemory, options: FakeOptions) {
    this.mem = mem;
    this.options = options;
    this.mac = [...(options.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])];
    this.netStatus = options.netStatus ?? 1;
    this.msixTable = new Uint8Array(16 * Math.max(1, options.msixTableSize ?? 0));
    const v = new DataView(this.cfg.buffer);
    v.setUint16(0x00, 0x1af4, true);
    v.setUint16(0x02, 0x1041, true);
    v.setUint16(0x06, 0x10, true); // status: capability list
    this.cfg[0x34] = CAP_COMMON;
    const vcap = (at: number, next: number, len: number, type: number, offset: number, length: number) => {
      this.cfg.set([0x09, next, len, type, MODERN_BAR, 0, 0, 0], at);
      v.setUint32(at + 8, offset, true);
      v.setUint32(at + 12, length, true);
    };
    const msix = (options.msixTableSize ?? 0) > 0;
    vcap(CAP_COMMON, CAP_NOTIFY, 16, 1, COMMON_AT, 0x40);
    vcap(CAP_NOTIFY, CAP_ISR, 20, 2, NOTIFY_AT, 0x1000);
    v.setUint32(CAP_NOTIFY + 16, NOTIFY_MULT, true);
    vcap(CAP_ISR, CAP_DEVICE, 16, 3, ISR_AT, 1);
    vcap(CAP_DEVICE, msix ? CAP_MSIX : 0, 16, 4, DEVICE_AT, 0x1c);
    if (msix) {
      this.cfg.set([0x11, 0], CAP_MSIX);
      v.setUint16(CAP_MSIX + 2, options.msixTableSize! - 1, true);
      v.setUint32(CAP_MSIX + 4, 0x0000 | MSIX_BAR, true); // table at BAR1 + 0
      v.setUint32(CAP_MSIX + 8, 0x0800 | MSIX_BAR, true); // PBA at BAR1 + 0x800
    }
    this.#resetDevice();
  }

  get msixEnabled(): boolean {
    return (new DataView(this.cfg.buffer).getUint16(CAP_MSIX + 2, true) & 0x8000) !== 0;
  }

  /** Offered & accepted, as the device sees it. */
  get negotiated(): bigint {
    return BigInt(this.driverFeatures[0]!) | (BigInt(this.driverFeatures[1]!) << 32n);
  }

  /** BAR accesses only, without the config-space ones. */
  barTrace(): Access[] {
    return this.trace.filter((a) => a[1] !== 'cfg');
  }

  // ---- the GuestPciAccess surface ----

  configRead(offset: number, width: 1 | 2 | 4): number {
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + this.cfg[offset + i]!;
    this.trace.push(['R', 'cfg', offset, width, value]);
    return value;
  }

  configWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    this.trace.push(['W', 'cfg', offset, width, value]);
    const writable = offset === 0x04 || (offset === CAP_MSIX + 2 && this.options.msixTableSize);
    if (!writable) return;
    const v = new DataView(this.cfg.buffer);
    if (offset === 0x04) v.setUint16(0x04, value, true);
    else v.setUint16(offset, (v.getUint16(offset, true) & 0x07ff) | (value & 0xc000), true);
  }

  barRead(bar: number, offset: number, width: 1 | 2 | 4): number {
    const [region, at] = this.#region(bar, offset);
    const value = this.#read(region, at, width);
    this.trace.push(['R', region, at, width, value]);
    return value;
  }

  barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    const [region, at] = this.#region(bar, offset);
    this.trace.push(['W', region, at, width, value]);
    this.#write(region, at, width, value);
  }

  // ---- test controls ----

  /** Put one received frame into the next RX buffer; false if the driver posted none. */
  deliver(frame: Uint8Array): boolean {
    const q = this.queues[0]!;
    if (!this.#live(q) || getU16(this.mem, q.avail + 2n) === q.lastAvail) return false;
    const head = getU16(this.mem, q.avail + 4n + BigInt(2 * (q.lastAvail % q.size)));
    q.lastAvail = (q.lastAvail + 1) & 0xffff;
    const bytes = new Uint8Array(this.#hdrLen() + frame.length);
    bytes.set(frame, this.#hdrLen());
    let written = 0;
    for (const d of this.#chain(q, head)) {
      if ((d.flags & 2) === 0) throw new Error('fake: device-readable descriptor in an RX chain');
      const n = Math.min(d.len, bytes.length - written);
      this.mem.write(d.addr, bytes.subarray(written, written + n));
      written += n;
    }
    if (written < bytes.length) throw new Error('fake: RX buffer too small');
    this.#used(0, head, written);
    return true;
  }

  /** Use the buffers waiting on queue `index` (what a notify does while autoProcess is on). */
  process(index: number, limit = Number.POSITIVE_INFINITY): number {
    const q = this.queues[index]!;
    let n = 0;
    while (n < limit && this.#live(q) && getU16(this.mem, q.avail + 2n) !== q.lastAvail) {
      const head = getU16(this.mem, q.avail + 4n + BigInt(2 * (q.lastAvail % q.size)));
      q.lastAvail = (q.lastAvail + 1) & 0xffff;
      const chain = this.#chain(q, head);
      const readable = concat(
        chain.filter((d) => (d.flags & 2) === 0).map((d) => this.mem.read(d.addr, d.len)),
      );
      const writable = chain.filter((d) => (d.flags & 2) !== 0);
      if (index === 1) {
        this.transmitted.push({
          hdr: readable.slice(0, this.#hdrLen()),
          frame: readable.slice(this.#hdrLen()),
        });
        this.#used(1, head, 0);
      } else if (index === 2) {
        this.ctrlRequests.push({ readable, writableLens: writable.map((d) => d.len) });
        this.#applyCtrl(readable);
        this.mem.write(writable[0]!.addr, Uint8Array.of(this.ctrlAck));
        this.#used(2, head, 1);
      } else {
        throw new Error('fake: the RX queue is filled by deliver()');
      }
      n++;
    }
    return n;
  }

  /** A device config change: new link status, generation bump, config interrupt. */
  changeLinkStatus(netStatus: number): void {
    this.netStatus = netStatus;
    this.generation = (this.generation + 1) & 0xff;
    this.#interrupt(this.configVector, 2);
  }

  /** Take the MSI-X vectors raised since the last call. */
  takeVectors(): number[] {
    return this.msiSent.splice(0).map((m) => m.vector);
  }

  /** Queue state as a device would carry it across a migration (facts 4.3 plus ring progress). */
  saveQueues(): QueueState[] {
    return this.queues.map((q) => ({ ...q }));
  }

  /** Take a source device's state: features, status, queues, MSI-X (the hypervisor restores that). */
  restoreFrom(src: FakeVirtioNet): void {
    this.driverFeatures = [...src.driverFeatures];
    this.status = src.status;
    this.configVector = src.configVector;
    this.queues = src.saveQueues();
    this.cfg.set(src.cfg);
    this.msixTable.set(src.msixTable);
    this.mac = [...src.mac];
  }

  // ---- internals ----

  #resetDevice(): void {
    this.status = 0;
    this.isr = 0;
    this.dfselect = 0;
    this.gfselect = 0;
    this.driverFeatures = [0, 0];
    this.configVector = NO_VECTOR;
    this.queueSelect = 0;
    const sizes = this.options.queueSizes ?? [256, 256, 64];
    this.queues = sizes.map((size) => ({
      size,
      vector: NO_VECTOR,
      enabled: false,
      desc: 0n,
      avail: 0n,
      used: 0n,
      lastAvail: 0,
      usedIdx: 0,
    }));
    const sticky = this.options.pfnSurvivesReset;
    if (sticky !== undefined) this.queues[sticky]!.desc = 0x5000n;
  }

  #region(bar: number, offset: number): [Region, number] {
    if (bar === 0) return ['legacy', offset];
    if (bar === MSIX_BAR) return ['msix', offset];
    if (bar !== MODERN_BAR) throw new Error(`fake: BAR${bar} is not implemented`);
    for (const [region, at] of [
      ['notify', NOTIFY_AT],
      ['device', DEVICE_AT],
      ['isr', ISR_AT],
      ['common', COMMON_AT],
    ] as const) {
      if (offset >= at) return [region, offset - at];
    }
    throw new Error('unreachable');
  }

  #hdrLen(): number {
    return (this.negotiated & (VERSION_1 | (1n << 15n))) !== 0n ? 12 : 10;
  }

  #live(q: QueueState): boolean {
    return (this.status & 4) !== 0 && q.desc !== 0n && (q.enabled || (this.negotiated & VERSION_1) === 0n);
  }

  #sel(): QueueState | undefined {
    return this.queues[this.queueSelect];
  }

  #deviceConfig(): Uint8Array {
    const b = new Uint8Array(0x1c);
    b.set(this.mac, 0);
    new DataView(b.buffer).setUint16(6, this.netStatus, true);
    return b;
  }

  #read(region: Region, at: number, width: number): number {
    switch (region) {
      case 'common':
        return this.#readCommon(at);
      case 'isr': {
        const v = this.isr;
        this.isr = 0;
        return v;
      }
      case 'device':
        return readLe(this.#deviceConfig(), at, width);
      case 'msix':
        return readLe(this.msixTable, at, width);
      case 'legacy':
        return this.#readLegacy(at, width);
      default:
        throw new Error(`fake: read of ${region}`);
    }
  }

  #readCommon(at: number): number {
    const q = this.#sel();
    const hi = (x: bigint) => Number(x >> 32n);
    const lo = (x: bigint) => Number(x & 0xffffffffn);
    switch (at) {
      case 0:
        return this.dfselect;
      case 4:
        return this.dfselect < 2
          ? Number((this.options.offered >> BigInt(32 * this.dfselect)) & 0xffffffffn)
          : 0;
      case 8:
        return this.gfselect;
      case 12:
        return this.driverFeatures[this.gfselect] ?? 0;
      case 16:
        return this.configVector;
      case 18:
        return this.queues.length;
      case 20:
        return this.status;
      case 21:
        return this.generation;
      case 22:
        return this.queueSelect;
      case 24:
        return q?.size ?? 0;
      case 26:
        return q?.vector ?? NO_VECTOR;
      case 28:
        return q?.enabled ? 1 : 0;
      case 30:
        return this.queueSelect; // queue_notify_off = queue index
      case 32:
        return lo(q?.desc ?? 0n);
      case 36:
        return hi(q?.desc ?? 0n);
      case 40:
        return lo(q?.avail ?? 0n);
      case 44:
        return hi(q?.avail ?? 0n);
      case 48:
        return lo(q?.used ?? 0n);
      case 52:
        return hi(q?.used ?? 0n);
      default:
        throw new Error(`fake: common cfg read at ${at}`);
    }
  }

  #readLegacy(at: number, width: number): number {
    const q = this.#sel();
    const devAt = this.msixEnabled ? 24 : 20;
    if (at >= devAt) return readLe(this.#deviceConfig(), at - devAt, width);
    switch (at) {
      case 0:
        return Number(this.options.offered & 0xffffffffn);
      case 4:
        return this.driverFeatures[0]!;
      case 8:
        return q ? Number(q.desc >> 12n) : 0;
      case 12:
        return q?.size ?? 0;
      case 14:
        return this.queueSelect;
      case 18:
        return this.status;
      case 19: {
        const v = this.isr;
        this.isr = 0;
        return v;
      }
      case 20:
        return this.configVector;
      case 22:
        return q?.vector ?? NO_VECTOR;
      default:
        throw new Error(`fake: legacy read at ${at}`);
    }
  }

  #setVector(value: number): number {
    const ok = this.msixEnabled && value < (this.options.msixTableSize ?? 0);
    return ok && !this.options.refuseVectors?.includes(value) ? value : NO_VECTOR;
  }

  #writeStatus(value: number): void {
    if (value === 0) {
      this.#resetDevice();
      return;
    }
    let next = value;
    if ((value & 8) !== 0 && (this.status & 8) === 0) {
      const subset = (this.negotiated & ~this.options.offered) === 0n;
      if (this.options.refuseFeaturesOk || !subset) next &= ~8;
    }
    this.status = next;
  }

  #write(region: Region, at: number, width: number, value: number): void {
    switch (region) {
      case 'common':
        this.#writeCommon(at, value);
        return;
      case 'notify':
        if (at % NOTIFY_MULT !== 0 || width !== 2) throw new Error(`fake: notify write ${at}/${width}`);
        this.#notify(value);
        return;
      case 'msix':
        writeLe(this.msixTable, at, width, value);
        return;
      case 'legacy':
        this.#writeLegacy(at, width, value);
        return;
      default:
        throw new Error(`fake: write to ${region}`);
    }
  }

  #writeCommon(at: number, value: number): void {
    const q = this.#sel();
    const setLo = (x: bigint) => (x & ~0xffffffffn) | BigInt(value >>> 0);
    const setHi = (x: bigint) => (x & 0xffffffffn) | (BigInt(value >>> 0) << 32n);
    switch (at) {
      case 0:
        this.dfselect = value;
        return;
      case 8:
        this.gfselect = value;
        return;
      case 12:
        if (this.gfselect < 2) this.driverFeatures[this.gfselect] = value >>> 0;
        return;
      case 16:
        this.configVector = this.#setVector(value);
        return;
      case 20:
        this.#writeStatus(value);
        return;
      case 22:
        this.queueSelect = value;
        return;
      case 24:
        if (q) q.size = value;
        return;
      case 26:
        if (q) q.vector = this.#setVector(value);
        return;
      case 28:
        if (q) q.enabled = value === 1;
        return;
      case 32:
        if (q) q.desc = setLo(q.desc);
        return;
      case 36:
        if (q) q.desc = setHi(q.desc);
        return;
      case 40:
        if (q) q.avail = setLo(q.avail);
        return;
      case 44:
        if (q) q.avail = setHi(q.avail);
        return;
      case 48:
        if (q) q.used = setLo(q.used);
        return;
      case 52:
        if (q) q.used = setHi(q.used);
        return;
      default:
        throw new Error(`fake: common cfg write at ${at}`);
    }
  }

  #writeLegacy(at: number, width: number, value: number): void {
    const q = this.#sel();
    const devAt = this.msixEnabled ? 24 : 20;
    if (at >= devAt) {
      const off = at - devAt;
      if (off < 6 && width === 1) this.mac[off] = value;
      return;
    }
    switch (at) {
      case 4:
        this.driverFeatures[0] = value >>> 0;
        return;
      case 8: {
        if (value === 0) {
          this.#resetDevice();
          return;
        }
        if (!q) return;
        // facts 1.11: desc at PFN*4096, avail right after 16*qsz bytes, used at the next 4096 boundary
        // after avail (whose size is 2*(3+qsz)).
        q.desc = BigInt(value) * 4096n;
        q.avail = q.desc + BigInt(16 * q.size);
        q.used = q.desc + BigInt(Math.ceil((16 * q.size + 2 * (3 + q.size)) / 4096) * 4096);
        return;
      }
      case 14:
        this.queueSelect = value;
        return;
      case 16:
        if (width !== 2) throw new Error('fake: QUEUE_NOTIFY must be a 2-byte write');
        this.#notify(value);
        return;
      case 18:
        this.#writeStatus(value);
        return;
      case 20:
        this.configVector = this.#setVector(value);
        return;
      case 22:
        if (q) q.vector = this.#setVector(value);
        return;
      default:
        throw new Error(`fake: legacy write at ${at}`);
    }
  }

  #notify(index: number): void {
    this.notified.push(index);
    if (this.autoProcess && index !== 0) this.process(index);
  }

  #chain(q: QueueState, head: number) {
    const out = [];
    for (let i = head, n = 0; ; n++) {
      if (n >= q.size) throw new Error('fake: descriptor loop');
      const d = getDesc(this.mem, q.desc, i);
      if (d.flags & 4) throw new Error('fake: indirect descriptors are not offered');
      out.push(d);
      if ((d.flags & 1) === 0) return out;
      i = d.next;
    }
  }

  #used(index: number, head: number, len: number): void {
    const q = this.queues[index]!;
    putUsedElem(this.mem, q.used, q.usedIdx % q.size, head, len);
    q.usedIdx = (q.usedIdx + 1) & 0xffff;
    putU16(this.mem, q.used + 2n, q.usedIdx);
    if ((getU16(this.mem, q.avail) & 1) === 0) this.#interrupt(q.vector, 1);
  }

  #interrupt(vector: number, isrBit: number): void {
    if (this.msixEnabled) {
      if (vector === NO_VECTOR) return;
      const e = new DataView(this.msixTable.buffer, vector * 16, 16);
      this.msiSent.push({
        vector,
        addr: BigInt(e.getUint32(0, true)) | (BigInt(e.getUint32(4, true)) << 32n),
        data: e.getUint32(8, true),
      });
    } else {
      this.isr |= isrBit;
    }
  }

  #applyCtrl(req: Uint8Array): void {
    const [cls, cmd] = [req[0], req[1]];
    if (this.ctrlAck !== 0) return;
    if (cls === 1 && cmd === 1) this.mac = [...req.subarray(2, 8)];
    if (cls === 0 && cmd === 0) this.promisc = req[2] === 1;
    if (cls === 0 && cmd === 1) this.allmulti = req[2] === 1;
  }
}

function readLe(b: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + (b[at + i] ?? 0);
  return v;
}

function writeLe(b: Uint8Array, at: number, width: number, value: number): void {
  for (let i = 0; i < width; i++) b[at + i] = Math.floor(value / 256 ** i) & 0xff;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
