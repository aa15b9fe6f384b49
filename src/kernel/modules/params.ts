/**
 * Module parameters (kernel/params.c, include/linux/moduleparam.h): what a module declares with
 * module_param + MODULE_PARM_DESC, how the values given at load are parsed (parse_args with the
 * param_ops of each type), and how /sys/module/NAME/parameters shows and stores them.
 *
 * - bool: kstrtobool; a bare `name` without '=' means true (param_set_bool treats no value as "1");
 *   shown as Y or N.
 * - int / uint: kstrtoint / kstrtouint in base 0; a bare name is EINVAL.
 * - charp: the text as given; a bare name is EINVAL.
 * - An unknown name is warned about and ignored; a bad value fails the load with EINVAL.
 *
 * Left out: arrays, strings of fixed size, the hwparam/unsafe flags, kernel command-line
 * `module.param=` syntax and modprobe.d options.
 */
import { errnoError } from '../../base/index.js';
// kstrto.ts directly: the sysfs-tree entrance imports this file back (for /sys/module).
import { kstrtobool, kstrtoint, kstrtouint } from '../sysfs-tree/kstrto.js';

export type ModuleParamType = 'bool' | 'int' | 'uint' | 'charp';

interface ParamCommon {
  readonly name: string;
  /** The sysfs permission (0 = no file under /sys/module/NAME/parameters), as module_param's perm. */
  readonly mode: number;
  /** MODULE_PARM_DESC, what modinfo prints after "parm:". */
  readonly description: string;
}

export type ModuleParamDef = ParamCommon &
  (
    | { readonly type: 'bool'; readonly default: boolean }
    | { readonly type: 'int' | 'uint'; readonly default: number }
    | { readonly type: 'charp'; readonly default: string }
  );

export type ModuleParamValue = boolean | number | string;

/** param_ops_<type>.set: the value `text` (undefined when the argument had no '=') for `def`. */
export function parseParamValue(def: ModuleParamDef, text: string | undefined): ModuleParamValue {
  switch (def.type) {
    case 'bool':
      return kstrtobool(text ?? '1');
    case 'int':
      if (text === undefined) throw errnoError('EINVAL', `${def.name} needs a value`);
      return kstrtoint(text, 0);
    case 'uint':
      if (text === undefined) throw errnoError('EINVAL', `${def.name} needs a value`);
      return kstrtouint(text, 0);
    case 'charp':
      if (text === undefined) throw errnoError('EINVAL', `${def.name} needs a value`);
      return text;
  }
}

/** param_ops_<type>.get: the text of a value, without the newline sysfs adds. */
export function formatParamValue(def: ModuleParamDef, value: ModuleParamValue): string {
  switch (def.type) {
    case 'bool':
      return value === true ? 'Y' : 'N';
    case 'int':
    case 'uint':
    case 'charp':
      return String(value);
  }
}

/** One `key[=value]` word of a modprobe command line, split as parse_args' next_arg does. */
export function splitParamArg(arg: string): { key: string; text: string | undefined } {
  const eq = arg.indexOf('=');
  return eq < 0 ? { key: arg, text: undefined } : { key: arg.slice(0, eq), text: arg.slice(eq + 1) };
}

/** The values of one loaded module instance, starting from the declared defaults. */
export class ModuleParams {
  readonly #defs: readonly ModuleParamDef[];
  readonly #values = new Map<string, ModuleParamValue>();

  constructor(defs: readonly ModuleParamDef[]) {
    this.#defs = defs;
    for (const d of defs) this.#values.set(d.name, d.default);
  }

  /** The declaration of `name` (parameter names treat '-' and '_' alike, as parameq does). */
  find(name: string): ModuleParamDef | undefined {
    const key = name.replaceAll('-', '_');
    return this.#defs.find((d) => d.name.replaceAll('-', '_') === key);
  }

  get defs(): readonly ModuleParamDef[] {
    return this.#defs;
  }

  value(def: ModuleParamDef): ModuleParamValue {
    return this.#values.get(def.name) ?? def.default;
  }

  /** Parse and set; the old value stays on EINVAL/ERANGE. */
  set(def: ModuleParamDef, text: string | undefined): void {
    this.#values.set(def.name, parseParamValue(def, text));
  }
}
