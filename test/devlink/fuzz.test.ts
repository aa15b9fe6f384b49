/**
 * Hostile input into the devlink and vdpa families (fast-check): random buffers and random mutations
 * of valid requests, sent on a socket of the bus. Sending never throws anything but a typed LabError,
 * every answer decodes, and a request the kernel refused (an NLMSG_ERROR with an errno, or no answer
 * at all) leaves the registries exactly as they were.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../src/base/index.js';
import {
  decodeMessages,
  encodeGenl,
  type NlAttr,
  nla,
  parseAck,
  registerVdpaFamily,
  VdpaRegistry,
} from '../../src/kernel/index.js';
import { devlink as dl, netlink as nl, vdpa as vd } from '../../src/spec/index.js';
import { devlinkWorld } from './support.js';

function world() {
  const w = devlinkWorld();
  w.nic.mode = 1;
  const vdpa = new VdpaRegistry();
  const vdpaFamily = registerVdpaFamily(w.bus, vdpa);
  vdpa.registerMgmtDev({
    bus: 'pci',
    dev: '0000:65:00.1',
    supportedClasses: 2n,
    maxSupportedVqs: 3,
    supportedFeatures: 0n,
    configAttrMask: 1n << BigInt(vd.VDPA_ATTR_DEV_NET_CFG_MTU),
    ops: {
      devAdd: (name, c) => {
        const d = {
          name,
          mgmt: vdpa.mgmtDevs[0]!,
          virtioDeviceId: 1,
          vendorId: 0,
          maxVqs: 3,
          maxVqSize: 256,
          minVqSize: 1,
          config: () => ({ mac: new Uint8Array(6), mtu: c.mtu ?? 1500, maxVqPairs: 1 }),
        };
        vdpa.registerDevice(d);
        return d;
      },
      devDel: (d) => vdpa.unregisterDevice(d),
    },
  });
  return { ...w, vdpa, vdpaId: vdpaFamily.id };
}

type World = ReturnType<typeof world>;

/** Everything a request could change, as plain data. */
function snapshot(w: World): unknown {
  return {
    mode: w.nic.mode,
    params: { ...w.nic.params },
    devlinks: w.registry.instances.map((i) => [i.handle, i.ports.map((p) => [p.index, p.fn?.()])]),
    vdpa: w.vdpa.devices.map((d) => [d.name, d.config()]),
  };
}

const H = [
  nla.string(dl.DEVLINK_ATTR_BUS_NAME, 'netdevsim'),
  nla.string(dl.DEVLINK_ATTR_DEV_NAME, 'netdevsim10'),
];

function seeds(w: World): Uint8Array[] {
  const req = (family: number, cmd: number, attrs: NlAttr[], dump = false) =>
    encodeGenl({
      familyId: family,
      flags: nl.NLM_F_REQUEST | nl.NLM_F_ACK | (dump ? nl.NLM_F_DUMP : 0),
      seq: 1,
      pid: 0,
      cmd,
      version: 1,
      attrs,
    });
  const id = w.familyId;
  return [
    req(id, dl.DEVLINK_CMD_GET, [], true),
    req(id, dl.DEVLINK_CMD_PORT_GET, [...H, nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, 0)]),
    req(id, dl.DEVLINK_CMD_PORT_NEW, [
      ...H,
      nla.u16(dl.DEVLINK_ATTR_PORT_FLAVOUR, 7),
      nla.u16(dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER, 0),
      nla.u32(dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER, 88),
    ]),
    req(id, dl.DEVLINK_CMD_PORT_SET, [
      ...H,
      nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, 0),
      nla.nest(dl.DEVLINK_ATTR_PORT_FUNCTION, [nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, 1)]),
    ]),
    req(id, dl.DEVLINK_CMD_ESWITCH_SET, [...H, nla.u16(dl.DEVLINK_ATTR_ESWITCH_MODE, 0)]),
    req(id, dl.DEVLINK_CMD_PARAM_SET, [
      ...H,
      nla.string(dl.DEVLINK_ATTR_PARAM_NAME, 'max_macs'),
      nla.u8(dl.DEVLINK_ATTR_PARAM_TYPE, 3),
      nla.binary(dl.DEVLINK_ATTR_PARAM_VALUE_DATA, Uint8Array.of(1, 0, 0, 0)),
      nla.u8(dl.DEVLINK_ATTR_PARAM_VALUE_CMODE, 1),
    ]),
    req(w.vdpaId, vd.VDPA_CMD_DEV_NEW, [
      nla.string(vd.VDPA_ATTR_MGMTDEV_BUS_NAME, 'pci'),
      nla.string(vd.VDPA_ATTR_MGMTDEV_DEV_NAME, '0000:65:00.1'),
      nla.string(vd.VDPA_ATTR_DEV_NAME, 'v0'),
      nla.u16(vd.VDPA_ATTR_DEV_NET_CFG_MTU, 1400),
    ]),
    req(w.vdpaId, vd.VDPA_CMD_DEV_CONFIG_GET, [], true),
  ];
}

/** Send `bytes`; return whether the kernel accepted it (no NLMSG_ERROR with an errno, some answer). */
function exchange(w: World, bytes: Uint8Array): boolean {
  const sock = w.bus.openSocket();
  sock.setAckOptions({ extAck: true, capAck: true });
  let accepted = false;
  try {
    sock.send(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    return false;
  }
  for (let b = sock.recv(); b !== undefined; b = sock.recv()) {
    for (const m of decodeMessages(b)) {
      if (m.type === nl.NLMSG_ERROR) {
        if (parseAck(m).error === 0) accepted = true;
      } else accepted = true;
    }
  }
  sock.close();
  return accepted;
}

describe('hostile bytes into the devlink and vdpa families', () => {
  it('random buffers', () => {
    const w = world();
    const before = snapshot(w);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const accepted = exchange(w, b);
        if (!accepted) expect(snapshot(w)).toEqual(before);
        return true;
      }),
      { numRuns: 400, seed: 6 },
    );
  });

  it('random buffers with a valid header for each family', () => {
    const w = world();
    const before = snapshot(w);
    fc.assert(
      fc.property(
        fc.constantFrom(w.familyId, w.vdpaId),
        fc.integer({ min: 0, max: 60 }),
        fc.uint8Array({ maxLength: 120 }),
        (family, cmd, body) => {
          const len = 20 + body.length;
          const head = Uint8Array.of(
            len & 0xff,
            len >> 8,
            0,
            0,
            family,
            0,
            5,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            cmd,
            1,
            0,
            0,
          );
          const msg = new Uint8Array(len);
          msg.set(head);
          msg.set(body, 20);
          if (!exchange(w, msg)) expect(snapshot(w)).toEqual(before);
          return true;
        },
      ),
      { numRuns: 600, seed: 7 },
    );
  });

  it('mutations of valid requests: refused ones change nothing', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 7 }),
        fc.array(fc.record({ at: fc.nat(), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat({ max: 120 })),
        (which, edits, cut) => {
          const w = world();
          const before = snapshot(w);
          const seed = seeds(w)[which]!;
          const b = seed.slice(0, cut === null ? seed.length : Math.min(seed.length, cut));
          for (const e of edits) if (b.length > 0) b[e.at % b.length] = e.value;
          if (!exchange(w, b)) expect(snapshot(w)).toEqual(before);
          return true;
        },
      ),
      { numRuns: 500, seed: 8 },
    );
  });
});
