/** Shared pieces of the `vfio` tool: usage text, uAPI name tables, flag/hex/number formatting, argument parsing, the reply shape and usage errors. */
import { isLabError } from '../../../base/index.js';
import { Errno, type ErrnoName, vfio } from '../../../spec/index.js';

export const USAGE = `usage: vfio [--json] list
       vfio [--json] info DEVICE
       vfio [--json] read DEVICE REGION OFFSET SIZE
       vfio [--json] write DEVICE REGION OFFSET SIZE VALUE
       vfio [--json] reset DEVICE
       vfio [--json] mig DEVICE state [TARGET]
       vfio [--json] mig DEVICE save FILE | load FILE | precopy-info | data-size
       vfio [--json] dirty DEVICE start [--page-size N] IOVA:LENGTH... | stop | report IOVA LENGTH [--page-size N]
       vfio [--json] files
`;

/** QEMU's VFIO migration buffer (costs.md: 1 MiB per read). */
export const CHUNK_BYTES = 1 << 20;
export const STATE_NAMES = vfio.VFIO_DEVICE_STATE_NAMES;
export const GET = vfio.VFIO_DEVICE_FEATURE_GET;
export const SET = vfio.VFIO_DEVICE_FEATURE_SET;

export const REGION_NAMES = ['BAR0', 'BAR1', 'BAR2', 'BAR3', 'BAR4', 'BAR5', 'ROM', 'CONFIG', 'VGA'];
export const IRQ_NAMES = ['INTX', 'MSI', 'MSIX', 'ERR', 'REQ'];
export const DEVICE_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_DEVICE_FLAGS_RESET, 'RESET'],
  [vfio.VFIO_DEVICE_FLAGS_PCI, 'PCI'],
  [vfio.VFIO_DEVICE_FLAGS_PLATFORM, 'PLATFORM'],
  [vfio.VFIO_DEVICE_FLAGS_AMBA, 'AMBA'],
  [vfio.VFIO_DEVICE_FLAGS_CCW, 'CCW'],
  [vfio.VFIO_DEVICE_FLAGS_AP, 'AP'],
  [vfio.VFIO_DEVICE_FLAGS_FSL_MC, 'FSL_MC'],
  [vfio.VFIO_DEVICE_FLAGS_CAPS, 'CAPS'],
  [vfio.VFIO_DEVICE_FLAGS_CDX, 'CDX'],
];
export const REGION_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_REGION_INFO_FLAG_READ, 'READ'],
  [vfio.VFIO_REGION_INFO_FLAG_WRITE, 'WRITE'],
  [vfio.VFIO_REGION_INFO_FLAG_MMAP, 'MMAP'],
  [vfio.VFIO_REGION_INFO_FLAG_CAPS, 'CAPS'],
];
export const IRQ_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_IRQ_INFO_EVENTFD, 'EVENTFD'],
  [vfio.VFIO_IRQ_INFO_MASKABLE, 'MASKABLE'],
  [vfio.VFIO_IRQ_INFO_AUTOMASKED, 'AUTOMASKED'],
  [vfio.VFIO_IRQ_INFO_NORESIZE, 'NORESIZE'],
];
export const MIG_FLAG_NAMES: readonly [number, string][] = [
  [vfio.VFIO_MIGRATION_STOP_COPY, 'STOP_COPY'],
  [vfio.VFIO_MIGRATION_P2P, 'P2P'],
  [vfio.VFIO_MIGRATION_PRE_COPY, 'PRE_COPY'],
];

export const flagNames = (v: number, table: readonly [number, string][]): string[] =>
  table.filter(([bit]) => (v & bit) !== 0).map(([, n]) => n);
export const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
export const hexN = (v: bigint | number): string => `0x${v.toString(16)}`;
/** A JSON number when exact, else a decimal string. */
export const num = (v: bigint): number | string =>
  v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();

/** A user mistake in the arguments: usage, status 2. */
export class UsageError extends Error {}

export const ERRNO_BY_VALUE = new Map<number, ErrnoName>(
  Object.entries(Errno).map(([n, v]) => [v, n as ErrnoName] as [number, ErrnoName]),
);

/** One line of output: the text lines, and the JSON object for --json. */
export interface Reply {
  readonly text: string[];
  readonly json: Record<string, unknown>;
  /** A failure reported in `text`'s last line (stderr) and `json` (status 1). */
  readonly failed?: boolean;
}

export function errnoOf(e: unknown): ErrnoName {
  if (isLabError(e) && e.errno !== undefined) return e.errno;
  throw e;
}

export function parseBig(name: string, text: string | undefined): bigint {
  if (text === undefined || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) {
    throw new UsageError(`bad value for ${name}: '${text ?? ''}'`);
  }
  return BigInt(text);
}

export function parseState(text: string): number {
  const bare = text.toUpperCase().replace(/^VFIO_DEVICE_STATE_/, '');
  const i = (STATE_NAMES as readonly string[]).indexOf(bare);
  if (i >= 0) return i;
  throw new UsageError(`unknown migration state '${text}' (${STATE_NAMES.join(', ')})`);
}

export function leValue(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

export function arcLines(path: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < path.length; i++) out.push(`${STATE_NAMES[path[i - 1]!]} -> ${STATE_NAMES[path[i]!]}`);
  return out;
}
