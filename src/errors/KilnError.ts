/**
 * The one user-facing error type. Every failure a person can act on is a
 * `KilnError` with a stable `code` (documented in docs/errors.md and never
 * reused), a message in the form `cannot <action> <object>: <state>` that names
 * the path, package or URL, and an optional hint saying what to do.
 *
 * Bugs are plain `Error`s; they are never wrapped in a `KilnError`.
 *
 * @example
 * throw new KilnError('E_PACKAGE_HASH', `cannot verify package ${path}: payload sha256 differs from its metadata`, {
 *   hint: 'the file is corrupt or was altered; download it again',
 * });
 */
import type { ErrorCode } from './codes.js';

export interface KilnErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** The exit status the command line ends with, where it is not 1 (2 for E_USAGE): 130 when interrupted. */
  exitStatus?: number;
}

export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitStatus: number | undefined;

  constructor(code: ErrorCode, message: string, options: KilnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KilnError';
    this.code = code;
    this.hint = options.hint;
    this.exitStatus = options.exitStatus;
  }
}

/** True for a `KilnError` with one of the given codes (any code when none are given). */
export function isKilnError(value: unknown, ...codes: ErrorCode[]): value is KilnError {
  return value instanceof KilnError && (codes.length === 0 || codes.includes(value.code));
}

/** True for a Node.js system error with the given `code` (`ENOENT`, `EEXIST`, ...). */
export function isErrno(value: unknown, code: string): value is NodeJS.ErrnoException {
  return value instanceof Error && (value as NodeJS.ErrnoException).code === code;
}
