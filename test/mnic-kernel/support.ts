/**
 * Test support for the mnic kernel drivers: a default-topology host whose mnic drivers run over the
 * test's FakeNic firmware (the shipped modules are removed and the same drivers are registered with
 * the fake), a devlink/vdpa caller that records NetlinkErrors as "ERRNO: extack", and listings of
 * everything the drivers can leave behind.
 */
import { LabError } from '../../src/base/index.js';
import { mnicModules } from '../../src/kernel/drivers/mnic/index.js';
import type { Device, Kernel } from '../../src/kernel/index.js';
import { NetlinkError } from '../../src/kernel/netlink/index.js';
import { type Host, Lab } from '../../src/lab/index.js';
import { FakeNic } from './fake-fw.js';

export const MNIC_PF = '0000:10:00.0';
export const AUX_DEVICES = '/sys/bus/auxiliary/devices';
export const MS = 1_000_000;

export interface FakeHost {
  readonly host: Host;
  readonly k: Kernel;
  readonly nic: FakeNic;
  readonly pf: Device;
}

/** A default host with mnic_core, mnic_en and mnic_vdpa bound over `nic`. */
export function fakeHost(nic = new FakeNic()): FakeHost {
  const host = Lab.default().host();
  const k = host.kernel;
  k.modules.rmmod('mnic_en');
  k.modules.rmmod('mnic_core');
  k.settle();
  // The fake's drivers are registered by hand; udev must not autoload the shipped modules over them.
  Object.defineProperty(k, 'settle', { value: () => undefined });
  Object.defineProperty(k.functions, 'requestModule', { value: () => undefined });
  for (const m of mnicModules(k, () => nic.opener())) for (const d of m.drivers) k.core.driverRegister(d);
  return { host, k, nic, pf: k.findPciDevice(MNIC_PF)! };
}

/** Run a devlink/vdpa op: undefined on success, else "ERRNO" or "ERRNO: extack". */
export function nlErr(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof NetlinkError) return e.extack === undefined ? e.errno! : `${e.errno}: ${e.extack}`;
    if (e instanceof LabError) return e.errno ?? `LabError:${e.code}`;
    throw e;
  }
  return undefined;
}

/**
 * Everything an SF or function can leave behind, as names. `netdevs` are the NIC's: mnic_en binds
 * auxiliary devices; the host's virtio_net netdev (on the virtio PF) shares the list but is not the NIC's.
 */
export function residue(k: Kernel): {
  aux: string[];
  devlink: string[];
  vdpaMgmt: string[];
  vdpa: string[];
  netdevs: string[];
} {
  return {
    aux: k.core.devices('auxiliary').map((d) => d.name),
    devlink: k.devlink.instances.map((i) => i.handle),
    vdpaMgmt: k.vdpa.mgmtDevs.map((m) => `${m.bus}/${m.dev}`),
    vdpa: k.vdpa.devices.map((d) => d.name),
    netdevs: k.net.driverNetdevs.filter((n) => n.parent.busName === 'auxiliary').map((n) => n.name),
  };
}

export const mac = (text: string): Uint8Array => Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
