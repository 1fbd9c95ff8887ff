/**
 * The repository index, format v1: one signed JSON document that lists every
 * published package by identity, with what a client needs to choose one
 * (options, target, dependencies, sonames) and pins its file by size and
 * sha256. docs/repository.md is the prose form of this file.
 */
import { KilnError } from '../errors/index.js';
import type { Needs, PackageMetadata, Target } from '../format/metadata.js';
import {
  CATEGORY_PATTERN,
  NAME_PATTERN,
  OPTION_PATTERN,
  compareText,
  computeVariantId,
  fullVersion,
  parseOptionChoice,
  parseTarget,
} from '../format/metadata.js';
import { pathProblem } from '../format/manifestSafety.js';
import { formatLicense, tryParseLicense } from '../license/index.js';
import type { Sha256 } from '../util/hash.js';
import { tryParseSha256 } from '../util/hash.js';
import { stableStringify } from '../util/json.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectInteger, expectObject, expectString, isRecord, join } from '../util/shape.js';
import { compareVersions, formatRange, parseVersion, splitNameVersion, tryParseRange } from '../version/index.js';
import { PACKAGES_DIR } from './layout.js';
import { dict } from '../util/dict.js';

export const INDEX_FORMAT = 'kiln-index';
export const INDEX_FORMAT_VERSION = 1;

/** What the index says about one package file. */
export type IndexEntry = Pick<
  PackageMetadata,
  | 'name'
  | 'category'
  | 'version'
  | 'revision'
  | 'variant'
  | 'options'
  | 'defaults'
  | 'role'
  | 'target'
  | 'summary'
  | 'homepage'
  | 'license'
  | 'depends'
  | 'provides'
  | 'installedSize'
> & {
  /** The package's needs without `files` (which file needs what is in the package, not the index). */
  needs: Pick<Needs, 'sonames' | 'system'>;
  /** Path of the package file relative to the repository root. */
  path: string;
  /**
   * The longest prefix (in bytes) the package can be installed into: the
   * length of its placeholder, when binary files hold it; absent otherwise.
   */
  maxPrefix?: number;
  size: number;
  sha256: Sha256;
};

export interface RepositoryIndex {
  format: typeof INDEX_FORMAT;
  formatVersion: typeof INDEX_FORMAT_VERSION;
  /** Repository name. */
  name: string;
  /** Goes up by one with every commit; clients refuse to go back. */
  serial: number;
  /** ISO 8601 UTC times. */
  created: string;
  expires: string;
  /** Ids of the keys that sign this repository. */
  keys: string[];
  /** The advisories document (docs/security.md), pinned: sha256 and size of its uncompressed bytes. */
  advisories?: { sha256: Sha256; size: number };
  packages: IndexEntry[];
}

export const REPOSITORY_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
export const KEY_ID_PATTERN = /^[0-9A-F]{16}$/;
export const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** `name version-rN variant`: the identity of a package file; unique in an index. */
export function entryKey(entry: Pick<IndexEntry, 'name' | 'version' | 'revision' | 'variant'>): string {
  return `${entry.name} ${fullVersion(entry)} ${entry.variant}`;
}

/** The index entry of a package. */
export function indexEntryFor(meta: PackageMetadata, path: string, size: number, sha256: Sha256): IndexEntry {
  return {
    name: meta.name,
    category: meta.category,
    version: meta.version,
    revision: meta.revision,
    variant: meta.variant,
    options: meta.options,
    ...(meta.defaults === undefined ? {} : { defaults: meta.defaults }),
    ...(meta.role === undefined ? {} : { role: meta.role }),
    target: meta.target,
    summary: meta.summary,
    homepage: meta.homepage,
    license: meta.license,
    depends: meta.depends,
    provides: meta.provides,
    needs:
      meta.needs.system === undefined
        ? { sonames: meta.needs.sonames }
        : { sonames: meta.needs.sonames, system: meta.needs.system },
    installedSize: meta.installedSize,
    ...(meta.relocation?.files.some((row) => row.kind === 'binary')
      ? { maxPrefix: Buffer.byteLength(meta.relocation.placeholder) }
      : {}),
    path,
    size,
    sha256,
  };
}

/** The trusted comment of an index signature: `kiln index NAME serial N`. */
export function indexTrustedComment(index: Pick<RepositoryIndex, 'name' | 'serial'>): string {
  return `kiln index ${index.name} serial ${index.serial}`;
}

