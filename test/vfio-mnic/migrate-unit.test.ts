/**
 * The mnic migration arcs on their own (no host): MnicMigrationDriver under the VFIO core's
 * MigrationFsm, over a fake firmware. Checks the arc → firmware command mapping of facts/kernel.md
 * Appendix A, the stream (a function's bytes arrive intact at another function), PRE_COPY, and that
 * hostile streams are refused with EINVAL before anything reaches firmware, with reset recovering.
 * Record header bytes are built by hand here (layout from stream.ts's comment block).
 */
import { describe, expect, it } from 'vitest';
import { MnicMigrationDriver } from '../../src/kernel/drivers/vfio-mnic/index.js';
import { MigrationFsm, type MigrationStream } from '../../src/kernel/vfio/migration/index.js';
import { FakeMnicFw } from './fake-fw.js';

const S = {
  ERROR: 0,
  STOP: 1,
  RUNNING: 2,
  STOP_COPY: 3,
  RESUMING: 4,
  RUNNING_P2P: 5,
  PRE_COPY: 6,
  PRE_COPY_P2P: 7,
};

function setup() {
  const fw = new FakeMnicFw();
  const warns: string[] = [];
  const mk = (kind: 'vf' | 'sf' | 'siov', fnId: number, seed: number) => {
    const fn = fw.addFn(kind, fnId, seed);
    const driver = new MnicMigrationDriver({ fw, fn, warn: (t) => warns.push(t) });
    const fsm = MigrationFsm.register(driver, { warn: (t) => warns.push(t) });
    return { fn, driver, fsm };
  };
  return { fw, warns, src: mk('sf', 1, 11), dst: mk('sf', 2, 22) };
}

function drain(s: MigrationStream, chunk = 37): Uint8Array {
  const parts: number[] = [];
  for (;;) {
    let got: Uint8Array;
    try {
      got = s.read(chunk);
    } catch (e) {
      if ((e as { errno?: string }).errno === 'ENOMSG') break;
      throw e;
    }
    if (got.length === 0) break;
    parts.push(...got);
  }
  return Uint8Array.from(parts);
}

