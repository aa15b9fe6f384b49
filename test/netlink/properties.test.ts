/**
 * Properties: decode(encode(x)) = x for random nested attribute trees and random messages, and random
 * bytes make every decoder either succeed or throw LabError('bad-input'), never anything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../src/base/index.js';
import {
  CTRL_POLICY,
  decodeAttrs,
  decodeMessages,
  encodeAttrs,
  encodeMessages,
  fromNlMessage,
  handleCtrlRequest,
  type NlAttr,
  type NlPolicy,
  type NlPolicyEntry,
  parseAck,
  staticFamilyRegistry,
} from '../../src/kernel/netlink/index.js';

/** A tree of attributes with types 1..n per level, so the policy follows from the tree. */
const { tree } = fc.letrec<{ tree: NlAttr[]; attr: Omit<NlAttr, 'type'> }>((tie) => ({
  tree: fc
    .array(tie('attr'), { maxLength: 5 })
    .map((xs) => xs.map((x, i) => ({ ...x, type: i + 1 }) as NlAttr)),
  attr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('u8' as const), value: fc.nat(0xff), netByteorder: fc.boolean() }),
    fc.record({ kind: fc.constant('u16' as const), value: fc.nat(0xffff), netByteorder: fc.boolean() }),
    fc.record({ kind: fc.constant('u32' as const), value: fc.nat(0xffffffff), netByteorder: fc.boolean() }),
    fc.record({
      kind: fc.constant('u64' as const),
      value: fc.bigInt(0n, 2n ** 64n - 1n),
      netByteorder: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('string' as const),
      value: fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\0')),
    }),
    fc.record({ kind: fc.constant('binary' as const), value: fc.uint8Array({ maxLength: 12 }) }),
    fc.record({ kind: fc.constant('flag' as const) }),
    fc.record({ kind: fc.constant('nested' as const), attrs: tie('tree'), nestedFlag: fc.boolean() }),
  ),
})) as unknown as { tree: fc.Arbitrary<NlAttr[]> };

function policyOf(attrs: readonly NlAttr[]): NlPolicy {
  const p: Record<number, NlPolicyEntry> = {};
  for (const a of attrs)
    p[a.type] = a.kind === 'nested' ? { kind: 'nested', policy: policyOf(a.attrs) } : a.kind;
  return p;
}

function onlyBadInput(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof LabError) || e.code !== 'bad-input') throw e;
  }
}

describe('netlink codec properties', () => {
  it('decode(encode(tree)) = tree', () => {
    fc.assert(
      fc.property(tree, (attrs) => {
        expect(decodeAttrs(encodeAttrs(attrs), policyOf(attrs))).toEqual(attrs);
      }),
    );
  });

  it('messages round-trip through one buffer', () => {
    const msg = fc.record({
      type: fc.nat(0xffff),
      flags: fc.nat(0xffff),
      seq: fc.nat(0xffffffff),
      pid: fc.nat(0xffffffff),
      payload: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 4 }), (msgs) => {
        const back = decodeMessages(encodeMessages(msgs)).map(({ offset: _o, lenBytes: _l, ...m }) => m);
        expect(back).toEqual(msgs);
      }),
    );
  });

  it('random bytes never throw anything but LabError', () => {
    const registry = staticFamilyRegistry([
      { name: 'devlink', id: 0x14, version: 1, hdrSizeBytes: 0, maxAttr: 1, ops: [], mcastGroups: [] },
    ]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (raw) => {
        onlyBadInput(() => decodeAttrs(raw));
        onlyBadInput(() => decodeAttrs(raw, CTRL_POLICY));
        onlyBadInput(() => {
          for (const m of decodeMessages(raw)) {
            onlyBadInput(() => parseAck(m));
            onlyBadInput(() => fromNlMessage(m, CTRL_POLICY));
            onlyBadInput(() => handleCtrlRequest(registry, { ...m, type: 0x10 }, 1));
          }
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('random headers over a valid frame never throw anything but LabError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 60 }), fc.nat(0xffff), (payload, type) => {
        const wire = new Uint8Array(16 + payload.length);
        wire.set(Uint8Array.of((16 + payload.length) & 0xff, 0, 0, 0, type & 0xff, type >> 8));
        wire.set(payload, 16);
        onlyBadInput(() => handleCtrlRequest(staticFamilyRegistry([]), decodeMessages(wire)[0]!, 1));
      }),
    );
  });
});
