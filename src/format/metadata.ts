/**
 * Package metadata, format v1: the types, the strict reader for untrusted JSON
 * and the canonical writer. docs/format.md is the prose form of this file.
 *
 * Vocabulary: a *package* is the archive of one *variant* (options + target)
 * of one version of a named piece of software. Its *manifest* (`files`) lists
 * every entry of its payload.
 */
import { createHash } from 'node:crypto';
import { KilnError } from '../errors/index.js';
import { fullVersion } from './fullVersion.js';
import { formatLicense, tryParseLicense } from '../license/index.js';
import type { Sha256 } from '../util/hash.js';
import { tryParseSha256 } from '../util/hash.js';
import { stableStringify } from '../util/json.js';
import type { Fail } from '../util/shape.js';
import {
  expectArray,
  expectBoolean,
  expectInteger,
  expectObject,
  expectString,
  isRecord,
  join,
  optionalString,
} from '../util/shape.js';
import { formatRange, splitNameVersion, tryParseRange, tryParseVersion } from '../version/index.js';
import { assertSafeManifest, pathProblem } from './manifestSafety.js';
import { TAR_BLOCK, tarHeaderSize, tarPadding } from './tar.js';
import { dict } from '../util/dict.js';

export const PACKAGE_FORMAT = 'kiln-package';
export const PACKAGE_FORMAT_VERSION = 1;
/** File name extension of a package. */
export const PACKAGE_EXTENSION = '.kpkg';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink';

export interface ManifestEntry {
  path: string;
  type: EntryType;
  mode: number;
  owner: string;
  group: string;
  /** Content size of a regular file; 0 otherwise. */
  size: number;
  /** sha256 of a regular file's content. */
  sha256?: Sha256;
  /** Symlink text, or for a hard link the path of the earlier regular file. */
  target?: string;
  /** A configuration file: kept when the user has changed it. */
  config?: boolean;
}

export interface Dependency {
  name: string;
  /** A version range in canonical form; '' means any version. */
  range: string;
}

export interface UserSpec {
  name: string;
  /** Primary group (by name); defaults to a group of the user's own name. */
  group?: string;
  /** Home directory, relative to the prefix. */
  home?: string;
  /** Login shell: a path on the host (the account is not given a shell inside the prefix). */
  shell?: string;
  comment?: string;
  system: boolean;
}

export interface GroupSpec {
  name: string;
  system: boolean;
}

export interface DirectorySpec {
  path: string;
  owner: string;
  group: string;
  mode: number;
}

export interface RelocationFile {
  path: string;
  kind: 'text' | 'binary';
  /** Byte offsets of every occurrence of the placeholder, ascending. */
  offsets: number[];
}

export interface Relocation {
  placeholder: string;
  files: RelocationFile[];
}

/** What a package needs from outside itself (docs/format.md, "needs"). */
export interface Needs {
  /** Shared libraries (sonames) its files need that it does not provide itself. */
  sonames: string[];
  /**
   * Of `sonames`, those that may come from the host's system libraries (the C
   * library and friends, and what the recipe or pack input allowed); the others
   * must come from a package of the prefix. Absent in packages of older Kilns
   * (systemLibraries.ts says how those are read).
   */
  system?: string[];
  /**
   * soname → the package's regular files that need it, for messages. Absent in
   * packages of older Kilns; a soname stated in a pack input without a file
   * that needs it has no entry.
   */
  files?: Record<string, string[]>;
}

export interface Target {
  /** Machine architecture as `uname -m` prints it (`x86_64`, `aarch64`). */
  arch: string;
  /** CPU level the code was compiled for (`x86-64`, `x86-64-v2`, `x86-64-v3`, `x86-64-v4`). */
  cpu: string;
  /** C library family (`glibc`, `musl`). */
  libc: string;
  /** Oldest version of that C library the package runs on. */
  libcVersion: string;
}

export interface Payload {
  compression: 'zstd';
  /** Size and sha256 of the compressed payload as stored in the package. */
  size: number;
  sha256: Sha256;
  /** Exact size of the payload tar once decompressed. */
  uncompressedSize: number;
}

