/**
 * Register attributes of a bare ConfigSpace (PCIe Base 7.4): RO bits never change on a requester write,
 * RW bits take the written value, RW1C bits clear where a one is written and are never set by a write,
 * reads have no side effects. The oracle works bit by bit on plain arrays, not with the
 * implementation's masking expression.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigSpace } from '../../src/hw/index.js';

const SIZE = 4096;

interface Access {
  readonly offset: number;
  readonly width: 1 | 2 | 4;
  readonly value: number;
}

const widthArb = fc.constantFrom<1 | 2 | 4>(1, 2, 4);
const accessArb = (size: number): fc.Arbitrary<Access> =>
  widthArb.chain((width) =>
    fc.record({
      offset: fc.nat({ max: size / width - 1 }).map((n) => n * width),
      width: fc.constant(width),
      value: fc.nat({ max: 0xffffffff }),
    }),
  );

/** A region of a few registers with random contents, RW bits and RW1C bits (disjoint from RW). */
interface Layout {
  readonly base: number;
  readonly contents: number[];
  readonly writable: number[];
  readonly rw1c: number[];
}

const REGION_BYTES = 64;
const byteArb = fc.nat({ max: 0xff });
const layoutArb: fc.Arbitrary<Layout> = fc
  .record({
    base: fc.nat({ max: SIZE / REGION_BYTES - 1 }).map((n) => n * REGION_BYTES),
    contents: fc.array(byteArb, { minLength: REGION_BYTES, maxLength: REGION_BYTES }),
    writable: fc.array(byteArb, { minLength: REGION_BYTES, maxLength: REGION_BYTES }),
    rw1cRaw: fc.array(byteArb, { minLength: REGION_BYTES, maxLength: REGION_BYTES }),
  })
  .map(({ base, contents, writable, rw1cRaw }) => ({
    base,
    contents,
    writable,
    rw1c: rw1cRaw.map((c, i) => c & ~writable[i]! & 0xff),
  }));

/** Accesses concentrated on the region (so masks matter), plus some anywhere in the space. */
const accessesArb = (layout: Layout): fc.Arbitrary<Access[]> =>
  fc.array(
    fc.oneof(
      accessArb(REGION_BYTES).map((a) => ({ ...a, offset: layout.base + a.offset })),
      accessArb(SIZE),
    ),
    { minLength: 1, maxLength: 40 },
  );

function build(layout: Layout): ConfigSpace {
  const cs = new ConfigSpace(SIZE);
  for (let i = 0; i < REGION_BYTES; i++) {
    cs.set(layout.base + i, 1, layout.contents[i]!);
    cs.setWritable(layout.base + i, 1, layout.writable[i]!);
    cs.setRw1c(layout.base + i, 1, layout.rw1c[i]!);
  }
  return cs;
}

/** The byte `i` of a little-endian access value. */
const byteOf = (value: number, i: number): number => Math.floor(value / 2 ** (8 * i)) % 256;

