/**
 * Fetching a recipe's source files. Places are tried in order: the download
 * cache (a file already fetched), the upstream URL, the recipe's own mirrors,
 * the configured mirrors (`MIRROR/FILE`), then the local distfiles
 * directories. Whatever the place, the file is used only when its sha256 is
 * the recipe's; a download goes to `FILE.part` and is renamed once checked.
 * Builds running at once share the cache: one at a time fetches into it
 * (under the kernel lock `CACHE/.lock`), so a `.part` has one writer.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock } from '../db/fileLock.js';
import { KilnError, isErrno } from '../errors/index.js';
import { httpGet } from '../remote/httpGet.js';
import { redactUrl } from '../remote/remoteUrl.js';
import { sha256File } from '../util/hash.js';
import type { RecipeSource } from './recipe.js';

export interface FetchSourceOptions {
  /** Where fetched files are kept (created if missing). */
  cacheDir: string;
  /** Base URLs (`http(s)://`, `file://`) that hold distfiles by name. */
  mirrors?: readonly string[];
  /** Local directories that hold distfiles by name, tried last. */
  distfiles?: readonly string[];
  /** Give up on a server after this long without a byte (default 10 s: builds often run without network). */
  timeoutMs?: number;
  onEvent?: (event: FetchEvent) => void;
}

export type FetchEvent =
  | { kind: 'cached'; file: string }
  | { kind: 'trying'; file: string; from: string }
  | { kind: 'failed'; file: string; from: string; problem: string }
  | { kind: 'fetched'; file: string; from: string };

const DEFAULT_TIMEOUT_MS = 10_000;
/** Sources larger than this are refused (a runaway server must not fill the disk). */
const MAX_SOURCE_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * The local path of `source`'s file, fetched if needed and checked. A file
 * found in a local place (a distfiles directory, a `file://` mirror) is used
 * where it is, not copied; downloads are kept in the cache.
 * Throws E_SOURCE listing every place tried and why each failed.
 * @example const tarball = await fetchSource(recipe.sources[0], { cacheDir, distfiles: ['/srv/distfiles'] })
 */
export async function fetchSource(source: RecipeSource, options: FetchSourceOptions): Promise<string> {
  const destination = join(options.cacheDir, source.file);
  await mkdir(options.cacheDir, { recursive: true }).catch((error: unknown) => {
    throw new KilnError('E_IO', `cannot create the distfiles cache ${options.cacheDir}: ${(error as Error).message}`, {
      cause: error,
    });
  });
  if (await holds(destination, source)) {
    options.onEvent?.({ kind: 'cached', file: source.file });
    return destination;
  }
  const lock = await acquireLock(join(options.cacheDir, '.lock'), `the distfiles cache ${options.cacheDir}`, {
    note: false,
  });
  try {
    // Another build may have fetched it while this one waited.
    if (await holds(destination, source)) {
      options.onEvent?.({ kind: 'cached', file: source.file });
      return destination;
    }
    return await fetchFromPlaces(source, destination, options);
  } finally {
    lock.release();
  }
}

async function fetchFromPlaces(
  source: RecipeSource,
  destination: string,
  options: FetchSourceOptions,
): Promise<string> {
  const places = [
    source.url,
    ...source.mirrors,
    ...(options.mirrors ?? []).map((mirror) => `${mirror.replace(/\/+$/, '')}/${encodeURIComponent(source.file)}`),
    ...(options.distfiles ?? []).map((dir) => join(dir, source.file)),
  ];
  const failures: string[] = [];
  for (const place of places) {
    options.onEvent?.({ kind: 'trying', file: source.file, from: place });
    const outcome = await fetchFrom(place, destination, source, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if ('path' in outcome) {
      options.onEvent?.({ kind: 'fetched', file: source.file, from: place });
      return outcome.path;
    }
    options.onEvent?.({ kind: 'failed', file: source.file, from: place, problem: outcome.problem });
    failures.push(`  ${displayPlace(place)}: ${outcome.problem}`);
  }
  throw new KilnError(
    'E_SOURCE',
    `cannot fetch source ${source.file} (sha256 ${source.sha256}):\n${failures.join('\n')}`,
    {
      hint: "put the file into a distfiles directory (--distfiles DIR, or KILN_DISTFILES; scripts/distfiles.sh fills one from Debian's source archive), or add a mirror with --mirror URL",
    },
  );
}

async function holds(path: string, source: RecipeSource): Promise<boolean> {
  try {
    return (await sha256File(path)).sha256 === source.sha256;
  } catch (error) {
    if (error instanceof KilnError || isErrno(error, 'ENOENT') || isErrno(error, 'EISDIR')) return false;
    throw error;
  }
}

/** The checked file from one place (a local file as it is, a download into `destination`), or the problem in words. */
async function fetchFrom(
  place: string,
  destination: string,
  source: RecipeSource,
  timeoutMs: number,
): Promise<{ path: string } | { problem: string }> {
  const part = `${destination}.part`;
  try {
    if (place.startsWith('/') || place.startsWith('file:')) {
      const path = place.startsWith('file:') ? fileURLToPath(place) : place;
      const found = await sha256File(path).catch((error: unknown) => {
        if (isErrno(error, 'ENOENT')) return undefined;
        throw error;
      });
      if (found === undefined) return { problem: 'not there' };
      if (found.sha256 !== source.sha256) return { problem: `its sha256 is ${found.sha256}, not the recipe's` };
      return { path };
    }
    const problem = await downloadTo(new URL(place), part, timeoutMs);
    if (problem !== undefined) return { problem };
    const got = await sha256File(part);
    if (got.sha256 !== source.sha256) {
      await rm(part, { force: true });
      return { problem: `the download's sha256 is ${got.sha256}, not the recipe's` };
    }
    await rename(part, destination);
    return { path: destination };
  } catch (error) {
    await rm(part, { force: true });
    if (error instanceof KilnError) return { problem: error.message.replace(/^cannot \w+ \S+: /, '') };
    if (error instanceof Error && 'code' in error) return { problem: error.message };
    throw error;
  }
}

async function downloadTo(url: URL, part: string, timeoutMs: number): Promise<string | undefined> {
  // The same minimum rate as packages; the deadline from the size the server announces.
  const response = await httpGet(url, { action: 'download', timeoutMs, sizeFromHeaders: true });
  try {
    if (response.status !== 200)
      return `HTTP ${response.status}${response.statusText === undefined ? '' : ` ${response.statusText}`}`;
    const handle = await open(part, 'w');
    let received = 0;
    try {
      for await (const chunk of response.body) {
        received += chunk.length;
        if (received > MAX_SOURCE_BYTES) return `more than ${MAX_SOURCE_BYTES} bytes`;
        await handle.write(chunk);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    return undefined;
  } finally {
    response.close();
  }
}

function displayPlace(place: string): string {
  return place.startsWith('/') ? place : redactUrl(place);
}
