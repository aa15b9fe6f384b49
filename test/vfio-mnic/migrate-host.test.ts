/**
 * The key test of both designs on the real mnic NIC model: a function's state (MAC, context bytes
 * written through its window by the VFIO user, datapath counters) moves from host0 to host1 through the
 * VFIO migration uAPI alone (MIG_DEVICE_STATE SET, read the data fd, write the destination's RESUMING
 * fd), and the destination function's bytes equal the source's — for a VF on mnic_vfio_pci, and for an
 * SF and a SIOV function on vfio_mnic_aux. Hostile streams fail with EINVAL and leave the destination
 * function as it was; VFIO_DEVICE_RESET recovers. The oracle is the NIC model's function record.
 */
import { describe, expect, it } from 'vitest';
import type { Host } from '../../src/lab/index.js';
import { Lab } from '../../src/lab/index.js';
import { auxToVfio, CONTEXT, drive, enableDevice, fnBytes, hwFn, r32, vfToVfio } from './nic-flows.js';
import {
  FEATURE_GET,
  FEATURE_MIG_DATA_SIZE,
  FEATURE_MIGRATION,
  featureBytes,
  getMigState,
  M,
  neg,
  openVfio,
  REGION,
  readAll,
  setMigState,
  streamOf,
  VFIO_DEVICE_FEATURE,
  VFIO_DEVICE_RESET,
} from './support.js';

type Kind = 'vf' | 'sf' | 'siov';
const KINDS: Kind[] = ['vf', 'sf', 'siov'];
const SRC_MAC = Uint8Array.from([0x02, 0xaa, 0xbb, 0xcc, 0x00, 0x01]);
const DST_MAC = Uint8Array.from([0x02, 0xaa, 0xbb, 0xcc, 0x00, 0x99]);

function toVfio(host: Host, kind: Kind, mac: Uint8Array, migratable = true): string {
  return kind === 'vf' ? vfToVfio(host, { mac, migratable }) : auxToVfio(host, kind, { mac, migratable });
}

function pair(kind: Kind) {
  const lab = Lab.default();
  const h0 = lab.host('host0');
  const h1 = lab.host('host1');
  const srcName = toVfio(h0, kind, SRC_MAC);
  const dstName = toVfio(h1, kind, DST_MAC);
  const src = openVfio(h0, srcName);
  const dst = openVfio(h1, dstName);
  enableDevice(src);
  enableDevice(dst);
  return { h0, h1, srcName, dstName, src, dst };
}

const pattern = (seed: number): Uint8Array =>
  Uint8Array.from({ length: 256 }, (_, i) => (i * 13 + seed) & 0xff);

