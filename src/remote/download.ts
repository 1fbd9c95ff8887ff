/**
 * Downloading packages to disk, checked against what the repository index
 * pins (size and sha256), resumable, and never seen half-done.
 *
 * A download writes to `DESTINATION.part`. An interrupted download (abort,
 * broken connection, timeout, a crash) leaves the `.part`; the next download
 * of the same file asks only for the rest (`Range: bytes=N-`) and starts over
 * when the server cannot resume. The whole file, resumed part included, is
 * hashed before it is renamed into place, so a stale or foreign `.part` can
 * never slip through. Two processes must not download to the same
 * destination at once; callers hold the lock of the cache they fill.
 */
import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { KilnError, isErrno, isKilnError } from '../errors/index.js';
import { syncDirectory } from '../util/atomicWrite.js';
import type { Sha256 } from '../util/hash.js';
import { sha256File } from '../util/hash.js';
import { mapConcurrent } from '../util/mapConcurrent.js';
import { fetchError, httpStatusError, interruptedError } from './fetchErrors.js';
import { httpGet } from './httpGet.js';
import type { TransferLimits } from './transferLimits.js';
import { DEFAULT_TIMEOUT_MS } from './remoteFetcher.js';
import { checkRemoteUrl, redactUrl } from './remoteUrl.js';

export interface DownloadRequest {
  url: URL;
  /** The same file elsewhere (a remote's mirrors), tried in order when `url` fails: the file is pinned, any copy does. */
  mirrors?: URL[];
  /** Where the file ends up; `destination + '.part'` holds it meanwhile. */
  destination: string;
  /** What the repository index pins. */
  size: number;
  sha256: Sha256;
  /** The remote it comes from, named in errors. */
  remote?: string;
  /** What progress calls it (`nginx 1.26.0`); the file name when absent. */
  label?: string;
}

export interface DownloadProgress {
  url: URL;
  /** Bytes in the `.part` so far, resumed bytes included. */
  received: number;
  total: number;
}

export interface DownloadOptions {
  /** Called at most every ~100 ms while bytes arrive, and once at the end. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Stops the transfer; the `.part` stays for a later resume. */
  signal?: AbortSignal;
  /** Give up after this long without a byte (default 30 s). */
  timeoutMs?: number;
  /** Minimum rate and deadline; a package's deadline grows with its pinned size. */
  limits?: TransferLimits;
  /**
   * Take a destination that already holds a file of the pinned size without
   * hashing it (the result says `unchecked`); the caller must check its sha256
   * before using it, and download it again if it differs.
   */
  cachedUnchecked?: boolean;
}

export interface DownloadResult {
  /** Bytes of an earlier `.part` that were kept. */
  resumedFrom: number;
  /** Bytes transferred now (0 when the destination was already complete). */
  fetched: number;
  /** The destination was there already and, as asked, was not hashed. */
  unchecked?: true;
}

const PROGRESS_INTERVAL_MS = 100;
const PART_SUFFIX = '.part';

/**
 * Download `request.url` to `request.destination`, resuming a `.part` left by
 * an earlier attempt. Returns at once when the destination already holds the
 * pinned content.
 *
 * Throws E_FETCH when the transfer fails (HTTP status, connection, timeout,
 * abort, more bytes than pinned), E_INDEX_MISMATCH when the file is complete
 * but differs from what the index pins (the `.part` is removed), E_IO when
 * the local file cannot be written.
 * @example await download({ url, destination: join(cache, 'zlib-1.3-abc.kpkg'), size: entry.size, sha256: entry.sha256 }, { signal })
 */