/** Read the serial back out of a trusted comment (before the signature is checked: a hint only). */
export function serialFromTrustedComment(comment: string): number | undefined {
  const match = /^kiln index \S+ serial (\d{1,15})$/.exec(comment);
  return match ? Number(match[1]) : undefined;
}

/**
 * Serialize an index: sorted keys, one package per line (readable, diffable),
 * packages sorted by `sortEntries`.
 */
export function serializeIndex(index: RepositoryIndex): Buffer {
  const { packages, ...head } = index;
  const headText = stableStringify(head);
  const lines = sortEntries(packages).map(entryJson);
  const body = lines.length === 0 ? '[]' : `[\n${lines.join(',\n')}\n]`;
  return Buffer.from(`${headText.slice(0, -1)},"packages":${body}}\n`, 'utf8');
}

/** Entries in index order — name, version (oldest first), revision, variant — parsing each version once, not once per comparison. */
export function sortEntries(entries: readonly IndexEntry[]): IndexEntry[] {
  const decorated = entries.map((entry) => ({ entry, version: parseVersion(entry.version) }));
  decorated.sort(
    (a, b) =>
      compareText(a.entry.name, b.entry.name) ||
      compareVersions(a.version, b.version) ||
      a.entry.revision - b.entry.revision ||
      compareText(a.entry.variant, b.entry.variant),
  );
  return decorated.map((item) => item.entry);
}

/** One entry as JSON with its keys in sorted order (faster than a generic sorted stringify). */
export function entryJson(e: IndexEntry): string {
  const options = sortedOptions(e.options);
  return JSON.stringify({
    category: e.category,
    ...(e.defaults === undefined ? {} : { defaults: sortedOptions(e.defaults) }),
    depends: e.depends.map((dep) => ({ name: dep.name, range: dep.range })),
    homepage: e.homepage,
    installedSize: e.installedSize,
    license: e.license,
    ...(e.maxPrefix === undefined ? {} : { maxPrefix: e.maxPrefix }),
    name: e.name,
    needs:
      e.needs.system === undefined
        ? { sonames: e.needs.sonames }
        : { sonames: e.needs.sonames, system: e.needs.system },
    options,
    path: e.path,
    provides: { sonames: e.provides.sonames },
    revision: e.revision,
    ...(e.role === undefined ? {} : { role: e.role }),
    sha256: e.sha256,
    size: e.size,
    summary: e.summary,
    target: { arch: e.target.arch, cpu: e.target.cpu, libc: e.target.libc, libcVersion: e.target.libcVersion },
    variant: e.variant,
    version: e.version,
  });
}

function sortedOptions(options: Readonly<Record<string, boolean>>): Record<string, boolean> {
  const sorted: Record<string, boolean> = dict();
  for (const key of Object.keys(options).sort()) sorted[key] = options[key]!;
  return sorted;
}

const TOP_KEYS = ['format', 'formatVersion', 'name', 'serial', 'created', 'expires', 'keys', 'advisories', 'packages'];
const REQUIRED_ENTRY_KEYS = [
  'name',
  'category',
  'version',
  'revision',
  'variant',
  'options',
  'target',
  'summary',
  'homepage',
  'license',
  'depends',
  'provides',
  'needs',
  'installedSize',
  'path',
  'size',
  'sha256',
];
const ENTRY_KEYS = new Set([...REQUIRED_ENTRY_KEYS, 'maxPrefix', 'defaults', 'role']);
/** A prefix can be no longer than PATH_MAX. */
const MAX_PREFIX_LIMIT = 4096;

/** The JSON of an index document (v1 index or v2 root); `context` begins the error message. */
export function parseIndexJson(bytes: Buffer, context: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new KilnError('E_INDEX_FORMAT', `${context}: it is not valid JSON (${(error as Error).message})`, {
      cause: error,
      hint: 'the file is truncated or corrupt',
    });
  }
}

/**
 * Parse and check an index (its signature must already have been checked).
 * Every entry is validated — an index is signed, but a signer can be
 * compromised and clients act on what it says — and duplicate identities,
 * duplicate paths and a name under two categories are refused.
 */
