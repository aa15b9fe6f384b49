/**
 * mnic_core on a PF (mlx5_core's PF side): the firmware mailbox, the devlink instance "pci/<bdf>"
 * with its eswitch mode and ports, the SF table, the PF's own auxiliary devices, the vhca event queue,
 * and the NIC's function provider. This object is the PF's driver data: MnicCoreApi for VF variant
 * drivers (pci_iov_get_pf_drvdata, facts/kernel.md 5.5).
 *
 * Ports (mlx5 eswitch): the uplink port (flavour physical, vport 0xffff) in both eswitch modes; in
 * switchdev mode also the PF's port (pcipf, vport 0), one pcivf port per enabled VF (vport i + 1) and
 * the SF ports (vport = the SF's hardware function id). Index = (vhca_id << 16) | vport.
 * Switching to legacy deletes every SF (mlx5_sf_esw_event).
 *
 * SPEC-DEVIATION: mlx5 registers the pcipf port only on an ECPF (SmartNIC); here the PF's own port is
 * shown in switchdev mode so its function's hw_addr can be set like a VF's. No representor netdevs.
 */

import {
  DEVLINK_ESWITCH_MODE,
  DEVLINK_PORT_FLAVOUR,
  DEVLINK_PORT_TYPE,
  type DevlinkInstance,
  type DevlinkOps,
  type DevlinkPort,
} from '../../devlink/registry.js';
import type { Device } from '../../driver-core/device.js';
import type { Netdev } from '../../net/index.js';
import { nlError } from '../../netlink/bus.js';
import { resourceSize } from '../../pci/resource.js';
import { MnicCoreDev, type MnicCtx, type MnicEnables } from './core-dev.js';
import { VhcaEventQueue } from './events.js';
import type { MnicFnHandle, MnicFw, MnicHcaCaps, VhcaStateEvent } from './fw-api.js';
import { devlinkPortIndex, Ida, MNIC_CORE, VPORT_PF, VPORT_UPLINK } from './ids.js';
import { enableParams, sfDefaultParams } from './params.js';
import { MnicProvider } from './provider.js';
import type { MnicSfDevShared } from './sf-driver.js';
import { type SfRecord, SfTable } from './sf-table.js';
import type { MnicCoreApi } from './shared.js';

const ext = (text: string): string => `${MNIC_CORE}: ${text}`;

interface VfInfo {
  readonly handle: MnicFnHandle;
  mac: Uint8Array;
  caps: { roce: boolean; migratable: boolean };
}

export class MnicPf implements MnicCoreApi {
  readonly kind = 'mnic-core';
  readonly dev: Device;
  readonly fw: MnicFw;
  readonly caps: MnicHcaCaps;
  readonly ctx: MnicCtx;
  readonly queue: VhcaEventQueue;
  readonly sfs: SfTable;
  readonly provider: MnicProvider;
  readonly core: MnicCoreDev;
  readonly devlink: DevlinkInstance;
  /** What SFs carve when activated (sf_enable_* parameters). */
  readonly sfDefaults: MnicEnables = { eth: true, vnet: true, vfio: false };
  readonly #vfs = new Map<number, VfInfo>();
  readonly #sfDevIda = new Ida();
  readonly #unsubscribe: () => void;
  #mode: 0 | 1;
  #pfMac: Uint8Array;

