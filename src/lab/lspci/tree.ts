/**
 * The bus topology lspci derives from config space (pciutils 3.9.0 ls-tree.c semantics): every
 * function with a bridge class and a type 1 or 2 header is a bridge to its secondary..subordinate bus
 * range; a device sits on the bus of the first bridge, newest first, whose range holds its bus number;
 * a bus number no bridge claims hangs off the host bridge. `-t` draws it, `-tv` adds names, and with
 * -s/-d only the branches leading to a matching device are drawn.
 *
 * SPEC-DEVIATION: a live Linux lspci also learns each device's parent from the sysfs directory
 * hierarchy; the sysfs view here has no hierarchy, so live devices are placed by bus numbers too. On a
 * correctly programmed topology both give the same tree.
 */
import { pci } from '../../spec/index.js';
import type { LspciContext, PciDev } from './context.js';
import { filterMatches, type PciFilter } from './filter.js';
import * as r from './regs.js';
import { hx } from './text.js';

interface Bus {
  domain: number;
  number: number;
  devices: PciDev[];
}

interface Bridge {
  domain: number;
  primary: number;
  secondary: number;
  subordinate: number;
  /** The bridge function; undefined for the host bridge. */
  device: PciDev | undefined;
  /** Children, newest first (the order lspci searches them). */
  children: Bridge[];
  buses: Bus[];
}

/** The host bridge's bus numbers read as all-ones in pciutils (unsigned ~0). */
const HOST_ANY = 0xffffffff;
/** pciutils' tree line buffer; longer lines end in `...`. */
const LINE_BUF_SIZE = 1024;
/** The C string terminator, where a truncated write ended. */
const END = '\0';

export class Topology {
  readonly host: Bridge;
  readonly #bridgeOf = new Map<PciDev, Bridge>();
  readonly #busOf = new Map<PciDev, { bus: Bus; bridge: Bridge }>();

  constructor(devices: readonly PciDev[]) {
    this.host = {
      domain: 0,
      primary: HOST_ANY,
      secondary: 0,
      subordinate: HOST_ANY,
      device: undefined,
      children: [],
      buses: [],
    };
    const chain: Bridge[] = [this.host];
    for (const d of devices) {
      const ht = d.noConfigAccess ? -1 : d.cfg.byte(pci.PCI_HEADER_TYPE) & pci.PCI_HEADER_TYPE_MASK;
      const isBridgeHeader = ht === pci.PCI_HEADER_TYPE_BRIDGE || ht === r.PCI_HEADER_TYPE_CARDBUS;
      if (d.deviceClass >> 8 !== r.PCI_BASE_CLASS_BRIDGE || !isBridgeHeader) continue;
      const cb = ht === r.PCI_HEADER_TYPE_CARDBUS;
      const b: Bridge = {
        domain: d.domain,
        primary: d.cfg.byte(cb ? r.PCI_CB_PRIMARY_BUS : pci.PCI_PRIMARY_BUS),
        secondary: d.cfg.byte(cb ? r.PCI_CB_CARD_BUS : pci.PCI_SECONDARY_BUS),
        subordinate: d.cfg.byte(cb ? r.PCI_CB_SUBORDINATE_BUS : pci.PCI_SUBORDINATE_BUS),
        device: d,
        children: [],
        buses: [],
      };
      chain.push(b);
      this.#bridgeOf.set(d, b);
    }
    // Parent: the bridge with the narrowest bus range holding the primary bus. pciutils compares the
    // spans as unsigned ints, so the host's span (~0 - ~0) is 0 and the host wins whenever it qualifies.
    const span = (b: Bridge): number => (b.subordinate - b.primary) >>> 0;
    for (const b of chain) {
      let best: Bridge | undefined;
      for (const c of chain) {
        if (c === b || (c !== this.host && b.domain !== c.domain)) continue;
        if (b.primary < c.secondary || b.primary > c.subordinate) continue;
        if (best === undefined || span(best) > span(c)) best = c;
      }
      best?.children.unshift(b);
    }
    for (const b of chain) {
      if (!findBus(b, b.domain, b.secondary)) newBus(b, b.domain, b.secondary);
    }
    for (const d of devices) this.#insert(d, this.host);
  }

  #insert(d: PciDev, b: Bridge): void {
    let bus = findBus(b, d.domain, d.bus);
    if (bus === undefined) {
      for (const c of b.children) {
        if (c.domain === d.domain && c.secondary <= d.bus && d.bus <= c.subordinate) {
          this.#insert(d, c);
          return;
        }
      }
      bus = newBus(b, d.domain, d.bus);
    }
    bus.devices.push(d);
    this.#busOf.set(d, { bus, bridge: b });
  }

  bridgeOf(d: PciDev): Bridge | undefined {
    return this.#bridgeOf.get(d);
  }

  /** The bridge function above `d` (-P paths), undefined on a host bus. */
  parentBridgeDevice(d: PciDev): PciDev | undefined {
    return this.#busOf.get(d)?.bridge.device;
  }
}

