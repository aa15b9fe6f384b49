/**
 * One mnic "core device" (mlx5_core_dev): a PF, a VF bound to mnic_core, or an SF probed by the
 * mnic_core.sf auxiliary driver. It owns the auxiliary devices it carves ("mnic_core.eth.<idx>",
 * "mnic_core.vnet.<idx>", "mnic_core.vfio.<idx>", all with the core device's one index, as mlx5's
 * adev_idx) and the enable_* switches that decide which exist (facts/kernel.md 6, mlx5 usage).
 * Also here: adding and deleting one auxiliary device with the init → add → delete → uninit order.
 * Left out: rdma and representor devices.
 */
import { AuxiliaryDevice, toAuxiliaryDev } from '../../auxiliary/auxiliary.js';
import type { Device } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { MnicFnHandle, MnicFw } from './fw-api.js';
import { type Ida, MNIC_CORE, type MnicAuxName } from './ids.js';
import type { MnicAuxShared } from './shared.js';

export const MNIC_AUX_NAMES: readonly MnicAuxName[] = ['eth', 'vnet', 'vfio'];

/** Which auxiliary devices a core device carves (devlink params enable_eth / enable_vnet / enable_vfio). */
export type MnicEnables = Record<MnicAuxName, boolean>;

/** What every mnic_core instance of one kernel shares: the kernel and the auxiliary index allocator. */
export interface MnicCtx {
  readonly k: KernelApi;
  /** adev_idx: one per core device or directly carved function. */
  readonly adevIda: Ida;
}

export interface MnicCoreDevInit {
  readonly dev: Device;
  readonly pciDev: Device;
  readonly fw: MnicFw;
  readonly managerFw: MnicFw;
  readonly fn: MnicFnHandle;
  readonly rid: number;
  readonly window: MnicAuxShared['window'];
  readonly enables: MnicEnables;
  readonly mac: Uint8Array;
  readonly migratable: boolean;
  readonly sfnum?: number;
}

export class MnicCoreDev {
  readonly dev: Device;
  readonly pciDev: Device;
  /** The function's own mailbox. */
  readonly fw: MnicFw;
  readonly managerFw: MnicFw;
  readonly fn: MnicFnHandle;
  readonly adevIdx: number;
  readonly enables: MnicEnables;
  readonly #ctx: MnicCtx;
  readonly #init: MnicCoreDevInit;
  readonly #aux = new Map<MnicAuxName, AuxiliaryDevice>();

  constructor(ctx: MnicCtx, init: MnicCoreDevInit) {
    this.#ctx = ctx;
    this.#init = init;
    this.dev = init.dev;
    this.pciDev = init.pciDev;
    this.fw = init.fw;
    this.managerFw = init.managerFw;
    this.fn = init.fn;
    this.enables = { ...init.enables };
    this.adevIdx = ctx.adevIda.alloc();
  }

  aux(name: MnicAuxName): AuxiliaryDevice | undefined {
    return this.#aux.get(name);
  }

  get shared(): MnicAuxShared {
    const i = this.#init;
    return {
      coreDev: i.dev,
      pciDev: i.pciDev,
      managerFw: i.managerFw,
      fn: i.fn,
      ...(i.fw === i.managerFw ? {} : { fnFw: i.fw }),
      rid: i.rid,
      window: i.window,
      migratable: i.migratable,
      mac: i.mac,
      ...(i.sfnum === undefined ? {} : { sfnum: i.sfnum }),
    };
  }

  /** mlx5_attach_device: carve every enabled piece that is not there yet, in eth, vnet, vfio order. */
  attachAll(): void {
    for (const name of MNIC_AUX_NAMES) if (this.enables[name]) this.attach(name);
  }

  attach(name: MnicAuxName): void {
    if (this.#aux.has(name)) return;
    this.#aux.set(name, addAux(this.#ctx.k, this.dev, name, this.adevIdx, this.shared));
  }

  detach(name: MnicAuxName): void {
    const adev = this.#aux.get(name);
    if (adev === undefined) return;
    this.#aux.delete(name);
    delAux(this.#ctx.k, adev);
  }

  /** Delete every piece (reverse order) and give the index back. */
  destroy(): void {
    for (const name of [...MNIC_AUX_NAMES].reverse()) this.detach(name);
    this.#ctx.adevIda.free(this.adevIdx);
  }

  /** enable_<name> changed at runtime: carve or delete the piece now. */
  setEnabled(name: MnicAuxName, on: boolean): void {
    this.enables[name] = on;
    if (on) this.attach(name);
    else this.detach(name);
  }
}

/** auxiliary_device_init + __auxiliary_device_add(adev, "mnic_core"); uninit on a failed add. */
export function addAux(
  k: KernelApi,
  parent: Device,
  name: string,
  id: number,
  shared: unknown,
): AuxiliaryDevice {
  const adev = new AuxiliaryDevice({ name, id, parent, release: () => {}, shared });
  adev.init();
  try {
    adev.add(k.core, MNIC_CORE);
  } catch (e) {
    adev.uninit();
    throw e;
  }
  return adev;
}

/** auxiliary_device_delete (unbinds its driver) + auxiliary_device_uninit. */
export function delAux(k: KernelApi, adev: AuxiliaryDevice): void {
  if (adev.state === 'added') adev.delete(k.core);
  if (adev.state === 'deleted') adev.uninit();
}

/** The MnicAuxShared a bound mnic auxiliary device carries (to_auxiliary_dev + its shared API). */
export function mnicShared(dev: Device): MnicAuxShared | undefined {
  return toAuxiliaryDev(dev)?.shared as MnicAuxShared | undefined;
}
