/**
 * The cost model: what each modeled operation costs in modeled time. Defaults come from
 * ../shared/facts/costs.md (docs/cost-model.md lists each default with its source and tag). A host may
 * override any key, and a device may override keys for itself only; both are validated JSON.
 */
import { z } from 'zod';
import { badInput } from './errors.js';

const ns = z.number().finite().nonnegative();
const rate = z.number().finite().positive();

export const costModelSchema = z
  .object({
    /** A configuration read: a non-posted TLP round trip on a local root port (estimate, ~1 µs). */
    configReadNs: ns,
    /** A configuration write: also non-posted in PCIe, so priced like a read (estimate). */
    configWriteNs: ns,
    /** An MMIO read: non-posted, waits for the completion (estimate). */
    mmioReadNs: ns,
    /** An MMIO write: posted, no completion (estimate, 0.1-0.2 µs). */
    mmioWriteNs: ns,
    /** Wait after setting VF Enable (drivers/pci/iov.c: msleep(100)). const. */
    vfEnableWaitNs: ns,
    /** Wait after clearing VF Enable (drivers/pci/iov.c: ssleep(1)). const. */
    vfDisableWaitNs: ns,
    /** Function Level Reset completion (PCIe base spec, 100 ms). const + measured. */
    flrNs: ns,
    /** Driver probe cost by driver class; a driver names its class (issue 3 uses these). */
    driverProbeNs: z
      .object({
        /** Full netdev-class probe (mlx5-class NIC: queues, netdev, firmware init), 0.3-0.5 s measured. */
        netdev: ns,
        /** A VFIO driver's probe: registers a vfio_device, no hardware init (estimate). */
        vfio: ns,
        /** pci-stub and similar do-nothing drivers (estimate). */
        stub: ns,
        /** A PF core driver that brings up an admin or firmware interface (estimate). */
        core: ns,
        /** A vDPA parent driver's probe: caps query, management device registration (estimate). */
        vdpa: ns,
      })
      .strict(),
    /** One virtio admin command through the PF's admin virtqueue ("tens of µs", estimate). */
    adminCommandNs: ns,
    /** One firmware RPC command of a multi-subsystem NIC ("tens of µs to ms", estimate). */
    firmwareCommandNs: ns,
    /** Added to a batched firmware command (CREATE/DESTROY_SIOV_FNS) per function it makes or frees (estimate). */
    firmwarePerFunctionNs: ns,
    /** Usable DMA bandwidth of the device's link (PCIe Gen4 x16: ~25 GB/s). const (link). */
    dmaBandwidthBytesPerSec: rate,
    /** Fixed latency of one DMA transaction (estimate). */
    dmaLatencyNs: ns,
    /** Single-thread memcpy on a server core (~8-10 GB/s, estimate). */
    memcpyBytesPerSec: rate,
  })
  .strict();

export type CostModel = z.infer<typeof costModelSchema>;

/** Defaults; each is documented with its source in docs/cost-model.md. */
export const DEFAULT_COSTS: CostModel = Object.freeze({
  configReadNs: 1_000,
  configWriteNs: 1_000,
  mmioReadNs: 1_000,
  mmioWriteNs: 150,
  vfEnableWaitNs: 100_000_000,
  vfDisableWaitNs: 1_000_000_000,
  flrNs: 100_000_000,
  driverProbeNs: Object.freeze({
    netdev: 400_000_000,
    vfio: 1_000_000,
    stub: 20_000,
    core: 50_000_000,
    vdpa: 10_000_000,
  }),
  adminCommandNs: 30_000,
  firmwareCommandNs: 100_000,
  firmwarePerFunctionNs: 2_000,
  dmaBandwidthBytesPerSec: 25e9,
  dmaLatencyNs: 1_000,
  memcpyBytesPerSec: 9e9,
});

/** A partial override, as written in a topology file or JSON cost file. */
export const costOverrideSchema = costModelSchema
  .extend({ driverProbeNs: costModelSchema.shape.driverProbeNs.partial() })
  .partial()
  .strict();
export type CostOverride = z.infer<typeof costOverrideSchema>;

/** Validate an untrusted override; errors name the offending key path and value. */
export function parseCostOverride(input: unknown, where: string): CostOverride {
  const r = costOverrideSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = [where, ...issue.path.map(String)].join('.');
    throw badInput(`${path}: ${issue.message}`);
  }
  return r.data;
}

/** Apply an override on top of a base model; returns a new frozen model. */
export function applyCosts(base: CostModel, override: CostOverride | undefined): CostModel {
  if (override === undefined) return base;
  return Object.freeze({
    ...base,
    ...override,
    driverProbeNs: Object.freeze({ ...base.driverProbeNs, ...override.driverProbeNs }),
  }) as CostModel;
}

/** Time to move `bytes` by DMA: one latency plus bytes over the link bandwidth. */
export function dmaCostNs(costs: CostModel, bytes: number): number {
  return costs.dmaLatencyNs + (bytes / costs.dmaBandwidthBytesPerSec) * 1e9;
}
