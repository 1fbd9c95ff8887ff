/**
 * Key rotation, by TUF's rule for its root role: the repository's keys are
 * listed in signed root documents with a version and a threshold,
 * `roots/N.json`, each signed by keys in detached minisign signatures
 * `roots/N.json.KEYID.minisig` (trusted comment `kiln root NAME version N`).
 * Root N+1 is valid when at least threshold(N) of root N's keys and
 * threshold(N+1) of its own keys signed it. A client walks forward one
 * version at a time from the root it trusts, so one that was offline through
 * many rotations catches up, and a root signed only by retired keys, or by
 * fewer keys than a threshold asks, is refused. Before the first root a
 * client trusts the keys it was given (`kiln remote add --key`) as root 0,
 * threshold 1. docs/security.md, "Key rotation".
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { parsePublicKey } from '../sign/parsePublicKey.js';
import { parseSignature } from '../sign/parseSignature.js';
import type { PublicKey } from '../sign/types.js';
import { verifyData } from '../sign/verifyData.js';
import { stableStringify } from '../util/json.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectInteger, expectObject, expectString } from '../util/shape.js';
import { REPOSITORY_NAME_PATTERN, TIME_PATTERN } from './indexFormat.js';
import type { RepositoryFetcher } from './readPublishedIndex.js';

export const ROOT_FORMAT = 'kiln-root';
export const ROOTS_DIR = 'roots';
/** More rotations than any repository makes; a bound on a client's walk. */
export const MAX_ROOT_STEPS = 1000;

export interface KeyRoot {
  format: typeof ROOT_FORMAT;
  formatVersion: 1;
  name: string;
  version: number;
  created: string;
  expires: string;
  threshold: number;
  /** The keys, each the base64 line of a minisign public key, sorted. */
  keys: string[];
}

/** What a client trusts: a root version, its threshold and its keys. */
export interface TrustedRoot {
  version: number;
  threshold: number;
  keys: PublicKey[];
  /** The repository name of the root, once one was read. */
  name?: string;
}

export function rootPath(version: number): string {
  return `${ROOTS_DIR}/${version}.json`;
}

export function rootSignaturePath(version: number, keyId: string): string {
  return `${ROOTS_DIR}/${version}.json.${keyId}.minisig`;
}

export function rootComment(root: Pick<KeyRoot, 'name' | 'version'>): string {
  return `kiln root ${root.name} version ${root.version}`;
}

export function encodeRoot(root: KeyRoot): Buffer {
  return Buffer.from(`${stableStringify(root)}\n`, 'utf8');
}

export function parseKeyRoot(bytes: Buffer, source: string): KeyRoot {
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_INDEX_FORMAT', `cannot read key root ${source}: ${where} ${problem}`, {
      hint: 'the root was not written by a compatible Kiln',
    });
  };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    fail('(file)', `is not valid JSON (${(error as Error).message})`);
  }
  const root = expectObject(json, '(top level)', fail, [
    'format',
    'formatVersion',
    'name',
    'version',
    'created',
    'expires',
    'threshold',
    'keys',
  ]);
  if (root['format'] !== ROOT_FORMAT) fail('format', `must be "${ROOT_FORMAT}"`);
  if (root['formatVersion'] !== 1) fail('formatVersion', 'must be 1');
  const keys = expectArray(root['keys'], 'keys', fail).map((key, i) => expectString(key, `keys[${i}]`, fail));
  if (keys.length === 0 || keys.length > 64) fail('keys', 'must list 1 to 64 keys');
  for (const key of keys) parsePublicKey(key, `${source} (keys)`);
  return {
    format: ROOT_FORMAT,
    formatVersion: 1,
    name: expectString(root['name'], 'name', fail, REPOSITORY_NAME_PATTERN, 'a repository name'),
    version: expectInteger(root['version'], 'version', fail, 1),
    created: expectString(root['created'], 'created', fail, TIME_PATTERN, 'an ISO 8601 UTC time'),
    expires: expectString(root['expires'], 'expires', fail, TIME_PATTERN, 'an ISO 8601 UTC time'),
    threshold: expectInteger(root['threshold'], 'threshold', fail, 1, keys.length),
    keys,
  };
}

export function rootKeys(root: KeyRoot): PublicKey[] {
  return root.keys.map((key) => parsePublicKey(key, `root ${root.version}`));
}

/**
 * Check the next root (parsed from `bytes`, and the signatures found for it by
 * key id) against the root trusted before it; the signers of each side that count.
 */
