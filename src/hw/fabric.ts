/**
 * One PCI segment (domain) of a host: the root complex with its integrated functions on bus 0, the
 * root ports, and every function below them. It routes what the CPU issues:
 * - configuration requests by routing ID, through the root port whose bus range holds the bus (type 0
 *   on its secondary bus: Device 0 only unless ARI Forwarding is enabled); a request nobody claims
 *   ends in a master abort and reads all-ones;
 * - memory requests by address, through the root port whose memory window holds the address, to the
 *   function whose BAR decodes it.
 * Every request charges its modeled cost on the host clock.
 */
import { allOnes, LabError, type Rid } from '../base/index.js';
import { pci } from '../spec/index.js';
import { ariForwardingEnabled } from './caps/pcie.js';
import { bridgeWindows } from './devices/root-port.js';
import type { HwContext } from './hw-context.js';
import type { FunctionPlacement, PciFunction } from './pci-function.js';

interface RootPortEntry {
  readonly port: PciFunction;
  /** Functions on the buses behind this port, by routing ID. */
  readonly below: Map<number, PciFunction>;
  /** The physical functions among them (VFs are decoded through their PF's SR-IOV BARs). */
  readonly physical: PciFunction[];
  /** The port's windows as last decoded, with the raw window registers they came from. */
  windows?: { readonly raw: readonly number[]; readonly value: PortWindows };
}

type PortWindows = Pick<ReturnType<typeof bridgeWindows>, 'memory' | 'prefetchable'>;

/** The registers a bridge's memory windows are made of (Memory and Prefetchable Base/Limit, upper 32s). */
const WINDOW_REGS = [
  pci.PCI_MEMORY_BASE,
  pci.PCI_PREF_MEMORY_BASE,
  pci.PCI_PREF_BASE_UPPER32,
  pci.PCI_PREF_LIMIT_UPPER32,
] as const;

export class PcieFabric {
  readonly domain: number;
  readonly ctx: HwContext;
  readonly #bus0 = new Map<number, PciFunction>();
  readonly #ports: RootPortEntry[] = [];

  constructor(ctx: HwContext, domain: number) {
    this.ctx = ctx;
    this.domain = domain;
  }

  /** Put an integrated function (host bridge, root port) on bus 0. */
  attachToRootBus(devfn: number, fn: PciFunction): void {
    if (this.#bus0.has(devfn)) throw new LabError('bad-input', `bus 0 devfn ${devfn} is already taken`);
    this.#bus0.set(devfn, fn);
    fn.place(this.#placement(devfn as Rid, undefined));
    if (fn.role.kind === 'bridge') this.#ports.push({ port: fn, below: new Map(), physical: [] });
  }

  /** Put an endpoint below a root port at a routing ID on one of the port's buses. */
  attachBelow(port: PciFunction, rid: Rid, fn: PciFunction): void {
    const entry = this.#ports.find((p) => p.port === port);
    if (entry === undefined) throw new LabError('internal', `${port.name} is not a root port of this fabric`);
    if (entry.below.has(rid))
      throw new LabError('bad-input', `routing ID ${rid} below ${port.name} is taken`);
    entry.below.set(rid, fn);
    entry.physical.push(fn);
    fn.place(this.#placement(rid, entry));
  }

  /** The root port an attached function sits under (undefined for bus 0 functions). */
  rootPortOf(fn: PciFunction): PciFunction | undefined {
    // By the function's own routing ID: no walk over every function below every port.
    const rid = fn.placement?.rid;
    if (rid === undefined) return undefined;
    return this.#ports.find((p) => p.below.get(rid) === fn)?.port;
  }

  get rootPorts(): readonly PciFunction[] {
    return this.#ports.map((p) => p.port);
  }

  // ---- configuration requests ----

  configRead(rid: Rid, offset: number, width: 1 | 2 | 4): number {
    const fn = this.#route(rid, offset);
    this.ctx.clock.advance(this.ctx.costsFor(fn?.name).configReadNs);
    return fn === undefined ? allOnes(width) : fn.config.read(offset, width);
  }

  configWrite(rid: Rid, offset: number, width: 1 | 2 | 4, value: number): void {
    const fn = this.#route(rid, offset);
    this.ctx.clock.advance(this.ctx.costsFor(fn?.name).configWriteNs);
    // A write nobody claims is dropped (master abort on a posted-like completion is invisible here).
    fn?.config.write(offset, width, value);
  }

  #route(rid: Rid, offset: number): PciFunction | undefined {
    const bus = rid >> 8;
    const devfn = rid & 0xff;
    let fn: PciFunction | undefined;
    if (bus === 0) {
      fn = this.#bus0.get(devfn);
    } else {
      const entry = this.#portForBus(bus);
      if (entry !== undefined) {
        const secondary = entry.port.config.get(pci.PCI_SECONDARY_BUS, 1);
        // On the link below a port, type 0 requests reach Device 0 only without ARI forwarding.
        const typeZeroToOtherDevice = bus === secondary && devfn >> 3 !== 0;
        if (!typeZeroToOtherDevice || this.#ariForwarding(entry.port)) fn = entry.below.get(rid);
      }
    }
    if (fn === undefined) {
      this.ctx.trace({ kind: 'master-abort', rid, offset });
      return undefined;
    }
    if (fn.role.kind === 'vf' && this.ctx.clock.nowNs < (fn.role.pf.sriov?.readyAtNs ?? 0)) {
      this.ctx.trace({ kind: 'crs', rid, offset });
      return undefined;
    }
    return fn;
  }

  #ariForwarding(port: PciFunction): boolean {
    const pcie = port.capabilityOffset(pci.PCI_CAP_ID_EXP);
    return pcie !== undefined && ariForwardingEnabled(port.config, pcie);
  }

  #portForBus(bus: number): RootPortEntry | undefined {
    for (const entry of this.#ports) {
      const secondary = entry.port.config.get(pci.PCI_SECONDARY_BUS, 1);
      const subordinate = entry.port.config.get(pci.PCI_SUBORDINATE_BUS, 1);
      if (secondary !== 0 && bus >= secondary && bus <= subordinate) return entry;
    }
    return undefined;
  }

  // ---- memory requests ----

  mmioRead(address: bigint, width: 1 | 2 | 4): number {
    const hit = this.#decode(address);
    this.ctx.clock.advance(this.ctx.costsFor(hit?.fn.name).mmioReadNs);
    return hit === undefined ? allOnes(width) : hit.fn.barRead(hit.bar, hit.offset, width);
  }

  mmioWrite(address: bigint, width: 1 | 2 | 4, value: number): void {
    const hit = this.#decode(address);
    this.ctx.clock.advance(this.ctx.costsFor(hit?.fn.name).mmioWriteNs);
    hit?.fn.barWrite(hit.bar, hit.offset, width, value);
  }

  #decode(address: bigint): { fn: PciFunction; bar: number; offset: number } | undefined {
    for (const fn of this.#bus0.values()) {
      if (fn.role.kind === 'bridge') continue;
      const d = fn.decodeMemory(address);
      if (d !== undefined) return { fn, ...d };
    }
    for (const entry of this.#ports) {
      if ((entry.port.config.get(pci.PCI_COMMAND, 2) & pci.PCI_COMMAND_MEMORY) === 0) continue;
      const w = this.#windowsOf(entry);
      const inWindow = (win: { base: bigint; limit: bigint } | undefined): boolean =>
        win !== undefined && address >= win.base && address <= win.limit;
      if (!inWindow(w.memory) && !inWindow(w.prefetchable)) continue;
      for (const fn of entry.physical) {
        const d = fn.decodeMemory(address);
        if (d !== undefined) return { fn, ...d };
        const vf = this.#decodeVf(fn, address);
        if (vf !== undefined) return vf;
      }
    }
    return undefined;
  }

