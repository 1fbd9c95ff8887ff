/**
 * Work trees of interrupted builds. A build writes its pid into its work tree
 * while it runs; a successful build removes the tree, a failed one removes
 * only the pid file (the tree is kept for people to look into). A tree whose
 * pid file names a process that no longer exists was interrupted (Ctrl-C, a
 * kill, a crash): it and its placeholder prefix are removed by the next build.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors/index.js';
import { processExists } from '../util/fs.js';

/** The file in a work tree that holds the pid of the build using it. */
export const BUILD_PID_FILE = 'kiln-build.pid';
/** Work trees are named NAME-VERSION-ID, with an 8-hex-digit build id. */
const WORK_TREE = /-([0-9a-f]{8})$/;

/**
 * Remove the work trees (and placeholder prefixes) of interrupted builds under
 * `workRoot`; returns the removed work trees.
 * @example const removed = await cleanInterrupted(defaultWorkDir())
 */
export async function cleanInterrupted(workRoot: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(workRoot);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const id = WORK_TREE.exec(entry)?.[1];
    if (id === undefined) continue;
    const pidText = await readFile(join(workRoot, entry, BUILD_PID_FILE), 'utf8').catch(() => undefined);
    if (pidText === undefined || processExists(Number(pidText.trim()))) continue;
    await rm(join(workRoot, entry), { recursive: true, force: true });
    for (const other of entries) if (other.startsWith(`p-${id}-`)) await rm(join(workRoot, other), { recursive: true, force: true });
    removed.push(join(workRoot, entry));
  }
  return removed;
}
