import { open } from 'node:fs/promises';

import type { ErrorCode } from '../errors/index.js';
import { KilnError } from '../errors/index.js';
import { ioError } from '../util/ioError.js';

/** Key and signature files are a few hundred bytes; anything much larger is the wrong file. */
const MAX_BYTES = 64 * 1024;

/**
 * The UTF-8 text of a small key or signature file. E_IO for a missing or
 * unreadable file; `formatCode` when the file is too large or not UTF-8.
 *
 * @example
 * const text = await readTextFile('kiln.pub', 'public key', 'E_KEY_FORMAT');
 */
export async function readTextFile(path: string, what: string, formatCode: ErrorCode): Promise<string> {
  let bytes: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_BYTES) {
        throw new KilnError(
          formatCode,
          `cannot read ${what} ${path}: it is ${size} bytes long, too large to be a ${what}`,
          {
            hint: `check that ${path} is the ${what} file and not something else`,
          },
        );
      }
      // Read up to one byte past the limit, in case the file grew since the stat.
      const buffer = Buffer.alloc(MAX_BYTES + 1);
      let length = 0;
      let bytesRead: number;
      do {
        ({ bytesRead } = await handle.read(buffer, length, buffer.length - length, length));
        length += bytesRead;
      } while (bytesRead > 0 && length < buffer.length);
      if (length > MAX_BYTES) {
        throw new KilnError(formatCode, `cannot read ${what} ${path}: it is too large to be a ${what}`);
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw ioError(error, `read ${what}`, path) ?? error;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new KilnError(formatCode, `cannot read ${what} ${path}: it is not UTF-8 text`, { cause: error });
  }
}
