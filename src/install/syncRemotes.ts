/**
 * `kiln sync`: download every remote's index, verify it with that remote's
 * trusted keys, and accept it only if it is not older than the last one
 * accepted (rollback) and has not expired (freeze). Accepted indexes are kept
 * in `var/lib/kiln/indexes/` with their signatures.
 */
import { shellQuote } from '../util/shellQuote.js';
import { mkdir } from 'node:fs/promises';
import type { PrefixConfig, PrefixPaths, RemoteConfig } from '../config/index.js';
import { readPrefixConfig, remoteKeys, transferLimitsOf, writePrefixConfig } from '../config/index.js';
import type { TrustedRoot } from '../repo/keyRoot.js';
import { followRoots } from '../repo/keyRoot.js';
import { encodePublicKey } from '../sign/formatPublicKey.js';
import type { TransferLimits } from '../remote/transferLimits.js';
import type { PackageStore, RemoteState } from '../db/index.js';
import { KilnError, isKilnError } from '../errors/index.js';
import { parseRemoteUrl, redactUrl } from '../remote/remoteUrl.js';
import { remoteFetcher } from '../remote/remoteFetcher.js';
import type { RepositoryFetcher } from '../repo/readPublishedIndex.js';
import { readPublishedIndex, readPublishedRoot } from '../repo/readPublishedIndex.js';
import { acceptAdvisories } from './remoteAdvisories.js';
import { acceptRoot, forgetRoot, syncedRootPath } from './remoteShards.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readSearchText, writeSearchList } from './searchList.js';
import { dirname } from 'node:path';
import { syncedIndexPath } from '../config/prefixLayout.js';
import { sha256 } from '../util/hash.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import { lstatIfExists } from '../util/fs.js';

export interface SyncResult {
  remote: string;
  url: string;
  serial: number;
  previousSerial: number | null;
  packages: number;
  expires: string;
  status: 'updated' | 'unchanged';
  /** The index format read: 2 where the repository publishes it. */
  format: 1 | 2;
  /** Bytes fetched from the remote by this sync. */
  fetchedBytes: number;
  /** URLs of the remote tried before `url` and passed over, each with why (failed, too slow, behind, bad). */
  skipped: { url: string; problem: string }[];
  /** The key rotations followed: from root version, to root version, and the keys trusted now. */
  rotated?: { from: number; to: number; keys: string[] };
}

/** What makes a mirror be passed over for the next URL: it cannot be read, is too slow, or offers a bad or older index. */
const MIRROR_PROBLEMS = new Set([
  'E_FETCH',
  'E_FETCH_SLOW',
  'E_INDEX_ROLLBACK',
  'E_INDEX_EXPIRED',
  'E_REPO_NOT_FOUND',
  'E_SIGNATURE_INVALID',
  'E_SIGNATURE_UNTRUSTED',
  'E_SIGNATURE_FORMAT',
  'E_INDEX_FORMAT',
  'E_INDEX_MISMATCH',
  'E_INDEX_DUPLICATE',
]);

/**
 * Sync one remote from its URL, else from its mirrors in order: one that fails, is too slow or offers an index
 * older than the one accepted (the accepted serial is the remote's, whichever URL served it) is passed over
 * with the reason. When every URL fails, the first URL's error is raised, naming the others'.
 */
async function syncOne(
  paths: PrefixPaths,
  store: PackageStore,
  remote: RemoteConfig,
  now: Date,
  limits: TransferLimits,
): Promise<SyncResult> {
  const urls = [remote.url, ...(remote.mirrors ?? [])];
  const skipped: SyncResult['skipped'] = [];
  const errors: KilnError[] = [];
  for (const url of urls) {
    try {
      return { ...(await syncFrom(paths, store, remote, url, now, limits)), skipped };
    } catch (error) {
      if (urls.length === 1 || !isKilnError(error) || !MIRROR_PROBLEMS.has(error.code)) throw error;
      errors.push(error);
      skipped.push({ url: redactUrl(url), problem: `${error.code}: ${error.message}` });
    }
  }
  const first = errors[0]!;
  throw new KilnError(
    first.code,
    `${first.message}; its ${urls.length - 1 === 1 ? 'mirror' : `${urls.length - 1} mirrors`} failed too:${errors
      .slice(1)
      .map((error, i) => `\n  ${redactUrl(urls[i + 1]!)}: ${error.message}`)
      .join('')}`,
    { hint: first.hint, cause: first },
  );
}

