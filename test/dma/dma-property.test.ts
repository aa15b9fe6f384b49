/**
 * Property: random sequences of map, unmap and DMA writes never put a byte anywhere but through a
 * mapping that allows the write. The oracle is a plain per-page table and a flat shadow of host memory
 * that share no code with the IOMMU or SparseMemory; after every step host memory must equal the
 * shadow, only pages some successful write reached may be resident, each result (ok, fault reason and
 * faulting IOVA, unmapped byte count, EEXIST) must match the oracle, and so must the dirty bitmap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLabError, rid } from '../../src/base/index.js';
import { DmaEngine } from '../../src/hw/dma/index.js';
import {
  Iommu,
  type IommuProt,
  iova,
  PROT_READ,
  PROT_READ_WRITE,
  PROT_WRITE,
} from '../../src/hw/iommu/index.js';
import { hpa, SparseMemory } from '../../src/hw/memory/index.js';
import { dmaTestHost } from './support.js';

const PAGE = 4096;
/** IOVA pages 0..15 are where maps go; writes may also run past them. */
const IOVA_PAGES = 16;
/** Host memory: 16 pages, so aliasing mappings are common. */
const HOST_PAGES = 16;
const DEV = rid(6, 0);

type Step =
  | {
      readonly op: 'map';
      readonly iovaPage: number;
      readonly pages: number;
      readonly hpaPage: number;
      readonly prot: number;
    }
  | { readonly op: 'unmap'; readonly iovaPage: number; readonly pages: number }
  | { readonly op: 'write'; readonly at: number; readonly length: number; readonly seed: number };

const PROTS: readonly IommuProt[] = [PROT_READ, PROT_WRITE, PROT_READ_WRITE];

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('map' as const),
    iovaPage: fc.integer({ min: 0, max: IOVA_PAGES - 1 }),
    pages: fc.integer({ min: 1, max: 6 }),
    hpaPage: fc.integer({ min: 0, max: HOST_PAGES - 1 }),
    prot: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    op: fc.constant('unmap' as const),
    iovaPage: fc.integer({ min: 0, max: IOVA_PAGES - 1 }),
    pages: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    op: fc.constant('write' as const),
    at: fc.integer({ min: 0, max: IOVA_PAGES * PAGE - 1 }),
    length: fc.integer({ min: 1, max: 3 * PAGE }),
    seed: fc.integer({ min: 0, max: 250 }),
  }),
);

interface OraclePte {
  readonly hpaPage: number;
  readonly write: boolean;
}

describe('DMA through random mappings', () => {
  it('never writes outside mapped, writable pages', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const h = dmaTestHost();
        const mmu = new Iommu(h.ctx);
        const memory = new SparseMemory({ sizeBytes: HOST_PAGES * PAGE });
        const dma = new DmaEngine(h.ctx, mmu, memory);
        const domain = mmu.allocPagingDomain({ dirtyTracking: true });
        mmu.attachDevice(DEV, domain);
        domain.setDirtyTracking(true);

        const table = new Map<number, OraclePte>();
        const shadow = new Uint8Array(HOST_PAGES * PAGE);
        const reached = new Set<number>();
        const dirty = new Set<number>();

        for (const s of steps) {
          if (s.op === 'map') {
            const clash = range(s.iovaPage, s.pages).some((p) => table.has(p));
            const prot = PROTS[s.prot]!;
            let errno: string | undefined;
            try {
              // HPAs past host memory are legal to map (the IOMMU does not know memory); writes there
              // must become Unsupported Requests.
              domain.map(iova(s.iovaPage * PAGE), hpa(s.hpaPage * PAGE), BigInt(s.pages * PAGE), prot);
            } catch (e) {
              errno = isLabError(e) ? e.errno : String(e);
            }
            expect(errno).toBe(clash ? 'EEXIST' : undefined);
            if (!clash) {
              range(s.iovaPage, s.pages).forEach((p, i) => {
                table.set(p, { hpaPage: s.hpaPage + i, write: prot.write });
              });
            }
          } else if (s.op === 'unmap') {
            const mapped = range(s.iovaPage, s.pages).filter((p) => table.has(p));
            expect(domain.unmap(iova(s.iovaPage * PAGE), BigInt(s.pages * PAGE))).toBe(
              BigInt(mapped.length * PAGE),
            );
            for (const p of mapped) {
              table.delete(p);
              dirty.delete(p);
            }
          } else {
            const data = new Uint8Array(s.length);
            for (let i = 0; i < s.length; i++) data[i] = ((s.seed + i) % 255) + 1;
            const expected = oracleWrite(table, s.at, s.length);
            const r = dma.write(DEV, iova(s.at), data);
            // The IOMMU sets dirty bits when it translates a write, so a write that translated but found
            // no memory behind it (Unsupported Request) has dirtied its IOVA pages too.
            if (expected.ok || expected.reason === 'unsupported-request') {
              const last = Math.floor((s.at + s.length - 1) / PAGE);
              for (let p = Math.floor(s.at / PAGE); p <= last; p++) dirty.add(p);
            }
            if (expected.ok) {
              expect(r).toEqual({ ok: true });
              for (let i = 0; i < s.length; i++) {
                const a = s.at + i;
                const pte = table.get(Math.floor(a / PAGE))!;
                const h = pte.hpaPage * PAGE + (a % PAGE);
                shadow[h] = data[i]!;
                reached.add(pte.hpaPage);
              }
            } else {
              expect(r.ok).toBe(false);
              if (!r.ok) {
                expect(r.fault.reason).toBe(expected.reason);
                expect(r.fault.iova).toBe(BigInt(expected.at));
              }
            }
          }
          expect(firstDifference(memory.read(hpa(0), HOST_PAGES * PAGE), shadow)).toBe(-1);
          const resident: number[] = [];
          memory.forEachResidentPage((addr) => {
            resident.push(Number(addr) / PAGE);
          });
          for (const p of resident) expect(reached.has(p)).toBe(true);
        }

        // Maps reach at most page 20 and writes page 18; 24 pages of bits still fit one u64 word.
        const bitmap = domain.readAndClearDirty(iova(0), BigInt(24 * PAGE));
        const want = new Uint8Array(8);
        for (const p of dirty) want[p >> 3] = want[p >> 3]! | (1 << (p & 7));
        expect(bitmap).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});

/** Index of the first byte where the buffers differ, or -1 (a fast stand-in for a deep equality). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}

/** What the oracle table says a write of `length` bytes at `at` does. */
function oracleWrite(
  table: Map<number, OraclePte>,
  at: number,
  length: number,
): { ok: true } | { ok: false; reason: string; at: number } {
  for (let a = at; a < at + length; a = (Math.floor(a / PAGE) + 1) * PAGE) {
    const pte = table.get(Math.floor(a / PAGE));
    if (pte === undefined) return { ok: false, reason: 'not-present', at: a };
    if (!pte.write) return { ok: false, reason: 'permission', at: a };
  }
  // Translated fine: every host page must exist, else it is an Unsupported Request at the first byte
  // that falls outside memory.
  for (let a = at; a < at + length; a = (Math.floor(a / PAGE) + 1) * PAGE) {
    const pte = table.get(Math.floor(a / PAGE))!;
    if (pte.hpaPage >= HOST_PAGES) return { ok: false, reason: 'unsupported-request', at: a };
  }
  return { ok: true };
}
