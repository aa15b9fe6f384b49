/**
 * Kernel modules: what /lib/modules holds (definitions with their drivers), what is loaded, aliases
 * (modules.alias, generated from the drivers' id tables), and the tools' semantics:
 * modprobe (by name or alias, dependencies first, `-r` to remove), rmmod, lsmod. Loading a module
 * registers its drivers, which attaches them to matching devices; removing it unregisters them.
 * Module names treat '-' and '_' alike, as kmod does. Each loaded instance holds its own parameter
 * values (params.ts): set from `modprobe NAME key=value ...` at load, back to the defaults when the
 * module is removed and loaded again.
 */
import { badInput, errnoError, LabError } from '../../base/index.js';
import { ERRNO_MESSAGE, type ErrnoName } from '../../spec/index.js';
import type { Driver } from '../driver-core/device.js';
import type { DriverCore } from '../driver-core/driver-core.js';
import type { KernelLog } from '../log.js';
import { auxAlias, fnmatch, pciAlias } from './alias.js';
import { type ModuleParamDef, ModuleParams, type ModuleParamValue, splitParamArg } from './params.js';

export interface ModuleDef {
  readonly name: string;
  /** Built into the kernel image: loaded at boot, cannot be removed. */
  readonly builtin: boolean;
  /** What lsmod shows (bytes of the module's core layout). */
  readonly sizeBytes: number;
  /** Modules that must be loaded first (they become holders' targets). */
  readonly depends: readonly string[];
  readonly drivers: readonly Driver[];
  /** module_param declarations; none when absent. */
  readonly params?: readonly ModuleParamDef[];
}

interface Loaded {
  readonly def: ModuleDef;
  readonly params: ModuleParams;
  /** References taken by code (try_module_get), beyond holder modules. */
  refs: number;
}

export const normalizeModuleName = (name: string): string => name.replaceAll('-', '_');

/** A kmod tool's refusal; the message is the tool's own error line. */
export class ModuleError extends LabError {
  constructor(message: string, options: { errno?: ErrnoName; cause?: unknown } = {}) {
    super(options.errno === undefined ? 'invalid-state' : 'errno', message, options);
    this.name = 'ModuleError';
  }
}

export class Modules {
  readonly #defs = new Map<string, ModuleDef>();
  readonly #loaded = new Map<string, Loaded>();
  /** Aliases already resolved (modules.alias is fixed once the definitions are). */
  readonly #resolved = new Map<string, readonly string[]>();
  readonly #core: DriverCore;
  readonly #log: KernelLog;

  constructor(defs: readonly ModuleDef[], core: DriverCore, log: KernelLog) {
    for (const d of defs) this.#defs.set(normalizeModuleName(d.name), d);
    this.#core = core;
    this.#log = log;
  }

