/**
 * A small host for the virtio-net device tests: a fabric with one root port per virtio-net PF, host
 * memory behind an IOMMU and DMA engine, an MSI controller, everything programmed by config cycles as
 * firmware and a driver would (bus numbers, windows, BARs, VF Enable). No kernel: these tests are the
 * driver. `NetDriver` is a minimal modern virtio-net guest driver that reaches the function only
 * through config cycles and MMIO, keeps its rings in host memory with the guest-side VirtqueueDriver,
 * and counts the MSI-X messages it receives. Register offsets and layouts are written out here from
 * facts/virtio.md (§1.2-1.5, 1.12), not taken from src/.
 */
import { DEFAULT_COSTS, type Rid, VirtualClock, writeLe, writeU64 } from '../../src/base/index.js';
import {
  createDevice,
  createRootPort,
  DmaEngine,
  type Hpa,
  type HwContext,
  type HwTraceEvent,
  Iommu,
  MsiController,
  PcieFabric,
  type PciFunction,
  SparseMemory,
  type VirtioNetPf,
  virtioNetPfOf,
} from '../../src/hw/index.js';
import { type DriverQueueMemory, VirtqueueDriver } from '../../src/vmm/guest/index.js';

// Common configuration offsets (facts 1.3).
export const CC = {
  DFSELECT: 0,
  DF: 4,
  GFSELECT: 8,
  GF: 12,
  MSIX: 16,
  NUMQ: 18,
  STATUS: 20,
  CFGGEN: 21,
  Q_SELECT: 22,
  Q_SIZE: 24,
  Q_MSIX: 26,
  Q_ENABLE: 28,
  Q_NOFF: 30,
  Q_DESCLO: 32,
  Q_DESCHI: 36,
  Q_AVAILLO: 40,
  Q_AVAILHI: 44,
  Q_USEDLO: 48,
  Q_USEDHI: 52,
  ADM_Q_IDX: 60,
  ADM_Q_NUM: 62,
} as const;
export const S = { ACK: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 0x40 } as const;
/** Feature bits (facts 1.10, 1.12). */
export const F = {
  MTU: 3,
  MAC: 5,
  STATUS: 16,
  CTRL_VQ: 17,
  CTRL_RX: 18,
  CTRL_RX_EXTRA: 20,
  CTRL_MAC_ADDR: 23,
  INDIRECT_DESC: 28,
  EVENT_IDX: 29,
  VERSION_1: 32,
  ACCESS_PLATFORM: 33,
  SR_IOV: 37,
  NOTIFICATION_DATA: 38,
  ADMIN_VQ: 41,
} as const;
export const bits = (...n: number[]): bigint => n.reduce((a, b) => a | (1n << BigInt(b)), 0n);
/** BAR4 layout of this device (QEMU's, facts 1.4): common, ISR, device cfg, notify. */
export const ISR_OFF = 0x1000n;
export const DEVCFG_OFF = 0x2000n;
export const NOTIFY_OFF = 0x3000n;
export const NOTIFY_MULT = 4n;
export const RXQ = 0;
export const TXQ = 1;
export const CTRLQ = 2;
export const HDR_BYTES = 12;

export interface Bench {
  readonly ctx: HwContext;
  readonly clock: VirtualClock;
  readonly fabric: PcieFabric;
  readonly memory: SparseMemory<Hpa>;
  readonly iommu: Iommu;
  readonly msi: MsiController;
  readonly pfs: readonly PfHandle[];
}

export interface PfHandle {
  readonly fn: PciFunction;
  readonly model: VirtioNetPf;
  readonly rid: Rid;
  readonly bar1: bigint;
  readonly bar4: bigint;
  readonly vfBar1: bigint;
  readonly vfBar4: bigint;
  readonly sriovAt: number;
}

function walkExt(fabric: PcieFabric, rid: Rid, id: number): number {
  let at = 0x100;
  for (let i = 0; i < 64 && at !== 0; i++) {
    const h = fabric.configRead(rid, at, 4);
    if ((h & 0xffff) === id) return at;
    at = (h >>> 20) & 0xffc;
  }
  throw new Error(`no ext cap ${id}`);
}

