/**
 * The web catalog and its JSON API, for `kiln serve`: answers the catalog's
 * paths (`/`, `/search`, `/package/NAME`, `/history`, `/static/…`,
 * `/api/v1/…`) and leaves every other path to the static tree.
 *
 * The catalog is read once per serial. Each request stats the index
 * signatures (microseconds); when they changed — a commit renamed new ones in
 * — the new serial is read in the background while requests keep getting the
 * pages of the one before, so a publish neither drops nor stalls a request.
 * Rendered pages are kept per serial (bounded), with an ETag.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { isErrno } from '../../errors/index.js';
import { entryKey } from '../../repo/indexFormat.js';
import { INDEX_FILE, SIGNATURE_SUFFIX } from '../../repo/layout.js';
import { ROOT_FILE } from '../../repo/indexV2.js';
import { noneMatch } from '../fileHeaders.js';
import type { Served } from '../serveFile.js';
import { filesJson, packageJson, repositoryJson, searchJson } from './catalogApi.js';
import { ASSETS } from './catalogAssets.js';
import { catalogFiles } from './catalogFiles.js';
import { catalogHistory } from './catalogHistory.js';
import type { PublishedAt } from './catalogPages.js';
import { historyPage, homePage, notFoundPage, packagePage, searchPage, selectedEntry } from './catalogPages.js';
import type { Catalog } from './loadCatalog.js';
import { loadCatalog } from './loadCatalog.js';
import { SEARCH_PAGE, searchCatalog } from './searchCatalog.js';

export interface CatalogService {
  /** Answers a catalog path; undefined for any other path (the static tree's). */
  answer(req: IncomingMessage, res: ServerResponse): Promise<Served | undefined>;
}

interface Page {
  status: number;
  contentType: string;
  body: Buffer;
  etag: string;
  cacheControl: string;
}

/** Rendered pages kept per serial; arbitrary search queries cannot grow it past this. */
const PAGE_CACHE = 2000;

interface Loaded {
  stamp: string;
  catalog: Catalog;
  pages: Map<string, Page>;
  publishedAt?: Map<string, PublishedAt>;
}

export function catalogService(tree: string, logFile?: string, warn?: (line: string) => void): CatalogService {
  let current: Loaded | undefined;
  let loading: { stamp: string; done: Promise<Loaded> } | undefined;
  let failed: { stamp: string; error: Error } | undefined;

  const stampOf = (): string =>
    [INDEX_FILE, ROOT_FILE]
      .map((file) => {
        try {
          const stats = statSync(join(tree, file + SIGNATURE_SUFFIX), { bigint: true });
          return `${stats.ino}:${stats.mtimeNs}:${stats.size}`;
        } catch (error) {
          if (isErrno(error, 'ENOENT')) return '-';
          throw error;
        }
      })
      .join(' ');

  const catalogNow = async (): Promise<Loaded> => {
    const stamp = stampOf();
    if (current?.stamp === stamp) return current;
    if (failed?.stamp === stamp) {
      if (current !== undefined) return current;
      throw failed.error;
    }
    if (loading?.stamp !== stamp) {
      const done = loadCatalog(tree, logFile).then(
        (catalog): Loaded => {
          const loaded: Loaded = { stamp, catalog, pages: new Map() };
          if (loading?.stamp === stamp) {
            current = loaded;
            loading = undefined;
          }
          return loaded;
        },
        (error: Error) => {
          warn?.(`cannot read the catalog of ${tree}: ${error.message}`);
          failed = { stamp, error };
          if (loading?.stamp === stamp) loading = undefined;
          throw error;
        },
      );
      loading = { stamp, done };
      // A rejection is answered where it is awaited; without a waiter it must not be unhandled.
      done.catch(() => undefined);
    }
    // The serial before stays served while the new one is read.
    return current ?? (loading as { done: Promise<Loaded> }).done;
  };

  return {
    async answer(req, res) {
      const target = req.url ?? '/';
      const queryAt = target.indexOf('?');
      const path = queryAt < 0 ? target : target.slice(0, queryAt);
      if (!isCatalogPath(path)) return undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
      if (path.startsWith('/static/')) {
        const asset = Object.values(ASSETS).find((candidate) => candidate.href === path);
        if (asset === undefined) return undefined;
        return send(req, res, {
          status: 200,
          contentType: asset.contentType,
          body: asset.body,
          etag: asset.etag,
          cacheControl: 'public, max-age=31536000, immutable',
        });
      }
      let loaded: Loaded;
      try {
        loaded = await catalogNow();
      } catch (error) {
        return send(req, res, textPage(503, `the catalog cannot be read: ${(error as Error).message}`));
      }
      const cacheable = path !== '/' && path !== '/api/v1/repository';
      const cached = cacheable ? loaded.pages.get(target) : undefined;
      if (cached !== undefined) return send(req, res, cached);
      const page = await render(loaded, path, new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1)));
      if (cacheable) {
        if (loaded.pages.size >= PAGE_CACHE) loaded.pages.delete(loaded.pages.keys().next().value as string);
        loaded.pages.set(target, page);
      }
      return send(req, res, page);
    },
  };
}

const CATALOG_PATHS = new Set(['/', '/search', '/history']);

