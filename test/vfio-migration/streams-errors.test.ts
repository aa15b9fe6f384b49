/**
 * Data fd rules (facts/kernel.md §1.5), PRECOPY_INFO (§1.7), failures, ERROR and reset (§1.4, §1.8),
 * registration (§1.2) and the three feature handlers against hand-built bytes (§1.6).
 */
import { describe, expect, it } from 'vitest';
import { isLabError } from '../../src/base/index.js';
import {
  type FeatureContext,
  MigrationFsm,
  MigrationSetStateError,
  type MigrationStream,
  migrationFeatureHandlers,
  VfioFeatureCopyBackError,
} from '../../src/kernel/vfio/migration/index.js';
import { P2P, PRE, S, SC, ScriptedDriver } from './support.js';

const FULL = SC | P2P | PRE;

function setup(flags = FULL) {
  const driver = new ScriptedDriver(flags);
  const warnings: string[] = [];
  const fsm = MigrationFsm.register(driver, { warn: (t) => warnings.push(t) });
  return { driver, fsm, warnings };
}

function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isLabError(e)) return e.errno;
    throw e;
  }
  return undefined;
}

/** 24 hand-built bytes of struct vfio_precopy_info with argsz = `argsz`. */
function precopyArg(argsz: number): Uint8Array {
  return Uint8Array.of(argsz, 0, 0, 0, ...new Array(20).fill(0));
}

describe('saving stream', () => {
  it('PRE_COPY: data, then ENOMSG at the temporary end; STOP_COPY: data, then read() = 0', () => {
    const { fsm, driver } = setup();
    const stream = fsm.setState(S.PRE_COPY).stream!;
    expect(stream.direction).toBe('saving');
    const src = driver.sources[0]!;
    src.precopy.push(Uint8Array.of(1, 2, 3));
    expect([...stream.read(2)]).toEqual([1, 2]);
    expect([...stream.read(10)]).toEqual([3]);
    expect(errnoOf(() => stream.read(10))).toBe('ENOMSG');
    // PRE_COPY -> STOP_COPY keeps the same fd and returns none.
    expect(fsm.setState(S.STOP_COPY).stream).toBeUndefined();
    expect(fsm.stream).toBe(stream);
    src.final.push(Uint8Array.of(9));
    expect([...stream.read(10)]).toEqual([9]);
    expect(stream.read(10).length).toBe(0);
    expect(stream.read(10).length).toBe(0);
  });

  it('positioned I/O is ESPIPE; write on a saving fd is EBADF; other ioctls ENOTTY', () => {
    const { fsm } = setup();
    const stream = fsm.setState(S.STOP_COPY).stream!;
    expect(errnoOf(() => stream.pread(1, 0n))).toBe('ESPIPE');
    expect(errnoOf(() => stream.pwrite(Uint8Array.of(1), 0n))).toBe('ESPIPE');
    expect(errnoOf(() => stream.write(Uint8Array.of(1)))).toBe('EBADF');
    expect(errnoOf(() => stream.ioctl(0x3b75, precopyArg(24)))).toBe('ENOTTY');
  });

  it.each([
    ['STOP_COPY -> STOP', S.STOP_COPY, S.STOP],
    ['PRE_COPY -> RUNNING', S.PRE_COPY, S.RUNNING],
    ['PRE_COPY_P2P -> RUNNING_P2P', S.PRE_COPY_P2P, S.RUNNING_P2P],
  ])('the session ends on %s: ENODEV afterwards, source released once', (_n, from, to) => {
    const { fsm, driver } = setup();
    const stream = fsm.setState(from).stream!;
    driver.sources[0]!.precopy.push(Uint8Array.of(1));
    fsm.setState(to);
    expect(stream.ended).toBe(true);
    expect(fsm.stream).toBeUndefined();
    expect(errnoOf(() => stream.read(1))).toBe('ENODEV');
    expect(errnoOf(() => stream.pread(1, 0n))).toBe('ESPIPE');
    expect(driver.sources[0]!.released).toBe(1);
  });

  it('inside the saving group the fd survives; reset and close end it; user close gives EBADF', () => {
    const { fsm, driver } = setup();
    const stream = fsm.setState(S.PRE_COPY).stream!;
    fsm.setState(S.PRE_COPY_P2P);
    fsm.setState(S.PRE_COPY);
    expect(stream.ended).toBe(false);
    fsm.reset();
    expect(fsm.state).toBe(S.RUNNING);
    expect(errnoOf(() => stream.read(1))).toBe('ENODEV');
    const second = fsm.setState(S.PRE_COPY).stream!;
    expect(second).not.toBe(stream);
    fsm.close();
    expect(errnoOf(() => second.read(1))).toBe('ENODEV');
    second.close();
    expect(errnoOf(() => second.read(1))).toBe('EBADF');
    expect(driver.sources.map((s) => s.released)).toEqual([1, 1]);
  });
});

