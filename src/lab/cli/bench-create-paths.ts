/**
 * The four paths of `vfiolab bench create`, each driven as a user drives it, never through driver
 * internals: sysfs writes and modprobe for the SR-IOV paths, generic netlink requests through the
 * tool-side GenlClient (what iproute2's devlink and the `fn` tool send, byte for byte) for the others.
 *
 * 1. sriov-autoprobe-rebind: `modprobe vfio-pci`; `echo N > sriov_numvfs` with autoprobe on (mnic_core
 *    and its net driver mnic_en probe every VF); per VF `driver_override`, `unbind`, `drivers_probe`.
 * 2. sriov-override: `modprobe vfio-pci`; `sriov_drivers_autoprobe` = 0; `echo N > sriov_numvfs`; per
 *    VF `driver_override` and `drivers_probe`.
 * 3. devlink-sf: `devlink dev eswitch set … mode switchdev`; the PF's SF defaults set to "vfio only"
 *    (`devlink dev param set … name sf_enable_eth value false`, vnet false, vfio true); per SF
 *    `devlink port add … flavour pcisf pfnum 0 sfnum I` and `devlink port function set … state active`
 *    — the SF driver probes each SF, which carves its vfio auxiliary device, which the auxiliary VFIO
 *    driver probes.
 * 4. fn-batch: one fnctl CREATE of N functions of a kind (default siov) with driver vfio; for kind sf
 *    the eswitch is put in switchdev mode first, as SFs need.
 *
 * A path whose family or parent is missing says so (`unavailable`); a request the kernel refuses
 * throws with the errno and extended ack, which the bench reports as the reason the path was skipped.
 */
import { LabError } from '../../base/index.js';
import {
  DEVLINK_NL_POLICY,
  FNCTL_POLICY,
  GenlClient,
  type GenlResult,
  type Kernel,
  type NlAttr,
  nla,
} from '../../kernel/index.js';
import { devlink as dl, fnctl as F } from '../../spec/index.js';
import type { Host } from '../host/host.js';
import { BENCH_NIC_PF } from './bench-create-topology.js';

export const CREATE_PATHS = ['sriov-autoprobe-rebind', 'sriov-override', 'devlink-sf', 'fn-batch'] as const;
export type CreatePath = (typeof CREATE_PATHS)[number];

/** The kinds the creation API can be asked for on path 4. */
export type CreateKind = 'vf' | 'sf' | 'siov';
const KIND_VALUE: Readonly<Record<CreateKind, number>> = {
  vf: F.FNCTL_KIND_VF,
  sf: F.FNCTL_KIND_SF,
  siov: F.FNCTL_KIND_SIOV,
};

export interface PathRunner {
  readonly path: CreatePath;
  /** Why the path cannot run on this host, or undefined when it can. */
  unavailable(host: Host): string | undefined;
  /** Drive a fresh host to `count` VFIO devices. */
  run(host: Host, count: number): void;
}

const PF_SYSFS = `/sys/bus/pci/devices/${BENCH_NIC_PF}`;
const VFIO_PCI = 'vfio-pci';
const NATIVE_DRIVER = 'mnic_core';

// ---- paths 1 and 2: sysfs ----

/** The VF names of the bench PF in VF order, as a script finds them: `readlink PF/virtfn<i>`. */
function vfNames(k: Kernel): string[] {
  const links = k.sysfs
    .list(PF_SYSFS)
    .filter((n) => /^virtfn\d+$/.test(n))
    .map((n) => ({ n, index: Number(n.slice('virtfn'.length)) }))
    .sort((a, b) => a.index - b.index);
  return links.map(({ n }) => k.sysfs.readlink(`${PF_SYSFS}/${n}`).split('/').pop()!);
}

function bindToVfioPci(k: Kernel, names: readonly string[], unbindFrom?: string): void {
  for (const name of names) {
    k.sysfs.write(`/sys/bus/pci/devices/${name}/driver_override`, `${VFIO_PCI}\n`);
    if (unbindFrom !== undefined) k.sysfs.write(`/sys/bus/pci/drivers/${unbindFrom}/unbind`, `${name}\n`);
    k.sysfs.write('/sys/bus/pci/drivers_probe', `${name}\n`);
  }
}

