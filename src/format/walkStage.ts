/**
 * Lists a staged tree (a DESTDIR) for packing: every entry below the root,
 * sorted in byte order of their UTF-8 paths (so parents precede children), with
 * links read but never followed. Anything but regular files, directories and
 * symbolic links is refused.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';

export interface StagedEntry {
  /** Path relative to the root, with "/" separators. */
  path: string;
  absolute: string;
  stats: Stats;
  type: 'file' | 'dir' | 'symlink';
  linkTarget?: string;
}

export async function walkStage(root: string): Promise<StagedEntry[]> {
  let rootStats: Stats;
  try {
    rootStats = await lstat(root);
  } catch (error) {
    if (isErrno(error, 'ENOENT'))
      throw new KilnError('E_IO', `cannot pack ${root}: no such directory`, { cause: error });
    throw error;
  }
  if (!rootStats.isDirectory())
    throw new KilnError('E_STAGE', `cannot pack ${root}: it is not a directory`, {
      hint: 'give the staging (DESTDIR) directory',
    });
  const entries: StagedEntry[] = [];
  const visit = async (relative: string): Promise<void> => {
    const directory = relative === '' ? root : join(root, relative);
    const names = await readdir(directory, { encoding: 'buffer' });
    for (const raw of names) {
      const name = raw.toString('utf8');
      const path = relative === '' ? name : `${relative}/${name}`;
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        throw new KilnError('E_STAGE', `cannot pack ${root}: the name of an entry in ${directory} is not valid UTF-8`, {
          hint: 'rename the file; package paths are UTF-8',
        });
      }
      const absolute = join(root, path);
      const stats = await lstat(absolute);
      if (stats.isDirectory()) {
        entries.push({ path, absolute, stats, type: 'dir' });
        await visit(path);
      } else if (stats.isFile()) {
        entries.push({ path, absolute, stats, type: 'file' });
      } else if (stats.isSymbolicLink()) {
        entries.push({ path, absolute, stats, type: 'symlink', linkTarget: await readlink(absolute) });
      } else {
        const kind = stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device node';
        throw new KilnError('E_PACKAGE_FILETYPE', `cannot pack ${root}: ${path} is ${kind}`, {
          hint: 'packages hold only regular files, directories and links; create special files at install time instead',
        });
      }
    }
  };
  await visit('');
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8')));
}
