/** File-system helpers for the cases Kiln meets everywhere. */
import { readFile } from 'node:fs/promises';
import { isErrno } from '../errors/index.js';

/** The file's content, or `undefined` when it does not exist. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}
