/**
 * Directory links a prefix is installed through. On a merged-/usr system
 * (Debian 12, Fedora, Arch, Ubuntu) `bin`, `sbin`, `lib` and `lib64` are
 * symbolic links to `usr/bin`, `usr/sbin`, `usr/lib` and `usr/lib64`, and
 * `var/run` is one to `/run`; dpkg and pacman install through them, and so does
 * Kiln, by one rule: a directory on a package's path may be a symbolic link
 * when the kernel resolves it to a directory inside the prefix. A link that
 * leads out of the prefix, dangles, or ends at something that is not a
 * directory is never written through (docs/transactions.md#directory-links).
 *
 * Files are recorded under their package paths (`bin/x`). Everything that
 * compares paths — conflicts, the journal's operations, `kiln owns`, the
 * search for unowned files — uses canonical paths: the path with every such
 * link resolved (`usr/bin/x`), so that `bin/x` of one package and
 * `usr/bin/x` of another are seen as the one file they are.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { lstatIfExists } from '../util/fs.js';

export interface AliasProblem {
  problem: string;
  /** The link on disk (relative to the root) that the problem is about, when there is one. */
  link?: string;
}

export class DirectoryAliases {
  /** Canonical path of each directory path asked about (or why it cannot be used). */
  private readonly resolved = new Map<string, string | AliasProblem>();
  /** Each link found: its path (its parent already canonical) -> the canonical path it resolves to. */
  readonly links = new Map<string, string>();

  /** @param root the prefix's real path (no symbolic links in it). */
  constructor(private readonly root: string) {}

  /** The canonical path of the directory `path` (relative to the prefix; it need not exist). */
  directory(path: string): string | AliasProblem {
    if (path === '' || path === '.') return '';
    const known = this.resolved.get(path);
    if (known !== undefined) return known;
    const parent = this.directory(dirname(path));
    let result: string | AliasProblem;
    if (typeof parent !== 'string') result = parent;
    else {
      const candidate = parent === '' ? basename(path) : `${parent}/${basename(path)}`;
      result =
        lstatIfExists(join(this.root, candidate))?.isSymbolicLink() === true ? this.follow(path, candidate) : candidate;
    }
    this.resolved.set(path, result);
    return result;
  }

  /** The canonical path of an entry: its directory resolved, its own name kept (a link that is the entry itself is the entry). */
  entry(path: string): string | AliasProblem {
    const parent = this.directory(dirname(path));
    if (typeof parent !== 'string') return parent;
    return parent === '' ? basename(path) : `${parent}/${basename(path)}`;
  }

  /** Find the links among these directory paths (say, every directory the database records). */
  learn(paths: Iterable<string>): void {
    for (const path of paths) this.directory(path);
  }

  /** Every path that names the same place as the canonical path `path` through the links known: itself first. */
  preimages(path: string): string[] {
    const found = [path];
    for (let at = 0; at < found.length && found.length < 64; at++) {
      const current = found[at]!;
      for (const [link, target] of this.links) {
        if (current !== target && !current.startsWith(`${target}/`)) continue;
        const other = link + current.slice(target.length);
        if (!found.includes(other)) found.push(other);
      }
    }
    return found;
  }

  private follow(path: string, candidate: string): string | AliasProblem {
    const where = join(this.root, candidate);
    let real: string;
    try {
      real = realpathSync(where);
    } catch {
      return { problem: `${path} exists on disk as a symbolic link that leads nowhere`, link: candidate };
    }
    const inside = relative(this.root, real);
    if (inside === '' || inside === '..' || inside.startsWith('../') || isAbsolute(inside)) {
      return {
        problem: `${path} exists on disk as a symbolic link that leads out of the prefix (to ${real})`,
        link: candidate,
      };
    }
    if (!statSync(real).isDirectory())
      return {
        problem: `${path} exists on disk as a symbolic link to ${real}, which is not a directory`,
        link: candidate,
      };
    this.links.set(candidate, inside);
    return inside;
  }
}

export function isAliasProblem(value: string | AliasProblem): value is AliasProblem {
  return typeof value !== 'string';
}
