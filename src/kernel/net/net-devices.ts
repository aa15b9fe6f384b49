/**
 * The kernel's one list of net devices (init_net's dev_base_head with its name and index hashes):
 * lo, every netdev a driver registers, and every link `ip link add` makes, in one ifindex space.
 * lo is ifindex 1; the others get the next index in registration order, never reused while the
 * kernel runs (dev_index_reserve allocates cyclically past the last index handed out).
 *
 * Link kinds that `ip link add ... type KIND` can make register their rtnl_link_ops here
 * (rtnl_link_register); without a name the kernel picks the first free "KIND%d". Only such links can
 * be deleted: lo and driver netdevs have no rtnl_link_ops, so rtnl_dellink answers EOPNOTSUPP.
 *
 * Driver netdevs come from mnic_en (kernel/drivers/mnic/en.ts) and the host virtio_net
 * (kernel/drivers/virtio-pci/net.ts), both named by udev's predictable scheme.
 *
 * SPEC-DEVIATION: one namespace; `ip link` reaches this list directly rather than through
 * NETLINK_ROUTE messages, so no rtnetlink traffic shows in nlmon captures.
 * Left out: renames, MTU and queue-length changes, lo going down.
 */
import { errnoError } from '../../base/index.js';
import type { Device } from '../driver-core/device.js';
import {
  checkIfname,
  type LinkKindOps,
  loopbackLink,
  type Netdev,
  type NetLink,
  type NlmonLink,
} from './link.js';
import { EtherNetdev, type NetdevRegistration } from './netdev.js';

export class NetDevices {
  /** In ifindex order: registration order, as the counter only grows. */
  readonly #links: NetLink[] = [loopbackLink()];
  readonly #kinds = new Map<string, LinkKindOps>();
  /** The next free index: 1 is lo's. */
  #nextIfindex = 2;

  /** Every link in ifindex order. */
  get links(): readonly NetLink[] {
    return this.#links;
  }

  /** The netdevs drivers registered, in ifindex order. */
  get driverNetdevs(): readonly Netdev[] {
    return this.#links.filter((l): l is Netdev => l.kind === 'ether');
  }

  byName(name: string): NetLink | undefined {
    return this.#links.find((l) => l.name === name);
  }

  byIfindex(ifindex: number): NetLink | undefined {
    return this.#links.find((l) => l.ifindex === ifindex);
  }

  /** The netdev a driver registered for the device it bound. */
  byParent(parent: Device): Netdev | undefined {
    return this.driverNetdevs.find((n) => n.parent === parent);
  }

  /**
   * register_netdev: EEXIST for a name in use.
   * SPEC-DEVIATION: the name is not checked against dev_valid_name. Drivers here register the name
   * udev would give (kernel/net/netdev.ts), and an API-made SF's sfnum (from 0x100000) makes that name
   * longer than IFNAMSIZ allows; Linux registers "eth%d", and udev keeps it when the predictable name
   * is too long.
   */
  register(r: NetdevRegistration): Netdev {
    if (this.byName(r.name) !== undefined) throw errnoError('EEXIST', `${r.name} exists`);
    const nd = new EtherNetdev(r, this.#nextIfindex++);
    this.#links.push(nd);
    return nd;
  }

  /** unregister_netdev: the device goes down and leaves the list; its index is not handed out again. */
  unregister(nd: Netdev): void {
    const at = this.#links.indexOf(nd);
    if (at < 0) return;
    nd.stop();
    this.#links.splice(at, 1);
  }

  /** rtnl_link_register. */
  registerLinkKind(ops: LinkKindOps): void {
    if (this.#kinds.has(ops.kind)) throw errnoError('EEXIST', `link kind ${ops.kind} is registered`);
    this.#kinds.set(ops.kind, ops);
  }

  hasLinkKind(kind: string): boolean {
    return this.#kinds.has(kind);
  }

  /**
   * rtnl_newlink for `kind`: EOPNOTSUPP for a kind nobody registered, EINVAL for a name
   * dev_valid_name refuses, EEXIST for a name in use; without a name the first free "KIND%d".
   */
  newLink(kind: string, name?: string): NlmonLink {
    const ops = this.#kinds.get(kind);
    if (ops === undefined) throw errnoError('EOPNOTSUPP', 'Unknown device type');
    const chosen = name ?? this.#freeName(kind);
    this.#checkFree(chosen);
    const link = ops.create(chosen, this.#nextIfindex++);
    this.#links.push(link);
    return link;
  }

  /** dev_open / dev_close: ENODEV for no such link. */
  setUp(name: string, up: boolean): void {
    const l = this.byName(name);
    if (l === undefined) throw errnoError('ENODEV', name);
    switch (l.kind) {
      case 'loopback':
        // lo is always up here; bringing it down is left out (it would stop local traffic we do not model).
        if (!up) throw errnoError('EOPNOTSUPP', 'lo stays up in this model');
        return;
      case 'ether':
      case 'nlmon':
        if (up) l.open();
        else l.stop();
        return;
    }
  }

  /** rtnl_dellink: ENODEV for no such link, EOPNOTSUPP for a link without rtnl_link_ops (lo, driver netdevs). */
  delete(name: string): void {
    const at = this.#links.findIndex((l) => l.name === name);
    const l = this.#links[at];
    if (l === undefined) throw errnoError('ENODEV', name);
    if (l.kind !== 'nlmon') throw errnoError('EOPNOTSUPP', `${name} cannot be deleted`);
    l.unregister();
    this.#links.splice(at, 1);
  }

  #checkFree(name: string): void {
    checkIfname(name);
    if (this.byName(name) !== undefined) throw errnoError('EEXIST', `${name} exists`);
  }

  #freeName(prefix: string): string {
    for (let i = 0; ; i++) if (this.byName(`${prefix}${i}`) === undefined) return `${prefix}${i}`;
  }
}
