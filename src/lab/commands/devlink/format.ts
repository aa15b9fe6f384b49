/**
 * devlink's printers (iproute2 devlink.c pr_out_dev, pr_out_eswitch, pr_out_port with
 * pr_out_port_pfvfsf_num and pr_out_port_function, pr_out_param with pr_out_param_value), from the reply
 * attributes to text and JSON:
 *
 *   pci/0000:10:00.0
 *   pci/0000:10:00.0: mode switchdev
 *   pci/0000:10:00.0/32768: type eth netdev eth0 flavour pcisf controller 0 pfnum 0 sfnum 88 splittable false
 *     function:
 *       hw_addr 00:00:00:00:00:00 state inactive opstate detached
 *   pci/0000:10:00.0:
 *     name enable_vnet type generic
 *       values:
 *         cmode driverinit value true
 *
 * Consecutive parameters of one device share its handle line (and its JSON array). The function caps
 * print after state and opstate as "roce enable|disable" / "migratable enable|disable" (the order of
 * pr_out_port_function since the caps were added; devlink-port.rst shows them after hw_addr on VF ports,
 * which report no state).
 */
import { findAttr, type NlAttr } from '../../../kernel/index.js';
import { devlink as dl } from '../../../spec/index.js';
import { formatHwAddr, type JsonValue, type ToolOutput } from './output.js';

type Fields = { [key: string]: JsonValue };

function num(attrs: readonly NlAttr[], type: number): number | undefined {
  const a = findAttr(attrs, type);
  return a !== undefined && (a.kind === 'u8' || a.kind === 'u16' || a.kind === 'u32') ? a.value : undefined;
}
function str(attrs: readonly NlAttr[], type: number): string | undefined {
  const a = findAttr(attrs, type);
  return a?.kind === 'string' ? a.value : undefined;
}
function nested(attrs: readonly NlAttr[], type: number): readonly NlAttr[] | undefined {
  const a = findAttr(attrs, type);
  return a?.kind === 'nested' ? a.attrs : undefined;
}

export function devHandle(attrs: readonly NlAttr[]): string | undefined {
  const bus = str(attrs, dl.DEVLINK_ATTR_BUS_NAME);
  const dev = str(attrs, dl.DEVLINK_ATTR_DEV_NAME);
  return bus === undefined || dev === undefined ? undefined : `${bus}/${dev}`;
}

const PORT_TYPES = ['notset', 'auto', 'eth', 'ib'];
const FLAVOURS = ['physical', 'cpu', 'dsa', 'pcipf', 'pcivf', 'virtual', 'unused', 'pcisf'];
const ESWITCH_MODES = ['legacy', 'switchdev'];
const INLINE_MODES = ['none', 'link', 'network', 'transport'];
const ENCAP_MODES = ['none', 'basic'];
const CMODES = ['runtime', 'driverinit', 'permanent'];

/** A line of "key value" pairs with the JSON fields beside it. */
class Line {
  text = '';
  readonly json: Fields = {};
  put(key: string, textValue: string, jsonValue: JsonValue): void {
    this.text += `${this.text === '' ? '' : ' '}${key} ${textValue}`;
    this.json[key] = jsonValue;
  }
}

export function printDev(out: ToolOutput, attrs: readonly NlAttr[]): void {
  const h = devHandle(attrs);
  if (h === undefined) return;
  out.text(`${h}\n`);
  out.entry(h, {});
}

export function printEswitch(out: ToolOutput, attrs: readonly NlAttr[]): void {
  const h = devHandle(attrs);
  if (h === undefined) return;
  const l = new Line();
  const name = (list: readonly string[], v: number) => list[v] ?? '<unknown mode>';
  const mode = num(attrs, dl.DEVLINK_ATTR_ESWITCH_MODE);
  if (mode !== undefined) l.put('mode', name(ESWITCH_MODES, mode), name(ESWITCH_MODES, mode));
  const inline = num(attrs, dl.DEVLINK_ATTR_ESWITCH_INLINE_MODE);
  if (inline !== undefined) l.put('inline-mode', name(INLINE_MODES, inline), name(INLINE_MODES, inline));
  const encap = num(attrs, dl.DEVLINK_ATTR_ESWITCH_ENCAP_MODE);
  if (encap !== undefined) l.put('encap-mode', name(ENCAP_MODES, encap), name(ENCAP_MODES, encap));
  out.text(`${h}:${l.text === '' ? '' : ` ${l.text}`}\n`);
  out.entry(h, l.json);
}

function functionLine(fn: readonly NlAttr[]): Line {
  const l = new Line();
  const mac = findAttr(fn, dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR);
  if (mac?.kind === 'binary') l.put('hw_addr', formatHwAddr(mac.value), formatHwAddr(mac.value));
  const state = num(fn, dl.DEVLINK_PORT_FN_ATTR_STATE);
  if (state !== undefined) {
    const s = ['inactive', 'active'][state] ?? '<unknown state>';
    l.put('state', s, s);
  }
  const opstate = num(fn, dl.DEVLINK_PORT_FN_ATTR_OPSTATE);
  if (opstate !== undefined) {
    const s = ['detached', 'attached'][opstate] ?? '<unknown state>';
    l.put('opstate', s, s);
  }
  const caps = findAttr(fn, dl.DEVLINK_PORT_FN_ATTR_CAPS);
  if (caps?.kind === 'binary' && caps.value.length === dl.NLA_BITFIELD32_SIZE_BYTES) {
    const v = new DataView(caps.value.buffer, caps.value.byteOffset, 8);
    const value = v.getUint32(0, true);
    const selector = v.getUint32(4, true);
    for (const [key, bit] of [
      ['roce', dl.DEVLINK_PORT_FN_CAP_ROCE],
      ['migratable', dl.DEVLINK_PORT_FN_CAP_MIGRATABLE],
    ] as const) {
      if (selector & bit) {
        const s = value & bit ? 'enable' : 'disable';
        l.put(key, s, s);
      }
    }
  }
  return l;
}

