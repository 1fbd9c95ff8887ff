import { rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno } from '../errors/index.js';

/** Remove `directory` and its parents while they are empty, stopping at `stop` (exclusive). */
export async function removeEmptyParents(directory: string, stop: string): Promise<void> {
  let current = directory;
  while (current.startsWith(`${stop}/`)) {
    try {
      await rmdir(current);
    } catch (error) {
      if (isErrno(error, 'ENOTEMPTY') || isErrno(error, 'EEXIST') || isErrno(error, 'ENOENT')) return;
      throw error;
    }
    current = dirname(current);
  }
}
