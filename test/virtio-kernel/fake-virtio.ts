/**
 * A minimal fake virtio-net PF for the kernel driver's tests, written from facts/virtio.md §1-§3 and
 * sharing no code with the driver: the vendor capabilities (common @0x0, ISR @0x1000, device @0x2000,
 * notify @0x3000 with multiplier 4, PCI_CFG) in BAR4, MSI-X in BAR1, a register file for the common
 * configuration, split rings read by DMA (direct and indirect descriptors), an admin queue whose
 * answers a test scripts, and a loopback data path (a TX frame comes back on RX).
 *
 * The host around it is built by hand like lab/host/host.ts: fabric, root port, RAM, IOMMU, DMA, MSI
 * controller and a kernel. It stands in until the real virtio-net model lands in the default topology.
 */
import { DEFAULT_COSTS, type Rid, VirtualClock } from '../../src/base/index.js';
import {
  type Capability,
  createHostBridge,
  createRootPort,
  DmaEngine,
  defaultVfRouting,
  endpointPcie,
  type Hpa,
  type HwContext,
  Iommu,
  MsiController,
  Msix,
  PcieFabric,
  PciFunction,
  SparseMemory,
} from '../../src/hw/index.js';
import { Kernel } from '../../src/kernel/index.js';
import { pci } from '../../src/spec/index.js';

// Feature bits (facts §1.10, §1.12), written out.
export const F = {
  MAC: 5,
  STATUS: 16,
  CTRL_VQ: 17,
  INDIRECT_DESC: 28,
  VERSION_1: 32,
  ACCESS_PLATFORM: 33,
  SR_IOV: 37,
  ADMIN_VQ: 41,
} as const;
export const bit = (b: number): bigint => 1n << BigInt(b);

const BAR_MSIX = 1;
const BAR_VIRTIO = 4;
const COMMON_AT = 0x0;
const ISR_AT = 0x1000;
const DEVICE_AT = 0x2000;
const NOTIFY_AT = 0x3000;
const NOTIFY_MULT = 4;
const NO_VECTOR = 0xffff;

/** One admin command as the device saw it. */
export interface SeenAdminCmd {
  /** The device-readable bytes, concatenated over the chain. */
  readonly readable: Uint8Array;
  /** Sizes of the device-writable segments. */
  readonly writableSizes: number[];
  /** Readable segment sizes (24 + data). */
  readonly readableSizes: number[];
  readonly indirect: boolean;
}

export type AdminResponder = (readable: Uint8Array) => {
  status: number;
  qualifier: number;
  result?: Uint8Array;
};

interface Queue {
  size: number;
  maxSize: number;
  msix: number;
  enable: number;
  desc: bigint;
  avail: bigint;
  used: bigint;
  lastAvail: number;
}

export interface FakeOptions {
  readonly features?: bigint;
  readonly numQueues?: number;
  readonly adminQueueIndex?: number;
  /** A device that refuses FEATURES_OK. */
  readonly refuseFeatures?: boolean;
  readonly mac?: readonly number[];
  readonly totalVfs?: number;
  /** The admin answers; default: `standardResponder()`. */
  readonly responder?: AdminResponder;
}

function le64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/**
 * A device that supports opcodes 0..17 (0x3FFFF) on the SR-IOV group, the dev-parts capability with
 * limits get 4 / set 3, and answers everything else from `rest` (OK without a result by default).
 */
export function standardResponder(rest?: AdminResponder): AdminResponder {
  return (cmd) => {
    const opcode = cmd[0]! | (cmd[1]! << 8);
    switch (opcode) {
      case 0x0:
        return { status: 0, qualifier: 0, result: le64(0x3ffffn) };
      case 0x7:
        return { status: 0, qualifier: 0, result: le64(1n) };
      case 0x8:
        return { status: 0, qualifier: 0, result: Uint8Array.of(4, 3) };
      default:
        return rest?.(cmd) ?? { status: 0, qualifier: 0 };
    }
  };
}

export const DEFAULT_FEATURES =
  bit(F.VERSION_1) |
  bit(F.ACCESS_PLATFORM) |
  bit(F.SR_IOV) |
  bit(F.ADMIN_VQ) |
  bit(F.MAC) |
  bit(F.STATUS) |
  bit(F.CTRL_VQ) |
  bit(F.INDIRECT_DESC);

