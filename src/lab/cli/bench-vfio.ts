/**
 * `vfiolab bench vfio`: the two VFIO costs the seed asks about.
 *
 * - Open (with reset) of N VFIO devices: N virtio-net VFs made with sriov_drivers_autoprobe = 0, bound
 *   to vfio-pci through driver_override + drivers_probe (as an administrator would), then all opened
 *   at once through their groups (VfioCore.openMany, each open running its FLR), once with the dev_set
 *   of the 6.12 kernel (VFs of a bus share one: 'serialized-per-bus') and once with the 2025 fix
 *   ('parallel'). Reported: the modeled makespan (whole batch, and the FLR waits alone as scheduled
 *   under the dev_set locks), the wall time of the batch, and the ratio serialized / parallel.
 * - Device-state save/restore throughput (wall): STOP_COPY on a source VF, its data fd read to the end
 *   in 1 MiB reads (QEMU's buffer), RESUMING on a destination VF, the bytes written, RESUMING -> STOP
 *   (the load check), all through VFIO_DEVICE_FEATURE ioctls on the device files.
 *   The VFs are bound to the real virtio_vfio_pci variant driver (driver_override, as for vfio-pci),
 *   so each round runs the driver's arcs and its admin commands on the PF (DEV_MODE_SET,
 *   RESOURCE_OBJ_CREATE, DEV_PARTS_METADATA_GET/GET/SET, ...): the image is the VF's device parts in
 *   the driver's record framing, its size set by the device (`stateBytes` does not apply). After the
 *   last round the destination's state is saved again and must equal the source's image.
 *   (The fake migration driver below stays for the vfio tool's tests.)
 */
import { decodeStruct, encodeStruct, errnoError, LabError } from '../../base/index.js';
import {
  VIRTIO_VFIO_PCI_DRIVER_NAME,
  VIRTIO_VFIO_PCI_MODULE_NAME,
  virtioVfioDrvdata,
} from '../../kernel/drivers/virtio-vfio-pci/index.js';
import type { Kernel } from '../../kernel/index.js';
import {
  type ArcResult,
  type FeatureHandler,
  featureArg,
  MigrationFsm,
  type MigrationStream,
  migrationFeatureHandlers,
  type VfioDevice,
  type VfioDeviceFile,
  VfioFdTable,
  VfioFeatureCopyBackError,
  type VfioFeatureHandler,
  type VfioResetPolicy,
} from '../../kernel/index.js';
import { Errno, type ErrnoName, vfio } from '../../spec/index.js';
import type { Host } from '../host/host.js';
import { Lab } from '../lab.js';
import type { Platform } from '../platform.js';

