/**
 * The file list of a published index, what `pacman -F` reads: every path
 * each package of index serial N installs, published beside that index's
 * snapshot as `indexes/N.files.json.zst` with a detached signature whose
 * trusted comment names the repository and the serial. A client fetches it
 * only when asked (`kiln files --available`, `kiln owns --available`), for the
 * serial it has synced, so the list always matches the index it trusts.
 * docs/repository.md describes the format.
 */
import { join } from 'node:path';
import { KilnError } from '../errors/index.js';
import type { EntryType } from '../format/metadata.js';
import { fullVersion } from '../format/metadata.js';
import { openPackage } from '../format/openPackage.js';
import { pathProblem } from '../format/manifestSafety.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import { ZstdDataError, ZstdEncoder, decompressLimited } from '../util/zstd.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectInteger, expectObject, expectString } from '../util/shape.js';
import type { IndexEntry, RepositoryIndex } from './indexFormat.js';
import { SIGNATURE_SUFFIX, SNAPSHOT_DIR } from './layout.js';
import type { PublicKey } from '../sign/index.js';
import { parseSignature } from '../sign/parseSignature.js';
import { verifyData } from '../sign/verifyData.js';

export const FILE_LIST_FORMAT = 'kiln-files';
export const FILE_LIST_FORMAT_VERSION = 1;
/** The most a file list may decompress to: far above any real repository's, far below a bomb's. */
export const MAX_FILE_LIST_BYTES = 1024 * 1024 * 1024;

/** One path a package installs: `[path, type]`, or `[path, "symlink", target]`. */
export type ListedFile = [string, EntryType] | [string, 'symlink', string];

export interface FileListPackage {
  name: string;
  /** Full version (`1.2-r1`). */
  version: string;
  variant: string;
  /** sha256 of the package file: the same as its index entry's. */
  sha256: string;
  files: ListedFile[];
}

export interface FileList {
  format: typeof FILE_LIST_FORMAT;
  formatVersion: typeof FILE_LIST_FORMAT_VERSION;
  name: string;
  serial: number;
  packages: FileListPackage[];
}

/** Relative URL path of the file list of index `serial`, under the published tree. */
export function fileListPath(serial: number): string {
  return `${SNAPSHOT_DIR}/${serial}.files.json.zst`;
}

export function fileListTrustedComment(index: Pick<RepositoryIndex, 'name' | 'serial'>): string {
  return `kiln files ${index.name} serial ${index.serial}`;
}

/**
 * The file list of `index`, read from the manifests of its package files
 * under `published`; a package the previous list (`previous`) has already,
 * by sha256, is taken from there, so that a commit opens only what it adds.
 */
export async function buildFileList(published: string, index: RepositoryIndex, previous?: FileList): Promise<FileList> {
  const known = new Map((previous?.packages ?? []).map((pkg) => [pkg.sha256, pkg]));
  const packages = await mapConcurrent(index.packages, 8, async (entry: IndexEntry): Promise<FileListPackage> => {
    const old = known.get(entry.sha256);
    if (old !== undefined) return old;
    const { metadata } = await openPackage(join(published, entry.path));
    return {
      name: entry.name,
      version: fullVersion(entry),
      variant: entry.variant,
      sha256: entry.sha256,
      files: metadata.files.map(
        (file): ListedFile =>
          file.type === 'symlink' ? [file.path, 'symlink', file.target ?? ''] : [file.path, file.type],
      ),
    };
  });
  return {
    format: FILE_LIST_FORMAT,
    formatVersion: FILE_LIST_FORMAT_VERSION,
    name: index.name,
    serial: index.serial,
    packages,
  };
}

/** The compressed bytes that are published (one zstd frame of the JSON). */
export function encodeFileList(list: FileList): Buffer {
  const json = Buffer.from(JSON.stringify(list));
  const encoder = new ZstdEncoder(12, json.length);
  return Buffer.concat([...encoder.push(json), ...encoder.end()]);
}

const TYPES: readonly string[] = ['file', 'dir', 'symlink', 'hardlink'];

