/**
 * One modeled host built from its topology: the silicon (fabric, root ports, devices), the platform
 * firmware's part (bus numbers on the root ports), and the kernel, which finds everything by config
 * cycles, assigns resources and enables the VFs the topology asks for at boot.
 */
import {
  applyCosts,
  type Bdf,
  type CostModel,
  DEFAULT_COSTS,
  formatBdf,
  type Rid,
  VirtualClock,
} from '../../base/index.js';
import {
  createDevice,
  createHostBridge,
  createRootPort,
  DEVICE_ID_HOST_BRIDGE,
  DEVICE_ID_ROOT_PORT,
  type DeviceKind,
  DmaEngine,
  type Hpa,
  type HwContext,
  type HwTraceEvent,
  Iommu,
  LINK_SPEED_GEN4,
  LINK_WIDTH_X16,
  MsiController,
  PcieFabric,
  type PciFunction,
  SparseMemory,
  VENDOR_ID_VFIOLAB,
} from '../../hw/index.js';
import {
  type HostApertures,
  IommufdSubsystem,
  Kernel,
  type KernelLog,
  type PciCore,
} from '../../kernel/index.js';
import { pci } from '../../spec/index.js';
import { type HostTopology, resolveMnicKnobs } from '../topology/index.js';

/** Where the modeled firmware opens MMIO: a 32-bit hole below 4 GiB and a 64-bit range at 56 TiB. */
export const DEFAULT_APERTURES: HostApertures = {
  mem32: { base: 0xc000_0000n, limit: 0xfbff_ffffn },
  pref64: { base: 0x3800_0000_0000n, limit: 0x3fff_ffff_ffffn },
};

/** Host RAM of every modeled host (sparse: untouched pages cost nothing). */
export const HOST_MEMORY_BYTES = 256n << 30n;

function parseAddress(text: string): { bus: number; devfn: number } {
  const [bus, rest] = text.split(':') as [string, string];
  const [dev, fn] = rest.split('.') as [string, string];
  return { bus: Number.parseInt(bus, 16), devfn: (Number.parseInt(dev, 16) << 3) | Number(fn) };
}

export interface HostDevice {
  readonly name: string;
  readonly kind: DeviceKind;
  readonly bdf: Bdf;
  readonly fn: PciFunction;
}

export class Host {
  readonly name: string;
  readonly domain: number;
  readonly clock = new VirtualClock();
  readonly costs: CostModel;
  readonly fabric: PcieFabric;
  readonly kernel: Kernel;
  /** /dev/iommu: `host.iommufd.open(userMemory)` gives an iommufd context to install in a VFIO fd table. */
  readonly iommufd: IommufdSubsystem;
  readonly devices: readonly HostDevice[];
  readonly hwTrace: HwTraceEvent[] = [];
  /** Host RAM: sparse, so its size costs nothing until pages are touched. */
  readonly memory: SparseMemory<Hpa>;
  readonly iommu: Iommu;
  readonly dma: DmaEngine;
  readonly #deviceCosts = new Map<string, CostModel>();
  /** Modeled time the boot took (scan, resource assignment, VFs enabled at boot). */
  readonly bootNs: number;

