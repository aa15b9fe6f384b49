/**
 * The device kinds a topology can place, as PCI identities and layouts. Behaviour behind the BARs
 * (virtio transport and admin queue, firmware mailbox, migration window) arrives with later issues;
 * here each kind has its real PCI face: IDs, class, BARs, MSI-X, PCIe with FLR, ARI and SR-IOV.
 *
 * - virtio-net: 1AF4:1041 (virtio 1.x net, facts/virtio.md 1.1), revision 1 and subsystem ID 0x1100 as
 *   a non-transitional device SHOULD have; VFs share device ID 0x1041. The VFs have no BAR0: the VFIO
 *   variant driver emulates a legacy I/O BAR0 there (facts/virtio.md 5.2). Layout after QEMU's:
 *   MSI-X in BAR1, the virtio structures in a 64-bit BAR4. Behind them: the virtio-net device model
 *   (devices/virtio-net), the PF with an admin virtqueue whose commands go to `adminEngine`.
 * - mnic: the multi-subsystem NIC, under vfiolab's vendor ID 0x1F00 (unassigned in pci.ids).
 *   127 VFs (a ConnectX-7's limit, facts/costs.md), a 32 MiB firmware BAR0 with MSI-X inside it, a
 *   64-bit BAR2 of SF windows and a 64-bit BAR4 of SIOV function windows (each sized to the next power
 *   of two of max × window size; absent when the max is 0, as without options). Behind them:
 *   devices/mnic.
 * - accel: a small accelerator (class 0x1200, processing accelerator) without ARI: its VFs go on the
 *   next bus number, eight device numbers apart, as non-ARI SR-IOV parts lay them out.
 */
import { LabError } from '../../base/index.js';
import { mnicfw } from '../../spec/index.js';
import type { BarLayout } from '../bar.js';
import type { HwContext } from '../hw-context.js';
import type { PciFunction } from '../pci-function.js';
import { createAdminEngine } from '../virtio/admin-engine.js';
import { MnicNic } from './mnic/index.js';
import { createEndpoint, type EndpointSpec } from './sriov-endpoint.js';
import { type AdminEngineFactory, VirtioNetPf } from './virtio-net/index.js';

export const VENDOR_ID_VIRTIO = 0x1af4;
export const DEVICE_ID_VIRTIO_NET_MODERN = 0x1041;
/** vfiolab's own vendor ID for the NIC, accelerator, host bridge and root ports (unassigned). */
export const VENDOR_ID_VFIOLAB = 0x1f00;
export const DEVICE_ID_MNIC_PF = 0x1021;
export const DEVICE_ID_MNIC_VF = 0x1022;
export const DEVICE_ID_ACCEL_PF = 0x3000;
export const DEVICE_ID_ACCEL_VF = 0x3001;
export const DEVICE_ID_HOST_BRIDGE = 0x0b00;
export const DEVICE_ID_ROOT_PORT = 0x0b01;
/** PCI_CLASS_NETWORK_ETHERNET and PCI_CLASS_ACCELERATOR_PROCESSING (pci_ids.h), prog-if 0. */
export const CLASS_NETWORK_ETHERNET = 0x020000;
export const CLASS_ACCELERATOR_PROCESSING = 0x120000;
/** A non-transitional virtio device SHOULD have a subsystem device ID >= 0x40 (virtio 1.x 4.1.2.1). */
const SUBSYSTEM_ID_VIRTIO_NON_TRANSITIONAL = 0x1100;

const KiB = 1024;
const MiB = 1024 * KiB;

export type DeviceKind = 'virtio-net' | 'mnic' | 'accel';
export const DEVICE_KINDS: readonly DeviceKind[] = ['virtio-net', 'mnic', 'accel'];

/** Per-kind knobs a topology file may set. */
export interface DeviceOptions {
  readonly name: string;
  readonly totalVfs?: number;
  readonly initialVfs?: number;
  /** virtio-net: the admin command engine of the PF's admin virtqueue (default: non-strict engine). */
  readonly adminEngine?: AdminEngineFactory;
  /** mnic: SF table size (default 0 here: the bare PCI face; topologies default to 256, lab/topology). */
  readonly maxSfs?: number;
  /** mnic: SIOV function table size (default 0: no RID pool given). */
  readonly maxSiovFns?: number;
  /** mnic: first RID of the SIOV RID pool (two RIDs per SIOV function). */
  readonly siovRidBase?: number;
}

export interface DeviceKindInfo {
  readonly defaultTotalVfs: number;
  readonly maxTotalVfs: number;
  readonly ari: boolean;
  spec(o: DeviceOptions): EndpointSpec;
}

const msix = (vectors: number, bar: number, tableOffset: number, pbaOffset: number) => ({
  vectors,
  tableBar: bar,
  tableOffset,
  pbaBar: bar,
  pbaOffset,
});

