/**
 * A minimal static HTTP server on loopback, serving a directory the way nginx
 * or a CDN would: GET a path, get the file (or 404); `Range: bytes=N-` gets
 * the rest of the file (206, or 416 past its end) unless ranges are turned
 * off. Names starting with "." are refused (403) unless dot files are turned
 * on. Started and stopped by each test that needs it.
 */
import { open } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

/** One request the server answered: what was asked and how much of the body it sent. */
export interface ServedRequest {
  path: string;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
  bytes: number;
}

export interface StaticServer {
  url: string;
  requests: number;
  /** Every request so far, in order. */
  log: readonly ServedRequest[];
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Answer `Range: bytes=N-` with 206 (default true); false serves the whole file, as some servers do. */
  ranges?: boolean;
  /** Serve names starting with "." too, as `python3 -m http.server` and an unconfigured server do (default false: 403). */
  dotfiles?: boolean;
}

export async function serveDirectory(root: string, options: ServeOptions = {}): Promise<StaticServer> {
  const state = { requests: 0 };
  const log: ServedRequest[] = [];
  const server = createServer((request, response) => {
    state.requests++;
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const entry: ServedRequest = {
      path,
      range: request.headers.range,
      authorization: request.headers.authorization,
      status: 0,
      bytes: 0,
    };
    log.push(entry);
    const answer = (status: number, headers: Record<string, string | number> = {}): void => {
      entry.status = status;
      response.writeHead(status, headers).end();
    };
    if (
      path.includes('..') ||
      (options.dotfiles !== true && path.split('/').some((part) => part.startsWith('.') && part.length > 0))
    ) {
      answer(403);
      return;
    }
    const file = join(root, path);
    // Open first, then size the open file, as nginx does: a file renamed over this path
    // meanwhile (an atomic publish) is served whole, old or new, never a mix of the two.
    open(file, 'r').then(
      async (handle) => {
        const info = await handle.stat();
        if (!info.isFile()) {
          await handle.close();
          answer(404);
          return;
        }
        const start = options.ranges === false ? undefined : rangeStart(request.headers.range);
        if (start !== undefined && start >= info.size) {
          await handle.close();
          answer(416, { 'content-range': `bytes */${info.size}` });
          return;
        }
        if (start !== undefined) {
          entry.status = 206;
          entry.bytes = info.size - start;
          response.writeHead(206, {
            'content-length': info.size - start,
            'content-range': `bytes ${start}-${info.size - 1}/${info.size}`,
          });
          handle.createReadStream({ start }).pipe(response);
          return;
        }
        entry.status = 200;
        entry.bytes = info.size;
        response.writeHead(200, { 'content-length': info.size });
        handle.createReadStream().pipe(response);
      },
      () => answer(404),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    log,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** N of a `Range: bytes=N-` header; `undefined` for no header or any other form of range. */
function rangeStart(header: string | undefined): number | undefined {
  const match = /^bytes=(\d+)-$/.exec(header ?? '');
  return match === null ? undefined : Number(match[1]);
}

/** A repository fetcher over HTTP (what a client does), for readPublishedIndex. */
export function httpFetcher(base: string): (relativePath: string) => Promise<Buffer | undefined> {
  return async (relativePath) => {
    const response = await fetch(`${base}/${relativePath}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`GET ${base}/${relativePath}: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  };
}
