/**
 * `kiln repo verify DIR`: the index against the keys, and every package
 * against the index — present, same size and sha256, signed by a trusted key,
 * metadata that says what the index says, and (unless quick) a payload that
 * matches its manifest; and that nothing private is in the published tree.
 * Every problem is collected and reported together.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno, isKilnError } from '../errors/index.js';
import { openPackage, verifyPackage, verifyPackageSignature } from '../format/index.js';
import type { PublicKey } from '../sign/index.js';
import { sha256File } from '../util/hash.js';
import { readFileIfExists } from '../util/fs.js';
import { stableStringify } from '../util/json.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import type { RepositoryIndex } from './indexFormat.js';
import { entryKey, indexEntryFor } from './indexFormat.js';
import type { IndexRoot, Pin, PinnedKind } from './indexV2.js';
import { ROOT_FILE, openPinned, parseNameTable, parseShard, pinnedPath } from './indexV2.js';
import { findPrivateFiles } from './findPrivateFiles.js';
import { PACKAGES_DIR, SIGNATURE_SUFFIX } from './layout.js';
import { fileListPath, verifiedFileList } from './fileList.js';
import { openRepository, recoverIfInterrupted } from './openRepository.js';
import { localFetcher, readPublishedIndex, readPublishedRoot } from './readPublishedIndex.js';

/** Packages checked at once: hides file-system latency; hashing runs in libuv's pool. */
const VERIFY_CONCURRENCY = 4;

export interface VerifyRepositoryOptions {
  /** Trust these keys instead of the repository's own keys/ (what a client would do). */
  trusted?: readonly PublicKey[] | undefined;
  /** Check hashes and signatures only; do not decompress payloads. */
  quick?: boolean | undefined;
  now?: Date | undefined;
}

export interface VerifyRepositoryReport {
  index: Pick<RepositoryIndex, 'name' | 'serial' | 'created' | 'expires'>;
  signer: string;
  packages: number;
  /** Package files under packages/ that no index references (removed by "kiln repo prune"). */
  unreferenced: string[];
}

export async function verifyRepository(
  root: string,
  options: VerifyRepositoryOptions = {},
): Promise<VerifyRepositoryReport> {
  const repo = await openRepository(root);
  await recoverIfInterrupted(repo);
  const trusted = options.trusted ?? repo.keys;
  const published = await readPublishedIndex(localFetcher(repo.paths.public), trusted, repo.paths.public);
  const { index } = published;
  const exposed = await findPrivateFiles(repo.paths);
  const problems = [...exposed];
  const now = options.now ?? new Date();
  if (Date.parse(index.expires) <= now.getTime())
    problems.push(`the index expired at ${index.expires} (renew it with "kiln repo commit --allow-empty")`);
  const current = await readFileIfExists(repo.paths.index);
  if (current !== undefined && !current.equals(published.bytes))
    problems.push('index.json differs from the signed snapshot of the same serial');
  const currentSignature = await readFileIfExists(repo.paths.indexSignature);
  if (repo.config.publishV1 && currentSignature?.toString('utf8') !== published.signatureText)
    problems.push('index.json.minisig is not the signature of the current snapshot');
  problems.push(...(await indexV2Problems(repo.paths.public, index, trusted)));
  // The file list of the current serial (kiln files --available): present, signed and matching the index.
  const listPath = join(repo.paths.public, fileListPath(index.serial));
  const list = await readFileIfExists(listPath);
  const listSignature = await readFileIfExists(listPath + SIGNATURE_SUFFIX);
  if (list === undefined || listSignature === undefined)
    problems.push(`${fileListPath(index.serial)} is missing (the next "kiln repo commit" writes it)`);
  else {
    try {
      verifiedFileList(list, listSignature.toString('utf8'), trusted, index, listPath);
    } catch (error) {
      if (!(error instanceof KilnError)) throw error;
      problems.push(error.message);
    }
  }

  const packageProblems = await mapConcurrent(
    index.packages,
    VERIFY_CONCURRENCY,
    async (entry): Promise<string | undefined> => {
      const path = join(repo.paths.public, entry.path);
      try {
        const { size, sha256 } = await sha256File(path);
        if (size !== entry.size || sha256 !== entry.sha256) {
          return `${entry.path}: ${size !== entry.size ? `size ${size}, the index pins ${entry.size}` : 'sha256 differs from the one the index pins'}`;
        }
        const pkg = options.quick ? await openPackage(path) : await verifyPackage(path, { trusted });
        if (options.quick) verifyPackageSignature(path, pkg.metadata, pkg.metadataBytes, pkg.signatureText, trusted);
        if (stableStringify(indexEntryFor(pkg.metadata, entry.path, size, sha256)) !== stableStringify(entry)) {
          return `${entry.path}: its metadata does not say what the index says about it`;
        }
        return undefined;
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return `${entry.path}: missing`;
        if (isKilnError(error)) return `${entry.path}: ${error.message}`;
        throw error;
      }
    },
  );
  for (const problem of packageProblems) if (problem !== undefined) problems.push(problem);
  if (problems.length > 0) {
    const shown = problems
      .slice(0, 50)
      .map((problem) => `  - ${problem}`)
      .join('\n');
    const more = problems.length > 50 ? `\n  ... and ${problems.length - 50} more` : '';
    throw new KilnError(
      'E_REPO_VERIFY',
      `cannot verify repository ${root}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${shown}${more}`,
      {
        hint:
          exposed.length > 0
            ? `move what is private out of ${repo.paths.public} at once: whatever serves it serves that too`
            : 'republish damaged packages with "kiln repo add" (after "kiln repo remove"), then "kiln repo commit"',
      },
    );
  }
  const referenced = new Set(index.packages.map((entry) => entry.path));
  const unreferenced = (await listPackageFiles(repo.paths.public)).filter((path) => !referenced.has(path));
  return {
    index: { name: index.name, serial: index.serial, created: index.created, expires: index.expires },
    signer: published.signer.keyId,
    packages: index.packages.length,
    unreferenced,
  };
}

