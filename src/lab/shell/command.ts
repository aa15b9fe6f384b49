/**
 * What a shell command is: a name, a one-line summary for `help`, and a function from arguments to an
 * exit status that writes to its stdout and stderr. Commands never throw for user mistakes; the shell
 * turns anything thrown into an error line and status 1 so that it keeps running.
 */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

export interface ShellCommand {
  readonly name: string;
  readonly summary: string;
  run(args: readonly string[], io: CommandIo): number;
}
