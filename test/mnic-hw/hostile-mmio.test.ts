/**
 * A guest (or a buggy driver) writing anything anywhere in the mnic's windows: random MMIO writes of
 * every width to the PF window, SF and SIOV windows, with doorbells in between, never throw, and the
 * command entry of every function still there always ends owned by the driver (firmware completed or
 * refused what it was given).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, pfWindow, raw, rig, sfWindow, siovWindow } from './rig.js';

describe('hostile MMIO to mnic windows', () => {
  it('random writes and doorbells never throw and never leave an entry owned by firmware', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            window: fc.constantFrom('pf', 'sf', 'siov'),
            offset: fc.oneof(
              fc.integer({ min: 0, max: 0x1fff }),
              fc.constantFrom(0x018, 0x098, 0x100, 0x104, 0x118, 0x120, 0x210),
            ),
            width: fc.constantFrom<1 | 2 | 4>(1, 2, 4),
            value: fc.oneof(
              fc.integer({ min: 0, max: 0xffffffff }),
              fc.constantFrom(0, 1, 0x0100_0000, 0x1000, 0x120),
            ),
          }),
          { maxLength: 60 },
        ),
        (writes) => {
          const r = rig();
          // One SF and one SIOV function so that their windows decode.
          expect(raw(pfWindow(r), fromHex('2001 0000 00000000 07000000 00000000'), 16).status).toBe(0);
          expect(raw(pfWindow(r), fromHex('2201 0000 00000000 01000000 00000000'), 32).status).toBe(0);
          const windows = { pf: pfWindow(r), sf: sfWindow(r, 0), siov: siovWindow(r, 0) };
          for (const w of writes) {
            windows[w.window].write(
              w.offset,
              w.value & (w.width === 4 ? 0xffffffff : (1 << (8 * w.width)) - 1),
              w.width,
            );
            if (w.offset === 0x118 || w.offset === 0x11b) windows[w.window].write(0x018, 1);
          }
          // Windows whose function still exists (a random doorbell may have deallocated one).
          const live = [
            windows.pf,
            ...(r.nic.table.sf(0) === undefined ? [] : [windows.sf]),
            ...(r.nic.table.siov(0) === undefined ? [] : [windows.siov]),
          ];
          for (const w of live) {
            w.write(0x018, 1);
            expect(w.read(0x11b, 1) & 1).toBe(0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
