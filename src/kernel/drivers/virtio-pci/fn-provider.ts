/**
 * The virtio-net PF's function provider for the fnctl family (docs/creation-api.md "virtio PF"): kind
 * vf only, drivers vfio (the virtio_vfio_pci variant driver), net (virtio-pci + host virtio_net) and
 * none. Creation is the PF driver's sriov_configure with the new VFs going straight to the chosen
 * driver:
 *
 * - vfio: VF autoprobe is held off while SR-IOV is enabled, so no native driver probes; each VF then
 *   gets driver_override = virtio-vfio-pci (left set, as vfio-pci's VF capture leaves it, so the VF
 *   cannot fall back to a host driver) and is bound directly. virtio_vfio_pci is loaded first
 *   (request_module): its id entry is override-only, so nothing would autoload it.
 * - net: autoprobe is held on during the enable (whatever the PF's sriov_drivers_autoprobe says), so
 *   virtio-pci probes each VF as sriov_numvfs would; every VF must end bound to virtio-pci.
 * - none: autoprobe held off; the VFs exist unbound.
 * The PF's sriov_drivers_autoprobe is restored afterwards.
 *
 * Rules (each checked before anything changes, in `validate`):
 * - SR-IOV is enabled once per PF: a CREATE while VFs exist (made by fnctl or by sriov_numvfs) is
 *   EBUSY; capacity is sriov_totalvfs while none exist, else 0.
 * - MAC: EOPNOTSUPP. Virtio 1.4 admin commands have no command that provisions a member's MAC (device
 *   parts carry no device-config part, facts/virtio.md §4.3), and writing the legacy config window
 *   would be the guest-visible driver-writable MAC, not an administrative one.
 * - migratable 1: EOPNOTSUPP unless the PF's admin queue has every device-parts command (what
 *   virtio_vfio_pci needs to migrate); a VF is reported migratable exactly when the PF has them.
 * - destroy: all VFs at once (sriov_configure(0)); a proper subset is EOPNOTSUPP, since SR-IOV cannot
 *   remove single VFs.
 * All-or-nothing: any failure after the enable disables SR-IOV again, which removes every VF, its
 * driver_override and its binding. `injectFault` (an ALLOW_ERROR_INJECTION-style hook for tests)
 * makes the next create fail at one function.
 */
import { errnoError } from '../../../base/index.js';
import { type ErrnoName, fnctl as F, virtio } from '../../../spec/index.js';
import type { Device, Driver } from '../../driver-core/device.js';
import type {
  CreatedFunction,
  FnCreateParams,
  FnDriver,
  FnKind,
  FunctionProvider,
} from '../../fnctl/index.js';
import type { KernelApi } from '../../kernel-api.js';
import { nlError } from '../../netlink/index.js';
import type { PciSriov } from '../../pci/pci-dev.js';
import { VIRTIO_VFIO_PCI_DRIVER_NAME, VIRTIO_VFIO_PCI_MODULE_NAME } from '../virtio-vfio-pci/index.js';
import { VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP } from './admin-vq.js';
import { hasFeature, isVirtioPciDevice, VIRTIO_PCI_DRIVER_NAME } from './driver.js';

const VF_DRIVERS: readonly FnDriver[] = ['vfio', 'net', 'none'];
const VFIO_DRIVER_NAMES = new Set([VIRTIO_VFIO_PCI_DRIVER_NAME, 'vfio-pci']);

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const ridText = (rid: number): string => `${hex2(rid >> 8)}:${hex2((rid >> 3) & 0x1f)}.${rid & 7}`;

/** sriov_configure of the PF driver: returns n, or 0 after disabling; throws an errno error. */
export type SriovConfigure = (dev: Device, numVfs: number) => number;

export class VirtioFnProvider implements FunctionProvider {
  readonly bus = 'pci';
  readonly dev: string;
  readonly kinds: readonly FnKind[] = ['vf'];
  readonly #k: KernelApi;
  readonly #pf: Device;
  readonly #configure: SriovConfigure;
  #fault: { readonly index: number; readonly errno: ErrnoName } | undefined;