const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, at: number): bigint => BigInt(u32(b, at)) | (BigInt(u32(b, at + 4)) << 32n);

function vendorCap(
  cfgType: number,
  bar: number,
  offset: number,
  length: number,
  extra = 0,
  mult = 0,
): Capability {
  return {
    id: pci.PCI_CAP_ID_VNDR,
    sizeBytes: 16 + extra,
    init(cs, at) {
      cs.set(at + 2, 1, 16 + extra);
      cs.set(at + 3, 1, cfgType);
      cs.set(at + 4, 1, bar);
      cs.set(at + 8, 4, offset);
      cs.set(at + 12, 4, length);
      if (extra === 4 && cfgType === 2) cs.set(at + 16, 4, mult);
    },
  };
}

export class FakeVirtioNet {
  readonly statusWrites: number[] = [];
  readonly driverFeatures: bigint[] = [0n, 0n];
  readonly adminCmds: SeenAdminCmd[] = [];
  readonly notifies: number[] = [];
  responder: AdminResponder;
  features: bigint;
  fn!: PciFunction;
  status = 0;
  configVector = NO_VECTOR;
  readonly queues: Queue[];
  readonly adminIndex: number;
  #dfselect = 0;
  #gfselect = 0;
  #qsel = 0;
  readonly #o: FakeOptions;
  readonly #ctx: HwContext;
  readonly #msix: Msix;
  readonly #mac: readonly number[];

