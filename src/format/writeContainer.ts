/**
 * Write a package container atomically (temporary file, fsync, rename) from
 * its metadata, optional signature and a payload copied from another file.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory, temporaryPathFor } from '../util/atomicWrite.js';
import { containerHead, containerTail } from './container.js';

export interface ContainerParts {
  metadata: Buffer;
  signature: Buffer | undefined;
  /** File holding the compressed payload, at `payloadOffset`. */
  payloadPath: string;
  payloadOffset: number;
  payloadSize: number;
  durable: boolean;
}

const COPY_CHUNK = 1 << 20;

export async function writeContainer(finalPath: string, parts: ContainerParts): Promise<void> {
  const temporary = temporaryPathFor(finalPath);
  const handle = await open(temporary, 'wx', 0o644);
  try {
    await handle.write(containerHead(parts.metadata, parts.signature, parts.payloadSize));
    const source = await open(parts.payloadPath, 'r');
    try {
      const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(COPY_CHUNK, parts.payloadSize)));
      let copied = 0;
      while (copied < parts.payloadSize) {
        const want = Math.min(buffer.length, parts.payloadSize - copied);
        const { bytesRead } = await source.read(buffer, 0, want, parts.payloadOffset + copied);
        if (bytesRead === 0) throw new Error(`Assertion failed: payload source ${parts.payloadPath} ended early`);
        await handle.write(buffer.subarray(0, bytesRead));
        copied += bytesRead;
      }
    } finally {
      await source.close();
    }
    await handle.write(containerTail(parts.payloadSize));
    if (parts.durable) await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, finalPath);
  if (parts.durable) await syncDirectory(dirname(finalPath));
}
