/**
 * `vfiolab bench sriov --vfs N`: the seed's question in numbers. Enable N VFs of the virtio-net PF
 * through sysfs (a) with sriov_drivers_autoprobe on, so every VF gets a full netdev driver probe, and
 * (b) with it off, so no driver probes; then (c) bind all of (b)'s VFs to one driver through
 * driver_override and drivers_probe. Each path reports modeled time (what the real host would take)
 * and wall time (what the model took), and the ratios between paths.
 */
import type { Host } from '../host/host.js';
import { Lab } from '../lab.js';
import type { Platform } from '../platform.js';

const PF = '/sys/bus/pci/devices/0000:01:00.0';

function timed(host: Host, platform: Platform, f: () => void): { modeledMs: number; wallMs: number } {
  const m0 = host.clock.nowNs;
  const w0 = platform.wallNowNs();
  f();
  host.kernel.settle();
  return {
    modeledMs: round3((host.clock.nowNs - m0) / 1e6),
    wallMs: round3((platform.wallNowNs() - w0) / 1e6),
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export interface VfCreationComparison {
  readonly autoprobeOn: { modeledMs: number; wallMs: number };
  readonly autoprobeOff: { modeledMs: number; wallMs: number };
  readonly bindAll: { modeledMs: number; wallMs: number };
  readonly boundOn: number;
  readonly boundStub: number;
}

/** The three paths on fresh default hosts, through sysfs as a user would drive them. */
export function compareVfCreation(
  platform: Platform,
  o: { vfs: number; driver: string },
): VfCreationComparison {
  const fs = (h: Host) => h.kernel.sysfs;
  const a = Lab.default().host();
  const autoprobeOn = timed(a, platform, () => fs(a).write(`${PF}/sriov_numvfs`, `${o.vfs}\n`));
  const boundOn = a.pci.devices.filter(
    (d) => d.isVirtfn && a.kernel.pciDevice(d).driver !== undefined,
  ).length;

  const b = Lab.default().host();
  fs(b).write(`${PF}/sriov_drivers_autoprobe`, '0\n');
  const autoprobeOff = timed(b, platform, () => fs(b).write(`${PF}/sriov_numvfs`, `${o.vfs}\n`));
  const vfs = b.pci.devices.filter((d) => d.isVirtfn).map((d) => d.name);
  const bindAll = timed(b, platform, () => {
    for (const name of vfs) {
      fs(b).write(`/sys/bus/pci/devices/${name}/driver_override`, `${o.driver}\n`);
      fs(b).write('/sys/bus/pci/drivers_probe', `${name}\n`);
    }
  });
  const boundStub = b.pci.devices.filter(
    (d) => d.isVirtfn && b.kernel.pciDevice(d).driver?.name === o.driver,
  ).length;
  return { autoprobeOn, autoprobeOff, bindAll, boundOn, boundStub };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Repeat the comparison; modeled times are identical run to run, wall times are medians. */
function medianComparison(
  platform: Platform,
  o: { vfs: number; driver: string; runs: number },
): VfCreationComparison {
  const all = Array.from({ length: o.runs }, () => compareVfCreation(platform, o));
  const pick = (k: 'autoprobeOn' | 'autoprobeOff' | 'bindAll') => ({
    modeledMs: all[0]![k].modeledMs,
    wallMs: round3(median(all.map((c) => c[k].wallMs))),
  });
  return {
    ...all[0]!,
    autoprobeOn: pick('autoprobeOn'),
    autoprobeOff: pick('autoprobeOff'),
    bindAll: pick('bindAll'),
  };
}

export function benchSriov(
  platform: Platform,
  o: { vfs: number; driver: string; runs: number },
): Record<string, unknown> {
  const c = medianComparison(platform, o);
  const direct = c.autoprobeOff.modeledMs + c.bindAll.modeledMs;
  return {
    bench: 'sriov',
    machine: platform.machine(),
    vfs: o.vfs,
    runs: o.runs,
    paths: {
      autoprobeOn: { ...c.autoprobeOn, vfsBound: c.boundOn, driver: 'virtio-pci (netdev-class probe)' },
      autoprobeOff: { ...c.autoprobeOff, vfsBound: 0 },
      bindAllViaDriverOverride: { ...c.bindAll, vfsBound: c.boundStub, driver: o.driver },
    },
    ratios: {
      modeledAutoprobeOnToOff: round3(c.autoprobeOn.modeledMs / c.autoprobeOff.modeledMs),
      modeledAutoprobeOnToOffPlusBind: round3(c.autoprobeOn.modeledMs / direct),
      wallAutoprobeOnToOff: round3(c.autoprobeOn.wallMs / c.autoprobeOff.wallMs),
    },
  };
}