function nicMissing(host: Host): string | undefined {
  return host.kernel.findPciDevice(BENCH_NIC_PF) === undefined ? `no PCI device ${BENCH_NIC_PF}` : undefined;
}

export const sriovAutoprobeRebind: PathRunner = {
  path: 'sriov-autoprobe-rebind',
  unavailable: nicMissing,
  run(host, count) {
    const k = host.kernel;
    k.modules.modprobe(VFIO_PCI);
    k.sysfs.write(`${PF_SYSFS}/sriov_numvfs`, `${count}\n`);
    k.settle();
    bindToVfioPci(k, vfNames(k), NATIVE_DRIVER);
  },
};

export const sriovOverride: PathRunner = {
  path: 'sriov-override',
  unavailable: nicMissing,
  run(host, count) {
    const k = host.kernel;
    k.modules.modprobe(VFIO_PCI);
    k.sysfs.write(`${PF_SYSFS}/sriov_drivers_autoprobe`, '0\n');
    k.sysfs.write(`${PF_SYSFS}/sriov_numvfs`, `${count}\n`);
    k.settle();
    bindToVfioPci(k, vfNames(k));
  },
};

// ---- paths 3 and 4: generic netlink ----

/** A refused request, as the tool would print it: "Error: <extack>. kernel answers: <errno>". */
function ok(r: GenlResult, what: string): GenlResult & { ok: true } {
  if (r.ok) return r;
  throw new LabError('errno', `${what}: ${r.extack ?? 'no message'} (errno ${r.errno})`);
}

function openFamily(k: Kernel, name: string, policy: typeof DEVLINK_NL_POLICY): GenlClient | undefined {
  try {
    return GenlClient.open(k.netlink, name, policy);
  } catch {
    return undefined;
  }
}

const DL_HANDLE: readonly NlAttr[] = [
  nla.string(dl.DEVLINK_ATTR_BUS_NAME, 'pci'),
  nla.string(dl.DEVLINK_ATTR_DEV_NAME, BENCH_NIC_PF),
];

/** `devlink dev param set pci/PF name NAME value true|false cmode runtime`. */
function paramSetBool(c: GenlClient, name: string, value: boolean): void {
  const attrs: NlAttr[] = [
    ...DL_HANDLE,
    nla.string(dl.DEVLINK_ATTR_PARAM_NAME, name),
    nla.u8(dl.DEVLINK_ATTR_PARAM_TYPE, dl.DEVLINK_PARAM_TYPE_BOOL),
    ...(value ? [nla.flag(dl.DEVLINK_ATTR_PARAM_VALUE_DATA)] : []),
    nla.u8(dl.DEVLINK_ATTR_PARAM_VALUE_CMODE, dl.DEVLINK_PARAM_CMODE_RUNTIME),
  ];
  ok(c.call(dl.DEVLINK_CMD_PARAM_SET, attrs), `devlink dev param set ${name}`);
}

/** `devlink dev eswitch set pci/PF mode switchdev` (SFs need it, whoever creates them). */
function switchdev(c: GenlClient): void {
  ok(
    c.call(dl.DEVLINK_CMD_ESWITCH_SET, [
      ...DL_HANDLE,
      nla.u16(dl.DEVLINK_ATTR_ESWITCH_MODE, dl.DEVLINK_ESWITCH_MODE_SWITCHDEV),
    ]),
    'devlink dev eswitch set mode switchdev',
  );
}

function u32Attr(attrs: readonly NlAttr[], type: number): number | undefined {
  const a = attrs.find((x) => x.type === type);
  return a?.kind === 'u32' ? a.value : undefined;
}