function isCatalogPath(path: string): boolean {
  return (
    CATALOG_PATHS.has(path) ||
    path.startsWith('/package/') ||
    path.startsWith('/static/') ||
    path.startsWith('/api/v1/')
  );
}

function integer(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const text = params.get(name);
  if (text === null || !/^\d{1,9}$/.test(text)) return undefined;
  return Math.min(max, Math.max(min, Number(text)));
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

async function render(loaded: Loaded, path: string, params: URLSearchParams): Promise<Page> {
  const catalog = loaded.catalog;
  const query = (params.get('q') ?? '').slice(0, 200);
  const offset = integer(params, 'offset', 0, 1_000_000) ?? 0;
  if (path === '/') return htmlPage(200, homePage(catalog, new Date()), catalog);
  if (path === '/search') return htmlPage(200, searchPage(catalog, query, offset), catalog);
  if (path === '/history') {
    const page = await catalogHistory(catalog, integer(params, 'before', 1, Number.MAX_SAFE_INTEGER));
    return htmlPage(200, historyPage(catalog, page), catalog);
  }
  if (path.startsWith('/package/')) {
    const name = decode(path.slice('/package/'.length));
    const item = name === undefined ? undefined : catalog.byName.get(name);
    if (item === undefined)
      return htmlPage(404, notFoundPage(catalog, `No package is named “${name ?? path}” in this repository.`), catalog);
    const entry = selectedEntry(item, {
      version: params.get('version') ?? undefined,
      variant: params.get('variant') ?? undefined,
    });
    const files = (await catalogFiles(catalog))?.get(entry.sha256);
    return htmlPage(200, packagePage(catalog, item, entry, files, publishedAt(loaded, entryKey(entry))), catalog);
  }
  // /api/v1/…
  const api = path.slice('/api/v1/'.length);
  if (api === 'repository') return jsonPage(200, repositoryJson(catalog), catalog);
  if (api === 'search') {
    const limit = integer(params, 'limit', 1, 100) ?? SEARCH_PAGE;
    return jsonPage(200, searchJson(query, offset, searchCatalog(catalog.names, query, offset, limit)), catalog);
  }
  if (api === 'history')
    return jsonPage(200, await catalogHistory(catalog, integer(params, 'before', 1, Number.MAX_SAFE_INTEGER)), catalog);
  const packageMatch = /^packages\/([^/]+)(\/files)?$/.exec(api);
  const name = packageMatch === null ? undefined : decode(packageMatch[1] as string);
  const item = name === undefined ? undefined : catalog.byName.get(name);
  if (packageMatch === null || item === undefined)
    return jsonPage(
      404,
      { error: packageMatch === null ? `no API path ${path}` : `no package named ${name ?? ''}` },
      catalog,
    );
  if (packageMatch[2] === undefined) return jsonPage(200, packageJson(catalog, item), catalog);
  const entry = selectedEntry(item, {
    version: params.get('version') ?? undefined,
    variant: params.get('variant') ?? undefined,
  });
  return jsonPage(200, filesJson(catalog, entry, (await catalogFiles(catalog))?.get(entry.sha256)), catalog);
}

/** When the log says an entry was added (first serial that added it), for the maintainer's directory. */
function publishedAt(loaded: Loaded, key: string): PublishedAt | undefined {
  const log = loaded.catalog.log;
  if (log === undefined) return undefined;
  if (loaded.publishedAt === undefined) {
    const map = new Map<string, PublishedAt>();
    for (const record of log)
      for (const added of record.added) map.set(added, { serial: record.serial, time: record.time });
    loaded.publishedAt = map;
  }
  return loaded.publishedAt.get(key);
}

function etagOf(serial: number, body: Buffer): string {
  return `"s${serial}-${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
}

function htmlPage(status: number, text: string, catalog: Catalog): Page {
  const body = Buffer.from(text, 'utf8');
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body,
    etag: etagOf(catalog.index.serial, body),
    cacheControl: 'no-cache',
  };
}

function jsonPage(status: number, value: unknown, catalog: Catalog): Page {
  const body = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
  return {
    status,
    contentType: 'application/json; charset=utf-8',
    body,
    etag: etagOf(catalog.index.serial, body),
    cacheControl: 'no-cache',
  };
}

function textPage(status: number, text: string): Page {
  return {
    status,
    contentType: 'text/plain; charset=utf-8',
    body: Buffer.from(`${text}\n`, 'utf8'),
    etag: '',
    cacheControl: 'no-store',
  };
}

/** Scripts only from this server, no framing, no plugins: a page cannot be made to run what a package's text holds. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'referrer-policy': 'same-origin',
};

function send(req: IncomingMessage, res: ServerResponse, page: Page): Served {
  const headers: Record<string, string | number> = {
    'content-type': page.contentType,
    'cache-control': page.cacheControl,
    ...SECURITY_HEADERS,
  };
  if (page.etag !== '') headers.etag = page.etag;
  const ifNoneMatch = req.headers['if-none-match'];
  if (page.etag !== '' && page.status === 200 && ifNoneMatch !== undefined && noneMatch(ifNoneMatch, page.etag)) {
    res.writeHead(304, headers);
    res.end();
    return { status: 304, bytes: 0 };
  }
  headers['content-length'] = page.body.length;
  res.writeHead(page.status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return { status: page.status, bytes: 0 };
  }
  res.end(page.body);
  return { status: page.status, bytes: page.body.length };
}
