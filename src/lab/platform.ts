/**
 * What the lab needs from the machine it runs on; src/platform/node implements it. Nothing in lab
 * imports node:* — tests pass an in-memory platform.
 */
export interface Platform {
  /** Read a text file; throws a LabError naming the path when it cannot. */
  readFile(path: string): string;
  writeFile(path: string, data: string | Uint8Array): void;
  /** Append to a file (created if missing); throws a LabError naming the path when it cannot. */
  appendFile?(path: string, data: Uint8Array): void;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Monotonic wall-clock nanoseconds, for reports that show wall time beside modeled time. */
  wallNowNs(): number;
  /** Whether stdin is a terminal (the shell then shows a prompt). */
  readonly stdinIsTty: boolean;
  /** Lines of stdin; with a terminal, each line is read after `prompt()` is shown. */
  readLines(prompt: () => string): AsyncIterable<string>;
  /** Machine description for benchmark records: CPU model, cores, memory, Node.js version. */
  machine(): { cpu: string; cores: number; memoryBytes: number; node: string; os: string };
}
