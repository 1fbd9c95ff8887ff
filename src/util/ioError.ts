import { KilnError } from '../errors/index.js';
import { errnoMeaning } from '../errors/systemError.js';

/**
 * The E_IO error for a file system error a person can act on (missing file,
 * permission denied, disk full…), or `undefined` for any other error, which
 * the caller rethrows as it is. The meanings and hints are those of
 * errors/systemError.ts, which says the same for errors no caller caught.
 *
 * @example
 * try { return await readFile(path, 'utf8'); }
 * catch (error) { throw ioError(error, 'read public key', path) ?? error; }
 */
export function ioError(error: unknown, action: string, path: string): KilnError | undefined {
  const errno =
    error instanceof Error && !(error instanceof KilnError) ? (error as NodeJS.ErrnoException).code : undefined;
  const meaning = errnoMeaning(errno);
  return meaning === undefined
    ? undefined
    : new KilnError('E_IO', `cannot ${action} ${path}: ${meaning.state}`, { cause: error, hint: meaning.hint });
}
