/**
 * SparseMemory (src/hw/memory/sparse-memory.ts): untouched memory reads zero without becoming resident,
 * writes and reads cross pages, addresses far above 4 GiB work, little-endian scalars match hand-written
 * bytes, and the CPU dirty log records CPU writes only.
 */
import { describe, expect, it } from 'vitest';
import { type Gpa, gpa, type Hpa, hpa, SparseMemory } from '../../src/hw/memory/index.js';
import { expectErrno, expectLabCode } from './support.js';

const KiB = 1024;
const GiB = 2 ** 30;

function resident(m: SparseMemory<Hpa> | SparseMemory<Gpa>): Array<[bigint, number]> {
  const out: Array<[bigint, number]> = [];
  m.forEachResidentPage((addr, bytes) => {
    out.push([addr, bytes.length]);
  });
  return out;
}

describe('untouched memory', () => {
  it('reads zeros and allocates nothing', () => {
    const m = new SparseMemory({ sizeBytes: 4 * GiB });
    expect(m.read(hpa(0x1234), 100)).toEqual(new Uint8Array(100));
    expect(m.read(hpa(0xfff0), 64)).toEqual(new Uint8Array(64));
    expect(m.readU8(hpa(7))).toBe(0);
    expect(m.readU16(hpa(0x1fff))).toBe(0);
    expect(m.readU32(hpa(0x3ffe))).toBe(0);
    expect(m.readU64(hpa(0x5ffc))).toBe(0n);
    expect(m.residentPages).toBe(0);
    expect(resident(m)).toEqual([]);
  });

  it('a write makes exactly the touched pages resident; neighbours still read zero', () => {
    const m = new SparseMemory({ sizeBytes: 4 * GiB });
    m.writeU8(hpa(0x2005), 0xaa);
    expect(m.residentPages).toBe(1);
    expect(m.read(hpa(0x1000), 16)).toEqual(new Uint8Array(16));
    expect(m.readU8(hpa(0x2005))).toBe(0xaa);
    expect(m.readU8(hpa(0x2004))).toBe(0);
    expect(m.residentPages).toBe(1);
  });
});

describe('ranges across pages', () => {
  it('a 10-byte write at 0xffb lands in two pages and reads back in one call', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    m.write(hpa(0xffb), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    expect(m.residentPages).toBe(2);
    // 0xff8..0x1007: three zero bytes, the ten written, three zero bytes.
    expect(m.read(hpa(0xff8), 16)).toEqual(Uint8Array.of(0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0));
    expect(m.readU8(hpa(0xfff))).toBe(5);
    expect(m.readU8(hpa(0x1000))).toBe(6);
  });

  it('a write spanning three pages, read back piecewise and whole', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    const data = new Uint8Array(2 * 4096 + 100);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    m.write(hpa(0x3000 - 50), data);
    expect(m.residentPages).toBe(4); // pages 2, 3, 4 and 5 (0x2fce..0x5031)
    expect(m.read(hpa(0x3000 - 50), data.length)).toEqual(data);
    const middle = new Uint8Array(4096);
    m.readInto(hpa(0x3000), middle);
    expect(middle).toEqual(data.subarray(50, 50 + 4096));
  });

  it('readInto of an untouched range overwrites stale bytes in the buffer with zeros', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    m.writeU8(hpa(0x1000), 0x11);
    const buf = new Uint8Array(8).fill(0xee);
    m.readInto(hpa(0xffc), buf);
    expect(buf).toEqual(Uint8Array.of(0, 0, 0, 0, 0x11, 0, 0, 0));
  });
});

