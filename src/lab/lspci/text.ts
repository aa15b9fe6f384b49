/**
 * Small text helpers shared by the decoders: lspci's `+`/`-` flags, fixed-width hex, and the output
 * sink with lspci's fatal exit (pciutils: die()).
 */

/** `Name+` when any bit of `mask` is set in `value`, else `Name-`. */
export function flag(value: number, mask: number): string {
  return (value & mask) !== 0 ? '+' : '-';
}

/** Render a list of `[name, mask]` flags, space separated: `CorrErr+ NonFatalErr-`. */
export function flags(value: number, table: ReadonlyArray<readonly [string, number]>): string {
  return table.map(([name, mask]) => name + flag(value, mask)).join(' ');
}

/** Lower-case hex, zero padded to `width` digits (wider values are not cut, like printf). */
export function hx(n: number | bigint, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Bits `at .. at+width-1` of `value`. */
export function bits(value: number, at: number, width: number): number {
  return Math.floor(value / 2 ** at) % 2 ** width;
}

/** lspci ending the run early (die() or exit()): what it printed so far stays printed. */
export class LspciExit extends Error {
  readonly status: number;
  readonly stderrText: string;

  constructor(status: number, stderrText: string) {
    super(stderrText.trim());
    this.name = 'LspciExit';
    this.status = status;
    this.stderrText = stderrText;
  }
}

/** pciutils die(): `lspci: <msg>` on stderr, exit status 1. */
export function die(message: string): never {
  throw new LspciExit(1, `lspci: ${message}\n`);
}

/** Collects stdout and stderr text. */
export class Output {
  #out: string[] = [];
  #err: string[] = [];

  print(text: string): void {
    this.#out.push(text);
  }

  line(text: string): void {
    this.#out.push(text, '\n');
  }

  error(text: string): void {
    this.#err.push(text);
  }

  get stdout(): string {
    return this.#out.join('');
  }

  get stderr(): string {
    return this.#err.join('');
  }
}
