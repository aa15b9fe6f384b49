/**
 * devlink port commands (net/devlink/port.c): PORT_GET (doit on one port, dump over instances and
 * ports, replies as PORT_NEW), PORT_NEW, PORT_SET with the PORT_FUNCTION nest, PORT_DEL.
 *
 * PORT_NEW (devlink_nl_port_new_doit, facts/kernel.md 7.1): no port_new op → EOPNOTSUPP; FLAVOUR and
 * PCI_PF_NUMBER are mandatory (EINVAL, "Port flavour or PCI PF are not specified"); PORT_INDEX and
 * CONTROLLER_NUMBER are optional; PCI_SF_NUMBER is read only for flavour PCI_SF. The reply is the new
 * port filled as DEVLINK_CMD_PORT_NEW (PORT_NEW_REPLY_CMD below); if it cannot be filled the port is deleted.
 *
 * PORT_SET (devlink_port_function_set): the nest is parsed with the function policy (a malformed member
 * is EINVAL "Fail to parse port function attributes"), every requested attribute is checked against the
 * driver's ops first (EOPNOTSUPP with the kernel's messages, and migratable only for PCI_VF ports), then
 * applied in the kernel's order: hw_addr, caps, and state last so that the others land before an
 * activation. Success notifies PORT_NEW.
 *
 * SPEC-DEVIATION: errors about a member of the PORT_FUNCTION nest carry the offset of the nest itself
 * (the bus resolves top-level attributes only). The kernel reads CONTROLLER_NUMBER with nla_get_u16 (a
 * u32 attribute), so only its low 16 bits reach the driver; that is kept.
 */
import { devlink as dl } from '../../spec/index.js';
import { type GenlOp, type GenlReply, type NlAttr, nlError } from '../netlink/index.js';
import { portFill } from './fill.js';
import type { DevlinkInstance, DevlinkPort, DevlinkPortNewRequest, DevlinkRegistry } from './registry.js';
import { attrsOf, dumpInstances, instanceOf, portOf, u32Of, validateRanges } from './request.js';

/**
 * The command PORT_NEW's reply carries. Kernels from 5.12 filled it as DEVLINK_CMD_NEW (the quirk
 * facts/kernel.md 7.1 records); the fix "devlink: fix port new reply cmd type" (2024) made it
 * DEVLINK_CMD_PORT_NEW. The lab models a 6.12 kernel, so it answers with PORT_NEW; iproute2 prints
 * either the same way.
 */
export const PORT_NEW_REPLY_CMD = dl.DEVLINK_CMD_PORT_NEW;

function lastAttr(attrs: readonly NlAttr[], type: number): NlAttr | undefined {
  for (let i = attrs.length - 1; i >= 0; i--) if (attrs[i]!.type === type) return attrs[i];
  return undefined;
}

const FN_PARSE_FAILED = 'Fail to parse port function attributes';

/** What a PORT_FUNCTION nest asks for, parsed with devlink_function_nl_policy. */
interface FnRequest {
  readonly hwAddr?: Uint8Array;
  readonly state?: number;
  readonly caps?: { readonly value: number; readonly selector: number };
}

function parseFunctionNest(nest: NlAttr): FnRequest {
  const bad = () => nlError('EINVAL', FN_PARSE_FAILED, dl.DEVLINK_ATTR_PORT_FUNCTION);
  if (nest.kind !== 'nested') throw bad();
  const out: { hwAddr?: Uint8Array; state?: number; caps?: { value: number; selector: number } } = {};
  for (const a of nest.attrs) {
    if (a.type > dl.DEVLINK_PORT_FN_ATTR_MAX_IO_EQS || a.type === 0) throw bad();
    if (a.type === dl.DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR) {
      if (a.kind !== 'binary') throw bad();
      out.hwAddr = a.value;
    } else if (a.type === dl.DEVLINK_PORT_FN_ATTR_STATE) {
      if (a.kind !== 'binary' || a.value.length !== 1) throw bad();
      const state = a.value[0]!;
      if (state > dl.DEVLINK_PORT_FN_STATE_ACTIVE) throw bad();
      out.state = state;
    } else if (a.type === dl.DEVLINK_PORT_FN_ATTR_CAPS) {
      if (a.kind !== 'binary' || a.value.length !== dl.NLA_BITFIELD32_SIZE_BYTES) throw bad();
      const v = new DataView(a.value.buffer, a.value.byteOffset, a.value.byteLength);
      const value = v.getUint32(0, true);
      const selector = v.getUint32(4, true);
      const invalid = ~dl.DEVLINK_PORT_FN_CAPS_VALID_MASK >>> 0;
      if ((value & invalid) !== 0 || (selector & invalid) !== 0) throw bad();
      out.caps = { value, selector };
    }
  }
  return out;
}

