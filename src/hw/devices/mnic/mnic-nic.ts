/**
 * The multi-subsystem NIC (vfiolab's own mlx5-like device; spec/mnic-fw.ts): one PF, its SR-IOV VFs,
 * subfunctions and SIOV r2-style functions, one firmware. Every function has a window:
 *   PF and VFs   BAR0 from offset 0 (MSI-X table and PBA follow at 0x2000 / 0x3000)
 *   SFs          PF BAR2, window sfIndex × (1 << (log_min_sf_size + 12)) (facts/kernel.md 7.3)
 *   SIOV fns     PF BAR4, window siovIndex × the same size
 * holding the init segment, the command entry and doorbell (cmd-channel.ts), the datapath DMA
 * registers and the context area; the PF's window also holds the event queue (event-queue.ts).
 *
 * DMA requesters: a PF or VF uses its own RID; an SF uses its PF's RID (it has no RID of its own); a
 * SIOV function's own DMA (datapath, mailboxes) carries its guest RID, and the state firmware moves for
 * the hypervisor carries its hypervisor RID (fw-migration.ts). DMA needs Bus Master Enable of the PCI
 * function underneath (the PF for SFs and SIOV functions).
 *
 * Resets: a PF FLR drops every SF and SIOV function, returns the eswitch to legacy and turns the event
 * queue off; a VF FLR clears the VF's context, counters and migration state and acts as its driver's
 * TEARDOWN_HCA (IN_USE → ACTIVE, TEARDOWN_REQUEST → ALLOCATED); MAC and caps, the manager's settings,
 * stay. SPEC-DEVIATION: PFs and VFs come up ACTIVE (firmware enables PCI functions itself); mlx5's PF
 * driver enables its VFs with ENABLE_HCA. SFs and SIOV functions start ALLOCATED as in mlx5.
 * Left out: packets, vports and the eswitch datapath, per-function MSI-X for SFs and SIOV functions.
 */
import { LabError, type Rid, readLe, writeLe } from '../../../base/index.js';
import { mnicfw, pci } from '../../../spec/index.js';
import type { Msix } from '../../caps/msix.js';
import type { DmaPort } from '../../dma/index.js';
import type { Iova } from '../../iommu/index.js';
import type { PciFunction } from '../../pci-function.js';
import type { FunctionBehaviour } from '../sriov-endpoint.js';
import { ringDoorbell } from './cmd-channel.js';
import { MnicEventQueue } from './event-queue.js';
import { type FwEnv, MnicFirmware } from './firmware.js';
import { MnicFnTable, type MnicLimits } from './fn-table.js';
import { LIFECYCLE_COMMANDS } from './fw-commands.js';
import { MIGRATION_COMMANDS, stateRid } from './fw-migration.js';
import type { MnicFunction } from './mnic-function.js';
import type { VhcaStateNum } from './vhca-fsm.js';

export interface MnicNicOptions extends MnicLimits {
  readonly name: string;
  /** Firmware can save and load function state. Default true. */
  readonly migration?: boolean;
}

const W = mnicfw.MNIC_WINDOW_BYTES;
const LOG_W = mnicfw.MNIC_LOG_MIN_SF_SIZE + 12;
const ENTRY = mnicfw.MNIC_CMD_ENTRY_OFFSET;
const ENTRY_END = ENTRY + mnicfw.MnicCmdEntry.sizeBytes;
const CTX = mnicfw.MNIC_CONTEXT_OFFSET;

/** Locally administered unicast 02:<name hash>:4d:00:00:00 (M for mnic). */
function permanentMac(name: string): Uint8Array {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) & 0xff;
  return Uint8Array.of(0x02, h, 0x4d, 0x00, 0x00, 0x00);
}

const NIC_BY_FUNCTION = new WeakMap<PciFunction, MnicNic>();

/** The mnic model behind a PF built from the catalog, if it is one. */
export function mnicNicOf(fn: PciFunction): MnicNic | undefined {
  return NIC_BY_FUNCTION.get(fn);
}

