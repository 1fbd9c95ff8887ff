/**
 * Stream a package's payload: decompress, parse the tar, and check every entry
 * against the manifest (order, type, mode, owners, size, link target, sha256)
 * while a visitor consumes it — verification and extraction are one pass.
 * The compressed bytes are hashed too; when the payload is corrupt, the hash
 * mismatch is what gets reported, as it is the clearest reason.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { KilnError } from '../errors/index.js';
import { ZstdDataError, ZstdDecoder } from '../util/zstd.js';
import type { ManifestEntry } from './metadata.js';
import type { PackageFile } from './openPackage.js';
import type { TarHeader } from './tar.js';
import { TarParser } from './tar.js';

export interface PayloadVisitor {
  /** An entry starts; for a regular file, `data` calls follow. */
  entry?(entry: ManifestEntry): Promise<void> | void;
  data?(entry: ManifestEntry, chunk: Buffer): Promise<void> | void;
  /** The entry is complete and its content matched its sha256. */
  end?(entry: ManifestEntry): Promise<void> | void;
}

export async function readPayload(pkg: PackageFile, visitor: PayloadVisitor = {}): Promise<void> {
  const { metadata, path } = pkg;
  const context = `cannot verify package ${path}`;
  const files = metadata.files;
  const compressedHash = createHash('sha256');
  const decoder = new ZstdDecoder();
  const parser = new TarParser(`the payload of ${path}`);
  let index = 0;
  let current: ManifestEntry | undefined;
  let fileHash: ReturnType<typeof createHash> | undefined;
  let produced = 0;
  let read = 0;
  let failure: KilnError | ZstdDataError | undefined;

  const mismatch: (problem: string) => never = (problem) => {
    throw new KilnError('E_PACKAGE_MANIFEST', `${context}: ${problem}`, { hint: 'the payload does not match the signed manifest; the package is not trustworthy' });
  };
  const onEntry = async (header: TarHeader): Promise<void> => {
    const entry = files[index];
    if (entry === undefined) mismatch(`the payload holds an entry "${header.path}" that the manifest does not list`);
    if (header.path !== entry.path) mismatch(`payload entry ${index + 1} is "${header.path}" but the manifest lists "${entry.path}"`);
    const expected = { type: entry.type, mode: entry.mode, uname: entry.owner, gname: entry.group, size: entry.size, linkTarget: entry.target ?? '' };
    for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
      if (header[key] !== expected[key]) mismatch(`payload entry "${entry.path}" has ${key} ${JSON.stringify(header[key])} but the manifest says ${JSON.stringify(expected[key])}`);
    }
    current = entry;
    fileHash = entry.type === 'file' ? createHash('sha256') : undefined;
    await visitor.entry?.(entry);
  };
  const onEnd = async (): Promise<void> => {
    const entry = current!;
    if (fileHash !== undefined && fileHash.digest('hex') !== entry.sha256) {
      throw new KilnError('E_PACKAGE_HASH', `${context}: the content of ${entry.path} does not match its sha256`, { hint: 'the package is corrupt or was altered' });
    }
    await visitor.end?.(entry);
    current = undefined;
    index++;
  };

  const stream = createReadStream(path, { start: pkg.payloadOffset, end: pkg.payloadOffset + pkg.payloadSize - 1, highWaterMark: 1 << 20 });
  for await (const raw of pkg.payloadSize === 0 ? [] : stream) {
    const chunk = raw as Buffer;
    read += chunk.length;
    compressedHash.update(chunk);
    if (failure !== undefined) continue;
    try {
      for (const out of decoder.push(chunk)) {
        produced += out.length;
        if (produced > metadata.payload.uncompressedSize) {
          throw new KilnError('E_PACKAGE_SIZE', `${context}: the payload decompresses to more than the ${metadata.payload.uncompressedSize} bytes it declares`, {
            hint: 'the package is malformed or hostile (a decompression bomb)',
          });
        }
        for (const event of parser.push(out)) {
          if (event.kind === 'entry') await onEntry(event.header);
          else if (event.kind === 'data') {
            fileHash?.update(event.chunk);
            await visitor.data?.(current!, event.chunk);
          } else await onEnd();
        }
      }
    } catch (error) {
      if (!(error instanceof KilnError) && !(error instanceof ZstdDataError)) throw error;
      failure = error;
    }
  }
  if (pkg.payloadSize === 0) stream.destroy();
  if (read !== pkg.payloadSize) {
    throw new KilnError('E_PACKAGE_TRUNCATED', `${context}: the payload ends after ${read} of ${pkg.payloadSize} bytes`, { hint: 'the file is incomplete; download or copy it again' });
  }
  if (compressedHash.digest('hex') !== metadata.payload.sha256) {
    throw new KilnError('E_PACKAGE_HASH', `${context}: the payload does not match the sha256 in its metadata`, { hint: 'the package is corrupt or was altered; download it again' });
  }
  try {
    if (failure !== undefined) throw failure;
    decoder.end();
    parser.finish();
  } catch (error) {
    if (error instanceof ZstdDataError) {
      throw new KilnError('E_PACKAGE_FORMAT', `${context}: the payload is not valid zstd data (${error.message})`, { hint: 'the package is corrupt', cause: error });
    }
    throw error;
  }
  if (index !== files.length) mismatch(`the payload ends after ${index} of the ${files.length} entries the manifest lists`);
  if (produced !== metadata.payload.uncompressedSize) {
    throw new KilnError('E_PACKAGE_SIZE', `${context}: the payload decompresses to ${produced} bytes, not the ${metadata.payload.uncompressedSize} it declares`, { hint: 'the package is malformed' });
  }
}