describe('resuming stream', () => {
  it('write-only, data reaches the driver, session ends at RESUMING -> STOP', () => {
    const { fsm, driver } = setup();
    const stream = fsm.setState(S.RESUMING).stream!;
    expect(driver.arcs).toEqual([
      [S.RUNNING, S.RUNNING_P2P],
      [S.RUNNING_P2P, S.STOP],
      [S.STOP, S.RESUMING],
    ]);
    expect(stream.direction).toBe('resuming');
    expect(stream.write(Uint8Array.of(7, 8))).toBe(2);
    expect(driver.sinks[0]!.written).toEqual([7, 8]);
    expect(errnoOf(() => stream.read(1))).toBe('EBADF');
    expect(errnoOf(() => stream.pwrite(Uint8Array.of(1), 0n))).toBe('ESPIPE');
    expect(errnoOf(() => stream.ioctl(0x3b79, precopyArg(24)))).toBe('ENOTTY');
    fsm.setState(S.STOP);
    expect(errnoOf(() => stream.write(Uint8Array.of(1)))).toBe('ENODEV');
    expect(driver.sinks[0]!.released).toBe(1);
  });
});

describe('VFIO_MIG_GET_PRECOPY_INFO', () => {
  it('reports the driver estimates in PRE_COPY and PRE_COPY_P2P, EINVAL elsewhere, argsz checked', () => {
    const { fsm, driver } = setup();
    const stream = fsm.setState(S.PRE_COPY).stream!;
    const src = driver.sources[0]!;
    src.initialBytes = 0x1234n;
    src.dirtyBytes = 0x1_0000_0005n;
    const want = Uint8Array.of(
      ...[24, 0, 0, 0], // argsz
      ...[0, 0, 0, 0], // flags
      ...[0x34, 0x12, 0, 0, 0, 0, 0, 0], // initial_bytes
      ...[5, 0, 0, 0, 1, 0, 0, 0], // dirty_bytes
    );
    expect(stream.ioctl(0x3b79, precopyArg(24))).toEqual(want);
    fsm.setState(S.PRE_COPY_P2P);
    expect(stream.ioctl(0x3b79, precopyArg(24))).toEqual(want);
    expect(errnoOf(() => stream.ioctl(0x3b79, precopyArg(23)))).toBe('EINVAL');
    expect(errnoOf(() => stream.ioctl(0x3b79, new Uint8Array(16)))).toBe('EINVAL');
    fsm.setState(S.STOP_COPY);
    expect(errnoOf(() => stream.ioctl(0x3b79, precopyArg(24)))).toBe('EINVAL');
  });
  it('an old fd after a new session started: ENODEV', () => {
    const { fsm } = setup();
    const old = fsm.setState(S.PRE_COPY).stream!;
    fsm.setState(S.RUNNING);
    expect(errnoOf(() => old.ioctl(0x3b79, precopyArg(24)))).toBe('EINVAL');
    fsm.setState(S.PRE_COPY);
    expect(errnoOf(() => old.ioctl(0x3b79, precopyArg(24)))).toBe('ENODEV');
  });
});