export const DEVICE_CATALOG: Readonly<Record<DeviceKind, DeviceKindInfo>> = {
  'virtio-net': {
    defaultTotalVfs: 1024,
    maxTotalVfs: 0xffff,
    ari: true,
    spec: (o) => virtioNetSpec(o),
  },
  mnic: {
    defaultTotalVfs: 127,
    maxTotalVfs: 0xffff,
    ari: true,
    spec: (o) => mnicSpec(o),
  },
  accel: {
    defaultTotalVfs: 16,
    maxTotalVfs: 32,
    ari: false,
    spec: (o) => ({
      name: o.name,
      identity: {
        vendorId: VENDOR_ID_VFIOLAB,
        deviceId: DEVICE_ID_ACCEL_PF,
        revisionId: 0,
        classCode: CLASS_ACCELERATOR_PROCESSING,
        subsystemVendorId: VENDOR_ID_VFIOLAB,
        subsystemId: 0x0001,
      },
      bars: [{ kind: 'mem32', sizeBytes: 64 * KiB, prefetchable: false }],
      msix: msix(8, 0, 0x8000, 0x9000),
      ari: false,
      sriov: {
        totalVfs: o.totalVfs ?? 16,
        ...(o.initialVfs === undefined ? {} : { initialVfs: o.initialVfs }),
        vfDeviceId: DEVICE_ID_ACCEL_VF,
        vfBars: [{ kind: 'mem32', sizeBytes: 16 * KiB, prefetchable: false }],
        vfMsix: msix(2, 0, 0x2000, 0x3000),
        // Next bus, one device number per VF (32 devices per bus, hence the 32-VF limit).
        routing: () => ({ firstVfOffset: 0x100, vfStride: 8 }),
      },
    }),
  },
};

/** A window BAR for `count` windows: the next power of two, or none. */
function windowBar(count: number): BarLayout[number] {
  if (count === 0) return undefined;
  let size = mnicfw.MNIC_WINDOW_BYTES;
  while (size < count * mnicfw.MNIC_WINDOW_BYTES) size *= 2;
  return { kind: 'mem64', sizeBytes: BigInt(size), prefetchable: true };
}

function mnicSpec(o: DeviceOptions): EndpointSpec {
  const totalVfs = o.totalVfs ?? 127;
  const maxSfs = o.maxSfs ?? 0;
  const maxSiovFns = o.maxSiovFns ?? 0;
  const nic = new MnicNic({ name: o.name, totalVfs, maxSfs, maxSiovFns, siovRidBase: o.siovRidBase ?? 0 });
  return {
    name: o.name,
    identity: {
      vendorId: VENDOR_ID_VFIOLAB,
      deviceId: DEVICE_ID_MNIC_PF,
      revisionId: 0,
      classCode: CLASS_NETWORK_ETHERNET,
      subsystemVendorId: VENDOR_ID_VFIOLAB,
      subsystemId: 0x0001,
    },
    bars: [
      { kind: 'mem64', sizeBytes: BigInt(32 * MiB), prefetchable: true },
      undefined,
      windowBar(maxSfs),
      undefined,
      windowBar(maxSiovFns),
    ],
    msix: msix(64, 0, 0x2000, 0x3000),
    ari: true,
    sriov: {
      totalVfs,
      ...(o.initialVfs === undefined ? {} : { initialVfs: o.initialVfs }),
      vfDeviceId: DEVICE_ID_MNIC_VF,
      vfBars: [{ kind: 'mem64', sizeBytes: BigInt(1 * MiB), prefetchable: true }],
      vfMsix: msix(16, 0, 0x2000, 0x3000),
      vfBehaviour: (index, vfMsix) => nic.vfBehaviour(index, vfMsix),
    },
    behaviour: (pfMsix) => nic.pfBehaviour(pfMsix),
  };
}

function virtioNetSpec(o: DeviceOptions): EndpointSpec {
  const pf = new VirtioNetPf({
    name: o.name,
    adminEngine: o.adminEngine ?? ((owner) => createAdminEngine(owner)),
  });
  return {
    name: o.name,
    identity: {
      vendorId: VENDOR_ID_VIRTIO,
      deviceId: DEVICE_ID_VIRTIO_NET_MODERN,
      revisionId: 1,
      classCode: CLASS_NETWORK_ETHERNET,
      subsystemVendorId: VENDOR_ID_VIRTIO,
      subsystemId: SUBSYSTEM_ID_VIRTIO_NON_TRANSITIONAL,
    },
    bars: [
      undefined,
      { kind: 'mem32', sizeBytes: 4 * KiB, prefetchable: false },
      undefined,
      undefined,
      { kind: 'mem64', sizeBytes: BigInt(16 * KiB), prefetchable: true },
    ],
    msix: msix(8, 1, 0, 0x800),
    ari: true,
    sriov: {
      totalVfs: o.totalVfs ?? 1024,
      ...(o.initialVfs === undefined ? {} : { initialVfs: o.initialVfs }),
      vfDeviceId: DEVICE_ID_VIRTIO_NET_MODERN,
      vfBars: [
        undefined,
        { kind: 'mem32', sizeBytes: 4 * KiB, prefetchable: false },
        undefined,
        undefined,
        { kind: 'mem64', sizeBytes: BigInt(16 * KiB), prefetchable: true },
      ],
      vfMsix: msix(4, 1, 0, 0x800),
      vfBehaviour: (index, vfMsix) => pf.vfBehaviour(index, vfMsix),
    },
    behaviour: (pfMsix) => pf.pfBehaviour(pfMsix),
  };
}

export function createDevice(ctx: HwContext, kind: DeviceKind, o: DeviceOptions): PciFunction {
  const info = DEVICE_CATALOG[kind];
  if (info === undefined) throw new LabError('bad-input', `unknown device kind '${kind}'`);
  return createEndpoint(ctx, info.spec(o));
}
