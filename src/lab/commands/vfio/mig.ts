/** `vfio mig` (state walks, save/load through the scratch files, precopy-info, data-size) and `vfio files`. */
import { decodeStruct, encodeStruct, errnoError, isLabError } from '../../../base/index.js';
import { nextState } from '../../../kernel/index.js';
import { ERRNO_MESSAGE, vfio } from '../../../spec/index.js';
import {
  arcLines,
  CHUNK_BYTES,
  errnoOf,
  flagNames,
  GET,
  MIG_FLAG_NAMES,
  num,
  parseState,
  type Reply,
  STATE_NAMES,
} from './format.js';
import type { Session } from './session.js';

export function migState(ses: Session, dev: string, targetText: string | undefined): Reply {
  const target = targetText === undefined ? undefined : parseState(targetText);
  const h = ses.open(dev);
  const flags = ses.migFlags(h);
  const cur = ses.getState(h);
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
      now = ses.getState(h);
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
      fd = ses.setState(h, next);
    } catch (e) {
      if (!isLabError(e) || e.errno === undefined) throw e;
      return failed(e);
    }
    if (fd !== undefined) {
      ses.adoptDataFd(h, fd);
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

export function save(ses: Session, dev: string, path: string): Reply {
  const h = ses.open(dev);
  const s = ses.stream(h, 'saving');
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
  ses.files.set(path, out);
  return {
    text: [
      `${h.vdev.dev.name}: saved ${total} bytes to ${path}${eof ? ' (end of stream)' : ' (no more pre-copy data now)'}`,
    ],
    json: { file: path, bytes: total, endOfStream: eof },
  };
}

export function load(ses: Session, dev: string, path: string): Reply {
  const h = ses.open(dev);
  const data = ses.files.get(path);
  if (data === undefined) throw errnoError('ENOENT', path);
  const s = ses.stream(h, 'resuming');
  let written = 0;
  for (let at = 0; at < data.length; at += CHUNK_BYTES) {
    written += s.write(data.subarray(at, Math.min(data.length, at + CHUNK_BYTES)));
  }
  return {
    text: [`${h.vdev.dev.name}: loaded ${written} bytes from ${path}`],
    json: { file: path, bytes: written },
  };
}

export function precopyInfo(ses: Session, dev: string): Reply {
  const h = ses.open(dev);
  const s = ses.stream(h, 'saving');
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

export function dataSize(ses: Session, dev: string): Reply {
  const h = ses.open(dev);
  const p = ses.feature(h, GET | vfio.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, new Uint8Array(8), 'MIG_DATA_SIZE');
  const n = decodeStruct(vfio.VfioDeviceFeatureMigDataSize, p).stopCopyLength;
  return {
    text: [`${h.vdev.dev.name}: stop_copy_length ${n}`],
    json: { stopCopyLength: num(n) },
  };
}

export function listFiles(ses: Session): Reply {
  const entries = [...ses.files].map(([path, b]) => ({ file: path, bytes: b.length }));
  return { text: entries.map((e) => `${e.file} ${e.bytes}`), json: { files: entries } };
}
