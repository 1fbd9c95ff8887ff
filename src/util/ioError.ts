import { KilnError } from '../errors/index.js';

const STATES = new Map<string, string>([
  ['ENOENT', 'no such file or directory'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'operation not permitted'],
  ['EISDIR', 'it is a directory'],
  ['ENOTDIR', 'a component of the path is not a directory'],
  ['EROFS', 'the file system is read-only'],
  ['ENOSPC', 'no space left on the device'],
]);

/**
 * The E_IO error for a file system error a person can act on (missing file,
 * permission denied…), or `undefined` for any other error, which the caller
 * rethrows as it is.
 *
 * @example
 * try { return await readFile(path, 'utf8'); }
 * catch (error) { throw ioError(error, 'read public key', path) ?? error; }
 */
export function ioError(error: unknown, action: string, path: string): KilnError | undefined {
  const errno =
    error instanceof Error && !(error instanceof KilnError) ? (error as NodeJS.ErrnoException).code : undefined;
  const state = errno === undefined ? undefined : STATES.get(errno);
  return state === undefined
    ? undefined
    : new KilnError('E_IO', `cannot ${action} ${path}: ${state}`, { cause: error });
}
