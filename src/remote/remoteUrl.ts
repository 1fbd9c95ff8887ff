/**
 * Remote URLs: where a repository lives. A remote is a directory reached over
 * `file:`, `http:` or `https:`; files in it are named by the relative paths
 * the repository index uses (`packages/app/zlib/zlib-1.3-abc.kpkg`).
 *
 * URLs may carry credentials (`https://user:token@host/repo`); every message
 * built here and in the rest of `remote/` names a URL through `redactUrl`.
 */
import { pathToFileURL } from 'node:url';
import { KilnError } from '../errors/index.js';

const SCHEMES = new Set(['file:', 'http:', 'https:']);
const HINT = 'use a file://, http:// or https:// URL, or an absolute path';

/**
 * Parse the URL of a remote. A bare absolute path becomes a `file:` URL.
 * Throws E_REMOTE_URL for anything else, and for a URL with a query or
 * fragment (a remote is a directory; files are found under it by path).
 * @example parseRemoteUrl('https://pkg.example.org/main/') // URL
 * @example parseRemoteUrl('/srv/repo').href // 'file:///srv/repo'
 */
export function parseRemoteUrl(text: string): URL {
  if (text.startsWith('/')) return pathToFileURL(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const state = /^[a-z][a-z0-9+.-]*:/i.test(text)
      ? 'it is not a valid URL'
      : 'it is neither a URL nor an absolute path';
    throw new KilnError('E_REMOTE_URL', `cannot use remote URL "${redactUrl(text)}": ${state}`, { hint: HINT });
  }
  checkRemoteUrl(url);
  return url;
}

/**
 * Throw E_REMOTE_URL unless `url` is one `parseRemoteUrl` accepts; for
 * functions that take a `URL` made elsewhere.
 */
export function checkRemoteUrl(url: URL): void {
  const problem = remoteUrlProblem(url);
  if (problem !== undefined)
    throw new KilnError('E_REMOTE_URL', `cannot use remote URL ${redactUrl(url)}: ${problem}`, { hint: HINT });
}

function remoteUrlProblem(url: URL): string | undefined {
  if (!SCHEMES.has(url.protocol)) return `scheme "${url.protocol}" is not supported`;
  if (url.search !== '' || url.hash !== '' || url.href.includes('#') || url.href.includes('?'))
    return 'it has a query or fragment';
  if (url.protocol === 'file:' && url.host !== '' && url.host !== 'localhost')
    return `a file URL cannot name a host ("${url.host}")`;
  return undefined;
}

/**
 * The URL with any user name and password removed, for messages and logs.
 * Text that is not a URL has anything that looks like credentials removed.
 * @example redactUrl('https://me:token@host/repo/') // 'https://host/repo/'
 */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  if (typeof url === 'string') {
    try {
      parsed = new URL(url);
    } catch {
      return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
    }
  } else {
    parsed = new URL(url.href);
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/**
 * The URL of the file at `relativePath` under the remote directory `base`
 * (with or without a trailing slash). Each segment is percent-encoded, so a
 * name holding `?`, `#`, `%` or `:` stays a name. Throws E_REMOTE_URL for an
 * absolute path or a path with an empty, `.` or `..` segment: a remote path
 * never leaves the remote.
 * @example resolveRemotePath(new URL('https://host/repo'), 'packages/app/zlib/zlib 1.3.kpkg').href
 * // 'https://host/repo/packages/app/zlib/zlib%201.3.kpkg'
 */
export function resolveRemotePath(base: URL, relativePath: string): URL {
  const segments = relativePath.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.includes('\0'))) {
    throw new KilnError(
      'E_REMOTE_URL',
      `cannot resolve "${relativePath}" under ${redactUrl(base)}: it is not a relative path of plain names`,
    );
  }
  const directory = new URL(base.href);
  directory.search = '';
  directory.hash = '';
  if (!directory.pathname.endsWith('/')) directory.pathname += '/';
  return new URL(segments.map(encodeURIComponent).join('/'), directory);
}