describe('huge addresses', () => {
  it('a 2^52-byte memory takes writes at 2^40 and at its last bytes', () => {
    const m = new SparseMemory({ sizeBytes: 2n ** 52n });
    const at40 = hpa(2n ** 40n + 0x10n);
    m.write(at40, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    m.writeU32(hpa(2n ** 52n - 4n), 0x01020304);
    expect(m.read(at40, 4)).toEqual(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    expect(m.read(hpa(2n ** 52n - 4n), 4)).toEqual(Uint8Array.of(4, 3, 2, 1));
    expect(m.residentPages).toBe(2);
    expect(resident(m)).toEqual([
      [2n ** 40n, 4096],
      [2n ** 52n - 4096n, 4096],
    ]);
    // One past the end is outside memory.
    expectErrno(() => m.read(hpa(2n ** 52n - 4n), 5), 'EFAULT');
  });

  it('addresses at 2^52 or above are refused by the brand', () => {
    expectLabCode(() => hpa(2n ** 52n), 'bad-input');
    expectLabCode(() => gpa(-1), 'bad-input');
    expectLabCode(() => hpa(0.5), 'bad-input');
    expect(hpa(2 ** 52 - 1)).toBe(2n ** 52n - 1n);
  });
});

describe('little-endian scalars', () => {
  it('write and read u16/u32/u64 as hand-written bytes', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    m.writeU16(hpa(0x100), 0xbeef);
    m.writeU32(hpa(0x110), 0x11223344);
    m.writeU64(hpa(0x120), 0x0102030405060708n);
    expect(m.read(hpa(0x100), 2)).toEqual(Uint8Array.of(0xef, 0xbe));
    expect(m.read(hpa(0x110), 4)).toEqual(Uint8Array.of(0x44, 0x33, 0x22, 0x11));
    expect(m.read(hpa(0x120), 8)).toEqual(Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1));
    m.write(hpa(0x200), Uint8Array.of(0x78, 0x56, 0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a));
    expect(m.readU8(hpa(0x200))).toBe(0x78);
    expect(m.readU16(hpa(0x200))).toBe(0x5678);
    expect(m.readU32(hpa(0x200))).toBe(0x12345678);
    expect(m.readU32(hpa(0x204))).toBe(0x9abcdef0);
    expect(m.readU64(hpa(0x200))).toBe(0x9abcdef012345678n);
  });

  it('scalars straddling a page boundary', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    m.writeU64(hpa(0x1ffc), 0xaabbccdd_11223344n);
    expect(m.residentPages).toBe(2);
    expect(m.read(hpa(0x1ffc), 8)).toEqual(Uint8Array.of(0x44, 0x33, 0x22, 0x11, 0xdd, 0xcc, 0xbb, 0xaa));
    expect(m.readU32(hpa(0x1ffe))).toBe(0xccdd1122);
    m.writeU16(hpa(0x2fff), 0x0102);
    expect(m.readU8(hpa(0x2fff))).toBe(0x02);
    expect(m.readU8(hpa(0x3000))).toBe(0x01);
  });

  it('values are cut to the width; u64 wraps modulo 2^64', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    m.writeU16(hpa(0x10), 0x12345);
    m.writeU8(hpa(0x20), 0x1ff);
    m.writeU64(hpa(0x30), -1n);
    expect(m.readU16(hpa(0x10))).toBe(0x2345);
    expect(m.readU8(hpa(0x20))).toBe(0xff);
    expect(m.read(hpa(0x30), 8)).toEqual(new Uint8Array(8).fill(0xff));
  });
});

describe('bounds and sizes', () => {
  it('any access past the end is EFAULT and changes nothing', () => {
    const m = new SparseMemory({ sizeBytes: 6000 });
    expectErrno(() => m.write(hpa(5990), new Uint8Array(11)), 'EFAULT');
    expectErrno(() => m.writeU32(hpa(5998), 1), 'EFAULT');
    expectErrno(() => m.readU64(hpa(5996)), 'EFAULT');
    expect(m.residentPages).toBe(0);
    m.write(hpa(5990), new Uint8Array(10).fill(1));
    expect(m.residentPages).toBe(1);
  });

  it('sizes outside 1..2^52 are refused', () => {
    expectLabCode(() => new SparseMemory({ sizeBytes: 0 }), 'bad-input');
    expectLabCode(() => new SparseMemory({ sizeBytes: 2n ** 52n + 1n }), 'bad-input');
  });
});

describe('resident pages', () => {
  it('are visited in ascending order whatever the write order; the last page is cut at the end', () => {
    const m = new SparseMemory<Gpa>({ sizeBytes: 6000 + 8 * 4096 });
    const top = 8 * 4096 + 5000;
    m.writeU8(gpa(top), 9);
    m.writeU8(gpa(3 * 4096), 3);
    m.writeU8(gpa(0), 1);
    m.writeU8(gpa(3 * 4096 + 1), 4);
    const seen: Array<[bigint, number, number]> = [];
    m.forEachResidentPage((addr, bytes) => {
      seen.push([addr, bytes.length, bytes.reduce((s, b) => s + b, 0)]);
    });
    expect(seen).toEqual([
      [0n, 4096, 1],
      [3n * 4096n, 4096, 7],
      [8n * 4096n + 4096n, 6000 - 4096, 9],
    ]);
    expect(m.residentPages).toBe(3);
  });
});

describe('CPU dirty log', () => {
  it('is off until started; reading it then is an invalid-state error', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    expect(m.dirtyLogActive).toBe(false);
    expectLabCode(() => m.readAndClearDirtyPages(), 'invalid-state');
  });

  it('records pages of CPU writes, not DMA writes; read-and-clear empties it', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    m.writeU8(hpa(0x5000), 1); // before the log starts: not recorded
    m.startDirtyLog();
    m.write(hpa(0x3ffe), Uint8Array.of(1, 2, 3, 4)); // pages 3 and 4
    m.writeU32(hpa(0x1000), 7, 'cpu');
    m.write(hpa(0x8000), Uint8Array.of(1), 'dma');
    m.writeU64(hpa(0x9000), 1n, 'dma');
    expect(m.readAndClearDirtyPages()).toEqual([0x1000n, 0x3000n, 0x4000n]);
    expect(m.readAndClearDirtyPages()).toEqual([]);
    m.writeU16(hpa(0xa000), 1);
    m.read(hpa(0xb000), 16); // reads never dirty
    expect(m.readAndClearDirtyPages()).toEqual([0xa000n]);
  });

  it('starting again empties the log; stopping drops it', () => {
    const m = new SparseMemory({ sizeBytes: 64 * KiB });
    m.startDirtyLog();
    m.writeU8(hpa(0x2000), 1);
    m.startDirtyLog();
    expect(m.readAndClearDirtyPages()).toEqual([]);
    m.writeU8(hpa(0x2000), 1);
    m.stopDirtyLog();
    m.writeU8(hpa(0x3000), 1);
    m.startDirtyLog();
    expect(m.readAndClearDirtyPages()).toEqual([]);
  });
});
