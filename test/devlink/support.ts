/**
 * Test support: a bare netlink bus with the devlink family over a registry holding the test-local fake
 * NIC (so dumps list exactly what a test made), the `devlink` tool on it with stdout/stderr captured,
 * and raw byte exchange with the bus for hand-built vectors.
 */
import {
  DevlinkRegistry,
  NetlinkBus,
  type NetlinkSocket,
  registerDevlinkFamily,
} from '../../src/kernel/index.js';
import { devlinkCommand } from '../../src/lab/commands/devlink.js';
import { type FakeNic, fakeNic } from './fake-nic.js';

export interface Run {
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

export interface DevlinkWorld {
  readonly bus: NetlinkBus;
  readonly registry: DevlinkRegistry;
  readonly nic: FakeNic;
  readonly familyId: number;
  /** `devlink ARGS` split on spaces. */
  devlink(line: string): Run;
  /** Send raw bytes on a fresh socket (ext ack + cap ack set, like iproute2) and return every datagram. */
  raw(bytes: Uint8Array, opts?: { extAck?: boolean; capAck?: boolean }): Uint8Array[];
}

export function devlinkWorld(): DevlinkWorld {
  const bus = new NetlinkBus({ nowNs: () => 0 });
  const registry = new DevlinkRegistry();
  const family = registerDevlinkFamily(bus, registry);
  const nic = fakeNic(registry);
  const tool = devlinkCommand({ netlink: bus });
  return {
    bus,
    registry,
    nic,
    familyId: family.id,
    devlink(line) {
      let out = '';
      let err = '';
      const status = tool.run(
        line.split(' ').filter((w) => w !== ''),
        { out: (t) => (out += t), err: (t) => (err += t) },
      );
      return { status, out, err };
    },
    raw(bytes, opts = {}) {
      const sock: NetlinkSocket = bus.openSocket();
      sock.setAckOptions({ extAck: opts.extAck ?? true, capAck: opts.capAck ?? true });
      sock.send(bytes);
      const out: Uint8Array[] = [];
      for (let b = sock.recv(); b !== undefined; b = sock.recv()) out.push(b);
      sock.close();
      return out;
    },
  };
}

export function bytes(...chunks: number[][]): Uint8Array {
  return Uint8Array.from(chunks.flat());
}
export const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
/** A string attribute's payload: the bytes, NUL, zero padding to 4. */
export const strz = (s: string): number[] => {
  const b = [...ascii(s), 0];
  while (b.length % 4 !== 0) b.push(0);
  return b;
};