async function syncFrom(
  paths: PrefixPaths,
  store: PackageStore,
  remote: RemoteConfig,
  urlText: string,
  now: Date,
  limits: TransferLimits,
): Promise<Omit<SyncResult, 'skipped'>> {
  const url = parseRemoteUrl(urlText);
  const shown = redactUrl(url);
  const fetch = countingFetcher(remoteFetcher(url, { limits, remote: remote.name }));
  // Key rotations first: each next root the repository publishes must be signed by the keys trusted before it.
  const start: TrustedRoot = {
    version: remote.rootVersion ?? 0,
    threshold: remote.rootThreshold ?? 1,
    keys: remoteKeys(remote, paths.config),
  };
  const walked = await followRoots(fetch, start, shown, now);
  const trusted = walked.trusted.keys;
  const untrustedHint = (error: unknown): never => {
    // The hint names the command that adds a key to this remote.
    if (isKilnError(error, 'E_SIGNATURE_UNTRUSTED')) {
      const id = /made by key ([0-9A-F]{16})/.exec(error.message)?.[1] ?? 'KEYID';
      throw new KilnError(error.code, error.message, {
        hint: `if the repository now signs with key ${id} and you trust it, add its public key: kiln remote key add ${shellQuote(remote.name)} PUBKEY`,
        cause: error,
      });
    }
    throw error;
  };
  // Format v2 where the repository publishes it, else v1.
  const root = await readPublishedRoot(fetch, trusted, shown).catch(untrustedHint);
  const published =
    root === undefined ? await readPublishedIndex(fetch, trusted, shown).catch(untrustedHint) : undefined;
  const head = root?.root ?? published!.index;
  const bytes = root?.bytes ?? published!.bytes;
  const previous = store.remoteState(remote.name);
  const digest = sha256(bytes);
  if (previous !== undefined && head.serial < previous.serial) {
    throw new KilnError(
      'E_INDEX_ROLLBACK',
      `cannot accept the index of remote ${remote.name} (${shown}): its serial ${head.serial} is older than serial ${previous.serial}, accepted on ${previous.syncedAt}`,
      {
        hint: 'the server (or a mirror, or an attacker) is offering an old index; the previous one stays in use',
      },
    );
  }
  if (previous !== undefined && head.serial === previous.serial && digest !== previous.sha256) {
    // The same commit seen in the other format is not a second index of one serial.
    const sameCommit = previous.created === head.created && previous.expires === head.expires;
    if (!sameCommit)
      throw new KilnError(
        'E_INDEX_ROLLBACK',
        `cannot accept the index of remote ${remote.name} (${shown}): serial ${head.serial} was already accepted with different content`,
        {
          hint: 'a repository never publishes two indexes with one serial; the previous one stays in use',
        },
      );
  }
  const expires = Date.parse(head.expires);
  if (!(expires > now.getTime())) {
    throw new KilnError(
      'E_INDEX_EXPIRED',
      `cannot accept the index of remote ${remote.name} (${shown}): serial ${head.serial} expired at ${head.expires}`,
      {
        hint: 'the repository has not published a fresh index in time (a freeze): its maintainer must commit one (kiln repo commit re-signs it); check your clock too. The previous index stays in use until it expires',
      },
    );
  }
  let packages: number;
  if (root !== undefined) {
    if (
      previous?.sha256 !== digest ||
      lstatIfExists(syncedRootPath(paths, remote.name)) === undefined ||
      readSearchText(syncedIndexPath(paths, remote.name), digest) === undefined
    )
      await acceptRoot(paths, remote.name, root, fetch, shown);
    packages = root.root.packages;
  } else {
    const { index } = published!;
    // Written again when the accepted copy is gone (dropped by a layout migration, or deleted by hand).
    if (previous?.sha256 !== digest || lstatIfExists(syncedIndexPath(paths, remote.name)) === undefined) {
      const target = syncedIndexPath(paths, remote.name);
      await mkdir(dirname(target), { recursive: true });
      // Signature first, then the index: a reader only trusts the database row, written last.
      await writeFileAtomic(`${target}.minisig`, published!.signatureText);
      await writeFileAtomic(target, published!.bytes);
      await forgetRoot(paths, remote.name);
    }
    if (previous?.sha256 !== digest || readSearchText(syncedIndexPath(paths, remote.name), digest) === undefined) {
      await writeSearchList(syncedIndexPath(paths, remote.name), digest, index.packages);
    }
    packages = index.packages.length;
  }
  // The advisories the index pins, before the row that makes the index current.
  await acceptAdvisories(paths, remote.name, head.advisories, fetch, shown);
  // A rotation is trusted from now on: the remote's keys become the new root's.
  if (walked.root !== undefined) await trustRoot(paths, remote.name, walked.trusted);
  const state: RemoteState = {
    name: remote.name,
    serial: head.serial,
    created: head.created,
    expires: head.expires,
    syncedAt: now.toISOString(),
    sha256: digest,
  };
  store.setRemoteState(state);
  return {
    remote: remote.name,
    url: shown,
    serial: head.serial,
    previousSerial: previous?.serial ?? null,
    packages,
    expires: head.expires,
    status: previous?.sha256 === digest ? 'unchanged' : 'updated',
    format: root === undefined ? 1 : 2,
    fetchedBytes: fetch.bytes(),
    ...(walked.root === undefined
      ? {}
      : {
          rotated: {
            from: start.version,
            to: walked.trusted.version,
            keys: walked.trusted.keys.map((key) => key.keyId),
          },
        }),
  };
}

