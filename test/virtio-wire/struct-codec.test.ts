/**
 * The describe-once struct codec (src/base/struct-codec.ts): a hand-assembled vector for a struct
 * that uses every field type, layout checks at definition time, value checks at encode time, short
 * and long buffers in both decode modes, and properties (round trips over random values and random
 * layouts, zero-fill = decode of the zero-padded buffer, re-encode = input with reserved bytes zeroed).
 *
 * base/index.ts is imported before spec/index.ts on purpose: that order walks the base -> spec -> base
 * import cycle the codec's load-order note describes, and must still define every descriptor.
 */
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  arrayField,
  bytesField,
  decodeStruct,
  decodeStructArray,
  defineStruct,
  encodeStruct,
  encodeStructArray,
  type Field,
  isLabError,
  type LabError,
  le16Field,
  le32Field,
  le64Field,
  nonZeroReserved,
  offsetOf,
  reservedField,
  structField,
  tailField,
  u8Field,
} from '../../src/base/index.js';
import { vadmin, virtio } from '../../src/spec/index.js';
import { arbitraryFor, cat } from './support.js';

const Inner = defineStruct('inner', 4, [le16Field('x', 0), u8Field('y', 2), reservedField('pad', 3, 1)]);
const Pair = defineStruct('pair', 4, [le16Field('p', 0), le16Field('q', 2)]);
const Sample = defineStruct('sample', 32, [
  u8Field('a', 0),
  reservedField('r0', 1, 1),
  le16Field('b', 2),
  le32Field('c', 4),
  le64Field('d', 8),
  bytesField('e', 16, 3),
  reservedField('r1', 19, 1),
  structField('inner', 20, Inner),
  arrayField('list', 24, Pair, 2),
]);
const WithTail = defineStruct('with_tail', 4, [
  le16Field('len', 0),
  reservedField('r', 2, 2),
  tailField('payload', 4),
]);

const SAMPLE_VALUE = {
  a: 0x12,
  b: 0x3456,
  c: 0x789abcde,
  d: 0x0102030405060708n,
  e: Uint8Array.of(0xaa, 0xbb, 0xcc),
  inner: { x: 0xbeef, y: 0x7f },
  list: [
    { p: 0x0001, q: 0x8000 },
    { p: 0xffff, q: 0x0000 },
  ],
};
const SAMPLE_BYTES = cat(
  [0x12], // a
  [0x00], // r0
  [0x56, 0x34], // b
  [0xde, 0xbc, 0x9a, 0x78], // c
  [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01], // d
  [0xaa, 0xbb, 0xcc], // e
  [0x00], // r1
  [0xef, 0xbe, 0x7f, 0x00], // inner: x, y, pad
  [0x01, 0x00, 0x00, 0x80], // list[0]
  [0xff, 0xff, 0x00, 0x00], // list[1]
);
/** Byte positions of Sample's reserved fields (r0, r1, inner.pad). */
const SAMPLE_RESERVED = [1, 19, 23];

function expectLabError(f: () => unknown, code: LabError['code']): void {
  try {
    f();
  } catch (e) {
    expect(isLabError(e)).toBe(true);
    expect((e as LabError).code).toBe(code);
    return;
  }
  expect.fail('expected a LabError');
}