/** devlink_port_function_validate: every requested attribute must have its op. */
function validateFunction(inst: DevlinkInstance, port: DevlinkPort, fn: FnRequest): void {
  const ops = inst.ops;
  const at = dl.DEVLINK_ATTR_PORT_FUNCTION;
  if (fn.hwAddr !== undefined && ops.portFnHwAddrSet === undefined)
    throw nlError('EOPNOTSUPP', "Port doesn't support function attributes", at);
  if (fn.state !== undefined && ops.portFnStateSet === undefined)
    throw nlError('EOPNOTSUPP', 'Function does not support state setting', at);
  if (fn.caps === undefined) return;
  const sel = fn.caps.selector;
  const vfOnly = port.flavour !== dl.DEVLINK_PORT_FLAVOUR_PCI_VF;
  if (sel & dl.DEVLINK_PORT_FN_CAP_ROCE && ops.portFnCapsSet === undefined)
    throw nlError('EOPNOTSUPP', "Port doesn't support RoCE function attribute", at);
  if (sel & dl.DEVLINK_PORT_FN_CAP_MIGRATABLE) {
    if (ops.portFnCapsSet === undefined)
      throw nlError('EOPNOTSUPP', "Port doesn't support migratable function attribute", at);
    if (vfOnly) throw nlError('EOPNOTSUPP', 'migratable function attribute supported for VFs only', at);
  }
  if (sel & dl.DEVLINK_PORT_FN_CAP_IPSEC_CRYPTO)
    throw nlError('EOPNOTSUPP', "Port doesn't support ipsec_crypto function attribute", at);
  if (sel & dl.DEVLINK_PORT_FN_CAP_IPSEC_PACKET)
    throw nlError('EOPNOTSUPP', "Port doesn't support ipsec_packet function attribute", at);
}

/** devlink_port_function_hw_addr_set's checks. */
function checkHwAddr(port: DevlinkPort, mac: Uint8Array): void {
  const at = dl.DEVLINK_ATTR_PORT_FUNCTION;
  if (mac.length > dl.MAX_ADDR_LEN) throw nlError('EINVAL', 'Port function hardware address too long', at);
  if (port.type !== dl.DEVLINK_PORT_TYPE_ETH) return;
  if (mac.length !== dl.ETH_ALEN) throw nlError('EINVAL', 'Address must be 6 bytes for Ethernet device', at);
  if ((mac[0]! & 1) !== 0) throw nlError('EINVAL', 'Non-unicast hardware address unsupported', at);
}

