/**
 * Host network devices as drivers register them (register_netdev): a name, an ifindex, the parent
 * device, a MAC, and the driver's statistics for `ethtool -S`. One registry per kernel.
 *
 * Names follow udev's predictable scheme (what users see on a modern distribution):
 * "enp<bus>s<slot>f<fn>" for a PCI function, plus "s<sfnum>" for a subfunction (facts/kernel.md 7.3's
 * enp6s0f0s88). ifindex counts from 2 (1 is lo) and is never reused, as in Linux.
 * Left out: the network stack, link state, renames, namespaces.
 * SPEC-DEVIATION: the registry hangs off the kernel through a keyed attachment (like vfioCoreOf)
 * until the kernel has a `net` field.
 */
import { errnoError } from '../../base/index.js';
import type { Device } from '../driver-core/device.js';

export interface Netdev {
  readonly name: string;
  readonly ifindex: number;
  /** The device the driver bound (an auxiliary device for mnic_en). */
  readonly parent: Device;
  readonly mac: Uint8Array;
  /** ethtool -S: the driver's counters, in its order. */
  stats(): readonly (readonly [string, bigint])[];
}

export class NetdevRegistry {
  readonly #byName = new Map<string, Netdev>();
  readonly #byParent = new Map<Device, Netdev>();
  #nextIfindex = 2;

  register(o: Omit<Netdev, 'ifindex'>): Netdev {
    if (this.#byName.has(o.name)) throw errnoError('EEXIST', `netdev ${o.name} exists`);
    const nd: Netdev = { ...o, ifindex: this.#nextIfindex++ };
    this.#byName.set(nd.name, nd);
    this.#byParent.set(nd.parent, nd);
    return nd;
  }

  unregister(nd: Netdev): void {
    if (this.#byName.get(nd.name) !== nd) return;
    this.#byName.delete(nd.name);
    if (this.#byParent.get(nd.parent) === nd) this.#byParent.delete(nd.parent);
  }

  byName(name: string): Netdev | undefined {
    return this.#byName.get(name);
  }

  /** The netdev a driver registered for the device it bound. */
  byParent(parent: Device): Netdev | undefined {
    return this.#byParent.get(parent);
  }

  /** In ifindex order. */
  get all(): Netdev[] {
    return [...this.#byName.values()].sort((a, b) => a.ifindex - b.ifindex);
  }
}

const registries = new WeakMap<object, NetdevRegistry>();

/** The netdev registry of `kernel` (made on first use). */
export function netdevsOf(kernel: object): NetdevRegistry {
  let r = registries.get(kernel);
  if (r === undefined) {
    r = new NetdevRegistry();
    registries.set(kernel, r);
  }
  return r;
}

/** udev's path name of a PCI function: "enp<bus>s<slot>f<fn>" (bus and slot in decimal). */
export function pciNetdevName(bus: number, devfn: number): string {
  return `enp${bus}s${devfn >> 3}f${devfn & 7}`;
}
