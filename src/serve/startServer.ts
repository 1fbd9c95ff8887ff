/**
 * `kiln serve`'s HTTP server on `node:http`: the published tree (serveFile.ts)
 * with every resource a client can hold bounded — header size, the time to
 * send the headers and the whole request (slow clients), idle keep-alive and
 * idle sockets, and the number of connections (more are closed at once) —
 * an access log line per response, and a graceful stop: no new connections,
 * requests in progress finish (up to a grace period), then the rest close.
 *
 * The web catalog's paths (`/`, `/search`, `/package/…`, `/history`,
 * `/static/…`, `/api/v1/…`) are answered by catalog/catalogService.ts first.
 *
 * Every request reads the tree as it is on disk, and a commit replaces its
 * pointers by rename, so a new serial is served as soon as it is published,
 * without a restart and without dropping a request.
 */
import { realpath } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KilnError } from '../errors/index.js';
import { accessLine } from './accessLog.js';
import { catalogService } from './catalog/catalogService.js';
import type { Served } from './serveFile.js';
import { serveFile } from './serveFile.js';

export interface ServeOptions {
  /** The published tree. */
  tree: string;
  host: string;
  port: number;
  /** Each access log line (Combined Log Format). */
  log?: (line: string) => void;
  /** Problems that are not a client's (a failed read), for the operator. */
  warn?: (line: string) => void;
  maxConnections?: number;
  /** Seconds a client has to send its request headers. */
  headerTimeout?: number;
  /** Seconds a socket may be idle (no byte either way) before it is closed. */
  idleTimeout?: number;
  /**
   * The web catalog and its JSON API (catalog/catalogService.ts): on unless
   * false. `logFile` is the repository's commit log, for history with messages.
   */
  catalog?: false | { logFile?: string };
  /** Seconds a client has to send a whole request, headers and body (default: the header timeout and 5 more). */
  requestTimeout?: number;
  /** Answers its own paths before the catalog and the tree (the build farm's coordinator: farm/farmService.ts). */
  extra?: { answer(req: IncomingMessage, res: ServerResponse): Promise<Served | undefined> };
}

export interface RunningServer {
  /** http://HOST:PORT (the port the system chose, for port 0). */
  url: string;
  /** Stop accepting, let responses in progress finish for up to `graceSeconds`, then close what is left. */
  close(graceSeconds?: number): Promise<void>;
}

export const SERVE_DEFAULTS = { maxConnections: 1024, headerTimeout: 10, idleTimeout: 30, maxHeaderBytes: 16 * 1024 };

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const root = await realpath(options.tree);
  const headerTimeout = options.headerTimeout ?? SERVE_DEFAULTS.headerTimeout;
  const idleTimeout = options.idleTimeout ?? SERVE_DEFAULTS.idleTimeout;
  const catalog = options.catalog === false ? undefined : catalogService(root, options.catalog?.logFile, options.warn);
  let closing = false;
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<Served> =>
    (await options.extra?.answer(req, res)) ?? (await catalog?.answer(req, res)) ?? serveFile(root, req, res);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (closing) res.setHeader('connection', 'close');
    // Read now: once the connection has closed, the socket no longer knows it.
    const remote = req.socket.remoteAddress ?? '-';
    // While stopping, a connection whose response ends is closed instead of kept alive.
    res.on('finish', () => {
      if (closing) server.closeIdleConnections();
    });
    answer(req, res).then(
      (served) => {
        options.log?.(
          accessLine({
            remote,
            time: new Date(),
            method: req.method ?? '-',
            target: req.url ?? '-',
            httpVersion: req.httpVersion,
            status: served.status,
            bytes: served.bytes,
            referer: req.headers.referer,
            userAgent: req.headers['user-agent'],
          }),
        );
      },
      (error: unknown) => {
        options.warn?.(`cannot answer ${req.method} ${req.url}: ${(error as Error).message}`);
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
          res.end('internal error\n');
        } else res.destroy();
      },
    );
  };
  const server: Server = createServer(
    {
      maxHeaderSize: SERVE_DEFAULTS.maxHeaderBytes,
      headersTimeout: headerTimeout * 1000,
      // The whole request (headers and any body); a GET has none.
      requestTimeout: (options.requestTimeout ?? headerTimeout + 5) * 1000,
      keepAliveTimeout: 5000,
      // How often slow headers and requests are looked for: often enough that the limits above hold.
      connectionsCheckingInterval: Math.min(1000, headerTimeout * 500),
    },
    handle,
  );
  server.maxConnections = options.maxConnections ?? SERVE_DEFAULTS.maxConnections;
  // A socket with no traffic either way (a client that stopped reading, or never sent anything) is closed.
  server.setTimeout(idleTimeout * 1000, (socket: Socket) => socket.destroy());
  // Malformed requests, headers over the limit, headers too slow: answered (when the socket still takes it) and closed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      reject(
        new KilnError('E_LISTEN', `cannot listen on ${options.host}:${options.port}: ${error.message}`, {
          hint:
            error.code === 'EADDRINUSE'
              ? 'another process listens there; choose another port with --listen HOST:PORT'
              : error.code === 'EACCES'
                ? 'ports below 1024 need root; choose a port of 1024 or more'
                : 'check the address given to --listen',
          cause: error,
        }),
      );
    };
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close(graceSeconds = 10) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceSeconds * 1000);
      await closed;
      clearTimeout(timer);
    },
  };
}