  constructor(k: KernelApi, pf: Device, configure: SriovConfigure) {
    this.#k = k;
    this.#pf = pf;
    this.dev = pf.name;
    this.#configure = configure;
  }

  driversFor(kind: FnKind): readonly FnDriver[] {
    return kind === 'vf' ? VF_DRIVERS : [];
  }

  capacity(kind: FnKind): number {
    const iov = this.#k.pdev(this.#pf).sriov;
    if (kind !== 'vf' || iov === undefined || iov.numVfs > 0) return 0;
    return iov.driverMaxVfs;
  }

  paramCaps(kind: FnKind): { mac: boolean; migratable: boolean } {
    return { mac: false, migratable: kind === 'vf' && this.#hasDevParts() };
  }

  validate(kind: FnKind, _count: number, params: FnCreateParams): void {
    if (kind !== 'vf')
      throw nlError('EOPNOTSUPP', `pci/${this.dev} makes only vf functions`, F.FNCTL_ATTR_KIND);
    const numVfs = this.#iov().numVfs;
    if (numVfs > 0) {
      throw nlError(
        'EBUSY',
        `pci/${this.dev} already has ${numVfs} VFs; SR-IOV is enabled once, destroy all first`,
        F.FNCTL_ATTR_COUNT,
      );
    }
    const vp = this.#pf.driverData;
    if (isVirtioPciDevice(vp) && vp.transport.kind === 'modern' && !hasFeature(vp, virtio.VIRTIO_F_SR_IOV))
      throw nlError('EOPNOTSUPP', `pci/${this.dev}: VIRTIO_F_SR_IOV not negotiated`);
    if (params.mac !== undefined) {
      throw nlError('EOPNOTSUPP', 'virtio admin commands cannot provision a VF MAC', F.FNCTL_ATTR_MAC);
    }
    if (params.migratable && !this.#hasDevParts()) {
      throw nlError(
        'EOPNOTSUPP',
        `pci/${this.dev} has no device-parts admin commands, so its VFs cannot migrate`,
        F.FNCTL_ATTR_MIGRATABLE,
      );
    }
  }

  create(kind: FnKind, count: number, params: FnCreateParams): CreatedFunction[] {
    this.validate(kind, count, params);
    const k = this.#k;
    const iov = this.#iov();
    let vfioDriver: Driver | undefined;
    if (params.driver === 'vfio') {
      k.functions.requestModule(VIRTIO_VFIO_PCI_MODULE_NAME);
      vfioDriver = k.core.findDriver('pci', VIRTIO_VFIO_PCI_DRIVER_NAME);
      if (vfioDriver === undefined)
        throw nlError(
          'EOPNOTSUPP',
          `driver ${VIRTIO_VFIO_PCI_DRIVER_NAME} is not available`,
          F.FNCTL_ATTR_DRIVER,
        );
    }
    const fault = this.#fault;
    this.#fault = undefined;
    const autoprobe = iov.driversAutoprobe;
    iov.driversAutoprobe = params.driver === 'net';
    try {
      this.#configure(this.#pf, count);
    } finally {
      iov.driversAutoprobe = autoprobe;
    }
    try {
      for (let i = 0; i < iov.vfs.length; i++) {
        const vf = iov.vfs[i]!;
        if (fault !== undefined && fault.index === i)
          throw errnoError(fault.errno, `injected failure at function ${i} (${vf.name})`);
        if (params.driver === 'vfio') {
          const dev = k.core.findDevice('pci', vf.name);
          if (dev === undefined) throw errnoError('ENODEV', `${vf.name} vanished`);
          dev.driverOverride = VIRTIO_VFIO_PCI_DRIVER_NAME;
          k.core.bind(vfioDriver!, vf.name);
        } else if (params.driver === 'net') {
          const bound = k.core.findDevice('pci', vf.name)?.driver?.name;
          if (bound !== VIRTIO_PCI_DRIVER_NAME)
            throw errnoError('EIO', `${vf.name} did not bind to virtio-pci`);
        }
      }
    } catch (e) {
      // All or nothing: SR-IOV off removes every VF with its override and binding.
      this.#configure(this.#pf, 0);
      throw e;
    }
    return this.list();
  }

  destroy(ids: readonly number[]): void {
    const existing = this.list();
    const known = new Set(existing.map((f) => f.id));
    for (const id of ids)
      if (!known.has(id))
        throw nlError('ENOENT', `function ${id} does not exist on pci/${this.dev}`, F.FNCTL_ATTR_ID);
    if (new Set(ids).size !== existing.length) {
      throw nlError(
        'EOPNOTSUPP',
        `SR-IOV VFs of pci/${this.dev} are destroyed all at once (destroy all)`,
        F.FNCTL_ATTR_ID,
      );
    }
    if (existing.length > 0) this.#configure(this.#pf, 0);
  }

  list(): CreatedFunction[] {
    const iov = this.#k.pdev(this.#pf).sriov;
    if (iov === undefined) return [];
    const migratable = this.#hasDevParts();
    return iov.vfs.map((vf) => {
      const dev = this.#k.core.findDevice('pci', vf.name);
      const { driver, boundAs } = bindingOf(this.#k, dev);
      return {
        id: vf.vfIndex ?? 0,
        kind: 'vf',
        devName: vf.name,
        rid: ridText(vf.rid),
        migratable,
        driver,
        ...(boundAs === undefined ? {} : { boundAs }),
      };
    });
  }

  /** Make the next create fail with `errno` when it reaches function `index` (tests only). */
  injectFault(index: number, errno: ErrnoName = 'EIO'): void {
    this.#fault = { index, errno };
  }

  #iov(): PciSriov {
    const iov = this.#k.pdev(this.#pf).sriov;
    if (iov === undefined) throw nlError('EOPNOTSUPP', `pci/${this.dev} has no SR-IOV capability`);
    return iov;
  }

  /** virtio_pci_admin_has_dev_parts, asked of the PF itself. */
  #hasDevParts(): boolean {
    const vp = this.#pf.driverData;
    if (!isVirtioPciDevice(vp) || vp.transport.kind !== 'modern') return false;
    const avq = vp.transport.admin;
    if (avq === undefined || !hasFeature(vp, virtio.VIRTIO_F_ADMIN_VQ)) return false;
    return (
      (avq.supportedCmds & VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP) === VIRTIO_DEV_PARTS_ADMIN_CMD_BITMAP &&
      avq.maxDevPartsObjects > 0
    );
  }
}

