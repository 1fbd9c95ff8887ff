/**
 * Serve one file of the published tree, as a careful static server does:
 * GET and HEAD only; the path checked segment by segment (requestPath.ts) and
 * then resolved, so that neither `..` nor a symbolic link can lead outside
 * the tree; dot files (a commit's temporaries) never served; `ETag` and
 * `Last-Modified` with `If-None-Match`, `If-Modified-Since` and `If-Range`;
 * one byte range (`206`, `416`); a precompressed variant beside the file
 * (`FILE.zst`, `.br`, `.gz`) when the request accepts its encoding; the
 * cache lifetime of fileHeaders.ts. The body streams from the open file.
 */
import type { Stats } from 'node:fs';
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, realpathSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readFullySync } from '../util/fs.js';
import { PRECOMPRESSED, accepts, cacheControl, contentType, noneMatch } from './fileHeaders.js';
import { byteRange } from './httpRange.js';
import { requestPath } from './requestPath.js';

/** What the access log records of one response. */
export interface Served {
  status: number;
  /** Body bytes sent (planned: a client that goes away early gets fewer). */
  bytes: number;
}

/** Types that are compressed already: no precompressed variant is looked for. */
const COMPRESSED = ['.kpkg', '.zst', '.gz', '.br', '.png'];

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): Served {
  const body = `${text}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
  return { status, bytes: res.req.method === 'HEAD' ? 0 : Buffer.byteLength(body) };
}

/**
 * The real path of `segments` under `root` (itself a real path), or undefined when absent or outside. Each
 * component is looked at with lstat (a few system calls; realpath(3) looks at every component from `/` and
 * was 35 % of the server's time); only a path with a symbolic link on it is resolved in full and then must
 * still lie inside the tree.
 */
function inside(root: string, segments: readonly string[]): string | undefined {
  let path = root;
  for (const segment of segments) {
    path = `${path}${sep}${segment}`;
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return undefined;
    if (stats.isSymbolicLink()) return resolved(root, join(root, ...segments));
  }
  return path;
}

function resolved(root: string, path: string): string | undefined {
  try {
    const real = realpathSync.native(path);
    return real === root || real.startsWith(root + sep) ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Open a regular file without following a link at its last component; undefined when that is not possible. */
function openRegular(path: string): { fd: number; stats: Stats } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    return undefined;
  }
  return { fd, stats };
}

/** Bodies up to this size are read at once and sent in one write; bigger ones stream. */
const SMALL_BODY = 256 * 1024;

const entityTag = (stats: Stats, encoding: string | undefined): string =>
  `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}${encoding === undefined ? '' : `-${encoding}`}"`;

/** If-None-Match: does any listed tag match (weak comparison, as RFC 9110 asks for this header)? */
export async function serveFile(root: string, req: IncomingMessage, res: ServerResponse): Promise<Served> {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return plain(res, 405, 'method not allowed: this server only reads (GET, HEAD)', { allow: 'GET, HEAD' });
  const path = requestPath(req.url ?? '');
  if (!path.ok) return plain(res, path.status, `bad request: ${path.reason}`);
  if (path.directory || path.segments.length === 0 || path.segments.some((segment) => segment.startsWith('.')))
    return plain(res, 404, 'not found');
  // Synchronous file system calls: on a local tree each is a few microseconds, less than a trip to libuv's
  // thread pool (measured: 2,216 requests/s for a small file with promises at 16 connections).
  const real = inside(root, path.segments);
  if (real === undefined) return plain(res, 404, 'not found');

  const name = path.segments[path.segments.length - 1]!;
  let encoding: string | undefined;
  let file: ReturnType<typeof openRegular>;
  let varies = false;
  if (!COMPRESSED.some((suffix) => name.endsWith(suffix))) {
    for (const variant of PRECOMPRESSED) {
      // Beside the file as resolved: its directory is inside the tree already.
      const candidate = join(dirname(real), basename(real) + variant.suffix);
      const stats = lstatSync(candidate, { throwIfNoEntry: false });
      const beside = stats === undefined ? undefined : stats.isSymbolicLink() ? resolved(root, candidate) : candidate;
      if (beside === undefined) continue;
      varies = true;
      if (!accepts(req.headers['accept-encoding'], variant.encoding)) continue;
      file = openRegular(beside);
      if (file !== undefined) {
        encoding = variant.encoding;
        break;
      }
    }
  }
  file ??= openRegular(real);
  if (file === undefined) return plain(res, 404, 'not found');
  const { fd, stats } = file;
  let streaming = false;
  try {
    const tag = entityTag(stats, encoding);
    const headers: Record<string, string | number> = {
      'content-type': contentType(name),
      'cache-control': cacheControl(path.segments),
      etag: tag,
      'last-modified': stats.mtime.toUTCString(),
      'x-content-type-options': 'nosniff',
    };
    if (encoding === undefined) headers['accept-ranges'] = 'bytes';
    else headers['content-encoding'] = encoding;
    if (varies) headers['vary'] = 'Accept-Encoding';

    const ifNoneMatch = req.headers['if-none-match'];
    const ifModifiedSince = req.headers['if-modified-since'];
    const notModified =
      ifNoneMatch !== undefined
        ? noneMatch(ifNoneMatch, tag)
        : ifModifiedSince !== undefined &&
          !Number.isNaN(Date.parse(ifModifiedSince)) &&
          Math.floor(stats.mtimeMs / 1000) <= Math.floor(Date.parse(ifModifiedSince) / 1000);
    if (notModified) {
      const { 'content-type': _type, ...rest } = headers;
      res.writeHead(304, rest);
      res.end();
      return { status: 304, bytes: 0 };
    }

    // A range applies to the file as it is, unless If-Range names another version of it.
    const ifRange = req.headers['if-range'];
    const rangeHeader =
      encoding !== undefined || (ifRange !== undefined && ifRange !== tag && ifRange !== headers['last-modified'])
        ? undefined
        : req.headers.range;
    const range = byteRange(rangeHeader, stats.size);
    if (range.kind === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${stats.size}`, 'content-length': 0 });
      res.end();
      return { status: 416, bytes: 0 };
    }
    const start = range.kind === 'part' ? range.start : 0;
    const end = range.kind === 'part' ? range.end : stats.size - 1;
    const length = stats.size === 0 ? 0 : end - start + 1;
    if (range.kind === 'part') headers['content-range'] = `bytes ${start}-${end}/${stats.size}`;
    headers['content-length'] = length;
    const status = range.kind === 'part' ? 206 : 200;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return { status, bytes: 0 };
    }
    if (length <= SMALL_BODY) {
      const body = Buffer.allocUnsafe(length);
      const done = readFullySync(fd, body, start);
      res.end(done === length ? body : body.subarray(0, done));
      return { status, bytes: done };
    }
    streaming = true;
    // The stream closes the file when it ends or fails; a client that goes away ends it early.
    await pipeline(createReadStream('', { fd, start, end, highWaterMark: 64 * 1024 }), res).catch(() => undefined);
    return { status, bytes: length };
  } finally {
    if (!streaming) closeSync(fd);
  }
}
