/**
 * The driver core (drivers/base/{core,bus,dd}.c): one binding path for every bus.
 *
 *   device_add      → uevent "add"; if the device may match and the bus autoprobes: attach
 *   device_attach   → try drivers in registration order; the first that matches and probes binds
 *   driver_register → driver_attach: every unbound, matchable device of the bus is tried
 *   really_probe    → charge the driver's probe cost; bus probe (which may refuse); bound → uevent "bind"
 *   release         → bus remove (driver's remove); unbound → uevent "unbind"
 *   device_del      → release; uevent "remove"
 *
 * Probe errors: ENODEV and ENXIO reject the match quietly and the next driver is tried; any other
 * error is logged ("probe with driver X failed with error -N") and the next driver is tried too.
 * EPROBE_DEFER is not modeled (no driver here defers).
 */
import { type CostModel, errnoError, isLabError, type VirtualClock } from '../../base/index.js';
import { Errno, type ErrnoName } from '../../spec/index.js';
import type { KernelLog } from '../log.js';
import type { Device, Driver } from './device.js';
import type { Uevent, UeventAction } from './uevent.js';

export interface Bus {
  readonly name: 'pci' | 'auxiliary';
  /** /sys/bus/<bus>/drivers_autoprobe. */
  driversAutoprobe: boolean;
  match(dev: Device, drv: Driver): boolean;
  /** The bus's gate before any driver code runs (PCI: a VF without autoprobe); throws an errno error. */
  canProbe?(dev: Device): void;
  /** bus->probe: calls the driver's probe. */
  probe(dev: Device, drv: Driver): void;
  /** bus->remove: calls the driver's remove. */
  remove(dev: Device, drv: Driver): void;
  /** The bus's uevent variables (PCI_CLASS … MODALIAS). */
  ueventEnv(dev: Device): [string, string][];
}

export interface DriverCoreOptions {
  readonly clock: VirtualClock;
  readonly costsFor: (dev: Device) => CostModel;
  readonly log: KernelLog;
  readonly emit: (event: Uevent) => void;
}

interface BusState {
  readonly bus: Bus;
  /** The bus's devices in the order added (a Set: removing one of 10000 costs no array shift). */
  readonly devices: Set<Device>;
  /** `devices` as an array, made when first asked for after a removal; adds append to it. */
  list: Device[] | undefined;
  readonly byName: Map<string, Device>;
  readonly drivers: Driver[];
}

export class DriverCore {
  readonly #o: DriverCoreOptions;
  readonly #buses = new Map<string, BusState>();
  #seqnum = 0;

  constructor(o: DriverCoreOptions) {
    this.#o = o;
  }

  registerBus(bus: Bus): void {
    this.#buses.set(bus.name, { bus, devices: new Set(), list: [], byName: new Map(), drivers: [] });
  }

  bus(name: 'pci' | 'auxiliary'): Bus {
    return this.#state(name).bus;
  }

  /** Devices on a bus in the order they were added. */
  devices(bus: 'pci' | 'auxiliary'): readonly Device[] {
    const s = this.#state(bus);
    s.list ??= [...s.devices];
    return s.list;
  }

  /** Drivers on a bus in registration order. */
  drivers(bus: 'pci' | 'auxiliary'): readonly Driver[] {
    return this.#state(bus).drivers;
  }

  findDevice(bus: 'pci' | 'auxiliary', name: string): Device | undefined {
    return this.#state(bus).byName.get(name);
  }

  findDriver(bus: 'pci' | 'auxiliary', name: string): Driver | undefined {
    return this.#state(bus).drivers.find((d) => d.name === name);
  }

