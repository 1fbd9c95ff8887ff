/**
 * `kiln bundle verify DIR`: an unpacked bundle checked against its manifest,
 * as `kiln verify` checks a prefix. A relocated file is compared in its
 * canonical form: its occurrences of the directory it names now are put back
 * to the bundle's placeholder first.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KilnError, isErrno } from '../errors/index.js';
import { formatMode } from '../format/metadata.js';
import { readFileIfExistsSync } from '../util/fs.js';
import { sha256 } from '../util/hash.js';
import type { BundleFile, BundleManifest } from './bundleManifest.js';
import { BUNDLE_DIRECTORY, parseBundleManifest } from './bundleManifest.js';
import { holdsPrefix, moveOccurrences } from './moveOccurrences.js';

export interface BundleProblem {
  problem: 'missing' | 'type' | 'content' | 'target' | 'mode';
  path: string;
  expected?: string;
  actual?: string;
}

export interface BundleReport {
  root: string;
  /** The directory the files name now (`.kiln-bundle/prefix`), and where an unfinished relocation was going. */
  prefix: string;
  moving: string | null;
  packages: BundleManifest['packages'];
  checked: number;
  problems: BundleProblem[];
}

/** Check every file of the bundle unpacked at `dir`. */
export function verifyBundle(dir: string): BundleReport {
  const root = resolve(dir);
  const meta = join(root, BUNDLE_DIRECTORY);
  const manifestPath = join(meta, 'manifest.json');
  const text = readFileIfExistsSync(manifestPath);
  if (text === undefined)
    throw new KilnError(
      'E_BUNDLE',
      `${root} is not an unpacked Kiln bundle: it has no ${BUNDLE_DIRECTORY}/manifest.json`,
      {
        hint: 'give the directory the bundle was unpacked into',
      },
    );
  const manifest = parseBundleManifest(text.toString('utf8'), manifestPath);
  const prefix = readLine(join(meta, 'prefix')) ?? manifest.placeholder;
  const moving = readLine(join(meta, 'moving')) ?? null;
  const problems: BundleProblem[] = [];
  for (const file of manifest.files) {
    const problem = checkFile(root, file, manifest.placeholder, [prefix, ...(moving === null ? [] : [moving])]);
    if (problem !== undefined) problems.push(problem);
  }
  return { root, prefix, moving, packages: manifest.packages, checked: manifest.files.length, problems };
}

function readLine(path: string): string | undefined {
  return readFileIfExistsSync(path)?.toString('utf8').replace(/\n$/, '');
}

function checkFile(
  root: string,
  file: BundleFile,
  placeholder: string,
  prefixes: readonly string[],
): BundleProblem | undefined {
  const absolute = join(root, file.path);
  let stat;
  try {
    stat = lstatSync(absolute);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return { problem: 'missing', path: file.path };
    throw error;
  }
  const type = stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isFile() ? 'file' : 'other';
  if (type !== file.type) return { problem: 'type', path: file.path, expected: file.type, actual: type };
  if (file.type === 'symlink') {
    const target = readlinkSync(absolute);
    return target === file.target
      ? undefined
      : { problem: 'target', path: file.path, expected: file.target ?? '', actual: target };
  }
  // The owner's bits only: the umask of whoever unpacked it decides the others.
  if ((stat.mode & 0o700) !== (file.mode & 0o700))
    return { problem: 'mode', path: file.path, expected: formatMode(file.mode), actual: formatMode(stat.mode) };
  if (file.type === 'dir') return undefined;
  let content: Buffer = readFileSync(absolute);
  const reloc = file.relocation;
  if (reloc !== undefined) {
    const row = { ...reloc, baseLength: Buffer.byteLength(placeholder), baseSize: file.size };
    const from = prefixes.find((prefix) => holdsPrefix(content, row, prefix));
    if (from === undefined)
      return { problem: 'content', path: file.path, expected: `the paths of ${prefixes.join(' or ')}` };
    content = moveOccurrences(content, row, from, placeholder, absolute);
  }
  const digest = sha256(content);
  return digest === file.sha256
    ? undefined
    : { problem: 'content', path: file.path, expected: file.sha256 ?? '', actual: digest };
}