/** Every file under `published`/packages/, as paths relative to the published tree `published`. */
export async function listPackageFiles(published: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(published, relative), { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else files.push(path);
    }
  };
  await walk(PACKAGES_DIR);
  return files.sort();
}

/**
 * What is wrong with the v2 form of `index` (indexV2.ts): a root for the same
 * commit, signed by a trusted key, whose name table, soname table and every
 * shard are present, match their pins and hold exactly the index's entries.
 */
async function indexV2Problems(
  published: string,
  index: RepositoryIndex,
  trusted: readonly PublicKey[],
): Promise<string[]> {
  const fetch = localFetcher(published);
  let root: IndexRoot;
  try {
    const read = await readPublishedRoot(fetch, trusted, published);
    // Committed by a Kiln before format v2: clients read v1 until the next commit publishes v2.
    if (read === undefined) return [];
    root = read.root;
  } catch (error) {
    if (isKilnError(error)) return [error.message];
    throw error;
  }
  // One serial behind is what a commit interrupted after v1's commit point leaves; the next commit catches up.
  if (root.serial < index.serial) return [];
  if (root.serial !== index.serial || root.created !== index.created || root.expires !== index.expires)
    return [`${ROOT_FILE} is of serial ${root.serial}, not of the current serial ${index.serial}`];
  const problems: string[] = [];
  const open = async (kind: PinnedKind, pin: Pin): Promise<Buffer | undefined> => {
    const path = pinnedPath(kind, pin);
    const bytes = await fetch(path);
    if (bytes === undefined) {
      problems.push(`${path}: missing`);
      return undefined;
    }
    try {
      return openPinned(bytes, pin, path);
    } catch (error) {
      if (!isKilnError(error)) throw error;
      problems.push(error.message);
      return undefined;
    }
  };
  await open('provides', root.provides);
  const tableBytes = await open('names', root.names);
  if (tableBytes === undefined) return problems;
  const expected = new Map(index.packages.map((entry) => [entryKey(entry), entry.sha256]));
  let found = 0;
  try {
    const table = parseNameTable(tableBytes.toString('utf8'), pinnedPath('names', root.names));
    const shards = await mapConcurrent([...table.values()], VERIFY_CONCURRENCY, async (row) => {
      const bytes = await open('shards', row.shard);
      return bytes === undefined ? [] : parseShard(bytes, row.name, pinnedPath('shards', row.shard));
    });
    for (const entry of shards.flat()) {
      found++;
      if (expected.get(entryKey(entry)) !== entry.sha256)
        problems.push(`the v2 shard of ${entry.name} lists ${entryKey(entry)}, which the index does not`);
    }
  } catch (error) {
    if (!isKilnError(error)) throw error;
    problems.push(error.message);
  }
  if (problems.length === 0 && found !== index.packages.length)
    problems.push(`the v2 shards list ${found} packages, the index ${index.packages.length}`);
  return problems;
}
