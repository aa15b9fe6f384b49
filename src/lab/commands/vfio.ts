/**
 * `vfio`: what QEMU or the kernel's VFIO selftests do by hand, as a host-shell tool. Every request goes
 * through the device file's uAPI face (`VfioDeviceFile.ioctl` with the byte-exact structs for features,
 * the typed info/region/irq/reset/read/write calls for the rest), so the tool is a user process of the
 * modeled kernel, never a reader of its internals.
 *
 *   vfio list
 *   vfio info DEVICE
 *   vfio read DEVICE REGION OFFSET SIZE
 *   vfio write DEVICE REGION OFFSET SIZE VALUE
 *   vfio reset DEVICE
 *   vfio mig DEVICE state [TARGET]
 *   vfio mig DEVICE save FILE | load FILE | precopy-info | data-size
 *   vfio dirty DEVICE start [--page-size N] IOVA:LENGTH... | stop | report IOVA LENGTH [--page-size N]
 *
 * `--json` anywhere prints exactly one line of JSON. Errors print `vfio: <what>: <strerror>` (status 1)
 * or, with --json, `{"errno":"<NAME>",...}`; bad arguments print the usage (status 2; with --json
 * `{"errno":"EINVAL","error":...}`). DEVICE is a BDF (`0000:01:00.1` or `01:00.1`) or a cdev name
 * (`vfio3`). REGION is an index or BAR0-BAR5, ROM, CONFIG, VGA.
 *
 * Decisions:
 * - One process per shell: the tool opens a device (through its group, GROUP_GET_DEVICE_FD, which runs
 *   the open's FLR) on first use and keeps the file, its fd table and the migration data fd for as long
 *   as the shell lives, so the migration state and the data session persist between commands, as they
 *   would in a VMM that keeps its fds.
 * - `mig DEVICE state TARGET` walks the path one arc per MIG_DEVICE_STATE SET, choosing each next step
 *   with the uAPI's table (facts/kernel.md 1.4), so every arc the device runs is observed and printed;
 *   single arcs are valid requests, and the saving-group states are never interior, so a data fd can
 *   only come back from the last SET. When the table refuses the request (EINVAL: unsupported target,
 *   STOP_COPY -> PRE_COPY, ERROR), the whole request is sent to the kernel anyway and its errno is what
 *   is reported. After a failed SET the tool GETs the state the device is really in.
 * - Files for `save`/`load`: the shell's file tree is sysfs, and the shell is given only a text
 *   `readFile`, so the tool keeps an in-shell scratch store of binary files (`files` on the command
 *   object; `vfio files` lists it). It lives as long as the shell, which is enough to save a device's
 *   state and load it into another VF of the same host.
 * - DMA logging payloads carry user pointers (the range array, the bitmap): the tool's process memory
 *   is `userMemory` on the command object, a flat buffer a driver's logging handlers read and write
 *   (a driver registered for this shell is given it, as the kernel would see this process's memory).
 */
import { decodeStruct, encodeStruct, errnoError, isLabError } from '../../base/index.js';
import type { Hpa } from '../../hw/index.js';
import type { Kernel, UserMemory } from '../../kernel/index.js';
import {
  featureArg,
  MigrationStream,
  nextState,
  type VfioDevice,
  type VfioDeviceFile,
  VfioFdTable,
  vfioCoreOf,
} from '../../kernel/index.js';
import { ERRNO_MESSAGE, Errno, type ErrnoName, vfio } from '../../spec/index.js';
import type { CommandIo, ShellCommand } from '../shell/command.js';

const USAGE = `usage: vfio [--json] list
       vfio [--json] info DEVICE
       vfio [--json] read DEVICE REGION OFFSET SIZE
       vfio [--json] write DEVICE REGION OFFSET SIZE VALUE
       vfio [--json] reset DEVICE
       vfio [--json] mig DEVICE state [TARGET]
       vfio [--json] mig DEVICE save FILE | load FILE | precopy-info | data-size
       vfio [--json] dirty DEVICE start [--page-size N] IOVA:LENGTH... | stop | report IOVA LENGTH [--page-size N]
       vfio [--json] files
`;

