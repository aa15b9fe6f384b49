/**
 * vDPA management devices and vDPA devices as drivers register them (drivers/vdpa/vdpa.c): the
 * contract between a vDPA parent driver (which implements VdpaMgmtDevOps, like struct
 * vdpa_mgmtdev_ops) and the vdpa generic netlink family. A management device is named after its
 * parent ("pci/0000:10:00.2" or "auxiliary/mnic_core.sf.1"); `vdpa dev add` asks it for a device.
 *
 * Ops throw NetlinkError (errno + extack text) for user-visible failures.
 */

/** What `vdpa dev add ... mac M mtu N max_vqp Q` passes (struct vdpa_dev_set_config). */
export interface VdpaDevConfig {
  readonly mac?: Uint8Array;
  readonly mtu?: number;
  readonly maxVqPairs?: number;
}

/** One vDPA device (struct vdpa_device as `vdpa dev show` reports it). */
export interface VdpaDevice {
  readonly name: string;
  readonly mgmt: VdpaMgmtDev;
  /** Virtio device id (1 = net). */
  readonly virtioDeviceId: number;
  readonly vendorId: number;
  readonly maxVqs: number;
  readonly maxVqSize: number;
  readonly minVqSize: number;
  /** The device's current config, for `vdpa dev config show`. */
  readonly config: () => { readonly mac: Uint8Array; readonly mtu: number; readonly maxVqPairs: number };
}

export interface VdpaMgmtDevOps {
  /** dev_add: create and register the device named `name`. */
  devAdd(name: string, config: VdpaDevConfig): VdpaDevice;
  /** dev_del. */
  devDel(dev: VdpaDevice): void;
}

export interface VdpaMgmtDev {
  readonly bus: string;
  readonly dev: string;
  /** Bit mask of virtio device ids it can create (1 << VIRTIO_ID_NET). */
  readonly supportedClasses: bigint;
  readonly maxSupportedVqs: number;
  readonly supportedFeatures: bigint;
  /** Which VdpaDevConfig fields `dev add` may set (VDPA_ATTR_DEV_NET_CFG_* attribute types). */
  readonly configAttrMask: bigint;
  readonly ops: VdpaMgmtDevOps;
}

export type VdpaEvent =
  | { readonly kind: 'mgmtdev-new' | 'mgmtdev-del'; readonly mgmt: VdpaMgmtDev }
  | { readonly kind: 'dev-new' | 'dev-del'; readonly device: VdpaDevice };

/** Every management device and vDPA device of one kernel. */
export class VdpaRegistry {
  readonly #mgmt: VdpaMgmtDev[] = [];
  readonly #devices = new Map<string, VdpaDevice>();
  readonly #listeners = new Set<(e: VdpaEvent) => void>();

  /** vdpa_mgmtdev_register. */
  registerMgmtDev(m: VdpaMgmtDev): void {
    if (this.findMgmtDev(m.bus, m.dev) !== undefined)
      throw new Error(`vdpa management device ${m.bus}/${m.dev} already registered`);
    this.#mgmt.push(m);
    this.#emit({ kind: 'mgmtdev-new', mgmt: m });
  }

  /** vdpa_mgmtdev_unregister: deletes the devices it created first. */
  unregisterMgmtDev(m: VdpaMgmtDev): void {
    const at = this.#mgmt.indexOf(m);
    if (at < 0) return;
    for (const d of [...this.#devices.values()]) if (d.mgmt === m) m.ops.devDel(d);
    for (const d of [...this.#devices.values()]) if (d.mgmt === m) this.unregisterDevice(d);
    this.#mgmt.splice(at, 1);
    this.#emit({ kind: 'mgmtdev-del', mgmt: m });
  }

  findMgmtDev(bus: string, dev: string): VdpaMgmtDev | undefined {
    return this.#mgmt.find((m) => m.bus === bus && m.dev === dev);
  }

  get mgmtDevs(): readonly VdpaMgmtDev[] {
    return this.#mgmt;
  }

  /** _vdpa_register_device: names are unique across the kernel (EEXIST in the family). */
  registerDevice(d: VdpaDevice): void {
    if (this.#devices.has(d.name)) throw new Error(`vdpa device ${d.name} exists`);
    this.#devices.set(d.name, d);
    this.#emit({ kind: 'dev-new', device: d });
  }

  unregisterDevice(d: VdpaDevice): void {
    if (this.#devices.get(d.name) !== d) return;
    this.#devices.delete(d.name);
    this.#emit({ kind: 'dev-del', device: d });
  }

  device(name: string): VdpaDevice | undefined {
    return this.#devices.get(name);
  }

  /** In name order (the vdpa bus lists devices by name). */
  get devices(): VdpaDevice[] {
    return [...this.#devices.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  listen(fn: (e: VdpaEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: VdpaEvent): void {
    for (const l of this.#listeners) l(e);
  }
}
