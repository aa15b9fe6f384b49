/**
 * The topology file format (YAML or JSON): hosts, their root ports with bus ranges, and the devices
 * below each port. The schema checks shapes and ranges; validate.ts checks the cross-field rules
 * (overlaps, bus ranges, VF routing IDs). Every error names the path and the offending value.
 *
 * Numbers may be written as YAML integers (0x10 is an integer in YAML 1.2) or as strings "0x10"
 * (JSON has no hex literals).
 */
import { z } from 'zod';
import { costOverrideSchema } from '../../base/index.js';
import { DEVICE_KINDS } from '../../hw/index.js';

/** An integer given as a number or as a decimal/hex string. */
const intLike = (min: number, max: number) =>
  z
    .union([
      z.number(),
      z.string().regex(/^(0x[0-9a-fA-F]+|[0-9]+)$/, 'expected a decimal or 0x-hex integer'),
    ])
    .transform((v) => (typeof v === 'number' ? v : Number(v)))
    .pipe(z.number().int(`expected an integer`).min(min, `must be >= ${min}`).max(max, `must be <= ${max}`));

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a name: lower case letters, digits, dashes');
const pciAddress = z
  .string()
  .regex(/^([0-9a-fA-F]{2}):([0-1][0-9a-fA-F])\.([0-7])$/, 'expected bus:device.function');

export const deviceSchema = z
  .object({
    kind: z.enum(DEVICE_KINDS as [string, ...string[]], {
      message: `expected one of ${DEVICE_KINDS.join(', ')}`,
    }),
    name,
    /** Where the device sits: its bus must be the root port's secondary bus. */
    address: pciAddress,
    totalVfs: intLike(1, 0xffff).optional(),
    initialVfs: intLike(0, 0xffff).optional(),
    /** VFs the platform enables at boot (as a PF driver's max_vfs parameter would). */
    numVfs: intLike(0, 0xffff).optional(),
    costs: costOverrideSchema.optional(),
    /** mnic only: SF table size (default 256). */
    maxSfs: intLike(0, 0x8000).optional(),
    /** mnic only: SIOV function table size (default min(1024, pool RIDs / 2)). */
    maxSiovFns: intLike(0, 0x10000).optional(),
    /** mnic only: the buses whose RIDs the NIC gives SIOV functions (default: behind the port, after its VFs). */
    siovRidPool: z
      .object({ firstBus: intLike(1, 255), lastBus: intLike(1, 255) })
      .strict()
      .optional(),
  })
  .strict();

export const rootPortSchema = z
  .object({
    name,
    /** The port's own address on bus 0. */
    address: pciAddress,
    secondaryBus: intLike(1, 255),
    subordinateBus: intLike(1, 255),
    /** ARI Forwarding Supported in the port's Device Capabilities 2 (default true). */
    ariForwarding: z.boolean().optional(),
    devices: z.array(deviceSchema).default([]),
  })
  .strict();

export const hostSchema = z
  .object({
    name,
    domain: intLike(0, 0xffff).optional(),
    costs: costOverrideSchema.optional(),
    /**
     * How VFIO serializes the FLR of opening VFs: per bus under one dev_set lock (kernels before the
     * 2025 "Separate SR-IOV VF dev_set" fix; the default, as the modeled kernel is 6.12) or in parallel.
     */
    vfioResetPolicy: z.enum(['serialized-per-bus', 'parallel']).optional(),
    rootPorts: z.array(rootPortSchema).min(1, 'a host needs at least one root port'),
  })
  .strict();

export const topologySchema = z
  .object({
    hosts: z.array(hostSchema).min(1, 'a topology needs at least one host'),
  })
  .strict();

export type TopologyInput = z.input<typeof topologySchema>;
export type Topology = z.output<typeof topologySchema>;
export type HostTopology = z.output<typeof hostSchema>;
export type RootPortTopology = z.output<typeof rootPortSchema>;
export type DeviceTopology = z.output<typeof deviceSchema>;
