/**
 * A bundle's own files (docs/bundle.md): `.kiln-bundle/manifest.json`, the
 * whole record for programs; `.kiln-bundle/files.txt` and `.kiln-bundle/info`,
 * the same facts in lines a POSIX shell reads; `.kiln-bundle/prefix`, the
 * directory the files name now.
 */
import { KilnError } from '../errors/index.js';
import { sha256 } from '../util/hash.js';
import { formatMode, parseMode } from '../format/metadata.js';
import { pathProblem } from '../format/manifestSafety.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectInteger, expectObject, expectString, join, optionalString } from '../util/shape.js';
import type { TrimClass } from './trimBundle.js';
import { TRIM_CLASSES } from './trimBundle.js';

export const BUNDLE_FORMAT = 'kiln-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
/** The bundle's own directory, beside the prefix's files. */
export const BUNDLE_DIRECTORY = '.kiln-bundle';
/** The fix-up script, a prefix-relative path. */
export const RELOCATE_SCRIPT = 'bin/kiln-relocate';

export interface BundleRelocation {
  kind: 'text' | 'binary';
  /** Offsets of the placeholder in the canonical content (the file as it holds `placeholder`). */
  offsets: number[];
  /** Bytes each binary occurrence has (the build placeholder's length); for text, the bundle placeholder's. */
  room: number;
}

export interface BundleFile {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  /** A regular file's size and sha256, both of its canonical content. */
  size: number;
  sha256?: string;
  /** A symbolic link's target. */
  target?: string;
  /** The package it comes from; absent for the bundle's own script. */
  package?: string;
  relocation?: BundleRelocation;
}

export interface BundlePackage {
  name: string;
  version: string;
  variant: string;
  options: Record<string, boolean>;
}

export interface BundleRequirements {
  arch: string;
  libc: string;
  /** The oldest C library version every package runs on (the newest of their floors). */
  libcVersion: string;
  /** The CPU level every package runs on (the highest of theirs). */
  cpu: string;
  /** The program interpreters (dynamic loaders) the bundle's executables name. */
  loaders: string[];
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  created: string;
  /** What every relocated occurrence holds in the canonical content. */
  placeholder: string;
  /** The longest path the bundle can be relocated into (its binary files' room); null when no binary file holds a path. */
  room: number | null;
  /** The classes of files left out (trimBundle.ts). */
  trimmed: TrimClass[];
  requires: BundleRequirements;
  packages: BundlePackage[];
  files: BundleFile[];
}

/**
 * A path the shell script can read back from a line: no newline, backslash
 * or blank at either end; undefined when it is one.
 */
export function scriptPathProblem(path: string): string | undefined {
  if (/[\n\r\\]/.test(path)) return 'holds a newline or a backslash';
  if (path.trim() !== path) return 'starts or ends with a blank';
  return undefined;
}

/** `.kiln-bundle/files.txt`: `TYPE SHA256 MODE SIZE ROOM OFFSETS PATH`, "-" where a field does not apply. */
export function encodeFileLines(files: readonly BundleFile[]): string {
  return files
    .map((file) => {
      const mode = file.type === 'symlink' ? '-' : formatMode(file.mode);
      if (file.type === 'dir') return `d - ${mode} - - - ${file.path}\n`;
      if (file.type === 'symlink') return `l ${sha256(file.target ?? '')} - - - - ${file.path}\n`;
      const reloc = file.relocation;
      if (reloc === undefined) return `f ${file.sha256} ${mode} ${file.size} - - ${file.path}\n`;
      const type = reloc.kind === 'text' ? 't' : 'b';
      return `${type} ${file.sha256} ${mode} ${file.size} ${reloc.room} ${reloc.offsets.join(',')} ${file.path}\n`;
    })
    .join('');
}

/** `.kiln-bundle/info`: `KEY VALUE` lines. */
export function encodeInfo(manifest: BundleManifest): string {
  const { requires } = manifest;
  const lines = [
    `format ${manifest.formatVersion}`,
    `placeholder ${manifest.placeholder}`,
    `room ${manifest.room ?? '-'}`,
    `arch ${requires.arch}`,
    `libc ${requires.libc}`,
    `libc-version ${requires.libcVersion}`,
    `cpu ${requires.cpu}`,
    ...requires.loaders.map((loader) => `loader ${loader}`),
  ];
  return `${lines.join('\n')}\n`;
}

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_FILES = 10_000_000;

