/**
 * The rules that keep a package inside its prefix, checked on every manifest
 * Kiln reads (and on every tree it packs): canonical relative paths, no
 * duplicates, every ancestor a directory of the same package, symbolic links
 * that resolve inside the package tree, hard links only to earlier regular
 * files of the same package.
 */
import { KilnError } from '../errors/index.js';
import type { ManifestEntry } from './metadata.js';

/**
 * Longest path (in UTF-8 bytes) and path component accepted. Linux takes at
 * most 4096 bytes for a whole path, its terminating NUL included (PATH_MAX):
 * with the shortest prefix, `/`, a package path of 4094 bytes just fits, and a
 * longer one could be installed nowhere. A longer prefix leaves less: the
 * installer checks each path against its own (`installablePathProblem`).
 */
export const PATH_MAX = 4096;
export const MAX_PATH_BYTES = PATH_MAX - 2;
export const MAX_COMPONENT_BYTES = 255;
/** Longest symbolic link target: what readlink can return in a PATH_MAX buffer (without the NUL). */
export const MAX_TARGET_BYTES = PATH_MAX - 1;
/** C0 controls, DEL and the C1 controls U+0080–U+009F. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Unicode line and paragraph separators and the bidirectional embeddings, overrides and isolates. */
const INVISIBLE = /[\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** How many symbolic links one resolution may pass through (the kernel's own limit). */
const MAX_LINK_HOPS = 40;

/**
 * Why `path` is not a safe, canonical package path, or `undefined` if it is.
 * @example pathProblem('usr/bin/../../etc') === 'has a ".." component'
 */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when the length could be over.
  if (path.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES)
    return `is longer than ${MAX_PATH_BYTES} bytes`;
  // Control characters (C0, DEL and C1, whose CSI a terminal obeys) break line-oriented tools and terminals; NUL cannot be in a path at all.
  if (CONTROL.test(path)) return 'contains a control character';
  if (INVISIBLE.test(path))
    return 'contains a line separator or a bidirectional control, which would make it display as another path';
  if (path.includes('\uFFFD')) return 'is not valid UTF-8';
  for (const component of path.split('/')) {
    if (component === '') return 'has an empty component (a doubled or trailing "/")';
    if (component === '.') return 'has a "." component';
    if (component === '..') return 'has a ".." component';
    if (component.length * 3 > MAX_COMPONENT_BYTES && Buffer.byteLength(component, 'utf8') > MAX_COMPONENT_BYTES)
      return `has a component longer than ${MAX_COMPONENT_BYTES} bytes`;
  }
  return undefined;
}

/** Throw E_PACKAGE_PATH unless `path` is safe; `context` starts the message ("cannot read foo.kpkg"). */
export function assertSafePath(path: string, context: string, what = 'path'): void {
  const problem = pathProblem(path);
  if (problem !== undefined) {
    throw new KilnError('E_PACKAGE_PATH', `${context}: ${what} ${JSON.stringify(path)} ${problem}`, {
      hint: 'package paths must be relative to the prefix, without ".." or "." components',
    });
  }
}

/**
 * Resolve symbolic link `linkPath` → `target` against the package's own tree
 * and say whether it escapes. Components that the package does not hold are
 * taken as plain directories (they may come from other packages; the
 * installer never writes through a link).
 */
export function linkEscapes(linkPath: string, target: string, links: ReadonlyMap<string, string>): string | undefined {
  if (target === '') return 'is empty';
  if (target.startsWith('/')) return 'is absolute';
  if (/\u0000/.test(target)) return 'contains a NUL byte';
  if (CONTROL.test(target)) return 'contains a control character';
  if (INVISIBLE.test(target)) return 'contains a line separator or a bidirectional control';
  if (Buffer.byteLength(target, 'utf8') > MAX_TARGET_BYTES) return `is longer than ${MAX_TARGET_BYTES} bytes`;
  const stack = linkPath.split('/').slice(0, -1);
  let pending = target.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const component = pending.shift()!;
    if (component === '' || component === '.') continue;
    if (component === '..') {
      if (stack.length === 0) return 'points outside the package tree';
      stack.pop();
      continue;
    }
    stack.push(component);
    const through = links.get(stack.join('/'));
    if (through !== undefined) {
      if (++hops > MAX_LINK_HOPS) return 'resolves through too many links (a loop?)';
      if (through.startsWith('/')) return `passes through ${stack.join('/')}, an absolute link`;
      stack.pop();
      pending = [...through.split('/'), ...pending];
    }
  }
  return undefined;
}

