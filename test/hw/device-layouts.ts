/**
 * Hand-written expected config-space layouts of the catalog's device kinds (src/hw/devices/catalog.ts),
 * worked out from the PCI/PCIe/SR-IOV register definitions (facts/kernel.md 5.1) and the catalog's
 * stated identities and BAR sizes. Offsets and values are literals on purpose: they are the oracle.
 *
 * Capability placement expected for an endpoint PF: PM (8 bytes) at 0x40, MSI-X (12 bytes) at 0x48,
 * PCI Express v2 (0x3c bytes) at 0x54; ARI (8 bytes) at 0x100 when the kind has ARI, then SR-IOV
 * (0x40 bytes).
 */
import type { DeviceKind } from '../../src/hw/index.js';

/** [offset, width, value]: a read-only field and its value at reset. */
export type Field = readonly [offset: number, width: 1 | 2 | 4, value: number, name: string];
/** [offset, width, mask]: the bits software may change in a register. */
export type WritableBits = readonly [offset: number, width: 1 | 2 | 4, mask: number, name: string];

export interface ExpectedLayout {
  /** Standard list: [offset, id, next]. */
  readonly standardCaps: ReadonlyArray<readonly [number, number, number]>;
  /** Extended list: [offset, id, version, next]. */
  readonly extendedCaps: ReadonlyArray<readonly [number, number, number, number]>;
  readonly sriovAt: number;
  readonly pcieAt: number;
  readonly msixAt: number;
  /** Read-only fields; none may change whatever software writes (except by FLR, which restores them). */
  readonly readOnly: readonly Field[];
  /** Every RW bit of the function; all other bits must hold their reset value under any write. */
  readonly writable: readonly WritableBits[];
  /** First VF Offset and VF Stride for ARI Capable Hierarchy clear / set. */
  readonly routing: { readonly noAri: readonly [number, number]; readonly ari: readonly [number, number] };
}

/** Header fields every catalog PF shares (type 0, interrupt pin INTA, Capabilities List). */
const COMMON_READ_ONLY: readonly Field[] = [
  [0x06, 2, 0x0010, 'Status (Capabilities List only)'],
  [0x0e, 1, 0x00, 'Header Type (type 0, single function)'],
  [0x0f, 1, 0x00, 'BIST'],
  [0x34, 1, 0x40, 'Capabilities Pointer'],
  [0x3d, 1, 0x01, 'Interrupt Pin (INTA)'],
  // PM at 0x40: id 01, next 0x48; PMC version 1.2 (3); PMCSR No_Soft_Reset set, D0.
  [0x40, 1, 0x01, 'PM cap id'],
  [0x41, 1, 0x48, 'PM next'],
  [0x42, 2, 0x0003, 'PMC'],
  // MSI-X at 0x48: id 0x11, next 0x54.
  [0x48, 1, 0x11, 'MSI-X cap id'],
  [0x49, 1, 0x54, 'MSI-X next'],
  // PCI Express at 0x54: id 0x10; version 2, type Endpoint. Its next pointer is per kind.
  [0x54, 1, 0x10, 'PCIe cap id'],
  [0x56, 2, 0x0002, 'PCIe Capabilities (v2, endpoint)'],
  // DevCap: MPS 256 (1), Extended Tag (0x20), Role-Based Error Reporting (0x8000), FLR (0x10000000).
  [0x58, 4, 0x10008021, 'Device Capabilities'],
  [0x5e, 2, 0x0000, 'Device Status'],
  // Link: Gen4 (speed 4) x16.
  [0x60, 4, 0x00000104, 'Link Capabilities'],
  [0x64, 2, 0x0000, 'Link Control'],
  [0x66, 2, 0x0104, 'Link Status'],
  [0x78, 4, 0x0000001f, 'Device Capabilities 2'],
  [0x7c, 2, 0x0000, 'Device Control 2'],
  [0x80, 4, 0x0000001e, 'Link Capabilities 2 (2.5-16 GT/s)'],
];