describe('struct codec: hand vector', () => {
  it('encodes every field type little-endian at its offset', () => {
    expect(encodeStruct(Sample, SAMPLE_VALUE)).toEqual(SAMPLE_BYTES);
  });

  it('decodes the same vector to the same value, with typed fields', () => {
    const v = decodeStruct(Sample, SAMPLE_BYTES);
    expect(v).toEqual(SAMPLE_VALUE);
    expectTypeOf(v).toEqualTypeOf<{
      a: number;
      b: number;
      c: number;
      d: bigint;
      e: Uint8Array;
      inner: { x: number; y: number };
      list: { p: number; q: number }[];
    }>();
    expectTypeOf(decodeStruct(vadmin.VirtioAdminCmdHdr, new Uint8Array(24))).toEqualTypeOf<{
      opcode: number;
      groupType: number;
      groupMemberId: bigint;
    }>();
  });

  it('ignores reserved bytes when decoding, and reports them through nonZeroReserved', () => {
    const dirty = SAMPLE_BYTES.slice();
    for (const i of SAMPLE_RESERVED) dirty[i] = 0x5a;
    expect(decodeStruct(Sample, dirty)).toEqual(SAMPLE_VALUE);
    expect(nonZeroReserved(Sample, dirty)).toEqual(['r0', 'r1', 'inner.pad']);
    expect(nonZeroReserved(Sample, SAMPLE_BYTES)).toEqual([]);
  });

  it('names reserved bytes inside array elements', () => {
    const Padded = defineStruct('padded', 2, [u8Field('v', 0), reservedField('pad', 1, 1)]);
    const Arr = defineStruct('arr', 4, [arrayField('items', 0, Padded, 2)]);
    expect(nonZeroReserved(Arr, Uint8Array.of(1, 0, 2, 9))).toEqual(['items[1].pad']);
  });

  it('gives field offsets by name', () => {
    expect(offsetOf(Sample, 'd')).toBe(8);
    expect(offsetOf(Sample, 'list')).toBe(24);
    expect(offsetOf(virtio.VirtioPciCommonCfg, 'adminQueueNum')).toBe(62);
    expectLabError(() => offsetOf(Sample, 'nope' as 'a'), 'internal');
  });

  it('defines the spec descriptors even when base/ is loaded before spec/', () => {
    expect(vadmin.VirtioAdminCmdHdr.sizeBytes).toBe(24);
    expect(virtio.VirtioPciCap.sizeBytes).toBe(16);
  });
});

describe('struct codec: short and long buffers', () => {
  it('throws bad-input on a short buffer by default and with missing: error', () => {
    expectLabError(() => decodeStruct(Sample, SAMPLE_BYTES.subarray(0, 31)), 'bad-input');
    expectLabError(() => decodeStruct(Sample, new Uint8Array(0), { missing: 'error' }), 'bad-input');
  });

  it('reads missing bytes as zero with missing: zero, also inside a field', () => {
    // 9 bytes: a, r0, b, c and the low byte of d.
    const v = decodeStruct(Sample, SAMPLE_BYTES.subarray(0, 9), { missing: 'zero' });
    expect(v).toEqual({
      a: 0x12,
      b: 0x3456,
      c: 0x789abcde,
      d: 0x08n,
      e: new Uint8Array(3),
      inner: { x: 0, y: 0 },
      list: [
        { p: 0, q: 0 },
        { p: 0, q: 0 },
      ],
    });
  });

  it('ignores bytes past the struct', () => {
    const long = cat([...SAMPLE_BYTES], [0xff, 0xee, 0xdd]);
    expect(decodeStruct(Sample, long)).toEqual(SAMPLE_VALUE);
  });

  it('gives bytes past the fixed part to the tail, and appends the tail when encoding', () => {
    const bytes = Uint8Array.of(0x03, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63);
    const v = decodeStruct(WithTail, bytes);
    expect(v).toEqual({ len: 3, payload: Uint8Array.of(0x61, 0x62, 0x63) });
    expect(encodeStruct(WithTail, v)).toEqual(bytes);
    expect(decodeStruct(WithTail, Uint8Array.of(0x05), { missing: 'zero' })).toEqual({
      len: 5,
      payload: new Uint8Array(0),
    });
  });

  it('copies decoded bytes, so later writes to the input do not change the value', () => {
    const bytes = SAMPLE_BYTES.slice();
    const v = decodeStruct(Sample, bytes);
    bytes[16] = 0;
    expect(v.e[0]).toBe(0xaa);
  });

  it('encodes and decodes arrays of structs; a partial last element is an error or zero-filled', () => {
    const bytes = Uint8Array.of(0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00);
    const pairs = [
      { p: 1, q: 2 },
      { p: 3, q: 4 },
    ];
    expect(encodeStructArray(Pair, pairs)).toEqual(bytes);
    expect(decodeStructArray(Pair, bytes)).toEqual(pairs);
    expect(decodeStructArray(Pair, new Uint8Array(0))).toEqual([]);
    expectLabError(() => decodeStructArray(Pair, bytes.subarray(0, 5)), 'bad-input');
    expect(decodeStructArray(Pair, bytes.subarray(0, 5), { missing: 'zero' })).toEqual([
      { p: 1, q: 2 },
      { p: 3, q: 0 },
    ]);
    expectLabError(() => decodeStructArray(WithTail, bytes), 'internal');
  });
});