  /** Load the built-in modules (at boot, before devices are added). */
  loadBuiltins(): void {
    for (const d of this.#defs.values()) if (d.builtin) this.#load(d);
  }

  /** modules.alias: every (alias, module) pair, in module then table order. */
  aliases(): { alias: string; module: string }[] {
    const out: { alias: string; module: string }[] = [];
    for (const d of this.#defs.values()) {
      if (d.builtin) continue;
      for (const drv of d.drivers) {
        const ids = drv.data.bus === 'pci' ? drv.data.idTable.map(pciAlias) : drv.data.idTable.map(auxAlias);
        for (const alias of ids) out.push({ alias, module: d.name });
      }
    }
    return out;
  }

  isLoaded(name: string): boolean {
    return this.#loaded.has(normalizeModuleName(name));
  }

  get(name: string): ModuleDef | undefined {
    return this.#defs.get(normalizeModuleName(name));
  }

  /** Module names that an alias (a MODALIAS) resolves to, as modprobe finds them. */
  resolve(nameOrAlias: string): string[] {
    const direct = this.#defs.get(normalizeModuleName(nameOrAlias));
    if (direct !== undefined) return [direct.name];
    // The definitions and their id tables never change, so neither does what an alias resolves to:
    // udev asks once per uevent, with the same MODALIAS for every VF of a PF.
    const known = this.#resolved.get(nameOrAlias);
    if (known !== undefined) return [...known];
    const hits = this.aliases()
      .filter((a) => fnmatch(a.alias, nameOrAlias))
      .map((a) => a.module);
    const names = [...new Set(hits)];
    this.#resolved.set(nameOrAlias, names);
    return [...names];
  }

  /**
   * modprobe NAME|ALIAS [key=value ...]: load the module(s) and their dependencies, the parameters
   * going to the named module(s) as init_module's argument string. An unknown name throws
   * ModuleError with modprobe's message; an alias without modules does nothing when `quiet`. A
   * module already loaded keeps its values (kmod does not insert it again).
   */
  modprobe(nameOrAlias: string, quiet = false, params: readonly string[] = []): string[] {
    const names = this.resolve(nameOrAlias);
    if (names.length === 0) {
      if (quiet) return [];
      throw new ModuleError(
        `modprobe: FATAL: Module ${nameOrAlias} not found in directory /lib/modules/6.12.0-vfiolab`,
      );
    }
    for (const n of names) this.#loadWithDeps(this.#defs.get(normalizeModuleName(n))!, new Set(), params);
    return names;
  }

  /** modprobe -r NAME: remove the module, then dependencies nobody else holds. */
  modprobeRemove(name: string): void {
    const def = this.#defs.get(normalizeModuleName(name));
    if (def === undefined) {
      throw new ModuleError(
        `modprobe: FATAL: Module ${name} not found in directory /lib/modules/6.12.0-vfiolab`,
      );
    }
    if (def.builtin) throw new ModuleError(`modprobe: FATAL: Module ${def.name} is builtin.`);
    if (!this.isLoaded(def.name)) return;
    this.rmmod(def.name, 'modprobe: FATAL: ');
    for (const dep of def.depends) {
      const d = this.#defs.get(normalizeModuleName(dep));
      if (d !== undefined && !d.builtin && this.isLoaded(d.name) && this.holders(d.name).length === 0) {
        this.rmmod(d.name, 'modprobe: FATAL: ');
      }
    }
  }

  /** rmmod NAME, with rmmod's errors. */
  rmmod(name: string, prefix = 'rmmod: ERROR: '): void {
    const key = normalizeModuleName(name);
    const def = this.#defs.get(key);
    if (def?.builtin) throw new ModuleError(`${prefix}Module ${def.name} is builtin.`);
    const l = this.#loaded.get(key);
    if (l === undefined) throw new ModuleError(`${prefix}Module ${name} is not currently loaded`);
    const holders = this.holders(key);
    if (holders.length > 0)
      throw new ModuleError(`${prefix}Module ${l.def.name} is in use by: ${holders.join(' ')}`);
    if (l.refs > 0) throw new ModuleError(`${prefix}Module ${l.def.name} is in use`);
    for (const drv of [...l.def.drivers].reverse()) this.#core.driverUnregister(drv);
    this.#loaded.delete(key);
  }

  /** Modules that depend on `name` and are loaded (lsmod's "Used by"). */
  holders(name: string): string[] {
    const key = normalizeModuleName(name);
    return [...this.#loaded.values()]
      .filter((l) => l.def.depends.some((d) => normalizeModuleName(d) === key))
      .map((l) => l.def.name);
  }

  /** try_module_get / module_put on behalf of code that uses another module's objects. */
  get refsApi() {
    return {
      get: (name: string): void => {
        const l = this.#loaded.get(normalizeModuleName(name));
        if (l !== undefined) l.refs++;
      },
      put: (name: string): void => {
        const l = this.#loaded.get(normalizeModuleName(name));
        if (l !== undefined && l.refs > 0) l.refs--;
      },
    };
  }

  /** lsmod's table: most recently loaded first, builtin modules omitted. */
  lsmod(): string {
    const rows = [...this.#loaded.values()].filter((l) => !l.def.builtin).reverse();
    let out = `${'Module'.padEnd(19)} ${'Size'.padStart(8)}  Used by\n`;
    for (const l of rows) {
      const holders = this.holders(l.def.name);
      const used = holders.length + l.refs;
      out += `${l.def.name.padEnd(19)} ${String(l.def.sizeBytes).padStart(8)}  ${used}${holders.length ? ` ${holders.join(',')}` : ''}\n`;
    }
    return out;
  }

  /**
   * A loaded module's parameter, as its code reads its own variable. Asking for a module that is not
   * loaded, or a parameter it does not declare, is a programming error.
   */
  param(module: string, name: string): ModuleParamValue {
    const l = this.#loadedOrThrow(module);
    const def = l.params.find(name);
    if (def === undefined) throw new LabError('internal', `${l.def.name} has no parameter ${name}`);
    return l.params.value(def);
  }

  /** A loaded module's declarations with their current values (for /sys/module/NAME/parameters). */
  params(module: string): { def: ModuleParamDef; value: ModuleParamValue }[] {
    const l = this.#loaded.get(normalizeModuleName(module));
    return l === undefined ? [] : l.params.defs.map((def) => ({ def, value: l.params.value(def) }));
  }

  /** param_attr_store: parse `text` with the parameter's type (EINVAL/ERANGE leave the old value). */
  setParam(module: string, name: string, text: string): void {
    const l = this.#loadedOrThrow(module);
    const def = l.params.find(name);
    if (def === undefined) throw errnoError('ENOENT', `${l.def.name} has no parameter ${name}`);
    l.params.set(def, text);
  }

  /** Loaded module names in load order (for /sys/module). */
  loadedNames(): string[] {
    return [...this.#loaded.values()].map((l) => l.def.name);
  }

  #loadedOrThrow(module: string): Loaded {
    const l = this.#loaded.get(normalizeModuleName(module));
    if (l === undefined) throw new LabError('internal', `module ${module} is not loaded`);
    return l;
  }

  #loadWithDeps(def: ModuleDef, visiting: Set<string>, args: readonly string[] = []): void {
    if (this.#loaded.has(normalizeModuleName(def.name))) return;
    if (visiting.has(def.name)) throw badInput(`module dependency cycle at ${def.name}`);
    visiting.add(def.name);
    for (const dep of def.depends) {
      const d = this.#defs.get(normalizeModuleName(dep));
      if (d === undefined) throw errnoError('ENOENT', `${def.name} depends on unknown module ${dep}`);
      this.#loadWithDeps(d, visiting);
    }
    this.#load(def, args);
  }

  /** load_module: parse_args first (a bad value frees the module before any driver registers). */
  #load(def: ModuleDef, args: readonly string[] = []): void {
    const params = new ModuleParams(def.params ?? []);
    for (const arg of args) {
      const { key, text } = splitParamArg(arg);
      const p = params.find(key);
      if (p === undefined) {
        this.#log.warn(`${def.name}: unknown parameter '${key}' ignored`);
        continue;
      }
      try {
        params.set(p, text);
      } catch (e) {
        if (!(e instanceof LabError) || e.errno === undefined) throw e;
        this.#log.err(`${def.name}: '${text ?? ''}' invalid for parameter '${key}'`);
        // parse_args returns the setter's errno (EINVAL, or ERANGE from kstrtoint) as init_module's.
        throw new ModuleError(`modprobe: ERROR: could not insert '${def.name}': ${ERRNO_MESSAGE[e.errno]}`, {
          errno: e.errno,
          cause: e,
        });
      }
    }
    this.#loaded.set(normalizeModuleName(def.name), { def, params, refs: 0 });
    for (const drv of def.drivers) this.#core.driverRegister(drv);
  }
}
