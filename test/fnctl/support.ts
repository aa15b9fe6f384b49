/**
 * Test support for the fnctl family: a fresh default host (virtio-net PF 0000:01:00.0, 1024 VFs), the
 * `fn` tool through the host shell, a GenlClient on the family, and a snapshot of everything a
 * creation may change (PCI devices, bindings and overrides, VFIO devices, the provider's list, the
 * PF's sysfs SR-IOV files) so that a refused request can be shown to change nothing.
 */
import { FNCTL_POLICY, GenlClient, type Kernel, type NlAttr, nla } from '../../src/kernel/index.js';
import { createHostShell } from '../../src/lab/commands/index.js';
import { type Host, Lab } from '../../src/lab/index.js';
import { fnctl as F } from '../../src/spec/index.js';

export const PF = '0000:01:00.0';
export const PF_HANDLE = `pci/${PF}`;

export interface FnHost {
  readonly host: Host;
  readonly k: Kernel;
  readonly client: GenlClient;
  /** Run one shell line. */
  sh(line: string): { out: string; err: string; status: number };
  snapshot(): unknown;
}

export function fnHost(): FnHost {
  const host = Lab.default().host();
  const k = host.kernel;
  let wall = 0;
  const shell = createHostShell(host, { readFile: () => '', wallNowNs: () => (wall += 1000) });
  const client = GenlClient.open(k.netlink, F.FNCTL_GENL_NAME, FNCTL_POLICY);
  return {
    host,
    k,
    client,
    sh(line) {
      const r = shell.execute(line);
      return { out: r.stdout, err: r.stderr, status: r.status };
    },
    snapshot: () => snapshot(k),
  };
}

export function snapshot(k: Kernel): unknown {
  const pf = `/sys/bus/pci/devices/${PF}`;
  return {
    pci: k.core.devices('pci').map((d) => [d.name, d.driver?.name ?? '-', d.driverOverride ?? '-']),
    aux: k.core.devices('auxiliary').map((d) => [d.name, d.driver?.name ?? '-']),
    vfio: k.vfio.devices.map((d) => `${d.name}=${d.dev.name}`),
    fns: k.functions.providers.map((p) => [p.bus, p.dev, p.list().length]),
    numvfs: k.sysfs.read(`${pf}/sriov_numvfs`),
    autoprobe: k.sysfs.read(`${pf}/sriov_drivers_autoprobe`),
  };
}

/** The request attributes for CREATE on the virtio PF. */
export function createReq(o: { kind?: number; count?: number; driver?: number; extra?: NlAttr[] }): NlAttr[] {
  return [
    nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'),
    nla.string(F.FNCTL_ATTR_DEV_NAME, PF),
    ...(o.kind === undefined ? [] : [nla.u8(F.FNCTL_ATTR_KIND, o.kind)]),
    ...(o.count === undefined ? [] : [nla.u32(F.FNCTL_ATTR_COUNT, o.count)]),
    ...(o.driver === undefined ? [] : [nla.u8(F.FNCTL_ATTR_DRIVER, o.driver)]),
    ...(o.extra ?? []),
  ];
}