export function walkCap(fabric: PcieFabric, rid: Rid, id: number): number {
  let at = fabric.configRead(rid, 0x34, 1);
  for (let i = 0; i < 48 && at !== 0; i++) {
    if (fabric.configRead(rid, at, 1) === id) return at;
    at = fabric.configRead(rid, at + 1, 1);
  }
  throw new Error(`no cap ${id}`);
}

/** One host with `numPfs` virtio-net PFs (each behind its own root port) and `numVfs` VFs each. */
export function bench(numPfs = 1, numVfs = 4): Bench {
  const clock = new VirtualClock();
  const events: HwTraceEvent[] = [];
  const ctx: { -readonly [K in keyof HwContext]: HwContext[K] } = {
    clock,
    costsFor: () => DEFAULT_COSTS,
    trace: (e) => events.push(e),
  };
  const memory = new SparseMemory<Hpa>({ sizeBytes: 1n << 32n, name: 'test RAM' });
  const iommu = new Iommu(ctx);
  ctx.dma = new DmaEngine(ctx, iommu, memory);
  const msi = new MsiController(clock);
  ctx.msi = msi;
  const fabric = new PcieFabric(ctx, 0);
  const pfs: PfHandle[] = [];
  for (let p = 0; p < numPfs; p++) {
    const portDevfn = (p + 1) << 3;
    const port = createRootPort(ctx, {
      name: `rp${p}`,
      vendorId: 0x1f00,
      deviceId: 0x0b01,
      portNumber: p + 1,
      ariForwarding: true,
      linkSpeed: 4,
      linkWidth: 16,
    });
    fabric.attachToRootBus(portDevfn, port);
    const prid = portDevfn as Rid;
    const bus = p + 1;
    const memBase = 0xc000_0000 + p * 0x0100_0000;
    const prefBase = 0x1_0000_0000n + BigInt(p) * 0x1000_0000n;
    fabric.configWrite(prid, 0x18, 1, 0);
    fabric.configWrite(prid, 0x19, 1, bus);
    fabric.configWrite(prid, 0x1a, 1, bus);
    fabric.configWrite(prid, 0x20, 2, memBase >>> 16);
    fabric.configWrite(prid, 0x22, 2, ((memBase + 0x00ff_ffff) >>> 16) & 0xfff0);
    fabric.configWrite(prid, 0x24, 2, Number((prefBase >> 16n) & 0xfff0n) | 1);
    fabric.configWrite(prid, 0x28, 4, Number(prefBase >> 32n));
    const prefLimit = prefBase + 0x0fff_ffffn;
    fabric.configWrite(prid, 0x26, 2, Number((prefLimit >> 16n) & 0xfff0n) | 1);
    fabric.configWrite(prid, 0x2c, 4, Number(prefLimit >> 32n));
    fabric.configWrite(prid, 0x04, 2, 0x0006);
    const pcie = walkCap(fabric, prid, 0x10);
    fabric.configWrite(prid, pcie + 0x28, 2, 0x0020); // ARI Forwarding Enable

    const fn = createDevice(ctx, 'virtio-net', { name: `virtio-net${p}`, totalVfs: 8 });
    const rid = (bus << 8) as Rid;
    fabric.attachBelow(port, rid, fn);
    const bar1 = BigInt(memBase);
    const bar4 = prefBase;
    const vfBar1 = BigInt(memBase + 0x10_0000);
    const vfBar4 = prefBase + 0x100_0000n;
    fabric.configWrite(rid, 0x14, 4, Number(bar1));
    fabric.configWrite(rid, 0x20, 4, Number(bar4 & 0xffff_ffffn));
    fabric.configWrite(rid, 0x24, 4, Number(bar4 >> 32n));
    fabric.configWrite(rid, 0x04, 2, 0x0006);
    const sriovAt = walkExt(fabric, rid, 0x10);
    fabric.configWrite(rid, sriovAt + 0x08, 2, 0x0010); // ARI Capable Hierarchy
    fabric.configWrite(rid, sriovAt + 0x10, 2, numVfs);
    fabric.configWrite(rid, sriovAt + 0x28, 4, Number(vfBar1));
    fabric.configWrite(rid, sriovAt + 0x34, 4, Number(vfBar4 & 0xffff_ffffn));
    fabric.configWrite(rid, sriovAt + 0x38, 4, Number(vfBar4 >> 32n));
    if (numVfs > 0) fabric.configWrite(rid, sriovAt + 0x08, 2, 0x0019); // VFE | MSE | ARI
    const model = virtioNetPfOf(fn);
    if (model === undefined) throw new Error('not a virtio-net PF');
    pfs.push({ fn, model, rid, bar1, bar4, vfBar1, vfBar4, sriovAt });
  }
  clock.advance(DEFAULT_COSTS.vfEnableWaitNs);
  return { ctx, clock, fabric, memory, iommu, msi, pfs };
}

