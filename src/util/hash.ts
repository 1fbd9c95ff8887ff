/** SHA-256 helpers; digests are lower-case hex, branded so that only these functions make them. */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';

export type Sha256 = string & { readonly __brand: 'Sha256' };

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** The sha256 of `data` as lower-case hex. */
export function sha256(data: Uint8Array | string): Sha256 {
  return createHash('sha256').update(data).digest('hex') as Sha256;
}

/** Brand `value` as a sha256 digest if it is 64 lower-case hex digits. */
export function tryParseSha256(value: unknown): Sha256 | undefined {
  return typeof value === 'string' && SHA256_PATTERN.test(value) ? (value as Sha256) : undefined;
}

/** The sha256 and size of a file, read as a stream. */
export async function sha256File(path: string): Promise<{ sha256: Sha256; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
  }
  return { sha256: hash.digest('hex') as Sha256, size };
}

const syncBuffer = Buffer.allocUnsafe(1 << 20);

/** The sha256 of a file, read synchronously (for the synchronous loops of staging and verification). */
export function sha256FileSync(path: string): Sha256 {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (
      let n = readSync(fd, syncBuffer, 0, syncBuffer.length, null);
      n > 0;
      n = readSync(fd, syncBuffer, 0, syncBuffer.length, null)
    ) {
      hash.update(syncBuffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex') as Sha256;
}
