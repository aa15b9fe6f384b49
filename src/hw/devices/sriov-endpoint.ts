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

/** A function's behaviour: the model behind its BARs and the capabilities it adds to the standard ones. */
export interface FunctionBehaviour {
  readonly model: DeviceModel;
  /** Placed after PM, MSI-X and PCIe; given the function so the model can bind to it. */
  readonly capabilities?: (fn: PciFunction) => Capability[];
}

export interface VfTemplate {
  readonly totalVfs: number;
  readonly initialVfs?: number;
  readonly vfDeviceId: number;
  readonly vfBars: BarLayout;
  readonly vfMsix: MsixOptions;
  readonly routing?: (numVfs: number, ari: boolean) => VfRouting;
  readonly vfModel?: (index: number) => DeviceModel;
  /** VF `index`'s behaviour, built with its MSI-X (takes precedence over `vfModel`). */
  readonly vfBehaviour?: (index: number, msix: Msix) => FunctionBehaviour;
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
  /** The PF's behaviour, built with its MSI-X (takes precedence over `model`). */
  readonly behaviour?: (msix: Msix) => FunctionBehaviour;
}

function standardCaps(
  fn: PciFunction,
  msix: Msix,
  withPm: boolean,
  behaviour: FunctionBehaviour | undefined,
): Capability[] {
  msix.bindFunction(fn);
  const extra = behaviour?.capabilities?.(fn) ?? [];
  return withPm
    ? [pmCapability(), msix.capability(), endpointPcie(fn), ...extra]
    : [msix.capability(), endpointPcie(fn), ...extra];
}

export function createEndpoint(ctx: HwContext, spec: EndpointSpec): PciFunction {
  const extra = (): ExtCapability[] => (spec.ari ? [ariCapability(0)] : []);
  const pfMsix = new Msix(spec.msix);
  const pfBehaviour = spec.behaviour?.(pfMsix);
  const pfModel = pfBehaviour?.model ?? spec.model;
  const vf = spec.sriov;
  return new PciFunction(ctx, {
    name: spec.name,
    role: { kind: 'endpoint' },
    identity: spec.identity,
    bars: spec.bars,
    msix: pfMsix,
    interruptPin: 1,
    capabilities: (fn) => standardCaps(fn, pfMsix, true, pfBehaviour),
    extCapabilities: extra,
    ...(pfModel === undefined ? {} : { model: pfModel }),
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
              const behaviour = vf.vfBehaviour?.(index, vfMsix);
              const model = behaviour?.model ?? vf.vfModel?.(index);
              return new PciFunction(ctx, {
                name: `${pf.name}/vf${index}`,
                role: { kind: 'vf', pf, index },
                identity: vfIdentity(spec.identity, vf.vfDeviceId),
                msix: vfMsix,
                // SR-IOV 9.3.6: PM is optional for VFs; these parts expose MSI-X and PCIe only.
                capabilities: (fn) => standardCaps(fn, vfMsix, false, behaviour),
                extCapabilities: extra,
                ...(model === undefined ? {} : { model }),
              });
            },
          },
        }),
  });
}
