/**
 * The one error model of vfiolab: a typed error with a stable code, an optional Linux errno for
 * failures a real uAPI would report as one, and an optional cause.
 */
import { ERRNO_MESSAGE, Errno, type ErrnoName } from '../spec/index.js';

export type LabErrorCode =
  | 'errno' // a failure a Linux uAPI reports as an errno; `errno` is set
  | 'bad-input' // malformed input at a boundary (topology file, command line, stream)
  | 'not-found'
  | 'invalid-state'
  | 'internal';

export class LabError extends Error {
  readonly code: LabErrorCode;
  readonly errno: ErrnoName | undefined;

  constructor(code: LabErrorCode, message: string, options: { errno?: ErrnoName; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabError';
    this.code = code;
    this.errno = options.errno;
  }

  /** The negative errno value the kernel would return, or undefined for non-errno errors. */
  get negativeErrno(): number | undefined {
    return this.errno === undefined ? undefined : -Errno[this.errno];
  }
}

/** An error that a real kernel interface reports as `-errno`; `detail` says why, for logs and traces. */
export function errnoError(errno: ErrnoName, detail?: string): LabError {
  const text = ERRNO_MESSAGE[errno];
  return new LabError('errno', detail === undefined ? `${errno}: ${text}` : `${errno}: ${text} (${detail})`, {
    errno,
  });
}

export function badInput(message: string, cause?: unknown): LabError {
  return new LabError('bad-input', message, { cause });
}

export function isLabError(e: unknown): e is LabError {
  return e instanceof LabError;
}