/** Where VF `vfNumber` (1-based) of a PF answers: RID and BARs, from the SR-IOV capability. */
export function vfAddress(
  b: Bench,
  pf: PfHandle,
  vfNumber: number,
): { rid: Rid; bar1: bigint; bar4: bigint } {
  const offset = b.fabric.configRead(pf.rid, pf.sriovAt + 0x14, 2);
  const stride = b.fabric.configRead(pf.rid, pf.sriovAt + 0x16, 2);
  const i = BigInt(vfNumber - 1);
  return {
    rid: (pf.rid + offset + stride * (vfNumber - 1)) as Rid,
    bar1: pf.vfBar1 + i * 0x1000n,
    bar4: pf.vfBar4 + i * 0x4000n,
  };
}

export function hostQueueMemory(memory: SparseMemory<Hpa>): DriverQueueMemory {
  return {
    read: (a, n) => memory.read(a as Hpa, n),
    write: (a, bytes) => memory.write(a as Hpa, bytes),
    readU16: (a) => memory.readU16(a as Hpa),
    writeU16: (a, v) => memory.writeU16(a as Hpa, v),
  };
}

let nextGuestBase = 0x1000_0000n;

/** A minimal modern virtio-net driver for one function. */
export class NetDriver {
  readonly b: Bench;
  rid: Rid;
  bar1: bigint;
  bar4: bigint;
  #msixVectors = 0;
  readonly base: bigint;
  readonly queues = new Map<number, VirtqueueDriver<bigint>>();
  /** MSI messages received, by MSI-X vector. */
  readonly irqs = new Map<number, number>();
  #bump: bigint;
  readonly #mem: DriverQueueMemory;

  constructor(b: Bench, at: { rid: Rid; bar1: bigint; bar4: bigint }) {
    this.b = b;
    this.rid = at.rid;
    this.bar1 = at.bar1;
    this.bar4 = at.bar4;
    this.base = nextGuestBase;
    nextGuestBase += 0x10_0000n;
    this.#bump = this.base + 0x8_0000n;
    this.#mem = hostQueueMemory(b.memory);
    // Bus Master Enable (and Memory Space, which a VF ignores).
    b.fabric.configWrite(this.rid, 0x04, 2, 0x0006);
  }

  r(off: number | bigint, w: 1 | 2 | 4): number {
    return this.b.fabric.mmioRead(this.bar4 + BigInt(off), w);
  }

  w(off: number | bigint, w: 1 | 2 | 4, v: number): void {
    this.b.fabric.mmioWrite(this.bar4 + BigInt(off), w, v);
  }

  get status(): number {
    return this.r(CC.STATUS, 1);
  }

  deviceFeatures(): bigint {
    this.w(CC.DFSELECT, 4, 0);
    const lo = BigInt(this.r(CC.DF, 4) >>> 0);
    this.w(CC.DFSELECT, 4, 1);
    const hi = BigInt(this.r(CC.DF, 4) >>> 0);
    return (hi << 32n) | lo;
  }

