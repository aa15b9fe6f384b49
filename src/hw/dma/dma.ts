/**
 * The DMA engine of one host: how a device model reads and writes memory. Each request goes through
 * the IOMMU (translation, permission, dirty bits) into host memory, and charges modeled time on the
 * host clock: one DMA latency plus bytes over the link bandwidth, from the cost model of the device that
 * issues it (`dmaCostNs`, facts/costs.md: PCIe Gen4 x16 ≈ 25 GB/s).
 *
 * Results, not exceptions: a DMA fault is something hardware does, not a bug, so every operation
 * returns a discriminated union (`{ ok: true, … } | { ok: false, fault }`) that the device model must
 * look at; exceptions are kept for misuse (a negative length). The happy path of a write returns one
 * shared frozen object, and scalar reads go straight to memory when the translation is one range.
 *
 * - A refused request transfers nothing: a write writes no byte, a read returns no bytes, even if only
 *   its last byte faults. It still costs one DMA latency (the request went up and came back refused).
 * - A translation that lands outside host memory is an Unsupported Request (PCIe Base 2.3.1): nothing
 *   moves, and the fault has reason `unsupported-request`. The IOMMU does not log it (it translated
 *   fine) but, having translated a write, has already set its dirty bits, as an IOMMU sets the D bit
 *   when it walks; the engine counts it.
 * - A zero-length request moves nothing, costs nothing and cannot fault.
 * - DMA writes do not enter the CPU dirty log of host memory (see sparse-memory.ts); they set IOMMU
 *   dirty bits when the domain tracks them.
 *
 * SPEC-DEVIATION: a memory write is a posted request, so a real device never learns that its write was
 * refused. The model tells the caller anyway (it is free); a device model should react only as its
 * hardware could (for example through an error it would see on a later read).
 * Left out: Bus Master Enable (the device model checks its own Command register before issuing DMA),
 * max payload / read request size splitting, ordering between devices, peer-to-peer DMA.
 */
import { type CostModel, dmaCostNs, LabError, type Rid } from '../../base/index.js';
import type { HwContext } from '../hw-context.js';
import type { DmaAccess, HpaRange, Iommu, IommuFault, Iova, Pasid } from '../iommu/index.js';
import type { Hpa, SparseMemory } from '../memory/index.js';

/** A translated request whose host physical address no memory decodes. */
export interface UnsupportedRequestFault {
  readonly reason: 'unsupported-request';
  readonly rid: Rid;
  readonly pasid: Pasid | undefined;
  /** The first IOVA whose translation is outside memory. */
  readonly iova: Iova;
  readonly access: DmaAccess;
  /** Where that IOVA translated to. */
  readonly hpa: Hpa;
  readonly atNs: number;
}

export type DmaFault = IommuFault | UnsupportedRequestFault;

export type DmaReadResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly fault: DmaFault };
export type DmaValueResult<T extends number | bigint> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly fault: DmaFault };
export type DmaWriteResult = { readonly ok: true } | { readonly ok: false; readonly fault: DmaFault };

/** Who issues a request: the RID, an optional PASID, and the device whose costs apply. */
export interface DmaRequester {
  readonly rid: Rid;
  readonly pasid?: Pasid | undefined;
  /** The device name `HwContext.costsFor` knows; the host's costs apply when absent. */
  readonly deviceName?: string | undefined;
}

/** Options of a one-off request on the engine. */
export interface DmaOptions {
  readonly pasid?: Pasid | undefined;
  readonly deviceName?: string | undefined;
}

/** What the engine has done since it was built (for benchmarks and reports). */
export interface DmaStats {
  readonly reads: number;
  readonly writes: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Requests refused, by the IOMMU or as Unsupported Requests. */
  readonly faults: number;
  readonly unsupportedRequests: number;
  /** Modeled time charged by DMA. */
  readonly modeledNs: number;
}

const WRITE_OK: DmaWriteResult = Object.freeze({ ok: true });
const EMPTY_READ: DmaReadResult = Object.freeze({ ok: true, bytes: new Uint8Array(0) });

type Access =
  | { readonly ok: true; readonly ranges: readonly HpaRange[] }
  | { readonly ok: false; readonly fault: DmaFault };

export class DmaEngine {
  readonly iommu: Iommu;
  readonly memory: SparseMemory<Hpa>;
  readonly #ctx: HwContext;
  readonly #memorySize: number;
  #reads = 0;
  #writes = 0;
  #bytesRead = 0;
  #bytesWritten = 0;
  #faults = 0;
  #unsupported = 0;
  #modeledNs = 0;

