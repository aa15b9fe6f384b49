/**
 * virtio_pci (drivers/virtio/virtio_pci_common.c + virtio_pci_modern.c) with the virtio core's probe
 * (drivers/virtio/virtio.c) and, for net, virtio_net: binds every virtio PCI function (vendor 0x1AF4,
 * device IDs 0x1000-0x107F) and brings it up as Linux does (facts/virtio.md §1.9, §5.1):
 *
 *   virtio_pci_probe   pci_enable_device; vp_modern_probe (caps by config cycles, map); set master
 *   register_virtio    reset (write 0, poll for 0); ACKNOWLEDGE
 *   virtio_dev_probe   DRIVER; device features; driver features ∩ device + transport bits 28..41,
 *                      filtered as vring_transport_features + vp_transport_features (SR_IOV only with
 *                      the SR-IOV capability); VERSION_1 required (EINVAL); vp_check_common_size;
 *                      write features; FEATURES_OK and read it back (ENODEV "device refuses features")
 *   virtnet_probe      find_vqs: MSI-X vector 0 for config, one per queue with a callback; rx0, tx0,
 *                      ctrl (no callback), then the admin queue at admin_queue_index; enable all;
 *                      register_netdev in the kernel's net device list (udev's name, enp<b>s<d>f<f>);
 *                      DRIVER_OK → vp_modern_avq_activate: admin list init, capability init
 *
 * A failure inside virtio_dev_probe sets FAILED and leaves the PCI function bound to virtio-pci, as in
 * Linux (the virtio device just has no driver). The probe is charged as a netdev-class probe by the
 * driver core; MMIO and config cycles add their own modeled time.
 *
 * SPEC-DEVIATION (TODO #4): a function without any virtio vendor capability is bound without a
 * transport (Linux would try the legacy driver, which refuses modern IDs, and fail with ENODEV); it
 * keeps the placeholder behaviour the rest of the lab relies on until every virtio-net model exposes
 * the modern transport. sriov_configure on such a function uses the plain enable/disable.
 */
import { errnoError, LabError } from '../../../base/index.js';
import { pci, virtio } from '../../../spec/index.js';
import { type Device, Driver } from '../../driver-core/device.js';
import type { KernelApi } from '../../kernel-api.js';
import type { ModuleDef } from '../../modules/modules.js';
import { pciNetdevName } from '../../net/index.js';
import { pciDeviceId, simpleSriovConfigure } from '../sriov-pf.js';
import { AdminVq, adminCmdCapInit, adminCmdListInit } from './admin-vq.js';
import { registerVirtioFnProvider, unregisterVirtioFnProvider } from './fn-provider.js';
import {
  addStatus,
  adminQueueIndex,
  adminQueueNum,
  getFeatures,
  getStatus,
  type ModernDev,
  resetDevice,
  setConfigVector,
  setFeatures,
  vpModernProbe,
} from './modern-dev.js';
import { CTRLQ_INDEX, RXQ_INDEX, TXQ_INDEX, VIRTIO_NET_DRIVER_FEATURES, VirtioNet } from './net.js';
import { HostVq } from './vq.js';

export const VIRTIO_PCI_DRIVER_NAME = 'virtio-pci';
export const VIRTIO_PCI_MODULE_NAME = 'virtio_pci';

const bit = (b: number): bigint => 1n << BigInt(b);
/** Transport bits vring_transport_features keeps (RING_PACKED and IN_ORDER: see below). */
const VRING_TRANSPORT_KEEP = [
  virtio.VIRTIO_RING_F_INDIRECT_DESC,
  virtio.VIRTIO_RING_F_EVENT_IDX,
  virtio.VIRTIO_F_VERSION_1,
  virtio.VIRTIO_F_ACCESS_PLATFORM,
  virtio.VIRTIO_F_ORDER_PLATFORM,
  virtio.VIRTIO_F_NOTIFICATION_DATA,
];
/** Segments per indirect table: an admin command has at most 4 (hdr, data, status, result). */
const INDIRECT_SEGMENTS = 4;

/** The negotiated state of a bound function; the variants carry what exists in each. */
export type VirtioTransport =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'modern';
      readonly m: ModernDev;
      /** Negotiated features (0 if the virtio probe failed before negotiating). */
      readonly features: bigint;
      readonly configVector: number;
      readonly admin: AdminVq | undefined;
      readonly net: VirtioNet | undefined;
    };

/** What virtio-pci keeps per bound function (pci_get_drvdata → struct virtio_pci_device). */
export interface VirtioPciDevice {
  readonly kind: 'virtio-pci';
  readonly dev: Device;
  transport: VirtioTransport;
}

