/**
 * mnicFwOpener: the driver-side firmware client of the mnic (fw-api.ts), over nothing but the
 * hardware's faces — MMIO to the function's window (pci_iomap of BAR0, or of the SF's window in the
 * PF's SF BAR), DMA-coherent mailboxes and event ring (dma_alloc_coherent + the CPU's view of RAM), and
 * an MSI-X vector for events. Command bytes: spec/mnic-fw.ts; transport: fw-mailbox.ts; event
 * delivery: fw-events.ts.
 *
 * Every MnicFw method is implemented: QUERY_HCA_CAP, SET/QUERY_ESWITCH_MODE, ALLOC/DEALLOC_SF,
 * CREATE/DESTROY_SIOV_FNS (one batched command each), ENABLE/DISABLE/INIT/TEARDOWN_HCA (ENABLE and
 * DISABLE also for a list of functions in one command, op_mod LIST),
 * QUERY_VHCA_STATE (also behind vfHandle), SET/QUERY_FN_HW_ADDR, SET/QUERY_FN_CAPS, QUERY_COUNTERS,
 * SUSPEND/RESUME_VHCA, QUERY_VHCA_MIGRATION_STATE, SAVE_VHCA_STATE (after a migration-state query: a
 * FINAL image when the function is suspended, a PRECOPY one otherwise), LOAD_VHCA_STATE.
 *
 * Events: opening the eswitch manager's (the PF's) mailbox arms the event queue — a 64 KiB ring, MSI-X
 * vector 0 — and takes over delivery for that PF (a later open re-arms it; subscribers stay, so a driver
 * unsubscribes in remove). The interrupt handler drains the ring into `onVhcaEvent` subscribers. Events
 * that arrive while any mnic command of this kernel is in flight are held until the outermost command
 * returns, so a subscriber may issue commands. With no MSI-X (a host without an MSI controller), events
 * are drained after each command instead, as a polling driver would.
 */
import { decodeStruct, encodeStruct, errnoError } from '../../../base/index.js';
import { mnicfw } from '../../../spec/index.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type {
  MnicFnCaps,
  MnicFnHandle,
  MnicFnKind,
  MnicFw,
  MnicFwOpener,
  MnicHcaCaps,
  MnicSfHandle,
  MnicSiovHandle,
  VhcaState,
  VhcaStateEvent,
} from './fw-api.js';
import { armEvents, type KernelFwState, kernelState, type PfEvents } from './fw-events.js';
import { MnicMailbox } from './fw-mailbox.js';

const KINDS: readonly MnicFnKind[] = ['pf', 'vf', 'sf', 'siov'];
const MAX_STATE_BYTES = 1 << 16;

const hdr = (opcode: number, opMod = 0) => ({ opcode, opMod });
/** MnicFnIn (opcode, op_mod, fnId), the most frequent input: built directly. */
const fnIn = (opcode: number, fnId: number, opMod = 0): Uint8Array => {
  const b = new Uint8Array(mnicfw.MnicFnIn.sizeBytes);
  const v = new DataView(b.buffer);
  v.setUint16(0, opcode, true);
  v.setUint16(2, opMod, true);
  v.setUint32(8, fnId, true);
  return b;
};

/**
 * A list input (MnicDestroySiovFnsIn, MnicHcaListIn: opcode, op_mod, count at 8, le32 function ids
 * from 16), built directly: it carries up to 10^4 ids.
 */
const fnList = (opcode: number, opMod: number, fns: readonly MnicFnHandle[]): Uint8Array => {
  const base = mnicfw.MnicHcaListIn.sizeBytes;
  const b = new Uint8Array(base + 4 * fns.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, opcode, true);
  v.setUint16(2, opMod, true);
  v.setUint32(8, fns.length, true);
  for (let i = 0; i < fns.length; i++) v.setUint32(base + 4 * i, fns[i]!.fnId, true);
  return b;
};