  /** Reset, ACK, DRIVER, write `features`, FEATURES_OK; returns the status read back. */
  negotiate(features: bigint): number {
    this.w(CC.STATUS, 1, 0);
    this.w(CC.STATUS, 1, S.ACK);
    this.w(CC.STATUS, 1, S.ACK | S.DRIVER);
    this.w(CC.GFSELECT, 4, 0);
    this.w(CC.GF, 4, Number(features & 0xffff_ffffn));
    this.w(CC.GFSELECT, 4, 1);
    this.w(CC.GF, 4, Number(features >> 32n));
    this.w(CC.STATUS, 1, S.ACK | S.DRIVER | S.FEATURES_OK);
    return this.status;
  }

  alloc(bytes: number): bigint {
    const at = this.#bump;
    this.#bump += BigInt((bytes + 0xfff) & ~0xfff);
    return at;
  }

  /** Program MSI-X: one vector per `vectors` entry, enable; messages are counted in `irqs`. */
  enableMsix(vectors: number, masked: readonly number[] = []): void {
    this.#msixVectors = vectors;
    for (let v = 0; v < vectors; v++) {
      const m = this.b.msi.allocate(() => this.irqs.set(v, (this.irqs.get(v) ?? 0) + 1));
      const e = this.bar1 + BigInt(v * 16);
      this.b.fabric.mmioWrite(e, 4, Number(m.address & 0xffff_ffffn));
      this.b.fabric.mmioWrite(e + 4n, 4, Number(m.address >> 32n));
      this.b.fabric.mmioWrite(e + 8n, 4, m.data);
      this.b.fabric.mmioWrite(e + 12n, 4, masked.includes(v) ? 1 : 0);
    }
    const cap = walkCap(this.b.fabric, this.rid, 0x11);
    this.b.fabric.configWrite(this.rid, cap + 2, 2, 0x8000);
  }

  irq(v: number): number {
    return this.irqs.get(v) ?? 0;
  }

