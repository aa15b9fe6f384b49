/**
 * devlink instances and ports as drivers register them (net/devlink/core.c, port.c): the contract
 * between drivers (which implement DevlinkOps, like struct devlink_ops) and the devlink generic
 * netlink family (which reads instances and ports and calls the ops). Numbers follow facts/kernel.md 7.1.
 *
 * Ops throw NetlinkError (errno + extack text) for user-visible failures; a missing op is
 * EOPNOTSUPP, decided by the family, not the driver.
 */
export const DEVLINK_PORT_FLAVOUR = {
  PHYSICAL: 0,
  CPU: 1,
  DSA: 2,
  PCI_PF: 3,
  PCI_VF: 4,
  VIRTUAL: 5,
  UNUSED: 6,
  PCI_SF: 7,
} as const;

export const DEVLINK_PORT_TYPE = { NOTSET: 0, AUTO: 1, ETH: 2, IB: 3 } as const;
export const DEVLINK_ESWITCH_MODE = { LEGACY: 0, SWITCHDEV: 1 } as const;

export type DevlinkFnState = 'inactive' | 'active';
export type DevlinkFnOpstate = 'detached' | 'attached';

/** The port function's attributes (DEVLINK_ATTR_PORT_FUNCTION nest). */
export interface DevlinkPortFunction {
  readonly hwAddr: Uint8Array;
  /** Absent for flavours without a state (PCI_PF, PCI_VF report none in mlx5). */
  readonly state?: DevlinkFnState;
  readonly opstate?: DevlinkFnOpstate;
  readonly caps?: { readonly roce: boolean; readonly migratable: boolean };
}

/** One port as `devlink port show` reports it. */
export interface DevlinkPort {
  readonly index: number;
  readonly flavour: number;
  readonly type: number;
  readonly controller: number;
  readonly pfnum: number;
  readonly vfnum?: number;
  readonly sfnum?: number;
  readonly external: boolean;
  readonly splittable: boolean;
  readonly netdevName?: string;
  readonly netdevIfindex?: number;
  /** DEVLINK_ATTR_PORT_NUMBER of a physical/CPU/DSA port (default 0). */
  readonly portNumber?: number;
  /** Read at every query: the driver reports the live state. */
  readonly fn?: () => DevlinkPortFunction;
}

/** DEVLINK_CMD_PORT_NEW's request, decoded. */
export interface DevlinkPortNewRequest {
  readonly flavour: number;
  readonly pfnum: number;
  readonly sfnum?: number;
  readonly index?: number;
  readonly controller?: number;
}

export type DevlinkParamCmode = 'runtime' | 'driverinit' | 'permanent';
export type DevlinkParamValue = boolean | number | string;

/** A driver parameter (devlink_param): `devlink dev param show/set`. */
export interface DevlinkParam {
  readonly name: string;
  /** DEVLINK_ATTR_PARAM_GENERIC; default: whether the name is one of devlink's generic parameters. */
  readonly generic?: boolean;
  readonly type: 'bool' | 'u8' | 'u16' | 'u32' | 'string';
  readonly cmodes: readonly DevlinkParamCmode[];
  get(cmode: DevlinkParamCmode): DevlinkParamValue;
  /** May throw NetlinkError (EINVAL with extack for a value the driver rejects). */
  set(cmode: DevlinkParamCmode, value: DevlinkParamValue): void;
}

/** struct devlink_ops, the parts modeled. Every op may throw NetlinkError. */
export interface DevlinkOps {
  eswitchModeGet?(): number;
  eswitchModeSet?(mode: number): void;
  portNew?(req: DevlinkPortNewRequest): DevlinkPort;
  portDel?(port: DevlinkPort): void;
  portFnHwAddrSet?(port: DevlinkPort, mac: Uint8Array): void;
  portFnStateSet?(port: DevlinkPort, state: DevlinkFnState): void;
  portFnCapsSet?(port: DevlinkPort, caps: { readonly roce?: boolean; readonly migratable?: boolean }): void;
  /** The instance's parameters (devl_params_register). */
  params?(): readonly DevlinkParam[];
}