/** QEMU's VFIO migration buffer (costs.md: 1 MiB per read). */
const CHUNK_BYTES = 1 << 20;
const STATE_NAMES = vfio.VFIO_DEVICE_STATE_NAMES;
const GET = vfio.VFIO_DEVICE_FEATURE_GET;
const SET = vfio.VFIO_DEVICE_FEATURE_SET;

const REGION_NAMES = ['BAR0', 'BAR1', 'BAR2', 'BAR3', 'BAR4', 'BAR5', 'ROM', 'CONFIG', 'VGA'];
const IRQ_NAMES = ['INTX', 'MSI', 'MSIX', 'ERR', 'REQ'];
const DEVICE_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_DEVICE_FLAGS_RESET, 'RESET'],
  [vfio.VFIO_DEVICE_FLAGS_PCI, 'PCI'],
  [vfio.VFIO_DEVICE_FLAGS_PLATFORM, 'PLATFORM'],
  [vfio.VFIO_DEVICE_FLAGS_AMBA, 'AMBA'],
  [vfio.VFIO_DEVICE_FLAGS_CCW, 'CCW'],
  [vfio.VFIO_DEVICE_FLAGS_AP, 'AP'],
  [vfio.VFIO_DEVICE_FLAGS_FSL_MC, 'FSL_MC'],
  [vfio.VFIO_DEVICE_FLAGS_CAPS, 'CAPS'],
  [vfio.VFIO_DEVICE_FLAGS_CDX, 'CDX'],
];
const REGION_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_REGION_INFO_FLAG_READ, 'READ'],
  [vfio.VFIO_REGION_INFO_FLAG_WRITE, 'WRITE'],
  [vfio.VFIO_REGION_INFO_FLAG_MMAP, 'MMAP'],
  [vfio.VFIO_REGION_INFO_FLAG_CAPS, 'CAPS'],
];
const IRQ_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_IRQ_INFO_EVENTFD, 'EVENTFD'],
  [vfio.VFIO_IRQ_INFO_MASKABLE, 'MASKABLE'],
  [vfio.VFIO_IRQ_INFO_AUTOMASKED, 'AUTOMASKED'],
  [vfio.VFIO_IRQ_INFO_NORESIZE, 'NORESIZE'],
];
const MIG_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_MIGRATION_STOP_COPY, 'STOP_COPY'],
  [vfio.VFIO_MIGRATION_P2P, 'P2P'],
  [vfio.VFIO_MIGRATION_PRE_COPY, 'PRE_COPY'],
];

const flagNames = (v: number, table: readonly [number, string][]): string[] =>
  table.filter(([bit]) => (v & bit) !== 0).map(([, n]) => n);
const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const hexN = (v: bigint | number): string => `0x${v.toString(16)}`;
/** A JSON number when exact, else a decimal string. */
const num = (v: bigint): number | string => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

/** A user mistake in the arguments: usage, status 2. */
class UsageError extends Error {}

const ERRNO_BY_VALUE = new Map<number, ErrnoName>(
  Object.entries(Errno).map(([n, v]) => [v, n as ErrnoName] as [number, ErrnoName]),
);

/** The tool process's memory for user pointers in ioctl payloads: one flat buffer at a fixed address. */
export class ScratchUserMemory implements UserMemory {
  readonly baseVa = 0x7f00_0000_0000n;
  readonly bytes: Uint8Array;
  constructor(sizeBytes = 4 << 20) {
    this.bytes = new Uint8Array(sizeBytes);
  }
  #at(userVa: bigint, lengthBytes: number): number {
    const off = userVa - this.baseVa;
    if (off < 0n || off + BigInt(lengthBytes) > BigInt(this.bytes.length))
      throw errnoError('EFAULT', `user range ${hexN(userVa)}+${hexN(lengthBytes)}`);
    return Number(off);
  }
  read(userVa: bigint, lengthBytes: number): Uint8Array {
    const at = this.#at(userVa, lengthBytes);
    return this.bytes.slice(at, at + lengthBytes);
  }
  write(userVa: bigint, bytes: Uint8Array): void {
    this.bytes.set(bytes, this.#at(userVa, bytes.length));
  }
  pin(userVa: bigint, lengthBytes: bigint): Hpa {
    throw errnoError('EFAULT', `the vfio tool does not pin ${hexN(userVa)}+${hexN(lengthBytes)}`);
  }
}