export async function download(request: DownloadRequest, options: DownloadOptions = {}): Promise<DownloadResult> {
  const { url, destination, size } = request;
  if (!Number.isSafeInteger(size) || size < 0)
    throw new Error(`Assertion failed: download size ${size} is not a byte count`);
  checkRemoteUrl(url);
  const part = destination + PART_SUFFIX;
  const progress = progressReporter(url, size, options.onProgress);
  try {
    options.signal?.throwIfAborted();
    if (options.cachedUnchecked === true && (await hasPinnedSize(destination, request))) {
      progress.end(size);
      return { resumedFrom: 0, fetched: 0, unchecked: true };
    }
    if (await holdsPinned(destination, request)) {
      progress.end(size);
      return { resumedFrom: 0, fetched: 0 };
    }
    await mkdir(dirname(destination), { recursive: true });
    const offset = await resumableOffset(part, request);
    let result: DownloadResult;
    if (offset === size) {
      // An earlier attempt got every byte and stopped before the rename.
      result = { resumedFrom: size, fetched: 0 };
    } else {
      result = await transfer(request, part, offset, options, progress);
    }
    await rename(part, destination);
    await syncDirectory(dirname(destination));
    progress.end(size);
    return result;
  } catch (error) {
    if (error instanceof KilnError) throw error;
    if (options.signal?.aborted === true) throw interruptedError('download', url, options.signal.reason);
    if (error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string') {
      throw new KilnError('E_IO', `cannot download ${redactUrl(url)} to ${destination}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** True when `path` is a file of the pinned size. */
async function hasPinnedSize(path: string, request: DownloadRequest): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size === request.size;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

/** True when `path` is a file of the pinned size and sha256. */
async function holdsPinned(path: string, request: DownloadRequest): Promise<boolean> {
  if (!(await hasPinnedSize(path, request))) return false;
  const { sha256, size } = await sha256File(path);
  return size === request.size && sha256 === request.sha256;
}

/**
 * How many bytes of `part` to keep: all of a partial file, none of one larger
 * than pinned. A complete one is kept only if it hashes right.
 */
async function resumableOffset(part: string, request: DownloadRequest): Promise<number> {
  let partSize: number;
  try {
    const info = await stat(part);
    partSize = info.isFile() ? info.size : 0;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 0;
    throw error;
  }
  if (partSize < request.size) return partSize;
  if (partSize === request.size && (await holdsPinned(part, request))) return partSize;
  await rm(part, { force: true, recursive: true });
  return 0;
}

/** A body being received: from byte `start` of the file, of `length` bytes if the server said so. */
interface Source {
  start: number;
  /** Size of the whole file, if the server said so. */
  total: number | undefined;
  chunks: AsyncIterable<Buffer>;
  close(): void;
}

async function transfer(
  request: DownloadRequest,
  part: string,
  offset: number,
  options: DownloadOptions,
  progress: ProgressReporter,
): Promise<DownloadResult> {
  const { url, size } = request;
  // Hash the kept bytes first, so that the new ones are hashed as they arrive and the file is read once.
  const prefix = offset > 0 ? await hashPrefix(part, offset) : undefined;
  if (prefix === undefined) offset = 0;
  const source = await openSource(url, offset, {
    ...options,
    expected: size - offset,
    ...(request.remote === undefined ? {} : { remote: request.remote }),
  });
  let handle: FileHandle | undefined;
  let received = source.start;
  const hash = source.start > 0 && prefix !== undefined ? prefix : createHash('sha256');
  try {
    if (source.total !== undefined && source.total > size) {
      await rm(part, { force: true });
      throw fetchError(
        'download',
        url,
        `the server offers ${source.total} bytes, more than the ${size} bytes the index pins`,
        MISMATCH_HINT,
      );
    }
    if (source.total !== undefined && source.total < size) {
      await rm(part, { force: true });
      throw sizeMismatch(url, source.total, size);
    }
    handle = await open(part, source.start === 0 ? 'w' : 'r+');
    if (source.start > 0) await handle.truncate(source.start);
    for await (const chunk of source.chunks) {
      if (received + chunk.length > size) {
        await handle.close();
        handle = undefined;
        await rm(part, { force: true });
        throw fetchError('download', url, `the server sent more than the ${size} bytes the index pins`, MISMATCH_HINT);
      }
      await writeAll(handle, chunk, received);
      hash.update(chunk);
      received += chunk.length;
      progress.update(received);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
  } finally {
    source.close();
    await handle?.close();
  }
  if (received !== size) {
    await rm(part, { force: true });
    throw sizeMismatch(url, received, size);
  }
  const actual = hash.digest('hex');
  if (actual !== request.sha256) {
    await rm(part, { force: true });
    throw new KilnError(
      'E_INDEX_MISMATCH',
      `cannot download ${redactUrl(url)}: its sha256 is ${actual}, but the index pins ${request.sha256}`,
      { hint: MISMATCH_HINT },
    );
  }
  return { resumedFrom: source.start, fetched: received - source.start };
}

const MISMATCH_HINT =
  'the file on the server is not the one the repository index pins; sync the index again, or tell the repository maintainer';

function sizeMismatch(url: URL, actual: number, pinned: number): KilnError {
  return new KilnError(
    'E_INDEX_MISMATCH',
    `cannot download ${redactUrl(url)}: it is ${actual} bytes, but the index pins size ${pinned}`,
    { hint: MISMATCH_HINT },
  );
}

/** The sha256 state after the first `length` bytes of `path`, or `undefined` if it no longer has them. */
async function hashPrefix(path: string, length: number): Promise<Hash | undefined> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    read += bytes.length;
  }
  return read === length ? hash : undefined;
}

async function writeAll(handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.length - written, position + written);
    written += bytesWritten;
  }
}

/** Open the body from byte `offset`, or from 0 when the server cannot resume there. */
async function openSource(
  url: URL,
  offset: number,
  options: DownloadOptions & { expected?: number; remote?: string },
): Promise<Source> {
  return url.protocol === 'file:' ? openFileSource(url, offset, options.signal) : openHttpSource(url, offset, options);
}

async function openHttpSource(
  url: URL,
  offset: number,
  options: DownloadOptions & { expected?: number; remote?: string },
): Promise<Source> {
  const { expected, remote } = options;
  const response = await httpGet(url, {
    action: 'download',
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: options.signal,
    limits: options.limits,
    expectedBytes: expected,
    remote,
  });
  const { status, headers } = response;
  const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (status === 206 && offset > 0) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(headers['content-range'] ?? '');
    if (range !== null && Number(range[1]) === offset) {
      const total = range[3] === '*' ? undefined : Number(range[3]);
      return { start: offset, total, chunks: response.body, close: response.close };
    }
    // A range we did not ask for: fetch the whole file instead.
    response.close();
    return openHttpSource(url, 0, options);
  }
  if (status === 416 && offset > 0) {
    response.close();
    return openHttpSource(url, 0, options);
  }
  if (status >= 200 && status <= 299 && status !== 206) {
    return {
      start: 0,
      total: declared !== undefined && Number.isSafeInteger(declared) ? declared : undefined,
      chunks: response.body,
      close: response.close,
    };
  }
  response.close();
  throw httpStatusError('download', url, status, response.statusText);
}

async function openFileSource(url: URL, offset: number, signal: AbortSignal | undefined): Promise<Source> {
  const path = fileURLToPath(url);
  let total: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw fetchError('download', url, 'it is not a file');
    total = info.size;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR'))
      throw fetchError(
        'download',
        url,
        'no such file',
        'the remote does not have this file; sync the repository index again, or check the remote URL',
      );
    throw error;
  }
  const start = offset <= total ? offset : 0;
  const stream = createReadStream(path, { start, highWaterMark: 1 << 20, signal });
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (error) {
      if (signal?.aborted === true) throw interruptedError('download', url, signal.reason);
      throw error;
    }
  }
  return { start, total, chunks: chunks(), close: () => stream.destroy() };
}

interface ProgressReporter {
  update(received: number): void;
  end(received: number): void;
}

function progressReporter(
  url: URL,
  total: number,
  onProgress: ((progress: DownloadProgress) => void) | undefined,
): ProgressReporter {
  let last = -Infinity;
  return {
    update(received) {
      if (onProgress === undefined) return;
      const now = performance.now();
      if (now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      onProgress({ url, received, total });
    },
    end(received) {
      onProgress?.({ url, received, total });
    },
  };
}

export interface DownloadAllProgress {
  /** Downloads finished. */
  done: number;
  /** Files to download: those found in the cache are not counted. */
  total: number;
  receivedBytes: number;
  totalBytes: number;
  /** Files found in the cache, neither counted in `total` nor in the bytes. */
  cached: number;
  /** The download that has just finished, in the report it finished with. */
  finished?: { label: string; bytes: number; seconds: number };
}

export interface DownloadAllOptions {
  /** Downloads in flight at once (default 4). */
  concurrency?: number;
  onProgress?: (state: DownloadAllProgress) => void;
  signal?: AbortSignal;
  /** Give up on a download after this long without a byte (default 30 s). */
  timeoutMs?: number;
  /** Minimum rate and deadline of each download. */
  limits?: TransferLimits;
  /** See `DownloadOptions.cachedUnchecked`. */
  cachedUnchecked?: boolean;
}

/**
 * Download every request, `concurrency` at a time. The first failure stops
 * the others (their `.part` files stay for a later resume) and is rethrown.
 * @example await downloadAll(plan.map(toRequest), { onProgress: (s) => reporter.downloading(s) })
 */
/** What makes a download go on to the next mirror: the transfer failed or was too slow, or the bytes are not the pinned ones. */
const MIRROR_PROBLEMS = new Set(['E_FETCH', 'E_FETCH_SLOW', 'E_INDEX_MISMATCH']);

/** `download` from the request's URL, then from each of its mirrors in turn while one fails; the first URL's error when all do. */
async function downloadFromAny(request: DownloadRequest, options: DownloadOptions): Promise<DownloadResult> {
  const urls = [request.url, ...(request.mirrors ?? [])];
  let failure: { error: unknown } | undefined;
  for (const url of urls) {
    try {
      return await download({ ...request, url }, options);
    } catch (error) {
      if (options.signal?.aborted === true || !isKilnError(error) || !MIRROR_PROBLEMS.has(error.code)) throw error;
      failure ??= { error };
    }
  }
  throw failure!.error;
}

export async function downloadAll(
  requests: readonly DownloadRequest[],
  options: DownloadAllOptions = {},
): Promise<DownloadResult[]> {
  const destinations = new Set<string>();
  for (const { destination } of requests) {
    if (destinations.has(destination))
      throw new Error(`Assertion failed: downloadAll got destination ${destination} twice`);
    destinations.add(destination);
  }
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted === true) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });

  const received = requests.map(() => 0);
  // What the cache holds already is not a download: progress counts only the rest.
  const cached =
    options.cachedUnchecked === true
      ? await Promise.all(requests.map((request) => hasPinnedSize(request.destination, request)))
      : requests.map(() => false);
  const state: DownloadAllProgress = {
    done: 0,
    total: cached.filter((hit) => !hit).length,
    receivedBytes: 0,
    totalBytes: requests.reduce((sum, { size }, index) => sum + (cached[index] ? 0 : size), 0),
    cached: cached.filter(Boolean).length,
  };
  const report = (finished?: DownloadAllProgress['finished']): void =>
    options.onProgress?.({ ...state, ...(finished === undefined ? {} : { finished }) });
  let first: { error: unknown } | undefined;
  const results: DownloadResult[] = [];
  try {
    await mapConcurrent(requests, options.concurrency ?? 4, async (request, index) => {
      const downloadOptions: DownloadOptions = {
        signal: controller.signal,
        onProgress: (progress) => {
          if (cached[index] === true) return;
          state.receivedBytes += progress.received - (received[index] ?? 0);
          received[index] = progress.received;
          report();
        },
      };
      if (options.timeoutMs !== undefined) downloadOptions.timeoutMs = options.timeoutMs;
      if (options.limits !== undefined) downloadOptions.limits = options.limits;
      if (options.cachedUnchecked === true) downloadOptions.cachedUnchecked = true;
      const started = performance.now();
      try {
        results[index] = await downloadFromAny(request, downloadOptions);
      } catch (error) {
        first ??= { error };
        controller.abort(error);
        throw error;
      }
      if (cached[index] === true) return;
      state.done++;
      report({
        label: request.label ?? basename(request.destination),
        bytes: results[index]!.fetched,
        seconds: (performance.now() - started) / 1000,
      });
    });
  } catch (error) {
    throw first === undefined ? error : first.error;
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
  }
  return results;
}
