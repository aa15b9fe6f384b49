/**
 * The PF's subfunction table (mlx5 sf/devlink.c + sf/dev/dev.c; facts/kernel.md 7.1-7.3): devlink
 * PORT_NEW/DEL for flavour pcisf, the port function's hw_addr, state and caps, the vhca state each SF
 * is in, and the vhca events that create and remove the SF's auxiliary device "mnic_core.sf.<id>".
 *
 * State (mlx5 sf->hw_state): allocation → ALLOCATED; activate → ENABLE_HCA (one, or one list command
 * for many SFs: activateList), ACTIVE; deactivate →
 * DISABLE_HCA, TEARDOWN_REQUEST. Events update it only on ACTIVE↔IN_USE and TEARDOWN_REQUEST →
 * ALLOCATED (mlx5_sf_state_update_check). devlink state: ACTIVE/IN_USE → active; opstate:
 * IN_USE/TEARDOWN_REQUEST → attached. The dev table reacts to every event: ACTIVE → add the
 * auxiliary device; ALLOCATED/TEARDOWN_REQUEST/INVALID → remove it.
 * Port delete works from any state: an SF that is still active is disabled and its hardware id is
 * freed when firmware reports ALLOCATED (deferred free).
 *
 * An SF made by the creation API with driver vfio skips the SF driver: on ACTIVE the core carves
 * "mnic_core.vfio.<idx>" for it directly (the seed mail's fast path).
 *
 * SPEC-DEVIATION: SF ports have no representor netdev. Extack texts are mlx5's, prefixed with the
 * module name as NL_SET_ERR_MSG_MOD does. Caps set on an attached function is refused with EBUSY
 * (mlx5 leaves that to firmware; UNVERIFIED).
 */
import type { AuxiliaryDevice } from '../../auxiliary/auxiliary.js';
import {
  DEVLINK_PORT_FLAVOUR,
  DEVLINK_PORT_TYPE,
  type DevlinkFnState,
  type DevlinkPort,
  type DevlinkPortNewRequest,
} from '../../devlink/registry.js';
import type { Device } from '../../driver-core/device.js';
import { nlError } from '../../netlink/bus.js';
import { addAux, delAux, type MnicCtx, type MnicEnables } from './core-dev.js';
import { type MnicFw, type MnicHcaCaps, type MnicSfHandle, VHCA_STATE, type VhcaState } from './fw-api.js';
import { devlinkPortIndex, type Ida, MNIC_CORE } from './ids.js';
import type { MnicAuxShared } from './shared.js';

const ext = (text: string): string => `${MNIC_CORE}: ${text}`;

export type SfUse =
  | { readonly kind: 'sf-driver'; readonly enables: MnicEnables }
  | { readonly kind: 'direct-vfio' };

export interface SfRecord {
  readonly handle: MnicSfHandle;
  readonly sfnum: number;
  /** mlx5 sf->hw_state: what devlink reports. */
  hwState: VhcaState;
  port: DevlinkPort | undefined;
  mac: Uint8Array;
  caps: { roce: boolean; migratable: boolean };
  readonly use: SfUse;
  /** "mnic_core.sf.<id>" (SF driver use) or "mnic_core.vfio.<idx>" (direct use), while active. */
  adev: AuxiliaryDevice | undefined;
  adevId: number | undefined;
  /** The port was deleted while the function was still active: free on ALLOCATED. */
  deferredFree: boolean;
  /** The SF driver is being unbound: its own teardown must not delete the device under it. */
  driverLeaving: boolean;
}

/** What the table needs from its PF. */
export interface SfTableHost {
  readonly ctx: MnicCtx;
  readonly fw: MnicFw;
  readonly caps: MnicHcaCaps;
  readonly pfDev: Device;
  readonly pfRid: number;
  readonly sfDevIda: Ida;
  isSwitchdev(): boolean;
  registerPort(port: DevlinkPort): void;
  unregisterPort(index: number): void;
  portChanged(index: number): void;
  /** The shared API of an SF's "mnic_core.sf.<id>" device (for the SF driver). */
  sfDevShared(rec: SfRecord): unknown;
}

export const sfDevlinkState = (s: VhcaState): DevlinkFnState =>
  s === VHCA_STATE.ACTIVE || s === VHCA_STATE.IN_USE ? 'active' : 'inactive';
export const sfDevlinkOpstate = (s: VhcaState): 'attached' | 'detached' =>
  s === VHCA_STATE.IN_USE || s === VHCA_STATE.TEARDOWN_REQUEST ? 'attached' : 'detached';

export class SfTable {
  readonly #h: SfTableHost;
  /** By hardware function id (vhca events name functions by it). */
  readonly #byFnId = new Map<number, SfRecord>();
  readonly #byPort = new Map<number, SfRecord>();
  readonly #sfnums = new Set<number>();

  constructor(host: SfTableHost) {
    this.#h = host;
  }

  get size(): number {
    return this.#byFnId.size;
  }

