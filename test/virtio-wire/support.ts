/**
 * Test helpers for the wire tests: byte-vector assembly from literal chunks (no codec involved) and
 * fast-check arbitraries that follow a struct descriptor's fields. The arbitraries read a descriptor
 * only to know which values are legal; the oracle of every property is plain equality.
 */
import fc from 'fast-check';
import type { Field, StructDesc } from '../../src/base/index.js';

/** Concatenate literal byte chunks into one vector. */
export function cat(...chunks: ReadonlyArray<readonly number[]>): Uint8Array {
  return Uint8Array.from(chunks.flat());
}

/** `n` zero bytes, for reserved fields written out in a vector. */
export function zeros(n: number): number[] {
  return Array.from({ length: n }, () => 0);
}

function arbitraryField(f: Field, maxTailBytes: number): fc.Arbitrary<unknown> | undefined {
  switch (f.kind) {
    case 'u8':
      return fc.integer({ min: 0, max: 0xff });
    case 'le16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'le32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'le64':
      return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    case 'bytes':
      return fc.uint8Array({ minLength: f.sizeBytes, maxLength: f.sizeBytes });
    case 'reserved':
      return undefined;
    case 'struct':
      return arbitraryFor(f.desc, maxTailBytes);
    case 'array':
      return fc.array(arbitraryFor(f.element, maxTailBytes), { minLength: f.count, maxLength: f.count });
    case 'tail':
      return fc.uint8Array({ maxLength: maxTailBytes });
  }
}

/** Random legal values of a descriptor's value type. */
export function arbitraryFor<T>(desc: StructDesc<T>, maxTailBytes = 40): fc.Arbitrary<T> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of desc.fields) {
    const a = arbitraryField(f, maxTailBytes);
    if (a !== undefined) model[f.name] = a;
  }
  return fc.record(model) as unknown as fc.Arbitrary<T>;
}