describe.each(KINDS)('%s: state moves host0 → host1 through the VFIO uAPI', (kind) => {
  it('MAC, context and counters arrive byte for byte; the guest sees its context through BAR0', () => {
    const { h0, h1, srcName, dstName, src, dst } = pair(kind);
    const data = pattern(7);
    expect(drive(h0, src, data)).toBe(0);
    const before = fnBytes(hwFn(h0, srcName));
    expect(before.mac).toEqual(SRC_MAC);
    expect(before.context.subarray(0, 256)).toEqual(data);
    expect(before.counters.rxPackets).toBe(1n);
    expect(before.counters.rxBytes).toBe(64n);

    const arg = featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8));
    expect(src.ioctl(VFIO_DEVICE_FEATURE, arg)).toBe(0);
    expect(arg[8]).toBe(7); // STOP_COPY | P2P | PRE_COPY

    const size = featureBytes(FEATURE_GET | FEATURE_MIG_DATA_SIZE, new Uint8Array(8));
    expect(src.ioctl(VFIO_DEVICE_FEATURE, size)).toBe(0);
    const sc = setMigState(src, M.STOP_COPY);
    expect(sc.rc).toBe(0);
    const image = readAll(streamOf(src, sc.fd), 1000);
    expect(new DataView(size.buffer).getBigUint64(8, true)).toBe(BigInt(image.length));
    expect(setMigState(src, M.STOP).rc).toBe(0);
    expect(fnBytes(hwFn(h0, srcName))).toEqual(before); // saving never changes the source

    const res = setMigState(dst, M.RESUMING);
    expect(res.rc).toBe(0);
    for (let i = 0; i < image.length; i += 1500) streamOf(dst, res.fd).write(image.subarray(i, i + 1500));
    expect(setMigState(dst, M.RUNNING).rc).toBe(0);
    expect(getMigState(dst)).toBe(M.RUNNING);

    expect(fnBytes(hwFn(h1, dstName))).toEqual(before);
    expect(dst.read(REGION(0) + BigInt(CONTEXT), 256)).toEqual(data);
    // The destination runs: its datapath moves again and counts on from the migrated counters.
    expect(drive(h1, dst, data)).toBe(0);
    expect(hwFn(h1, dstName).counters.rxPackets).toBe(2n);
  });

  it('PRE_COPY then STOP_COPY: the final image wins', () => {
    const { h0, h1, srcName, dstName, src, dst } = pair(kind);
    drive(h0, src, pattern(1));
    const pre = setMigState(src, M.PRE_COPY);
    expect(pre.rc).toBe(0);
    const initial = readAll(streamOf(src, pre.fd));
    drive(h0, src, pattern(2)); // still running: the state changes after the initial image
    const after = fnBytes(hwFn(h0, srcName));
    expect(setMigState(src, M.STOP_COPY).rc).toBe(0);
    const final = readAll(streamOf(src, pre.fd));
    const res = setMigState(dst, M.RESUMING);
    streamOf(dst, res.fd).write(initial);
    streamOf(dst, res.fd).write(final);
    expect(setMigState(dst, M.RUNNING).rc).toBe(0);
    expect(fnBytes(hwFn(h1, dstName))).toEqual(after);
  });

  it('a hostile stream: write EINVAL, STOP EINVAL into ERROR, the function untouched; reset recovers', () => {
    const { h0, h1, dstName, src, dst } = pair(kind);
    drive(h0, src, pattern(3));
    const sc = setMigState(src, M.STOP_COPY);
    const image = readAll(streamOf(src, sc.fd));
    drive(h1, dst, pattern(4));
    const untouched = fnBytes(hwFn(h1, dstName));

    const res = setMigState(dst, M.RESUMING);
    const bad = image.slice();
    bad[40] = bad[40]! ^ 0xff; // a payload byte: the record CRC no longer matches
    expect(() => streamOf(dst, res.fd).write(bad)).toThrow(/EINVAL/);
    expect(setMigState(dst, M.STOP).rc).toBe(neg('EINVAL'));
    expect(getMigState(dst)).toBe(M.ERROR);
    expect(fnBytes(hwFn(h1, dstName))).toEqual(untouched);

    expect(dst.ioctl(VFIO_DEVICE_RESET, new Uint8Array(0))).toBe(0);
    expect(getMigState(dst)).toBe(M.RUNNING);
    enableDevice(dst);
    expect(drive(h1, dst, pattern(5))).toBe(0);
    expect(r32(dst, CONTEXT)).toBe(new DataView(pattern(5).buffer).getUint32(0, true));

    // A truncated but otherwise valid stream: nothing to load, the STOP arc fails.
    const res2 = setMigState(dst, M.RESUMING);
    streamOf(dst, res2.fd).write(image.subarray(0, image.length - 1));
    expect(setMigState(dst, M.STOP).rc).toBe(neg('EINVAL'));
    expect(dst.ioctl(VFIO_DEVICE_RESET, new Uint8Array(0))).toBe(0);
    expect(getMigState(dst)).toBe(M.RUNNING);
  });

  it('without the migratable cap: no migration features (ENOTTY)', () => {
    const lab = Lab.default();
    const h0 = lab.host('host0');
    const f = openVfio(h0, toVfio(h0, kind, SRC_MAC, false));
    const arg = featureBytes(FEATURE_GET | FEATURE_MIGRATION, new Uint8Array(8));
    expect(f.ioctl(VFIO_DEVICE_FEATURE, arg)).toBe(neg('ENOTTY'));
  });
});

describe('across the designs', () => {
  it('a VF on mnic_vfio_pci (host0) moves to a SIOV function on vfio_mnic_aux (host1): same firmware image', () => {
    const lab = Lab.default();
    const [h0, h1] = [lab.host('host0'), lab.host('host1')];
    const a = toVfio(h0, 'vf', SRC_MAC);
    const b = toVfio(h1, 'siov', DST_MAC);
    const [fa, fb] = [openVfio(h0, a), openVfio(h1, b)];
    enableDevice(fa);
    enableDevice(fb);
    expect(drive(h0, fa, pattern(9))).toBe(0);
    const before = fnBytes(hwFn(h0, a));
    const sc = setMigState(fa, M.STOP_COPY);
    const image = readAll(streamOf(fa, sc.fd));
    const res = setMigState(fb, M.RESUMING);
    streamOf(fb, res.fd).write(image);
    expect(setMigState(fb, M.RUNNING).rc).toBe(0);
    expect(fnBytes(hwFn(h1, b))).toEqual(before);
  });
});