  get free(): number {
    return Math.max(0, this.#h.caps.maxSfs - this.#byFnId.size);
  }

  byPort(index: number): SfRecord | undefined {
    return this.#byPort.get(index);
  }

  byFnId(fnId: number): SfRecord | undefined {
    return this.#byFnId.get(fnId);
  }

  hasSfnum(sfnum: number): boolean {
    return this.#sfnums.has(sfnum);
  }

  records(): SfRecord[] {
    return [...this.#byFnId.values()];
  }

  /** mlx5_devlink_sf_port_new: the checks in mlx5's order, then allocation and the port. */
  portNew(req: DevlinkPortNewRequest, use: SfUse): DevlinkPort {
    if (this.#h.caps.maxSfs === 0) throw nlError('EOPNOTSUPP', ext('SF ports are not supported.'));
    if (!this.#h.isSwitchdev())
      throw nlError('EOPNOTSUPP', ext('SF ports are only supported in eswitch switchdev mode.'));
    if (req.flavour !== DEVLINK_PORT_FLAVOUR.PCI_SF)
      throw nlError('EOPNOTSUPP', ext('Driver supports only SF port addition'));
    if (req.index !== undefined)
      throw nlError('EOPNOTSUPP', ext('Driver does not support user defined port index assignment'));
    if (req.sfnum === undefined)
      throw nlError(
        'EOPNOTSUPP',
        ext('User must provide unique sfnum. Driver does not support auto assignment'),
      );
    if (req.controller !== undefined && req.controller !== 0)
      throw nlError('EOPNOTSUPP', ext('External controller is unsupported'));
    if (req.pfnum !== this.#h.caps.pfNum) throw nlError('EOPNOTSUPP', ext('Invalid pfnum supplied'));
    return this.allocate(req.sfnum, use).port!;
  }

  /** Allocate one SF in firmware (ALLOCATED) and register its port. */
  allocate(sfnum: number, use: SfUse): SfRecord {
    if (this.#sfnums.has(sfnum)) throw nlError('EEXIST', ext('SF already exist. Choose different sfnum'));
    if (this.free === 0) throw nlError('ENOSPC', ext('No free SF is available'));
    const handle = this.#h.fw.allocSf(sfnum);
    const rec: SfRecord = {
      handle,
      sfnum,
      hwState: VHCA_STATE.ALLOCATED,
      port: undefined,
      mac: new Uint8Array(6),
      caps: { roce: true, migratable: false },
      use,
      adev: undefined,
      adevId: undefined,
      deferredFree: false,
      driverLeaving: false,
    };
    this.#byFnId.set(handle.fnId, rec);
    this.#sfnums.add(sfnum);
    const index = devlinkPortIndex(this.#h.fw.self.vhcaId, handle.fnId);
    const port: DevlinkPort = {
      index,
      flavour: DEVLINK_PORT_FLAVOUR.PCI_SF,
      type: DEVLINK_PORT_TYPE.ETH,
      controller: 0,
      pfnum: this.#h.caps.pfNum,
      sfnum,
      external: false,
      splittable: false,
      fn: () => ({
        hwAddr: rec.mac,
        state: sfDevlinkState(rec.hwState),
        opstate: sfDevlinkOpstate(rec.hwState),
        caps: { ...rec.caps },
      }),
    };
    rec.port = port;
    this.#byPort.set(index, rec);
    this.#h.registerPort(port);
    return rec;
  }

  /** mlx5_devlink_sf_port_del: from any state. */
  portDel(rec: SfRecord): void {
    if (rec.port !== undefined) {
      this.#byPort.delete(rec.port.index);
      this.#h.unregisterPort(rec.port.index);
      rec.port = undefined;
    }
    if (rec.hwState === VHCA_STATE.ALLOCATED) {
      this.#free(rec);
    } else if (rec.hwState === VHCA_STATE.ACTIVE || rec.hwState === VHCA_STATE.IN_USE) {
      rec.deferredFree = true;
      this.#h.fw.disableHca(rec.handle);
      rec.hwState = VHCA_STATE.TEARDOWN_REQUEST;
    } else {
      rec.deferredFree = true;
    }
  }

  hwAddrSet(rec: SfRecord, mac: Uint8Array): void {
    this.#h.fw.setFnHwAddr(rec.handle, mac);
    rec.mac = Uint8Array.from(mac);
  }

  capsSet(rec: SfRecord, caps: { readonly roce?: boolean; readonly migratable?: boolean }): void {
    if (caps.migratable !== undefined && caps.migratable !== rec.caps.migratable && !this.#h.caps.migration)
      throw nlError('EOPNOTSUPP', ext("Device doesn't support migration"));
    const roce = caps.roce ?? rec.caps.roce;
    const migratable = caps.migratable ?? rec.caps.migratable;
    if (roce === rec.caps.roce && migratable === rec.caps.migratable) return;
    if (sfDevlinkOpstate(rec.hwState) === 'attached')
      throw nlError('EBUSY', ext('Function is attached to a driver; deactivate it first'));
    this.#h.fw.setFnCaps(rec.handle, { roce, migratable });
    rec.caps = { roce, migratable };
  }

  /** mlx5_sf_state_set. */
  stateSet(rec: SfRecord, state: DevlinkFnState): void {
    if (state === sfDevlinkState(rec.hwState)) return;
    if (state === 'active') {
      if (rec.hwState !== VHCA_STATE.ALLOCATED)
        throw nlError('EBUSY', ext('SF is inactivated but it is still attached'));
      this.#h.fw.enableHca(rec.handle);
      rec.hwState = VHCA_STATE.ACTIVE;
    } else {
      this.#h.fw.disableHca(rec.handle);
      rec.hwState = VHCA_STATE.TEARDOWN_REQUEST;
    }
  }

  /**
   * mlx5_sf_state_set(active) for many SFs with one ENABLE_HCA (op_mod LIST), all or none: SFs already
   * active are left alone; one that is inactive but still attached is EBUSY before anything changes.
   */
  activateList(recs: readonly SfRecord[]): void {
    const todo = recs.filter((rec) => sfDevlinkState(rec.hwState) !== 'active');
    for (const rec of todo) {
      if (rec.hwState !== VHCA_STATE.ALLOCATED)
        throw nlError('EBUSY', ext('SF is inactivated but it is still attached'));
    }
    this.#h.fw.enableHcaList(todo.map((rec) => rec.handle));
    for (const rec of todo) rec.hwState = VHCA_STATE.ACTIVE;
  }

  /** A vhca event; false when the function is not an SF of this table. */
  onEvent(fnId: number, state: VhcaState): boolean {
    const rec = this.#byFnId.get(fnId);
    if (rec === undefined) return false;
    this.#devTableEvent(rec, state);
    const from = rec.hwState;
    const accepted =
      (from === VHCA_STATE.ACTIVE && state === VHCA_STATE.IN_USE) ||
      (from === VHCA_STATE.IN_USE && state === VHCA_STATE.ACTIVE) ||
      (from === VHCA_STATE.TEARDOWN_REQUEST && state === VHCA_STATE.ALLOCATED);
    if (accepted) rec.hwState = state;
    if (rec.deferredFree && state === VHCA_STATE.ALLOCATED) this.#free(rec);
    else if (accepted && rec.port !== undefined) this.#h.portChanged(rec.port.index);
    return true;
  }

  /** mlx5_sf_dev_state_change_handler: the auxiliary device follows the function's state. */
  #devTableEvent(rec: SfRecord, state: VhcaState): void {
    if (state === VHCA_STATE.ACTIVE) {
      if (rec.adev === undefined) this.#addDevice(rec);
    } else if (state !== VHCA_STATE.IN_USE) {
      if (rec.adev !== undefined && !rec.driverLeaving) this.#delDevice(rec);
    }
  }

  #addDevice(rec: SfRecord): void {
    const k = this.#h.ctx.k;
    if (rec.use.kind === 'sf-driver') {
      const id = this.#h.sfDevIda.alloc();
      rec.adevId = id;
      try {
        rec.adev = addAux(k, this.#h.pfDev, 'sf', id, this.#h.sfDevShared(rec));
      } catch (e) {
        this.#h.sfDevIda.free(id);
        rec.adevId = undefined;
        throw e;
      }
    } else {
      const id = this.#h.ctx.adevIda.alloc();
      rec.adevId = id;
      try {
        rec.adev = addAux(k, this.#h.pfDev, 'vfio', id, this.sfShared(rec));
      } catch (e) {
        this.#h.ctx.adevIda.free(id);
        rec.adevId = undefined;
        throw e;
      }
    }
  }

  #delDevice(rec: SfRecord): void {
    const adev = rec.adev!;
    rec.adev = undefined;
    delAux(this.#h.ctx.k, adev);
    if (rec.use.kind === 'sf-driver') this.#h.sfDevIda.free(rec.adevId!);
    else this.#h.ctx.adevIda.free(rec.adevId!);
    rec.adevId = undefined;
  }

  /** The shared API of an SF piece carved directly by the core (no SF driver, so no SF mailbox). */
  sfShared(rec: SfRecord): MnicAuxShared {
    const size = 2 ** (this.#h.caps.logMinSfSize + 12);
    return {
      coreDev: this.#h.pfDev,
      pciDev: this.#h.pfDev,
      managerFw: this.#h.fw,
      fn: rec.handle,
      rid: this.#h.pfRid,
      window: { bar: this.#h.caps.sfBar, offset: rec.handle.sfIndex * size, sizeBytes: size },
      migratable: rec.caps.migratable,
      mac: rec.mac,
      sfnum: rec.sfnum,
    };
  }

  /** The SF driver is leaving on its own (unbind): keep the device until firmware's next word. */
  markDriverLeaving(rec: SfRecord, leaving: boolean): void {
    rec.driverLeaving = leaving;
  }

  #free(rec: SfRecord): void {
    if (rec.adev !== undefined) this.#delDevice(rec);
    this.#byFnId.delete(rec.handle.fnId);
    this.#sfnums.delete(rec.sfnum);
    this.#h.fw.deallocSf(rec.handle);
  }

  /** mlx5_sf_del_all (eswitch back to legacy, driver removal). */
  delAll(): void {
    for (const rec of this.records()) this.portDel(rec);
  }
}