export function checkNextRoot(
  trusted: TrustedRoot,
  root: KeyRoot,
  bytes: Buffer,
  signatures: ReadonlyMap<string, string>,
  source: string,
): { oldSigners: string[]; newSigners: string[] } {
  if (root.version !== trusted.version + 1)
    throw new KilnError(
      'E_INDEX_MISMATCH',
      `cannot accept key root ${source}: it says version ${root.version}, not ${trusted.version + 1}`,
      {
        hint: "the repository serves a root under another version's name; tell its maintainer",
      },
    );
  if (trusted.name !== undefined && root.name !== trusted.name)
    throw new KilnError(
      'E_INDEX_MISMATCH',
      `cannot accept key root ${source}: it is repository ${root.name}'s, not ${trusted.name}'s`,
      {
        hint: 'the remote now serves another repository',
      },
    );
  const next = rootKeys(root);
  const signedBy = new Set<string>();
  for (const [keyId, text] of signatures) {
    const key = [...trusted.keys, ...next].find((candidate) => candidate.keyId === keyId);
    if (key === undefined) continue;
    try {
      const signature = parseSignature(text, `${source}.${keyId}.minisig`);
      if (signature.trustedComment !== rootComment(root)) continue;
      verifyData(bytes, signature, [key], { source });
      signedBy.add(keyId);
    } catch {
      // A bad signature counts for nothing; the threshold decides.
    }
  }
  const oldSigners = trusted.keys.filter((key) => signedBy.has(key.keyId)).map((key) => key.keyId);
  const newSigners = next.filter((key) => signedBy.has(key.keyId)).map((key) => key.keyId);
  if (oldSigners.length < trusted.threshold || newSigners.length < root.threshold)
    throw new KilnError(
      'E_SIGNATURE_UNTRUSTED',
      `cannot accept key root ${source}: version ${root.version} needs ${trusted.threshold} signature(s) by the keys of version ${trusted.version} (${trusted.keys.map((key) => key.keyId).join(', ')}) and ${root.threshold} by its own, and has ${oldSigners.length} and ${newSigners.length}`,
      {
        hint: 'a key rotation must be signed by the keys trusted before it: this one may be forged; the keys trusted so far stay in use',
      },
    );
  return { oldSigners, newSigners };
}

/**
 * Walk forward from `trusted`: each next root that exists must pass
 * `checkNextRoot`. The last root reached must not have expired.
 */
export async function followRoots(
  fetch: RepositoryFetcher,
  trusted: TrustedRoot,
  source: string,
  now: Date,
): Promise<{ trusted: TrustedRoot; root: KeyRoot | undefined; steps: number }> {
  let current = trusted;
  let last: KeyRoot | undefined;
  let steps = 0;
  for (; steps < MAX_ROOT_STEPS; steps++) {
    const version = current.version + 1;
    const bytes = await fetch(rootPath(version));
    if (bytes === undefined) break;
    const where = `${source}/${rootPath(version)}`;
    const root = parseKeyRoot(bytes, where);
    const next = rootKeys(root);
    const keyIds = new Set<string>([...current.keys, ...next].map((key) => key.keyId));
    const signatures = new Map<string, string>();
    for (const keyId of keyIds) {
      const text = await fetch(rootSignaturePath(version, keyId));
      if (text !== undefined) signatures.set(keyId, text.toString('utf8'));
    }
    checkNextRoot(current, root, bytes, signatures, where);
    last = root;
    current = { version: root.version, threshold: root.threshold, keys: next, name: root.name };
  }
  if (last !== undefined && !(Date.parse(last.expires) > now.getTime()))
    throw new KilnError(
      'E_INDEX_EXPIRED',
      `cannot accept key root ${source}/${rootPath(last.version)}: it expired at ${last.expires}`,
      {
        hint: 'the repository has not renewed its keys in time (kiln repo key rotate renews them); the keys trusted so far stay in use',
      },
    );
  return { trusted: current, root: last, steps };
}

/** How long before a root expires a commit says so. */
export const ROOT_RENEW_DAYS = 30;

/** The newest root of a local published tree, when it has any. */
export async function newestKeyRoot(published: string): Promise<KeyRoot | undefined> {
  let versions: number[];
  try {
    versions = (await readdir(join(published, ROOTS_DIR)))
      .map((file) => /^(\d+)\.json$/.exec(file)?.[1])
      .filter((version): version is string => version !== undefined)
      .map(Number);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  if (versions.length === 0) return undefined;
  const path = join(published, rootPath(Math.max(...versions)));
  return parseKeyRoot(await readFile(path), path);
}

/**
 * What a commit must know of the key root: refused when it has expired
 * (clients would refuse it, and the index with it); a note when it expires
 * within ROOT_RENEW_DAYS.
 */
export function rootExpiryNote(root: KeyRoot | undefined, now: Date, repository: string): string | undefined {
  if (root === undefined) return undefined;
  const left = Date.parse(root.expires) - now.getTime();
  if (left <= 0)
    throw new KilnError(
      'E_INDEX_EXPIRED',
      `cannot commit repository ${repository}: its key root ${root.version} expired at ${root.expires}`,
      {
        hint: `clients refuse it: renew it first with "kiln repo key rotate ${repository} --key SECRET" (the same keys, a new expiry)`,
      },
    );
  if (left < ROOT_RENEW_DAYS * 86_400_000)
    return `key root ${root.version} expires at ${root.expires}: renew it with "kiln repo key rotate ${repository} --key SECRET" before then`;
  return undefined;
}