/** Read `.kiln-bundle/manifest.json` (`where` names it in messages); anything malformed is E_BUNDLE. */
export function parseBundleManifest(text: string, where: string): BundleManifest {
  const fail: Fail = (at, problem) => {
    throw new KilnError('E_BUNDLE', `cannot read bundle manifest ${where}: ${at} ${problem}`, {
      hint: 'the bundle is damaged or was not made by kiln bundle; unpack it again',
    });
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    fail('(top level)', `is not JSON (${(error as Error).message})`);
  }
  const root = expectObject(data, '(top level)', fail, [
    'format',
    'formatVersion',
    'created',
    'placeholder',
    'room',
    'trimmed',
    'requires',
    'packages',
    'files',
  ]);
  if (root['format'] !== BUNDLE_FORMAT) fail('format', `must be "${BUNDLE_FORMAT}"`);
  if (root['formatVersion'] !== BUNDLE_FORMAT_VERSION) fail('formatVersion', `must be ${BUNDLE_FORMAT_VERSION}`);
  const placeholder = expectString(
    root['placeholder'],
    'placeholder',
    fail,
    /^\/[^\n\\'"$`]{7,4095}$/,
    'an absolute path',
  );
  const room = root['room'] === null ? null : expectInteger(root['room'], 'room', fail, 1, 4096);
  const trimmed = expectArray(root['trimmed'], 'trimmed', fail).map((value, i) => {
    const name = expectString(value, join('trimmed', i), fail);
    if (!(TRIM_CLASSES as readonly string[]).includes(name))
      fail(join('trimmed', i), `must be one of ${TRIM_CLASSES.join(', ')}`);
    return name as TrimClass;
  });
  const req = expectObject(root['requires'], 'requires', fail, ['arch', 'libc', 'libcVersion', 'cpu', 'loaders']);
  const word = /^[A-Za-z0-9._-]{1,64}$/;
  const requires: BundleRequirements = {
    arch: expectString(req['arch'], 'requires.arch', fail, word),
    libc: expectString(req['libc'], 'requires.libc', fail, word),
    libcVersion: expectString(req['libcVersion'], 'requires.libcVersion', fail, /^[0-9]+(\.[0-9]+)*$/),
    cpu: expectString(req['cpu'], 'requires.cpu', fail, word),
    loaders: expectArray(req['loaders'], 'requires.loaders', fail).map((value, i) =>
      expectString(
        value,
        join('requires.loaders', i),
        fail,
        /^\/[^\s\\'"$`]{1,4095}$/,
        'an absolute path without blanks',
      ),
    ),
  };
  const packages = expectArray(root['packages'], 'packages', fail).map((value, i) => {
    const at = join('packages', i);
    const pkg = expectObject(value, at, fail, ['name', 'version', 'variant', 'options']);
    const options = expectObject(pkg['options'], join(at, 'options'), fail);
    for (const [key, on] of Object.entries(options))
      if (typeof on !== 'boolean') fail(join(join(at, 'options'), key), 'must be true or false');
    return {
      name: expectString(pkg['name'], join(at, 'name'), fail),
      version: expectString(pkg['version'], join(at, 'version'), fail),
      variant: expectString(pkg['variant'], join(at, 'variant'), fail),
      options: options as Record<string, boolean>,
    };
  });
  const filesValue = expectArray(root['files'], 'files', fail);
  if (filesValue.length > MAX_FILES) fail('files', `has more than ${MAX_FILES} entries`);
  const files = filesValue.map((value, i) => parseFile(value, join('files', i), fail));
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    created: expectString(root['created'], 'created', fail),
    placeholder,
    room,
    trimmed,
    requires,
    packages,
    files,
  };
}

function parseFile(value: unknown, at: string, fail: Fail): BundleFile {
  const entry = expectObject(value, at, fail, [
    'path',
    'type',
    'mode',
    'size',
    'sha256',
    'target',
    'package',
    'relocation',
  ]);
  const path = expectString(entry['path'], join(at, 'path'), fail);
  const problem = pathProblem(path) ?? scriptPathProblem(path);
  if (problem !== undefined) fail(join(at, 'path'), problem);
  const type = expectString(entry['type'], join(at, 'type'), fail, /^(file|dir|symlink)$/, 'file, dir or symlink');
  const file: BundleFile = {
    path,
    type: type as BundleFile['type'],
    mode: parseMode(entry['mode'], join(at, 'mode'), fail),
    size: expectInteger(entry['size'], join(at, 'size'), fail),
  };
  const pkg = optionalString(entry['package'], join(at, 'package'), fail);
  if (pkg !== undefined) file.package = pkg;
  if (file.type === 'file') file.sha256 = expectString(entry['sha256'], join(at, 'sha256'), fail, SHA256, 'a sha256');
  if (file.type === 'symlink') file.target = expectString(entry['target'], join(at, 'target'), fail);
  if (entry['relocation'] !== undefined) {
    if (file.type !== 'file') fail(join(at, 'relocation'), 'is only for regular files');
    const where = join(at, 'relocation');
    const reloc = expectObject(entry['relocation'], where, fail, ['kind', 'offsets', 'room']);
    const kind = expectString(reloc['kind'], join(where, 'kind'), fail, /^(text|binary)$/, 'text or binary');
    let previous = -1;
    const offsets = expectArray(reloc['offsets'], join(where, 'offsets'), fail).map((offset, i) => {
      const n = expectInteger(offset, join(join(where, 'offsets'), i), fail, 0, file.size);
      if (n <= previous) fail(join(join(where, 'offsets'), i), 'must be greater than the offset before it');
      previous = n;
      return n;
    });
    if (offsets.length === 0) fail(join(where, 'offsets'), 'must not be empty');
    file.relocation = {
      kind: kind as 'text' | 'binary',
      offsets,
      room: expectInteger(reloc['room'], join(where, 'room'), fail, 1, 4096),
    };
  }
  return file;
}

/** The JSON form of a manifest (modes as octal strings, like a package's). */
export function serializeBundleManifest(manifest: BundleManifest): string {
  return `${JSON.stringify(
    { ...manifest, files: manifest.files.map((file) => ({ ...file, mode: formatMode(file.mode) })) },
    null,
    1,
  )}\n`;
}
