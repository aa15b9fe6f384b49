/**
 * A test-local stand-in for the mnic firmware client (MnicFw), written from the contract in
 * src/kernel/drivers/mnic/fw-api.ts and the vhca rules of facts/kernel.md 7.3, sharing no code with
 * the drivers: SF and SIOV tables with capacities, vhca states with events after each command, per
 * function MAC and caps, a call log, and failure injection ("the Nth call of command X fails with E";
 * the list forms of ENABLE/DISABLE_HCA log as ENABLE_HCA_LIST / DISABLE_HCA_LIST, one call per list).
 */
import { errnoError } from '../../src/base/index.js';
import type {
  MnicFnCaps,
  MnicFnHandle,
  MnicFw,
  MnicFwOpener,
  MnicHcaCaps,
  MnicSfHandle,
  MnicSiovHandle,
  VhcaState,
  VhcaStateEvent,
} from '../../src/kernel/drivers/mnic/index.js';
import type { Device } from '../../src/kernel/index.js';

const ALLOCATED = 1;
const ACTIVE = 2;
const IN_USE = 3;
const TEARDOWN = 4;

interface Fn {
  handle: MnicFnHandle;
  state: VhcaState;
  mac: Uint8Array;
  caps: MnicFnCaps;
  sfnum?: number;
}

export class FakeNic {
  readonly caps: MnicHcaCaps;
  readonly fns = new Map<number, Fn>();
  readonly calls: string[] = [];
  readonly #listeners = new Set<(e: VhcaStateEvent) => void>();
  #mode: 0 | 1 = 0;
  #nextVhca = 200;
  #fail: { cmd: string; nth: number; errno: string } | undefined;

  constructor(caps?: Partial<MnicHcaCaps>) {
    this.caps = {
      pfNum: 0,
      maxSfs: 8,
      sfBaseId: 0x8000,
      logMinSfSize: 1,
      sfBar: 2,
      maxSiovFns: 2048,
      migration: true,
      permanentMac: Uint8Array.of(0x02, 0x1f, 0, 0, 0, 1),
      ...caps,
    };
    this.fns.set(0, this.#fn({ kind: 'pf', fnId: 0, vhcaId: 0 }, ACTIVE));
  }

  /** The `nth` (1-based) call of `cmd` from now on fails with `errno`. */
  failNth(cmd: string, nth: number, errno: string): void {
    this.#fail = { cmd, nth, errno };
  }

  get sfCount(): number {
    return [...this.fns.values()].filter((f) => f.handle.kind === 'sf').length;
  }

  get siovCount(): number {
    return [...this.fns.values()].filter((f) => f.handle.kind === 'siov').length;
  }

  #fn(handle: MnicFnHandle, state: VhcaState): Fn {
    return { handle, state, mac: new Uint8Array(6), caps: { roce: true, migratable: false } };
  }

