/**
 * `kiln repo key add|retire|rotate`: publish the next key root (keyRoot.ts)
 * with keys added or retired and, optionally, a new threshold; sign it with
 * every secret key given that is in the current root or the next one; refuse
 * unless the signatures meet both thresholds (so one stolen key cannot rotate
 * a threshold-2 repository); then publish a new index signed by the signing
 * key of the new root, so that clients meet the rotation at their next sync.
 * The root is written before the index that needs it, its signatures before
 * the root; the whole change is under the repository's lock.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KilnError } from '../errors/index.js';
import { encodePublicKey, formatPublicKey } from '../sign/formatPublicKey.js';
import { formatSignature } from '../sign/formatSignature.js';
import { parsePublicKey } from '../sign/parsePublicKey.js';
import { readSecretKeyFile } from '../sign/readSecretKeyFile.js';
import { signData } from '../sign/signData.js';
import type { PublicKey, SecretKey } from '../sign/types.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { syncFileSystem } from '../util/syncFileSystem.js';
import type { CommitOptions } from './commitRepository.js';
import { commitStaged } from './commitRepository.js';
import type { KeyRoot, TrustedRoot } from './keyRoot.js';
import {
  ROOTS_DIR,
  checkNextRoot,
  encodeRoot,
  newestKeyRoot,
  rootComment,
  rootKeys,
  rootPath,
  rootSignaturePath,
} from './keyRoot.js';
import { isoTime } from '../util/isoTime.js';
import type { Repository } from './openRepository.js';
import { openRepository, readRepositoryKeys, withRepositoryLock } from './openRepository.js';
import { writeRepositoryConfig } from './repositoryConfig.js';

export interface RotateOptions extends CommitOptions {
  /** Public keys (minisign text) to add. */
  add?: readonly string[];
  /** Key ids to retire. */
  retire?: readonly string[];
  threshold?: number | undefined;
  /** Secret key files to sign the next root with (of the current root's keys and the next one's). */
  signWith: readonly string[];
  /** The secret key file that signs indexes from now on (required when the current one is retired). */
  signingKey?: string | undefined;
  /** Days until the root expires (365). */
  rootExpireDays?: number | undefined;
}

export interface RotateResult {
  version: number;
  threshold: number;
  keys: string[];
  added: string[];
  retired: string[];
  signedBy: string[];
  serial: number;
}

/** The newest published root, or root 0: the repository's keys, threshold 1. */
async function currentRoot(repo: Repository): Promise<TrustedRoot> {
  const root = await newestKeyRoot(repo.paths.public);
  if (root === undefined) return { version: 0, threshold: 1, keys: repo.keys };
  return { version: root.version, threshold: root.threshold, keys: rootKeys(root), name: root.name };
}

export async function rotateKeys(dir: string, options: RotateOptions): Promise<RotateResult> {
  const repo = await openRepository(dir);
  return withRepositoryLock(repo, options, async () => {
    const now = (options.now ?? (() => new Date()))();
    const trusted = await currentRoot(repo);
    const adding = (options.add ?? []).map((text, i) => parsePublicKey(text, `key ${i + 1} to add`));
    const retiring = new Set((options.retire ?? []).map((id) => id.toUpperCase()));
    for (const id of retiring)
      if (!trusted.keys.some((key) => key.keyId === id))
        throw new KilnError('E_USAGE', `cannot retire key ${id} of repository ${dir}: it is not one of its keys`, {
          hint: `its keys: ${trusted.keys.map((key) => key.keyId).join(', ')}`,
        });
    const next: PublicKey[] = trusted.keys.filter((key) => !retiring.has(key.keyId));
    for (const key of adding) if (!next.some((other) => other.keyId === key.keyId)) next.push(key);
    if (next.length === 0)
      throw new KilnError('E_USAGE', `cannot retire every key of repository ${dir}`, {
        hint: 'add the new key in the same command (--add)',
      });
    const threshold = options.threshold ?? Math.min(trusted.threshold, next.length);
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > next.length)
      throw new KilnError('E_USAGE', `cannot use threshold ${threshold}: the next root has ${next.length} key(s)`, {
        hint: 'a threshold is 1 to the number of keys',
      });
    const days = options.rootExpireDays ?? 365;
    if (!(days >= 1))
      throw new KilnError('E_USAGE', 'cannot publish a root that expires at once', { hint: 'give 1 day or more' });
    const root: KeyRoot = {
      format: 'kiln-root',
      formatVersion: 1,
      name: repo.config.name,
      version: trusted.version + 1,
      created: isoTime(now),
      expires: isoTime(new Date(now.getTime() + days * 86_400_000)),
      threshold,
      keys: next.map((key) => encodePublicKey(key)).sort(),
    };
    const bytes = encodeRoot(root);
    // Every key given that is in either root signs.
    const secrets: SecretKey[] = [];
    for (const file of options.signWith)
      secrets.push(await readSecretKeyFile(resolve(file), { password: options.password }));
    const signatures = new Map<string, string>();
    for (const secret of secrets)
      if ([...trusted.keys, ...next].some((key) => key.keyId === secret.keyId))
        signatures.set(secret.keyId, formatSignature(signData(bytes, secret, { trustedComment: rootComment(root) })));
    // The same check a client makes: refused here, nothing is written.
    const checked = checkNextRoot(trusted, root, bytes, signatures, `root ${root.version} of ${dir}`);

    let signingKey: SecretKey | undefined;
    if (options.signingKey !== undefined) {
      signingKey = await readSecretKeyFile(resolve(options.signingKey), { password: options.password });
      if (!next.some((key) => key.keyId === signingKey?.keyId))
        throw new KilnError('E_USAGE', `cannot sign indexes with key ${signingKey.keyId}: it is not in the next root`, {
          hint: 'add it with --add, or name a key of the next root',
        });
    } else {
      const current = await readSecretKeyFile(resolve(repo.paths.root, repo.config.signingKey), {
        password: options.password,
      });
      if (!next.some((key) => key.keyId === current.keyId))
        throw new KilnError('E_USAGE', `cannot retire key ${current.keyId}: it signs the indexes of ${dir}`, {
          hint: 'name the key that signs from now on with --signing-key FILE',
        });
    }

    // Signatures, then the root, then the keys directory; then an index signed by the new root's signing key.
    await mkdir(join(repo.paths.public, ROOTS_DIR), { recursive: true });
    for (const [keyId, text] of signatures)
      await writeFileAtomic(join(repo.paths.public, rootSignaturePath(root.version, keyId)), text);
    await writeFileAtomic(join(repo.paths.public, rootPath(root.version)), bytes);
    for (const key of next) await writeFileAtomic(join(repo.paths.keys, `${key.keyId}.pub`), formatPublicKey(key));
    syncFileSystem(repo.paths.public);
    for (const id of retiring) await rm(join(repo.paths.keys, `${id}.pub`), { force: true });
    if (signingKey !== undefined) {
      repo.config.signingKey = resolve(options.signingKey as string);
      await writeRepositoryConfig(repo.paths, repo.config);
    }
    const rotated: Repository = { ...repo, keys: await readRepositoryKeys(repo.paths) };
    const { index } = await commitStaged(rotated, {
      ...options,
      allowEmpty: true,
      previousKeys: trusted.keys,
      message: options.message ?? `key root ${root.version}`,
    });
    return {
      version: root.version,
      threshold,
      keys: next.map((key) => key.keyId),
      added: adding.map((key) => key.keyId),
      retired: [...retiring],
      signedBy: [...new Set([...checked.oldSigners, ...checked.newSigners])],
      serial: index.serial,
    };
  });
}