export interface PackageMetadata {
  format: typeof PACKAGE_FORMAT;
  formatVersion: typeof PACKAGE_FORMAT_VERSION;
  name: string;
  category: string;
  version: string;
  revision: number;
  variant: string;
  options: Record<string, boolean>;
  /**
   * The option defaults of what this variant was built from (a recipe's
   * `default`s; the same option names as `options`): what a client that asks
   * for no options gets. Absent in packages of older Kilns.
   */
  defaults?: Record<string, boolean>;
  /** A package other packages' binaries run on: `libc` (the C library) or `toolchain`; placed first in every plan. */
  role?: PackageRole;
  target: Target;
  summary: string;
  homepage: string;
  license: string;
  depends: Dependency[];
  provides: { sonames: string[] };
  needs: Needs;
  users: UserSpec[];
  groups: GroupSpec[];
  directories: DirectorySpec[];
  files: ManifestEntry[];
  relocation: Relocation | null;
  payload: Payload;
  /** Sum of the sizes of the regular files. */
  installedSize: number;
}

export type PackageRole = 'libc' | 'toolchain';
export const PACKAGE_ROLES: readonly PackageRole[] = ['libc', 'toolchain'];

export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9+_-]*$/;
export const CATEGORY_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9+_.-]*$/;
export const OPTION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9+_@-]*$/;
export const ACCOUNT_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
export const VARIANT_PATTERN = /^[0-9a-f]{12}$/;
const ARCH_PATTERN = /^[a-z0-9_]+$/;
const CPU_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const LIBC_PATTERN = /^[a-z][a-z0-9_-]*$/;
const SONAME_PATTERN = /^[^/\s]+$/;
const MODE_PATTERN = /^0[0-7]{3,4}$/;
const HOMEPAGE_PATTERN = /^(https?:\/\/\S+)?$/;
const MAX_SUMMARY = 300;

/** Format a mode as the 4-digit octal string used in every Kiln document. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** Parse an octal mode string like `"0755"` or `"04711"`. */
export function parseMode(value: unknown, where: string, fail: Fail): number {
  const text = expectString(value, where, fail, MODE_PATTERN, 'an octal mode like "0644"');
  return parseInt(text, 8);
}

/**
 * The short id of a variant: the first 12 hex digits of the sha256 of the
 * options and target, serialized with sorted keys.
 * @example computeVariantId({ ssl: true }, { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' })
 */
export function computeVariantId(options: Readonly<Record<string, boolean>>, target: Target): string {
  const digest = createHash('sha256').update(stableStringify({ options, target })).digest('hex');
  return digest.slice(0, 12);
}

/** `name-version` or `name-version-rN`. */
export function packageSpec(meta: Pick<PackageMetadata, 'name' | 'version' | 'revision'>): string {
  return `${meta.name}-${fullVersion(meta)}`;
}

export { fullVersion };

/** The file name of a package: `name-version[-rN]-variant.kpkg`. */
export function packageFileName(meta: Pick<PackageMetadata, 'name' | 'version' | 'revision' | 'variant'>): string {
  return `${packageSpec(meta)}-${meta.variant}${PACKAGE_EXTENSION}`;
}

/**
 * The exact size of the payload tar for a manifest, as Kiln writes it: each
 * entry's header(s), content and padding, then the end-of-archive marker.
 */
export function payloadTarSize(files: readonly ManifestEntry[]): number {
  let total = TAR_BLOCK * 2;
  for (const entry of files) {
    total += tarHeaderSize({
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      uname: entry.owner,
      gname: entry.group,
      size: entry.type === 'file' ? entry.size : 0,
      linkTarget: entry.target ?? '',
    });
    if (entry.type === 'file') total += entry.size + tarPadding(entry.size);
  }
  return total;
}

/** Serialize metadata canonically (sorted keys, modes as octal strings). */
export function serializeMetadata(meta: PackageMetadata): Buffer {
  const directories = meta.directories.map((dir) => ({ ...dir, mode: formatMode(dir.mode) }));
  const top: Record<string, unknown> = { ...meta, directories };
  const fields = Object.keys(top)
    .sort()
    .filter((key) => top[key] !== undefined);
  // The manifest is most of the bytes: its entries are written directly, in the same sorted form.
  const body = fields.map(
    (key) =>
      `${JSON.stringify(key)}:${key === 'files' ? `[${meta.files.map(serializeEntry).join(',')}]` : stableStringify(top[key])}`,
  );
  return Buffer.from(`{${body.join(',')}}`, 'utf8');
}

const ENTRY_KEYS = new Set(['config', 'group', 'mode', 'owner', 'path', 'sha256', 'size', 'target', 'type']);