/**
 * Check a whole manifest. Throws E_PACKAGE_PATH, E_PACKAGE_DUPLICATE or
 * E_PACKAGE_LINK naming the entry.
 */
export function assertSafeManifest(entries: readonly ManifestEntry[], context: string): void {
  const byPath = new Map<string, ManifestEntry>();
  const links = new Map<string, string>();
  for (const entry of entries) {
    assertSafePath(entry.path, context);
    if (byPath.has(entry.path)) {
      throw new KilnError('E_PACKAGE_DUPLICATE', `${context}: path ${JSON.stringify(entry.path)} is listed twice`, {
        hint: 'a package lists each path once; the package is malformed',
      });
    }
    byPath.set(entry.path, entry);
    if (entry.type === 'symlink') links.set(entry.path, entry.target ?? '');
  }
  // When every entry's parent is a directory of the package, by induction every ancestor is; else
  // each entry's ancestors are walked, to name the first entry and ancestor in manifest order.
  const parentsAreDirectories = entries.every((entry) => {
    const slash = entry.path.lastIndexOf('/');
    return slash < 0 || byPath.get(entry.path.slice(0, slash))?.type === 'dir';
  });
  for (const entry of entries) {
    const components = parentsAreDirectories ? [] : entry.path.split('/');
    for (let i = 1; i < components.length; i++) {
      const ancestor = components.slice(0, i).join('/');
      const holder = byPath.get(ancestor);
      if (holder === undefined || holder.type !== 'dir') {
        const state = holder === undefined ? 'is not in the package' : `is a ${holder.type}, not a directory`;
        throw new KilnError(
          'E_PACKAGE_PATH',
          `${context}: ${JSON.stringify(entry.path)} lies under ${JSON.stringify(ancestor)}, which ${state}`,
          {
            hint: 'every parent of a packaged path must be a directory of the same package',
          },
        );
      }
    }
    if (entry.type === 'symlink') {
      const problem = linkEscapes(entry.path, entry.target ?? '', links);
      if (problem !== undefined) {
        throw new KilnError(
          'E_PACKAGE_LINK',
          `${context}: symbolic link ${JSON.stringify(entry.path)} -> ${JSON.stringify(entry.target)} ${problem}`,
          {
            hint: 'links must be relative and stay inside the package tree',
          },
        );
      }
    }
  }
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry.type === 'hardlink') {
      const target = entry.target ?? '';
      const problem = pathProblem(target);
      const holder = byPath.get(target);
      if (problem !== undefined || holder === undefined || holder.type !== 'file' || !seen.has(target)) {
        const why =
          problem !== undefined
            ? `target ${problem}`
            : holder === undefined
              ? 'target is not in the package'
              : holder.type !== 'file'
                ? `target is a ${holder.type}`
                : 'target comes after the link';
        throw new KilnError(
          'E_PACKAGE_LINK',
          `${context}: hard link ${JSON.stringify(entry.path)} -> ${JSON.stringify(target)} is invalid: ${why}`,
          {
            hint: 'a hard link must point to an earlier regular file of the same package',
          },
        );
      }
    }
    seen.add(entry.path);
  }
}

/**
 * Why `path` cannot be installed under the prefix `root` (absolute, real):
 * the whole path, `root/path` and its terminating NUL, must fit in PATH_MAX,
 * and so must `root/path.kiln-new` for a configuration file that may be set
 * aside. `undefined` when it fits.
 */
export function installablePathProblem(root: string, path: string, config: boolean): string | undefined {
  const prefixBytes = root === '/' ? 0 : Buffer.byteLength(root, 'utf8');
  const total = prefixBytes + 1 + Buffer.byteLength(path, 'utf8') + (config ? '.kiln-new'.length : 0) + 1;
  if (total <= PATH_MAX) return undefined;
  return `${path} would be ${total - 1} bytes long under ${root}${config ? ' (with .kiln-new, for a kept configuration file)' : ''}, more than the ${PATH_MAX - 1} the system allows`;
}
