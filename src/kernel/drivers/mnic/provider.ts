/**
 * The NIC's FunctionProvider (issue 6 §4; contract in src/kernel/fnctl/provider.ts): N functions of a
 * kind in one request, all or nothing, each handed to the driver asked for.
 *
 * - siov (driver vfio | none): one CREATE_SIOV_FNS for all N, MAC and caps per function when asked,
 *   one ENABLE_HCA for all N (op_mod LIST), then for vfio an auxiliary device "mnic_core.vfio.<idx>"
 *   per function, carved directly by the core: no SF driver probe, no netdev — the seed mail's
 *   "straight from RIDs to VFIO" path. Unwinding and destroying likewise: one DISABLE_HCA, one DESTROY.
 * - sf (vfio | net | vdpa | none): ALLOC_SF with an automatic sfnum and a devlink port each (switchdev
 *   mode required, as for devlink-made SFs), then all activated by one ENABLE_HCA (op_mod LIST) unless
 *   the driver is none. vfio: on ACTIVE the core carves the vfio
 *   device directly; net / vdpa: activated through the SF driver with only eth / only vnet enabled
 *   (vdpa also adds one vDPA device on the SF's management device); none: left inactive.
 * - vf (vfio | net | none): SR-IOV with N VFs while VF autoprobe is held off, then each VF gets
 *   driver_override (mnic_vfio_pci or mnic_core) and one probe — never a native probe before VFIO.
 *   VFs exist only as a set: they are destroyed together, and only while none exist can more be made.
 *
 * Failures unwind everything made so far before the error returns. Per-function work is O(1): no
 * scans over existing functions, one log line per request.
 * SPEC-DEVIATION: boundAs names the VFIO device ("vfioN") only when the VFIO driver exposes it.
 */
import { formatBdfShort } from '../../../base/index.js';
import type { Device } from '../../driver-core/device.js';
import type {
  CreatedFunction,
  FnCreateParams,
  FnDriver,
  FnKind,
  FnParamCaps,
  FunctionProvider,
} from '../../fnctl/provider.js';
import { nlError } from '../../netlink/bus.js';
import { addAux, delAux } from './core-dev.js';
import type { MnicSiovHandle, VhcaStateEvent } from './fw-api.js';
import { MNIC_CORE, MNIC_VFIO_PCI, macPlus } from './ids.js';
import type { MnicPf } from './pf.js';
import {
  AUTO_SFNUM_BASE,
  asNl,
  boundAsOf,
  DRIVERS,
  type Made,
  ridText,
  type SiovMade,
  siovShared,
} from './provider-made.js';
import type { SfRecord } from './sf-table.js';

const ext = (text: string): string => `${MNIC_CORE}: ${text}`;

export class MnicProvider implements FunctionProvider {
  readonly bus = 'pci';
  readonly dev: string;
  readonly kinds: readonly FnKind[];
  readonly #pf: MnicPf;
  readonly #made = new Map<number, Made>();
  #nextId = 0;
  #nextSfnum = AUTO_SFNUM_BASE;
  #siovUsed = 0;
  #nextVdpa = 0;
  /** How many of #made are SFs (so pruning costs nothing when there are none). */
  #sfsMade = 0;

  constructor(pf: MnicPf) {
    this.#pf = pf;
    this.dev = pf.dev.name;
    this.kinds = pf.caps.maxSiovFns > 0 ? ['vf', 'sf', 'siov'] : ['vf', 'sf'];
  }

  driversFor(kind: FnKind): readonly FnDriver[] {
    return DRIVERS[kind];
  }