  /**
   * bridgeWindows of the port, decoded again only when its window registers changed: every MMIO
   * request passes here, and the decode builds BigInts from six registers.
   */
  #windowsOf(entry: RootPortEntry): PortWindows {
    const cs = entry.port.config;
    const cached = entry.windows;
    if (cached !== undefined && WINDOW_REGS.every((reg, i) => cs.get(reg, 4) === cached.raw[i])) {
      return cached.value;
    }
    const value = bridgeWindows(entry.port);
    entry.windows = { raw: WINDOW_REGS.map((reg) => cs.get(reg, 4)), value };
    return value;
  }

  /**
   * A PF's VF BAR i spans NumVFs × (VF BAR i size) from the programmed base; VF n owns slice n. The
   * arithmetic finds the VF without looking at every VF (1024 of them behind one port).
   */
  #decodeVf(pf: PciFunction, address: bigint): { fn: PciFunction; bar: number; offset: number } | undefined {
    const sriov = pf.sriov;
    if (sriov === undefined || !sriov.vfMemoryEnabled || sriov.vfs.length === 0) return undefined;
    for (let bar = 0; bar < pci.PCI_SRIOV_NUM_BARS; bar++) {
      const base = sriov.vfBarAddress(0, bar);
      const size = sriov.vfBarSize(bar);
      if (base === undefined || size === undefined || base === 0n) continue;
      if (address < base || address >= base + size * BigInt(sriov.vfs.length)) continue;
      const index = Number((address - base) / size);
      const vf = sriov.vfs[index];
      if (vf === undefined || vf.placement === undefined) return undefined;
      return { fn: vf, bar, offset: Number((address - base) % size) };
    }
    return undefined;
  }

  #placement(rid: Rid, entry: RootPortEntry | undefined): FunctionPlacement {
    return {
      rid,
      domain: this.domain,
      attach: (vfRid, vf) => {
        if (entry === undefined) throw new LabError('internal', 'VFs of bus 0 functions are not modeled');
        if (entry.below.has(vfRid)) {
          throw new LabError('invalid-state', `routing ID ${vfRid} is already taken`);
        }
        entry.below.set(vfRid, vf);
        vf.place(this.#placement(vfRid, entry));
      },
      detach: (vfRid) => {
        const vf = entry?.below.get(vfRid);
        entry?.below.delete(vfRid);
        vf?.unplace();
      },
    };
  }
}