export function isVirtioPciDevice(x: unknown): x is VirtioPciDevice {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'virtio-pci';
}

export function hasFeature(vp: VirtioPciDevice, b: number): boolean {
  return vp.transport.kind === 'modern' && (vp.transport.features & bit(b)) !== 0n;
}

/** What virtio_dev_probe negotiates from the device's offer (virtio.c + vp_finalize_features). */
export function negotiateFeatures(
  deviceFeatures: bigint,
  driverFeatures: bigint,
  hasSriovCap: boolean,
  commonLenBytes: number,
): { features: bigint } | { error: string } {
  let f = deviceFeatures & driverFeatures;
  for (let b = virtio.VIRTIO_TRANSPORT_F_START; b < virtio.VIRTIO_TRANSPORT_F_END; b++) {
    if ((deviceFeatures & bit(b)) !== 0n) f |= bit(b);
  }
  // vring_transport_features: transport bits the ring code does not know are cleared. SPEC-DEVIATION:
  // RING_PACKED and IN_ORDER are cleared too (the model's driver rings are split and out of order).
  for (let b = virtio.VIRTIO_TRANSPORT_F_START; b < virtio.VIRTIO_TRANSPORT_F_END; b++) {
    if (!VRING_TRANSPORT_KEEP.includes(b)) f &= ~bit(b);
  }
  // vp_transport_features.
  if ((deviceFeatures & bit(virtio.VIRTIO_F_SR_IOV)) !== 0n && hasSriovCap) f |= bit(virtio.VIRTIO_F_SR_IOV);
  if ((deviceFeatures & bit(virtio.VIRTIO_F_RING_RESET)) !== 0n) f |= bit(virtio.VIRTIO_F_RING_RESET);
  if ((deviceFeatures & bit(virtio.VIRTIO_F_ADMIN_VQ)) !== 0n) f |= bit(virtio.VIRTIO_F_ADMIN_VQ);
  if ((f & bit(virtio.VIRTIO_F_VERSION_1)) === 0n) {
    return { error: 'virtio: device uses modern interface but does not have VIRTIO_F_VERSION_1' };
  }
  // vp_check_common_size: a feature whose common-config field lies past the mapped length.
  const needs: [number, number][] = [
    [virtio.VIRTIO_F_NOTIF_CONFIG_DATA, virtio.VIRTIO_PCI_COMMON_Q_NDATA + 2],
    [virtio.VIRTIO_F_RING_RESET, virtio.VIRTIO_PCI_COMMON_Q_RESET + 2],
    [virtio.VIRTIO_F_ADMIN_VQ, virtio.VIRTIO_PCI_COMMON_ADM_Q_NUM + 2],
  ];
  for (const [b, end] of needs) {
    if ((f & bit(b)) !== 0n && commonLenBytes < end) {
      return { error: `virtio_pci: common cfg size ${commonLenBytes} too small for feature ${b}` };
    }
  }
  return { features: f };
}