describe('failures, ERROR and reset', () => {
  it('an arc failing mid-path leaves the device at the last state reached', () => {
    const { fsm, driver } = setup();
    driver.failOn = {
      from: S.RUNNING_P2P,
      to: S.STOP,
      result: { kind: 'failed', errno: 'EIO', deviceState: 'unchanged' },
    };
    let err: unknown;
    try {
      fsm.setState(S.STOP_COPY);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MigrationSetStateError);
    expect((err as MigrationSetStateError).errno).toBe('EIO');
    expect((err as MigrationSetStateError).path).toEqual([S.RUNNING, S.RUNNING_P2P]);
    expect(fsm.state).toBe(S.RUNNING_P2P);
    driver.failOn = undefined;
    expect(fsm.setState(S.STOP_COPY).path).toEqual([S.RUNNING_P2P, S.STOP, S.STOP_COPY]);
  });

  it('a failing arc may leave ERROR: only reset leaves it, open session ends', () => {
    const { fsm, driver, warnings } = setup();
    const stream = fsm.setState(S.PRE_COPY).stream!;
    driver.failOn = {
      from: S.PRE_COPY,
      to: S.PRE_COPY_P2P,
      result: { kind: 'failed', errno: 'EIO', deviceState: 'ERROR' },
    };
    expect(errnoOf(() => fsm.setState(S.STOP_COPY))).toBe('EIO');
    expect(fsm.state).toBe(S.ERROR);
    expect(errnoOf(() => stream.read(1))).toBe('ENODEV');
    driver.arcs.length = 0;
    for (const req of [S.RUNNING, S.STOP, S.STOP_COPY])
      expect(errnoOf(() => fsm.setState(req))).toBe('EINVAL');
    expect(driver.arcs).toEqual([]);
    expect(warnings.length).toBe(3);
    expect(fsm.setState(S.ERROR).path).toEqual([S.ERROR]); // the loop does not run
    fsm.reset();
    expect(fsm.state).toBe(S.RUNNING);
    expect(fsm.setState(S.STOP).path).toEqual([S.RUNNING, S.RUNNING_P2P, S.STOP]);
  });

  it('same state is a no-op; out-of-range and ERROR requests are EINVAL', () => {
    const { fsm, driver } = setup();
    expect(fsm.setState(S.RUNNING)).toEqual({ path: [S.RUNNING], stream: undefined });
    expect(errnoOf(() => fsm.setState(8))).toBe('EINVAL');
    expect(errnoOf(() => fsm.setState(S.ERROR))).toBe('EINVAL');
    expect(driver.arcs).toEqual([]);
  });

  it('a data fd out of an interior arc: WARN, fd dropped, EINVAL, device at that arc end', () => {
    const { fsm, driver, warnings } = setup();
    driver.override = (from, to) => {
      if (from === S.RUNNING && to === S.RUNNING_P2P) {
        const source = {
          read: () => new Uint8Array(0),
          precopyInfo: () => ({ initialBytes: 0n, dirtyBytes: 0n }),
          release: () => released.push(1),
        };
        return { kind: 'saving', source };
      }
      return undefined;
    };
    const released: number[] = [];
    expect(errnoOf(() => fsm.setState(S.STOP))).toBe('EINVAL');
    expect(fsm.state).toBe(S.RUNNING_P2P);
    expect(released).toEqual([1]);
    expect(warnings.length).toBe(1);
    expect(fsm.stream).toBeUndefined();
  });

  it('a session-starting arc that hands over no stream is a driver bug: WARN + EINVAL', () => {
    const { fsm, driver, warnings } = setup(SC);
    driver.override = (from, to) => (from === S.STOP && to === S.STOP_COPY ? { kind: 'done' } : undefined);
    expect(errnoOf(() => fsm.setState(S.STOP_COPY))).toBe('EINVAL');
    expect(fsm.state).toBe(S.STOP_COPY);
    expect(warnings.length).toBe(1);
  });
});

describe('registration (§1.2)', () => {
  it('flags without STOP_COPY: EINVAL', () => {
    for (const flags of [0, P2P, PRE, P2P | PRE]) {
      expect(errnoOf(() => MigrationFsm.register(new ScriptedDriver(flags), { warn: () => {} }))).toBe(
        'EINVAL',
      );
    }
  });
  it('missing ops: EINVAL', () => {
    const broken = { flags: SC, arc: () => ({ kind: 'done' as const }) } as unknown as ScriptedDriver;
    expect(errnoOf(() => MigrationFsm.register(broken, { warn: () => {} }))).toBe('EINVAL');
  });
  it('no mig ops: the three features answer ENOTTY, even with PROBE', () => {
    const h = migrationFeatureHandlers(undefined);
    const ctx: FeatureContext = { installFd: () => 3 };
    for (const id of [1, 2, 9]) {
      for (const flags of [0x10000, 0x20000, 0x40000 | 0x10000]) {
        expect(errnoOf(() => h.get(id)!(flags | id, new Uint8Array(8), ctx))).toBe('ENOTTY');
      }
    }
    expect([...h.keys()].sort()).toEqual([1, 2, 9]);
  });
});

