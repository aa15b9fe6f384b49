/**
 * The devlink generic netlink family (net/devlink/netlink.c, facts/kernel.md 7.1): "devlink", version 1,
 * one multicast group "config". Registered once per kernel, it answers from the DevlinkRegistry and calls
 * the drivers' DevlinkOps; registry events become notifications on "config" as devlink_notify,
 * devlink_port_notify and devlink_param_notify send them: NEW / DEL for instances, PORT_NEW / PORT_DEL
 * for ports (PORT_NEW again when a port's function changes), PARAM_NEW after a PARAM_SET.
 *
 * GENL_ADMIN_PERM is set on the commands that change state, as the kernel's op table does; the model has
 * one (root) user, so the flag is only reported through the controller.
 */
import { devlink as dl, netlink as nl } from '../../spec/index.js';
import type { GenlFamily, GenlOp, GenlReply, NetlinkBus } from '../netlink/index.js';
import { devOps } from './dev-cmds.js';
import { devFill, portFill } from './fill.js';
import { portOps } from './port-cmds.js';
import type { DevlinkEvent, DevlinkRegistry } from './registry.js';
import { DEVLINK_NL_POLICY } from './request.js';

const ADMIN_CMDS = new Set<number>([
  dl.DEVLINK_CMD_PORT_SET,
  dl.DEVLINK_CMD_PORT_NEW,
  dl.DEVLINK_CMD_PORT_DEL,
  dl.DEVLINK_CMD_ESWITCH_GET,
  dl.DEVLINK_CMD_ESWITCH_SET,
  dl.DEVLINK_CMD_PARAM_SET,
]);

function notification(e: DevlinkEvent): GenlReply {
  switch (e.kind) {
    case 'dev-new':
      return devFill(e.instance, dl.DEVLINK_CMD_NEW);
    case 'dev-del':
      return devFill(e.instance, dl.DEVLINK_CMD_DEL);
    case 'port-new':
    case 'port-change':
      return portFill(e.instance, e.port, dl.DEVLINK_CMD_PORT_NEW);
    case 'port-del':
      return portFill(e.instance, e.port, dl.DEVLINK_CMD_PORT_DEL);
  }
}

/** Register the family on `bus` and wire the registry's events to its "config" group. */
export function registerDevlinkFamily(bus: NetlinkBus, registry: DevlinkRegistry): GenlFamily {
  const ops: GenlOp[] = [...devOps(registry, bus), ...portOps(registry)].map((op) =>
    ADMIN_CMDS.has(op.cmd) ? { ...op, flags: nl.GENL_ADMIN_PERM } : op,
  );
  const family = bus.registerFamily({
    name: dl.DEVLINK_GENL_NAME,
    version: dl.DEVLINK_GENL_VERSION,
    maxAttr: dl.DEVLINK_ATTR_NESTED_DEVLINK,
    policy: DEVLINK_NL_POLICY,
    ops,
    mcastGroups: [dl.DEVLINK_GENL_MCGRP_CONFIG_NAME],
  });
  registry.listen((e) => {
    let reply: GenlReply;
    try {
      reply = notification(e);
    } catch {
      // devlink_port_notify drops a notification whose message cannot be filled.
      return;
    }
    bus.notify(dl.DEVLINK_GENL_NAME, dl.DEVLINK_GENL_MCGRP_CONFIG_NAME, reply);
  });
  return family;
}
