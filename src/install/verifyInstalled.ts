/**
 * Compare the prefix with what the database records, like `rpm -V`: missing
 * files, changed content, type, link target, mode and owners, and (for a
 * whole-prefix check) files that no package owns.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KILN_DIRECTORIES, isKilnPath } from '../config/prefixLayout.js';
import type { DirectoryAliases } from './directoryAliases.js';
import { isAliasProblem } from './directoryAliases.js';
import type { InstalledFile } from '../db/index.js';
import { isTemporaryPath } from '../util/atomicWrite.js';
import { sha256FileSync } from '../util/hash.js';
import { lstatIfExists } from '../util/fs.js';

export type ProblemKind = 'missing' | 'type' | 'content' | 'size' | 'target' | 'mode' | 'owner' | 'unowned';

export interface VerifyProblem {
  /** Owning package; absent for an unowned file. */
  package?: string;
  path: string;
  problem: ProblemKind;
  expected?: string;
  actual?: string;
  /** A configuration file (changes to it are expected and kept on upgrade). */
  config?: boolean;
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/** `aliases` knows the directory links of the prefix: a recorded directory may be one that resolves inside it (merged /usr). */
export function verifyFiles(root: string, files: readonly InstalledFile[], aliases: DirectoryAliases): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const byPath = new Map<string, InstalledFile>();
  for (const file of files) if (file.type !== 'dir') byPath.set(`${file.package}\0${file.path}`, file);
  for (const file of files) {
    const report = (problem: ProblemKind, expected?: string, actual?: string): void => {
      problems.push({
        package: file.package,
        path: file.path,
        problem,
        ...(expected === undefined ? {} : { expected }),
        ...(actual === undefined ? {} : { actual }),
        ...(file.config ? { config: true } : {}),
      });
    };
    const absolute = join(root, file.path);
    const stat = lstatIfExists(absolute);
    if (stat === undefined) {
      report('missing');
      continue;
    }
    // A directory that is a link to a directory inside the prefix (bin -> usr/bin) is installed through, not owned: nothing more to check.
    if (file.type === 'dir' && stat.isSymbolicLink() && !isAliasProblem(aliases.directory(file.path))) continue;
    const actualType = stat.isSymbolicLink()
      ? 'symlink'
      : stat.isDirectory()
        ? 'dir'
        : stat.isFile()
          ? 'file'
          : 'other';
    const expectedType = file.type === 'hardlink' ? 'file' : file.type;
    if (actualType !== expectedType) {
      report('type', expectedType, actualType);
      continue;
    }
    if (file.type === 'symlink') {
      const target = readlinkSync(absolute);
      if (target !== file.target) report('target', file.target ?? '', target);
    } else {
      if ((stat.mode & 0o7777) !== file.mode) report('mode', octal(file.mode), octal(stat.mode));
      if (stat.uid !== file.uid || stat.gid !== file.gid)
        report('owner', `${file.uid}:${file.gid}`, `${stat.uid}:${stat.gid}`);
    }
    if (file.type === 'file') {
      if (stat.size !== file.size) report('size', String(file.size), String(stat.size));
      else if (file.sha256 !== null && sha256FileSync(absolute) !== file.sha256)
        report('content', file.sha256, 'different');
    } else if (file.type === 'hardlink') {
      const target = byPath.get(`${file.package}\0${file.target ?? ''}`);
      const targetStat = target === undefined ? undefined : lstatIfExists(join(root, target.path));
      if (targetStat !== undefined && targetStat.ino !== stat.ino)
        report('target', `hard link to ${file.target}`, 'a separate file');
    }
  }
  return problems;
}

/** Account files Kiln itself writes when it creates users and groups in a system prefix. */
const ACCOUNT_FILES = new Set(['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow']);

/**
 * Every path under the prefix that no package owns (Kiln's own directories and the account files excepted).
 * `owned` holds canonical paths (directory links resolved) and the links themselves.
 */
export function unownedPaths(root: string, owned: ReadonlySet<string>): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const walk = (relative: string): void => {
    const entries = readdirSync(relative === '' ? root : join(root, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (isKilnPath(path) || ACCOUNT_FILES.has(path)) continue;
      if (!owned.has(path)) {
        if (entry.isDirectory() && KILN_DIRECTORIES.some((dir) => dir.startsWith(`${path}/`))) {
          // etc, var, var/lib, var/cache hold Kiln's own directories.
          walk(path);
          continue;
        }
        problems.push({ path, problem: 'unowned', ...(isTemporaryPath(path) ? { actual: 'temporary file' } : {}) });
        continue;
      }
      if (entry.isDirectory()) walk(path);
    }
  };
  walk('');
  return problems;
}