export const devlinkSf: PathRunner = {
  path: 'devlink-sf',
  unavailable(host) {
    const c = openFamily(host.kernel, dl.DEVLINK_GENL_NAME, DEVLINK_NL_POLICY);
    if (c === undefined) return 'the devlink generic netlink family is not registered';
    try {
      const r = c.call(dl.DEVLINK_CMD_GET, DL_HANDLE);
      if (!r.ok) return `no devlink instance pci/${BENCH_NIC_PF} (errno ${r.errno})`;
      const params = c.call(dl.DEVLINK_CMD_PARAM_GET, [
        ...DL_HANDLE,
        nla.string(dl.DEVLINK_ATTR_PARAM_NAME, 'sf_enable_vfio'),
      ]);
      if (!params.ok) return `pci/${BENCH_NIC_PF} has no devlink parameter sf_enable_vfio`;
      return undefined;
    } finally {
      c.close();
    }
  },
  run(host, count) {
    const k = host.kernel;
    const c = openFamily(k, dl.DEVLINK_GENL_NAME, DEVLINK_NL_POLICY)!;
    try {
      switchdev(c);
      paramSetBool(c, 'sf_enable_eth', false);
      paramSetBool(c, 'sf_enable_vnet', false);
      paramSetBool(c, 'sf_enable_vfio', true);
      k.settle();
      for (let sfnum = 1; sfnum <= count; sfnum++) {
        const added = ok(
          c.call(dl.DEVLINK_CMD_PORT_NEW, [
            ...DL_HANDLE,
            nla.u16(dl.DEVLINK_ATTR_PORT_FLAVOUR, dl.DEVLINK_PORT_FLAVOUR_PCI_SF),
            nla.u16(dl.DEVLINK_ATTR_PORT_PCI_PF_NUMBER, 0),
            nla.u32(dl.DEVLINK_ATTR_PORT_PCI_SF_NUMBER, sfnum),
          ]),
          `devlink port add sfnum ${sfnum}`,
        );
        const index = u32Attr(added.replies[0]?.attrs ?? [], dl.DEVLINK_ATTR_PORT_INDEX);
        if (index === undefined)
          throw new LabError('internal', `devlink port add sfnum ${sfnum}: no port index`);
        ok(
          c.call(dl.DEVLINK_CMD_PORT_SET, [
            ...DL_HANDLE,
            nla.u32(dl.DEVLINK_ATTR_PORT_INDEX, index),
            nla.nest(dl.DEVLINK_ATTR_PORT_FUNCTION, [
              nla.u8(dl.DEVLINK_PORT_FN_ATTR_STATE, dl.DEVLINK_PORT_FN_STATE_ACTIVE),
            ]),
          ]),
          `devlink port function set ${index} state active`,
        );
        // udev handles each SF's uevents (module autoload) as it would between two commands.
        k.settle();
      }
    } finally {
      c.close();
      // Notifications the tool's socket did not read are dropped with it.
    }
  },
};

const FN_HANDLE: readonly NlAttr[] = [
  nla.string(F.FNCTL_ATTR_BUS_NAME, 'pci'),
  nla.string(F.FNCTL_ATTR_DEV_NAME, BENCH_NIC_PF),
];

/** Path 4 with the kind of functions to ask for. */
export function fnBatch(kind: CreateKind): PathRunner {
  return {
    path: 'fn-batch',
    unavailable(host) {
      const c = openFamily(host.kernel, F.FNCTL_GENL_NAME, FNCTL_POLICY);
      if (c === undefined) return 'the fnctl generic netlink family is not registered';
      try {
        const r = c.call(F.FNCTL_CMD_CAPS_GET, FN_HANDLE);
        if (!r.ok) return `pci/${BENCH_NIC_PF} is not a fnctl parent (errno ${r.errno}: ${r.extack ?? ''})`;
        return undefined;
      } finally {
        c.close();
      }
    },
    run(host, count) {
      if (kind === 'sf') {
        const d = openFamily(host.kernel, dl.DEVLINK_GENL_NAME, DEVLINK_NL_POLICY);
        if (d === undefined) throw new LabError('errno', 'kind sf needs devlink for switchdev mode');
        try {
          switchdev(d);
        } finally {
          d.close();
        }
      }
      const c = openFamily(host.kernel, F.FNCTL_GENL_NAME, FNCTL_POLICY)!;
      try {
        ok(
          c.call(F.FNCTL_CMD_CREATE, [
            ...FN_HANDLE,
            nla.u8(F.FNCTL_ATTR_KIND, KIND_VALUE[kind]),
            nla.u32(F.FNCTL_ATTR_COUNT, count),
            nla.u8(F.FNCTL_ATTR_DRIVER, F.FNCTL_DRIVER_VFIO),
          ]),
          `fn create pci/${BENCH_NIC_PF} kind ${kind} count ${count} driver vfio`,
        );
      } finally {
        c.close();
      }
    },
  };
}
