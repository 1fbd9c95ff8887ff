/**
 * Read a published index the way a client does, race-free against a commit in
 * progress: fetch the small signature first (its trusted comment names the
 * serial), then the immutable snapshot `indexes/SERIAL.json` that it signs.
 * A commit writes the snapshot before it replaces the signature, so the pair
 * always matches; `index.json` itself is only a convenience copy.
 */
import { join } from 'node:path';
import { KilnError, isKilnError } from '../errors/index.js';
import { readFileIfExists } from '../util/fs.js';
import type { PublicKey } from '../sign/types.js';
import { parseSignature } from '../sign/parseSignature.js';
import { verifyData } from '../sign/verifyData.js';
import type { RepositoryIndex } from './indexFormat.js';
import { indexTrustedComment, parseIndex, serialFromTrustedComment } from './indexFormat.js';
import { INDEX_FILE, PUBLIC_DIR, SIGNATURE_SUFFIX, snapshotPath } from './layout.js';
import type { IndexRoot } from './indexV2.js';
import { ROOT_FILE, parseRoot, rootSnapshotPath, rootTrustedComment, serialFromRootComment } from './indexV2.js';

/** Fetches a file of a repository by its relative path; `undefined` when it does not exist. */
export type RepositoryFetcher = (relativePath: string) => Promise<Buffer | undefined>;

export interface PublishedIndex {
  index: RepositoryIndex;
  /** The exact signed bytes. */
  bytes: Buffer;
  signatureText: string;
  signer: PublicKey;
}

/**
 * @example const { index } = await readPublishedIndex(localFetcher('/srv/repo'), [key], '/srv/repo')
 */
export async function readPublishedIndex(
  fetch: RepositoryFetcher,
  trusted: readonly PublicKey[],
  source: string,
): Promise<PublishedIndex> {
  const signaturePath = INDEX_FILE + SIGNATURE_SUFFIX;
  const signatureBytes = (await fetch(signaturePath)) ?? (await v1SnapshotSignature(fetch, source));
  if (signatureBytes === undefined) {
    if (await holdsPublishedTree(fetch)) {
      throw new KilnError(
        'E_REPO_NOT_FOUND',
        `cannot read repository ${source}: it is a repository's maintainer directory, not its published tree`,
        {
          hint: `use ${publishedTreeOf(source)}, the directory the repository publishes (its .kiln/ is private)`,
        },
      );
    }
    throw new KilnError('E_REPO_NOT_FOUND', `cannot read repository ${source}: it has no ${signaturePath}`, {
      hint: 'check the URL; a Kiln repository is made with "kiln repo init"',
    });
  }
  const read = await readSignedSnapshot(fetch, signatureBytes, trusted, source, {
    file: INDEX_FILE,
    snapshotOf: snapshotPath,
    serialOf: serialFromTrustedComment,
    parse: parseIndex,
    commentOf: indexTrustedComment,
  });
  return { index: read.value, bytes: read.bytes, signatureText: read.signatureText, signer: read.signer };
}

/**
 * The index of an earlier serial, from its immutable signed snapshot
 * `indexes/SERIAL.json`, checked like the current one; undefined when that
 * snapshot is gone (pruned).
 */
export async function readIndexAtSerial(
  fetch: RepositoryFetcher,
  trusted: readonly PublicKey[],
  source: string,
  serial: number,
): Promise<PublishedIndex | undefined> {
  const signature = snapshotPath(serial) + SIGNATURE_SUFFIX;
  if ((await fetch(signature)) === undefined) return undefined;
  const atSerial: RepositoryFetcher = (path) => fetch(path === INDEX_FILE + SIGNATURE_SUFFIX ? signature : path);
  const read = await readPublishedIndex(atSerial, trusted, source);
  if (read.index.serial !== serial)
    throw new KilnError(
      'E_INDEX_MISMATCH',
      `cannot read repository ${source}: ${signature} is the index of serial ${read.index.serial}`,
      { hint: 'the published tree was altered; run "kiln repo verify"' },
    );
  return read;
}

/** How one index format names and checks its files. */
interface SignedFormat<T extends { name: string; serial: number }> {
  /** The current copy, e.g. `index.json`; its signature is `FILE.minisig`. */
  file: string;
  snapshotOf: (serial: number) => string;
  serialOf: (trustedComment: string) => number | undefined;
  parse: (bytes: Buffer, where: string) => T;
  commentOf: (value: T) => string;
}

/**
 * Given the current signature, fetch the immutable snapshot it names (or the
 * current copy when that is gone), verify it with the trusted keys, parse it
 * and check that the signature was made for it.
 */