export function parseIndex(bytes: Buffer, source: string): RepositoryIndex {
  const context = `cannot read repository index ${source}`;
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_INDEX_FORMAT', `${context}: ${where} ${problem}`, {
      hint: 'the index was not written by a compatible Kiln',
    });
  };
  const json = parseIndexJson(bytes, context);
  if (isRecord(json) && json['format'] === INDEX_FORMAT && json['formatVersion'] !== INDEX_FORMAT_VERSION) {
    throw new KilnError(
      'E_INDEX_FORMAT',
      `${context}: index format version ${String(json['formatVersion'])} is not supported (this Kiln reads version ${INDEX_FORMAT_VERSION})`,
      { hint: 'upgrade Kiln' },
    );
  }
  const root = expectObject(json, '(top level)', fail, TOP_KEYS);
  if (root['format'] !== INDEX_FORMAT) fail('format', `must be "${INDEX_FORMAT}"`);
  const name = expectString(root['name'], 'name', fail, REPOSITORY_NAME_PATTERN, 'a repository name');
  const serial = expectInteger(root['serial'], 'serial', fail, 1);
  const created = expectString(root['created'], 'created', fail, TIME_PATTERN, 'an ISO 8601 UTC time');
  const expires = expectString(root['expires'], 'expires', fail, TIME_PATTERN, 'an ISO 8601 UTC time');
  const keys = expectArray(root['keys'], 'keys', fail).map((key, i) =>
    expectString(key, join('keys', i), fail, KEY_ID_PATTERN, 'a key id (16 upper-case hex digits)'),
  );
  const packages = checkEntries(expectArray(root['packages'], 'packages', fail), fail, context);
  let advisories: RepositoryIndex['advisories'];
  if (root['advisories'] !== undefined) {
    const pin = expectObject(root['advisories'], 'advisories', fail, ['sha256', 'size']);
    const digest = tryParseSha256(pin['sha256']);
    if (digest === undefined) return fail('advisories.sha256', 'must be a sha256 digest');
    advisories = { sha256: digest, size: expectInteger(pin['size'], 'advisories.size', fail, 0) };
  }
  return {
    format: INDEX_FORMAT,
    formatVersion: INDEX_FORMAT_VERSION,
    name,
    serial,
    created,
    expires,
    keys,
    ...(advisories === undefined ? {} : { advisories }),
    packages,
  };
}

/**
 * Check the entries of an index (or of one v2 shard): each entry, then
 * duplicate identities, duplicate paths and a name under two categories.
 * `context` begins each message ("cannot read repository index URL").
 */
export function checkEntries(items: readonly unknown[], fail: Fail, context: string): IndexEntry[] {
  const checker = new EntryChecker(fail);
  const packages: IndexEntry[] = new Array<IndexEntry>(items.length);
  for (let i = 0; i < items.length; i++) packages[i] = checker.check(items[i], i);
  const byKey = new Set<string>();
  const byPath = new Set<string>();
  const categories = new Map<string, string>();
  for (const entry of packages) {
    const key = entryKey(entry);
    if (byKey.has(key))
      throw new KilnError('E_INDEX_DUPLICATE', `${context}: package ${key} is listed twice`, {
        hint: 'the index is malformed',
      });
    if (byPath.has(entry.path))
      throw new KilnError('E_INDEX_DUPLICATE', `${context}: file ${entry.path} is listed twice`, {
        hint: 'the index is malformed',
      });
    const category = categories.get(entry.name);
    if (category !== undefined && category !== entry.category) {
      throw new KilnError(
        'E_INDEX_DUPLICATE',
        `${context}: package name ${entry.name} appears in two categories (${category}, ${entry.category})`,
        { hint: 'a name is unique within a repository' },
      );
    }
    byKey.add(key);
    byPath.add(entry.path);
    categories.set(entry.name, entry.category);
  }
  return packages;
}

/** The usual place of a package file; a path of this form needs no further safety check. */
const CANONICAL_PACKAGE_PATH =
  /^packages\/[A-Za-z0-9_][A-Za-z0-9+_.-]*\/[A-Za-z0-9_][A-Za-z0-9+_-]*\/[A-Za-z0-9_][A-Za-z0-9+_.-]*\.kpkg$/;
const SONAME_PATTERN = /^[^/\s]+$/;
const HOMEPAGE_PATTERN = /^(https?:\/\/\S+)?$/;
const SUMMARY_PATTERN = /^[^\n\r]{1,300}$/;
/** The version grammar (PMS) without a revision: a regular expression allocates nothing. */
const VERSION_WITHOUT_REVISION = /^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|p)[0-9]*)*$/;