/** One manifest entry as `stableStringify` writes it, keys in sorted order, without sorting them. */
export function serializeEntry(entry: ManifestEntry): string {
  const keys = Object.keys(entry);
  if (
    keys.some((key) => !ENTRY_KEYS.has(key)) ||
    keys.some((key) => (entry as unknown as Record<string, unknown>)[key] === undefined)
  ) {
    return stableStringify({ ...entry, mode: formatMode(entry.mode) });
  }
  let out = entry.config === undefined ? '{' : `{"config":${entry.config},`;
  out += `"group":${JSON.stringify(entry.group)},"mode":"${formatMode(entry.mode)}","owner":${JSON.stringify(entry.owner)},"path":${JSON.stringify(entry.path)}`;
  if (entry.sha256 !== undefined) out += `,"sha256":${JSON.stringify(entry.sha256)}`;
  out += `,"size":${JSON.stringify(entry.size)}`;
  if (entry.target !== undefined) out += `,"target":${JSON.stringify(entry.target)}`;
  return `${out},"type":${JSON.stringify(entry.type)}}`;
}

const TOP_KEYS = [
  'format',
  'formatVersion',
  'name',
  'category',
  'version',
  'revision',
  'variant',
  'options',
  'defaults',
  'role',
  'target',
  'summary',
  'homepage',
  'license',
  'depends',
  'provides',
  'needs',
  'users',
  'groups',
  'directories',
  'files',
  'relocation',
  'payload',
  'installedSize',
] as const;

/**
 * Read and check metadata from untrusted JSON. Everything is validated: field
 * types, names, versions, ranges, the license expression, the variant id, the
 * manifest's safety rules and its consistency with the relocation table and
 * payload size. `source` names the package in messages.
 */
export function parsePackageMetadata(json: unknown, source: string, how: { checked?: boolean } = {}): PackageMetadata {
  // `checked`: these exact bytes passed every check before (the unpacked store keeps them); the
  // whole-manifest rules — path safety, payload size, variant id — are not run again.
  const full = how.checked !== true;
  const context = `cannot read package ${source}`;
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_META', `${context}: metadata field ${where} ${problem}`, {
      hint: 'the package was not made by a compatible Kiln, or it was altered',
    });
  };
  if (isRecord(json) && json['format'] === PACKAGE_FORMAT && json['formatVersion'] !== PACKAGE_FORMAT_VERSION) {
    throw new KilnError(
      'E_PACKAGE_FORMAT',
      `${context}: package format version ${String(json['formatVersion'])} is not supported (this Kiln reads version ${PACKAGE_FORMAT_VERSION})`,
      {
        hint: 'upgrade Kiln to read newer packages',
      },
    );
  }
  const root = expectObject(json, '(top level)', fail, TOP_KEYS);
  if (root['format'] !== PACKAGE_FORMAT) fail('format', `must be "${PACKAGE_FORMAT}"`);
  const identity = parseIdentityFields(root, fail);
  const options = parseOptions(root['options'], 'options', fail);
  const choice = parseOptionChoice(root, options, fail);
  const target = parseTarget(root['target'], 'target', fail);
  const variant = expectString(root['variant'], 'variant', fail, VARIANT_PATTERN, '12 lower-case hex digits');
  if (full && variant !== computeVariantId(options, target))
    fail('variant', `${variant} does not match the options and target (expected ${computeVariantId(options, target)})`);
  const files = expectArray(root['files'], 'files', fail).map((item, i) =>
    parseManifestEntry(item, join('files', i), fail),
  );
  if (full) assertSafeManifest(files, context);
  const filesByPath = new Map(files.map((entry) => [entry.path, entry]));
  const relocation = parseRelocation(root['relocation'], filesByPath, fail);
  const payloadObject = expectObject(root['payload'], 'payload', fail, [
    'compression',
    'size',
    'sha256',
    'uncompressedSize',
  ]);
  if (payloadObject['compression'] !== 'zstd') fail('payload.compression', 'must be "zstd"');
  const payload: Payload = {
    compression: 'zstd',
    size: expectInteger(payloadObject['size'], 'payload.size', fail),
    sha256: expectSha256(payloadObject['sha256'], 'payload.sha256', fail),
    uncompressedSize: expectInteger(payloadObject['uncompressedSize'], 'payload.uncompressedSize', fail),
  };
  const expectedTar = full ? payloadTarSize(files) : payload.uncompressedSize;
  if (payload.uncompressedSize !== expectedTar)
    fail(
      'payload.uncompressedSize',
      `is ${payload.uncompressedSize} but the manifest makes a payload of ${expectedTar} bytes`,
    );
  const installedSize = expectInteger(root['installedSize'], 'installedSize', fail);
  const sum = files.reduce((total, entry) => total + entry.size, 0);
  if (installedSize !== sum) fail('installedSize', `is ${installedSize} but the files add up to ${sum}`);
  const descriptive = parseDescriptiveFields(root, fail);
  for (const [soname, paths] of Object.entries(descriptive.needs.files ?? {})) {
    for (const path of paths)
      if (filesByPath.get(path)?.type !== 'file')
        fail(`needs.files.${soname}`, `names ${JSON.stringify(path)}, which is not a regular file of the package`);
  }
  const meta: PackageMetadata = {
    format: PACKAGE_FORMAT,
    formatVersion: PACKAGE_FORMAT_VERSION,
    ...identity,
    variant,
    options,
    ...choice,
    target,
    ...descriptive,
    files,
    relocation,
    payload,
    installedSize,
  };
  return meta;
}

