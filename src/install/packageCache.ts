/**
 * What a package cache holds, and which of it may go: `kiln cache info`,
 * `kiln cache clean` (as `pacman -Sc`: every package file no installed
 * version needs) and `kiln cache prune --keep N` (as `paccache -rk N`: the N
 * newest versions of each package, and the installed one, stay). Each file is
 * known by the metadata it holds, not by its name, so a file that is not a
 * package (or is damaged) is never mistaken for one; partial downloads
 * (`.part`) and files that are not packages go with every clean.
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InstalledPackage } from '../db/index.js';
import { fullVersion } from '../format/metadata.js';
import { openPackage } from '../format/openPackage.js';
import { compareVersions } from '../version/index.js';

export interface CachedFile {
  /** The file's name in the cache directory. */
  file: string;
  size: number;
  /** What the package says it is; null for a partial download or a file that is not a readable package. */
  name: string | null;
  version: string | null;
  variant: string | null;
  /** The very package installed in this prefix (same name, version and variant). */
  installed: boolean;
}

/** Every file of the cache directory `dir` (none when it does not exist yet). */
export async function scanPackageCache(dir: string, installed: readonly InstalledPackage[]): Promise<CachedFile[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const byName = new Map(installed.map((pkg) => [pkg.name, pkg]));
  const files: CachedFile[] = [];
  for (const file of names.sort()) {
    const stat = lstatSync(join(dir, file), { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) continue;
    let meta: { name: string; version: string; variant: string } | null = null;
    if (file.endsWith('.kpkg')) {
      try {
        const { metadata } = await openPackage(join(dir, file));
        meta = { name: metadata.name, version: fullVersion(metadata), variant: metadata.variant };
      } catch {
        meta = null;
      }
    }
    const pkg = meta === null ? undefined : byName.get(meta.name);
    files.push({
      file,
      size: stat.size,
      name: meta?.name ?? null,
      version: meta?.version ?? null,
      variant: meta?.variant ?? null,
      installed: pkg !== undefined && fullVersion(pkg) === meta?.version && pkg.variant === meta.variant,
    });
  }
  return files;
}

/**
 * The files to remove: with `keep` undefined, every one that is not the
 * installed package; with `keep` N, all but the installed one and the N
 * newest versions of each package (every variant of a kept version stays).
 */
export function cacheFilesToRemove(files: readonly CachedFile[], keep?: number): CachedFile[] {
  if (keep === undefined) return files.filter((file) => !file.installed);
  const versions = new Map<string, string[]>();
  for (const file of files) {
    if (file.name === null || file.version === null) continue;
    const list = versions.get(file.name) ?? [];
    if (!list.includes(file.version)) list.push(file.version);
    versions.set(file.name, list);
  }
  const kept = new Map<string, Set<string>>();
  for (const [name, list] of versions)
    kept.set(name, new Set(list.sort((a, b) => compareVersions(b, a)).slice(0, keep)));
  return files.filter(
    (file) =>
      !file.installed && (file.name === null || file.version === null || !kept.get(file.name)?.has(file.version)),
  );
}

/** Removes the files (by name, in `dir`); returns the bytes freed. */
export function removeCacheFiles(dir: string, files: readonly CachedFile[]): number {
  let freed = 0;
  for (const file of files) {
    rmSync(join(dir, file.file), { force: true });
    freed += file.size;
  }
  return freed;
}

/** The entries (top-level names) of a directory tree such as the unpacked store, and its bytes, each inode once. */
export function treeSize(dir: string): { entries: number; bytes: number } {
  const seen = new Set<number>();
  let bytes = 0;
  const walk = (path: string): void => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      const child = join(path, name);
      const stat = lstatSync(child, { throwIfNoEntry: false });
      if (stat === undefined) continue;
      if (stat.isDirectory()) walk(child);
      else if (!seen.has(stat.ino)) {
        seen.add(stat.ino);
        bytes += stat.size;
      }
    }
  };
  walk(dir);
  let entries = 0;
  try {
    entries = readdirSync(dir).length;
  } catch {
    entries = 0;
  }
  return { entries, bytes };
}
