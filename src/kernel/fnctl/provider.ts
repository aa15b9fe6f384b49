/**
 * The common function-creation API (issue 6 §4): the contract between a parent driver that can carve
 * functions out of its device (a FunctionProvider) and the generic netlink family that asks for N of
 * them in one request. A provider is registered under its parent's handle ("pci/0000:01:00.0").
 *
 * Rules every provider keeps: create() is all-or-nothing (on any failure nothing it made is left:
 * no function, no device, no binding); destroy() of an unknown id is ENOENT before anything is
 * destroyed. Errors are NetlinkError (errno + extack text, naming the attribute when one is at fault).
 *
 * The family (fnctl/family.ts) validates what is generic before it calls a provider: attribute
 * presence and ranges, the kind against `kinds`, the driver against `driversFor`, then the provider's
 * own `validate` (optional), then `capacity`. Only then does `create` run.
 */

export type FnKind = 'vf' | 'sf' | 'siov';
export const FN_KINDS: readonly FnKind[] = ['vf', 'sf', 'siov'];

/** Which subsystem driver the new functions are handed to. */
export type FnDriver = 'vfio' | 'net' | 'vdpa' | 'none';
export const FN_DRIVERS: readonly FnDriver[] = ['vfio', 'net', 'vdpa', 'none'];

export interface FnCreateParams {
  /** First MAC; function i gets this address plus i (in its low 24 bits). Absent: the device's default. */
  readonly mac?: Uint8Array;
  readonly migratable: boolean;
  readonly driver: FnDriver;
}

/** One function the provider made, as the API reports it. */
export interface CreatedFunction {
  /** Provider-local id, stable until destroyed; destroy takes these. */
  readonly id: number;
  readonly kind: FnKind;
  /** The device the subsystem driver sees: a PCI name ("0000:01:00.1") or an auxiliary device name. */
  readonly devName: string;
  /** Routing ID the function's (guest) DMA uses, "bb:dd.f". */
  readonly rid: string;
  /** SIOV only: the hypervisor's RID for the function (state moves, page requests). */
  readonly hypervisorRid?: string;
  readonly mac?: Uint8Array;
  readonly migratable: boolean;
  readonly driver: FnDriver;
  /** What the driver made: "vfio3", "eth7", "vdpa2" (absent for driver none). */
  readonly boundAs?: string;
}

/** Which optional creation parameters a parent honours for one kind (reported by CAPS_GET). */
export interface FnParamCaps {
  readonly mac: boolean;
  readonly migratable: boolean;
}

export interface FunctionProvider {
  readonly bus: string;
  readonly dev: string;
  /** Kinds this parent can make, and for each the drivers that fit it. */
  readonly kinds: readonly FnKind[];
  driversFor(kind: FnKind): readonly FnDriver[];
  /** How many more of `kind` can be made now. */
  capacity(kind: FnKind): number;
  /**
   * Optional (additive): the parent's own refusals, checked after the generic ones and before
   * `capacity`, with nothing changed yet (e.g. EBUSY while VFs exist, EOPNOTSUPP for a MAC it cannot
   * set). Throws NetlinkError.
   */
  validate?(kind: FnKind, count: number, params: FnCreateParams): void;
  /** Optional (additive): which of MAC and migratable the parent honours for `kind`. */
  paramCaps?(kind: FnKind): FnParamCaps;
  create(kind: FnKind, count: number, params: FnCreateParams): CreatedFunction[];
  destroy(ids: readonly number[]): void;
  list(): CreatedFunction[];
}

/** Every provider of one kernel. */
export class FunctionProviderRegistry {
  readonly #providers: FunctionProvider[] = [];
  #moduleLoader: ((name: string) => void) | undefined;

  /** The kernel wires request_module here (kernel.ts); providers load subsystem drivers through it. */
  setModuleLoader(load: (name: string) => void): void {
    this.#moduleLoader = load;
  }

  /** request_module: load a driver module a creation needs (no-op when no loader is wired). */
  requestModule(name: string): void {
    this.#moduleLoader?.(name);
  }

  register(p: FunctionProvider): void {
    if (this.find(p.bus, p.dev) !== undefined)
      throw new Error(`function provider ${p.bus}/${p.dev} already registered`);
    this.#providers.push(p);
  }

  unregister(p: FunctionProvider): void {
    const at = this.#providers.indexOf(p);
    if (at >= 0) this.#providers.splice(at, 1);
  }

  find(bus: string, dev: string): FunctionProvider | undefined {
    return this.#providers.find((p) => p.bus === bus && p.dev === dev);
  }

  get providers(): readonly FunctionProvider[] {
    return this.#providers;
  }
}