  /** Select queue `index`, size it, place its rings, set its vector, enable it. */
  setupQueue(index: number, size: number, vector: number, eventIdx: boolean): VirtqueueDriver<bigint> {
    const desc = this.base + BigInt(index) * 0x4000n;
    const avail = desc + 0x1000n;
    const used = desc + 0x2000n;
    const q = new VirtqueueDriver<bigint>(this.#mem, {
      size,
      descAddr: desc,
      availAddr: avail,
      usedAddr: used,
      eventIdx,
    });
    this.w(CC.Q_SELECT, 2, index);
    this.w(CC.Q_SIZE, 2, size);
    this.w(CC.Q_MSIX, 2, vector);
    this.w(CC.Q_DESCLO, 4, Number(desc & 0xffff_ffffn));
    this.w(CC.Q_DESCHI, 4, Number(desc >> 32n));
    this.w(CC.Q_AVAILLO, 4, Number(avail & 0xffff_ffffn));
    this.w(CC.Q_AVAILHI, 4, Number(avail >> 32n));
    this.w(CC.Q_USEDLO, 4, Number(used & 0xffff_ffffn));
    this.w(CC.Q_USEDHI, 4, Number(used >> 32n));
    this.w(CC.Q_ENABLE, 2, 1);
    this.queues.set(index, q);
    return q;
  }

  /**
   * The hypervisor's part of a migration: the same guest (rings, buffers, interrupt counts) now sits
   * on another function. PCI config (Bus Master) and the MSI-X table are not device parts: they are
   * programmed again here, as VFIO restores them.
   */
  moveTo(at: { rid: Rid; bar1: bigint; bar4: bigint }): void {
    this.rid = at.rid;
    this.bar1 = at.bar1;
    this.bar4 = at.bar4;
    this.b.fabric.configWrite(this.rid, 0x04, 2, 0x0006);
    if (this.#msixVectors > 0) this.enableMsix(this.#msixVectors);
  }

  kick(index: number): void {
    this.w(CC.Q_SELECT, 2, index);
    const noff = this.r(CC.Q_NOFF, 2);
    this.w(NOTIFY_OFF + BigInt(noff) * NOTIFY_MULT, 2, index);
  }

  /** The full bring-up: features, RX/TX/ctrl queues with vectors 1/2/3 (config 0), DRIVER_OK. */
  up(features: bigint, eventIdx = false): void {
    const st = this.negotiate(features);
    if ((st & S.FEATURES_OK) === 0) throw new Error(`FEATURES_OK refused (status 0x${st.toString(16)})`);
    this.enableMsix(4);
    this.w(CC.MSIX, 2, 0);
    this.setupQueue(RXQ, 16, 1, eventIdx);
    this.setupQueue(TXQ, 16, 2, eventIdx);
    this.setupQueue(CTRLQ, 8, 3, eventIdx);
    this.w(CC.STATUS, 1, S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
  }

  /** The function's mac, from device config. */
  mac(): Uint8Array {
    return Uint8Array.from({ length: 6 }, (_, i) => this.r(DEVCFG_OFF + BigInt(i), 1));
  }

  /** Queue one frame on TX (12-byte zero header first) without kicking. */
  queueTx(frame: Uint8Array): void {
    const q = this.queues.get(TXQ)!;
    const buf = this.alloc(HDR_BYTES + frame.length);
    const bytes = new Uint8Array(HDR_BYTES + frame.length);
    bytes.set(frame, HDR_BYTES);
    this.b.memory.write(buf as Hpa, bytes);
    q.add([{ addr: buf, len: bytes.length }], [], buf);
  }

  send(...frames: Uint8Array[]): void {
    for (const f of frames) this.queueTx(f);
    this.queues.get(TXQ)!.publish();
    this.kick(TXQ);
  }

  /** Post `n` receive buffers of 12 + 1514 bytes. */
  postRx(n: number): void {
    const q = this.queues.get(RXQ)!;
    for (let i = 0; i < n; i++) {
      const buf = this.alloc(HDR_BYTES + 1514);
      q.add([], [{ addr: buf, len: HDR_BYTES + 1514 }], buf);
    }
    q.publish();
    this.kick(RXQ);
  }

  /** Frames the device put in used RX buffers (header stripped), and the headers. */
  received(): Array<{ hdr: Uint8Array; frame: Uint8Array }> {
    const q = this.queues.get(RXQ)!;
    const out: Array<{ hdr: Uint8Array; frame: Uint8Array }> = [];
    for (let u = q.getUsed(); u !== undefined; u = q.getUsed()) {
      const all = this.b.memory.read(u.token as Hpa, u.len);
      out.push({ hdr: all.slice(0, HDR_BYTES), frame: all.slice(HDR_BYTES) });
    }
    return out;
  }

  reclaimTx(): number {
    const q = this.queues.get(TXQ)!;
    let n = 0;
    while (q.getUsed() !== undefined) n++;
    return n;
  }

  /** One control command: {class, command, data} readable, 1-byte ack writable; returns the ack. */
  ctrl(cls: number, cmd: number, data: Uint8Array): number {
    const q = this.queues.get(CTRLQ)!;
    const req = this.alloc(2 + data.length);
    const ack = this.alloc(1);
    this.b.memory.write(req as Hpa, Uint8Array.of(cls, cmd, ...data));
    this.b.memory.writeU8(ack as Hpa, 0xee);
    q.add([{ addr: req, len: 2 + data.length }], [{ addr: ack, len: 1 }], ack);
    q.publish();
    this.kick(CTRLQ);
    const u = q.getUsed();
    if (u === undefined) throw new Error('control command not completed');
    return this.b.memory.readU8(ack as Hpa);
  }
}

/** An Ethernet frame: dst, src, ethertype 0x88b5 (local experimental), then payload. */
export function frame(dst: Uint8Array, src: Uint8Array, payload: number[] | Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  f.set(payload, 14);
  return f;
}

export const mac = (...b: number[]): Uint8Array => Uint8Array.from(b);
export const BROADCAST = mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const EXTERNAL_HOST = mac(0x0e, 0x00, 0x00, 0x00, 0x00, 0x01);

export { writeLe, writeU64 };