/**
 * `defaults` (the same option names as `options`) and `role`, when present:
 * shared by package metadata and the pack input.
 */
export function parseOptionChoice(
  root: Record<string, unknown>,
  options: Record<string, boolean>,
  fail: Fail,
): Pick<PackageMetadata, 'defaults' | 'role'> {
  const result: Pick<PackageMetadata, 'defaults' | 'role'> = {};
  if (root['defaults'] !== undefined) {
    const defaults = parseOptions(root['defaults'], 'defaults', fail);
    const names = Object.keys(defaults).sort().join(' ');
    if (names !== Object.keys(options).sort().join(' '))
      fail(
        'defaults',
        `must name exactly the options (${Object.keys(options).sort().join(', ') || 'none'}), not ${names.replace(/ /g, ', ') || 'none'}`,
      );
    result.defaults = defaults;
  }
  if (root['role'] !== undefined) {
    const role = root['role'];
    if (typeof role !== 'string' || !(PACKAGE_ROLES as readonly string[]).includes(role))
      fail('role', `must be ${PACKAGE_ROLES.map((r) => `"${r}"`).join(' or ')}`);
    result.role = role as PackageRole;
  }
  return result;
}

/** The fields shared by package metadata and the pack input: identity. */
export function parseIdentityFields(
  root: Record<string, unknown>,
  fail: Fail,
): Pick<PackageMetadata, 'name' | 'category' | 'version' | 'revision'> {
  const name = expectString(
    root['name'],
    'name',
    fail,
    NAME_PATTERN,
    'a package name (letters, digits, "+", "_", "-")',
  );
  if (splitNameVersion(name) !== undefined) fail('name', `"${name}" must not end in a hyphen and a version`);
  const category = expectString(
    root['category'],
    'category',
    fail,
    CATEGORY_PATTERN,
    'a category name (letters, digits, "+", "_", ".", "-")',
  );
  const version = expectString(root['version'], 'version', fail);
  const parsed = tryParseVersion(version);
  if (parsed === undefined) fail('version', `${JSON.stringify(version)} is not a valid version`);
  if (parsed.hasRevision)
    fail('version', `${JSON.stringify(version)} must not carry a revision: put it in the revision field`);
  const revision = expectInteger(root['revision'], 'revision', fail, 0, 1_000_000);
  return { name, category, version, revision };
}

/**
 * The descriptive fields shared by package metadata and the pack input. In a
 * pack input `needs` is what the packer states (`files` is found in the tree).
 */
export function parseDescriptiveFields(
  root: Record<string, unknown>,
  fail: Fail,
  needsRule: NeedsRule = 'metadata',
): Pick<
  PackageMetadata,
  'summary' | 'homepage' | 'license' | 'depends' | 'provides' | 'needs' | 'users' | 'groups' | 'directories'
