/**
 * Buffer-length rules of admin commands (admin.tex; facts/virtio.md §3.2): a short readable part reads
 * as zeros, extra bytes are ignored, the driver treats the writable part beyond the used length as
 * zero; hostile flexible payloads (truncated parts, partial headers and bitmap words); and round trips
 * of every command's data and result over random values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLabError, type LabError } from '../../src/base/index.js';
import {
  ADMIN_CMDS,
  type AdminCmdName,
  buildAdminCommand,
  buildAdminCommandRaw,
  buildAdminResult,
  decodeDevParts,
  decodeDevPartsMetadata,
  decodeIdBitmap,
  decodePartHdrs,
  decodePartSelector,
  encodeDevParts,
  encodeIdBitmap,
  encodePartSelector,
  parseAdminCommand,
  parseAdminResult,
} from '../../src/hw/virtio/admin-wire.js';
import { virtio } from '../../src/spec/index.js';
import { arbitraryFor, cat, zeros } from './support.js';

function expectBadInput(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isLabError(e)).toBe(true);
    expect((e as LabError).code).toBe('bad-input');
    return;
  }
  expect.fail('expected LabError(bad-input)');
}

describe('readable part: short and long', () => {
  it('a header cut inside group_member_id reads the missing bytes as zero', () => {
    const bytes = cat([0x11, 0x00, 0x01, 0x00], zeros(12), [0x05]); // 17 bytes
    const parsed = parseAdminCommand(bytes);
    expect(parsed).toMatchObject({ kind: 'known', name: 'dev-mode-set', data: { flags: 0 } });
    expect(parsed.header).toEqual({ opcode: 0x11, groupType: 1, groupMemberId: 5n });
    expect(parsed.dataBytes).toEqual(new Uint8Array(0));
  });

  it('a one-byte readable part is an opcode low byte and zeros', () => {
    const parsed = parseAdminCommand(Uint8Array.of(0x03));
    expect(parsed).toMatchObject({ kind: 'known', name: 'legacy-common-cfg-read', data: { offset: 0 } });
    expect(parsed.header).toEqual({ opcode: 3, groupType: 0, groupMemberId: 0n });
  });

  it('a legacy write without data bytes reads as a write of nothing', () => {
    const parsed = parseAdminCommand(cat([0x02, 0x00, 0x01, 0x00], zeros(12), [0x01], zeros(7), [0x12]));
    expect(parsed).toMatchObject({ kind: 'known', data: { offset: 0x12, data: new Uint8Array(0) } });
  });

  it('a CREATE with only the object header reads flags 0 and no object data', () => {
    const parsed = parseAdminCommand(
      cat(
        [0x0a, 0x00, 0x01, 0x00],
        zeros(12),
        [0x01],
        zeros(7),
        [0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00],
      ),
    );
    expect(parsed).toMatchObject({
      kind: 'known',
      name: 'resource-obj-create',
      data: { hdr: { type: 0, id: 3 }, flags: 0n, resourceObjSpecificData: new Uint8Array(0) },
    });
  });

  it('extra bytes after fixed-size data are ignored but kept in dataBytes', () => {
    const data = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const parsed = parseAdminCommand(cat([0x11, 0x00, 0x01, 0x00], zeros(12), [0x02], zeros(7), data));
    expect(parsed).toMatchObject({ kind: 'known', name: 'dev-mode-set', data: { flags: 1 } });
    expect(parsed.dataBytes).toEqual(Uint8Array.from(data));
  });

  it('unknown opcodes (0x12, 0x7fff, 0x8000) parse as unknown-opcode with their data', () => {
    for (const [lo, hi] of [
      [0x12, 0x00],
      [0xff, 0x7f],
      [0x00, 0x80],
    ] as const) {
      const parsed = parseAdminCommand(cat([lo, hi, 0x01, 0x00], zeros(12), zeros(8), [0xab]));
      expect(parsed.kind).toBe('unknown-opcode');
      expect(parsed.header.opcode).toBe(lo | (hi << 8));
      expect(parsed.dataBytes).toEqual(Uint8Array.of(0xab));
    }
  });

  it('buildAdminCommandRaw sends any opcode with raw data', () => {
    const bytes = buildAdminCommandRaw({ opcode: 0x8000, groupType: 2, groupMemberId: 1n }, Uint8Array.of(9));
    expect(bytes).toEqual(cat([0x00, 0x80, 0x02, 0x00], zeros(12), [0x01], zeros(7), [0x09]));
  });

  it('pads to a multiple of 8 bytes only when asked to', () => {
    const target = { groupType: 1, groupMemberId: 6n };
    expect(buildAdminCommand('dev-mode-set', target, { flags: 1 }).length).toBe(25);
    const padded = buildAdminCommand('dev-mode-set', target, { flags: 1 }, { padToMultipleOf8: true });
    expect(padded).toEqual(cat([0x11, 0x00, 0x01, 0x00], zeros(12), [0x06], zeros(7), [0x01], zeros(7)));
  });
});

describe('writable part: used length', () => {
  const notifyInfo = cat(
    zeros(8),
    [0x02, 0x01],
    zeros(6),
    [0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    [0x5a, 0x5a, 0x5a, 0x5a], // stale bytes past the used length below
  );

  it('bytes at or past the used length read as zero', () => {
    const parsed = parseAdminResult('legacy-notify-info', notifyInfo, 24);
    expect(parsed.resultSizeBytes).toBe(16);
    expect(parsed.result.entries).toEqual([
      { flags: 2, bar: 1, offset: 0x2000n },
      { flags: 0, bar: 0, offset: 0n },
      { flags: 0, bar: 0, offset: 0n },
      { flags: 0, bar: 0, offset: 0n },
    ]);
  });

  it('a used length cutting a field reads its missing bytes as zero', () => {
    const parsed = parseAdminResult('legacy-notify-info', notifyInfo, 8 + 9);
    expect(parsed.result.entries[0]).toEqual({ flags: 2, bar: 1, offset: 0n });
  });

  it('used length 0 reads as status OK with no result (what a zeroed status buffer holds)', () => {
    const stale = Uint8Array.of(0x16, 0x00, 0x03, 0x00, 0, 0, 0, 0, 0xaa);
    expect(parseAdminResult('legacy-common-cfg-read', stale, 0)).toEqual({
      status: 0,
      statusQualifier: 0,
      result: { data: new Uint8Array(0) },
      resultSizeBytes: 0,
    });
    expect(parseAdminResult('legacy-common-cfg-read', stale, 1).status).toBe(0x16);
  });

  it('a used length beyond the buffer is clamped to the buffer', () => {
    const bytes = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0x42);
    expect(parseAdminResult('legacy-dev-cfg-read', bytes, 4096)).toEqual({
      status: 0,
      statusQualifier: 0,
      result: { data: Uint8Array.of(0x42) },
      resultSizeBytes: 1,
    });
  });

  it('a used length that is not a byte count is bad input', () => {
    expectBadInput(() => parseAdminResult('list-use', new Uint8Array(8), -1));
    expectBadInput(() => parseAdminResult('list-use', new Uint8Array(8), 2.5));
  });
});

describe('flexible payloads: hostile input', () => {
  const part = (partType: number, value: number[]): number[] => [
    partType & 0xff,
    partType >> 8,
    0x00,
    0x00,
    ...zeros(8),
    value.length,
    0x00,
    0x00,
    0x00,
    ...value,
  ];

  it('an empty parts list is no parts', () => {
    expect(decodeDevParts(new Uint8Array(0))).toEqual([]);
  });

  it('a part whose length runs past the buffer is bad input', () => {
    const bytes = cat(part(0x103, [0x0f]), part(0x101, zeros(8)));
    expectBadInput(() => decodeDevParts(bytes.subarray(0, bytes.length - 1)));
  });

  it('a partial part header at the end is bad input', () => {
    expectBadInput(() => decodeDevParts(cat(part(0x103, [0x0f]), [0x01, 0x01, 0x00])));
  });

  it('a length of 0xffffffff is bad input, not an allocation', () => {
    expectBadInput(() => decodeDevParts(cat([0x00, 0x01, 0x00, 0x00], zeros(8), [0xff, 0xff, 0xff, 0xff])));
  });

  it('a trailing partial part header in a hdr_list reads its missing bytes as zero', () => {
    const hdrs = decodePartHdrs(cat([0x04, 0x01, 0x00, 0x00], zeros(12), [0x05, 0x01]));
    expect(hdrs).toEqual([
      { partType: 0x104, flags: 0, selector: new Uint8Array(8), length: 0 },
      { partType: 0x105, flags: 0, selector: new Uint8Array(8), length: 0 },
    ]);
  });

  it('a trailing partial bitmap word reads its missing bytes as zero', () => {
    expect(decodeIdBitmap(Uint8Array.of(0x03, 0x00, 0x01))).toEqual([0, 1, 16]);
    expect(decodeIdBitmap(new Uint8Array(0))).toEqual([]);
  });

  it('bitmap ids must be 0..0xffff integers; minWords pads with zero words', () => {
    expectBadInput(() => encodeIdBitmap([-1]));
    expectBadInput(() => encodeIdBitmap([0x10000]));
    expectBadInput(() => encodeIdBitmap([1.5]));
    expect(encodeIdBitmap([], 2)).toEqual(new Uint8Array(16));
    expect(encodeIdBitmap([], 0)).toEqual(new Uint8Array(0));
  });

  it('an unknown metadata type is bad input', () => {
    expectBadInput(() => decodeDevPartsMetadata(3, new Uint8Array(8)));
  });

  it('a raw selector must be 8 bytes', () => {
    expectBadInput(() => encodePartSelector({ kind: 'device-type-raw', bytes: new Uint8Array(4) }));
  });
});

describe('part selectors', () => {
  const sel = Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);

  it('reads the union member the part type selects', () => {
    expect(decodePartSelector(0x102, sel, virtio.VIRTIO_ID_NET)).toEqual({
      kind: 'pci-common-cfg',
      offset: 0x04030201,
    });
    expect(decodePartSelector(0x104, sel, virtio.VIRTIO_ID_NET)).toEqual({ kind: 'vq-index', index: 0x0201 });
    expect(decodePartSelector(0x105, sel, virtio.VIRTIO_ID_NET)).toEqual({ kind: 'vq-index', index: 0x0201 });
    expect(decodePartSelector(0x200, sel, virtio.VIRTIO_ID_NET)).toEqual({
      kind: 'net-cvq',
      class: 1,
      command: 2,
    });
  });

  it('reads no selector for common parts without one, and raw bytes for other device types', () => {
    for (const t of [0x100, 0x101, 0x103, 0x106, 0x1ff]) {
      expect(decodePartSelector(t, sel, virtio.VIRTIO_ID_NET)).toEqual({ kind: 'none' });
    }
    expect(decodePartSelector(0x200, sel, virtio.VIRTIO_ID_BLOCK)).toEqual({
      kind: 'device-type-raw',
      bytes: sel,
    });
    expect(decodePartSelector(0x5ff, sel, virtio.VIRTIO_ID_NET)).toEqual({
      kind: 'device-type-raw',
      bytes: sel,
    });
    expect(decodePartSelector(0x600, sel, virtio.VIRTIO_ID_NET)).toEqual({ kind: 'none' });
  });

  it('encodes each member with zero reserved bytes', () => {
    expect(encodePartSelector({ kind: 'none' })).toEqual(new Uint8Array(8));
    expect(encodePartSelector({ kind: 'pci-common-cfg', offset: 60 })).toEqual(
      Uint8Array.of(60, 0, 0, 0, 0, 0, 0, 0),
    );
    expect(encodePartSelector({ kind: 'vq-index', index: 0x1234 })).toEqual(
      Uint8Array.of(0x34, 0x12, 0, 0, 0, 0, 0, 0),
    );
    expect(encodePartSelector({ kind: 'net-cvq', class: 4, command: 1 })).toEqual(
      Uint8Array.of(4, 1, 0, 0, 0, 0, 0, 0),
    );
  });
});

describe('round trips over random values', () => {
  const names = Object.keys(ADMIN_CMDS) as AdminCmdName[];

  it.each(names)('%s: parse(build(data)) == data and parse(buildResult(result)) == result', (name) => {
    const cmd = ADMIN_CMDS[name];
    const target = fc.record({
      groupType: fc.integer({ min: 0, max: 0xffff }),
      groupMemberId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    });
    fc.assert(
      fc.property(target, arbitraryFor(cmd.data), arbitraryFor(cmd.result), (t, data, result) => {
        const parsed = parseAdminCommand(buildAdminCommand(name, t, data as never));
        expect(parsed).toMatchObject({ kind: 'known', name, header: { opcode: cmd.opcode, ...t } });
        expect(parsed.kind === 'known' && parsed.data).toEqual(data);
        const written = buildAdminResult(name, result as never);
        expect(parseAdminResult(name, written, written.length).result).toEqual(result);
      }),
      { numRuns: 50 },
    );
  });

  it('decodeDevParts(encodeDevParts(parts)) == parts', () => {
    const arbPart = fc.record({
      partType: fc.integer({ min: 0, max: 0xffff }),
      flags: fc.integer({ min: 0, max: 0xff }),
      selector: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      value: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(arbPart, { maxLength: 6 }), (parts) => {
        expect(decodeDevParts(encodeDevParts(parts))).toEqual(parts);
      }),
    );
  });

  it('decodeIdBitmap(encodeIdBitmap(ids)) == the sorted distinct ids', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0x3ff }), { maxLength: 30 }), (ids) => {
        const expected = [...new Set(ids)].sort((a, b) => a - b);
        expect(decodeIdBitmap(encodeIdBitmap(ids))).toEqual(expected);
      }),
    );
  });
});
