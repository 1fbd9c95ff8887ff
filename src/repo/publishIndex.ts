/**
 * Publish a new index: write the immutable snapshot and its signature first,
 * then replace the current signature and `index.json` (each atomically). A
 * client that follows the signature to its snapshot therefore always sees a
 * complete, matching pair — the old one or the new one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import type { FileList } from './fileList.js';
import { buildFileList, decodeFileList, encodeFileList, fileListPath, fileListTrustedComment } from './fileList.js';
import { join } from 'node:path';
import type { SecretKey } from '../sign/index.js';
import { formatSignature, signData } from '../sign/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import type { IndexEntry, RepositoryIndex } from './indexFormat.js';
import { INDEX_FORMAT, INDEX_FORMAT_VERSION, indexTrustedComment, serializeIndex } from './indexFormat.js';
import type { Repository } from './openRepository.js';
import { SIGNATURE_SUFFIX, snapshotPath } from './layout.js';

export interface PublishRequest {
  serial: number;
  packages: IndexEntry[];
  now: Date;
  expireDays: number;
  key: SecretKey;
}

/** ISO 8601 UTC without milliseconds. */
export function isoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The file list of serial `serial`, when this repository published one (to reuse its entries). */
async function previousFileList(repo: Repository, serial: number): Promise<FileList | undefined> {
  if (serial < 1) return undefined;
  const path = join(repo.paths.public, fileListPath(serial));
  try {
    return decodeFileList(await readFile(path), path);
  } catch {
    // Absent (published by an earlier Kiln) or unreadable: every package is read again.
    return undefined;
  }
}

export async function publishIndex(repo: Repository, request: PublishRequest): Promise<RepositoryIndex> {
  const expires = new Date(request.now.getTime() + request.expireDays * 86_400_000);
  const index: RepositoryIndex = {
    format: INDEX_FORMAT,
    formatVersion: INDEX_FORMAT_VERSION,
    name: repo.config.name,
    serial: request.serial,
    created: isoTime(request.now),
    expires: isoTime(expires),
    keys: repo.keys.map((key) => key.keyId).sort(),
    packages: request.packages,
  };
  const bytes = serializeIndex(index);
  const signature = formatSignature(signData(bytes, request.key, { trustedComment: indexTrustedComment(index) }));
  await mkdir(repo.paths.snapshots, { recursive: true });
  // The file list of this serial is in place before the index that names the serial.
  const list = encodeFileList(
    await buildFileList(repo.paths.public, index, await previousFileList(repo, index.serial - 1)),
  );
  const listPath = join(repo.paths.public, fileListPath(index.serial));
  await writeFileAtomic(listPath, list);
  await writeFileAtomic(
    listPath + SIGNATURE_SUFFIX,
    formatSignature(signData(list, request.key, { trustedComment: fileListTrustedComment(index) })),
  );
  const snapshot = join(repo.paths.public, snapshotPath(index.serial));
  await writeFileAtomic(snapshot, bytes);
  await writeFileAtomic(snapshot + SIGNATURE_SUFFIX, signature);
  await writeFileAtomic(repo.paths.indexSignature, signature);
  await writeFileAtomic(repo.paths.index, bytes);
  return index;
}