const PF = '0000:01:00.0';
const GET = vfio.VFIO_DEVICE_FEATURE_GET;
const SET = vfio.VFIO_DEVICE_FEATURE_SET;
const CHUNK_BYTES = 1 << 20;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---- a fake migration driver (also used by the vfio tool's tests) ----

/** The fake driver's stream: "VFAKEMIG" + u64 little-endian payload length + payload. */
const MAGIC = Uint8Array.from('VFAKEMIG', (c) => c.charCodeAt(0));
const HEADER_BYTES = 16;

/**
 * Adapt the migration features' `(flags, payload, ctx) => reply` handlers to the VFIO core's in-place
 * shape: the dispatcher checks the ops, the handler is re-called with the flags it would have seen, the
 * reply is written over the payload, and a failed SET's copy-back is written before the errno.
 */
export function migrationFeaturesInPlace(
  handlers: ReadonlyMap<number, FeatureHandler>,
): Map<number, VfioFeatureHandler> {
  const out = new Map<number, VfioFeatureHandler>();
  const opsOf: Record<number, number> = {
    [vfio.VFIO_DEVICE_FEATURE_MIGRATION]: GET,
    [vfio.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE]: GET | SET,
    [vfio.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE]: GET,
  };
  for (const [index, h] of handlers) {
    const call = (op: number) => (payload: Uint8Array, ctx: { installFd(file: unknown): number }) => {
      try {
        const r = h(index | op, payload, { installFd: (s: MigrationStream) => ctx.installFd(s) });
        payload.set(r.payload.subarray(0, payload.length));
      } catch (e) {
        if (e instanceof VfioFeatureCopyBackError) payload.set(e.copyBack.subarray(0, payload.length));
        throw e;
      }
    };
    out.set(index, { ops: opsOf[index] ?? GET, minPayloadBytes: 0, get: call(GET), set: call(SET) });
  }
  return out;
}

export interface FakeMigrationDriver {
  readonly fsm: MigrationFsm;
  /** The device state the driver saves and loads. */
  state: Uint8Array;
}

/**
 * Register a fake migration driver on `vdev` (a vfio-pci device): MigrationFsm.register with the given
 * VFIO_MIGRATION_* flags, its three features through migrationFeatureHandlers, in the core's shape.
 * Saving streams serve header + state (in PRE_COPY as initial data, the rest in STOP_COPY); RESUMING ->
 * STOP checks the header and length (EINVAL, device unchanged, on a bad stream) and loads the state.
 */
export function registerFakeMigrationDriver(
  k: Kernel,
  vdev: VfioDevice,
  o: { flags: number; stateBytes: number },
): FakeMigrationDriver {
  const self: { fsm?: MigrationFsm; state: Uint8Array } = {
    state: Uint8Array.from({ length: o.stateBytes }, (_, i) => (i * 7 + 3) & 0xff),
  };
  let resumed: Uint8Array[] = [];
  const image = (): Uint8Array => {
    const out = new Uint8Array(HEADER_BYTES + self.state.length);
    out.set(MAGIC, 0);
    new DataView(out.buffer).setBigUint64(8, BigInt(self.state.length), true);
    out.set(self.state, HEADER_BYTES);
    return out;
  };
  const saving = (): ArcResult => {
    const data = image();
    let pos = 0;
    return {
      kind: 'saving',
      source: {
        read(max) {
          const c = data.subarray(pos, Math.min(data.length, pos + max));
          pos += c.length;
          return c;
        },
        precopyInfo: () => ({ initialBytes: BigInt(data.length - pos), dirtyBytes: 0n }),
        release() {},
      },
    };
  };
  const S = vfio;
  const fsm = MigrationFsm.register(
    {
      flags: o.flags,
      dataSize: () => BigInt(HEADER_BYTES + self.state.length),
      arc(from, to): ArcResult {
        if (from === S.VFIO_DEVICE_STATE_STOP && to === S.VFIO_DEVICE_STATE_STOP_COPY) return saving();
        if (to === S.VFIO_DEVICE_STATE_PRE_COPY || to === S.VFIO_DEVICE_STATE_PRE_COPY_P2P) {
          if (from === S.VFIO_DEVICE_STATE_RUNNING || from === S.VFIO_DEVICE_STATE_RUNNING_P2P)
            return saving();
          return { kind: 'done' };
        }
        if (to === S.VFIO_DEVICE_STATE_RESUMING) {
          resumed = [];
          return {
            kind: 'resuming',
            sink: {
              write(d) {
                resumed.push(d.slice());
              },
              release() {},
            },
          };
        }
        if (from === S.VFIO_DEVICE_STATE_RESUMING) {
          const total = resumed.reduce((n, c) => n + c.length, 0);
          const all = new Uint8Array(total);
          let at = 0;
          for (const c of resumed) {
            all.set(c, at);
            at += c.length;
          }
          const ok =
            total >= HEADER_BYTES &&
            MAGIC.every((b, i) => all[i] === b) &&
            new DataView(all.buffer).getBigUint64(8, true) === BigInt(total - HEADER_BYTES);
          if (!ok) return { kind: 'failed', errno: 'EINVAL', deviceState: 'unchanged' };
          self.state = all.slice(HEADER_BYTES);
        }
        return { kind: 'done' };
      },
    },
    { warn: (t) => k.log.warn(t) },
  );
  self.fsm = fsm;
  vdev.registerFeatureHandlers(migrationFeaturesInPlace(migrationFeatureHandlers(fsm)));
  return self as FakeMigrationDriver;
}

// ---- host setup ----

/**
 * A default host with `n` virtio-net VFs (autoprobe off) bound to virtio_vfio_pci through
 * driver_override + drivers_probe; the PF stays on virtio-pci, whose admin queue the driver uses.
 */
export function hostWithVirtioVfioVfs(n: number): { host: Host; vfs: VfioDevice[] } {
  const host = Lab.default().host();
  const k = host.kernel;
  k.modules.modprobe(VIRTIO_VFIO_PCI_MODULE_NAME);
  k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_drivers_autoprobe`, '0\n');
  k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, `${n}\n`);
  k.settle();
  const names = host.pci.devices.filter((d) => d.isVirtfn).map((d) => d.name);
  for (const name of names) {
    k.sysfs.write(`/sys/bus/pci/devices/${name}/driver_override`, `${VIRTIO_VFIO_PCI_DRIVER_NAME}\n`);
    k.sysfs.write('/sys/bus/pci/drivers_probe', `${name}\n`);
  }
  k.settle();
  const vfs = k.vfio.devices.filter((d) => d.isVirtfn);
  if (vfs.length !== n) throw new LabError('internal', `${vfs.length} of ${n} VFs reached virtio-vfio-pci`);
  for (const v of vfs) {
    if (virtioVfioDrvdata(v.dev)?.migration === undefined)
      throw new LabError('internal', `${v.dev.name}: virtio-vfio-pci offers no migration`);
  }
  return { host, vfs };
}

/** A default host with `n` virtio-net VFs bound to vfio-pci through driver_override (autoprobe off). */
export function hostWithVfioVfs(n: number): { host: Host; vfs: VfioDevice[] } {
  const host = Lab.default().host();
  const k = host.kernel;
  k.modules.modprobe('vfio-pci');
  k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_drivers_autoprobe`, '0\n');
  k.sysfs.write(`/sys/bus/pci/devices/${PF}/sriov_numvfs`, `${n}\n`);
  k.settle();
  const names = host.pci.devices.filter((d) => d.isVirtfn).map((d) => d.name);
  for (const name of names) {
    k.sysfs.write(`/sys/bus/pci/devices/${name}/driver_override`, 'vfio-pci\n');
    k.sysfs.write('/sys/bus/pci/drivers_probe', `${name}\n`);
  }
  k.settle();
  const core = k.vfio;
  const vfs = core.devices.filter((d) => d.isVirtfn);
  if (vfs.length !== n) throw new LabError('internal', `${vfs.length} of ${n} VFs reached vfio-pci`);
  return { host, vfs };
}

