import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

const buffer = Buffer.allocUnsafe(1 << 20);

/** sha256 of a file's content, read synchronously (staging and verification are synchronous loops). */
export function sha256FileSync(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