  #cmd(name: string): void {
    this.calls.push(name);
    const f = this.#fail;
    if (f !== undefined && f.cmd === name && --f.nth === 0) {
      this.#fail = undefined;
      throw errnoError(f.errno as never, `${name} failed (injected)`);
    }
  }

  #get(fnId: number): Fn {
    const f = this.fns.get(fnId);
    if (f === undefined) throw errnoError('EINVAL', `no function ${fnId}`);
    return f;
  }

  #set(f: Fn, state: VhcaState, events: VhcaStateEvent[]): void {
    f.state = state;
    events.push({ fnId: f.handle.fnId, vhcaId: f.handle.vhcaId, state });
  }

  #emit(events: VhcaStateEvent[]): void {
    for (const e of events) for (const l of [...this.#listeners]) l(e);
  }

  client(self: MnicFnHandle, attached: { value: boolean }): MnicFw {
    const nic = this;
    const run = <T>(name: string, f: () => T): T => {
      nic.#cmd(name);
      return f();
    };
    type Cmd = 'enable' | 'disable' | 'init' | 'teardown';
    /** The states `cmd` takes a function in state `s` through (facts 7.3), or undefined. */
    const arc = (cmd: Cmd, s: VhcaState): VhcaState[] | undefined => {
      if (cmd === 'enable' && s === ALLOCATED) return [ACTIVE];
      if (cmd === 'init' && s === ACTIVE) return [IN_USE];
      if (cmd === 'teardown' && s === IN_USE) return [ACTIVE];
      if (cmd === 'teardown' && s === TEARDOWN) return [ALLOCATED];
      if (cmd === 'disable' && s === IN_USE) return [TEARDOWN];
      if (cmd === 'disable' && s === ACTIVE) return [TEARDOWN, ALLOCATED];
      return undefined;
    };
    const vhca = (fn: MnicFnHandle, cmd: Cmd): void => {
      const f = nic.#get(fn.fnId);
      const path = arc(cmd, f.state);
      if (path === undefined) throw errnoError('EINVAL', `${cmd} in vhca state ${f.state}`);
      const ev: VhcaStateEvent[] = [];
      for (const st of path) nic.#set(f, st, ev);
      nic.#emit(ev);
    };
    /** A list command: every function checked first (exists, not the PF, once, arc allowed), then all. */
    const vhcaList = (fns: readonly MnicFnHandle[], cmd: 'enable' | 'disable'): void => {
      const plan: [Fn, VhcaState[]][] = [];
      const seen = new Set<number>();
      for (const fn of fns) {
        const f = nic.#get(fn.fnId);
        if (f.handle.kind === 'pf') throw errnoError('EINVAL', 'the PF in a list');
        if (seen.has(fn.fnId)) throw errnoError('EINVAL', `function ${fn.fnId} listed twice`);
        seen.add(fn.fnId);
        const path = arc(cmd, f.state);
        if (path === undefined) throw errnoError('EINVAL', `${cmd} in vhca state ${f.state}`);
        plan.push([f, path]);
      }
      const ev: VhcaStateEvent[] = [];
      for (const [f, path] of plan) for (const st of path) nic.#set(f, st, ev);
      nic.#emit(ev);
    };
    return {
      self,
      queryHcaCaps: () => run('QUERY_HCA_CAP', () => nic.caps),
      setEswitchMode(mode) {
        nic.#cmd('SET_ESWITCH_MODE');
        if (mode === 0 && (nic.sfCount > 0 || nic.siovCount > 0))
          throw errnoError('EBUSY', 'functions exist');
        nic.#mode = mode;
      },
      queryEswitchMode: () => run('QUERY_ESWITCH_MODE', () => nic.#mode),
      vfHandle(i) {
        const fnId = 1 + i;
        if (!nic.fns.has(fnId)) nic.fns.set(fnId, nic.#fn({ kind: 'vf', fnId, vhcaId: fnId }, ACTIVE));
        return nic.fns.get(fnId)!.handle;
      },
      allocSf(sfnum) {
        nic.#cmd('ALLOC_SF');
        const used = [...nic.fns.values()].filter((f) => f.handle.kind === 'sf');
        if (used.some((f) => f.sfnum === sfnum)) throw errnoError('EEXIST', 'sfnum in use');
        if (used.length >= nic.caps.maxSfs) throw errnoError('ENOSPC', 'SF table full');
        let sfIndex = 0;
        while (nic.fns.has(nic.caps.sfBaseId + sfIndex)) sfIndex++;
        const h: MnicSfHandle = {
          kind: 'sf',
          fnId: nic.caps.sfBaseId + sfIndex,
          vhcaId: nic.#nextVhca++,
          sfIndex,
        };
        nic.fns.set(h.fnId, { ...nic.#fn(h, ALLOCATED), sfnum });
        return h;
      },
      deallocSf(fn) {
        nic.#cmd('DEALLOC_SF');
        if (nic.#get(fn.fnId).state !== ALLOCATED) throw errnoError('EBUSY', 'SF not ALLOCATED');
        nic.fns.delete(fn.fnId);
      },
      createSiovFns(count) {
        nic.#cmd('CREATE_SIOV_FNS');
        if (nic.siovCount + count > nic.caps.maxSiovFns) throw errnoError('ENOSPC', 'SIOV table full');
        const out: MnicSiovHandle[] = [];
        let slot = 0;
        for (let i = 0; i < count; i++) {
          while (nic.fns.has(0x10000 + slot)) slot++;
          const h: MnicSiovHandle = {
            kind: 'siov',
            fnId: 0x10000 + slot,
            vhcaId: nic.#nextVhca++,
            guestRid: 0x4000 + 2 * slot,
            hypervisorRid: 0x4001 + 2 * slot,
          };
          nic.fns.set(h.fnId, nic.#fn(h, ALLOCATED));
          out.push(h);
        }
        return out;
      },
      destroySiovFns(fns) {
        nic.#cmd('DESTROY_SIOV_FNS');
        for (const fn of fns) if (nic.#get(fn.fnId).state !== ALLOCATED) throw errnoError('EBUSY', 'busy');
        for (const fn of fns) nic.fns.delete(fn.fnId);
      },
      enableHca: (fn) => run('ENABLE_HCA', () => vhca(fn, 'enable')),
      disableHca: (fn) => run('DISABLE_HCA', () => vhca(fn, 'disable')),
      enableHcaList(fns) {
        if (fns.length > 0) run('ENABLE_HCA_LIST', () => vhcaList(fns, 'enable'));
      },
      disableHcaList(fns) {
        if (fns.length > 0) run('DISABLE_HCA_LIST', () => vhcaList(fns, 'disable'));
      },
      queryVhcaState: (fn) => run('QUERY_VHCA_STATE', () => nic.#get(fn.fnId).state),
      initHca() {
        nic.#cmd('INIT_HCA');
        attached.value = true;
        vhca(self, 'init');
      },
      teardownHca() {
        nic.#cmd('TEARDOWN_HCA');
        attached.value = false;
        vhca(self, 'teardown');
      },
      setFnHwAddr(fn, mac) {
        nic.#cmd('SET_FN_HW_ADDR');
        nic.#get(fn.fnId).mac = Uint8Array.from(mac);
      },
      queryFnHwAddr: (fn) => run('QUERY_FN_HW_ADDR', () => nic.#get(fn.fnId).mac),
      setFnCaps(fn, caps) {
        nic.#cmd('SET_FN_CAPS');
        const f = nic.#get(fn.fnId);
        if (f.state === IN_USE) throw errnoError('EBUSY', 'in use');
        f.caps = { ...f.caps, ...caps };
      },
      queryFnCaps: (fn) => run('QUERY_FN_CAPS', () => nic.#get(fn.fnId).caps),
      suspendVhca: () => undefined,
      resumeVhca: () => undefined,
      queryVhcaMigrationState: () => 0,
      saveVhcaState: () => new Uint8Array(0),
      loadVhcaState: () => undefined,
      onVhcaEvent(h) {
        nic.#listeners.add(h);
        return () => nic.#listeners.delete(h);
      },
      queryCounters: (fn) =>
        run('QUERY_COUNTERS', () => ({
          rx_packets: BigInt(fn.fnId),
          rx_bytes: 0n,
          tx_packets: 0n,
          tx_bytes: 0n,
        })),
    };
  }

  opener(): MnicFwOpener {
    return {
      openPci: (dev: Device) => {
        const p = dev.data.bus === 'pci' ? dev.data.pdev : undefined;
        const vf = p?.isVirtfn === true ? p.vfIndex! : undefined;
        const fnId = vf === undefined ? 0 : 1 + vf;
        if (!this.fns.has(fnId)) this.fns.set(fnId, this.#fn({ kind: 'vf', fnId, vhcaId: fnId }, ACTIVE));
        return this.client(this.fns.get(fnId)!.handle, { value: false });
      },
      openSf: (_parent: Device, sf: MnicSfHandle) => this.client(sf, { value: false }),
    };
  }
}
