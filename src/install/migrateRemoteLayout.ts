/**
 * Moves the synced indexes of a prefix made by an earlier Kiln, kept flat as
 * `indexes/NAME.json`, `NAME.json.minisig` and `NAME.names.json`, into a
 * directory per remote (prefixLayout.ts). Run by the holder of the writer
 * lock. An old file is moved only when its sha256 is the one the database
 * accepted for that remote: where two remotes' names collided (`main` and
 * `main.names`), one of them holds the other's bytes, and it is dropped
 * instead (the next `kiln sync` fetches it again). Whatever old file is left
 * is removed. Safe to run again after a crash at any point.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PrefixPaths } from '../config/prefixLayout.js';
import { legacyIndexPath, remoteDirectory, syncedIndexPath } from '../config/prefixLayout.js';
import type { PackageStore } from '../db/PackageStore.js';
import { lstatIfExists } from '../util/fs.js';

/** Whether the indexes directory still holds files of the flat layout. */
export function hasLegacyRemoteFiles(paths: PrefixPaths): boolean {
  try {
    return readdirSync(paths.indexes).some((name) => name.endsWith('.json') || name.endsWith('.minisig'));
  } catch {
    return false;
  }
}

export function migrateRemoteLayout(paths: PrefixPaths, store: PackageStore, remotes: readonly string[]): void {
  if (!hasLegacyRemoteFiles(paths)) return;
  for (const remote of remotes) {
    const state = store.remoteState(remote);
    const legacy = legacyIndexPath(paths, remote);
    const target = syncedIndexPath(paths, remote);
    if (state === undefined || lstatIfExists(target) !== undefined) continue;
    let bytes: Buffer;
    try {
      bytes = readFileSync(legacy);
    } catch {
      continue;
    }
    if (createHash('sha256').update(bytes).digest('hex') !== state.sha256) continue;
    mkdirSync(remoteDirectory(paths, remote), { recursive: true });
    // The signature first: an index without its signature is fetched again, never used unsigned.
    if (lstatIfExists(`${legacy}.minisig`) !== undefined) renameSync(`${legacy}.minisig`, `${target}.minisig`);
    renameSync(legacy, target);
  }
  // What is left of the flat layout is stale (or another remote's bytes under a colliding name).
  for (const name of readdirSync(paths.indexes)) {
    const path = join(paths.indexes, name);
    if ((name.endsWith('.json') || name.endsWith('.minisig')) && lstatIfExists(path)?.isFile() === true)
      rmSync(path, { force: true });
  }
}
