/**
 * The saved function state (SAVE/LOAD_VHCA_STATE): the image layout read back by hand (magic "MNVS",
 * version 1, sizes, CRC-32 as zlib computes it), a round trip between two SIOV functions, the
 * migration-state rules, every kind of hostile image refused with the function left exactly as it
 * was, and random bytes never accepted nor thrown on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseVhcaState } from '../../src/hw/index.js';
import { fnInput, fromHex, pfWindow, type Rig, raw, rig, siovWindow, type Window } from './rig.js';

const BUF = 0x80_0000n;
const IMAGE_BYTES = 4192;

/** CRC-32 (reflected 0xEDB88320), bit by bit: an oracle independent of the table-driven one. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const le32 = (n: number): string => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return Buffer.from(b).toString('hex');
};

/** Two migratable SIOV functions (fnIds 0x10000, 0x10001), both enabled. */
function two(): { r: Rig; w: Window } {
  const r = rig();
  const w = pfWindow(r);
  for (let i = 0; i < 2; i++)
    expect(raw(w, fromHex('2201 0000 00000000 01000000 00000000'), 32).status).toBe(0);
  for (const id of ['00000100', '01000100']) {
    expect(raw(w, fromHex(`3201 0000 00000000 ${id} 03000000 03000000 00000000`), 8).status).toBe(0);
    expect(raw(w, fromHex(`0401 0000 00000000 ${id} 00000000`), 8).status).toBe(0);
  }
  return { r, w };
}

const suspend = (w: Window, fnId: number): void => {
  expect(raw(w, fnInput(0x140, fnId, 0), 8).status).toBe(0);
  expect(raw(w, fnInput(0x140, fnId, 1), 8).status).toBe(0);
};
const save = (w: Window, fnId: number, opMod: number) =>
  raw(
    w,
    fromHex(`4301 ${opMod === 0 ? '0000' : '0100'} 00000000 ${le32(fnId)} ${le32(8192)} 0000800000000000`),
    16,
  );
const load = (r: Rig, w: Window, fnId: number, image: Uint8Array) => {
  r.memory.write(BUF as never, image, 'cpu');
  return raw(w, fromHex(`4401 0000 00000000 ${le32(fnId)} ${le32(image.length)} 0000800000000000`), 8);
};
/** What a function looks like from outside: MAC, caps, first context bytes. */
const look = (_r: Rig, w: Window, fnId: number, win: Window) => ({
  mac: Buffer.from(raw(w, fnInput(0x131, fnId), 16).inline.subarray(8, 14)).toString('hex'),
  caps: raw(w, fnInput(0x133, fnId), 16).inline[8],
  ctx: win.read(0x1000),
});