  constructor(ctx: HwContext, o: FakeOptions = {}) {
    this.#ctx = ctx;
    this.#o = o;
    this.features = o.features ?? DEFAULT_FEATURES;
    this.responder = o.responder ?? standardResponder();
    const numq = o.numQueues ?? 3;
    this.adminIndex = o.adminQueueIndex ?? numq;
    this.queues = Array.from({ length: numq + 1 }, (_, i) =>
      this.#newQueue(i === this.adminIndex ? 64 : 256),
    );
    this.#msix = new Msix({
      vectors: 8,
      tableBar: BAR_MSIX,
      tableOffset: 0,
      pbaBar: BAR_MSIX,
      pbaOffset: 0x800,
    });
    this.#mac = o.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
  }

  #newQueue(maxSize: number): Queue {
    return {
      size: maxSize,
      maxSize,
      msix: NO_VECTOR,
      enable: 0,
      desc: 0n,
      avail: 0n,
      used: 0n,
      lastAvail: 0,
    };
  }

  build(): PciFunction {
    const msix = this.#msix;
    this.fn = new PciFunction(this.#ctx, {
      name: 'fakevnet0',
      role: { kind: 'endpoint' },
      identity: {
        vendorId: 0x1af4,
        deviceId: 0x1041,
        revisionId: 1,
        classCode: 0x020000,
        subsystemVendorId: 0x1af4,
        subsystemId: 0x1100,
      },
      bars: [
        undefined,
        { kind: 'mem32', sizeBytes: 4096, prefetchable: false },
        undefined,
        undefined,
        { kind: 'mem64', sizeBytes: 16384n, prefetchable: true },
      ],
      msix,
      interruptPin: 1,
      capabilities: (fn) => [
        msix.capability(),
        endpointPcie(fn),
        vendorCap(1, BAR_VIRTIO, COMMON_AT, 64),
        vendorCap(3, BAR_VIRTIO, ISR_AT, 1),
        vendorCap(4, BAR_VIRTIO, DEVICE_AT, 0x100),
        vendorCap(2, BAR_VIRTIO, NOTIFY_AT, 0x1000, 4, NOTIFY_MULT),
        vendorCap(5, 0, 0, 0, 4),
      ],
      sriov: {
        totalVfs: this.#o.totalVfs ?? 8,
        vfDeviceId: 0x1041,
        vfBars: [undefined, { kind: 'mem32', sizeBytes: 4096, prefetchable: false }],
        routing: defaultVfRouting,
        createVf: (pf, index) =>
          new PciFunction(this.#ctx, {
            name: `${pf.name}/vf${index}`,
            role: { kind: 'vf', pf, index },
            identity: { ...pf.identity, deviceId: 0x1041 },
          }),
      },
      model: {
        barRead: (bar, off, width) => (bar === BAR_VIRTIO ? this.#read(off, width) : 0),
        barWrite: (bar, off, width, value) => {
          if (bar === BAR_VIRTIO) this.#write(off, width, value);
        },
      },
    });
    return this.fn;
  }

  #q(): Queue | undefined {
    return this.queues[this.#qsel];
  }

  #read(off: number, width: number): number {
    if (off >= DEVICE_AT && off < DEVICE_AT + 0x100) {
      const cfg = [...this.#mac, 1, 0];
      let v = 0;
      for (let i = width - 1; i >= 0; i--) v = v * 256 + (cfg[off - DEVICE_AT + i] ?? 0);
      return v;
    }
    if (off === ISR_AT) return 0;
    const q = this.#q();
    switch (off) {
      case 0:
        return this.#dfselect;
      case 4:
        return this.#dfselect > 1 ? 0 : Number((this.features >> BigInt(32 * this.#dfselect)) & 0xffffffffn);
      case 8:
        return this.#gfselect;
      case 12:
        return Number(this.driverFeatures[this.#gfselect] ?? 0n);
      case 16:
        return this.configVector;
      case 18:
        return this.queues.length - 1;
      case 20:
        return this.status;
      case 21:
        return 0;
      case 22:
        return this.#qsel;
      case 24:
        return q?.size ?? 0;
      case 26:
        return q?.msix ?? NO_VECTOR;
      case 28:
        return q?.enable ?? 0;
      case 30:
        return this.#qsel;
      case 60:
        return this.adminIndex;
      case 62:
        return 1;
      default:
        return 0;
    }
  }

  #write(off: number, width: number, value: number): void {
    if (off >= NOTIFY_AT) {
      this.notifies.push(value);
      this.#process((off - NOTIFY_AT) / NOTIFY_MULT);
      return;
    }
    const q = this.#q();
    const lo = (old: bigint): bigint => (old & ~0xffffffffn) | BigInt(value >>> 0);
    const hi = (old: bigint): bigint => (old & 0xffffffffn) | (BigInt(value >>> 0) << 32n);
    switch (off) {
      case 0:
        this.#dfselect = value;
        return;
      case 8:
        this.#gfselect = value;
        return;
      case 12:
        this.driverFeatures[this.#gfselect] = BigInt(value >>> 0);
        return;
      case 16:
        this.configVector = value;
        return;
      case 20:
        this.statusWrites.push(value);
        if (value === 0) this.#reset();
        else this.status = this.#o.refuseFeatures ? value & ~8 : value;
        return;
      case 22:
        this.#qsel = value;
        return;
      case 24:
        if (q) q.size = value;
        return;
      case 26:
        if (q) q.msix = value;
        return;
      case 28:
        if (q) q.enable = value;
        return;
      case 32:
        if (q) q.desc = lo(q.desc);
        return;
      case 36:
        if (q) q.desc = hi(q.desc);
        return;
      case 40:
        if (q) q.avail = lo(q.avail);
        return;
      case 44:
        if (q) q.avail = hi(q.avail);
        return;
      case 48:
        if (q) q.used = lo(q.used);
        return;
      case 52:
        if (q) q.used = hi(q.used);
        return;
      default:
        void width;
    }
  }

  #reset(): void {
    this.status = 0;
    this.configVector = NO_VECTOR;
    this.driverFeatures[0] = 0n;
    this.driverFeatures[1] = 0n;
    for (let i = 0; i < this.queues.length; i++) {
      this.queues[i] = this.#newQueue(this.queues[i]!.maxSize);
    }
  }

  get #mem(): SparseMemory<Hpa> {
    return this.#ctx.dma!.memory;
  }

  /** The chain at `head` as segments (indirect tables followed). */
  #chain(
    q: Queue,
    head: number,
  ): { segs: { addr: bigint; len: number; write: boolean }[]; indirect: boolean } {
    const mem = this.#mem;
    const segs: { addr: bigint; len: number; write: boolean }[] = [];
    const d = mem.read((q.desc + BigInt(16 * head)) as Hpa, 16);
    if ((u16(d, 12) & 4) !== 0) {
      const table = mem.read(u64(d, 0) as Hpa, u32(d, 8));
      for (let i = 0; ; ) {
        const flags = u16(table, i * 16 + 12);
        segs.push({ addr: u64(table, i * 16), len: u32(table, i * 16 + 8), write: (flags & 2) !== 0 });
        if ((flags & 1) === 0) break;
        i = u16(table, i * 16 + 14);
      }
      return { segs, indirect: true };
    }
    for (let i = head; ; ) {
      const e = mem.read((q.desc + BigInt(16 * i)) as Hpa, 16);
      const flags = u16(e, 12);
      segs.push({ addr: u64(e, 0), len: u32(e, 8), write: (flags & 2) !== 0 });
      if ((flags & 1) === 0) break;
      i = u16(e, 14);
    }
    return { segs, indirect: false };
  }

  #pushUsed(q: Queue, head: number, len: number): void {
    const mem = this.#mem;
    const usedIdx = mem.readU16((q.used + 2n) as Hpa);
    const at = q.used + 4n + BigInt(8 * (usedIdx % q.size));
    mem.writeU32(at as Hpa, head);
    mem.writeU32((at + 4n) as Hpa, len);
    mem.writeU16((q.used + 2n) as Hpa, (usedIdx + 1) & 0xffff);
  }

  #interrupt(q: Queue): void {
    if (q.msix === NO_VECTOR || this.#ctx.msi === undefined) return;
    const cap = this.fn.capabilityOffset(pci.PCI_CAP_ID_MSIX)!;
    const ctrl = this.fn.config.get(cap + pci.PCI_MSIX_FLAGS, 2);
    if ((ctrl & pci.PCI_MSIX_FLAGS_ENABLE) === 0) return;
    const e = q.msix * 16;
    const lo = this.#msix.read(BAR_MSIX, e, 4) >>> 0;
    const hi = this.#msix.read(BAR_MSIX, e + 4, 4) >>> 0;
    const data = this.#msix.read(BAR_MSIX, e + 8, 4) >>> 0;
    if ((this.#msix.read(BAR_MSIX, e + 12, 4) & 1) !== 0) return;
    this.#ctx.msi.deliver((BigInt(hi) << 32n) | BigInt(lo), data, this.fn.placement!.rid as Rid);
  }

  /** Frames the loopback put on RX that found no buffer. */
  rxNoBuffer = 0;
  /** Interrupts sent, per queue. */
  readonly interrupts = new Map<number, number>();

  #process(index: number): void {
    const q = this.queues[index];
    // RX buffers wait until the loopback fills them.
    if (index === 0 || q === undefined || q.enable === 0 || (this.status & 4) === 0) return;
    const mem = this.#mem;
    const availIdx = mem.readU16((q.avail + 2n) as Hpa);
    while (q.lastAvail !== availIdx) {
      const head = mem.readU16((q.avail + 4n + BigInt(2 * (q.lastAvail % q.size))) as Hpa);
      q.lastAvail = (q.lastAvail + 1) & 0xffff;
      const { segs, indirect } = this.#chain(q, head);
      if (index === this.adminIndex) this.#admin(q, head, segs, indirect);
      else if (index === 1) this.#loopback(head, segs);
    }
  }

  #admin(
    q: Queue,
    head: number,
    segs: { addr: bigint; len: number; write: boolean }[],
    indirect: boolean,
  ): void {
    const mem = this.#mem;
    const r = segs.filter((s) => !s.write);
    const w = segs.filter((s) => s.write);
    const readable = new Uint8Array(r.reduce((n, s) => n + s.len, 0));
    let at = 0;
    for (const s of r) {
      readable.set(mem.read(s.addr as Hpa, s.len), at);
      at += s.len;
    }
    this.adminCmds.push({
      readable,
      readableSizes: r.map((s) => s.len),
      writableSizes: w.map((s) => s.len),
      indirect,
    });
    const ans = this.responder(readable);
    const out = new Uint8Array(8 + (ans.result?.length ?? 0));
    out[0] = ans.status & 0xff;
    out[1] = ans.status >> 8;
    out[2] = ans.qualifier & 0xff;
    out[3] = ans.qualifier >> 8;
    if (ans.result) out.set(ans.result, 8);
    let written = 0;
    for (const s of w) {
      const n = Math.min(s.len, out.length - written);
      if (n <= 0) break;
      mem.write(s.addr as Hpa, out.subarray(written, written + n), 'dma');
      written += n;
    }
    this.#pushUsed(q, head, written);
    this.#count(this.adminIndex);
    this.#interrupt(q);
  }

  #count(q: number): void {
    this.interrupts.set(q, (this.interrupts.get(q) ?? 0) + 1);
  }

  #loopback(head: number, segs: { addr: bigint; len: number; write: boolean }[]): void {
    const mem = this.#mem;
    const tx = this.queues[1]!;
    const rx = this.queues[0]!;
    const bytes = segs.filter((s) => !s.write).map((s) => mem.read(s.addr as Hpa, s.len));
    const total = bytes.reduce((n, b) => n + b.length, 0);
    this.#pushUsed(tx, head, 0);
    this.#interrupt(tx);
    const availIdx = mem.readU16((rx.avail + 2n) as Hpa);
    if (rx.lastAvail === availIdx) {
      this.rxNoBuffer++;
      return;
    }
    const rxHead = mem.readU16((rx.avail + 4n + BigInt(2 * (rx.lastAvail % rx.size))) as Hpa);
    rx.lastAvail = (rx.lastAvail + 1) & 0xffff;
    const seg = this.#chain(rx, rxHead).segs[0]!;
    let at = seg.addr;
    for (const b of bytes) {
      mem.write(at as Hpa, b, 'dma');
      at += BigInt(b.length);
    }
    this.#pushUsed(rx, rxHead, total);
    this.#interrupt(rx);
  }
}