  /** Every kind takes a MAC; migratable needs firmware that can save and load function state. */
  paramCaps(_kind: FnKind): FnParamCaps {
    return { mac: true, migratable: this.#pf.caps.migration };
  }

  /** SIOV functions made (the eswitch cannot leave switchdev while any exist). */
  get siovCount(): number {
    return this.#siovUsed;
  }

  capacity(kind: FnKind): number {
    const pf = this.#pf;
    switch (kind) {
      case 'vf': {
        const iov = pf.ctx.k.pdev(pf.dev).sriov;
        return iov === undefined || iov.numVfs > 0 ? 0 : iov.driverMaxVfs;
      }
      case 'sf':
        return pf.switchdev ? pf.sfs.free : 0;
      case 'siov':
        return Math.max(0, pf.caps.maxSiovFns - this.#siovUsed);
    }
  }

  validate(kind: FnKind, count: number, params: FnCreateParams): void {
    if (!Number.isInteger(count) || count < 1) throw nlError('EINVAL', ext('count must be at least 1'));
    if (!DRIVERS[kind].includes(params.driver))
      throw nlError('EINVAL', ext(`${kind} functions take drivers ${DRIVERS[kind].join(', ')}`));
    if (params.migratable && !this.#pf.caps.migration)
      throw nlError('EOPNOTSUPP', ext("Device doesn't support migration"));
    if (kind === 'vf' && this.#pf.ctx.k.pciNumVf(this.#pf.dev) > 0)
      throw nlError('EBUSY', ext('VFs are already enabled; destroy them before creating others'));
    if (kind === 'sf' && !this.#pf.switchdev)
      throw nlError('EOPNOTSUPP', ext('SF ports are only supported in eswitch switchdev mode.'));
    if (kind === 'siov' && this.#pf.caps.maxSiovFns === 0)
      throw nlError('EOPNOTSUPP', ext('SIOV functions are not supported'));
    if (count > this.capacity(kind))
      throw nlError('ENOSPC', ext(`only ${this.capacity(kind)} more ${kind} functions fit`));
  }

  create(kind: FnKind, count: number, params: FnCreateParams): CreatedFunction[] {
    this.validate(kind, count, params);
    const made: Made[] = [];
    try {
      this.#pf.hold(() => {
        if (kind === 'siov') this.#createSiov(count, params, made);
        else if (kind === 'sf') this.#createSfs(count, params, made);
        else this.#createVfs(count, params, made);
      });
      // The SFs' devices exist once the events are handled: now their vDPA devices.
      if (kind === 'sf' && params.driver === 'vdpa') this.#addVdpaDevices(made);
    } catch (e) {
      this.#pf.hold(() => this.#unwind(made));
      throw asNl(e, `creating ${count} ${kind} functions failed`);
    }
    for (const m of made) this.#made.set(m.info.id, m);
    if (kind === 'sf') this.#sfsMade += made.length;
    this.#pf.ctx.k.log.info(
      `${MNIC_CORE} ${this.dev}: created ${count} ${kind} functions (${params.driver})`,
    );
    return made.map((m) => this.#refresh(m));
  }

  destroy(ids: readonly number[]): void {
    this.#prune();
    const victims: Made[] = [];
    for (const id of ids) {
      const m = this.#made.get(id);
      if (m === undefined) throw nlError('ENOENT', ext(`no function ${id}`));
      victims.push(m);
    }
    const vfs = victims.filter((m) => m.kind === 'vf').length;
    const allVfs = [...this.#made.values()].filter((m) => m.kind === 'vf').length;
    if (vfs > 0 && vfs !== allVfs)
      throw nlError('EINVAL', ext('VFs are destroyed together: name all of them'));
    for (const m of victims) this.#made.delete(m.info.id);
    this.#sfsMade -= victims.filter((m) => m.kind === 'sf').length;
    this.#pf.hold(() => this.#unwind(victims));
  }

  list(): CreatedFunction[] {
    this.#prune();
    return [...this.#made.values()].map((m) => this.#refresh(m));
  }

  /** SFs the API made can also go by devlink (port del, eswitch back to legacy): drop those. */
  #prune(): void {
    if (this.#sfsMade === 0) return;
    for (const [id, m] of this.#made) {
      if (m.kind === 'sf' && this.#pf.sfs.byFnId(m.rec.handle.fnId) !== m.rec) {
        this.#made.delete(id);
        this.#sfsMade--;
      }
    }
  }

  /** SR-IOV was turned off through sysfs: the VFs the API made are gone with it. */
  forgetVfs(): void {
    for (const [id, m] of this.#made) if (m.kind === 'vf') this.#made.delete(id);
  }

  /** PF removal: everything the API made. */
  destroyAll(): void {
    this.#prune();
    const all = [...this.#made.values()];
    this.#made.clear();
    this.#sfsMade = 0;
    this.#unwind(all);
  }

  /** vhca events of SIOV functions: nothing to follow (their devices live as long as the function). */
  onEvent(e: VhcaStateEvent): void {
    void e;
  }

  // ---- kinds ----

  #createSiov(count: number, params: FnCreateParams, made: Made[]): void {
    const pf = this.#pf;
    const k = pf.ctx.k;
    if (params.driver === 'vfio') k.functions.requestModule('vfio_mnic_aux');
    const handles = pf.fw.createSiovFns(count);
    this.#siovUsed += handles.length;
    const entries: SiovMade[] = new Array(handles.length);
    for (let i = 0; i < handles.length; i++) {
      const m: SiovMade = {
        kind: 'siov',
        handle: handles[i]!,
        adev: undefined,
        adevId: undefined,
        enabled: false,
        info: undefined as never,
      };
      entries[i] = m;
      made.push(m);
    }
    const macs = params.mac === undefined ? undefined : handles.map((_, i) => macPlus(params.mac!, i));
    for (let i = 0; i < entries.length; i++) {
      const m = entries[i]!;
      if (macs !== undefined) pf.fw.setFnHwAddr(m.handle, macs[i]!);
      if (params.migratable) pf.fw.setFnCaps(m.handle, { migratable: true });
    }
    // One ENABLE_HCA for all of them (op_mod LIST): all or none.
    pf.fw.enableHcaList(handles);
    for (const m of entries) m.enabled = true;
    for (let i = 0; i < entries.length; i++) {
      const m = entries[i]!;
      const mac = macs?.[i];
      let devName = '';
      if (params.driver === 'vfio') {
        const shared = siovShared(pf.dev, pf.fw, m.handle, params.migratable, mac ?? new Uint8Array(6));
        m.adevId = pf.ctx.adevIda.alloc();
        m.adev = addAux(k, pf.dev, 'vfio', m.adevId, shared);
        devName = m.adev.device!.name;
      }
      // Two literals rather than a conditional spread: this runs 10^4 times.
      const id = this.#nextId++;
      const rid = ridText(m.handle.guestRid);
      const hypervisorRid = ridText(m.handle.hypervisorRid);
      const { migratable, driver } = params;
      m.info =
        macs === undefined
          ? { id, kind: 'siov', devName, rid, hypervisorRid, migratable, driver }
          : { id, kind: 'siov', devName, rid, hypervisorRid, mac: mac!, migratable, driver };
    }
  }

  #createSfs(count: number, params: FnCreateParams, made: Made[]): void {
    const pf = this.#pf;
    const k = pf.ctx.k;
    const d = params.driver;
    if (d === 'vfio') k.functions.requestModule('vfio_mnic_aux');
    if (d === 'net') k.functions.requestModule('mnic_en');
    if (d === 'vdpa') k.functions.requestModule('mnic_vdpa');
    const recs: SfRecord[] = [];
    for (let i = 0; i < count; i++) {
      while (pf.sfs.hasSfnum(this.#nextSfnum)) this.#nextSfnum++;
      const rec = pf.sfs.allocate(
        this.#nextSfnum++,
        d === 'vfio'
          ? { kind: 'direct-vfio' }
          : { kind: 'sf-driver', enables: { eth: d === 'net', vnet: d === 'vdpa', vfio: false } },
      );
      const m: Made = { kind: 'sf', rec, info: undefined as never };
      made.push(m);
      if (params.mac !== undefined) pf.sfs.hwAddrSet(rec, macPlus(params.mac, i));
      if (params.migratable) pf.sfs.capsSet(rec, { migratable: true });
      m.info = {
        id: this.#nextId++,
        kind: 'sf',
        devName: '',
        rid: ridText(k.pdev(pf.dev).rid as number),
        ...(params.mac === undefined ? {} : { mac: rec.mac }),
        migratable: params.migratable,
        driver: d,
      };
      recs.push(rec);
    }
    // Activation of all of them in one ENABLE_HCA (op_mod LIST); the ACTIVE events carve the devices.
    if (d !== 'none') pf.sfs.activateList(recs);
  }

  #addVdpaDevices(made: readonly Made[]): void {
    const k = this.#pf.ctx.k;
    for (const m of made) {
      if (m.kind !== 'sf') continue;
      const name = m.rec.adev?.device?.name;
      const mgmt = name === undefined ? undefined : k.vdpa.findMgmtDev('auxiliary', name);
      if (mgmt === undefined) throw nlError('EOPNOTSUPP', ext('mnic_vdpa is not available'));
      while (k.vdpa.device(`vdpa${this.#nextVdpa}`) !== undefined) this.#nextVdpa++;
      mgmt.ops.devAdd(`vdpa${this.#nextVdpa++}`, m.info.mac === undefined ? {} : { mac: m.info.mac });
    }
  }

  #createVfs(count: number, params: FnCreateParams, made: Made[]): void {
    const pf = this.#pf;
    const k = pf.ctx.k;
    const target = params.driver === 'vfio' ? MNIC_VFIO_PCI : params.driver === 'net' ? MNIC_CORE : undefined;
    if (params.driver === 'vfio') k.functions.requestModule(MNIC_VFIO_PCI);
    if (params.driver === 'net') k.functions.requestModule('mnic_en');
    if (target !== undefined && k.core.findDriver('pci', target) === undefined)
      throw nlError('EOPNOTSUPP', ext(`driver ${target} is not available`));
    const iov = k.pdev(pf.dev).sriov!;
    const autoprobe = iov.driversAutoprobe;
    iov.driversAutoprobe = false;
    try {
      k.pciEnableSriov(pf.dev, count);
    } finally {
      iov.driversAutoprobe = autoprobe;
    }
    // From here on SR-IOV is on: every VF is "made", so any failure below turns it off again.
    const vfMade = iov.vfs.map(
      (vf): Made => ({ kind: 'vf', vfIndex: vf.vfIndex!, info: undefined as never }),
    );
    made.push(...vfMade);
    pf.vfsEnabled(count);
    for (const vf of iov.vfs) {
      const i = vf.vfIndex!;
      const info = pf.vfInfo(i)!;
      const m = vfMade[i]!;
      if (params.mac !== undefined) {
        info.mac = macPlus(params.mac, i);
        pf.fw.setFnHwAddr(info.handle, info.mac);
      }
      if (params.migratable) {
        pf.fw.setFnCaps(info.handle, { migratable: true });
        info.caps = { ...info.caps, migratable: true };
      }
      const dev = k.core.findDevice('pci', vf.name)!;
      m.info = {
        id: this.#nextId++,
        kind: 'vf',
        devName: vf.name,
        rid: formatBdfShort(vf.bdf),
        ...(params.mac === undefined ? {} : { mac: info.mac }),
        migratable: params.migratable,
        driver: params.driver,
      };
      if (target === undefined) continue;
      dev.driverOverride = target;
      if (!k.core.deviceAttach(dev)) throw nlError('ENODEV', ext(`${vf.name} did not bind to ${target}`));
    }
  }

  // ---- teardown ----

  #unwind(made: readonly Made[]): void {
    const pf = this.#pf;
    const k = pf.ctx.k;
    const siov: MnicSiovHandle[] = [];
    const enabled: MnicSiovHandle[] = [];
    let vfs = false;
    for (let i = made.length - 1; i >= 0; i--) {
      const m = made[i]!;
      if (m.kind === 'siov') {
        if (m.adev !== undefined) delAux(k, m.adev);
        if (m.adevId !== undefined) pf.ctx.adevIda.free(m.adevId);
        m.adev = undefined;
        m.adevId = undefined;
        if (m.enabled) enabled.push(m.handle);
        m.enabled = false;
        siov.push(m.handle);
      } else if (m.kind === 'sf') {
        pf.sfs.portDel(m.rec);
      } else {
        vfs = true;
      }
    }
    if (siov.length > 0) {
      // One DISABLE_HCA for every enabled one (op_mod LIST), then one DESTROY, in creation order.
      enabled.reverse();
      siov.reverse();
      pf.fw.disableHcaList(enabled);
      pf.queue.flush();
      pf.fw.destroySiovFns(siov);
      this.#siovUsed -= siov.length;
    }
    if (vfs && k.pciNumVf(pf.dev) > 0) {
      // VFs go as a set: each loses the driver_override creation gave it, then SR-IOV goes off.
      for (const vf of k.pdev(pf.dev).sriov?.vfs ?? []) {
        const dev = k.core.findDevice('pci', vf.name);
        if (dev !== undefined) dev.driverOverride = undefined;
      }
      pf.vfsDisabling();
      k.pciDisableSriov(pf.dev);
    }
  }

  /** The function as reported now: device names and what the driver made, read live. */
  #refresh(m: Made): CreatedFunction {
    const k = this.#pf.ctx.k;
    let dev: Device | undefined;
    if (m.kind === 'siov') dev = m.adev?.device;
    else if (m.kind === 'sf') dev = m.rec.adev?.device;
    else dev = k.core.findDevice('pci', m.info.devName);
    const out: { -readonly [K in keyof CreatedFunction]: CreatedFunction[K] } = {
      ...m.info,
      devName: dev?.name ?? m.info.devName,
    };
    const boundAs = dev === undefined ? undefined : boundAsOf(k, m, dev);
    if (boundAs !== undefined) out.boundAs = boundAs;
    return out;
  }
}