function findBus(b: Bridge, domain: number, n: number): Bus | undefined {
  return b.buses.find((bus) => bus.domain === domain && bus.number === n);
}

function newBus(b: Bridge, domain: number, n: number): Bus {
  const bus: Bus = { domain, number: n, devices: [] };
  b.buses.push(bus);
  return bus;
}

/** The line being drawn: a character buffer written at positions, reused as the next line's prefix. */
class TreeLine {
  readonly #chars: string[] = [];
  readonly #ctx: LspciContext;

  constructor(ctx: LspciContext) {
    this.#ctx = ctx;
  }

  write(p: number, text: string): number {
    const room = LINE_BUF_SIZE - 1 - p;
    if (room <= 0) return p;
    if (text.length < room) {
      for (let i = 0; i < text.length; i++) this.#chars[p + i] = text[i]!;
      return p + text.length;
    }
    // Truncated like snprintf: room-1 characters and the terminator, and the line is full.
    for (let i = 0; i < room - 1; i++) this.#chars[p + i] = text[i]!;
    this.#chars[p + room - 1] = END;
    return p + room;
  }

  /** Print up to `p`, then keep only the vertical connectors as the prefix of what follows. */
  print(p: number): void {
    let end = Math.min(p, LINE_BUF_SIZE - 1);
    const cut = this.#chars.indexOf(END);
    if (cut >= 0 && cut < end) end = cut;
    const text = this.#chars.slice(0, end).join('');
    this.#ctx.out.line(p >= LINE_BUF_SIZE - 1 ? `${text}...` : text);
    for (let i = 0; i < end; i++)
      this.#chars[i] = this.#chars[i] === '+' || this.#chars[i] === '|' ? '|' : ' ';
    this.#chars.length = end;
  }
}

class TreePrinter {
  readonly #ctx: LspciContext;
  readonly #topo: Topology;
  readonly #filter: PciFilter | undefined;
  readonly #line: TreeLine;

  constructor(ctx: LspciContext, topo: Topology, filter: PciFilter | undefined) {
    this.#ctx = ctx;
    this.#topo = topo;
    this.#filter = filter;
    this.#line = new TreeLine(ctx);
  }

  #devWanted(d: PciDev): boolean {
    if (this.#filter === undefined || filterMatches(this.#filter, d)) return true;
    const b = this.#topo.bridgeOf(d);
    return b?.buses.some((bus) => this.#busWanted(bus)) ?? false;
  }

  #busWanted(bus: Bus): boolean {
    return this.#filter === undefined || bus.devices.some((d) => this.#devWanted(d));
  }

  #dev(d: PciDev, p0: number): void {
    let p = this.#line.write(p0, `${hx(d.dev, 2)}.${d.func.toString(16)}`);
    const b = this.#topo.bridgeOf(d);
    if (b !== undefined) {
      if (b.secondary === 0) p = this.#line.write(p, '-');
      else if (b.secondary === b.subordinate) p = this.#line.write(p, `-[${hx(b.secondary, 2)}]-`);
      else p = this.#line.write(p, `-[${hx(b.secondary, 2)}-${hx(b.subordinate, 2)}]-`);
      this.bridge(b, p);
      return;
    }
    if (this.#ctx.verbose > 0)
      p = this.#line.write(p, `  ${this.#ctx.names.vendorDevice(d.vendorId, d.deviceId, 256)}`);
    this.#line.print(p);
  }

  #bus(bus: Bus, p: number): void {
    const devs = bus.devices;
    if (devs.length === 0) {
      this.#line.print(p);
      return;
    }
    if (devs.length === 1) {
      if (this.#devWanted(devs[0]!)) this.#dev(devs[0]!, this.#line.write(p, '--'));
      else this.#line.print(p);
      return;
    }
    let empty = true;
    devs.forEach((d, i) => {
      if (!this.#devWanted(d)) return;
      this.#dev(d, this.#line.write(p, i < devs.length - 1 ? '+-' : '\\-'));
      empty = false;
    });
    if (empty) this.#line.print(p);
  }

  bridge(b: Bridge, p0: number): void {
    const p = this.#line.write(p0, '-');
    const host = b === this.#topo.host;
    if (b.buses.length === 1) {
      const bus = b.buses[0]!;
      if (!this.#busWanted(bus)) {
        this.#line.print(p);
        return;
      }
      this.#bus(bus, host ? this.#line.write(p, `[${hx(b.domain, 4)}:${hx(bus.number, 2)}]-`) : p);
      return;
    }
    let empty = true;
    b.buses.forEach((bus, i) => {
      if (!this.#busWanted(bus)) return;
      const mark = i < b.buses.length - 1 ? '+-' : '\\-';
      this.#bus(bus, this.#line.write(p, `${mark}[${hx(bus.domain, 4)}:${hx(bus.number, 2)}]-`));
      empty = false;
    });
    if (empty) this.#line.print(p);
  }
}

/** `lspci -t`: the forest below the host bridge. */
export function showForest(ctx: LspciContext, topo: Topology, filter: PciFilter | undefined): void {
  new TreePrinter(ctx, topo, filter).bridge(topo.host, 0);
}