// CRC-32 (IEEE), written out independently of src.
function crc(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A record by hand: magic "MNVF", version, flags, tag, fn_kind, length, data CRC, header CRC. */
function record(
  payload: Uint8Array,
  o: { tag?: number; flags?: number; kind?: number; version?: number } = {},
) {
  const out = new Uint8Array(32 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x46564e4d, true);
  v.setUint16(4, o.version ?? 1, true);
  v.setUint16(6, o.flags ?? 0, true);
  v.setUint32(8, o.tag ?? 0, true);
  v.setUint32(12, o.kind ?? 2, true);
  v.setBigUint64(16, BigInt(payload.length), true);
  v.setUint32(24, crc(payload), true);
  v.setUint32(28, crc(out.subarray(0, 28)), true);
  out.set(payload, 32);
  return out;
}

describe('mnic migration arcs over firmware commands', () => {
  it('STOP_COPY moves the function state to another function; commands per arc as Appendix A', () => {
    const { fw, src, dst } = setup();
    const before = fw.saveVhcaState(src.fn);
    fw.log.length = 0;

    const out = src.fsm.setState(S.STOP_COPY);
    expect(out.path).toEqual([S.RUNNING, S.RUNNING_P2P, S.STOP, S.STOP_COPY]);
    expect(src.driver.commands).toEqual([
      'SUSPEND_VHCA(initiator)',
      'SUSPEND_VHCA(responder)',
      'QUERY_VHCA_MIGRATION_STATE',
      'SAVE_VHCA_STATE',
    ]);
    const image = drain(out.stream!);
    expect(image.length).toBe(32 + before.length);
    expect(image.subarray(32)).toEqual(before);
    expect(image.subarray(0, 32)).toEqual(record(before).subarray(0, 32));
    expect(out.stream!.read(10).length).toBe(0);

    const res = dst.fsm.setState(S.RESUMING);
    expect(res.path).toEqual([S.RUNNING, S.RUNNING_P2P, S.STOP, S.RESUMING]);
    for (let i = 0; i < image.length; i += 50) res.stream!.write(image.subarray(i, i + 50));
    expect(fw.log.filter((c) => c.startsWith('LOAD'))).toEqual([]); // nothing loaded before STOP
    dst.fsm.setState(S.RUNNING);
    expect(dst.driver.commands).toEqual([
      'SUSPEND_VHCA(initiator)',
      'SUSPEND_VHCA(responder)',
      'LOAD_VHCA_STATE',
      'RESUME_VHCA(responder)',
      'RESUME_VHCA(initiator)',
    ]);
    expect(fw.saveVhcaState(dst.fn)).toEqual(before);
    expect(fw.state(dst.fn)).toMatchObject({ initiatorSuspended: false, responderSuspended: false });

    src.fsm.setState(S.RUNNING);
    expect(src.driver.commands.slice(4)).toEqual(['RESUME_VHCA(responder)', 'RESUME_VHCA(initiator)']);
    expect(() => out.stream!.read(1)).toThrow(/ENODEV/);
  });

  it('PRE_COPY: an initial record while running, then the FINAL one; only FINAL is loaded', () => {
    const { fw, src, dst } = setup();
    const pre = src.fsm.setState(S.PRE_COPY);
    expect(src.driver.commands).toEqual(['QUERY_VHCA_MIGRATION_STATE', 'SAVE_VHCA_STATE']);
    const s = pre.stream!;
    const info = src.driver; // precopy info through the stream's ioctl
    expect(info.flags).toBe(7);
    const arg = new Uint8Array(24);
    new DataView(arg.buffer).setUint32(0, 24, true);
    const r1 = new DataView(s.ioctl(0x3b79, arg).buffer);
    expect(r1.getBigUint64(8, true)).toBe(32n + 90n);
    expect(r1.getBigUint64(16, true)).toBe(0n);
    const initial = drain(s);
    expect(new DataView(initial.buffer).getUint32(8, true)).toBe(1); // tag PRECOPY
    expect(new DataView(s.ioctl(0x3b79, arg).buffer).getBigUint64(8, true)).toBe(0n);

    fw.state(src.fn).rxPackets += 5n; // the function keeps running while pre-copying
    const expected = fw.saveVhcaState(src.fn);
    const sc = src.fsm.setState(S.STOP_COPY);
    expect(sc.path).toEqual([S.PRE_COPY, S.PRE_COPY_P2P, S.STOP_COPY]);
    expect(sc.stream).toBeUndefined(); // same fd
    expect(src.driver.commands.slice(2)).toEqual([
      'SUSPEND_VHCA(initiator)',
      'SUSPEND_VHCA(responder)',
      'QUERY_VHCA_MIGRATION_STATE',
      'SAVE_VHCA_STATE',
    ]);
    const final = drain(s);
    const res = dst.fsm.setState(S.RESUMING).stream!;
    res.write(initial);
    res.write(final);
    dst.fsm.setState(S.RUNNING);
    expect(fw.saveVhcaState(dst.fn)).toEqual(expected);
    expect(dst.driver.commands.filter((c) => c === 'LOAD_VHCA_STATE')).toHaveLength(1);
  });

  it('MIG_DATA_SIZE is firmware size plus one header', () => {
    const { src } = setup();
    expect(src.fsm.dataSize()).toBe(32n + 90n);
  });

  const image = () => {
    const fw = new FakeMnicFw();
    return fw.saveVhcaState(fw.addFn('sf', 9, 3));
  };
  const hostile: Array<[string, () => Uint8Array]> = [
    ['bad magic', () => record(image()).map((b, i) => (i === 0 ? b ^ 1 : b))],
    ['header CRC', () => record(image()).map((b, i) => (i === 13 ? b ^ 0x80 : b))],
    ['version 2', () => record(image(), { version: 2 })],
    ['unknown function kind', () => record(image(), { kind: 9 })],
    ['payload CRC', () => record(image()).map((b, i) => (i === 40 ? b ^ 1 : b))],
    ['unknown mandatory tag', () => record(image(), { tag: 7 })],
    [
      'length 2^40',
      () => {
        const r = record(new Uint8Array(0));
        const v = new DataView(r.buffer);
        v.setBigUint64(16, 1n << 40n, true);
        v.setUint32(28, crc(r.subarray(0, 28)), true);
        return r;
      },
    ],
  ];

  it.each(hostile)(
    'a stream with %s: write EINVAL, STOP EINVAL → ERROR, function untouched, reset recovers',
    (_, bytes) => {
      const { fw, dst } = setup();
      const before = fw.saveVhcaState(dst.fn);
      const res = dst.fsm.setState(S.RESUMING).stream!;
      expect(() => res.write(bytes())).toThrow(/EINVAL/);
      expect(() => res.write(record(image()))).toThrow(/ENODEV/);
      expect(() => dst.fsm.setState(S.STOP)).toThrow(/EINVAL/);
      expect(dst.fsm.state).toBe(S.ERROR);
      expect(fw.log.filter((c) => c.startsWith('LOAD'))).toEqual([]);
      expect(fw.saveVhcaState(dst.fn)).toEqual(before);
      dst.fsm.reset();
      dst.driver.resetDone();
      expect(dst.fsm.state).toBe(S.RUNNING);
      expect(fw.state(dst.fn)).toMatchObject({ initiatorSuspended: false, responderSuspended: false });
    },
  );

  it.each([
    ['truncated', () => record(image()).subarray(0, 50)],
    ['only a PRECOPY record', () => record(image(), { tag: 1, flags: 1 })],
    ['well framed, firmware rejects', () => record(new Uint8Array(12))],
  ])('%s: RESUMING → STOP fails with EINVAL into ERROR', (_, bytes) => {
    const { dst } = setup();
    const res = dst.fsm.setState(S.RESUMING).stream!;
    res.write(bytes());
    expect(() => dst.fsm.setState(S.STOP)).toThrow(/EINVAL/);
    expect(dst.fsm.state).toBe(S.ERROR);
  });

  it('an unknown record with the OPTIONAL flag is skipped', () => {
    const { fw, dst } = setup();
    const img = image();
    const res = dst.fsm.setState(S.RESUMING).stream!;
    res.write(record(new Uint8Array([1, 2, 3]), { tag: 42, flags: 1 }));
    res.write(record(img));
    dst.fsm.setState(S.STOP);
    expect(fw.saveVhcaState(dst.fn)).toEqual(img);
  });

  it('a firmware failure fails the arc with its errno and leaves the state', () => {
    const { fw, src } = setup();
    fw.state(src.fn).initiatorSuspended = true; // firmware refuses a second initiator suspend
    expect(() => src.fsm.setState(S.RUNNING_P2P)).toThrow(/EINVAL/);
    expect(src.fsm.state).toBe(S.RUNNING);
  });
});