class MnicFwClient implements MnicFw {
  readonly self: MnicFnHandle;
  readonly #mb: MnicMailbox;
  readonly #caps: MnicHcaCaps;
  readonly #events: PfEvents | undefined;

  constructor(
    mb: MnicMailbox,
    sf: MnicSfHandle | undefined,
    arm?: (self: MnicFnHandle) => PfEvents | undefined,
  ) {
    this.#mb = mb;
    const c = decodeStruct(
      mnicfw.MnicQueryHcaCapOut,
      mb.exec('QUERY_HCA_CAP', encodeStruct(mnicfw.MnicCmdInHdr, hdr(mnicfw.MNIC_CMD_QUERY_HCA_CAP)), 64),
    );
    this.#caps = {
      pfNum: c.pfNum,
      maxSfs: c.maxSfs,
      sfBaseId: c.sfBaseId,
      logMinSfSize: c.logMinSfSize,
      sfBar: c.sfBar,
      maxSiovFns: c.maxSiovFns,
      migration: (c.capFlags & mnicfw.MNIC_HCA_CAP_MIGRATION) !== 0,
      permanentMac: c.permanentMac,
    };
    const kind = KINDS[c.selfKind] ?? 'pf';
    this.self = sf ?? { kind, fnId: c.selfFnId, vhcaId: c.selfVhcaId };
    this.#events = arm?.(this.self);
  }

  #exec(name: string, input: Uint8Array, outBytes: number): Uint8Array {
    return this.#mb.exec(name, input, outBytes);
  }

  queryHcaCaps(): MnicHcaCaps {
    const c = this.#caps;
    return { ...c, permanentMac: c.permanentMac.slice() };
  }

  setEswitchMode(mode: 0 | 1): void {
    if (mode !== 0 && mode !== 1) throw errnoError('EINVAL', `eswitch mode ${String(mode)}`);
    const input = encodeStruct(mnicfw.MnicSetEswitchModeIn, {
      ...hdr(mnicfw.MNIC_CMD_SET_ESWITCH_MODE),
      mode,
    });
    this.#exec('SET_ESWITCH_MODE', input, 8);
  }

  queryEswitchMode(): 0 | 1 {
    const input = encodeStruct(mnicfw.MnicCmdInHdr, hdr(mnicfw.MNIC_CMD_QUERY_ESWITCH_MODE));
    const out = decodeStruct(mnicfw.MnicQueryEswitchModeOut, this.#exec('QUERY_ESWITCH_MODE', input, 16));
    return out.mode === 1 ? 1 : 0;
  }

  vfHandle(vfIndex: number): MnicFnHandle {
    if (!Number.isInteger(vfIndex) || vfIndex < 0 || vfIndex >= mnicfw.MNIC_SF_BASE_ID - 1) {
      throw errnoError('EINVAL', `VF index ${vfIndex}`);
    }
    const q = this.#queryState(1 + vfIndex);
    if (q.kind !== mnicfw.MNIC_FN_KIND_VF) throw errnoError('EINVAL', `function ${1 + vfIndex} is not a VF`);
    return { kind: 'vf', fnId: 1 + vfIndex, vhcaId: q.vhcaId };
  }

  allocSf(sfnum: number): MnicSfHandle {
    if (!Number.isInteger(sfnum) || sfnum < 0 || sfnum > 0xffffffff)
      throw errnoError('EINVAL', `sfnum ${sfnum}`);
    const input = encodeStruct(mnicfw.MnicAllocSfIn, { ...hdr(mnicfw.MNIC_CMD_ALLOC_SF), sfnum });
    const out = decodeStruct(mnicfw.MnicFnIdsOut, this.#exec('ALLOC_SF', input, 16));
    return { kind: 'sf', fnId: out.fnId, vhcaId: out.vhcaId, sfIndex: out.fnId - this.#caps.sfBaseId };
  }

  deallocSf(fn: MnicSfHandle): void {
    this.#exec('DEALLOC_SF', fnIn(mnicfw.MNIC_CMD_DEALLOC_SF, fn.fnId), 8);
  }

  createSiovFns(count: number): MnicSiovHandle[] {
    if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) {
      throw errnoError('EINVAL', `SIOV function count ${count}`);
    }
    const input = encodeStruct(mnicfw.MnicCreateSiovFnsIn, {
      ...hdr(mnicfw.MNIC_CMD_CREATE_SIOV_FNS),
      count,
    });
    // More than the table holds: firmware refuses (NO_RESOURCES) with a header-only answer.
    const fits = count <= this.#caps.maxSiovFns;
    const entryBytes = mnicfw.MnicSiovFnEntry.sizeBytes;
    const outBytes = mnicfw.MnicCreateSiovFnsOut.sizeBytes + (fits ? count * entryBytes : 0);
    const out = this.#exec('CREATE_SIOV_FNS', input, outBytes);
    const base = mnicfw.MnicCreateSiovFnsOut.sizeBytes;
    const fns: MnicSiovHandle[] = [];
    // MnicSiovFnEntry by hand (fnId, vhcaId, guestRid, hypervisorRid): this loop runs 10^4 times.
    const v = new DataView(out.buffer, out.byteOffset);
    for (let i = 0; i < count; i++) {
      const at = base + i * entryBytes;
      fns.push({
        kind: 'siov',
        fnId: v.getUint32(at, true),
        vhcaId: v.getUint32(at + 4, true),
        guestRid: v.getUint16(at + 8, true),
        hypervisorRid: v.getUint16(at + 10, true),
      });
    }
    return fns;
  }

  destroySiovFns(fns: readonly MnicSiovHandle[]): void {
    if (fns.length === 0) return;
    this.#exec('DESTROY_SIOV_FNS', fnList(mnicfw.MNIC_CMD_DESTROY_SIOV_FNS, 0, fns), 8);
  }

  enableHcaList(fns: readonly MnicFnHandle[]): void {
    this.#hcaList('ENABLE_HCA', mnicfw.MNIC_CMD_ENABLE_HCA, fns);
  }

  disableHcaList(fns: readonly MnicFnHandle[]): void {
    this.#hcaList('DISABLE_HCA', mnicfw.MNIC_CMD_DISABLE_HCA, fns);
  }

  #hcaList(name: string, opcode: number, fns: readonly MnicFnHandle[]): void {
    if (fns.length === 0) return;
    if (fns.length > mnicfw.MNIC_HCA_LIST_MAX) {
      throw errnoError('EINVAL', `mnic ${name}: ${fns.length} functions in one list`);
    }
    this.#exec(name, fnList(opcode, mnicfw.MNIC_HCA_OP_MOD_LIST, fns), 8);
  }

  enableHca(fn: MnicFnHandle): void {
    this.#exec('ENABLE_HCA', fnIn(mnicfw.MNIC_CMD_ENABLE_HCA, fn.fnId), 8);
  }

  disableHca(fn: MnicFnHandle): void {
    this.#exec('DISABLE_HCA', fnIn(mnicfw.MNIC_CMD_DISABLE_HCA, fn.fnId), 8);
  }

  queryVhcaState(fn: MnicFnHandle): VhcaState {
    return this.#queryState(fn.fnId).state as VhcaState;
  }

  #queryState(fnId: number) {
    return decodeStruct(
      mnicfw.MnicQueryVhcaStateOut,
      this.#exec('QUERY_VHCA_STATE', fnIn(mnicfw.MNIC_CMD_QUERY_VHCA_STATE, fnId), 16),
    );
  }

  initHca(): void {
    this.#exec('INIT_HCA', encodeStruct(mnicfw.MnicCmdInHdr, hdr(mnicfw.MNIC_CMD_INIT_HCA)), 8);
  }

  teardownHca(): void {
    this.#exec('TEARDOWN_HCA', encodeStruct(mnicfw.MnicCmdInHdr, hdr(mnicfw.MNIC_CMD_TEARDOWN_HCA)), 8);
  }

  setFnHwAddr(fn: MnicFnHandle, mac: Uint8Array): void {
    if (mac.length !== 6) throw errnoError('EINVAL', `MAC of ${mac.length} bytes`);
    const input = encodeStruct(mnicfw.MnicSetFnHwAddrIn, {
      ...hdr(mnicfw.MNIC_CMD_SET_FN_HW_ADDR),
      fnId: fn.fnId,
      mac: mac.slice(),
    });
    this.#exec('SET_FN_HW_ADDR', input, 8);
  }

  queryFnHwAddr(fn: MnicFnHandle): Uint8Array {
    const out = this.#exec('QUERY_FN_HW_ADDR', fnIn(mnicfw.MNIC_CMD_QUERY_FN_HW_ADDR, fn.fnId), 16);
    return decodeStruct(mnicfw.MnicQueryFnHwAddrOut, out).mac;
  }

  setFnCaps(fn: MnicFnHandle, caps: Partial<MnicFnCaps>): void {
    let capsMask = 0;
    let bits = 0;
    if (caps.roce !== undefined) {
      capsMask |= mnicfw.MNIC_FN_CAP_ROCE;
      if (caps.roce) bits |= mnicfw.MNIC_FN_CAP_ROCE;
    }
    if (caps.migratable !== undefined) {
      capsMask |= mnicfw.MNIC_FN_CAP_MIGRATABLE;
      if (caps.migratable) bits |= mnicfw.MNIC_FN_CAP_MIGRATABLE;
    }
    const input = encodeStruct(mnicfw.MnicSetFnCapsIn, {
      ...hdr(mnicfw.MNIC_CMD_SET_FN_CAPS),
      fnId: fn.fnId,
      capsMask,
      caps: bits,
    });
    this.#exec('SET_FN_CAPS', input, 8);
  }

  queryFnCaps(fn: MnicFnHandle): MnicFnCaps {
    const out = this.#exec('QUERY_FN_CAPS', fnIn(mnicfw.MNIC_CMD_QUERY_FN_CAPS, fn.fnId), 16);
    const { caps } = decodeStruct(mnicfw.MnicQueryFnCapsOut, out);
    return {
      roce: (caps & mnicfw.MNIC_FN_CAP_ROCE) !== 0,
      migratable: (caps & mnicfw.MNIC_FN_CAP_MIGRATABLE) !== 0,
    };
  }

  suspendVhca(fn: MnicFnHandle, role: 'initiator' | 'responder'): void {
    this.#exec('SUSPEND_VHCA', fnIn(mnicfw.MNIC_CMD_SUSPEND_VHCA, fn.fnId, opModOf(role)), 8);
  }

  resumeVhca(fn: MnicFnHandle, role: 'initiator' | 'responder'): void {
    this.#exec('RESUME_VHCA', fnIn(mnicfw.MNIC_CMD_RESUME_VHCA, fn.fnId, opModOf(role)), 8);
  }

  queryVhcaMigrationState(fn: MnicFnHandle): number {
    return this.#migState(fn).requiredBytes;
  }

  #migState(fn: MnicFnHandle) {
    const out = this.#exec(
      'QUERY_VHCA_MIGRATION_STATE',
      fnIn(mnicfw.MNIC_CMD_QUERY_VHCA_MIGRATION_STATE, fn.fnId),
      16,
    );
    return decodeStruct(mnicfw.MnicQueryMigStateOut, out);
  }

  saveVhcaState(fn: MnicFnHandle): Uint8Array {
    const q = this.#migState(fn);
    const opMod =
      q.migState === mnicfw.MNIC_MIG_STATE_SUSPENDED
        ? mnicfw.MNIC_SAVE_OP_MOD_FINAL
        : mnicfw.MNIC_SAVE_OP_MOD_PRECOPY;
    return this.#mb.withBuffer(q.requiredBytes, (buf) => {
      const input = encodeStruct(mnicfw.MnicVhcaStateIn, {
        ...hdr(mnicfw.MNIC_CMD_SAVE_VHCA_STATE, opMod),
        fnId: fn.fnId,
        sizeBytes: buf.sizeBytes,
        addr: buf.iova,
      });
      const out = decodeStruct(mnicfw.MnicSaveVhcaStateOut, this.#exec('SAVE_VHCA_STATE', input, 16));
      return this.#mb.readRam(buf, Math.min(out.actualBytes, buf.sizeBytes));
    });
  }

  loadVhcaState(fn: MnicFnHandle, state: Uint8Array): void {
    if (state.length === 0 || state.length > MAX_STATE_BYTES) {
      throw errnoError('EINVAL', `state image of ${state.length} bytes`);
    }
    this.#mb.withBuffer(state.length, (buf) => {
      this.#mb.writeRam(buf, state);
      const input = encodeStruct(mnicfw.MnicVhcaStateIn, {
        ...hdr(mnicfw.MNIC_CMD_LOAD_VHCA_STATE),
        fnId: fn.fnId,
        sizeBytes: state.length,
        addr: buf.iova,
      });
      this.#exec('LOAD_VHCA_STATE', input, 8);
    });
  }

  onVhcaEvent(handler: (e: VhcaStateEvent) => void): () => void {
    const ev = this.#events;
    if (ev === undefined) return () => {};
    ev.subscribers.add(handler);
    return () => {
      ev.subscribers.delete(handler);
    };
  }

  queryCounters(fn: MnicFnHandle): Readonly<Record<string, bigint>> {
    const out = this.#exec('QUERY_COUNTERS', fnIn(mnicfw.MNIC_CMD_QUERY_COUNTERS, fn.fnId), 40);
    const c = decodeStruct(mnicfw.MnicQueryCountersOut, out);
    return { rxPackets: c.rxPackets, rxBytes: c.rxBytes, txPackets: c.txPackets, txBytes: c.txBytes };
  }
}

