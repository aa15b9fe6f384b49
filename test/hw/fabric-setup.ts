/**
 * A one-port PCIe fabric set up the way firmware and the PCI core set one up: a root port at 00:01.0
 * whose bus numbers, ARI Forwarding Enable and memory windows are programmed through config cycles,
 * and one endpoint at Device 0 of its secondary bus. Register offsets are the type 1 header's
 * (PCI-to-PCI Bridge 1.2, ch. 3) and the root port's PCIe capability, found by walking the list.
 */
import { type Rid, rid } from '../../src/base/index.js';
import {
  createDevice,
  createRootPort,
  type DeviceKind,
  PcieFabric,
  type PciFunction,
} from '../../src/hw/index.js';
import { type TestHost, testHost, walkStandardCaps } from './support.js';

export const PORT_DEVFN = 0x08;
/** Non-prefetchable window 0xc000_0000..0xc0ff_ffff, prefetchable 0x1_0000_0000..0x1_0fff_ffff. */
export const MEM_WINDOW = { base: 0xc000_0000n, limit: 0xc0ff_ffffn };
export const PREF_WINDOW = { base: 0x1_0000_0000n, limit: 0x1_0fff_ffffn };

export interface Bench extends TestHost {
  readonly fabric: PcieFabric;
  readonly port: PciFunction;
  readonly portRid: Rid;
  /** Offset of Device Control 2 in the port's PCIe capability. */
  readonly portDevCtl2: number;
  readonly pf: PciFunction;
  read(bus: number, devfn: number, offset: number, width: 1 | 2 | 4): number;
  write(bus: number, devfn: number, offset: number, width: 1 | 2 | 4, value: number): void;
  setAriForwarding(on: boolean): void;
}

export interface BenchOptions {
  readonly kind: DeviceKind;
  readonly totalVfs?: number;
  readonly secondaryBus?: number;
  readonly subordinateBus?: number;
  readonly ariForwarding?: boolean;
}

export function bench(o: BenchOptions): Bench {
  const host = testHost();
  const fabric = new PcieFabric(host.ctx, 0);
  const port = createRootPort(host.ctx, {
    name: 'rp0',
    vendorId: 0x1f00,
    deviceId: 0x0b01,
    portNumber: 1,
    ariForwarding: true,
    linkSpeed: 4,
    linkWidth: 16,
  });
  fabric.attachToRootBus(PORT_DEVFN, port);
  const portRid = rid(0, PORT_DEVFN);
  const read = (bus: number, devfn: number, offset: number, width: 1 | 2 | 4): number =>
    fabric.configRead(rid(bus, devfn), offset, width);
  const write = (bus: number, devfn: number, offset: number, width: 1 | 2 | 4, value: number): void =>
    fabric.configWrite(rid(bus, devfn), offset, width, value);

  const secondary = o.secondaryBus ?? 2;
  write(0, PORT_DEVFN, 0x18, 1, 0x00); // Primary Bus
  write(0, PORT_DEVFN, 0x19, 1, secondary); // Secondary Bus
  write(0, PORT_DEVFN, 0x1a, 1, o.subordinateBus ?? 3); // Subordinate Bus
  write(0, PORT_DEVFN, 0x20, 2, 0xc000); // Memory Base: 0xc000_0000
  write(0, PORT_DEVFN, 0x22, 2, 0xc0f0); // Memory Limit: 0xc0ff_ffff
  write(0, PORT_DEVFN, 0x24, 2, 0x0000); // Prefetchable Base (64-bit): 0x1_0000_0000
  write(0, PORT_DEVFN, 0x28, 4, 0x00000001);
  write(0, PORT_DEVFN, 0x26, 2, 0x0ff0); // Prefetchable Limit: 0x1_0fff_ffff
  write(0, PORT_DEVFN, 0x2c, 4, 0x00000001);
  write(0, PORT_DEVFN, 0x04, 2, 0x0006); // Memory Space | Bus Master

  const pcie = walkStandardCaps((off, w) => read(0, PORT_DEVFN, off, w)).find(([, id]) => id === 0x10);
  if (pcie === undefined) throw new Error('root port without a PCI Express capability');
  const portDevCtl2 = pcie[0] + 0x28;
  const setAriForwarding = (on: boolean): void => write(0, PORT_DEVFN, portDevCtl2, 2, on ? 0x0020 : 0x0000);
  setAriForwarding(o.ariForwarding ?? true);

  const pf = createDevice(host.ctx, o.kind, {
    name: `${o.kind}0`,
    ...(o.totalVfs === undefined ? {} : { totalVfs: o.totalVfs }),
  });
  fabric.attachBelow(port, rid(secondary, 0x00), pf);
  return { ...host, fabric, port, portRid, portDevCtl2, pf, read, write, setAriForwarding };
}
