/**
 * One syncfs(2) of the file system holding `path` (`sync -f`): durable in one
 * call for many files written without an fsync each. A module of its own, so
 * that the query commands, which import util/fs.ts, do not load child_process.
 */
import { spawnSync } from 'node:child_process';

export function syncFileSystem(path: string): void {
  spawnSync('sync', ['-f', path], { stdio: 'ignore' });
}