describe('struct codec: layout checks', () => {
  const cases: ReadonlyArray<readonly [string, () => unknown]> = [
    ['a gap', () => defineStruct('gap', 4, [u8Field('a', 0), le16Field('b', 2)])],
    ['an overlap', () => defineStruct('overlap', 3, [le16Field('a', 0), u8Field('b', 1)])],
    ['a size larger than the fields', () => defineStruct('short', 4, [le16Field('a', 0)])],
    ['a size smaller than the fields', () => defineStruct('long', 1, [le16Field('a', 0)])],
    ['a duplicate name', () => defineStruct('dup', 2, [u8Field('a', 0), u8Field('a', 1)])],
    ['a field after the tail', () => defineStruct('t', 0, [tailField('t', 0), u8Field('a', 0)])],
    ['a nested struct with a tail', () => defineStruct('n', 4, [structField('w', 0, WithTail)])],
    ['an array of structs with a tail', () => defineStruct('n', 4, [arrayField('w', 0, WithTail, 1)])],
    ['an empty array', () => defineStruct('n', 0, [arrayField('w', 0, Pair, 0)])],
    ['zero-sized bytes', () => defineStruct('n', 0, [bytesField('b', 0, 0)])],
    ['fractional reserved', () => defineStruct('n', 1.5, [reservedField('r', 0, 1.5)])],
  ];
  it.each(cases)('rejects %s', (_what, define) => {
    expectLabError(define, 'internal');
  });

  it('accepts an empty struct, which encodes to no bytes', () => {
    const Empty = defineStruct('empty', 0, []);
    expect(encodeStruct(Empty, {})).toEqual(new Uint8Array(0));
    expect(decodeStruct(Empty, new Uint8Array(0))).toEqual({});
  });
});

describe('struct codec: value checks when encoding', () => {
  const bad: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ['u8 above 0xff', { a: 0x100 }],
    ['negative u8', { a: -1 }],
    ['fractional le16', { b: 1.5 }],
    ['le16 above 0xffff', { b: 0x10000 }],
    ['le32 above 0xffffffff', { c: 0x100000000 }],
    ['le32 given as bigint', { c: 1n }],
    ['negative le64', { d: -1n }],
    ['le64 at 2^64', { d: 1n << 64n }],
    ['le64 given as number', { d: 1 }],
    ['bytes of the wrong length', { e: Uint8Array.of(1, 2) }],
    ['bytes as a plain array', { e: [1, 2, 3] }],
    ['a missing field', { a: undefined }],
    ['an array with too few elements', { list: [{ p: 0, q: 0 }] }],
    ['a nested struct that is not an object', { inner: 7 }],
  ];
  it.each(bad)('rejects %s with bad-input', (_what, patch) => {
    const value = { ...SAMPLE_VALUE, ...patch } as unknown as typeof SAMPLE_VALUE;
    expectLabError(() => encodeStruct(Sample, value), 'bad-input');
  });

  it('rejects a tail that is not bytes', () => {
    expectLabError(
      () => encodeStruct(WithTail, { len: 0, payload: 'x' as unknown as Uint8Array }),
      'bad-input',
    );
  });
});