interface Held {
  readonly vdev: VfioDevice;
  readonly file: VfioDeviceFile;
  /** The current migration data fd, if a session-starting arc returned one. */
  dataFd: number | undefined;
}

/** One line of output: the text lines, and the JSON object for --json. */
interface Reply {
  readonly text: string[];
  readonly json: Record<string, unknown>;
  /** A failure reported in `text`'s last line (stderr) and `json` (status 1). */
  readonly failed?: boolean;
}

export interface VfioTool extends ShellCommand {
  /** The in-shell scratch store that `mig save`/`mig load` use (path -> bytes). */
  readonly files: Map<string, Uint8Array>;
  /** The tool process's memory (DMA logging ranges and bitmaps live here). */
  readonly userMemory: ScratchUserMemory;
}

export function vfioCommand(k: Kernel): VfioTool {
  const core = vfioCoreOf(k);
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

  // ---- subcommands ----

  function list(): Reply {
    const devices = core.devices.map((d) => ({
      name: d.name,
      device: d.dev.name,
      group: d.group,
      cdev: d.cdevPath,
      driver: d.ops.name,
      open: held.get(d)?.file.isOpen === true,
    }));
    return {
      text: devices.map(
        (d) => `${d.name} ${d.device} group ${d.group} ${d.driver} ${d.cdev}${d.open ? ' (open)' : ''}`,
      ),
      json: { devices },
    };
  }

  function info(dev: string): Reply {
    const h = open(dev);
    const i = h.file.getInfo();
    const text = [
      `${h.vdev.dev.name} (${h.vdev.name}, group ${h.vdev.group}, ${h.vdev.ops.name}): flags ${flagNames(i.flags, DEVICE_FLAG_NAMES).join('|') || '0'}, ${i.numRegions} regions, ${i.numIrqs} irqs`,
    ];
    const regions: Record<string, unknown>[] = [];
    for (let r = 0; r < i.numRegions; r++) {
      const rname = REGION_NAMES[r] ?? `REGION${r}`;
      try {
        const ri = h.file.getRegionInfo(r);
        // The typed reply leaves CAPS to the ioctl encoder, which sets it when a chain exists.
        const flags = flagNames(
          ri.flags | (ri.caps.length > 0 ? vfio.VFIO_REGION_INFO_FLAG_CAPS : 0),
          REGION_FLAG_NAMES,
        );
        regions.push({ index: r, name: rname, size: num(ri.sizeBytes), offset: hexN(ri.offset), flags });
        text.push(
          `region ${r} ${rname}: size ${hexN(ri.sizeBytes)} offset ${hexN(ri.offset)} flags ${flags.join('|') || '0'}${ri.caps.length > 0 ? ` caps ${ri.caps.map((c) => c.id).join(',')}` : ''}`,
        );
      } catch (e) {
        const errno = errnoOf(e);
        regions.push({ index: r, name: rname, errno });
        text.push(`region ${r} ${rname}: ${ERRNO_MESSAGE[errno]}`);
      }
    }
    const irqs: Record<string, unknown>[] = [];
    for (let q = 0; q < i.numIrqs; q++) {
      const qname = IRQ_NAMES[q] ?? `IRQ${q}`;
      try {
        const qi = h.file.getIrqInfo(q);
        const flags = flagNames(qi.flags, IRQ_FLAG_NAMES);
        irqs.push({ index: q, name: qname, count: qi.count, flags });
        text.push(`irq ${q} ${qname}: count ${qi.count} flags ${flags.join('|') || '0'}`);
      } catch (e) {
        const errno = errnoOf(e);
        irqs.push({ index: q, name: qname, errno });
        text.push(`irq ${q} ${qname}: ${ERRNO_MESSAGE[errno]}`);
      }
    }
    return {
      text,
      json: {
        device: h.vdev.dev.name,
        name: h.vdev.name,
        group: h.vdev.group,
        driver: h.vdev.ops.name,
        flags: flagNames(i.flags, DEVICE_FLAG_NAMES),
        numRegions: i.numRegions,
        numIrqs: i.numIrqs,
        regions,
        irqs,
      },
    };
  }

  function regionIndex(text: string): number {
    const byName = REGION_NAMES.indexOf(text.toUpperCase());
    if (byName >= 0) return byName;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`bad region '${text}'`);
    return n;
  }

  function access(
    dev: string,
    regionText: string,
    offText: string,
    sizeText: string,
    valueText?: string,
  ): Reply {
    const region = regionIndex(regionText);
    const off = parseBig('OFFSET', offText);
    const size = Number(parseBig('SIZE', sizeText));
    const h = open(dev);
    const ri = h.file.getRegionInfo(region);
    const at = ri.offset + off;
    const rname = REGION_NAMES[region] ?? `REGION${region}`;
    if (valueText === undefined) {
      if (size < 1 || size > 4096) throw new UsageError('SIZE must be 1 to 4096');
      const b = h.file.read(at, size);
      const value = size <= 8 ? leValue(b) : undefined;
      return {
        text: [`${rname}+${hexN(off)}: ${value === undefined ? hex(b) : hexN(value)}`],
        json: {
          region: rname,
          offset: hexN(off),
          size,
          hex: hex(b),
          ...(value === undefined ? {} : { value: num(value) }),
        },
      };
    }
    if (![1, 2, 4, 8].includes(size)) throw new UsageError('SIZE must be 1, 2, 4 or 8 for a write');
    const value = parseBig('VALUE', valueText);
    if (value >= 1n << BigInt(8 * size)) throw new UsageError(`VALUE does not fit in ${size} bytes`);
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    const n = h.file.write(at, bytes);
    return {
      text: [`${rname}+${hexN(off)}: wrote ${hexN(value)} (${n} bytes)`],
      json: { region: rname, offset: hexN(off), size, value: num(value), written: n },
    };
  }

  function reset(dev: string): Reply {
    const h = open(dev);
    const t0 = core.clock.nowNs;
    h.file.reset();
    const modeledNs = core.clock.nowNs - t0;
    return {
      text: [`${h.vdev.dev.name}: reset (${modeledNs / 1e6} ms modeled)`],
      json: { device: h.vdev.dev.name, reset: true, modeledNs },
    };
  }

  function migState(dev: string, targetText: string | undefined): Reply {
    const target = targetText === undefined ? undefined : parseState(targetText);
    const h = open(dev);
    const flags = migFlags(h);
    const cur = getState(h);
    if (target === undefined) {
      const name = STATE_NAMES[cur] ?? String(cur);
      const f = flagNames(flags, MIG_FLAG_NAMES);
      return {
        text: [`${h.vdev.dev.name}: ${name} (migration flags ${f.join('|')})`],
        json: { state: name, flags: f },
      };
    }
    const path: number[] = [cur];
    let state = cur;
    let newFd: number | undefined;
    const failed = (e: unknown): Reply => {
      const errno = errnoOf(e);
      let now: number | undefined;
      try {
        now = getState(h);
      } catch {
        now = undefined;
      }
      const arcs = arcLines(path);
      const where = now === undefined ? '' : ` (device is in ${STATE_NAMES[now]})`;
      return {
        text: [
          ...arcs,
          `vfio: ${h.vdev.dev.name}: ${STATE_NAMES[state]} -> ${STATE_NAMES[target]}: ${ERRNO_MESSAGE[errno]}${where}`,
        ],
        json: { errno, ...(now === undefined ? {} : { state: STATE_NAMES[now] }) },
        failed: true,
      };
    };
    while (state !== target) {
      const step = nextState(state as vfio.VfioDeviceMigState, target, flags);
      // The table refuses: let the kernel answer the whole request and report its errno.
      const next = step.ok ? step.next : target;
      let fd: number | undefined;
      try {
        fd = setState(h, next);
      } catch (e) {
        if (!isLabError(e) || e.errno === undefined) throw e;
        return failed(e);
      }
      if (fd !== undefined) {
        adoptDataFd(h, fd);
        newFd = fd;
      }
      state = next;
      path.push(state);
    }
    const names = path.map((s) => STATE_NAMES[s]);
    return {
      text: [
        ...arcLines(path),
        `${h.vdev.dev.name}: ${names[names.length - 1]}${newFd === undefined ? '' : ` (data fd ${newFd})`}`,
      ],
      json: { path: names, ...(newFd === undefined ? {} : { dataFd: newFd }) },
    };
  }

  function save(dev: string, path: string): Reply {
    const h = open(dev);
    const s = stream(h, 'saving');
    const chunks: Uint8Array[] = [];
    let total = 0;
    let eof = false;
    for (;;) {
      let c: Uint8Array;
      try {
        c = s.read(CHUNK_BYTES);
      } catch (e) {
        if (errnoOf(e) === 'ENOMSG' && isLabError(e)) break; // PRE_COPY: no more data for now
        throw e;
      }
      if (c.length === 0) {
        eof = true;
        break;
      }
      chunks.push(c);
      total += c.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    files.set(path, out);
    return {
      text: [
        `${h.vdev.dev.name}: saved ${total} bytes to ${path}${eof ? ' (end of stream)' : ' (no more pre-copy data now)'}`,
      ],
      json: { file: path, bytes: total, endOfStream: eof },
    };
  }

  function load(dev: string, path: string): Reply {
    const h = open(dev);
    const data = files.get(path);
    if (data === undefined) throw errnoError('ENOENT', path);
    const s = stream(h, 'resuming');
    let written = 0;
    for (let at = 0; at < data.length; at += CHUNK_BYTES) {
      written += s.write(data.subarray(at, Math.min(data.length, at + CHUNK_BYTES)));
    }
    return {
      text: [`${h.vdev.dev.name}: loaded ${written} bytes from ${path}`],
      json: { file: path, bytes: written },
    };
  }

  function precopyInfo(dev: string): Reply {
    const h = open(dev);
    const s = stream(h, 'saving');
    const arg = encodeStruct(vfio.VfioPrecopyInfo, {
      argsz: vfio.VfioPrecopyInfo.sizeBytes,
      flags: 0,
      initialBytes: 0n,
      dirtyBytes: 0n,
    });
    const r = decodeStruct(vfio.VfioPrecopyInfo, s.ioctl(vfio.VFIO_MIG_GET_PRECOPY_INFO, arg));
    return {
      text: [`${h.vdev.dev.name}: initial_bytes ${r.initialBytes} dirty_bytes ${r.dirtyBytes}`],
      json: { initialBytes: num(r.initialBytes), dirtyBytes: num(r.dirtyBytes) },
    };
  }

  function dataSize(dev: string): Reply {
    const h = open(dev);
    const p = feature(h, GET | vfio.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, new Uint8Array(8), 'MIG_DATA_SIZE');
    const n = decodeStruct(vfio.VfioDeviceFeatureMigDataSize, p).stopCopyLength;
    return {
      text: [`${h.vdev.dev.name}: stop_copy_length ${n}`],
      json: { stopCopyLength: num(n) },
    };
  }

  function dirty(dev: string, op: string | undefined, rest: readonly string[]): Reply {
    let pageSize = 4096n;
    const positional: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '--page-size') pageSize = parseBig('--page-size', rest[++i]);
      else positional.push(rest[i]!);
    }
    const base = userMemory.baseVa;
    switch (op) {
      case 'start': {
        if (positional.length === 0) throw new UsageError('dirty start needs at least one IOVA:LENGTH');
        const ranges = positional.map((r) => {
          const [a, b, extra] = r.split(':');
          if (a === undefined || b === undefined || extra !== undefined)
            throw new UsageError(`bad range '${r}' (IOVA:LENGTH)`);
          return { iova: parseBig('IOVA', a), length: parseBig('LENGTH', b) };
        });
        const h = open(dev);
        const rb = vfio.VfioDeviceFeatureDmaLoggingRange.sizeBytes;
        ranges.forEach((r, i) => {
          userMemory.write(base + BigInt(i * rb), encodeStruct(vfio.VfioDeviceFeatureDmaLoggingRange, r));
        });
        const control = encodeStruct(vfio.VfioDeviceFeatureDmaLoggingControl, {
          pageSize,
          numRanges: ranges.length,
          ranges: base,
        });
        const p = feature(h, SET | vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_START, control, 'DMA_LOGGING_START');
        const chosen = decodeStruct(vfio.VfioDeviceFeatureDmaLoggingControl, p).pageSize;
        return {
          text: [`${h.vdev.dev.name}: DMA logging started, ${ranges.length} ranges, page size ${chosen}`],
          json: { started: true, ranges: ranges.length, pageSize: num(chosen) },
        };
      }
      case 'stop': {
        if (positional.length > 0) throw new UsageError('dirty stop takes no arguments');
        const h = open(dev);
        feature(h, SET | vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, new Uint8Array(0), 'DMA_LOGGING_STOP');
        return { text: [`${h.vdev.dev.name}: DMA logging stopped`], json: { stopped: true } };
      }
      case 'report': {
        if (positional.length !== 2) throw new UsageError('dirty report needs IOVA LENGTH');
        const iova = parseBig('IOVA', positional[0]);
        const length = parseBig('LENGTH', positional[1]);
        if (pageSize === 0n) throw new UsageError('--page-size must not be 0');
        const pages = length === 0n ? 0n : (length - 1n) / pageSize + 1n;
        const words = Number((pages + 63n) / 64n);
        if (words * 8 > userMemory.bytes.length)
          throw new UsageError('range too large for the bitmap buffer');
        const h = open(dev);
        userMemory.bytes.fill(0, 0, words * 8);
        const req = encodeStruct(vfio.VfioDeviceFeatureDmaLoggingReport, {
          iova,
          length,
          pageSize,
          bitmap: base,
        });
        feature(h, GET | vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, req, 'DMA_LOGGING_REPORT');
        const dirtyPages: bigint[] = [];
        // Bit n of the bitmap is page n (u64 words, LSB first: byte n/8, bit n%8); skip zero bytes.
        for (let at = 0; at < words * 8; at++) {
          const byte = userMemory.bytes[at]!;
          if (byte === 0) continue;
          for (let bit = 0; bit < 8; bit++) {
            const n = BigInt(at * 8 + bit);
            if ((byte >> bit) & 1 && n < pages) dirtyPages.push(iova + n * pageSize);
          }
        }
        return {
          text: [
            `${h.vdev.dev.name}: ${dirtyPages.length} dirty pages of ${pages} (page size ${pageSize})`,
            ...dirtyPages.map((p) => hexN(p)),
          ],
          json: { iova: num(iova), length: num(length), pageSize: num(pageSize), dirty: dirtyPages.map(num) },
        };
      }
      default:
        throw new UsageError(`unknown dirty operation '${op ?? ''}' (start, stop, report)`);
    }
  }

  function listFiles(): Reply {
    const entries = [...files].map(([path, b]) => ({ file: path, bytes: b.length }));
    return { text: entries.map((e) => `${e.file} ${e.bytes}`), json: { files: entries } };
  }

  function dispatch(args: readonly string[]): Reply {
    const [sub, dev, ...rest] = args;
    const want = (n: number): void => {
      if (dev === undefined || rest.length !== n)
        throw new UsageError(`wrong number of arguments for '${sub}'`);
    };
    switch (sub) {
      case 'list':
        if (dev !== undefined) throw new UsageError('list takes no arguments');
        return list();
      case 'files':
        if (dev !== undefined) throw new UsageError('files takes no arguments');
        return listFiles();
      case 'info':
        want(0);
        return info(dev!);
      case 'read':
        want(3);
        return access(dev!, rest[0]!, rest[1]!, rest[2]!);
      case 'write':
        want(4);
        return access(dev!, rest[0]!, rest[1]!, rest[2]!, rest[3]!);
      case 'reset':
        want(0);
        return reset(dev!);
      case 'mig': {
        if (dev === undefined) throw new UsageError('mig needs DEVICE');
        const [op, arg, extra] = rest;
        const none = (): void => {
          if (arg !== undefined) throw new UsageError(`mig ${op} takes no arguments`);
        };
        const one = (): string => {
          if (arg === undefined || extra !== undefined) throw new UsageError(`mig ${op} needs FILE`);
          return arg;
        };
        switch (op) {
          case 'state':
            if (extra !== undefined) throw new UsageError('mig state takes at most one TARGET');
            return migState(dev, arg);
          case 'save':
            return save(dev, one());
          case 'load':
            return load(dev, one());
          case 'precopy-info':
            none();
            return precopyInfo(dev);
          case 'data-size':
            none();
            return dataSize(dev);
          default:
            throw new UsageError(`unknown mig operation '${op ?? ''}'`);
        }
      }
      case 'dirty':
        if (dev === undefined) throw new UsageError('dirty needs DEVICE');
        return dirty(dev, rest[0], rest.slice(1));
      default:
        throw new UsageError(sub === undefined ? 'missing command' : `unknown command '${sub}'`);
    }
  }

  return {
    name: 'vfio',
    summary:
      'drive VFIO devices as QEMU would: list, info, read/write, reset, migration state, dirty logging (--json)',
    files,
    userMemory,
    run(argv, io) {
      const json = argv.includes('--json');
      const args = argv.filter((a) => a !== '--json');
      try {
        const r = dispatch(args);
        const failed = r.failed === true;
        if (json) io.out(`${JSON.stringify(r.json)}\n`);
        else if (failed) {
          for (const line of r.text.slice(0, -1)) io.out(`${line}\n`);
          io.err(`${r.text[r.text.length - 1]}\n`);
        } else for (const line of r.text) io.out(`${line}\n`);
        return failed ? 1 : 0;
      } catch (e) {
        return report(e, args, json, io);
      }
    },
  };
}