> {
  const summary = expectString(root['summary'], 'summary', fail, /^[^\n\r]+$/, 'one non-empty line');
  if (summary.length > MAX_SUMMARY) fail('summary', `is longer than ${MAX_SUMMARY} characters`);
  const homepage = expectString(root['homepage'] ?? '', 'homepage', fail, HOMEPAGE_PATTERN, 'an http(s) URL');
  const licenseText = expectString(root['license'], 'license', fail);
  const parsedLicense = tryParseLicense(licenseText);
  if (parsedLicense === undefined)
    fail('license', `${JSON.stringify(licenseText)} is not a valid SPDX license expression`);
  const depends = parseDepends(root['depends'] ?? [], 'depends', fail);
  const provides = parseSonames(root['provides'] ?? {}, 'provides', fail);
  const needs = parseNeeds(root['needs'] ?? {}, 'needs', fail, needsRule);
  const groups = expectArray(root['groups'] ?? [], 'groups', fail).map((item, i) => {
    const where = join('groups', i);
    const group = expectObject(item, where, fail, ['name', 'system']);
    return {
      name: expectString(group['name'], join(where, 'name'), fail, ACCOUNT_PATTERN, 'a group name'),
      system: expectBoolean(group['system'] ?? true, join(where, 'system'), fail),
    };
  });
  const users = expectArray(root['users'] ?? [], 'users', fail).map((item, i) =>
    parseUser(item, join('users', i), fail),
  );
  const directories = expectArray(root['directories'] ?? [], 'directories', fail).map((item, i) => {
    const where = join('directories', i);
    const dir = expectObject(item, where, fail, ['path', 'owner', 'group', 'mode']);
    const path = expectSafePath(dir['path'], join(where, 'path'), fail);
    return {
      path,
      owner: expectString(dir['owner'] ?? 'root', join(where, 'owner'), fail, ACCOUNT_PATTERN, 'a user name'),
      group: expectString(dir['group'] ?? 'root', join(where, 'group'), fail, ACCOUNT_PATTERN, 'a group name'),
      mode: parseMode(dir['mode'] ?? '0755', join(where, 'mode'), fail),
    };
  });
  noDuplicates(
    users.map((user) => user.name),
    'users',
    fail,
  );
  noDuplicates(
    groups.map((group) => group.name),
    'groups',
    fail,
  );
  noDuplicates(
    directories.map((dir) => dir.path),
    'directories',
    fail,
  );
  const license = formatLicense(parsedLicense);
  return { summary, homepage, license, depends, provides, needs, users, groups, directories };
}

/** Options: a table of option name → true/false. */
export function parseOptions(value: unknown, where: string, fail: Fail): Record<string, boolean> {
  const table = expectObject(value ?? {}, where, fail);
  const options: Record<string, boolean> = dict();
  for (const key of Object.keys(table).sort()) {
    if (!OPTION_PATTERN.test(key))
      fail(
        join(where, key),
        'is not a valid option name (letters, digits, "+", "_", "@", "-", starting with a letter or digit)',
      );
    options[key] = expectBoolean(table[key], join(where, key), fail);
  }
  return options;
}

export function parseTarget(value: unknown, where: string, fail: Fail): Target {
  const target = expectObject(value, where, fail, ['arch', 'cpu', 'libc', 'libcVersion']);
  const libcVersion = expectString(target['libcVersion'], join(where, 'libcVersion'), fail);
  if (tryParseVersion(libcVersion) === undefined)
    fail(join(where, 'libcVersion'), `${JSON.stringify(libcVersion)} is not a valid version`);
  return {
    arch: expectString(target['arch'], join(where, 'arch'), fail, ARCH_PATTERN, 'an architecture like "x86_64"'),
    cpu: expectString(target['cpu'], join(where, 'cpu'), fail, CPU_PATTERN, 'a CPU level like "x86-64-v2"'),
    libc: expectString(target['libc'], join(where, 'libc'), fail, LIBC_PATTERN, 'a C library like "glibc"'),
    libcVersion,
  };
}

function parseDepends(value: unknown, where: string, fail: Fail): Dependency[] {
  const depends = expectArray(value, where, fail).map((item, i) => {
    const at = join(where, i);
    let name: string;
    let rangeText: string;
    if (typeof item === 'string') {
      // "name" or "name >=1.2 <2": the compact form of the pack input.
      const space = item.search(/\s/);
      name = space < 0 ? item : item.slice(0, space);
      rangeText = space < 0 ? '' : item.slice(space + 1).trim();
    } else {
      const dep = expectObject(item, at, fail, ['name', 'range']);
      name = expectString(dep['name'], join(at, 'name'), fail);
      rangeText = expectString(dep['range'] ?? '', join(at, 'range'), fail);
    }
    if (!NAME_PATTERN.test(name)) fail(at, `names ${JSON.stringify(name)}, which is not a valid package name`);
    const range = tryParseRange(rangeText);
    if (range === undefined) fail(at, `has an invalid version range ${JSON.stringify(rangeText)}`);
    return { name, range: formatRange(range) };
  });
  noDuplicates(
    depends.map((dep) => dep.name),
    where,
    fail,
  );
  return depends.sort((a, b) => compareText(a.name, b.name));
}