  constructor(ctx: HwContext, iommu: Iommu, memory: SparseMemory<Hpa>) {
    this.#ctx = ctx;
    this.iommu = iommu;
    this.memory = memory;
    this.#memorySize = Number(memory.sizeBytes);
  }

  get stats(): DmaStats {
    return {
      reads: this.#reads,
      writes: this.#writes,
      bytesRead: this.#bytesRead,
      bytesWritten: this.#bytesWritten,
      faults: this.#faults,
      unsupportedRequests: this.#unsupported,
      modeledNs: this.#modeledNs,
    };
  }

  /** A port for one device to hold: every request it makes carries this RID, PASID and cost profile. */
  port(requester: DmaRequester): DmaPort {
    return new DmaPort(this, requester);
  }

  read(rid: Rid, iova: Iova, lengthBytes: number, options: DmaOptions = {}): DmaReadResult {
    return this.readAs({ rid, pasid: options.pasid, deviceName: options.deviceName }, iova, lengthBytes);
  }

  write(rid: Rid, iova: Iova, bytes: Uint8Array, options: DmaOptions = {}): DmaWriteResult {
    return this.writeAs({ rid, pasid: options.pasid, deviceName: options.deviceName }, iova, bytes);
  }

  /** Read `lengthBytes` at `iova` as `requester`; the bytes are a fresh buffer the caller owns. */
  readAs(requester: DmaRequester, iova: Iova, lengthBytes: number): DmaReadResult {
    if (lengthBytes === 0) return EMPTY_READ;
    const a = this.#access(requester, iova, lengthBytes, 'read');
    if (!a.ok) return a;
    const out = new Uint8Array(lengthBytes);
    if (a.ranges.length === 1) {
      this.memory.readInto(a.ranges[0]!.hpa, out);
    } else {
      let off = 0;
      for (const r of a.ranges) {
        this.memory.readInto(r.hpa, out.subarray(off, off + r.lengthBytes));
        off += r.lengthBytes;
      }
    }
    return { ok: true, bytes: out };
  }

  /** Write `bytes` at `iova` as `requester`. */
  writeAs(requester: DmaRequester, iova: Iova, bytes: Uint8Array): DmaWriteResult {
    if (bytes.length === 0) return WRITE_OK;
    const a = this.#access(requester, iova, bytes.length, 'write');
    if (!a.ok) return a;
    if (a.ranges.length === 1) {
      this.memory.write(a.ranges[0]!.hpa, bytes, 'dma');
      return WRITE_OK;
    }
    let off = 0;
    for (const r of a.ranges) {
      this.memory.write(r.hpa, bytes.subarray(off, off + r.lengthBytes), 'dma');
      off += r.lengthBytes;
    }
    return WRITE_OK;
  }