/** A devlink instance: handle "<bus>/<dev>" ("pci/0000:10:00.0", "auxiliary/mnic_core.sf.1"). */
export class DevlinkInstance {
  readonly bus: string;
  readonly dev: string;
  readonly ops: DevlinkOps;
  readonly #ports = new Map<number, DevlinkPort>();
  /** The ports in index order, rebuilt only after a change. */
  #sorted: DevlinkPort[] | undefined;
  readonly #registry: DevlinkRegistry;

  constructor(registry: DevlinkRegistry, bus: string, dev: string, ops: DevlinkOps) {
    this.#registry = registry;
    this.bus = bus;
    this.dev = dev;
    this.ops = ops;
  }

  get handle(): string {
    return `${this.bus}/${this.dev}`;
  }

  /** Ports in index order. */
  get ports(): DevlinkPort[] {
    this.#sorted ??= [...this.#ports.values()].sort((a, b) => a.index - b.index);
    return [...this.#sorted];
  }

  port(index: number): DevlinkPort | undefined {
    return this.#ports.get(index);
  }

  /** devl_port_register: EEXIST for a used index. Notifies PORT_NEW. */
  portRegister(port: DevlinkPort): void {
    if (this.#ports.has(port.index)) throw new Error(`devlink port index ${port.index} in use`);
    this.#ports.set(port.index, port);
    this.#sorted = undefined;
    this.#registry.emit({ kind: 'port-new', instance: this, port });
  }

  /** devl_port_unregister. Notifies PORT_DEL. */
  portUnregister(index: number): void {
    const port = this.#ports.get(index);
    if (port === undefined) return;
    this.#ports.delete(index);
    this.#sorted = undefined;
    this.#registry.emit({ kind: 'port-del', instance: this, port });
  }

  /** A port's function changed state (the driver tells devlink so monitors hear PORT_NEW again). */
  portChanged(index: number): void {
    const port = this.#ports.get(index);
    if (port !== undefined) this.#registry.emit({ kind: 'port-change', instance: this, port });
  }
}

export type DevlinkEvent =
  | { readonly kind: 'dev-new' | 'dev-del'; readonly instance: DevlinkInstance }
  | {
      readonly kind: 'port-new' | 'port-del' | 'port-change';
      readonly instance: DevlinkInstance;
      readonly port: DevlinkPort;
    };

/** Every devlink instance of one kernel (the devlinks xarray). */
export class DevlinkRegistry {
  /** By handle "bus/dev", in registration order (a Map keeps insertion order). */
  readonly #instances = new Map<string, DevlinkInstance>();
  readonly #listeners = new Set<(e: DevlinkEvent) => void>();

  /** devlink_alloc + devl_register. EEXIST for a handle already registered. */
  register(bus: string, dev: string, ops: DevlinkOps): DevlinkInstance {
    if (this.find(bus, dev) !== undefined) throw new Error(`devlink ${bus}/${dev} already registered`);
    const inst = new DevlinkInstance(this, bus, dev, ops);
    this.#instances.set(inst.handle, inst);
    this.emit({ kind: 'dev-new', instance: inst });
    return inst;
  }

  /** devl_unregister: its ports must be gone first (the driver unregisters them). */
  unregister(inst: DevlinkInstance): void {
    if (this.#instances.get(inst.handle) !== inst) return;
    for (const p of inst.ports) inst.portUnregister(p.index);
    this.#instances.delete(inst.handle);
    this.emit({ kind: 'dev-del', instance: inst });
  }

  find(bus: string, dev: string): DevlinkInstance | undefined {
    return this.#instances.get(`${bus}/${dev}`);
  }

  /** In registration order, as `devlink dev show` lists them. */
  get instances(): readonly DevlinkInstance[] {
    return [...this.#instances.values()];
  }

  /** The netlink family subscribes here to multicast notifications. */
  listen(fn: (e: DevlinkEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  emit(e: DevlinkEvent): void {
    for (const l of this.#listeners) l(e);
  }
}