export function printPort(out: ToolOutput, attrs: readonly NlAttr[]): void {
  const h = devHandle(attrs);
  const index = num(attrs, dl.DEVLINK_ATTR_PORT_INDEX);
  if (h === undefined || index === undefined) return;
  const key = `${h}/${index}`;
  const l = new Line();
  const type = num(attrs, dl.DEVLINK_ATTR_PORT_TYPE);
  if (type !== undefined)
    l.put('type', PORT_TYPES[type] ?? '<unknown type>', PORT_TYPES[type] ?? '<unknown type>');
  const netdev = str(attrs, dl.DEVLINK_ATTR_PORT_NETDEV_NAME);
  if (netdev !== undefined) l.put('netdev', netdev, netdev);
  const flavour = num(attrs, dl.DEVLINK_ATTR_PORT_FLAVOUR);
  if (flavour !== undefined) {
    const f = FLAVOURS[flavour] ?? '<unknown flavour>';
    l.put('flavour', f, f);
    if (
      flavour === dl.DEVLINK_PORT_FLAVOUR_PCI_PF ||
      flavour === dl.DEVLINK_PORT_FLAVOUR_PCI_VF ||
      flavour === dl.DEVLINK_PORT_FLAVOUR_PCI_SF
    ) {
      for (const [k, t] of [
        ['controller', dl.DEVLINK_ATTR_PORT_CONTROLLER_NUMBER],
        ['pfnum', dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER],
        ['vfnum', dl.DEVLINK_ATTR_PORT_PCI_VF_NUMBER],
        ['sfnum', dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER],
      ] as const) {
        const v = num(attrs, t);
        if (v !== undefined) l.put(k, String(v), v);
      }
      const ext = num(attrs, dl.DEVLINK_ATTR_PORT_EXTERNAL);
      if (ext !== undefined) l.put('external', ext !== 0 ? 'true' : 'false', ext !== 0);
    }
  }
  const portNumber = num(attrs, dl.DEVLINK_ATTR_PORT_NUMBER);
  if (portNumber !== undefined) l.put('port', String(portNumber), portNumber);
  const splittable = num(attrs, dl.DEVLINK_ATTR_PORT_SPLITTABLE);
  if (splittable !== undefined) l.put('splittable', splittable !== 0 ? 'true' : 'false', splittable !== 0);
  let text = `${key}: ${l.text}`;
  const fn = nested(attrs, dl.DEVLINK_ATTR_PORT_FUNCTION);
  if (fn !== undefined) {
    const f = functionLine(fn);
    text += `\n  function:\n    ${f.text}`;
    l.json['function'] = f.json;
  }
  out.text(`${text}\n`);
  out.entry(key, l.json);
}

function paramValue(type: number, data: NlAttr | undefined): { text: string; json: JsonValue } | undefined {
  const b = data?.kind === 'binary' ? data.value : undefined;
  if (type === dl.DEVLINK_PARAM_TYPE_BOOL)
    return { text: b !== undefined ? 'true' : 'false', json: b !== undefined };
  if (b === undefined) return undefined;
  if (type === dl.DEVLINK_PARAM_TYPE_STRING) {
    const nul = b.indexOf(0);
    const s = new TextDecoder().decode(nul < 0 ? b : b.subarray(0, nul));
    return { text: s, json: s };
  }
  let v = 0;
  for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i]!;
  return { text: String(v), json: v };
}

/** One parameter; `lastHandle` is the handle of the parameter printed before it, if any. */
export function printParam(
  out: ToolOutput,
  attrs: readonly NlAttr[],
  lastHandle: string | undefined,
): string | undefined {
  const h = devHandle(attrs);
  const p = nested(attrs, dl.DEVLINK_ATTR_PARAM);
  if (h === undefined || p === undefined) return lastHandle;
  const name = str(p, dl.DEVLINK_ATTR_PARAM_NAME);
  const type = num(p, dl.DEVLINK_ATTR_PARAM_TYPE);
  const list = nested(p, dl.DEVLINK_ATTR_PARAM_VALUES_LIST);
  if (name === undefined || type === undefined || list === undefined) return lastHandle;
  const kind = findAttr(p, dl.DEVLINK_ATTR_PARAM_GENERIC) !== undefined ? 'generic' : 'driver-specific';
  let text = h === lastHandle ? '' : `${h}:\n`;
  text += `  name ${name} type ${kind}\n    values:\n`;
  const values: JsonValue[] = [];
  for (const v of list) {
    if (v.kind !== 'nested') continue;
    const cmode = num(v.attrs, dl.DEVLINK_ATTR_PARAM_VALUE_CMODE);
    const value = paramValue(type, findAttr(v.attrs, dl.DEVLINK_ATTR_PARAM_VALUE_DATA));
    if (cmode === undefined || value === undefined) continue;
    const c = CMODES[cmode] ?? '<unknown type>';
    text += `      cmode ${c} value ${value.text}\n`;
    values.push({ cmode: c, value: value.json });
  }
  out.text(text);
  out.arrayEntry(h, { name, type: kind, values });
  return h;
}