/** Decompress (bounded) and check a file list; `source` names it in errors. */
export function decodeFileList(bytes: Uint8Array, source: string): FileList {
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_INDEX_FORMAT', `cannot read file list ${source}: ${where} ${problem}`, {
      hint: 'the repository published a damaged file list; tell its maintainer',
    });
  };
  let json: Buffer | undefined;
  try {
    json = decompressLimited(bytes, MAX_FILE_LIST_BYTES);
  } catch (error) {
    if (error instanceof ZstdDataError) return fail('(file)', `is not valid zstd data (${error.message})`);
    throw error;
  }
  if (json === undefined)
    throw new KilnError('E_PACKAGE_SIZE', `cannot read file list ${source}: it decompresses to more than 1 GiB`, {
      hint: 'the repository published a file list no client should read; tell its maintainer',
    });
  let data: unknown;
  try {
    data = JSON.parse(json.toString('utf8'));
  } catch {
    return fail('(file)', 'is not JSON');
  }
  const root = expectObject(data, '(top level)', fail, ['format', 'formatVersion', 'name', 'serial', 'packages']);
  if (root['format'] !== FILE_LIST_FORMAT) fail('format', `must be "${FILE_LIST_FORMAT}"`);
  if (root['formatVersion'] !== FILE_LIST_FORMAT_VERSION) fail('formatVersion', `must be ${FILE_LIST_FORMAT_VERSION}`);
  const packages = expectArray(root['packages'], 'packages', fail).map((value, i): FileListPackage => {
    const where = `packages[${i}]`;
    const pkg = expectObject(value, where, fail, ['name', 'version', 'variant', 'sha256', 'files']);
    const files = expectArray(pkg['files'], `${where}.files`, fail).map((item, j): ListedFile => {
      const at = `${where}.files[${j}]`;
      if (!Array.isArray(item) || item.length < 2 || item.length > 3)
        return fail(at, 'must be [path, type] or [path, "symlink", target]');
      const [path, type, target] = item as unknown[];
      if (typeof path !== 'string' || pathProblem(path) !== undefined)
        return fail(at, `${JSON.stringify(path)} is not a safe path`);
      if (typeof type !== 'string' || !TYPES.includes(type))
        return fail(at, `${JSON.stringify(type)} is not a file type`);
      if (type === 'symlink') {
        if (typeof target !== 'string') return fail(at, 'a symlink needs its target');
        return [path, 'symlink', target];
      }
      if (item.length !== 2) return fail(at, 'only a symlink has a target');
      return [path, type as EntryType];
    });
    return {
      name: expectString(pkg['name'], `${where}.name`, fail),
      version: expectString(pkg['version'], `${where}.version`, fail),
      variant: expectString(pkg['variant'], `${where}.variant`, fail),
      sha256: expectString(pkg['sha256'], `${where}.sha256`, fail),
      files,
    };
  });
  return {
    format: FILE_LIST_FORMAT,
    formatVersion: FILE_LIST_FORMAT_VERSION,
    name: expectString(root['name'], 'name', fail),
    serial: expectInteger(root['serial'], 'serial', fail, 1, Number.MAX_SAFE_INTEGER),
    packages,
  };
}

/**
 * A fetched file list checked against the index it belongs to: signed by a
 * trusted key for this repository and serial, well-formed, and listing
 * exactly the packages of the index (by sha256). Anything else is refused.
 */
export function verifiedFileList(
  bytes: Uint8Array,
  signatureText: string,
  trusted: readonly PublicKey[],
  index: Pick<RepositoryIndex, 'name' | 'serial'> & { packages: readonly Pick<IndexEntry, 'sha256'>[] },
  source: string,
): FileList {
  const signature = parseSignature(signatureText, `${source}${SIGNATURE_SUFFIX}`);
  verifyData(bytes, signature, trusted, { source });
  const expected = fileListTrustedComment(index);
  if (signature.trustedComment !== expected)
    throw new KilnError(
      'E_SIGNATURE_INVALID',
      `cannot accept file list ${source}: it is signed as "${signature.trustedComment}", not "${expected}"`,
      { hint: 'a file list of another repository or serial was put in its place; tell the maintainer' },
    );
  const list = decodeFileList(bytes, source);
  const listed = new Set(list.packages.map((pkg) => pkg.sha256));
  const indexed = new Set(index.packages.map((entry) => entry.sha256));
  if (
    list.name !== index.name ||
    list.serial !== index.serial ||
    listed.size !== indexed.size ||
    [...indexed].some((sha256) => !listed.has(sha256))
  )
    throw new KilnError(
      'E_INDEX_MISMATCH',
      `cannot accept file list ${source}: it does not list the packages of index ${index.name} serial ${index.serial}`,
      { hint: 'the repository published a file list that does not match its index; tell its maintainer' },
    );
  return list;
}
