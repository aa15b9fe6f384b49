/**
 * Live migration of a virtio-net VF through the VFIO migration uAPI alone (facts/kernel.md 1.4-1.7,
 * 4.4): a legacy guest runs on VF a of PF 1 through virtio-vfio-pci; its state is saved with
 * MIG_DEVICE_STATE (STOP_COPY, or PRE_COPY then STOP_COPY), loaded into VF b of PF 2 (RESUMING, write,
 * STOP, RUNNING), and the guest continues on b with nothing lost. Also: the arcs run match the 1.4
 * paths, the admin commands per arc match 4.4, and hostile streams fail cleanly.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeRecord,
  VIRTIO_VFIO_RECORD_HEADER_BYTES,
  virtioVfioDrvdata,
} from '../../src/kernel/drivers/virtio-vfio-pci/index.js';
import type { VfioDeviceFile } from '../../src/kernel/vfio/core/index.js';
import type { Host } from '../../src/lab/index.js';
import {
  bindVirtioVfio,
  EXTERNAL_HOST,
  FEATURE_GET,
  FEATURE_MIG_DATA_SIZE,
  FEATURE_MIGRATION,
  featureBytes,
  frame,
  Guest,
  getMigState,
  M,
  neg,
  openVfio,
  PF1,
  PF2,
  pfModel,
  precopyInfo,
  readAll,
  setMigState,
  streamOf,
  tagOf,
  twoPfHost,
  VFIO_DEVICE_FEATURE,
  VfioGuestAccess,
  vfTarget,
} from './support.js';

const NAMES = [
  'ERROR',
  'STOP',
  'RUNNING',
  'STOP_COPY',
  'RESUMING',
  'RUNNING_P2P',
  'PRE_COPY',
  'PRE_COPY_P2P',
];

/** Record the arcs the driver is asked for. */
function arcLog(host: Host, vf: string): string[][] {
  const d = virtioVfioDrvdata(host.kernel.findPciDevice(vf)!)!;
  const mig = d.migration!;
  const runs: string[][] = [];
  const arc = mig.arc.bind(mig);
  mig.arc = (from, to) => {
    runs.at(-1)?.push(NAMES[to]!);
    return arc(from, to);
  };
  return runs;
}

/** MIG_DEVICE_STATE SET with the path the driver ran (from the current state). */
function setWithPath(f: VfioDeviceFile, runs: string[][], state: number) {
  runs.push([NAMES[getMigState(f)]!]);
  const r = setMigState(f, state);
  return { ...r, path: runs.at(-1)! };
}

function setup(host: Host) {
  const a = vfTarget(host, PF1, 1);
  const b = vfTarget(host, PF2, 2);
  bindVirtioVfio(host, a.name);
  bindVirtioVfio(host, b.name);
  const fa = openVfio(host, a.name);
  const fb = openVfio(host, b.name);
  return { a, b, fa, fb, runsA: arcLog(host, a.name), runsB: arcLog(host, b.name) };
}

