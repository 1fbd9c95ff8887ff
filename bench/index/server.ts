/**
 * The loopback HTTP server of bench/indexBench.ts: serves static directories
 * under URL prefixes (`/kiln/` → the Kiln repository's published tree, `/pacman/`,
 * `/apt/`) on 127.0.0.1 and a free port. Never serves a path with a component
 * starting with "." (as a careful nginx configuration would not). Answers GET and HEAD,
 * with Content-Length and Last-Modified, and 304 to If-Modified-Since. Counts
 * requests and body bytes per prefix so the benchmark can report what each
 * client downloaded.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';

export interface Traffic {
  requests: number;
  /** Body bytes sent (200 responses to GET). */
  bytes: number;
  /** Status codes seen, with counts. */
  statuses: Record<string, number>;
  /** Every request as "STATUS METHOD PATH". */
  log: string[];
}

export interface StaticServer {
  port: number;
  url(prefix: string): string;
  /** The traffic of one prefix since the last reset. */
  traffic(prefix: string): Traffic;
  reset(): void;
  close(): Promise<void>;
}

const emptyTraffic = (): Traffic => ({ requests: 0, bytes: 0, statuses: {}, log: [] });

export async function startServer(roots: Record<string, string>): Promise<StaticServer> {
  const counters = new Map<string, Traffic>(Object.keys(roots).map((prefix) => [prefix, emptyTraffic()]));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = decodeURIComponent(url.pathname)
      .split('/')
      .filter((part) => part !== '');
    const prefix = parts.shift() ?? '';
    const root = roots[prefix];
    const traffic = counters.get(prefix);
    const answer = (status: number) => {
      if (traffic !== undefined) {
        traffic.requests++;
        traffic.statuses[status] = (traffic.statuses[status] ?? 0) + 1;
        traffic.log.push(`${status} ${req.method ?? '?'} ${url.pathname}`);
      }
    };
    const fail = (status: number) => {
      answer(status);
      res.writeHead(status, { 'Content-Length': 0 });
      res.end();
    };
    if (root === undefined || parts.some((part) => part.startsWith('.') || part.includes(sep))) return fail(404);
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405);
    const path = join(root, ...parts);
    let size: number;
    let mtime: Date;
    try {
      const stats = statSync(path);
      if (!stats.isFile()) return fail(404);
      size = stats.size;
      mtime = stats.mtime;
    } catch {
      return fail(404);
    }
    const since = req.headers['if-modified-since'];
    if (since !== undefined && Math.floor(mtime.getTime() / 1000) <= Math.floor(Date.parse(since) / 1000))
      return fail(304);
    answer(200);
    res.writeHead(200, {
      'Content-Length': size,
      'Content-Type': 'application/octet-stream',
      'Last-Modified': mtime.toUTCString(),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (traffic !== undefined) traffic.bytes += size;
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (prefix) => `http://127.0.0.1:${port}/${prefix}`,
    traffic: (prefix) => {
      const found = counters.get(prefix);
      return found === undefined ? emptyTraffic() : { ...found, statuses: { ...found.statuses }, log: [...found.log] };
    },
    reset: () => {
      for (const prefix of counters.keys()) counters.set(prefix, emptyTraffic());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