export interface FakeHost {
  readonly kernel: Kernel;
  readonly fake: FakeVirtioNet;
  readonly clock: VirtualClock;
  readonly msi: MsiController | undefined;
  readonly pfName: string;
}

/** A host with one root port (buses 1-2) and the fake PF at 01:00.0; `msi: false` leaves no MSI controller. */
export function fakeHost(o: FakeOptions & { msi?: boolean } = {}): FakeHost {
  const clock = new VirtualClock();
  const ctx: { -readonly [K in keyof HwContext]: HwContext[K] } = {
    clock,
    costsFor: () => DEFAULT_COSTS,
    trace: () => {},
  };
  const memory = new SparseMemory<Hpa>({ sizeBytes: 64n << 30n, name: 'fake RAM' });
  const iommu = new Iommu(ctx);
  ctx.dma = new DmaEngine(ctx, iommu, memory);
  const msi = o.msi === false ? undefined : new MsiController(clock);
  if (msi !== undefined) ctx.msi = msi;
  const fabric = new PcieFabric(ctx, 0);
  fabric.attachToRootBus(0, createHostBridge(ctx, 0x1f00, 0x0b00));
  const port = createRootPort(ctx, {
    name: 'rp',
    vendorId: 0x1f00,
    deviceId: 0x0b01,
    portNumber: 1,
    ariForwarding: true,
    linkSpeed: 4,
    linkWidth: 16,
  });
  fabric.attachToRootBus(1 << 3, port);
  const rpRid = (1 << 3) as Rid;
  fabric.configWrite(rpRid, pci.PCI_PRIMARY_BUS, 1, 0);
  fabric.configWrite(rpRid, pci.PCI_SECONDARY_BUS, 1, 1);
  fabric.configWrite(rpRid, pci.PCI_SUBORDINATE_BUS, 1, 2);
  const fake = new FakeVirtioNet(ctx, o);
  fabric.attachBelow(port, (1 << 8) as Rid, fake.build());
  const kernel = new Kernel({
    access: {
      read: (_d, rid, offset, width) => fabric.configRead(rid, offset, width),
      write: (_d, rid, offset, width, value) => fabric.configWrite(rid, offset, width, value),
    },
    domain: 0,
    clock,
    costsFor: () => DEFAULT_COSTS,
    apertures: {
      mem32: { base: 0xc000_0000n, limit: 0xfbff_ffffn },
      pref64: { base: 0x3800_0000_0000n, limit: 0x3fff_ffff_ffffn },
    },
    mmio: { read: (a, w) => fabric.mmioRead(a, w), write: (a, w, v) => fabric.mmioWrite(a, w, v) },
    memory,
    msi: () => msi,
  });
  kernel.boot();
  return { kernel, fake, clock, msi, pfName: '0000:01:00.0' };
}