describe('VFIO migration of a virtio-net VF across PFs', () => {
  it('reports STOP_COPY|P2P|PRE_COPY and a data size', () => {
    const host = twoPfHost(2);
    const { fa } = setup(host);
    const arg = featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8));
    expect(fa.ioctl(VFIO_DEVICE_FEATURE, arg)).toBe(0);
    expect(arg[8]).toBe(7);
    const sz = featureBytes(FEATURE_GET | FEATURE_MIG_DATA_SIZE, new Uint8Array(8));
    expect(fa.ioctl(VFIO_DEVICE_FEATURE, sz)).toBe(0);
    expect(new DataView(sz.buffer).getBigUint64(8, true)).toBeGreaterThan(0n);
    expect(getMigState(fa)).toBe(M.RUNNING);
  });

  it.each(['modern', 'legacy'] as const)(
    'STOP_COPY (%s guest): the guest continues on VF b with every frame exactly once',
    (mode) => {
      const host = twoPfHost(2);
      const pf1 = pfModel(host, PF1);
      const pf2 = pfModel(host, PF2);
      const { a, b, fa, fb, runsA, runsB } = setup(host);
      const g = new Guest(host, 0);
      const acc = new VfioGuestAccess(fa, g, a.rid);
      g.init(mode, acc);
      const mac = g.driver.mac;
      const sent: number[] = [];
      const send = (t: number) => {
        g.driver.send(frame(EXTERNAL_HOST, mac, t, 64 + t));
        sent.push(t);
      };
      for (const t of [1, 2, 3]) send(t);
      g.service();
      for (const t of [101, 102]) pf1.injectExternal(frame(mac, EXTERNAL_HOST, t));
      g.service();
      send(4);
      expect(pf1.readExternal().map(tagOf)).toEqual([1, 2, 3, 4]);

      // Source: RUNNING -> STOP_COPY = RUNNING, RUNNING_P2P, STOP, STOP_COPY (facts 1.4).
      const migA = virtioVfioDrvdata(a.dev)!.migration!;
      migA.commands.length = 0;
      const p2p = setWithPath(fa, runsA, M.RUNNING_P2P);
      expect(p2p).toMatchObject({ rc: 0, fd: -1, path: ['RUNNING', 'RUNNING_P2P'] });
      send(5); // kicked while stopped: nothing moves
      expect(pf1.readExternal()).toEqual([]);
      const sc = setWithPath(fa, runsA, M.STOP_COPY);
      expect(sc.rc).toBe(0);
      expect(sc.path).toEqual(['RUNNING_P2P', 'STOP', 'STOP_COPY']);
      expect(sc.fd).toBeGreaterThan(2);
      expect(migA.commands).toEqual([
        'DEV_MODE_SET(1)',
        'RESOURCE_OBJ_CREATE(GET)',
        'DEV_PARTS_METADATA_GET(SIZE)',
        'DEV_PARTS_GET(ALL)',
      ]);
      const image = readAll(streamOf(fa, sc.fd), 100);
      expect(image.length).toBeGreaterThan(VIRTIO_VFIO_RECORD_HEADER_BYTES);
      expect(streamOf(fa, sc.fd).read(10).length).toBe(0); // EOF stays EOF
      const stop = setWithPath(fa, runsA, M.STOP);
      expect(stop).toMatchObject({ rc: 0, path: ['STOP_COPY', 'STOP'] });
      expect(migA.commands.at(-1)).toBe('RESOURCE_OBJ_DESTROY');
      expect(() => streamOf(fa, sc.fd).read(10)).toThrow(/ENODEV/);

      // Destination: RUNNING -> RESUMING = RUNNING, RUNNING_P2P, STOP, RESUMING.
      const migB = virtioVfioDrvdata(b.dev)!.migration!;
      migB.commands.length = 0;
      const res = setWithPath(fb, runsB, M.RESUMING);
      expect(res.rc).toBe(0);
      expect(res.path).toEqual(['RUNNING', 'RUNNING_P2P', 'STOP', 'RESUMING']);
      const sink = streamOf(fb, res.fd);
      for (let at = 0; at < image.length; at += 37) sink.write(image.subarray(at, at + 37));
      expect(setWithPath(fb, runsB, M.STOP)).toMatchObject({ rc: 0, path: ['RESUMING', 'STOP'] });
      expect(migB.commands).toEqual([
        'DEV_MODE_SET(1)',
        'RESOURCE_OBJ_CREATE(SET)',
        'DEV_PARTS_SET',
        'RESOURCE_OBJ_DESTROY',
      ]);
      // QEMU restores config space and the MSI-X vectors before running the device.
      acc.retarget(fb, b.rid);
      const irqsBefore = g.irqs.log.length;
      expect(setWithPath(fb, runsB, M.RUNNING)).toMatchObject({
        rc: 0,
        path: ['STOP', 'RUNNING_P2P', 'RUNNING'],
      });
      expect(migB.commands.at(-1)).toBe('DEV_MODE_SET(0)');

      // 5, kicked on a while it was stopped, leaves through PF 2.
      expect(pf2.readExternal().map(tagOf)).toEqual([5]);
      g.service();
      for (const t of [6, 7, 8]) send(t);
      g.service();
      expect(pf2.readExternal().map(tagOf)).toEqual([6, 7, 8]);
      for (const t of [103, 104]) pf2.injectExternal(frame(mac, EXTERNAL_HOST, t));
      g.service();
      expect(g.irqs.log.slice(irqsBefore).every((d) => d.rid === b.rid)).toBe(true);
      expect(pf1.readExternal()).toEqual([]);
      expect(sent).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(g.received.map(tagOf)).toEqual([101, 102, 103, 104]);
      expect(g.driver.counters()).toMatchObject({ txFrames: 8, txCompleted: 8, rxFrames: 4, rxErrors: 0 });
      expect(pf2.vf(2)!.mac).toBe(pf1.vf(1)!.mac);
    },
  );

  it.each(['modern', 'legacy'] as const)(
    'PRE_COPY (%s guest): initial bytes, dirty bytes, then STOP_COPY on the same fd',
    (mode) => {
      const host = twoPfHost(2);
      const pf1 = pfModel(host, PF1);
      const pf2 = pfModel(host, PF2);
      const { a, b, fa, fb, runsA, runsB } = setup(host);
      const g = new Guest(host, 0);
      const acc = new VfioGuestAccess(fa, g, a.rid);
      g.init(mode, acc);
      const mac = g.driver.mac;
      for (const t of [1, 2]) g.driver.send(frame(EXTERNAL_HOST, mac, t));
      g.service();

      const pre = setWithPath(fa, runsA, M.PRE_COPY);
      expect(pre).toMatchObject({ rc: 0, path: ['RUNNING', 'PRE_COPY'] });
      const s = streamOf(fa, pre.fd);
      const info0 = precopyInfo(s);
      expect(info0.initial).toBeGreaterThan(0n);
      expect(info0.dirty).toBe(0n);
      const first = readAll(s, 64);
      expect(BigInt(first.length)).toBe(info0.initial);
      // Temporary end of stream: ENOMSG. The device keeps running and passing traffic.
      expect(() => s.read(16)).toThrow(/ENOMSG/);
      for (const t of [3, 4]) g.driver.send(frame(EXTERNAL_HOST, mac, t));
      g.service();
      expect(pf1.readExternal().map(tagOf)).toEqual([1, 2, 3, 4]);
      const info1 = precopyInfo(s);
      expect(info1.initial).toBe(0n);
      expect(info1.dirty).toBeGreaterThan(0n);
      const dirty = readAll(s, 64);
      expect(dirty.length).toBeGreaterThan(0);

      // PRE_COPY -> STOP_COPY goes through PRE_COPY_P2P; no new fd.
      const sc = setWithPath(fa, runsA, M.STOP_COPY);
      expect(sc).toMatchObject({ rc: 0, fd: -1, path: ['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY'] });
      const final = readAll(s, 64);
      expect(final.length).toBeGreaterThan(0);
      expect(() => precopyInfo(s)).toThrow(/EINVAL/);
      expect(setMigState(fa, M.STOP).rc).toBe(0);

      const res = setMigState(fb, M.RESUMING);
      expect(res.rc).toBe(0);
      const sink = streamOf(fb, res.fd);
      sink.write(first);
      sink.write(dirty);
      sink.write(final);
      expect(setMigState(fb, M.STOP).rc).toBe(0);
      acc.retarget(fb, b.rid);
      expect(setWithPath(fb, runsB, M.RUNNING).path).toEqual(['STOP', 'RUNNING_P2P', 'RUNNING']);
      g.service();
      for (const t of [5, 6]) g.driver.send(frame(EXTERNAL_HOST, mac, t));
      g.service();
      expect(pf2.readExternal().map(tagOf)).toEqual([5, 6]);
      pf2.injectExternal(frame(mac, EXTERNAL_HOST, 201));
      g.service();
      expect(g.received.map(tagOf)).toEqual([201]);
      expect(g.driver.counters()).toMatchObject({ txFrames: 6, txCompleted: 6, rxErrors: 0 });
    },
  );

  it('a reset ends the session and returns to RUNNING', () => {
    const host = twoPfHost(2);
    const { fa } = setup(host);
    const sc = setMigState(fa, M.STOP_COPY);
    expect(sc.rc).toBe(0);
    fa.reset();
    expect(getMigState(fa)).toBe(M.RUNNING);
    expect(() => streamOf(fa, sc.fd).read(10)).toThrow(/ENODEV/);
    // The saving object was destroyed: a new session can start.
    expect(setMigState(fa, M.STOP_COPY).rc).toBe(0);
  });
});

