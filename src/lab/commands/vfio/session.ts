/** The `vfio` tool's per-shell session: open devices, fd table, and the VFIO_DEVICE_FEATURE / migration-state helpers every subcommand goes through. */
import { decodeStruct, encodeStruct, errnoError } from '../../../base/index.js';
import type { Kernel } from '../../../kernel/index.js';
import {
  featureArg,
  MigrationStream,
  type VfioDevice,
  type VfioDeviceFile,
  VfioFdTable,
} from '../../../kernel/index.js';
import { vfio } from '../../../spec/index.js';
import { ERRNO_BY_VALUE, GET, SET } from './format.js';
import { ScratchUserMemory } from './user-memory.js';

export interface Held {
  readonly vdev: VfioDevice;
  readonly file: VfioDeviceFile;
  /** The current migration data fd, if a session-starting arc returned one. */
  dataFd: number | undefined;
}

/** The shell's VFIO process state: its fd table, the devices it holds open, its scratch files and memory. */
export function vfioSession(k: Kernel) {
  const core = k.vfio;
  const fds = new VfioFdTable();
  const held = new Map<VfioDevice, Held>();
  const files = new Map<string, Uint8Array>();
  const userMemory = new ScratchUserMemory();

  function resolve(name: string): VfioDevice {
    const full = /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(name) ? `0000:${name}` : name;
    const vdev = core.find(full.toLowerCase()) ?? core.find(full);
    if (vdev === undefined) throw errnoError('ENODEV', name);
    return vdev;
  }

  /** The shell's open file of a device: opened (group model, with its FLR) on first use. */
  function open(name: string): Held {
    const vdev = resolve(name);
    const h = held.get(vdev);
    if (h?.file.isOpen) return h;
    const file = core.groupGetDeviceFd(vdev.group, vdev.dev.name, fds);
    const fresh: Held = { vdev, file, dataFd: undefined };
    held.set(vdev, fresh);
    return fresh;
  }

  /** VFIO_DEVICE_FEATURE with `flags` and `payload`; returns the payload area after the call. */
  function feature(h: Held, flags: number, payload: Uint8Array, what: string): Uint8Array {
    const arg = featureArg(flags, payload);
    const rc = h.file.ioctl(vfio.VFIO_DEVICE_FEATURE, arg);
    if (rc < 0) throw errnoError(ERRNO_BY_VALUE.get(-rc) ?? 'EIO', what);
    return arg.subarray(vfio.VfioDeviceFeature.sizeBytes);
  }

  function migFlags(h: Held): number {
    const p = feature(h, GET | vfio.VFIO_DEVICE_FEATURE_MIGRATION, new Uint8Array(8), 'MIGRATION');
    return Number(decodeStruct(vfio.VfioDeviceFeatureMigration, p).flags);
  }

  function getState(h: Held): number {
    const p = feature(
      h,
      GET | vfio.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
      new Uint8Array(8),
      'MIG_DEVICE_STATE',
    );
    return decodeStruct(vfio.VfioDeviceFeatureMigState, p).deviceState;
  }

  /** One SET; returns the data fd (or undefined). */
  function setState(h: Held, state: number): number | undefined {
    const req = encodeStruct(vfio.VfioDeviceFeatureMigState, {
      deviceState: state,
      dataFd: vfio.VFIO_DATA_FD_NONE_U32,
    });
    const p = feature(h, SET | vfio.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, req, 'MIG_DEVICE_STATE');
    const fd = decodeStruct(vfio.VfioDeviceFeatureMigState, p).dataFd;
    return fd === vfio.VFIO_DATA_FD_NONE_U32 ? undefined : fd;
  }

  function adoptDataFd(h: Held, fd: number): void {
    if (h.dataFd !== undefined) {
      const old = fds.get(h.dataFd);
      if (old instanceof MigrationStream) old.close();
      fds.close(h.dataFd);
    }
    h.dataFd = fd;
  }

  function stream(h: Held, direction: 'saving' | 'resuming'): MigrationStream {
    migFlags(h); // ENOTTY for a device without migration support
    const s = h.dataFd === undefined ? undefined : fds.get(h.dataFd);
    if (!(s instanceof MigrationStream) || s.direction !== direction) {
      throw errnoError('EBADF', `no ${direction} data fd (move the device to a ${direction} state first)`);
    }
    return s;
  }

  return {
    core,
    fds,
    held,
    files,
    userMemory,
    resolve,
    open,
    feature,
    migFlags,
    getState,
    setState,
    adoptDataFd,
    stream,
  };
}

/** What the subcommands are given: the process state and its uAPI helpers. */
export type Session = ReturnType<typeof vfioSession>;