export interface OpenRun {
  readonly policy: VfioResetPolicy;
  readonly devices: number;
  /** Modeled: first open's start to last open's end (config cycles + FLR waits). */
  readonly modeledMakespanMs: number;
  /** Modeled: the FLR waits alone, as scheduled under the dev_set locks. */
  readonly modeledFlrMakespanMs: number;
  readonly wallMs: number;
}

function openRun(
  platform: Platform,
  n: number,
  policy: VfioResetPolicy,
): OpenRun & { buses: Record<string, number> } {
  const { host, vfs } = hostWithVfioVfs(n);
  const core = host.kernel.vfio;
  core.resetPolicy = policy;
  const buses: Record<string, number> = {};
  for (const v of vfs) {
    // busKey is `<domain>:<bus>` in decimal; print it as lspci would name the bus.
    const [dom, bus] = v.busKey.split(':').map(Number) as [number, number];
    const key = `${dom.toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}`;
    buses[key] = (buses[key] ?? 0) + 1;
  }
  const w0 = platform.wallNowNs();
  const r = core.openMany(vfs, new VfioFdTable());
  const wallMs = (platform.wallNowNs() - w0) / 1e6;
  if (r.files.some((f) => !f.isOpen)) throw new LabError('internal', 'an open failed');
  return {
    policy,
    devices: vfs.length,
    modeledMakespanMs: round3(r.makespanNs / 1e6),
    modeledFlrMakespanMs: round3(r.flrSchedule.makespanNs / 1e6),
    wallMs: round3(wallMs),
    buses,
  };
}

// ---- state transfer through the uAPI ----

const ERRNO_BY_VALUE = new Map<number, string>(Object.entries(Errno).map(([n, v]) => [v, n]));

function setState(file: VfioDeviceFile, fds: VfioFdTable, state: number): MigrationStream | undefined {
  const arg = featureArg(
    SET | vfio.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
    encodeStruct(vfio.VfioDeviceFeatureMigState, { deviceState: state, dataFd: vfio.VFIO_DATA_FD_NONE_U32 }),
  );
  const rc = file.ioctl(vfio.VFIO_DEVICE_FEATURE, arg);
  if (rc < 0) throw errnoError((ERRNO_BY_VALUE.get(-rc) ?? 'EIO') as ErrnoName, `SET state ${state}`);
  const { dataFd } = decodeStruct(vfio.VfioDeviceFeatureMigState, arg.subarray(8));
  return dataFd === vfio.VFIO_DATA_FD_NONE_U32 ? undefined : (fds.get(dataFd) as MigrationStream);
}