export function virtioPciModule(k: KernelApi): ModuleDef {
  const plainSriov = simpleSriovConfigure(k);

  /** vp_find_vqs_msix's per-queue policy: vector 0 = config, then one per queue with a callback. */
  function requestVector(dev: Device, index: number, handler: () => void): number {
    return k.pciRequestMsixVector(dev, index, handler) === undefined ? virtio.VIRTIO_MSI_NO_VECTOR : index;
  }

  /** virtio_dev_probe + virtnet_probe; on failure FAILED is set and the error logged, not thrown. */
  function virtioDevProbe(vp: VirtioPciDevice, m: ModernDev): void {
    const dev = vp.dev;
    addStatus(m, virtio.VIRTIO_CONFIG_S_DRIVER);
    const deviceFeatures = getFeatures(m);
    const driverFeatures = m.deviceType === virtio.VIRTIO_ID_NET ? VIRTIO_NET_DRIVER_FEATURES : 0n;
    const negotiated = negotiateFeatures(
      deviceFeatures,
      driverFeatures,
      k.pdev(dev).sriov !== undefined,
      m.commonLenBytes,
    );
    if ('error' in negotiated) {
      failProbe(vp, m, negotiated.error, 'EINVAL');
      return;
    }
    const features = negotiated.features;
    setFeatures(m, features);
    vp.transport = {
      kind: 'modern',
      m,
      features,
      configVector: virtio.VIRTIO_MSI_NO_VECTOR,
      admin: undefined,
      net: undefined,
    };
    addStatus(m, virtio.VIRTIO_CONFIG_S_FEATURES_OK);
    const status = getStatus(m);
    if ((status & virtio.VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
      failProbe(vp, m, `virtio: device refuses features: ${status.toString(16)}`, 'ENODEV');
      return;
    }
    if (m.deviceType !== virtio.VIRTIO_ID_NET && (features & bit(virtio.VIRTIO_F_ADMIN_VQ)) === 0n) {
      // No driver for this virtio device type: the virtio device stays unbound at FEATURES_OK.
      return;
    }
    try {
      findVqsAndActivate(vp, m, features);
    } catch (e) {
      if (!(e instanceof LabError) || e.errno === undefined) throw e;
      releaseQueues(vp);
      failProbe(vp, m, `virtio_net: probe failed: ${e.message}`, e.errno);
    }
  }

  function findVqsAndActivate(vp: VirtioPciDevice, m: ModernDev, features: bigint): void {
    const dev = vp.dev;
    const isNet = m.deviceType === virtio.VIRTIO_ID_NET;
    const hasAvq = (features & bit(virtio.VIRTIO_F_ADMIN_VQ)) !== 0n && adminQueueNum(m) > 0;
    // Callbacks close over `vp` and find the queue objects once they exist.
    const handlers = {
      config: () => {},
      rx: () => (vp.transport.kind === 'modern' ? vp.transport.net?.onRxInterrupt() : undefined),
      tx: () => (vp.transport.kind === 'modern' ? vp.transport.net?.onTxInterrupt() : undefined),
      avq: () => (vp.transport.kind === 'modern' ? vp.transport.admin?.onInterrupt() : undefined),
    };
    let nextVector = 0;
    const configVector = requestVector(dev, nextVector++, handlers.config);
    if (
      configVector !== virtio.VIRTIO_MSI_NO_VECTOR &&
      setConfigVector(m, configVector) === virtio.VIRTIO_MSI_NO_VECTOR
    ) {
      throw errnoError('EBUSY', 'device refused the config MSI-X vector');
    }
    const vqOpts = (index: number, handler: (() => void) | undefined) => ({
      index,
      vector: handler === undefined ? virtio.VIRTIO_MSI_NO_VECTOR : requestVector(dev, nextVector++, handler),
      features,
      indirectMaxSegments: INDIRECT_SEGMENTS,
    });
    const created: HostVq<never>[] = [];
    const track = <T>(q: HostVq<T>): HostVq<T> => {
      created.push(q as unknown as HostVq<never>);
      return q;
    };
    try {
      let net: VirtioNet | undefined;
      if (isNet) {
        const rx = track(new HostVq<{ readonly slot: number }>(k, dev, m, vqOpts(RXQ_INDEX, handlers.rx)));
        const tx = track(new HostVq<never>(k, dev, m, vqOpts(TXQ_INDEX, handlers.tx)));
        const ctrl =
          (features & bit(virtio.VIRTIO_NET_F_CTRL_VQ)) !== 0n
            ? track(new HostVq<unknown>(k, dev, m, vqOpts(CTRLQ_INDEX, undefined)))
            : undefined;
        net = new VirtioNet(k, dev, m, features, { rx, tx: tx as never, ctrl });
      }
      let admin: AdminVq | undefined;
      if (hasAvq) {
        const index = adminQueueIndex(m);
        admin = new AdminVq(k, dev, track(new HostVq(k, dev, m, vqOpts(index, handlers.avq))) as never);
      }
      for (const q of created) q.enable();
      vp.transport = { kind: 'modern', m, features, configVector, admin, net };
    } catch (e) {
      for (const q of created) q.free();
      throw e;
    }
    const t = vp.transport;
    // virtnet_probe registers the netdev before virtio_device_ready; EEXIST (a link took the name)
    // fails the probe, and the caller releases the queues.
    const p = k.pdev(dev);
    const netdev = t.net?.register(pciNetdevName(p.bdf.bus, p.bdf.devfn));
    // virtio_device_ready → vp_set_status(DRIVER_OK) → vp_modern_avq_activate.
    addStatus(m, virtio.VIRTIO_CONFIG_S_DRIVER_OK);
    if (t.admin !== undefined) {
      adminCmdListInit(t.admin);
      adminCmdCapInit(t.admin);
    }
    if (t.net !== undefined && netdev !== undefined) {
      t.net.fillRx();
      k.log.info(`virtio_net ${dev.name} ${netdev.name}: registered, MAC ${t.net.macText}`);
    }
  }

  function failProbe(vp: VirtioPciDevice, m: ModernDev, text: string, errno: string): void {
    k.log.err(`virtio_pci ${vp.dev.name}: ${text}`);
    k.log.warn(`virtio_pci ${vp.dev.name}: virtio device probe failed with error -${errno}`);
    addStatus(m, virtio.VIRTIO_CONFIG_S_FAILED);
  }

  /** del_vqs after a reset: the netdev (if still registered), queue memory and vectors go back. */
  function releaseQueues(vp: VirtioPciDevice): void {
    const t = vp.transport;
    if (t.kind === 'modern') {
      t.net?.unregister();
      t.admin?.cleanup();
      t.net?.free();
      t.net?.queues.rx.free();
      t.net?.queues.tx.free();
      t.net?.queues.ctrl?.free();
      t.admin?.vq.free();
      vp.transport = { ...t, admin: undefined, net: undefined };
    }
    k.pciFreeMsixVectors(vp.dev);
  }

  const driver: Driver = new Driver({
    name: VIRTIO_PCI_DRIVER_NAME,
    module: VIRTIO_PCI_MODULE_NAME,
    probeClass: 'netdev',
    data: {
      bus: 'pci',
      idTable: [pciDeviceId(virtio.PCI_VENDOR_ID_REDHAT_QUMRANET, pci.PCI_ANY_ID)],
      dynIds: [],
      sriovConfigure: (dev, numVfs) => virtioPciSriovConfigure(dev, numVfs),
    },
    ops: {
      probe(dev) {
        const p = k.pdev(dev);
        if (p.device < virtio.VIRTIO_PCI_DEVICE_ID_MIN || p.device > virtio.VIRTIO_PCI_DEVICE_ID_MAX) {
          throw errnoError('ENODEV', `device id ${p.device.toString(16)} is not virtio`);
        }
        k.pciEnableDevice(dev);
        let m: ModernDev | undefined;
        try {
          m = vpModernProbe(k, dev);
        } catch (e) {
          k.pciDisableDevice(dev);
          throw e;
        }
        k.pciSetMaster(dev);
        const vp: VirtioPciDevice = { kind: 'virtio-pci', dev, transport: { kind: 'none' } };
        dev.driverData = vp;
        if (m === undefined) return;
        // register_virtio_device: reset, ACKNOWLEDGE; then the virtio bus probes the device.
        resetDevice(m);
        addStatus(m, virtio.VIRTIO_CONFIG_S_ACKNOWLEDGE);
        virtioDevProbe(vp, m);
        // A PF with SR-IOV becomes a parent of the common creation API (fnctl).
        registerVirtioFnProvider(k, dev, virtioPciSriovConfigure);
      },
      remove(dev) {
        const vp = dev.driverData as VirtioPciDevice;
        unregisterVirtioFnProvider(k, dev);
        // virtio_pci_remove: SR-IOV off first, then the virtio device goes.
        if (k.pdev(dev).sriov !== undefined && k.pciNumVf(dev) > 0) k.pciDisableSriov(dev);
        const t = vp.transport;
        if (t.kind === 'modern') {
          // virtnet_remove: unregister_netdev, then remove_vq_common (reset, free the queues).
          t.net?.unregister();
          resetDevice(t.m);
          releaseQueues(vp);
          // virtio_dev_remove: "acknowledge the device's existence again".
          addStatus(t.m, virtio.VIRTIO_CONFIG_S_ACKNOWLEDGE);
          resetDevice(t.m);
        }
        k.pciDisableDevice(dev);
      },
    },
  });

  /** virtio_pci_sriov_configure. */
  function virtioPciSriovConfigure(dev: Device, numVfs: number): number {
    const vp = dev.driverData as VirtioPciDevice;
    const t = vp.transport;
    if (t.kind === 'none') return plainSriov(dev, numVfs);
    if ((getStatus(t.m) & virtio.VIRTIO_CONFIG_S_DRIVER_OK) === 0) throw errnoError('EBUSY', 'not DRIVER_OK');
    if ((t.features & bit(virtio.VIRTIO_F_SR_IOV)) === 0n)
      throw errnoError('EINVAL', 'VIRTIO_F_SR_IOV not negotiated');
    // pci_vfs_assigned: no VF is assigned to a guest in the model yet (EPERM otherwise).
    if (numVfs === 0) {
      k.pciDisableSriov(dev);
      return 0;
    }
    k.pciEnableSriov(dev, numVfs);
    return numVfs;
  }

  return {
    name: VIRTIO_PCI_MODULE_NAME,
    builtin: false,
    sizeBytes: 24576,
    depends: [],
    drivers: [driver],
  };
}
