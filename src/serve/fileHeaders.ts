/**
 * What a file of the published tree is served as: its content type, and how
 * long a client or cache may keep it. Everything in a Kiln repository is
 * immutable once published (packages, index snapshots `indexes/N.*`, pinned
 * files `v2/…`, keys by key id), except the pointers a commit replaces:
 * `index.json`, `index.v2.json` and their signatures. Those get a short
 * lifetime and must be revalidated; the rest may be cached for a year.
 */
import { INDEX_FILE, SIGNATURE_SUFFIX } from '../repo/layout.js';
import { ROOT_FILE } from '../repo/indexV2.js';

/** The files a commit replaces in place (rename over). */
const POINTERS = new Set([INDEX_FILE, INDEX_FILE + SIGNATURE_SUFFIX, ROOT_FILE, ROOT_FILE + SIGNATURE_SUFFIX]);
/** Top directories whose files never change once published. */
const IMMUTABLE_DIRS = new Set(['packages', 'indexes', 'v2', 'keys']);

/** Seconds a pointer may be cached before it is asked for again (with its ETag). */
export const POINTER_MAX_AGE = 30;

export function cacheControl(segments: readonly string[]): string {
  if (segments.length === 1 && POINTERS.has(segments[0]!)) return `public, max-age=${POINTER_MAX_AGE}, must-revalidate`;
  if (segments.length > 1 && IMMUTABLE_DIRS.has(segments[0]!)) return 'public, max-age=31536000, immutable';
  return 'public, max-age=300';
}

const TYPES: [suffix: string, type: string][] = [
  ['.kpkg', 'application/vnd.kiln.package'],
  ['.json', 'application/json'],
  ['.minisig', 'text/plain; charset=utf-8'],
  ['.pub', 'text/plain; charset=utf-8'],
  ['.txt', 'text/plain; charset=utf-8'],
  ['.zst', 'application/zstd'],
  ['.gz', 'application/gzip'],
  ['.html', 'text/html; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
];

export function contentType(name: string): string {
  for (const [suffix, type] of TYPES) if (name.endsWith(suffix)) return type;
  return 'application/octet-stream';
}

/** Encodings a request accepts, best first, of those a precompressed file may have beside the original. */
export const PRECOMPRESSED: { encoding: string; suffix: string }[] = [
  { encoding: 'zstd', suffix: '.zst' },
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
];

/** Whether `Accept-Encoding` admits `encoding` (a q of 0 refuses it; `*` admits what is not named). */
export function accepts(header: string | undefined, encoding: string): boolean {
  if (header === undefined) return false;
  let star = false;
  for (const item of header.split(',')) {
    const [name = '', ...params] = item.trim().toLowerCase().split(';');
    const q = params.map((param) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    const allowed = q === undefined || Number(q) > 0;
    if (name.trim() === encoding) return allowed;
    if (name.trim() === '*') star = allowed;
  }
  return star;
}

/** Whether an `If-None-Match` header names `tag` (weak comparison) or is `*`: the client's copy is current. */
export function noneMatch(header: string, tag: string): boolean {
  const bare = tag.replace(/^W\//, '');
  return header.split(',').some((item) => {
    const candidate = item.trim();
    return candidate === '*' || candidate.replace(/^W\//, '') === bare;
  });
}