/** Record a followed rotation in the prefix's configuration: the root's version, threshold and keys. */
async function trustRoot(paths: PrefixPaths, name: string, root: TrustedRoot): Promise<void> {
  const config = await readPrefixConfig(paths);
  const remote = config.remotes.find((candidate) => candidate.name === name);
  if (remote === undefined) return;
  const keys = root.keys.map((key) => encodePublicKey(key));
  const retired = [...(remote.retiredKeys ?? []), ...remote.keys].filter((key) => !keys.includes(key));
  remote.retiredKeys = [...new Set(retired)];
  remote.keys = keys;
  remote.rootVersion = root.version;
  remote.rootThreshold = root.threshold;
  await writePrefixConfig(paths, config);
}

/** A fetcher that counts the bytes it fetched. */
function countingFetcher(fetch: RepositoryFetcher): RepositoryFetcher & { bytes(): number } {
  let total = 0;
  const counting = async (path: string) => {
    const bytes = await fetch(path);
    total += bytes?.length ?? 0;
    return bytes;
  };
  return Object.assign(counting, { bytes: () => total });
}

/** A remote that did not sync, with its own error (code, message, hint). */
export interface SyncFailure {
  remote: string;
  status: 'failed';
  code: string;
  message: string;
  hint: string | undefined;
}

/** Sync every remote (or the named ones) and say how each went; a failure does not stop the others. */
export async function syncEachRemote(
  paths: PrefixPaths,
  config: PrefixConfig,
  store: PackageStore,
  now: Date,
  names?: readonly string[],
): Promise<(SyncResult | SyncFailure)[]> {
  const { remotes, outcomes } = await syncOutcomes(paths, config, store, now, names);
  return outcomes.map((outcome, i) =>
    outcome instanceof KilnError
      ? { remote: remotes[i]!.name, status: 'failed', code: outcome.code, message: outcome.message, hint: outcome.hint }
      : outcome,
  );
}

/** Sync every remote (or the named ones); each failure names its remote, and the others still sync. */
export async function syncRemotes(
  paths: PrefixPaths,
  config: PrefixConfig,
  store: PackageStore,
  now: Date,
  names?: readonly string[],
): Promise<SyncResult[]> {
  const { outcomes } = await syncOutcomes(paths, config, store, now, names);
  const failures = outcomes.filter((outcome): outcome is KilnError => outcome instanceof KilnError);
  if (failures.length > 0) {
    const first = failures[0]!;
    const message =
      failures.length === 1
        ? first.message
        : `${failures.length} remotes failed to sync:${failures.map((failure) => `\n  ${failure.message}`).join('')}`;
    throw new KilnError(first.code, message, { hint: first.hint, cause: first });
  }
  return outcomes as SyncResult[];
}

async function syncOutcomes(
  paths: PrefixPaths,
  config: PrefixConfig,
  store: PackageStore,
  now: Date,
  names?: readonly string[],
): Promise<{ remotes: RemoteConfig[]; outcomes: (SyncResult | KilnError)[] }> {
  const remotes =
    names === undefined || names.length === 0
      ? config.remotes
      : names.map((name) => {
          const remote = config.remotes.find((candidate) => candidate.name === name);
          if (remote === undefined)
            throw new KilnError('E_REMOTE_NOT_FOUND', `cannot sync remote ${name}: no such remote in ${paths.config}`, {
              hint: 'see "kiln remote list"',
            });
          return remote;
        });
  if (remotes.length === 0) {
    throw new KilnError('E_REMOTE_NOT_FOUND', `cannot sync prefix ${paths.root}: it has no remotes`, {
      hint: 'add one with "kiln remote add NAME URL --key PUBKEY"',
    });
  }
  const limits = transferLimitsOf(config);
  const outcomes = await mapConcurrent(remotes, 4, async (remote) => {
    try {
      return await syncOne(paths, store, remote, now, limits);
    } catch (error) {
      if (isKilnError(error)) return error;
      throw error;
    }
  });
  return { remotes, outcomes };
}