describe('ConfigSpace register attributes (property)', () => {
  it('RO bits keep their value, RW bits take the written value, RW1C bits only clear', () => {
    fc.assert(
      fc.property(
        layoutArb.chain((layout) => fc.tuple(fc.constant(layout), accessesArb(layout))),
        ([layout, accesses]) => {
          const cs = build(layout);
          // The oracle: every byte of the space, plain numbers, updated bit by bit.
          const expected = new Array<number>(SIZE).fill(0);
          const rw = new Array<number>(SIZE).fill(0);
          const w1c = new Array<number>(SIZE).fill(0);
          for (let i = 0; i < REGION_BYTES; i++) {
            expected[layout.base + i] = layout.contents[i]!;
            rw[layout.base + i] = layout.writable[i]!;
            w1c[layout.base + i] = layout.rw1c[i]!;
          }
          for (const a of accesses) {
            const before = cs.snapshot();
            cs.write(a.offset, a.width, a.value);
            const after = cs.snapshot();
            for (let i = 0; i < a.width; i++) {
              const at = a.offset + i;
              const written = byteOf(a.value, i);
              let next = 0;
              for (let bit = 0; bit < 8; bit++) {
                const m = 1 << bit;
                const old = expected[at]! & m;
                let now: number;
                if (rw[at]! & m) now = written & m;
                else if (w1c[at]! & m) now = written & m ? 0 : old;
                else now = old;
                next |= now;
              }
              expected[at] = next;
              // Direct statements of the three rules for this byte.
              const roMask = ~(rw[at]! | w1c[at]!) & 0xff;
              expect((after[at]! ^ before[at]!) & roMask).toBe(0);
              expect(after[at]! & w1c[at]! & ~before[at]!).toBe(0); // never set by a write
              expect(after[at]! & w1c[at]! & written).toBe(0); // a written one clears
            }
            // Bytes outside the access never change.
            for (let at = 0; at < SIZE; at++) {
              if (at < a.offset || at >= a.offset + a.width) {
                if (after[at] !== before[at]) expect.fail(`byte 0x${at.toString(16)} changed`);
              }
            }
          }
          const final = cs.snapshot();
          for (let at = 0; at < SIZE; at++) {
            if (final[at] !== expected[at]) {
              expect.fail(
                `byte 0x${at.toString(16)}: 0x${final[at]!.toString(16)} != 0x${expected[at]!.toString(16)}`,
              );
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads are pure: any sequence of reads leaves every byte and every later read unchanged', () => {
    fc.assert(
      fc.property(
        layoutArb,
        fc.array(
          widthArb.chain((width) =>
            fc.record({
              offset: fc.nat({ max: SIZE / width - 1 }).map((n) => n * width),
              width: fc.constant(width),
            }),
          ),
          { minLength: 1, maxLength: 50 },
        ),
        (layout, reads) => {
          const cs = build(layout);
          const before = cs.snapshot();
          const first = reads.map((r) => cs.read(r.offset, r.width));
          const second = reads.map((r) => cs.read(r.offset, r.width));
          expect(second).toEqual(first);
          expect(cs.snapshot()).toEqual(before);
          // A read returns the little-endian bytes at the offset.
          reads.forEach((r, k) => {
            let v = 0;
            for (let i = r.width - 1; i >= 0; i--) v = v * 256 + before[r.offset + i]!;
            expect(first[k]).toBe(v);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a hook sees the raw written value, runs only for overlapping writes, after the masked write', () => {
    const cs = new ConfigSpace(SIZE);
    cs.setWritable(0x44, 2, 0x00ff);
    const seen: Array<[number, number, number, number]> = [];
    cs.addHook({
      offset: 0x44,
      length: 2,
      onWrite: (offset, width, written) => seen.push([offset, width, written, cs.get(0x44, 2)]),
    });
    cs.write(0x40, 4, 0xffffffff); // 0x40..0x43: no overlap
    cs.write(0x46, 2, 0xffff); // 0x46..0x47: no overlap
    cs.write(0x44, 4, 0x1234abcd); // overlaps
    cs.write(0x45, 1, 0xff); // overlaps the high byte
    expect(seen).toEqual([
      [0x44, 4, 0x1234abcd, 0x00cd],
      [0x45, 1, 0xff, 0x00cd],
    ]);
  });

  it('rejects unaligned, odd-width and out-of-range accesses', () => {
    const cs = new ConfigSpace(SIZE);
    expect(() => cs.read(0x01, 2)).toThrow();
    expect(() => cs.read(0x02, 4)).toThrow();
    expect(() => cs.write(0x03, 2, 0)).toThrow();
    expect(() => cs.read(0x1000, 1)).toThrow();
    expect(() => cs.read(0xffc, 3 as 4)).toThrow();
    const small = new ConfigSpace(256);
    expect(() => small.read(0x100, 4)).toThrow();
    expect(small.read(0xfc, 4)).toBe(0);
    expect(() => new ConfigSpace(512)).toThrow();
  });

  it('resetToSealed returns bytes and masks to the sealed image', () => {
    const cs = new ConfigSpace(SIZE);
    expect(() => cs.resetToSealed()).toThrow();
    cs.set(0x10, 4, 0x0000000c);
    cs.setWritable(0x10, 4, 0xffffc000);
    cs.sealResetState();
    cs.write(0x10, 4, 0xdeadbeef);
    expect(cs.read(0x10, 4)).toBe(0xdead800c);
    cs.setWritable(0x10, 4, 0);
    cs.resetToSealed();
    expect(cs.read(0x10, 4)).toBe(0x0000000c);
    cs.write(0x10, 4, 0xffffffff);
    expect(cs.read(0x10, 4)).toBe(0xffffc00c);
  });
});