/** Which fnctl driver a VF is bound to now, and what the driver made of it. */
function bindingOf(k: KernelApi, dev: Device | undefined): { driver: FnDriver; boundAs: string | undefined } {
  const name = dev?.driver?.name;
  if (dev === undefined || name === undefined) return { driver: 'none', boundAs: undefined };
  if (VFIO_DRIVER_NAMES.has(name)) {
    // Both VFIO drivers keep their vfio_device as drvdata.vdev.
    const vdev = (dev.driverData as { vdev?: { name?: unknown } } | undefined)?.vdev;
    return { driver: 'vfio', boundAs: typeof vdev?.name === 'string' ? vdev.name : undefined };
  }
  // virtio_net registers its netdev on the VF itself.
  if (name === VIRTIO_PCI_DRIVER_NAME) return { driver: 'net', boundAs: k.net.byParent(dev)?.name };
  return { driver: 'none', boundAs: undefined };
}

const providers = new WeakMap<Device, VirtioFnProvider>();

/** From virtio-pci's probe of a PF with SR-IOV: make it a fnctl parent. */
export function registerVirtioFnProvider(k: KernelApi, pf: Device, configure: SriovConfigure): void {
  if (k.pdev(pf).sriov === undefined || providers.has(pf)) return;
  const p = new VirtioFnProvider(k, pf, configure);
  k.functions.register(p);
  providers.set(pf, p);
}

/** From virtio-pci's remove: the parent goes before SR-IOV is disabled. */
export function unregisterVirtioFnProvider(k: KernelApi, pf: Device): void {
  const p = providers.get(pf);
  if (p === undefined) return;
  k.functions.unregister(p);
  providers.delete(pf);
}
