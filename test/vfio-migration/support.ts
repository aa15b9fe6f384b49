/**
 * Test-side facts and a scripted migration driver. State values and the allowed arcs are written here
 * from facts/kernel.md §1.1, §1.3 and §1.5, sharing nothing with src/kernel/vfio/migration's table.
 */
import type {
  ArcResult,
  MigrationDriver,
  ResumingSink,
  SavingSource,
} from '../../src/kernel/vfio/migration/index.js';

export const S = {
  ERROR: 0,
  STOP: 1,
  RUNNING: 2,
  STOP_COPY: 3,
  RESUMING: 4,
  RUNNING_P2P: 5,
  PRE_COPY: 6,
  PRE_COPY_P2P: 7,
} as const;
export type St = (typeof S)[keyof typeof S];
export const NAMES = [
  'ERROR',
  'STOP',
  'RUNNING',
  'STOP_COPY',
  'RESUMING',
  'RUNNING_P2P',
  'PRE_COPY',
  'PRE_COPY_P2P',
];
export const ALL: St[] = [0, 1, 2, 3, 4, 5, 6, 7];

export const SC = 1;
export const P2P = 2;
export const PRE = 4;
export const FEATURE_SETS = [SC, SC | P2P, SC | PRE, SC | P2P | PRE];

/** §1.3 arc list, one line per bullet. */
export const ALLOWED_ARCS: [St, St][] = [
  [S.RUNNING_P2P, S.STOP],
  [S.STOP_COPY, S.STOP],
  [S.RESUMING, S.STOP],
  [S.PRE_COPY, S.RUNNING],
  [S.RUNNING_P2P, S.RUNNING],
  [S.PRE_COPY_P2P, S.RUNNING_P2P],
  [S.RUNNING, S.RUNNING_P2P],
  [S.STOP, S.RUNNING_P2P],
  [S.RUNNING, S.PRE_COPY],
  [S.RUNNING_P2P, S.PRE_COPY_P2P],
  [S.STOP, S.STOP_COPY],
  [S.PRE_COPY, S.PRE_COPY_P2P],
  [S.PRE_COPY_P2P, S.PRE_COPY],
  [S.PRE_COPY_P2P, S.STOP_COPY],
  [S.STOP, S.RESUMING],
];

/** §1.1: which states a flag set supports (ERROR never). */
export function supports(flags: number, s: St): boolean {
  if (s === S.ERROR) return false;
  if ((flags & SC) === 0) return false;
  if ((s === S.RUNNING_P2P || s === S.PRE_COPY_P2P) && (flags & P2P) === 0) return false;
  if ((s === S.PRE_COPY || s === S.PRE_COPY_P2P) && (flags & PRE) === 0) return false;
  return true;
}

/** §1.5: arcs that return a new data fd. */
export const FD_ARCS = new Map<string, 'saving' | 'resuming'>([
  [`${S.STOP}>${S.STOP_COPY}`, 'saving'],
  [`${S.STOP}>${S.RESUMING}`, 'resuming'],
  [`${S.RUNNING}>${S.PRE_COPY}`, 'saving'],
  [`${S.RUNNING_P2P}>${S.PRE_COPY_P2P}`, 'saving'],
]);

/** A saving source with scripted pre-copy chunks and stop-copy chunks. */
export class FakeSource implements SavingSource {
  readonly precopy: Uint8Array[] = [];
  readonly final: Uint8Array[] = [];
  initialBytes = 0n;
  dirtyBytes = 0n;
  released = 0;
  read(maxBytes: number, inStopCopy: boolean): Uint8Array {
    const q = inStopCopy ? this.final : this.precopy;
    const head = q[0];
    if (head === undefined) return new Uint8Array(0);
    if (head.length <= maxBytes) {
      q.shift();
      return head;
    }
    q[0] = head.subarray(maxBytes);
    return head.subarray(0, maxBytes);
  }
  precopyInfo() {
    return { initialBytes: this.initialBytes, dirtyBytes: this.dirtyBytes };
  }
  release(): void {
    this.released++;
  }
}

export class FakeSink implements ResumingSink {
  readonly written: number[] = [];
  released = 0;
  write(data: Uint8Array): void {
    this.written.push(...data);
  }
  release(): void {
    this.released++;
  }
}

/**
 * Runs single arcs, records them, and answers each with the fd the §1.5 list says. `failOn` scripts a
 * failing arc; `override` scripts any other answer (driver bugs).
 */
export class ScriptedDriver implements MigrationDriver {
  readonly arcs: [number, number][] = [];
  readonly sources: FakeSource[] = [];
  readonly sinks: FakeSink[] = [];
  failOn: { from: number; to: number; result: ArcResult } | undefined;
  override: ((from: number, to: number) => ArcResult | undefined) | undefined;
  dataSizeBytes = 0n;
  constructor(readonly flags: number) {}
  arc(from: St, to: St): ArcResult {
    this.arcs.push([from, to]);
    if (this.failOn !== undefined && this.failOn.from === from && this.failOn.to === to)
      return this.failOn.result;
    const o = this.override?.(from, to);
    if (o !== undefined) return o;
    const fd = FD_ARCS.get(`${from}>${to}`);
    if (fd === 'saving') {
      const source = new FakeSource();
      this.sources.push(source);
      return { kind: 'saving', source };
    }
    if (fd === 'resuming') {
      const sink = new FakeSink();
      this.sinks.push(sink);
      return { kind: 'resuming', sink };
    }
    return { kind: 'done' };
  }
  dataSize(): bigint {
    return this.dataSizeBytes;
  }
}