  #state(name: string): BusState {
    const s = this.#buses.get(name);
    if (s === undefined) throw errnoError('ENODEV', `no bus ${name}`);
    return s;
  }

  // ---- devices ----

  /** device_add: register on the bus and announce it; attach when it may match. */
  deviceAdd(dev: Device): void {
    if (dev.data.bus === 'none') throw errnoError('EINVAL', `${dev.name} is on no bus`);
    const s = this.#state(dev.data.bus);
    if (s.byName.has(dev.name)) throw errnoError('EEXIST', `${dev.name} already exists`);
    s.devices.add(dev);
    s.list?.push(dev);
    s.byName.set(dev.name, dev);
    dev.registered = true;
    this.uevent(dev, 'add');
    if (dev.matchEnabled && s.bus.driversAutoprobe) this.deviceAttach(dev);
  }

  /** PCI's second phase (pci_bus_add_device): allow matching and attach. */
  enableMatching(dev: Device): void {
    dev.matchEnabled = true;
    if (this.#state(dev.data.bus).bus.driversAutoprobe) this.deviceAttach(dev);
  }

  /** device_del: unbind, announce removal, leave the bus. */
  deviceDel(dev: Device): void {
    if (!dev.registered) return;
    this.releaseDriver(dev);
    this.uevent(dev, 'remove');
    const s = this.#state(dev.data.bus);
    s.devices.delete(dev);
    s.list = undefined;
    s.byName.delete(dev.name);
    dev.registered = false;
  }

  /** device_attach: try each driver in registration order. Returns whether a driver is bound. */
  deviceAttach(dev: Device): boolean {
    if (dev.driver !== undefined) return true;
    if (!dev.registered) return false;
    for (const drv of [...this.#state(dev.data.bus).drivers]) {
      if (!this.#state(dev.data.bus).bus.match(dev, drv)) continue;
      if (this.#reallyProbe(dev, drv) === undefined) return true;
    }
    return false;
  }

  /** The bus's drivers_probe file: attach one device; ENODEV... are not reported, as in bus.c. */
  probeDevice(dev: Device): void {
    this.deviceAttach(dev);
  }

  // ---- drivers ----

  /** driver_register: add to the bus, then driver_attach. */
  driverRegister(drv: Driver): void {
    const s = this.#state(drv.data.bus);
    if (s.drivers.some((d) => d.name === drv.name)) {
      this.#o.log.err(`Error: Driver '${drv.name}' is already registered, aborting...`);
      throw errnoError('EBUSY', `driver ${drv.name} already registered`);
    }
    s.drivers.push(drv);
    if (s.bus.driversAutoprobe) this.driverAttach(drv);
  }

  /** driver_attach: every unbound device of the bus that matches is probed. */
  driverAttach(drv: Driver): void {
    const s = this.#state(drv.data.bus);
    for (const dev of [...s.devices]) {
      if (dev.driver !== undefined || !dev.matchEnabled) continue;
      if (s.bus.match(dev, drv)) this.#reallyProbe(dev, drv);
    }
  }

  /** driver_unregister: release every device bound to it, then leave the bus. */
  driverUnregister(drv: Driver): void {
    const s = this.#state(drv.data.bus);
    for (const dev of [...s.devices]) if (dev.driver === drv) this.releaseDriver(dev);
    s.drivers.splice(s.drivers.indexOf(drv), 1);
  }

  /** The driver's `bind` file (bind_store): ENODEV unless the device exists and matches; EBUSY if bound. */
  bind(drv: Driver, deviceName: string): void {
    const s = this.#state(drv.data.bus);
    const dev = s.byName.get(deviceName);
    if (dev === undefined || !s.bus.match(dev, drv))
      throw errnoError('ENODEV', `${deviceName} does not match ${drv.name}`);
    if (dev.driver !== undefined) throw errnoError('EBUSY', `${deviceName} is bound to ${dev.driver.name}`);
    const err = this.#reallyProbe(dev, drv);
    if (err !== undefined)
      throw errnoError(err === 'EPROBE_DEFER' ? 'EAGAIN' : err, `probe of ${deviceName} failed`);
  }

  /** The driver's `unbind` file (unbind_store): ENODEV unless the device is bound to this driver. */
  unbind(drv: Driver, deviceName: string): void {
    const dev = this.#state(drv.data.bus).byName.get(deviceName);
    if (dev === undefined || dev.driver !== drv)
      throw errnoError('ENODEV', `${deviceName} is not bound to ${drv.name}`);
    this.releaseDriver(dev);
  }

  /** device_release_driver: the bus's remove (driver's remove), then the binding is gone. */
  releaseDriver(dev: Device): void {
    const drv = dev.driver;
    if (drv === undefined) return;
    this.#state(drv.data.bus).bus.remove(dev, drv);
    dev.driver = undefined;
    dev.driverData = undefined;
    this.#o.log.debug(`bus: '${drv.data.bus}': remove device ${dev.name}`);
    this.uevent(dev, 'unbind');
  }

  /** really_probe: returns undefined when bound, else the errno of the failure. */
  #reallyProbe(dev: Device, drv: Driver): ErrnoName | undefined {
    const bus = this.#state(drv.data.bus).bus;
    dev.driver = drv;
    try {
      bus.canProbe?.(dev);
      // The driver's probe runs: charge what this class of driver costs to bring a device up.
      this.#o.clock.advance(this.#o.costsFor(dev).driverProbeNs[drv.probeClass]);
      bus.probe(dev, drv);
    } catch (e) {
      dev.driver = undefined;
      dev.driverData = undefined;
      if (!isLabError(e) || e.errno === undefined) throw e;
      const errno = Errno[e.errno];
      if (e.errno === 'ENODEV' || e.errno === 'ENXIO') {
        this.#o.log.debug(`${bus.name} ${dev.name}: probe with driver ${drv.name} rejects match -${errno}`);
      } else {
        this.#o.log.warn(
          `${bus.name} ${dev.name}: probe with driver ${drv.name} failed with error -${errno}`,
        );
      }
      return e.errno;
    }
    this.#o.log.debug(`bus: '${bus.name}': really_probe: bound device ${dev.name} to driver ${drv.name}`);
    this.uevent(dev, 'bind');
    return undefined;
  }

  // ---- uevents ----

  uevent(dev: Device, action: UeventAction): void {
    if (dev.data.bus === 'none') return;
    const env: [string, string][] = [];
    if (dev.driver !== undefined) env.push(['DRIVER', dev.driver.name]);
    env.push(...this.#state(dev.data.bus).bus.ueventEnv(dev));
    this.#o.emit({
      seqnum: ++this.#seqnum,
      modeledNs: this.#o.clock.nowNs,
      action,
      devpath: dev.devpath,
      subsystem: dev.data.bus,
      env,
    });
  }
}