describe('saved function state', () => {
  it('has the documented layout and round-trips to another function', () => {
    const { r, w } = two();
    expect(raw(w, fromHex('3001 0000 00000000 00000100 00000000 020000000042 0000'), 8).status).toBe(0);
    siovWindow(r, 0).write(0x1000, 0xdeadbeef);
    suspend(w, 0x10000);
    const out = save(w, 0x10000, 0);
    expect(out.status).toBe(0);
    expect(new DataView(out.inline.buffer).getUint32(8, true)).toBe(IMAGE_BYTES);
    const image = r.memory.read(BUF as never, IMAGE_BYTES);
    const payload = image.subarray(32);
    // magic, version 1, header 32, payload 4160, CRC, flags final, kind SIOV (3), reserved.
    expect(Buffer.from(image.subarray(0, 32)).toString('hex')).toBe(
      `4d4e5653 0100 2000 ${le32(4160)} ${le32(crc32(payload))} 01000000 03000000 0000000000000000`.replace(
        / /g,
        '',
      ),
    );
    // MAC, reserved, caps (roce | migratable), context size 4096.
    expect(Buffer.from(payload.subarray(0, 16)).toString('hex')).toBe(
      '0200000000420000 03000000 00100000'.replace(/ /g, ''),
    );
    expect(payload.subarray(64, 68)).toEqual(Uint8Array.of(0xef, 0xbe, 0xad, 0xde));
    // Saving changed nothing: a second image is identical.
    save(w, 0x10000, 0);
    expect(r.memory.read(BUF as never, IMAGE_BYTES)).toEqual(image);
    suspend(w, 0x10001);
    expect(load(r, w, 0x10001, image).status).toBe(0);
    expect(look(r, w, 0x10001, siovWindow(r, 1))).toEqual({ mac: '020000000042', caps: 3, ctx: 0xdeadbeef });
  });

  it('rules: FINAL needs SUSPENDED, PRECOPY needs not SUSPENDED, LOAD needs SUSPENDED, small buffer BAD_SIZE', () => {
    const { r, w } = two();
    expect([save(w, 0x10000, 0).status, save(w, 0x10000, 0).syndrome]).toEqual([0x09, 0x07]);
    expect(save(w, 0x10000, 1).status).toBe(0);
    const image = r.memory.read(BUF as never, IMAGE_BYTES);
    expect(image[16]).toBe(0); // not final
    expect(load(r, w, 0x10001, image).status).toBe(0x09);
    suspend(w, 0x10000);
    expect(save(w, 0x10000, 1).status).toBe(0x09);
    const small = raw(w, fromHex(`4301 0000 00000000 00000100 ${le32(100)} 0000800000000000`), 16);
    expect([small.status, small.syndrome]).toEqual([0x40, 0x12]);
    const badMod = raw(w, fromHex(`4301 0500 00000000 00000100 ${le32(8192)} 0000800000000000`), 16);
    expect(badMod.status).toBe(0x03);
    // Resume out of order is refused: the initiator cannot resume while the responder is suspended.
    expect(raw(w, fnInput(0x141, 0x10000, 0), 8).status).toBe(0x09);
    expect(raw(w, fnInput(0x141, 0x10000, 1), 8).status).toBe(0);
    expect(raw(w, fnInput(0x141, 0x10000, 0), 8).status).toBe(0);
  });

  it('hostile images are BAD_PARAM with the failing check as syndrome, the function unchanged', () => {
    const { r, w } = two();
    suspend(w, 0x10000);
    save(w, 0x10000, 0);
    const good = r.memory.read(BUF as never, IMAGE_BYTES);
    suspend(w, 0x10001);
    siovWindow(r, 1).write(0x1000, 0x5555);
    const before = look(r, w, 0x10001, siovWindow(r, 1));
    const refix = (b: Uint8Array): Uint8Array => {
      new DataView(b.buffer).setUint32(12, crc32(b.subarray(32)), true);
      return b;
    };
    const poke =
      (at: number, value: number, fixCrc = false) =>
      (b: Uint8Array): Uint8Array => {
        b[at] = value;
        return fixCrc ? refix(b) : b;
      };
    const cases: Array<[string, (b: Uint8Array) => Uint8Array, number]> = [
      ['magic', poke(0, 0), 0x14],
      ['version 2', poke(4, 2), 0x15],
      ['header size', poke(6, 16), 0x16],
      ['payload size', poke(8, 0), 0x16],
      ['truncated', (b) => b.subarray(0, 100), 0x16],
      ['too long', (b) => Uint8Array.from([...b, 0]), 0x16],
      ['unknown flag', poke(16, 0x81), 0x18],
      ['kind 9', poke(20, 9), 0x18],
      ['reserved header byte', poke(30, 1), 0x1c],
      ['payload bit flip', poke(32 + 70, good[32 + 70]! ^ 1), 0x17],
      ['reserved payload byte', poke(32 + 6, 1, true), 0x1c],
      ['unknown caps bit', poke(32 + 8, 0x83, true), 0x11],
      ['context size', poke(32 + 13, 0, true), 0x18],
      ['multicast MAC', poke(32, 0x01, true), 0x10],
    ];
    for (const [name, hostile, syndrome] of cases) {
      const res = load(r, w, 0x10001, hostile(good.slice()));
      expect([name, res.status, res.syndrome]).toEqual([name, 0x03, syndrome]);
      expect(look(r, w, 0x10001, siovWindow(r, 1))).toEqual(before);
    }
    const huge = raw(w, fromHex(`4401 0000 00000000 01000100 ${le32(1 << 20)} 0000800000000000`), 8);
    expect(huge.status).toBe(0x40);
  });

  it('random bytes are never accepted and never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
        expect(parseVhcaState(bytes).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    // Nor random mutations of a valid image's header (but the final flag and the kind, which may
    // legitimately take other values).
    const { r, w } = two();
    suspend(w, 0x10000);
    save(w, 0x10000, 0);
    const good = r.memory.read(BUF as never, IMAGE_BYTES);
    expect(parseVhcaState(good).ok).toBe(true);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 31 }).filter((at) => at !== 16 && at !== 20),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          const b = good.slice();
          b[at]! ^= x;
          expect(parseVhcaState(b).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
