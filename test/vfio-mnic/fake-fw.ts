/**
 * A test-local stand-in for the NIC's firmware (MnicFw), with just enough behaviour for the migration
 * arcs: per-function state (MAC, 64 bytes of context, two counters), SUSPEND/RESUME_VHCA with the
 * initiator-before-responder order (out of order → EINVAL), SAVE (only while suspended as initiator;
 * an image "FKST" + fields) and LOAD (EINVAL for anything that is not such an image; only while
 * suspended), and a log of every command. It shares nothing with src/hw's firmware.
 */
import { errnoError } from '../../src/base/index.js';
import type { MnicFnHandle, MnicFnKind, MnicFw, MnicHcaCaps } from '../../src/kernel/drivers/mnic/index.js';

export interface FakeFnState {
  mac: Uint8Array;
  ctx: Uint8Array;
  rxPackets: bigint;
  txPackets: bigint;
  initiatorSuspended: boolean;
  responderSuspended: boolean;
}

const MAGIC = [0x46, 0x4b, 0x53, 0x54]; // "FKST"
const IMAGE_BYTES = 4 + 6 + 64 + 16;

export class FakeMnicFw implements MnicFw {
  readonly self: MnicFnHandle = { kind: 'pf', fnId: 0, vhcaId: 0 };
  readonly log: string[] = [];
  readonly fns = new Map<number, FakeFnState>();
  migration = true;

  /** A function with recognisable state derived from `seed`. */
  addFn(kind: MnicFnKind, fnId: number, seed: number): MnicFnHandle {
    const ctx = new Uint8Array(64).map((_, i) => (seed * 7 + i) & 0xff);
    this.fns.set(fnId, {
      mac: Uint8Array.from([0x02, 0, 0, 0, seed & 0xff, fnId & 0xff]),
      ctx,
      rxPackets: BigInt(seed * 100),
      txPackets: BigInt(seed * 10),
      initiatorSuspended: false,
      responderSuspended: false,
    });
    return { kind, fnId, vhcaId: fnId };
  }

  state(fn: MnicFnHandle): FakeFnState {
    const s = this.fns.get(fn.fnId);
    if (s === undefined) throw errnoError('EINVAL', `no function ${fn.fnId}`);
    return s;
  }

  queryHcaCaps(): MnicHcaCaps {
    return {
      pfNum: 0,
      maxSfs: 8,
      sfBaseId: 0x100,
      logMinSfSize: 4,
      sfBar: 2,
      maxSiovFns: 8,
      migration: this.migration,
      permanentMac: new Uint8Array(6),
    };
  }

  suspendVhca(fn: MnicFnHandle, role: 'initiator' | 'responder'): void {
    this.log.push(`SUSPEND_VHCA(${role}) ${fn.fnId}`);
    const s = this.state(fn);
    if (role === 'initiator') {
      if (s.initiatorSuspended) throw errnoError('EINVAL', 'already suspended');
      s.initiatorSuspended = true;
    } else {
      if (!s.initiatorSuspended || s.responderSuspended) throw errnoError('EINVAL', 'responder out of order');
      s.responderSuspended = true;
    }
  }

  resumeVhca(fn: MnicFnHandle, role: 'initiator' | 'responder'): void {
    this.log.push(`RESUME_VHCA(${role}) ${fn.fnId}`);
    const s = this.state(fn);
    if (role === 'responder') {
      if (!s.responderSuspended) throw errnoError('EINVAL', 'responder not suspended');
      s.responderSuspended = false;
    } else {
      if (!s.initiatorSuspended || s.responderSuspended) throw errnoError('EINVAL', 'initiator out of order');
      s.initiatorSuspended = false;
    }
  }

  queryVhcaMigrationState(fn: MnicFnHandle): number {
    this.log.push(`QUERY_VHCA_MIGRATION_STATE ${fn.fnId}`);
    this.state(fn);
    return IMAGE_BYTES;
  }

  saveVhcaState(fn: MnicFnHandle): Uint8Array {
    this.log.push(`SAVE_VHCA_STATE ${fn.fnId}`);
    const s = this.state(fn);
    const out = new Uint8Array(IMAGE_BYTES);
    const v = new DataView(out.buffer);
    out.set(MAGIC, 0);
    out.set(s.mac, 4);
    out.set(s.ctx, 10);
    v.setBigUint64(74, s.rxPackets, true);
    v.setBigUint64(82, s.txPackets, true);
    return out;
  }

  loadVhcaState(fn: MnicFnHandle, image: Uint8Array): void {
    this.log.push(`LOAD_VHCA_STATE ${fn.fnId}`);
    const s = this.state(fn);
    if (!s.responderSuspended) throw errnoError('EINVAL', 'load into a running function');
    if (image.length !== IMAGE_BYTES || MAGIC.some((b, i) => image[i] !== b))
      throw errnoError('EINVAL', 'not a state image');
    const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
    s.mac = image.slice(4, 10);
    s.ctx = image.slice(10, 74);
    s.rxPackets = v.getBigUint64(74, true);
    s.txPackets = v.getBigUint64(82, true);
  }

  // ---- not used by the VFIO drivers ----
  #unused(name: string): never {
    throw errnoError('EOPNOTSUPP', `fake firmware: ${name}`);
  }
  setEswitchMode(): void {
    this.#unused('setEswitchMode');
  }
  queryEswitchMode(): 0 | 1 {
    return 1;
  }
  vfHandle(vfIndex: number): MnicFnHandle {
    return { kind: 'vf', fnId: vfIndex + 1, vhcaId: vfIndex + 1 };
  }
  allocSf(): never {
    this.#unused('allocSf');
  }
  deallocSf(): void {
    this.#unused('deallocSf');
  }
  createSiovFns(): never {
    this.#unused('createSiovFns');
  }
  destroySiovFns(): void {
    this.#unused('destroySiovFns');
  }
  enableHca(): void {
    this.#unused('enableHca');
  }
  enableHcaList(): void {
    this.#unused('enableHcaList');
  }
  disableHcaList(): void {
    this.#unused('disableHcaList');
  }
  disableHca(): void {
    this.#unused('disableHca');
  }
  queryVhcaState(): never {
    this.#unused('queryVhcaState');
  }
  initHca(): void {
    this.#unused('initHca');
  }
  teardownHca(): void {
    this.#unused('teardownHca');
  }
  setFnHwAddr(fn: MnicFnHandle, mac: Uint8Array): void {
    this.state(fn).mac = mac.slice();
  }
  queryFnHwAddr(fn: MnicFnHandle): Uint8Array {
    return this.state(fn).mac.slice();
  }
  setFnCaps(): void {
    this.#unused('setFnCaps');
  }
  queryFnCaps(): { roce: boolean; migratable: boolean } {
    return { roce: false, migratable: true };
  }
  onVhcaEvent(): () => void {
    return () => {};
  }
  queryCounters(fn: MnicFnHandle): Readonly<Record<string, bigint>> {
    const s = this.state(fn);
    return { rxPackets: s.rxPackets, txPackets: s.txPackets };
  }
}