  /** Little-endian scalar read of 1, 2, 4 or 8 bytes. */
  readScalarAs(requester: DmaRequester, iova: Iova, width: 1 | 2 | 4): DmaValueResult<number>;
  readScalarAs(requester: DmaRequester, iova: Iova, width: 8): DmaValueResult<bigint>;
  readScalarAs(requester: DmaRequester, iova: Iova, width: 1 | 2 | 4 | 8): DmaValueResult<number | bigint> {
    const a = this.#access(requester, iova, width, 'read');
    if (!a.ok) return a;
    const m = this.memory;
    if (a.ranges.length === 1) {
      const at = a.ranges[0]!.hpa;
      switch (width) {
        case 1:
          return { ok: true, value: m.readU8(at) };
        case 2:
          return { ok: true, value: m.readU16(at) };
        case 4:
          return { ok: true, value: m.readU32(at) };
        case 8:
          return { ok: true, value: m.readU64(at) };
      }
    }
    // The scalar straddles two IOVA pages that map to discontiguous host pages.
    const buf = new Uint8Array(width);
    let off = 0;
    for (const r of a.ranges) {
      m.readInto(r.hpa, buf.subarray(off, off + r.lengthBytes));
      off += r.lengthBytes;
    }
    let v = 0n;
    for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[i]!);
    return { ok: true, value: width === 8 ? v : Number(v) };
  }

  /** Little-endian scalar write of 1, 2, 4 or 8 bytes; the value is cut to the width. */
  writeScalarAs(
    requester: DmaRequester,
    iova: Iova,
    width: 1 | 2 | 4 | 8,
    value: number | bigint,
  ): DmaWriteResult {
    const a = this.#access(requester, iova, width, 'write');
    if (!a.ok) return a;
    const m = this.memory;
    if (a.ranges.length === 1) {
      const at = a.ranges[0]!.hpa;
      switch (width) {
        case 1:
          m.writeU8(at, Number(value), 'dma');
          break;
        case 2:
          m.writeU16(at, Number(value), 'dma');
          break;
        case 4:
          m.writeU32(at, Number(value), 'dma');
          break;
        case 8:
          m.writeU64(at, BigInt(value), 'dma');
          break;
      }
      return WRITE_OK;
    }
    let v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : BigInt(value >>> 0);
    const buf = new Uint8Array(width);
    for (let i = 0; i < width; i++) {
      buf[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    let off = 0;
    for (const r of a.ranges) {
      m.write(r.hpa, buf.subarray(off, off + r.lengthBytes), 'dma');
      off += r.lengthBytes;
    }
    return WRITE_OK;
  }

  /** Translate, check that memory decodes the result, and charge the time. */
  #access(requester: DmaRequester, iova: Iova, lengthBytes: number, access: DmaAccess): Access {
    if (!Number.isSafeInteger(lengthBytes) || lengthBytes < 0)
      throw new LabError('internal', `DMA length ${lengthBytes} is not a byte count`);
    const costs = this.#ctx.costsFor(requester.deviceName);
    const t = this.iommu.translate({ rid: requester.rid, pasid: requester.pasid, iova, lengthBytes, access });
    if (!t.ok) return this.#refuse(costs, t.fault);
    let off = 0;
    for (const r of t.ranges) {
      // Host physical addresses are below 2^52, so number arithmetic is exact here.
      if (Number(r.hpa) + r.lengthBytes > this.#memorySize) {
        const size = this.memory.sizeBytes;
        const into = r.hpa < size ? size - r.hpa : 0n;
        this.#unsupported++;
        return this.#refuse(costs, {
          reason: 'unsupported-request',
          rid: requester.rid,
          pasid: requester.pasid,
          iova: (iova + BigInt(off) + into) as Iova,
          access,
          hpa: (r.hpa + into) as Hpa,
          atNs: this.#ctx.clock.nowNs,
        });
      }
      off += r.lengthBytes;
    }
    this.#charge(dmaCostNs(costs, lengthBytes));
    if (access === 'read') {
      this.#reads++;
      this.#bytesRead += lengthBytes;
    } else {
      this.#writes++;
      this.#bytesWritten += lengthBytes;
    }
    return t;
  }

  #refuse(costs: CostModel, fault: DmaFault): Access {
    this.#faults++;
    this.#charge(dmaCostNs(costs, 0));
    return { ok: false, fault };
  }

  #charge(ns: number): void {
    this.#ctx.clock.advance(ns);
    this.#modeledNs += ns;
  }
}

/**
 * One device's view of DMA, bound to its requester ID (and PASID, for a function that issues PASID
 * requests). Device models hold one and never see the IOMMU or host memory directly. Scalars are
 * little-endian.
 */
export class DmaPort {
  readonly requester: DmaRequester;
  /** Private so that a device model cannot issue requests under another requester ID. */
  readonly #engine: DmaEngine;

  constructor(engine: DmaEngine, requester: DmaRequester) {
    this.#engine = engine;
    this.requester = Object.freeze({ ...requester });
  }

  get rid(): Rid {
    return this.requester.rid;
  }

  get pasid(): Pasid | undefined {
    return this.requester.pasid;
  }

  read(iova: Iova, lengthBytes: number): DmaReadResult {
    return this.#engine.readAs(this.requester, iova, lengthBytes);
  }

  write(iova: Iova, bytes: Uint8Array): DmaWriteResult {
    return this.#engine.writeAs(this.requester, iova, bytes);
  }

  readU8(iova: Iova): DmaValueResult<number> {
    return this.#engine.readScalarAs(this.requester, iova, 1);
  }

  readU16(iova: Iova): DmaValueResult<number> {
    return this.#engine.readScalarAs(this.requester, iova, 2);
  }

  readU32(iova: Iova): DmaValueResult<number> {
    return this.#engine.readScalarAs(this.requester, iova, 4);
  }

  readU64(iova: Iova): DmaValueResult<bigint> {
    return this.#engine.readScalarAs(this.requester, iova, 8);
  }

  writeU8(iova: Iova, value: number): DmaWriteResult {
    return this.#engine.writeScalarAs(this.requester, iova, 1, value);
  }

  writeU16(iova: Iova, value: number): DmaWriteResult {
    return this.#engine.writeScalarAs(this.requester, iova, 2, value);
  }

  writeU32(iova: Iova, value: number): DmaWriteResult {
    return this.#engine.writeScalarAs(this.requester, iova, 4, value);
  }

  writeU64(iova: Iova, value: bigint): DmaWriteResult {
    return this.#engine.writeScalarAs(this.requester, iova, 8, value);
  }
}
