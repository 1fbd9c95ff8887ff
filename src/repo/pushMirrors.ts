/**
 * `kiln repo push DIR [MIRROR...]`: copy the published tree to the mirrors
 * named in `.kiln/config.toml` (`[mirrors.NAME] path = "/srv/mirror"`, or
 * `rsync = "HOST:/DIR"` over ssh: pushOverRsync.ts), in the
 * order every working mirror protocol uses: first every immutable file the
 * mirror lacks (packages, index snapshots, pinned v2 files, keys), each
 * written to a hidden temporary name and renamed into place; then one flush
 * of the mirror's file system; then the pointers, each made durable and
 * renamed over the old one, in the order a commit writes them (index.json,
 * its signature, index.v2.json, its signature). A push stopped at any point
 * (error, Ctrl-C, kill -9) leaves the mirror serving the old serial or the new
 * one, each complete: the old files are still there and the new ones are in
 * place before anything names them. Nothing is deleted unless asked
 * (`--prune`): run it a grace period after `kiln repo prune`, when no client
 * still reads an index that names the files.
 *
 * `kiln repo mirrors DIR` reads each mirror's signed pointer where clients
 * read it (its `url`, else its directory), checks it with the repository's
 * keys and says which serial it serves, how old it is, and whether it lags.
 */
import { lstat, mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { parseRemoteUrl, redactUrl } from '../remote/remoteUrl.js';
import { remoteFetcher } from '../remote/remoteFetcher.js';
import { copyFileAtomic, isTemporaryPath, syncDirectory } from '../util/atomicWrite.js';
import { syncFileSystem } from '../util/syncFileSystem.js';
import { ROOT_FILE } from './indexV2.js';
import { INDEX_FILE, SIGNATURE_SUFFIX } from './layout.js';
import type { Repository, RepositoryOptions } from './openRepository.js';
import { openRepository, readCurrentIndex, withRepositoryLock } from './openRepository.js';
import { pushOverRsync } from './pushOverRsync.js';
import { readPublishedIndex, readPublishedRoot } from './readPublishedIndex.js';
import type { MirrorConfig } from './repositoryConfig.js';

/** The files a commit replaces in place, in the order it writes them (each signature after what it signs). */
export const POINTER_ORDER = [INDEX_FILE, INDEX_FILE + SIGNATURE_SUFFIX, ROOT_FILE, ROOT_FILE + SIGNATURE_SUFFIX];

export interface PushOptions extends RepositoryOptions {
  /** Mirror names; all configured mirrors when empty or absent. */
  mirrors?: string[] | undefined;
  /** Delete the mirror's files that the published tree no longer has. */
  prune?: boolean | undefined;
  /** Tests: kill the process at this step (a file placed, the flush). */
  killAtStep?: number | undefined;
}

export interface MirrorPush {
  mirror: string;
  path: string;
  serial: number;
  /** Immutable files copied (the mirror lacked them), and their bytes. */
  copied: number;
  bytes: number;
  pointers: number;
  pruned: number;
}

export async function pushRepository(root: string, options: PushOptions = {}): Promise<MirrorPush[]> {
  const repo = await openRepository(root);
  const mirrors = chosenMirrors(repo, options.mirrors);
  return withRepositoryLock(repo, options, async () => {
    const { index } = await readCurrentIndex(repo);
    const files = await treeFiles(repo.paths.public, false);
    let steps = 0;
    const step = (): void => {
      steps++;
      if (options.killAtStep !== undefined && steps === options.killAtStep) process.kill(process.pid, 'SIGKILL');
    };
    const pushed: MirrorPush[] = [];
    for (const mirror of mirrors)
      pushed.push(await pushOne(repo, mirror, files, index.serial, options.prune === true, step));
    return pushed;
  });
}

function chosenMirrors(repo: Repository, names: string[] | undefined): MirrorConfig[] {
  const configured = repo.config.mirrors ?? [];
  if (configured.length === 0)
    throw new KilnError('E_USAGE', `cannot push repository ${repo.paths.root}: it has no mirrors`, {
      hint: `name them in ${repo.paths.config}: [mirrors.NAME] with path = "/a/directory" (docs/repository.md)`,
    });
  if (names === undefined || names.length === 0) return configured;
  return names.map((name) => {
    const found = configured.find((mirror) => mirror.name === name);
    if (found === undefined)
      throw new KilnError('E_USAGE', `cannot push repository ${repo.paths.root}: it has no mirror "${name}"`, {
        hint: `its mirrors: ${configured.map((mirror) => mirror.name).join(', ')}`,
      });
    return found;
  });
}

/**
 * Every regular file of a tree (relative path → size), but not hidden ones (a commit's or a push's
 * temporaries); none for a tree not made yet. `removeTemporaries`: those a push that died left are deleted
 * on the way (only in a mirror: the repository's own are its commit's to clean).
 */
async function treeFiles(root: string, removeTemporaries: boolean): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const walk = async (relative: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(root, relative), { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw error;
    }
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (removeTemporaries && entry.isFile() && isTemporaryPath(entry.name))
        await rm(join(root, path), { force: true });
      else if (entry.name.startsWith('.')) continue;
      else if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) found.set(path, (await lstat(join(root, path))).size);
    }
  };
  await walk('');
  return found;
}

