/**
 * A PCIe endpoint, optionally an SR-IOV PF, assembled from a declarative spec: identity, BARs, MSI-X,
 * PM, ARI and the VF template. Device kinds (devices/catalog.ts) are specs; behaviour behind BARs
 * arrives with each device model's own issue.
 */
import type { BarLayout } from '../bar.js';
import type { Capability, ExtCapability } from '../capability-builder.js';
import { ariCapability } from '../caps/ari.js';
import { Msix, type MsixOptions } from '../caps/msix.js';
import { pmCapability } from '../caps/pm.js';
import type { HwContext } from '../hw-context.js';
import { type DeviceModel, type FunctionIdentity, PciFunction } from '../pci-function.js';
import { defaultVfRouting, type VfRouting } from '../sriov.js';
import { endpointPcie, vfIdentity } from './common.js';

export interface VfTemplate {
  readonly totalVfs: number;
  readonly initialVfs?: number;
  readonly vfDeviceId: number;
  readonly vfBars: BarLayout;
  readonly vfMsix: MsixOptions;
  readonly routing?: (numVfs: number, ari: boolean) => VfRouting;
  readonly vfModel?: (index: number) => DeviceModel;
}

export interface EndpointSpec {
  readonly name: string;
  readonly identity: FunctionIdentity;
  readonly bars: BarLayout;
  readonly msix: MsixOptions;
  /** ARI extended capability (on the PF and on each VF). */
  readonly ari: boolean;
  readonly sriov?: VfTemplate;
  readonly model?: DeviceModel;
}

function standardCaps(fn: PciFunction, msix: Msix, withPm: boolean): Capability[] {
  return withPm
    ? [pmCapability(), msix.capability(), endpointPcie(fn)]
    : [msix.capability(), endpointPcie(fn)];
}

export function createEndpoint(ctx: HwContext, spec: EndpointSpec): PciFunction {
  const extra = (): ExtCapability[] => (spec.ari ? [ariCapability(0)] : []);
  const pfMsix = new Msix(spec.msix);
  const vf = spec.sriov;
  return new PciFunction(ctx, {
    name: spec.name,
    role: { kind: 'endpoint' },
    identity: spec.identity,
    bars: spec.bars,
    msix: pfMsix,
    interruptPin: 1,
    capabilities: (fn) => standardCaps(fn, pfMsix, true),
    extCapabilities: extra,
    ...(spec.model === undefined ? {} : { model: spec.model }),
    ...(vf === undefined
      ? {}
      : {
          sriov: {
            totalVfs: vf.totalVfs,
            ...(vf.initialVfs === undefined ? {} : { initialVfs: vf.initialVfs }),
            vfDeviceId: vf.vfDeviceId,
            vfBars: vf.vfBars,
            routing: vf.routing ?? defaultVfRouting,
            createVf: (pf, index) => {
              const vfMsix = new Msix(vf.vfMsix);
              const model = vf.vfModel?.(index);
              return new PciFunction(ctx, {
                name: `${pf.name}/vf${index}`,
                role: { kind: 'vf', pf, index },
                identity: vfIdentity(spec.identity, vf.vfDeviceId),
                msix: vfMsix,
                // SR-IOV 9.3.6: PM is optional for VFs; these parts expose MSI-X and PCIe only.
                capabilities: (fn) => standardCaps(fn, vfMsix, false),
                extCapabilities: extra,
                ...(model === undefined ? {} : { model }),
              });
            },
          },
        }),
  });
}
