/**
 * What a shell command is: a name, a one-line summary for `help`, and a function from arguments to an
 * exit status that writes to its stdout and stderr. Commands never throw for user mistakes; the shell
 * turns anything thrown into an error line and status 1 so that it keeps running. In a pipeline a
 * command reads the previous command's output from `stdin`.
 */
export interface CommandIo {
  /** What the previous command of a pipeline wrote; undefined when stdin is not a pipe. */
  readonly stdin?: string;
  out(text: string): void;
  err(text: string): void;
}

export interface ShellCommand {
  readonly name: string;
  readonly summary: string;
  run(args: readonly string[], io: CommandIo): number;
}