const COMMON_WRITABLE: readonly WritableBits[] = [
  // Memory Space, Bus Master, Parity Error Response, SERR# Enable, INTx Disable (no I/O BARs).
  [0x04, 2, 0x0546, 'Command'],
  [0x0c, 1, 0xff, 'Cache Line Size'],
  [0x3c, 1, 0xff, 'Interrupt Line'],
  [0x44, 2, 0x0003, 'PMCSR PowerState'],
  [0x4a, 2, 0xc000, 'MSI-X Message Control (Enable, Function Mask)'],
  // CERE NFERE FERE URRE, Relaxed Ordering, MPS, Ext Tag, No Snoop, MRRS (Initiate FLR acts, reads 0).
  [0x5c, 2, 0x79ff, 'Device Control'],
  [0x84, 2, 0x000f, 'Link Control 2 Target Link Speed'],
];

/** SR-IOV registers relative to the capability start (facts 5.1), read-only ones with their values. */
function sriovReadOnly(
  at: number,
  o: { totalVfs: number; vfDeviceId: number; vfBarFlags: (number | null)[]; next: number },
): Field[] {
  const fields: Field[] = [
    [at + 0x00, 4, ((o.next << 20) | (1 << 16) | 0x0010) >>> 0, 'SR-IOV ext cap header'],
    [at + 0x04, 4, 0x00000000, 'SR-IOV Capabilities'],
    [at + 0x0a, 2, 0x0000, 'SR-IOV Status'],
    [at + 0x0c, 2, o.totalVfs, 'InitialVFs'],
    [at + 0x0e, 2, o.totalVfs, 'TotalVFs'],
    [at + 0x12, 1, 0x00, 'Function Dependency Link'],
    [at + 0x1a, 2, o.vfDeviceId, 'VF Device ID'],
    [at + 0x1c, 4, 0x00000553, 'Supported Page Sizes'],
    [at + 0x3c, 4, 0x00000000, 'VF Migration State Array Offset'],
  ];
  // null marks the upper half of a 64-bit VF BAR, all of which is writable.
  o.vfBarFlags.forEach((flags, i) => {
    if (flags !== null)
      fields.push([at + 0x24 + 4 * i, 1, flags, `VF BAR${i} low byte (flags, RO-zero address bits)`]);
  });
  return fields;
}

function sriovWritable(at: number, vfBars: WritableBits[]): WritableBits[] {
  return [
    // VF Enable is left out of random writes (it creates VFs) and tested on its own.
    [at + 0x08, 2, 0x0019, 'SR-IOV Control (VFE, VF MSE, ARI Capable Hierarchy)'],
    [at + 0x10, 2, 0xffff, 'NumVFs'],
    [at + 0x20, 4, 0x00000553, 'System Page Size'],
    ...vfBars,
  ];
}