/** Copy a file into the mirror through a temporary; a durable one (a pointer) is fsynced, and so is its directory. */
async function place(from: string, to: string, durable: boolean): Promise<void> {
  await copyFileAtomic(from, to, durable);
  if (durable) await syncDirectory(dirname(to));
}

async function pushOne(
  repo: Repository,
  mirror: MirrorConfig,
  files: Map<string, number>,
  serial: number,
  prune: boolean,
  step: () => void,
): Promise<MirrorPush> {
  const source = repo.paths.public;
  if (mirror.rsync !== undefined)
    return pushOverRsync({ source, mirror, files, pointers: POINTER_ORDER, serial, prune, step });
  const target = mirror.path;
  await mkdir(target, { recursive: true });
  const onMirror = await treeFiles(target, true);
  const result: MirrorPush = { mirror: mirror.name, path: target, serial, copied: 0, bytes: 0, pointers: 0, pruned: 0 };
  // 1. Immutable files the mirror lacks (a published file never changes: one of the right size is the same file).
  for (const [path, size] of files) {
    if (POINTER_ORDER.includes(path)) continue;
    if (onMirror.get(path) === size) continue;
    await place(join(source, path), join(target, path), false);
    result.copied++;
    result.bytes += size;
    step();
  }
  // 2. On disk before anything names them.
  if (result.copied > 0) syncFileSystem(target);
  step();
  // 3. The pointers, each atomically, signatures last; a pointer the tree no longer publishes goes after them.
  for (const path of POINTER_ORDER) {
    if (!files.has(path)) continue;
    await place(join(source, path), join(target, path), true);
    result.pointers++;
    step();
  }
  for (const path of [...POINTER_ORDER].reverse())
    if (!files.has(path) && onMirror.has(path)) await rm(join(target, path), { force: true });
  // 4. Only when asked: what the tree no longer has.
  if (prune) {
    for (const path of onMirror.keys()) {
      if (files.has(path)) continue;
      await rm(join(target, path), { force: true });
      await removeEmptyDirectories(target, dirname(path));
      result.pruned++;
    }
  }
  return result;
}

async function removeEmptyDirectories(root: string, relative: string): Promise<void> {
  for (let path = relative; path !== '.' && path !== ''; path = dirname(path)) {
    try {
      await rmdir(join(root, path));
    } catch {
      return;
    }
  }
}

export interface MirrorState {
  mirror: string;
  /** Where it was read (the URL, redacted, or the directory). */
  source: string;
  serial: number | undefined;
  created: string | undefined;
  /** The repository's own serial minus the mirror's. */
  behind: number | undefined;
  /** Why it could not be read. */
  problem: string | undefined;
}

export async function mirrorStates(root: string): Promise<{ serial: number; mirrors: MirrorState[] }> {
  const repo = await openRepository(root);
  const { index } = await readCurrentIndex(repo);
  const mirrors = await Promise.all(
    (repo.config.mirrors ?? []).map(async (mirror): Promise<MirrorState> => {
      const where = mirror.url ?? mirror.path;
      const source = mirror.url === undefined ? (mirror.path ?? mirror.rsync) : redactUrl(mirror.url);
      try {
        if (where === undefined)
          throw new Error(`it has no url: name where clients read it (url = "https://…") in [mirrors.${mirror.name}]`);
        const fetch = remoteFetcher(parseRemoteUrl(where), { remote: mirror.name });
        const read =
          (await readPublishedRoot(fetch, repo.keys, source))?.root ??
          (await readPublishedIndex(fetch, repo.keys, source)).index;
        return {
          mirror: mirror.name,
          source,
          serial: read.serial,
          created: read.created,
          behind: index.serial - read.serial,
          problem: undefined,
        };
      } catch (error) {
        return {
          mirror: mirror.name,
          source,
          serial: undefined,
          created: undefined,
          behind: undefined,
          problem: error instanceof Error ? error.message : String(error),
        };
      }
    }),
  );
  return { serial: index.serial, mirrors };
}