function parseSonames(value: unknown, where: string, fail: Fail): { sonames: string[] } {
  const table = expectObject(value, where, fail, ['sonames']);
  return { sonames: sonameList(table['sonames'], join(where, 'sonames'), fail) };
}

/**
 * `metadata`: `system` is the part of `sonames` that may come from the host, `files` names regular files
 * (checked against the manifest by the caller). `pack input`: `system` allows host libraries, needed or not;
 * `files` is not stated but found.
 */
export type NeedsRule = 'metadata' | 'pack input';

function parseNeeds(value: unknown, where: string, fail: Fail, rule: NeedsRule): Needs {
  const table = expectObject(
    value,
    where,
    fail,
    rule === 'metadata' ? ['sonames', 'system', 'files'] : ['sonames', 'system'],
  );
  const needs: Needs = { sonames: sonameList(table['sonames'], join(where, 'sonames'), fail) };
  const needed = new Set(needs.sonames);
  if (table['system'] !== undefined) {
    needs.system = sonameList(table['system'], join(where, 'system'), fail);
    const stray = rule === 'metadata' ? needs.system.find((soname) => !needed.has(soname)) : undefined;
    if (stray !== undefined)
      fail(join(where, 'system'), `names ${JSON.stringify(stray)}, which is not in ${join(where, 'sonames')}`);
  }
  if (table['files'] !== undefined) {
    const byName = expectObject(table['files'], join(where, 'files'), fail);
    const files: Record<string, string[]> = dict();
    for (const soname of Object.keys(byName).sort(compareText)) {
      const at = join(join(where, 'files'), soname);
      if (!needed.has(soname)) fail(at, `is not in ${join(where, 'sonames')}`);
      const paths = expectArray(byName[soname], at, fail).map((item, i) => expectSafePath(item, join(at, i), fail));
      if (paths.length === 0) fail(at, 'is empty');
      noDuplicates(paths, at, fail);
      files[soname] = paths.sort(compareText);
    }
    needs.files = files;
  }
  return needs;
}

function sonameList(value: unknown, where: string, fail: Fail): string[] {
  const sonames = expectArray(value ?? [], where, fail).map((item, i) =>
    expectString(item, join(where, i), fail, SONAME_PATTERN, 'a soname like "libz.so.1"'),
  );
  noDuplicates(sonames, where, fail);
  return sonames.sort(compareText);
}

function parseUser(value: unknown, where: string, fail: Fail): UserSpec {
  const user = expectObject(value, where, fail, ['name', 'group', 'home', 'shell', 'comment', 'system']);
  const home = user['home'] === undefined ? undefined : expectSafePath(user['home'], join(where, 'home'), fail);
  const spec: UserSpec = {
    name: expectString(user['name'], join(where, 'name'), fail, ACCOUNT_PATTERN, 'a user name'),
    system: expectBoolean(user['system'] ?? true, join(where, 'system'), fail),
  };
  const group = optionalString(user['group'], join(where, 'group'), fail, ACCOUNT_PATTERN, 'a group name');
  const shell = optionalString(
    user['shell'],
    join(where, 'shell'),
    fail,
    /^\/[^\n:]*$/,
    'an absolute path on the host',
  );
  const comment = optionalString(user['comment'], join(where, 'comment'), fail, /^[^\n:]*$/, 'one line without ":"');
  if (group !== undefined) spec.group = group;
  if (home !== undefined) spec.home = home;
  if (shell !== undefined) spec.shell = shell;
  if (comment !== undefined) spec.comment = comment;
  return spec;
}