function report(e: unknown, args: readonly string[], json: boolean, io: CommandIo): number {
  if (e instanceof UsageError) {
    if (json) io.out(`${JSON.stringify({ errno: 'EINVAL', error: e.message })}\n`);
    else io.err(`vfio: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (isLabError(e) && e.errno !== undefined) {
    const what = args.slice(0, 2).filter((a) => a !== undefined);
    if (json) io.out(`${JSON.stringify({ errno: e.errno })}\n`);
    else io.err(`vfio: ${what.join(' ')}: ${ERRNO_MESSAGE[e.errno]}\n`);
    return 1;
  }
  throw e;
}

function errnoOf(e: unknown): ErrnoName {
  if (isLabError(e) && e.errno !== undefined) return e.errno;
  throw e;
}

function parseBig(name: string, text: string | undefined): bigint {
  if (text === undefined || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) {
    throw new UsageError(`bad value for ${name}: '${text ?? ''}'`);
  }
  return BigInt(text);
}

function parseState(text: string): number {
  const bare = text.toUpperCase().replace(/^VFIO_DEVICE_STATE_/, '');
  const i = (STATE_NAMES as readonly string[]).indexOf(bare);
  if (i >= 0) return i;
  throw new UsageError(`unknown migration state '${text}' (${STATE_NAMES.join(', ')})`);
}

function leValue(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function arcLines(path: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < path.length; i++) out.push(`${STATE_NAMES[path[i - 1]!]} -> ${STATE_NAMES[path[i]!]}`);
  return out;
}