export class MnicNic {
  readonly name: string;
  readonly table: MnicFnTable;
  readonly firmware = new MnicFirmware([...LIFECYCLE_COMMANDS, ...MIGRATION_COMMANDS]);
  readonly eq = new MnicEventQueue();
  readonly permanentMac: Uint8Array;
  readonly migration: boolean;
  eswitchMode: number = mnicfw.MNIC_ESWITCH_MODE_LEGACY;
  #pf: PciFunction | undefined;
  #pfMsix: Msix | undefined;
  #extraNs = 0;
  readonly #env: FwEnv;
  /** Commands completed, by opcode (for tests and reports). */
  readonly commandCounts = new Map<number, number>();

  constructor(o: MnicNicOptions) {
    this.name = o.name;
    this.migration = o.migration ?? true;
    this.permanentMac = permanentMac(o.name);
    this.table = new MnicFnTable(o, (index) => {
      const s = this.#pf?.sriov;
      return s?.vfEnabled ? s.vfs[index] : undefined;
    });
    this.table.pf.mac.set(this.permanentMac);
    this.#env = this.#makeEnv();
  }

  #makeEnv(): FwEnv {
    const nic = this;
    return {
      table: this.table,
      pfNum: 0,
      permanentMac: this.permanentMac,
      migration: this.migration,
      get eswitchMode() {
        return nic.eswitchMode;
      },
      set eswitchMode(mode: number) {
        nic.eswitchMode = mode;
      },
      vhcaStateChanged: (fn, state) => {
        this.eq.queue({ fnId: fn.fnId, vhcaId: fn.vhcaId, state });
      },
      stateDmaPort: (fn) => {
        const pf = this.#pf;
        return this.#port(pf, stateRid(fn, pf?.placement?.rid));
      },
      charge: (ns) => {
        this.#extraNs += ns;
      },
      costs: () => {
        const pf = this.#pf;
        if (pf === undefined) throw new LabError('internal', `${this.name}: no PF function`);
        return pf.ctx.costsFor(pf.name);
      },
    };
  }

  get pf(): PciFunction | undefined {
    return this.#pf;
  }

  // ---- behaviours for the endpoint builder ----

  pfBehaviour(msix: Msix): FunctionBehaviour {
    this.#pfMsix = msix;
    const fn = this.table.pf;
    return {
      model: {
        barRead: (bar, offset, width) => this.#barRead(bar, offset, width),
        barWrite: (bar, offset, width, value) => this.#barWrite(bar, offset, width, value),
        reset: () => this.#resetPf(),
      },
      capabilities: (p) => {
        this.#pf = p;
        fn.pci = p;
        NIC_BY_FUNCTION.set(p, this);
        return [];
      },
    };
  }

  vfBehaviour(index: number, _msix: Msix): FunctionBehaviour {
    const fn = this.table.createVf(index);
    return {
      model: {
        barRead: (bar, offset, width) => (bar === 0 && offset < W ? this.windowRead(fn, offset, width) : 0),
        barWrite: (bar, offset, width, value) => {
          if (bar === 0 && offset < W) this.windowWrite(fn, offset, width, value);
        },
        reset: () => this.#resetVf(fn),
      },
      capabilities: (p) => {
        fn.pci = p;
        return [];
      },
    };
  }

  // ---- MMIO ----

  #barRead(bar: number, offset: number, width: 1 | 2 | 4): number {
    const w = this.#windowAt(bar, offset);
    if (w !== undefined) return this.windowRead(w.fn, w.offset, width);
    // A window with no function behind it answers all ones, so a driver of a function that is gone
    // sees its command entry never handed back (ETIMEDOUT) instead of a zeroed "success".
    return bar === 0 ? 0 : width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
  }

  #barWrite(bar: number, offset: number, width: 1 | 2 | 4, value: number): void {
    const w = this.#windowAt(bar, offset);
    if (w !== undefined) this.windowWrite(w.fn, w.offset, width, value);
  }

  #windowAt(bar: number, offset: number): { fn: MnicFunction; offset: number } | undefined {
    const index = offset >>> LOG_W;
    const inner = offset & (W - 1);
    if (bar === 0) return offset < W ? { fn: this.table.pf, offset } : undefined;
    const fn =
      bar === mnicfw.MNIC_SF_BAR
        ? this.table.sf(index)
        : bar === mnicfw.MNIC_SIOV_BAR
          ? this.table.siov(index)
          : undefined;
    return fn === undefined ? undefined : { fn, offset: inner };
  }

  /** A read of `fn`'s window at `offset` (bytes from the window's start). */
  windowRead(fn: MnicFunction, offset: number, width: 1 | 2 | 4): number {
    if (offset >= CTX && offset + width <= CTX + mnicfw.MNIC_CONTEXT_BYTES)
      return readLe(fn.context, offset - CTX, width);
    if (offset >= ENTRY && offset + width <= ENTRY_END) return readLe(fn.cmdEntry, offset - ENTRY, width);
    if (width !== 4) return 0;
    switch (offset) {
      case mnicfw.MNIC_INIT_FW_REV:
        return mnicfw.MNIC_FW_REV;
      case mnicfw.MNIC_INIT_CMD_IF_REV:
        return mnicfw.MNIC_CMD_IF_REV;
      case mnicfw.MNIC_INIT_FN_ID:
        return fn.fnId;
      case mnicfw.MNIC_INIT_VHCA_ID:
        return fn.vhcaId;
      case mnicfw.MNIC_DP_ADDR_LO:
        return fn.dpAddrLo;
      case mnicfw.MNIC_DP_ADDR_HI:
        return fn.dpAddrHi;
      case mnicfw.MNIC_DP_LENGTH:
        return fn.dpLength;
      case mnicfw.MNIC_DP_CTX_OFFSET:
        return fn.dpCtxOffset;
      case mnicfw.MNIC_DP_STATUS:
        return fn.dpStatus;
      default:
        if (fn.kind === 'pf' && offset >= mnicfw.MNIC_EQ_BASE_LO && offset < ENTRY)
          return this.eq.read(offset);
        return 0;
    }
  }

  windowWrite(fn: MnicFunction, offset: number, width: 1 | 2 | 4, value: number): void {
    if (offset >= CTX && offset + width <= CTX + mnicfw.MNIC_CONTEXT_BYTES) {
      writeLe(fn.context, offset - CTX, width, value);
      return;
    }
    if (offset >= ENTRY && offset + width <= ENTRY_END) {
      writeLe(fn.cmdEntry, offset - ENTRY, width, value);
      return;
    }
    if (width !== 4) return;
    switch (offset) {
      case mnicfw.MNIC_INIT_CMD_DOORBELL:
        if (value === mnicfw.MNIC_CMD_DOORBELL_POST) this.#doorbell(fn);
        return;
      case mnicfw.MNIC_DP_ADDR_LO:
        fn.dpAddrLo = value >>> 0;
        return;
      case mnicfw.MNIC_DP_ADDR_HI:
        fn.dpAddrHi = value >>> 0;
        return;
      case mnicfw.MNIC_DP_LENGTH:
        fn.dpLength = value >>> 0;
        return;
      case mnicfw.MNIC_DP_CTX_OFFSET:
        fn.dpCtxOffset = value >>> 0;
        return;
      case mnicfw.MNIC_DP_CTRL:
        this.#datapath(fn, value >>> 0);
        return;
      default:
        if (fn.kind === 'pf' && offset >= mnicfw.MNIC_EQ_BASE_LO && offset < ENTRY)
          this.eq.write(offset, value);
    }
  }

  // ---- commands ----

  #doorbell(issuer: MnicFunction): void {
    const pf = this.#pf;
    if (pf === undefined) return;
    this.#extraNs = 0;
    const ran = ringDoorbell(issuer.cmdEntry, this.#ownDmaPort(issuer), (input, outLen) => {
      const opcode = readLe(input, 0, 2);
      this.commandCounts.set(opcode, (this.commandCounts.get(opcode) ?? 0) + 1);
      return this.firmware.execute(this.#env, issuer, input, outLen);
    });
    if (ran === 'idle') return;
    const costs = pf.ctx.costsFor(pf.name);
    pf.ctx.clock.advance(costs.firmwareCommandNs + (ran === 'ran' ? this.#extraNs : 0));
    this.#flushEvents();
  }

  get env(): FwEnv {
    return this.#env;
  }

  // ---- DMA paths ----

  /** The RID and DMA port of `fn`'s own DMA (datapath, mailboxes), if it can master DMA now. */
  #ownDmaPort(fn: MnicFunction): DmaPort | undefined {
    const pci = fn.kind === 'vf' ? fn.pci : this.#pf;
    const rid = fn.id.kind === 'siov' ? (fn.id.guestRid as Rid) : pci?.placement?.rid;
    return this.#port(pci, rid);
  }

  #port(p: PciFunction | undefined, rid: Rid | undefined): DmaPort | undefined {
    if (p === undefined || rid === undefined || p.ctx.dma === undefined) return undefined;
    if ((p.config.get(pci.PCI_COMMAND, 2) & pci.PCI_COMMAND_MASTER) === 0) return undefined;
    return p.ctx.dma.port({ rid, deviceName: p.name });
  }

  /** The DMA port `fn`'s own DMA would use now (tests and the datapath). */
  dmaPortOf(fn: MnicFunction): DmaPort | undefined {
    return this.#ownDmaPort(fn);
  }

  #datapath(fn: MnicFunction, op: number): void {
    const running =
      (fn.vhcaState === mnicfw.MNIC_VHCA_STATE_ACTIVE || fn.vhcaState === mnicfw.MNIC_VHCA_STATE_IN_USE) &&
      fn.migState === mnicfw.MNIC_MIG_STATE_RUNNING;
    const port = this.#ownDmaPort(fn);
    if (!running || port === undefined) {
      fn.dpStatus = mnicfw.MNIC_DP_STATUS_STOPPED;
      return;
    }
    const len = fn.dpLength;
    const at = fn.dpCtxOffset;
    if (
      len === 0 ||
      at + len > mnicfw.MNIC_CONTEXT_BYTES ||
      (op !== mnicfw.MNIC_DP_OP_TO_HOST && op !== mnicfw.MNIC_DP_OP_FROM_HOST)
    ) {
      fn.dpStatus = mnicfw.MNIC_DP_STATUS_BAD_REQUEST;
      return;
    }
    const iova = ((BigInt(fn.dpAddrHi) << 32n) | BigInt(fn.dpAddrLo)) as Iova;
    const c = fn.counters;
    if (op === mnicfw.MNIC_DP_OP_TO_HOST) {
      const w = port.write(iova, fn.context.slice(at, at + len));
      if (!w.ok) {
        fn.dpStatus = mnicfw.MNIC_DP_STATUS_DMA_FAULT;
        return;
      }
      c.rxPackets++;
      c.rxBytes += BigInt(len);
    } else {
      const r = port.read(iova, len);
      if (!r.ok) {
        fn.dpStatus = mnicfw.MNIC_DP_STATUS_DMA_FAULT;
        return;
      }
      fn.context.set(r.bytes, at);
      c.txPackets++;
      c.txBytes += BigInt(len);
    }
    fn.dpStatus = mnicfw.MNIC_DP_STATUS_OK;
  }

  // ---- events and resets ----

  #flushEvents(): void {
    const pf = this.#pf;
    this.eq.flush(this.#port(pf, pf?.placement?.rid), this.#pfMsix);
  }

  #resetPf(): void {
    this.table.clearCarved();
    const fn = this.table.pf;
    fn.resetRuntime();
    fn.vhcaState = mnicfw.MNIC_VHCA_STATE_ACTIVE;
    fn.mac.set(this.permanentMac);
    this.eswitchMode = mnicfw.MNIC_ESWITCH_MODE_LEGACY;
    this.eq.reset();
  }

  #resetVf(fn: MnicFunction): void {
    fn.resetRuntime();
    const to: VhcaStateNum | undefined =
      fn.vhcaState === mnicfw.MNIC_VHCA_STATE_IN_USE
        ? mnicfw.MNIC_VHCA_STATE_ACTIVE
        : fn.vhcaState === mnicfw.MNIC_VHCA_STATE_TEARDOWN_REQUEST
          ? mnicfw.MNIC_VHCA_STATE_ALLOCATED
          : undefined;
    if (to === undefined) return;
    fn.vhcaState = to;
    this.eq.queue({ fnId: fn.fnId, vhcaId: fn.vhcaId, state: to });
    this.#flushEvents();
  }
}