type LayoutItem =
  | { readonly kind: 'u8' | 'le16' | 'le32' | 'le64' }
  | { readonly kind: 'bytes' | 'reserved'; readonly sizeBytes: number };

const WIDTH = { u8: 1, le16: 2, le32: 4, le64: 8 } as const;

/** A descriptor from a random list of field kinds, each placed where the previous one ends. */
function layoutFrom(items: readonly LayoutItem[], withTail: boolean) {
  const fields: Field[] = [];
  let at = 0;
  items.forEach((item, i) => {
    const name = `f${i}`;
    switch (item.kind) {
      case 'u8':
        fields.push(u8Field(name, at));
        break;
      case 'le16':
        fields.push(le16Field(name, at));
        break;
      case 'le32':
        fields.push(le32Field(name, at));
        break;
      case 'le64':
        fields.push(le64Field(name, at));
        break;
      case 'bytes':
        fields.push(bytesField(name, at, item.sizeBytes));
        break;
      case 'reserved':
        fields.push(reservedField(name, at, item.sizeBytes));
        break;
    }
    at += item.kind === 'bytes' || item.kind === 'reserved' ? item.sizeBytes : WIDTH[item.kind];
  });
  if (withTail) fields.push(tailField('tail', at));
  return defineStruct('random', at, fields);
}

const layoutItem: fc.Arbitrary<LayoutItem> = fc.oneof(
  fc.record({ kind: fc.constantFrom('u8' as const, 'le16' as const, 'le32' as const, 'le64' as const) }),
  fc.record({
    kind: fc.constantFrom('bytes' as const, 'reserved' as const),
    sizeBytes: fc.integer({ min: 1, max: 9 }),
  }),
);

describe('struct codec: properties', () => {
  it('decode(encode(x)) == x for random values of a struct with every field type', () => {
    fc.assert(
      fc.property(arbitraryFor(Sample), (x) => {
        expect(decodeStruct(Sample, encodeStruct(Sample, x))).toEqual(x);
      }),
    );
  });

  it('decode(encode(x)) == x for random layouts and values, and the size is the layout plus the tail', () => {
    const layouts = fc.record({ items: fc.array(layoutItem, { maxLength: 12 }), withTail: fc.boolean() });
    fc.assert(
      fc.property(
        layouts.chain(({ items, withTail }) => {
          const desc = layoutFrom(items, withTail);
          return fc.tuple(fc.constant(desc), arbitraryFor(desc));
        }),
        ([desc, x]) => {
          const bytes = encodeStruct(desc, x);
          const tail = (x as Record<string, unknown>)['tail'];
          expect(bytes.length).toBe(desc.sizeBytes + (tail instanceof Uint8Array ? tail.length : 0));
          expect(decodeStruct(desc, bytes)).toEqual(x);
        },
      ),
    );
  });

  it('a short buffer with missing: zero decodes like the buffer padded with zeros', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: Sample.sizeBytes }), (bytes) => {
        const padded = new Uint8Array(Sample.sizeBytes);
        padded.set(bytes);
        expect(decodeStruct(Sample, bytes, { missing: 'zero' })).toEqual(decodeStruct(Sample, padded));
        if (bytes.length < Sample.sizeBytes) {
          expectLabError(() => decodeStruct(Sample, bytes), 'bad-input');
        }
      }),
    );
  });

  it('encode(decode(b)) == b with the reserved bytes zeroed, and bytes past the struct dropped', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: Sample.sizeBytes, maxLength: Sample.sizeBytes + 8 }),
        (bytes) => {
          const expected = bytes.slice(0, Sample.sizeBytes);
          for (const i of SAMPLE_RESERVED) expected[i] = 0;
          expect(encodeStruct(Sample, decodeStruct(Sample, bytes))).toEqual(expected);
        },
      ),
    );
  });
});
