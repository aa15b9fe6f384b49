/**
 * The auxiliary bus (drivers/base/auxiliary.c; facts/kernel.md 6). A parent driver carves a piece of
 * its device into an auxiliary device named "<modname>.<devname>.<id>"; drivers match on the name up
 * to the last '.', exactly, against their id table; MODALIAS is "auxiliary:<modname>.<devname>".
 *
 * Lifecycle of an AuxiliaryDevice: allocated → init (parent and name required, EINVAL otherwise;
 * one reference held) → add (modname required; the name must be unique on the bus, EEXIST) →
 * delete (unbinds, leaves the bus) → uninit (drops the reference; the last one calls release).
 * After init, failures must go through uninit, never a plain drop: the model enforces the order.
 */
import { errnoError, LabError } from '../../base/index.js';
import { type AuxDeviceId, Device, Driver, type DriverOps, type ProbeClass } from '../driver-core/device.js';
import type { Bus, DriverCore } from '../driver-core/driver-core.js';

/** AUXILIARY_NAME_SIZE: "modname.devname" must fit in 32 bytes with its NUL. */
export const AUXILIARY_NAME_SIZE = 32;

export type AuxState = 'allocated' | 'initialized' | 'added' | 'deleted' | 'released';

export class AuxiliaryDevice {
  /** The short name ("eth"); the parent chooses it. */
  readonly name: string | undefined;
  readonly id: number;
  readonly parent: Device | undefined;
  readonly #release: (() => void) | undefined;
  #state: AuxState = 'allocated';
  #refs = 0;
  #device: Device | undefined;
  /** What the parent shares with the subsystem driver (the "shared API" wrapper). */
  readonly shared: unknown;

  constructor(o: { name?: string; id: number; parent?: Device; release?: () => void; shared?: unknown }) {
    this.name = o.name;
    this.id = o.id;
    this.parent = o.parent;
    this.#release = o.release;
    this.shared = o.shared;
  }

  get state(): AuxState {
    return this.#state;
  }

  /** The registered device, once added. */
  get device(): Device | undefined {
    return this.#device;
  }

  /** auxiliary_device_init. */
  init(): void {
    if (this.#state !== 'allocated')
      throw new LabError('invalid-state', `auxiliary device already ${this.#state}`);
    if (this.parent === undefined) throw errnoError('EINVAL', 'auxiliary device has no parent');
    if (this.name === undefined) throw errnoError('EINVAL', 'auxiliary device has no name');
    if (this.#release === undefined) throw errnoError('EINVAL', 'auxiliary device has no release');
    this.#state = 'initialized';
    this.#refs = 1;
  }

  /** __auxiliary_device_add(adev, modname). On failure the caller must uninit. */
  add(core: DriverCore, modname: string | undefined): void {
    if (this.#state !== 'initialized')
      throw new LabError('invalid-state', `add of an auxiliary device that is ${this.#state}`);
    if (modname === undefined || modname === '')
      throw errnoError('EINVAL', 'auxiliary device add without a module name');
    const full = `${modname}.${this.name}.${this.id}`;
    const dev = new Device(full, this.parent, {
      bus: 'auxiliary',
      modname,
      devname: this.name!,
      id: this.id,
    });
    dev.matchEnabled = true;
    auxOfDevice.set(dev, this);
    core.deviceAdd(dev);
    this.#device = dev;
    this.#state = 'added';
  }

  /** auxiliary_device_delete: device_del (unbinds the driver, leaves the bus). */
  delete(core: DriverCore): void {
    if (this.#state !== 'added')
      throw new LabError('invalid-state', `delete of an auxiliary device that is ${this.#state}`);
    core.deviceDel(this.#device!);
    this.#state = 'deleted';
  }

  /** auxiliary_device_uninit: put_device; the last reference calls release. */
  uninit(): void {
    if (this.#state !== 'initialized' && this.#state !== 'deleted') {
      throw new LabError('invalid-state', `uninit of an auxiliary device that is ${this.#state}`);
    }
    this.#refs--;
    if (this.#refs === 0) {
      this.#state = 'released';
      this.#release!();
    }
  }
}

/** Bus device → the auxiliary device it belongs to (container_of). */
const auxOfDevice = new WeakMap<Device, AuxiliaryDevice>();

/** to_auxiliary_dev: the auxiliary device behind a bus device (its `shared` API), for the bound driver. */
export function toAuxiliaryDev(dev: Device): AuxiliaryDevice | undefined {
  return auxOfDevice.get(dev);
}

/** The match key of an auxiliary device name: everything before the last '.'. */
export function auxMatchName(deviceName: string): string | undefined {
  const dot = deviceName.lastIndexOf('.');
  return dot < 0 ? undefined : deviceName.slice(0, dot);
}

/** auxiliary_match_id: the first id whose name equals the device's match key. */
export function auxMatchId(idTable: readonly AuxDeviceId[], deviceName: string): AuxDeviceId | undefined {
  const key = auxMatchName(deviceName);
  return key === undefined ? undefined : idTable.find((id) => id.name === key);
}

export function createAuxiliaryBus(): Bus {
  return {
    name: 'auxiliary',
    driversAutoprobe: true,
    match: (dev, drv) => drv.data.bus === 'auxiliary' && auxMatchId(drv.data.idTable, dev.name) !== undefined,
    probe: (dev, drv) => drv.ops.probe(dev),
    remove: (dev, drv) => drv.ops.remove?.(dev),
    ueventEnv: (dev) => [['MODALIAS', `auxiliary:${auxMatchName(dev.name) ?? dev.name}`]],
  };
}

/**
 * __auxiliary_driver_register: probe and id_table are required (EINVAL); the driver's name is
 * "<modname>.<name>" when it has a name, else "<modname>".
 */
export function auxiliaryDriver(o: {
  modname: string;
  name?: string;
  idTable: readonly AuxDeviceId[];
  ops: Partial<DriverOps>;
  probeClass: ProbeClass;
}): Driver {
  if (o.ops.probe === undefined || o.idTable.length === 0) {
    throw errnoError('EINVAL', `auxiliary driver ${o.modname}.${o.name ?? ''} needs probe and an id table`);
  }
  for (const id of o.idTable) {
    if (id.name.length >= AUXILIARY_NAME_SIZE)
      throw errnoError('EINVAL', `auxiliary id '${id.name}' is too long`);
  }
  return new Driver({
    name: o.name === undefined ? o.modname : `${o.modname}.${o.name}`,
    probeClass: o.probeClass,
    ops: o.ops as DriverOps,
    module: o.modname,
    data: { bus: 'auxiliary', idTable: o.idTable },
  });
}