  constructor(ctx: MnicCtx, dev: Device, fw: MnicFw) {
    this.ctx = ctx;
    this.dev = dev;
    this.fw = fw;
    const k = ctx.k;
    this.caps = fw.queryHcaCaps();
    this.#mode = fw.queryEswitchMode();
    this.#pfMac = Uint8Array.from(this.caps.permanentMac);
    this.queue = new VhcaEventQueue((e) => this.#onEvent(e));
    this.#unsubscribe = fw.onVhcaEvent((e) => this.queue.push(e));
    const pfRid = k.pdev(dev).rid as number;
    this.sfs = new SfTable({
      ctx,
      fw,
      caps: this.caps,
      pfDev: dev,
      pfRid,
      sfDevIda: this.#sfDevIda,
      isSwitchdev: () => this.#mode === DEVLINK_ESWITCH_MODE.SWITCHDEV,
      registerPort: (p) => this.devlink.portRegister(p),
      unregisterPort: (i) => this.devlink.portUnregister(i),
      portChanged: (i) => this.devlink.portChanged(i),
      sfDevShared: (rec) => this.#sfDevShared(rec),
    });
    this.devlink = k.devlink.register('pci', dev.name, this.#ops());
    this.devlink.portRegister(this.#uplinkPort());
    if (this.#mode === DEVLINK_ESWITCH_MODE.SWITCHDEV) this.#registerRepPorts();
    const bar0 = k.pdev(dev).resources[0];
    this.core = new MnicCoreDev(ctx, {
      dev,
      pciDev: dev,
      fw,
      managerFw: fw,
      fn: fw.self,
      rid: pfRid,
      window: { bar: 0, offset: 0, sizeBytes: bar0 === undefined ? 0 : Number(resourceSize(bar0)) },
      enables: { eth: true, vnet: false, vfio: false },
      mac: this.caps.permanentMac,
      migratable: false,
    });
    this.provider = new MnicProvider(this);
  }

  /** Carve the PF's own pieces and offer functions (after the driver data is set). */
  start(): void {
    this.hold(() => this.core.attachAll());
    this.ctx.k.functions.register(this.provider);
  }

  /** Remove: functions, SFs, VFs, pieces, devlink, events, in that order. */
  stop(disableSriov: () => void): void {
    const k = this.ctx.k;
    k.functions.unregister(this.provider);
    this.hold(() => this.provider.destroyAll());
    this.hold(() => this.sfs.delAll());
    this.hold(() => {
      this.#unregisterVfPorts();
      disableSriov();
    });
    this.hold(() => this.core.destroy());
    k.devlink.unregister(this.devlink);
    this.#unsubscribe();
  }

  hold<T>(f: () => T): T {
    return this.queue.hold(f);
  }

  get switchdev(): boolean {
    return this.#mode === DEVLINK_ESWITCH_MODE.SWITCHDEV;
  }

  // ---- MnicCoreApi ----

  vfHandle(vfIndex: number): MnicFnHandle {
    const vf = this.vfInfo(vfIndex);
    if (vf === undefined) throw nlError('EINVAL', `VF ${vfIndex} is not enabled`);
    return vf.handle;
  }

  vfMigratable(vfIndex: number): boolean {
    return this.vfInfo(vfIndex)?.caps.migratable ?? false;
  }

  // ---- VFs ----

  /** After pci_enable_sriov: know each VF's function; ports in switchdev mode. */
  vfsEnabled(numVfs: number): void {
    for (let i = 0; i < numVfs; i++) {
      this.vfInfo(i);
      if (this.switchdev) this.devlink.portRegister(this.#vfPort(i));
    }
  }

  /** Before pci_disable_sriov. */
  vfsDisabling(): void {
    this.#unregisterVfPorts();
    this.#vfs.clear();
  }

  /**
   * VF `i`'s function, learnt on first use: a VF driver may probe (and ask) while pci_enable_sriov is
   * still adding VFs, before vfsEnabled runs.
   */
  vfInfo(i: number): VfInfo | undefined {
    const known = this.#vfs.get(i);
    if (known !== undefined) return known;
    const numVfs = this.ctx.k.pdev(this.dev).sriov?.numVfs ?? 0;
    if (!Number.isInteger(i) || i < 0 || i >= numVfs) return undefined;
    const info: VfInfo = {
      handle: this.fw.vfHandle(i),
      mac: new Uint8Array(6),
      caps: { roce: true, migratable: false },
    };
    this.#vfs.set(i, info);
    return info;
  }

  #unregisterVfPorts(): void {
    for (const i of this.#vfs.keys()) this.devlink.portUnregister(this.#vfPortIndex(i));
  }

  // ---- devlink ----

  #ops(): DevlinkOps {
    return {
      eswitchModeGet: () => this.#mode,
      eswitchModeSet: (mode) => this.hold(() => this.#setMode(mode)),
      portNew: (req) =>
        this.hold(() => this.sfs.portNew(req, { kind: 'sf-driver', enables: { ...this.sfDefaults } })),
      portDel: (port) =>
        this.hold(() => {
          const rec = this.#sfOf(port);
          this.sfs.portDel(rec);
        }),
      portFnHwAddrSet: (port, mac) => this.hold(() => this.#hwAddrSet(port, mac)),
      portFnStateSet: (port, state) => this.hold(() => this.sfs.stateSet(this.#sfOf(port), state)),
      portFnCapsSet: (port, caps) => this.hold(() => this.#capsSet(port, caps)),
      params: () => [
        ...enableParams(
          () => this.core,
          (f) => this.hold(f),
        ),
        ...sfDefaultParams(this.sfDefaults),
      ],
    };
  }

  #sfOf(port: DevlinkPort): SfRecord {
    const rec = this.sfs.byPort(port.index);
    if (rec === undefined) throw nlError('EOPNOTSUPP', ext('Port is not an SF port'));
    return rec;
  }

  #setMode(mode: number): void {
    if (mode !== DEVLINK_ESWITCH_MODE.LEGACY && mode !== DEVLINK_ESWITCH_MODE.SWITCHDEV)
      throw nlError('EINVAL', ext('Unsupported eswitch mode'));
    if (mode === this.#mode) return;
    if (mode === DEVLINK_ESWITCH_MODE.LEGACY) {
      if (this.provider.siovCount > 0)
        throw nlError('EBUSY', ext("Can't change E-Switch mode to legacy while SIOV functions exist"));
      // mlx5_sf_esw_event: every SF goes; their hardware ids come back with the events.
      this.sfs.delAll();
      this.queue.flush();
      this.fw.setEswitchMode(mode);
      this.#unregisterVfPorts();
      this.devlink.portUnregister(devlinkPortIndex(this.fw.self.vhcaId, VPORT_PF));
      this.#mode = mode;
    } else {
      this.fw.setEswitchMode(mode);
      this.#mode = mode;
      this.#registerRepPorts();
    }
  }

  #hwAddrSet(port: DevlinkPort, mac: Uint8Array): void {
    const sf = this.sfs.byPort(port.index);
    if (sf !== undefined) {
      this.sfs.hwAddrSet(sf, mac);
      return;
    }
    const vf = this.#vfOfPort(port);
    if (vf !== undefined) {
      this.fw.setFnHwAddr(vf.handle, mac);
      vf.mac = Uint8Array.from(mac);
      return;
    }
    if (port.flavour === DEVLINK_PORT_FLAVOUR.PCI_PF) {
      this.fw.setFnHwAddr(this.fw.self, mac);
      this.#pfMac = Uint8Array.from(mac);
      return;
    }
    throw nlError('EOPNOTSUPP', ext('Port does not support function attributes'));
  }

  #capsSet(port: DevlinkPort, caps: { readonly roce?: boolean; readonly migratable?: boolean }): void {
    const sf = this.sfs.byPort(port.index);
    if (sf !== undefined) {
      this.sfs.capsSet(sf, caps);
      return;
    }
    const vf = this.#vfOfPort(port);
    if (vf === undefined) throw nlError('EOPNOTSUPP', ext('Port does not support function caps'));
    if (caps.migratable !== undefined && caps.migratable !== vf.caps.migratable && !this.caps.migration)
      throw nlError('EOPNOTSUPP', ext("Device doesn't support migration"));
    const next = { roce: caps.roce ?? vf.caps.roce, migratable: caps.migratable ?? vf.caps.migratable };
    if (next.roce === vf.caps.roce && next.migratable === vf.caps.migratable) return;
    const vfDev = this.#vfDevice(port.vfnum!);
    if (vfDev?.driver !== undefined)
      throw nlError('EBUSY', ext('VF is bound to a driver; unbind it before changing its caps'));
    this.fw.setFnCaps(vf.handle, next);
    vf.caps = next;
  }

  #vfDevice(vfIndex: number): Device | undefined {
    const vf = this.ctx.k.pdev(this.dev).sriov?.vfs.find((v) => v.vfIndex === vfIndex);
    return vf === undefined ? undefined : this.ctx.k.core.findDevice('pci', vf.name);
  }

  #vfOfPort(port: DevlinkPort): VfInfo | undefined {
    if (port.flavour !== DEVLINK_PORT_FLAVOUR.PCI_VF || port.vfnum === undefined) return undefined;
    return this.#vfs.get(port.vfnum);
  }

  #vfPortIndex(i: number): number {
    return devlinkPortIndex(this.fw.self.vhcaId, i + 1);
  }

  /** The uplink port; its netdev is the PF's (mnic_en's on the PF's eth piece), read live. */
  #uplinkPort(): DevlinkPort {
    const netdev = (): Netdev | undefined => {
      const eth = this.core.aux('eth')?.device;
      return eth === undefined ? undefined : this.ctx.k.net.byParent(eth);
    };
    return {
      get netdevName() {
        return netdev()?.name;
      },
      get netdevIfindex() {
        return netdev()?.ifindex;
      },
      index: devlinkPortIndex(this.fw.self.vhcaId, VPORT_UPLINK),
      flavour: DEVLINK_PORT_FLAVOUR.PHYSICAL,
      type: DEVLINK_PORT_TYPE.ETH,
      controller: 0,
      pfnum: this.caps.pfNum,
      external: false,
      splittable: false,
    };
  }

  #registerRepPorts(): void {
    this.devlink.portRegister({
      index: devlinkPortIndex(this.fw.self.vhcaId, VPORT_PF),
      flavour: DEVLINK_PORT_FLAVOUR.PCI_PF,
      type: DEVLINK_PORT_TYPE.ETH,
      controller: 0,
      pfnum: this.caps.pfNum,
      external: false,
      splittable: false,
      fn: () => ({ hwAddr: this.#pfMac }),
    });
    for (const i of this.#vfs.keys()) this.devlink.portRegister(this.#vfPort(i));
  }

  #vfPort(i: number): DevlinkPort {
    return {
      index: this.#vfPortIndex(i),
      flavour: DEVLINK_PORT_FLAVOUR.PCI_VF,
      type: DEVLINK_PORT_TYPE.ETH,
      controller: 0,
      pfnum: this.caps.pfNum,
      vfnum: i,
      external: false,
      splittable: false,
      fn: () => {
        const vf = this.#vfs.get(i);
        return {
          hwAddr: vf?.mac ?? new Uint8Array(6),
          caps: { roce: vf?.caps.roce ?? false, migratable: vf?.caps.migratable ?? false },
        };
      },
    };
  }

  // ---- events ----

  #onEvent(e: VhcaStateEvent): void {
    if (this.sfs.onEvent(e.fnId, e.state)) return;
    this.provider.onEvent(e);
  }

  #sfDevShared(rec: SfRecord): MnicSfDevShared {
    return {
      kind: 'mnic-sf-dev',
      pfDev: this.dev,
      pfFw: this.fw,
      caps: this.caps,
      pfRid: this.ctx.k.pdev(this.dev).rid as number,
      table: this.sfs,
      rec,
      enables: rec.use.kind === 'sf-driver' ? rec.use.enables : { eth: false, vnet: false, vfio: true },
      hold: (f) => this.hold(f),
    };
  }
}