function parseManifestEntry(value: unknown, where: string, fail: Fail): ManifestEntry {
  const item = expectObject(value, where, fail, [
    'path',
    'type',
    'mode',
    'owner',
    'group',
    'size',
    'sha256',
    'target',
    'config',
  ]);
  const type = expectString(
    item['type'],
    join(where, 'type'),
    fail,
    /^(file|dir|symlink|hardlink)$/,
    'one of file, dir, symlink, hardlink',
  ) as EntryType;
  const entry: ManifestEntry = {
    path: expectString(item['path'], join(where, 'path'), fail),
    type,
    mode: parseMode(item['mode'], join(where, 'mode'), fail),
    owner: expectString(item['owner'], join(where, 'owner'), fail, ACCOUNT_PATTERN, 'a user name'),
    group: expectString(item['group'], join(where, 'group'), fail, ACCOUNT_PATTERN, 'a group name'),
    size: expectInteger(item['size'], join(where, 'size'), fail),
  };
  if (type === 'file') {
    entry.sha256 = expectSha256(item['sha256'], join(where, 'sha256'), fail);
    if (item['target'] !== undefined) fail(join(where, 'target'), 'is only for links');
  } else {
    if (entry.size !== 0) fail(join(where, 'size'), `must be 0 for a ${type}`);
    if (item['sha256'] !== undefined) fail(join(where, 'sha256'), 'is only for regular files');
    if (type === 'symlink' || type === 'hardlink')
      entry.target = expectString(item['target'], join(where, 'target'), fail);
    else if (item['target'] !== undefined) fail(join(where, 'target'), 'is only for links');
  }
  if (item['config'] !== undefined) {
    if (expectBoolean(item['config'], join(where, 'config'), fail) && type !== 'file')
      fail(join(where, 'config'), 'is only for regular files');
    if (item['config'] === true) entry.config = true;
    else fail(join(where, 'config'), 'is written only when true');
  }
  return entry;
}

function parseRelocation(value: unknown, files: ReadonlyMap<string, ManifestEntry>, fail: Fail): Relocation | null {
  if (value === null) return null;
  const table = expectObject(value, 'relocation', fail, ['placeholder', 'files']);
  const placeholder = expectString(
    table['placeholder'],
    'relocation.placeholder',
    fail,
    /^\/[^\u0000\n]{7,}$/,
    'an absolute path of at least 8 characters',
  );
  const seen = new Set<string>();
  const relocated = expectArray(table['files'], 'relocation.files', fail).map((item, i) => {
    const where = join('relocation.files', i);
    const record = expectObject(item, where, fail, ['path', 'kind', 'offsets']);
    const path = expectString(record['path'], join(where, 'path'), fail);
    const entry = files.get(path);
    if (entry === undefined || entry.type !== 'file')
      fail(join(where, 'path'), `${JSON.stringify(path)} is not a regular file of the package`);
    if (seen.has(path)) fail(join(where, 'path'), `${JSON.stringify(path)} is listed twice`);
    seen.add(path);
    const kind = expectString(record['kind'], join(where, 'kind'), fail, /^(text|binary)$/, '"text" or "binary"') as
      | 'text'
      | 'binary';
    const offsets = expectArray(record['offsets'], join(where, 'offsets'), fail).map((offset, k) =>
      expectInteger(offset, join(join(where, 'offsets'), k), fail),
    );
    if (offsets.length === 0) fail(join(where, 'offsets'), 'is empty');
    let previous = -Infinity;
    for (const offset of offsets) {
      if (offset < previous + placeholder.length) fail(join(where, 'offsets'), 'must be ascending and not overlap');
      if (offset + Buffer.byteLength(placeholder) > entry.size)
        fail(join(where, 'offsets'), `has an offset past the end of ${path}`);
      previous = offset;
    }
    return { path, kind, offsets };
  });
  return { placeholder, files: relocated };
}

/** A string that is a safe package path (relative, canonical). */
export function expectSafePath(value: unknown, where: string, fail: Fail): string {
  const path = expectString(value, where, fail);
  const problem = pathProblem(path);
  if (problem !== undefined) fail(where, `${JSON.stringify(path)} ${problem}`);
  return path;
}

function expectSha256(value: unknown, where: string, fail: Fail): Sha256 {
  const digest = tryParseSha256(value);
  if (digest === undefined) fail(where, 'must be a sha256 digest (64 lower-case hex digits)');
  return digest;
}

function noDuplicates(values: readonly string[], where: string, fail: Fail): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) fail(where, `lists ${JSON.stringify(value)} twice`);
    seen.add(value);
  }
}

/** Code-unit order, the order Kiln sorts names in everywhere. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