async function readSignedSnapshot<T extends { name: string; serial: number }>(
  fetch: RepositoryFetcher,
  signatureBytes: Buffer,
  trusted: readonly PublicKey[],
  source: string,
  format: SignedFormat<T>,
): Promise<{ value: T; bytes: Buffer; signatureText: string; signer: PublicKey }> {
  const signatureText = signatureBytes.toString('utf8');
  const signature = parseSignature(signatureText, `${source}/${format.file}${SIGNATURE_SUFFIX}`);
  const serial = format.serialOf(signature.trustedComment);
  let where = `${source}/${format.snapshotOf(serial ?? 0)}`;
  let bytes = serial === undefined ? undefined : await fetch(format.snapshotOf(serial));
  if (bytes === undefined) {
    // A repository whose snapshots were pruned or copied without them: fall back to the copy.
    where = `${source}/${format.file}`;
    bytes = await fetch(format.file);
    if (bytes === undefined)
      throw new KilnError('E_REPO_NOT_FOUND', `cannot read repository ${source}: it has no ${format.file}`, {
        hint: 'the repository is incomplete',
      });
  }
  const signer = verifyData(bytes, signature, trusted, { source: where });
  const value = format.parse(bytes, where);
  if (signature.trustedComment !== format.commentOf(value)) {
    throw new KilnError(
      'E_SIGNATURE_INVALID',
      `cannot verify repository index ${where}: its signature was made for "${signature.trustedComment}", not for index ${value.name} serial ${value.serial}`,
      { hint: 'the index and its signature do not belong together' },
    );
  }
  return { value, bytes, signatureText, signer };
}

/**
 * The signature of the v1 snapshot of the serial the current v2 root names,
 * for a repository that no longer publishes `index.json` (publishV1 = false)
 * but keeps its v1 snapshots as its own record. The serial is only a hint:
 * the snapshot's signature is checked as any other.
 */
async function v1SnapshotSignature(fetch: RepositoryFetcher, source: string): Promise<Buffer | undefined> {
  const rootSignature = await fetch(ROOT_FILE + SIGNATURE_SUFFIX);
  if (rootSignature === undefined) return undefined;
  const serial = serialFromRootComment(
    parseSignature(rootSignature.toString('utf8'), `${source}/${ROOT_FILE}${SIGNATURE_SUFFIX}`).trustedComment,
  );
  return serial === undefined ? undefined : fetch(snapshotPath(serial) + SIGNATURE_SUFFIX);
}

/**
 * Whether the fetcher's directory has a published tree in public/: someone
 * gave the maintainer's directory DIR where DIR/public was meant. Only for a
 * better message: a probe that fails says no.
 */
async function holdsPublishedTree(fetch: RepositoryFetcher): Promise<boolean> {
  try {
    return (
      (await fetch(`${PUBLIC_DIR}/${INDEX_FILE}${SIGNATURE_SUFFIX}`)) !== undefined ||
      (await fetch(`${PUBLIC_DIR}/${ROOT_FILE}${SIGNATURE_SUFFIX}`)) !== undefined
    );
  } catch (error) {
    if (isKilnError(error)) return false;
    throw error;
  }
}

/**
 * The published tree of the maintainer's directory `dir` (a path or URL).
 * @example publishedTreeOf('https://pkg.example.org/main/') // 'https://pkg.example.org/main/public'
 */
export function publishedTreeOf(dir: string): string {
  return `${dir.replace(/\/+$/, '')}/${PUBLIC_DIR}`;
}

/** A fetcher over a local published tree. */
export function localFetcher(root: string): RepositoryFetcher {
  return (relativePath) => readFileIfExists(join(root, relativePath));
}

export interface PublishedRoot {
  root: IndexRoot;
  /** The exact signed bytes. */
  bytes: Buffer;
  signatureText: string;
  signer: PublicKey;
}

/**
 * Read a published v2 root as `readPublishedIndex` reads v1: its signature,
 * then the immutable snapshot `indexes/SERIAL.v2.json` it names (or the
 * current copy when that is gone). Undefined when the repository publishes no
 * v2 root (a repository committed by a Kiln before format v2).
 */
export async function readPublishedRoot(
  fetch: RepositoryFetcher,
  trusted: readonly PublicKey[],
  source: string,
): Promise<PublishedRoot | undefined> {
  const signatureBytes = await fetch(ROOT_FILE + SIGNATURE_SUFFIX);
  if (signatureBytes === undefined) return undefined;
  const read = await readSignedSnapshot(fetch, signatureBytes, trusted, source, {
    file: ROOT_FILE,
    snapshotOf: rootSnapshotPath,
    serialOf: serialFromRootComment,
    parse: parseRoot,
    commentOf: rootTrustedComment,
  });
  return { root: read.value, bytes: read.bytes, signatureText: read.signatureText, signer: read.signer };
}