export const EXPECTED: Readonly<Record<DeviceKind, ExpectedLayout>> = {
  'virtio-net': {
    // PM, MSI-X, PCIe, then the virtio vendor caps (0x09): common, ISR, device, notify, PCI cfg.
    standardCaps: [
      [0x40, 0x01, 0x48],
      [0x48, 0x11, 0x54],
      [0x54, 0x10, 0x90],
      [0x90, 0x09, 0xa0],
      [0xa0, 0x09, 0xb0],
      [0xb0, 0x09, 0xc0],
      [0xc0, 0x09, 0xd4],
      [0xd4, 0x09, 0x00],
    ],
    extendedCaps: [
      [0x100, 0x000e, 1, 0x108],
      [0x108, 0x0010, 1, 0x000],
    ],
    sriovAt: 0x108,
    pcieAt: 0x54,
    msixAt: 0x48,
    readOnly: [
      [0x00, 2, 0x1af4, 'Vendor ID'],
      [0x02, 2, 0x1041, 'Device ID'],
      [0x08, 4, 0x02000001, 'Class (Ethernet) and Revision 1'],
      [0x10, 4, 0x00000000, 'BAR0 (unimplemented)'],
      [0x14, 1, 0x00, 'BAR1 low byte (mem32)'],
      [0x18, 4, 0x00000000, 'BAR2 (unimplemented)'],
      [0x1c, 4, 0x00000000, 'BAR3 (unimplemented)'],
      [0x20, 1, 0x0c, 'BAR4 low byte (64-bit prefetchable)'],
      [0x2c, 2, 0x1af4, 'Subsystem Vendor ID'],
      [0x2e, 2, 0x1100, 'Subsystem ID'],
      [0x4a, 1, 0x07, 'MSI-X Table Size (8 vectors), low byte'],
      [0x4c, 4, 0x00000001, 'MSI-X Table offset 0, BIR 1'],
      [0x50, 4, 0x00000801, 'MSI-X PBA offset 0x800, BIR 1'],
      [0x55, 1, 0x90, 'PCIe next'],
      // struct virtio_pci_cap (facts/virtio.md 1.2): vndr 09, next, len, cfg_type; bar 4; offset; length.
      [0x90, 4, 0x0110a009, 'virtio common cfg cap: len 16, cfg_type 1'],
      [0x94, 4, 0x00000004, 'virtio common cfg cap: BAR4'],
      [0x98, 4, 0x00000000, 'virtio common cfg cap: offset 0'],
      [0x9c, 4, 0x00000040, 'virtio common cfg cap: length 64'],
      [0xa0, 4, 0x0310b009, 'virtio ISR cap: len 16, cfg_type 3'],
      [0xa4, 4, 0x00000004, 'virtio ISR cap: BAR4'],
      [0xa8, 4, 0x00001000, 'virtio ISR cap: offset 0x1000'],
      [0xac, 4, 0x00000001, 'virtio ISR cap: length 1'],
      [0xb0, 4, 0x0410c009, 'virtio device cfg cap: len 16, cfg_type 4'],
      [0xb4, 4, 0x00000004, 'virtio device cfg cap: BAR4'],
      [0xb8, 4, 0x00002000, 'virtio device cfg cap: offset 0x2000'],
      [0xbc, 4, 0x0000000c, 'virtio device cfg cap: length 12 (mac, status, pairs, mtu)'],
      [0xc0, 4, 0x0214d409, 'virtio notify cap: len 20, cfg_type 2'],
      [0xc4, 4, 0x00000004, 'virtio notify cap: BAR4'],
      [0xc8, 4, 0x00003000, 'virtio notify cap: offset 0x3000'],
      [0xcc, 4, 0x00000010, 'virtio notify cap: length 16 (4 queues x 4)'],
      [0xd0, 4, 0x00000004, 'virtio notify cap: notify_off_multiplier 4'],
      [0xd4, 4, 0x05140009, 'virtio PCI cfg cap: last, len 20, cfg_type 5'],
      [0xd9, 1, 0x00, 'virtio PCI cfg cap: id'],
      [0x100, 4, 0x1081000e, 'ARI ext cap header'],
      [0x104, 2, 0x0000, 'ARI Capability'],
      ...sriovReadOnly(0x108, {
        totalVfs: 1024,
        vfDeviceId: 0x1041,
        vfBarFlags: [0, 0, 0, 0, 0x0c, null],
        next: 0,
      }),
      ...COMMON_READ_ONLY,
    ],
    writable: [
      ...COMMON_WRITABLE,
      [0x14, 4, 0xfffff000, 'BAR1'],
      [0x20, 4, 0xffffc000, 'BAR4 low'],
      [0xd8, 1, 0xff, 'virtio PCI cfg cap: bar'],
      [0xdc, 4, 0xffffffff, 'virtio PCI cfg cap: offset'],
      [0xe0, 4, 0xffffffff, 'virtio PCI cfg cap: length'],
      [0xe4, 4, 0xffffffff, 'virtio PCI cfg cap: pci_cfg_data'],
      [0x24, 4, 0xffffffff, 'BAR4 high'],
      [0x106, 2, 0x0070, 'ARI Control Function Group'],
      ...sriovWritable(0x108, [
        [0x108 + 0x28, 4, 0xfffff000, 'VF BAR1'],
        [0x108 + 0x34, 4, 0xffffc000, 'VF BAR4 low'],
        [0x108 + 0x38, 4, 0xffffffff, 'VF BAR4 high'],
      ]),
    ],
    routing: { noAri: [0x100, 1], ari: [1, 1] },
  },
  mnic: {
    standardCaps: [
      [0x40, 0x01, 0x48],
      [0x48, 0x11, 0x54],
      [0x54, 0x10, 0x00],
    ],
    extendedCaps: [
      [0x100, 0x000e, 1, 0x108],
      [0x108, 0x0010, 1, 0x000],
    ],
    sriovAt: 0x108,
    pcieAt: 0x54,
    msixAt: 0x48,
    readOnly: [
      [0x00, 2, 0x1f00, 'Vendor ID'],
      [0x02, 2, 0x1021, 'Device ID'],
      [0x55, 1, 0x00, 'PCIe next (last)'],
      [0x08, 4, 0x02000000, 'Class (Ethernet) and Revision 0'],
      [0x10, 1, 0x0c, 'BAR0 low byte (64-bit prefetchable)'],
      [0x11, 1, 0x00, 'BAR0 bits 15:8 (32 MiB: RO 0)'],
      [0x12, 1, 0x00, 'BAR0 bits 23:16 (RO 0)'],
      [0x18, 4, 0x00000000, 'BAR2'],
      [0x1c, 4, 0x00000000, 'BAR3'],
      [0x20, 4, 0x00000000, 'BAR4'],
      [0x24, 4, 0x00000000, 'BAR5'],
      [0x2c, 2, 0x1f00, 'Subsystem Vendor ID'],
      [0x2e, 2, 0x0001, 'Subsystem ID'],
      [0x4a, 1, 0x3f, 'MSI-X Table Size (64 vectors), low byte'],
      [0x4c, 4, 0x00002000, 'MSI-X Table offset 0x2000, BIR 0'],
      [0x50, 4, 0x00003000, 'MSI-X PBA offset 0x3000, BIR 0'],
      [0x100, 4, 0x1081000e, 'ARI ext cap header'],
      [0x104, 2, 0x0000, 'ARI Capability'],
      ...sriovReadOnly(0x108, {
        totalVfs: 127,
        vfDeviceId: 0x1022,
        vfBarFlags: [0x0c, null, 0, 0, 0, 0],
        next: 0,
      }),
      ...COMMON_READ_ONLY,
    ],
    writable: [
      ...COMMON_WRITABLE,
      [0x10, 4, 0xfe000000, 'BAR0 low'],
      [0x14, 4, 0xffffffff, 'BAR0 high'],
      [0x106, 2, 0x0070, 'ARI Control Function Group'],
      ...sriovWritable(0x108, [
        [0x108 + 0x24, 4, 0xfff00000, 'VF BAR0 low (1 MiB)'],
        [0x108 + 0x28, 4, 0xffffffff, 'VF BAR0 high'],
      ]),
    ],
    routing: { noAri: [0x100, 1], ari: [1, 1] },
  },
  accel: {
    standardCaps: [
      [0x40, 0x01, 0x48],
      [0x48, 0x11, 0x54],
      [0x54, 0x10, 0x00],
    ],
    extendedCaps: [[0x100, 0x0010, 1, 0x000]],
    sriovAt: 0x100,
    pcieAt: 0x54,
    msixAt: 0x48,
    readOnly: [
      [0x00, 2, 0x1f00, 'Vendor ID'],
      [0x02, 2, 0x3000, 'Device ID'],
      [0x55, 1, 0x00, 'PCIe next (last)'],
      [0x08, 4, 0x12000000, 'Class (processing accelerator) and Revision 0'],
      [0x10, 2, 0x0000, 'BAR0 bits 15:0 (mem32, 64 KiB)'],
      [0x14, 4, 0x00000000, 'BAR1'],
      [0x18, 4, 0x00000000, 'BAR2'],
      [0x1c, 4, 0x00000000, 'BAR3'],
      [0x20, 4, 0x00000000, 'BAR4'],
      [0x24, 4, 0x00000000, 'BAR5'],
      [0x2c, 2, 0x1f00, 'Subsystem Vendor ID'],
      [0x2e, 2, 0x0001, 'Subsystem ID'],
      [0x4a, 1, 0x07, 'MSI-X Table Size (8 vectors), low byte'],
      [0x4c, 4, 0x00008000, 'MSI-X Table offset 0x8000, BIR 0'],
      [0x50, 4, 0x00009000, 'MSI-X PBA offset 0x9000, BIR 0'],
      // No ARI: the SR-IOV capability is the whole extended list.
      ...sriovReadOnly(0x100, { totalVfs: 16, vfDeviceId: 0x3001, vfBarFlags: [0, 0, 0, 0, 0, 0], next: 0 }),
      ...COMMON_READ_ONLY,
    ],
    writable: [
      ...COMMON_WRITABLE,
      [0x10, 4, 0xffff0000, 'BAR0'],
      ...sriovWritable(0x100, [[0x100 + 0x24, 4, 0xffffc000, 'VF BAR0 (16 KiB)']]),
    ],
    // Next bus, eight devfns (one device number) apart, whatever ARI Capable Hierarchy says.
    routing: { noAri: [0x100, 8], ari: [0x100, 8] },
  },
};