function portSet(inst: DevlinkInstance, port: DevlinkPort, attrs: readonly NlAttr[]): void {
  // devlink_port_type_set: no driver here implements port_type_set.
  if (lastAttr(attrs, dl.DEVLINK_ATTR_PORT_TYPE) !== undefined) throw nlError('EOPNOTSUPP');
  const nest = lastAttr(attrs, dl.DEVLINK_ATTR_PORT_FUNCTION);
  if (nest === undefined) return;
  const fn = parseFunctionNest(nest);
  validateFunction(inst, port, fn);
  const ops = inst.ops;
  if (fn.hwAddr !== undefined) {
    checkHwAddr(port, fn.hwAddr);
    ops.portFnHwAddrSet?.(port, fn.hwAddr);
  }
  if (fn.caps !== undefined) {
    const { value, selector } = fn.caps;
    const on = value & selector;
    ops.portFnCapsSet?.(port, {
      ...(selector & dl.DEVLINK_PORT_FN_CAP_ROCE ? { roce: (on & dl.DEVLINK_PORT_FN_CAP_ROCE) !== 0 } : {}),
      ...(selector & dl.DEVLINK_PORT_FN_CAP_MIGRATABLE
        ? { migratable: (on & dl.DEVLINK_PORT_FN_CAP_MIGRATABLE) !== 0 }
        : {}),
    });
  }
  if (fn.state !== undefined)
    ops.portFnStateSet?.(port, fn.state === dl.DEVLINK_PORT_FN_STATE_ACTIVE ? 'active' : 'inactive');
  inst.portChanged(port.index);
}

function portNew(inst: DevlinkInstance, attrs: readonly NlAttr[]): GenlReply {
  const op = inst.ops.portNew;
  if (op === undefined) throw nlError('EOPNOTSUPP');
  const flavour = u32Of(attrs, dl.DEVLINK_ATTR_PORT_FLAVOUR);
  const pfnum = u32Of(attrs, dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER);
  if (flavour === undefined || pfnum === undefined)
    throw nlError('EINVAL', 'Port flavour or PCI PF are not specified');
  const index = u32Of(attrs, dl.DEVLINK_ATTR_PORT_INDEX);
  const controller = u32Of(attrs, dl.DEVLINK_ATTR_PORT_CONTROLLER_NUMBER);
  const sfnum =
    flavour === dl.DEVLINK_PORT_FLAVOUR_PCI_SF ? u32Of(attrs, dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER) : undefined;
  const req: DevlinkPortNewRequest = {
    flavour,
    pfnum,
    ...(index !== undefined ? { index } : {}),
    ...(controller !== undefined ? { controller: controller & 0xffff } : {}),
    ...(sfnum !== undefined ? { sfnum } : {}),
  };
  const port = op.call(inst.ops, req);
  try {
    return portFill(inst, port, PORT_NEW_REPLY_CMD);
  } catch (e) {
    inst.ops.portDel?.(port);
    throw e;
  }
}

export function portOps(registry: DevlinkRegistry): GenlOp[] {
  return [
    {
      cmd: dl.DEVLINK_CMD_PORT_GET,
      doit: (req) => {
        const attrs = attrsOf(req);
        validateRanges(attrs);
        const inst = instanceOf(registry, attrs);
        return [portFill(inst, portOf(inst, attrs), dl.DEVLINK_CMD_PORT_NEW)];
      },
      dumpit: (req) => {
        const attrs = attrsOf(req);
        validateRanges(attrs);
        return dumpInstances(registry, attrs).flatMap((inst) =>
          inst.ports.map((p) => portFill(inst, p, dl.DEVLINK_CMD_PORT_NEW)),
        );
      },
    },
    {
      cmd: dl.DEVLINK_CMD_PORT_SET,
      doit: (req) => {
        const attrs = attrsOf(req);
        validateRanges(attrs);
        const inst = instanceOf(registry, attrs);
        portSet(inst, portOf(inst, attrs), attrs);
        return [];
      },
    },
    {
      cmd: dl.DEVLINK_CMD_PORT_NEW,
      doit: (req) => {
        const attrs = attrsOf(req);
        validateRanges(attrs);
        return [portNew(instanceOf(registry, attrs), attrs)];
      },
    },
    {
      cmd: dl.DEVLINK_CMD_PORT_DEL,
      doit: (req) => {
        const attrs = attrsOf(req);
        validateRanges(attrs);
        const inst = instanceOf(registry, attrs);
        const port = portOf(inst, attrs);
        if (inst.ops.portDel === undefined) throw nlError('EOPNOTSUPP');
        inst.ops.portDel(port);
        return [];
      },
    },
  ];
}
