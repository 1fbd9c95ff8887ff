/**
 * A minimal static HTTP server on loopback, serving a directory the way nginx
 * or a CDN would: GET a path, get the file (or 404). Started and stopped by
 * each test that needs it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

export interface StaticServer {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function serveDirectory(root: string): Promise<StaticServer> {
  const state = { requests: 0 };
  const server = createServer((request, response) => {
    state.requests++;
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (path.includes('..') || path.split('/').some((part) => part.startsWith('.') && part.length > 0)) {
      response.writeHead(403).end();
      return;
    }
    const file = join(root, path);
    stat(file).then(
      (info) => {
        if (!info.isFile()) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-length': info.size });
        createReadStream(file).pipe(response);
      },
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
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