/**
 * Validates index entries one by one, straight-line, building messages only
 * on failure. Index entries repeat the same licenses, ranges, option sets and
 * targets thousands of times, so each distinct value is validated once.
 */
class EntryChecker {
  private readonly licenses = new Map<string, string>();
  private readonly ranges = new Map<string, string>();
  private readonly targets = new Map<string, Target>();
  private readonly variants = new Map<string, string>();

  constructor(private readonly fail: Fail) {}

  /**
   * Check one entry and return it. Valid entries are normalized in place
   * (JSON.parse made them; copying 20,000 objects costs more than checking them).
   */
  check(value: unknown, i: number): IndexEntry {
    const at = (field: string, problem: string): never =>
      this.fail(`packages[${i}]${field === '' ? '' : `.${field}`}`, problem);
    if (!isRecord(value)) return at('', 'must be an object');
    for (const key in value) if (!ENTRY_KEYS.has(key)) at(key, 'is not a known field');
    const name = value['name'];
    if (
      typeof name !== 'string' ||
      !NAME_PATTERN.test(name) ||
      (/-[0-9]/.test(name) && splitNameVersion(name) !== undefined)
    )
      return at('name', `${JSON.stringify(name)} is not a package name`);
    const category = value['category'];
    if (typeof category !== 'string' || !CATEGORY_PATTERN.test(category))
      return at('category', `${JSON.stringify(category)} is not a category name`);
    const version = value['version'];
    if (typeof version !== 'string' || !VERSION_WITHOUT_REVISION.test(version))
      return at('version', `${JSON.stringify(version)} is not a version without revision`);
    const revision = value['revision'];
    if (!isCount(revision) || revision > 1_000_000) return at('revision', 'must be an integer from 0 to 1000000');
    const optionsKey = this.options(value, at);
    value['target'] = this.target(value['target'], at);
    const variant = value['variant'];
    if (
      typeof variant !== 'string' ||
      variant !== this.variant(value['options'] as Record<string, boolean>, optionsKey, value['target'] as Target)
    )
      return at('variant', `${JSON.stringify(variant)} does not match the options and target`);
    const summary = value['summary'];
    if (typeof summary !== 'string' || !SUMMARY_PATTERN.test(summary))
      return at('summary', 'must be one non-empty line of at most 300 characters');
    const homepage = value['homepage'];
    if (typeof homepage !== 'string' || !HOMEPAGE_PATTERN.test(homepage))
      return at('homepage', 'must be an http(s) URL or empty');
    value['license'] = this.license(value['license'], at);
    this.depends(value['depends'], at);
    this.sonames(value['provides'], 'provides', at, []);
    this.sonames(value['needs'], 'needs', at, ['system']);
    if (!isCount(value['installedSize'])) return at('installedSize', 'must be a non-negative integer');
    const path = value['path'];
    if (typeof path !== 'string') return at('path', 'must be a string');
    if (!CANONICAL_PACKAGE_PATH.test(path)) {
      const problem = pathProblem(path);
      if (problem !== undefined) at('path', `${JSON.stringify(path)} ${problem}`);
      if (!path.startsWith(`${PACKAGES_DIR}/`)) at('path', `${JSON.stringify(path)} is not under ${PACKAGES_DIR}/`);
    }
    if (!isCount(value['size'])) return at('size', 'must be a non-negative integer');
    if (tryParseSha256(value['sha256']) === undefined) return at('sha256', 'must be a sha256 digest');
    if ('defaults' in value || 'role' in value) {
      const choice = parseOptionChoice(value, value['options'] as Record<string, boolean>, (where, problem) =>
        at(where, problem),
      );
      if (choice.defaults !== undefined) value['defaults'] = sortedOptions(choice.defaults);
    }
    if (
      'maxPrefix' in value &&
      (!isCount(value['maxPrefix']) || value['maxPrefix'] < 1 || value['maxPrefix'] > MAX_PREFIX_LIMIT)
    )
      return at('maxPrefix', `must be an integer from 1 to ${MAX_PREFIX_LIMIT}`);
    for (const key of REQUIRED_ENTRY_KEYS) if (!(key in value)) at(key, 'is missing');
    return value as unknown as IndexEntry;
  }