const opModOf = (role: 'initiator' | 'responder'): number =>
  role === 'initiator' ? mnicfw.MNIC_SUSPEND_OP_MOD_INITIATOR : mnicfw.MNIC_SUSPEND_OP_MOD_RESPONDER;

export function mnicFwOpener(k: KernelApi): MnicFwOpener {
  const st = kernelState(k);
  return {
    openPci(dev: Device): MnicFw {
      const io = k.pciIomap(dev, 0, 0, mnicfw.MNIC_WINDOW_BYTES);
      const mb = new MnicMailbox(k, io, dev, st.guard);
      // Only the manager's (the PF's) window has an event queue.
      return new MnicFwClient(mb, undefined, (self) =>
        self.kind === 'pf' ? armEvents(k, st, dev, mb) : undefined,
      );
    },
    openSf(parent: Device, sf: MnicSfHandle): MnicFw {
      const caps = sfWindow(k, parent, st);
      const size = 1 << (caps.logMinSfSize + 12);
      const io = k.pciIomap(parent, caps.sfBar, sf.sfIndex * size, size);
      return new MnicFwClient(new MnicMailbox(k, io, parent, st.guard), sf);
    },
  };
}

/** The SF window geometry (from the PF's capabilities; cached per PF device). */
const SF_GEOMETRY = new WeakMap<Device, { logMinSfSize: number; sfBar: number }>();
function sfWindow(k: KernelApi, parent: Device, st: KernelFwState): { logMinSfSize: number; sfBar: number } {
  let g = SF_GEOMETRY.get(parent);
  if (g === undefined) {
    const io = k.pciIomap(parent, 0, 0, mnicfw.MNIC_WINDOW_BYTES);
    const caps = new MnicFwClient(new MnicMailbox(k, io, parent, st.guard), undefined).queryHcaCaps();
    g = { logMinSfSize: caps.logMinSfSize, sfBar: caps.sfBar };
    SF_GEOMETRY.set(parent, g);
  }
  return g;
}