describe('hostile streams', () => {
  function validImage(): { host: Host; fb: VfioDeviceFile; image: Uint8Array } {
    const host = twoPfHost(2);
    const { fa, fb } = setup(host);
    const sc = setMigState(fa, M.STOP_COPY);
    const image = readAll(streamOf(fa, sc.fd));
    return { host, fb, image };
  }

  /** Resume `bytes` into fb: the write errno (or undefined) and the STOP rc. */
  function resume(fb: VfioDeviceFile, chunks: Uint8Array[]) {
    const r = setMigState(fb, M.RESUMING);
    expect(r.rc).toBe(0);
    const sink = streamOf(fb, r.fd);
    let writeErrno: string | undefined;
    for (const c of chunks) {
      try {
        sink.write(c);
      } catch (e) {
        writeErrno ??= (e as { errno?: string }).errno;
      }
    }
    return { writeErrno, stopRc: setMigState(fb, M.STOP).rc, sink };
  }

  /** After a failed resume: ERROR, then reset → RUNNING, and a valid stream then loads. */
  function recovers(fb: VfioDeviceFile, image: Uint8Array): void {
    expect(getMigState(fb)).toBe(M.ERROR);
    fb.reset();
    expect(getMigState(fb)).toBe(M.RUNNING);
    const ok = resume(fb, [image]);
    expect(ok).toMatchObject({ writeErrno: undefined, stopRc: 0 });
    expect(setMigState(fb, M.RUNNING).rc).toBe(0);
  }

  it('truncated: writes are taken, STOP fails with EINVAL, reset recovers', () => {
    const { fb, image } = validImage();
    const r = resume(fb, [image.subarray(0, image.length - 5)]);
    expect(r).toMatchObject({ writeErrno: undefined, stopRc: neg('EINVAL') });
    recovers(fb, image);
  });

  it('empty: STOP fails', () => {
    const { fb, image } = validImage();
    expect(resume(fb, []).stopRc).toBe(neg('EINVAL'));
    recovers(fb, image);
  });

  it('corrupted payload: EINVAL on write, ENODEV afterwards, nothing applied', () => {
    const { fb, image } = validImage();
    const bad = image.slice();
    bad[VIRTIO_VFIO_RECORD_HEADER_BYTES + 3]! ^= 0x40;
    const mig = virtioVfioDrvdata(fb.device.dev)!.migration!;
    mig.commands.length = 0;
    const r = resume(fb, [bad.subarray(0, 10), bad.subarray(10), image]);
    expect(r).toMatchObject({ writeErrno: 'EINVAL', stopRc: neg('EINVAL') });
    expect(() => r.sink.write(image)).toThrow(/ENODEV/);
    expect(mig.commands).not.toContain('DEV_PARTS_SET');
    recovers(fb, image);
  });

  it('corrupted header: EINVAL', () => {
    const { fb, image } = validImage();
    const bad = image.slice();
    bad[17]! ^= 1;
    expect(resume(fb, [bad])).toMatchObject({ writeErrno: 'EINVAL', stopRc: neg('EINVAL') });
    recovers(fb, image);
  });

  it('wrong version: EOPNOTSUPP', () => {
    const { fb, image } = validImage();
    const rec = encodeRecord(image.subarray(VIRTIO_VFIO_RECORD_HEADER_BYTES));
    const v = new DataView(rec.buffer);
    v.setUint16(4, 2, true);
    // A well-formed header of another version: its own CRC is right.
    fixHeaderCrc(rec);
    expect(resume(fb, [rec])).toMatchObject({ writeErrno: 'EOPNOTSUPP', stopRc: neg('EINVAL') });
    recovers(fb, image);
  });

  it('oversized record: ENOMEM before any payload arrives', () => {
    const { fb, image } = validImage();
    const rec = encodeRecord(new Uint8Array(0));
    new DataView(rec.buffer).setBigUint64(16, 0x1_0000_0000n, true);
    fixHeaderCrc(rec);
    expect(resume(fb, [rec])).toMatchObject({ writeErrno: 'ENOMEM', stopRc: neg('EINVAL') });
    recovers(fb, image);
  });

  it('unknown mandatory tag: EOPNOTSUPP; unknown optional tag: skipped', () => {
    const { fb, image } = validImage();
    expect(resume(fb, [encodeRecord(Uint8Array.of(1, 2, 3), 9, 0)])).toMatchObject({
      writeErrno: 'EOPNOTSUPP',
      stopRc: neg('EINVAL'),
    });
    fb.reset();
    expect(resume(fb, [encodeRecord(Uint8Array.of(1, 2, 3), 9, 1), image])).toMatchObject({
      writeErrno: undefined,
      stopRc: 0,
    });
  });
});

/** Recompute a record header's CRC (test-side CRC-32, IEEE, bitwise). */
function fixHeaderCrc(rec: Uint8Array): void {
  let c = 0xffffffff;
  for (const byte of rec.subarray(0, 28)) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  new DataView(rec.buffer, rec.byteOffset).setUint32(28, (c ^ 0xffffffff) >>> 0, true);
}