  constructor(topo: HostTopology) {
    this.name = topo.name;
    this.domain = topo.domain ?? 0;
    this.costs = applyCosts(DEFAULT_COSTS, topo.costs);
    const ctx: { -readonly [K in keyof HwContext]: HwContext[K] } = {
      clock: this.clock,
      costsFor: (name?: string) => this.#costsForName(name),
      trace: (e: HwTraceEvent) => {
        this.hwTrace.push(e);
      },
    };
    this.memory = new SparseMemory({ sizeBytes: HOST_MEMORY_BYTES, name: `${topo.name} RAM` });
    this.iommu = new Iommu(ctx);
    this.dma = new DmaEngine(ctx, this.iommu, this.memory);
    ctx.dma = this.dma;
    ctx.msi = new MsiController(this.clock);
    this.fabric = new PcieFabric(ctx, this.domain);
    this.fabric.attachToRootBus(0, createHostBridge(ctx, VENDOR_ID_VFIOLAB, DEVICE_ID_HOST_BRIDGE));
    const devices: HostDevice[] = [];
    topo.rootPorts.forEach((p, i) => {
      const at = parseAddress(p.address);
      const port = createRootPort(ctx, {
        name: p.name,
        vendorId: VENDOR_ID_VFIOLAB,
        deviceId: DEVICE_ID_ROOT_PORT,
        portNumber: i + 1,
        ariForwarding: p.ariForwarding ?? true,
        linkSpeed: LINK_SPEED_GEN4,
        linkWidth: LINK_WIDTH_X16,
      });
      this.fabric.attachToRootBus(at.devfn, port);
      // Platform firmware numbers the buses behind each port as the topology says.
      const rid = at.devfn as Rid;
      this.fabric.configWrite(rid, pci.PCI_PRIMARY_BUS, 1, 0);
      this.fabric.configWrite(rid, pci.PCI_SECONDARY_BUS, 1, p.secondaryBus);
      this.fabric.configWrite(rid, pci.PCI_SUBORDINATE_BUS, 1, p.subordinateBus);
      for (const d of p.devices) {
        if (d.costs !== undefined) this.#deviceCosts.set(d.name, applyCosts(this.costs, d.costs));
        const mnic =
          d.kind === 'mnic'
            ? resolveMnicKnobs(d, p, p.ariForwarding ?? true, `${topo.name}.${d.name}`)
            : undefined;
        const fn = createDevice(ctx, d.kind as DeviceKind, {
          name: d.name,
          ...(d.totalVfs === undefined ? {} : { totalVfs: d.totalVfs }),
          ...(d.initialVfs === undefined ? {} : { initialVfs: d.initialVfs }),
          ...(mnic === undefined
            ? {}
            : { maxSfs: mnic.maxSfs, maxSiovFns: mnic.maxSiovFns, siovRidBase: mnic.siovRidBase }),
        });
        const da = parseAddress(d.address);
        this.fabric.attachBelow(port, ((da.bus << 8) | da.devfn) as Rid, fn);
        devices.push({ name: d.name, kind: d.kind as DeviceKind, bdf: fn.bdf!, fn });
      }
    });
    this.devices = devices;
    this.kernel = new Kernel({
      access: {
        read: (_domain, rid, offset, width) => this.fabric.configRead(rid, offset, width),
        write: (_domain, rid, offset, width, value) => this.fabric.configWrite(rid, offset, width, value),
      },
      domain: this.domain,
      clock: this.clock,
      costsFor: (at) =>
        at === undefined || this.#deviceCosts.size === 0
          ? this.costs
          : this.#costsForName(this.deviceAt(at)?.name),
      apertures: DEFAULT_APERTURES,
      mmio: {
        read: (a, w) => this.fabric.mmioRead(a, w),
        write: (a, w, v) => this.fabric.mmioWrite(a, w, v),
      },
      memory: this.memory,
      msi: () => ctx.msi,
      vfioResetPolicy: topo.vfioResetPolicy,
    });
    this.kernel.boot();
    for (const p of topo.rootPorts) {
      for (const d of p.devices) {
        if ((d.numVfs ?? 0) === 0) continue;
        const name = formatBdf({ domain: this.domain, ...parseAddress(d.address) });
        const dev = this.kernel.findPciDevice(name);
        // As a PF driver's max_vfs parameter would: enable at boot, whatever driver is bound.
        if (dev !== undefined) this.kernel.pciEnableSriov(dev, d.numVfs!);
      }
    }
    this.kernel.settle();
    this.iommufd = new IommufdSubsystem(this.iommu);
    this.bootNs = this.clock.nowNs;
  }

  get pci(): PciCore {
    return this.kernel.pci;
  }

  get log(): KernelLog {
    return this.kernel.log;
  }

  /** The topology device a BDF belongs to (a PF, or a VF of that PF). */
  deviceAt(at: Bdf): HostDevice | undefined {
    const dev = this.pci.find(at);
    const pfBdf = dev?.physfn?.bdf ?? at;
    return this.devices.find((d) => d.bdf.bus === pfBdf.bus && d.bdf.devfn === pfBdf.devfn);
  }

  /** Costs for a function name (`virtio-net0` or `virtio-net0/vf3`): the device override if any. */
  #costsForName(name: string | undefined): CostModel {
    if (name === undefined || this.#deviceCosts.size === 0) return this.costs;
    const slash = name.indexOf('/');
    return this.#deviceCosts.get(slash < 0 ? name : name.slice(0, slash)) ?? this.costs;
  }
}