  /** Check the options (sorting their keys if needed) and return a string naming them for the variant cache. */
  private options(entry: Record<string, unknown>, at: (field: string, problem: string) => never): string {
    const value = entry['options'];
    if (!isRecord(value)) return at('options', 'must be an object');
    const names = Object.keys(value);
    let key = '';
    let sorted = true;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      const flag = value[name];
      if (typeof flag !== 'boolean' || !OPTION_PATTERN.test(name))
        return at(`options.${name}`, 'must be a valid option name set to true or false');
      if (k > 0 && names[k - 1]! > name) sorted = false;
    }
    if (!sorted) {
      const options: Record<string, boolean> = dict();
      for (const name of names.sort()) options[name] = value[name] as boolean;
      entry['options'] = options;
    }
    for (const name of names) key += value[name] ? `+${name}` : `-${name}`;
    return key;
  }

  private target(value: unknown, at: (field: string, problem: string) => never): Target {
    if (!isRecord(value)) return at('target', 'must be an object');
    const key = `${String(value['arch'])}\u0000${String(value['cpu'])}\u0000${String(value['libc'])}\u0000${String(value['libcVersion'])}`;
    let target = this.targets.get(key);
    if (target === undefined) {
      target = parseTarget(value, 'target', (where, problem) => at(where, problem));
      this.targets.set(key, target);
    }
    return target;
  }

  private variant(options: Record<string, boolean>, optionsKey: string, target: Target): string {
    const key = `${optionsKey}\u0000${target.arch}\u0000${target.cpu}\u0000${target.libc}\u0000${target.libcVersion}`;
    let variant = this.variants.get(key);
    if (variant === undefined) {
      variant = computeVariantId(options, target);
      this.variants.set(key, variant);
    }
    return variant;
  }

  private license(value: unknown, at: (field: string, problem: string) => never): string {
    if (typeof value !== 'string') return at('license', 'must be a string');
    let license = this.licenses.get(value);
    if (license === undefined) {
      const parsed = tryParseLicense(value);
      if (parsed === undefined) return at('license', `${JSON.stringify(value)} is not a valid SPDX license expression`);
      license = formatLicense(parsed);
      this.licenses.set(value, license);
    }
    return license;
  }

  private depends(value: unknown, at: (field: string, problem: string) => never): void {
    if (!Array.isArray(value)) return at('depends', 'must be a list');
    for (let k = 0; k < value.length; k++) {
      const dep: unknown = value[k];
      if (!isRecord(dep)) return at(`depends[${k}]`, 'must be an object');
      const name = dep['name'];
      const rangeText = dep['range'];
      if (typeof name !== 'string' || !NAME_PATTERN.test(name))
        return at(`depends[${k}].name`, `${JSON.stringify(name)} is not a package name`);
      for (let other = 0; other < k; other++)
        if ((value[other] as Record<string, unknown>)['name'] === name)
          at(`depends[${k}].name`, `${name} is listed twice`);
      if (typeof rangeText !== 'string') return at(`depends[${k}].range`, 'must be a string');
      for (const key in dep) if (key !== 'name' && key !== 'range') at(`depends[${k}].${key}`, 'is not a known field');
      let range = this.ranges.get(rangeText);
      if (range === undefined) {
        const parsed = tryParseRange(rangeText);
        if (parsed === undefined)
          return at(`depends[${k}].range`, `${JSON.stringify(rangeText)} is not a version range`);
        range = formatRange(parsed);
        this.ranges.set(rangeText, range);
      }
      if (range !== rangeText) dep['range'] = range;
    }
  }

  /** `{sonames}`, and for `needs` optionally `system`: a part of `sonames` (the host libraries it may use). */
  private sonames(
    value: unknown,
    field: string,
    at: (field: string, problem: string) => never,
    optional: readonly string[],
  ): void {
    if (!isRecord(value) || !Array.isArray(value['sonames']))
      return at(field, 'must be an object with a list of sonames');
    for (const key in value)
      if (key !== 'sonames' && !optional.includes(key)) at(`${field}.${key}`, 'is not a known field');
    const sonames = value['sonames'] as unknown[];
    for (const soname of sonames)
      if (typeof soname !== 'string' || !SONAME_PATTERN.test(soname))
        return at(`${field}.sonames`, `${JSON.stringify(soname)} is not a soname`);
    if (!('system' in value)) return;
    const system = value['system'];
    if (!Array.isArray(system)) return at(`${field}.system`, 'must be a list of sonames');
    for (const soname of system as unknown[])
      if (typeof soname !== 'string' || !sonames.includes(soname))
        return at(`${field}.system`, `${JSON.stringify(soname)} is not in ${field}.sonames`);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