/** STOP_COPY on `file`, its data fd read to EOF in 1 MiB reads, back to RUNNING. */
function saveImage(file: VfioDeviceFile, fds: VfioFdTable): Uint8Array[] {
  const out = setState(file, fds, vfio.VFIO_DEVICE_STATE_STOP_COPY)!;
  const chunks: Uint8Array[] = [];
  for (;;) {
    const c = out.read(CHUNK_BYTES);
    if (c.length === 0) break;
    chunks.push(c.slice());
  }
  setState(file, fds, vfio.VFIO_DEVICE_STATE_RUNNING);
  out.close();
  return chunks;
}

const concat = (chunks: readonly Uint8Array[]): Uint8Array => {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
};

function transferRun(
  platform: Platform,
  o: { rounds: number },
): { saveBytesPerSec: number; restoreBytesPerSec: number; bytesPerRound: number } {
  const { host, vfs } = hostWithVirtioVfioVfs(2);
  const core = host.kernel.vfio;
  const [a, b] = vfs as [VfioDevice, VfioDevice];
  const fds = new VfioFdTable();
  const fa = core.groupGetDeviceFd(a.group, a.dev.name, fds);
  const fb = core.groupGetDeviceFd(b.group, b.dev.name, fds);
  let saveNs = 0;
  let restoreNs = 0;
  let bytes = 0;
  let saved: Uint8Array[] = [];
  for (let r = 0; r < o.rounds; r++) {
    let w0 = platform.wallNowNs();
    saved = saveImage(fa, fds);
    saveNs += platform.wallNowNs() - w0;
    w0 = platform.wallNowNs();
    const inp = setState(fb, fds, vfio.VFIO_DEVICE_STATE_RESUMING)!;
    for (const c of saved) inp.write(c);
    setState(fb, fds, vfio.VFIO_DEVICE_STATE_RUNNING);
    inp.close();
    restoreNs += platform.wallNowNs() - w0;
    bytes = saved.reduce((n, c) => n + c.length, 0);
  }
  const src = concat(saved);
  const dst = concat(saveImage(fb, fds));
  if (dst.length !== src.length || !dst.every((x, i) => x === src[i])) {
    throw new LabError('internal', 'the destination saves a state that differs from the one loaded');
  }
  const total = bytes * o.rounds;
  return {
    saveBytesPerSec: total / (saveNs / 1e9),
    restoreBytesPerSec: total / (restoreNs / 1e9),
    bytesPerRound: bytes,
  };
}

export function benchVfio(
  platform: Platform,
  o: { devices: number; stateBytes: number; rounds: number; runs: number },
): Record<string, unknown> {
  const serial = openRun(platform, o.devices, 'serialized-per-bus');
  const parallel = openRun(platform, o.devices, 'parallel');
  const { buses, ...serialized } = serial;
  const { buses: _b, ...par } = parallel;
  const saves: number[] = [];
  const restores: number[] = [];
  let bytesPerRound = 0;
  for (let r = 0; r < o.runs; r++) {
    const t = transferRun(platform, o);
    saves.push(t.saveBytesPerSec);
    restores.push(t.restoreBytesPerSec);
    bytesPerRound = t.bytesPerRound;
  }
  return {
    bench: 'vfio',
    machine: platform.machine(),
    open: {
      devices: o.devices,
      what: 'virtio-net VFs (autoprobe off) bound to vfio-pci by driver_override, opened at once through their groups, FLR on each open',
      vfsPerBus: buses,
      serializedPerBus: serialized,
      parallel: par,
      ratios: {
        modeledSerializedToParallel: round3(serialized.modeledMakespanMs / par.modeledMakespanMs),
        wallSerializedToParallel: round3(serialized.wallMs / par.wallMs),
      },
    },
    stateTransfer: {
      driver:
        'virtio-vfio-pci (the real variant driver: STOP_COPY|P2P|PRE_COPY through the PF admin queue) on virtio-net VFs; image = the VF device parts, size set by the device',
      path: 'STOP_COPY + read to EOF (1 MiB reads) -> RUNNING on the source; RESUMING + write -> RUNNING on the destination',
      runs: o.runs,
      roundsPerRun: o.rounds,
      bytesPerRound,
      wallSaveMBPerSecMedian: round3(median(saves) / 1e6),
      wallRestoreMBPerSecMedian: round3(median(restores) / 1e6),
    },
  };
}