describe('feature handlers against hand-built bytes (§1.6)', () => {
  const GET = 0x10000;
  const SET = 0x20000;
  const PROBE = 0x40000;
  const fds: MigrationStream[] = [];
  const ctx: FeatureContext = {
    installFd: (s) => {
      fds.push(s);
      return 5;
    },
  };

  it('MIGRATION: GET returns u64 flags; SET is EINVAL; PROBE GET answers with nothing', () => {
    const { fsm } = setup(SC | P2P);
    const h = migrationFeatureHandlers(fsm).get(1)!;
    expect(h(GET | 1, new Uint8Array(8), ctx).payload).toEqual(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0));
    expect(errnoOf(() => h(SET | 1, new Uint8Array(8), ctx))).toBe('EINVAL');
    expect(h(PROBE | GET | 1, new Uint8Array(0), ctx).payload.length).toBe(0);
    expect(errnoOf(() => h(GET | 1, new Uint8Array(7), ctx))).toBe('EINVAL');
    expect(errnoOf(() => h(1, new Uint8Array(8), ctx))).toBe('EINVAL');
  });

  it('MIG_DEVICE_STATE: GET, SET with and without a new fd, failed SET copies back data_fd = -1', () => {
    const { fsm } = setup();
    const h = migrationFeatureHandlers(fsm).get(2)!;
    expect(h(GET | 2, new Uint8Array(8), ctx)).toEqual({
      payload: Uint8Array.of(2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), // RUNNING, data_fd -1
      fd: undefined,
    });
    // SET RUNNING_P2P (5): no fd.
    expect(h(SET | 2, Uint8Array.of(5, 0, 0, 0, 0, 0, 0, 0), ctx).payload).toEqual(
      Uint8Array.of(5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
    );
    // SET PRE_COPY_P2P (7): new saving fd, installed as 5.
    const r = h(SET | 2, Uint8Array.of(7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), ctx);
    expect(r.payload).toEqual(Uint8Array.of(7, 0, 0, 0, 5, 0, 0, 0));
    expect(r.fd).toBe(fds[0]);
    expect(r.fd?.direction).toBe('saving');
    // SET PRE_COPY (6) from... STOP_COPY first, then STOP_COPY -> PRE_COPY fails.
    h(SET | 2, Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0), ctx);
    let err: unknown;
    try {
      h(SET | 2, Uint8Array.of(6, 0, 0, 0, 9, 0, 0, 0), ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VfioFeatureCopyBackError);
    expect((err as VfioFeatureCopyBackError).errno).toBe('EINVAL');
    expect((err as VfioFeatureCopyBackError).copyBack).toEqual(
      Uint8Array.of(6, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
    );
    expect(h(GET | 2, new Uint8Array(8), ctx).payload).toEqual(
      Uint8Array.of(3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
    );
    expect(h(PROBE | GET | SET | 2, new Uint8Array(0), ctx).payload.length).toBe(0);
    expect(errnoOf(() => h(SET | 2, new Uint8Array(4), ctx))).toBe('EINVAL');
  });

  it('MIG_DEVICE_STATE SET: when installing the fd fails, the stream is closed and the state stays', () => {
    const { fsm, driver } = setup();
    const h = migrationFeatureHandlers(fsm).get(2)!;
    const failing: FeatureContext = {
      installFd: () => {
        throw new Error('EMFILE');
      },
    };
    expect(() => h(SET | 2, Uint8Array.of(6, 0, 0, 0, 0, 0, 0, 0), failing)).toThrow('EMFILE');
    expect(fsm.state).toBe(S.PRE_COPY);
    expect(driver.sources[0]!.released).toBe(1);
  });

  it('MIG_DATA_SIZE: GET only, the driver estimate as u64', () => {
    const { fsm, driver } = setup();
    driver.dataSizeBytes = 0x0102_0304_0506n;
    const h = migrationFeatureHandlers(fsm).get(9)!;
    expect(h(GET | 9, new Uint8Array(8), ctx).payload).toEqual(Uint8Array.of(6, 5, 4, 3, 2, 1, 0, 0));
    expect(errnoOf(() => h(SET | 9, new Uint8Array(8), ctx))).toBe('EINVAL');
  });
});
