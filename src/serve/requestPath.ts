/**
 * The path of a request, as segments of a relative path inside the served
 * tree, or the reason it is refused. Each segment is percent-decoded on its
 * own, so an encoded slash (`%2F`) can never join two segments; `.` and `..`
 * (however encoded), NUL, backslashes, empty segments and invalid UTF-8 are
 * refused, never normalized: a path that needs normalizing is not one Kiln
 * publishes.
 */

export type RequestPath =
  | { ok: true; segments: string[]; directory: boolean }
  | { ok: false; status: 400 | 404; reason: string };

const MAX_PATH_BYTES = 4096;

export function requestPath(target: string): RequestPath {
  const query = target.search(/[?#]/);
  const path = query === -1 ? target : target.slice(0, query);
  if (!path.startsWith('/')) return { ok: false, status: 400, reason: 'the request target is not an absolute path' };
  if (path.length > MAX_PATH_BYTES) return { ok: false, status: 400, reason: 'the path is too long' };
  const raw = path.slice(1).split('/');
  // "/" and "/dir/": a directory (the served tree has no directory pages).
  const directory = raw[raw.length - 1] === '';
  if (directory) raw.pop();
  const segments: string[] = [];
  for (const part of raw) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { ok: false, status: 400, reason: 'the path is not valid percent-encoded UTF-8' };
    }
    if (segment === '') return { ok: false, status: 400, reason: 'the path has an empty segment' };
    if (segment === '.' || segment === '..')
      return { ok: false, status: 400, reason: 'the path has a . or .. segment' };
    if (/[/\\\0]/.test(segment))
      return { ok: false, status: 400, reason: 'a path segment holds a slash, a backslash or NUL' };
    segments.push(segment);
  }
  return { ok: true, segments, directory };
}
