/**
 * Fetching the small files of a remote repository (the index, its signature)
 * into memory, for `readPublishedIndex`. Packages are large and go through
 * `download` instead, straight to disk.
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KilnError, isErrno } from '../errors/index.js';
import type { RepositoryFetcher } from '../repo/index.js';
import { fetchError, httpStatusError } from './fetchErrors.js';
import { httpGet } from './httpGet.js';
import type { TransferLimits } from './transferLimits.js';
import { checkRemoteUrl, resolveRemotePath } from './remoteUrl.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_FETCH_BYTES = 256 * 1024 * 1024;

export interface RemoteFetcherOptions {
  /** Give up after this long without a byte (default 30 s). */
  timeoutMs?: number;
  /** Refuse a file larger than this (default 256 MiB). */
  maxBytes?: number;
  /** Minimum rate and deadline (the index and its signature get the base deadline). */
  limits?: TransferLimits;
  /** The remote, named in errors. */
  remote?: string;
}

/**
 * A fetcher over the remote directory `base`: `undefined` for a file that does
 * not exist (ENOENT, HTTP 404 or 410); E_FETCH for any other failure (HTTP
 * status, connection, timeout, a file over `maxBytes`).
 * @example const { index } = await readPublishedIndex(remoteFetcher(parseRemoteUrl(text)), trusted, redactUrl(text))
 */
export function remoteFetcher(base: URL, options: RemoteFetcherOptions = {}): RepositoryFetcher {
  checkRemoteUrl(base);
  const limits = {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_FETCH_BYTES,
    transfer: options.limits,
    remote: options.remote,
  };
  return (relativePath) => {
    const url = resolveRemotePath(base, relativePath);
    return url.protocol === 'file:' ? fetchFile(url, limits.maxBytes) : fetchHttp(url, limits);
  };
}

async function fetchFile(url: URL, maxBytes: number): Promise<Buffer | undefined> {
  const path = fileURLToPath(url);
  try {
    const info = await stat(path);
    if (info.isFile() && info.size > maxBytes) throw tooLarge(url, maxBytes);
    return await readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
    if (isErrno(error, 'EACCES') || isErrno(error, 'EPERM') || isErrno(error, 'EISDIR')) {
      throw new KilnError(
        'E_IO',
        `cannot read ${path}: ${error.code === 'EISDIR' ? 'it is a directory' : 'permission denied'}`,
        { cause: error },
      );
    }
    throw error;
  }
}

async function fetchHttp(
  url: URL,
  limits: { timeoutMs: number; maxBytes: number; transfer: TransferLimits | undefined; remote: string | undefined },
): Promise<Buffer | undefined> {
  const response = await httpGet(url, {
    action: 'fetch',
    timeoutMs: limits.timeoutMs,
    limits: limits.transfer,
    remote: limits.remote,
  });
  try {
    if (response.status === 404 || response.status === 410) return undefined;
    if (response.status < 200 || response.status > 299)
      throw httpStatusError('fetch', url, response.status, response.statusText);
    const declared = Number(response.headers['content-length']);
    if (declared > limits.maxBytes) throw tooLarge(url, limits.maxBytes);
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of response.body) {
      received += chunk.length;
      if (received > limits.maxBytes) throw tooLarge(url, limits.maxBytes);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, received);
  } finally {
    response.close();
  }
}

function tooLarge(url: URL, maxBytes: number): KilnError {
  return fetchError(
    'fetch',
    url,
    `it is larger than the limit of ${maxBytes} bytes`,
    'the remote does not look like a Kiln repository, or the file is damaged',
  );
}

/**
 * A fetcher over a remote's URL and its mirrors, for files a signed index pins (shards, file lists): each file
 * from the first URL that has it. A URL that fails is passed over for the next; `undefined` only when every URL
 * says the file does not exist, else the first URL's error.
 */
export function mirroredFetcher(bases: readonly URL[], options: RemoteFetcherOptions = {}): RepositoryFetcher {
  const fetchers = bases.map((base) => remoteFetcher(base, options));
  if (fetchers.length === 1) return fetchers[0]!;
  return async (path) => {
    let failure: { error: unknown } | undefined;
    for (const fetch of fetchers) {
      try {
        const bytes = await fetch(path);
        if (bytes !== undefined) return bytes;
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
    return undefined;
  };
}
