/**
 * The repository index, format v1: one signed JSON document that lists every
 * published package by identity, with what a client needs to choose one
 * (options, target, dependencies, sonames) and pins its file by size and
 * sha256. docs/repository.md is the prose form of this file.
 */
import { KilnError } from '../errors/index.js';
import type { PackageMetadata } from '../format/index.js';
import { CATEGORY_PATTERN, NAME_PATTERN, compareText, computeVariantId, fullVersion, parseDescriptiveFields, parseIdentityFields, parseOptions, parseTarget, pathProblem } from '../format/index.js';
import type { Sha256 } from '../util/hash.js';
import { tryParseSha256 } from '../util/hash.js';
import { stableStringify } from '../util/json.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectInteger, expectObject, expectString, isRecord, join } from '../util/shape.js';
import { compareVersions } from '../version/index.js';
import { PACKAGES_DIR } from './layout.js';

export const INDEX_FORMAT = 'kiln-index';
export const INDEX_FORMAT_VERSION = 1;

/** What the index says about one package file. */
export type IndexEntry = Pick<PackageMetadata, 'name' | 'category' | 'version' | 'revision' | 'variant' | 'options' | 'target' | 'summary' | 'homepage' | 'license' | 'depends' | 'provides' | 'needs' | 'installedSize'> & {
  /** Path of the package file relative to the repository root. */
  path: string;
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
  packages: IndexEntry[];
}

export const REPOSITORY_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const KEY_ID_PATTERN = /^[0-9A-F]{16}$/;
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

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
    target: meta.target,
    summary: meta.summary,
    homepage: meta.homepage,
    license: meta.license,
    depends: meta.depends,
    provides: meta.provides,
    needs: meta.needs,
    installedSize: meta.installedSize,
    path,
    size,
    sha256,
  };
}

/** Index order: name, then version (oldest first), revision, variant. */
export function compareEntries(a: IndexEntry, b: IndexEntry): number {
  return compareText(a.name, b.name) || compareVersions(a.version, b.version) || a.revision - b.revision || compareText(a.variant, b.variant);
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
 * packages sorted by `compareEntries`.
 */
export function serializeIndex(index: RepositoryIndex): Buffer {
  const { packages, ...head } = index;
  const headText = stableStringify(head);
  const lines = [...packages].sort(compareEntries).map((entry) => stableStringify(entry));
  const body = lines.length === 0 ? '[]' : `[\n${lines.join(',\n')}\n]`;
  return Buffer.from(`${headText.slice(0, -1)},"packages":${body}}\n`, 'utf8');
}

const TOP_KEYS = ['format', 'formatVersion', 'name', 'serial', 'created', 'expires', 'keys', 'packages'];
const ENTRY_KEYS = ['name', 'category', 'version', 'revision', 'variant', 'options', 'target', 'summary', 'homepage', 'license', 'depends', 'provides', 'needs', 'installedSize', 'path', 'size', 'sha256'];

/**
 * Parse and check an index (its signature must already have been checked).
 * Refuses duplicate identities, duplicate paths, a name under two categories,
 * unsafe paths and inconsistent variant ids.
 */
export function parseIndex(bytes: Buffer, source: string): RepositoryIndex {
  const context = `cannot read repository index ${source}`;
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_INDEX_FORMAT', `${context}: ${where} ${problem}`, { hint: 'the index was not written by a compatible Kiln' });
  };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new KilnError('E_INDEX_FORMAT', `${context}: it is not valid JSON (${(error as Error).message})`, { cause: error, hint: 'the file is truncated or corrupt' });
  }
  if (isRecord(json) && json['format'] === INDEX_FORMAT && json['formatVersion'] !== INDEX_FORMAT_VERSION) {
    throw new KilnError('E_INDEX_FORMAT', `${context}: index format version ${String(json['formatVersion'])} is not supported (this Kiln reads version ${INDEX_FORMAT_VERSION})`, { hint: 'upgrade Kiln' });
  }
  const root = expectObject(json, '(top level)', fail, TOP_KEYS);
  if (root['format'] !== INDEX_FORMAT) fail('format', `must be "${INDEX_FORMAT}"`);
  const name = expectString(root['name'], 'name', fail, REPOSITORY_NAME_PATTERN, 'a repository name');
  const serial = expectInteger(root['serial'], 'serial', fail, 1);
  const created = expectString(root['created'], 'created', fail, TIME_PATTERN, 'an ISO 8601 UTC time');
  const expires = expectString(root['expires'], 'expires', fail, TIME_PATTERN, 'an ISO 8601 UTC time');
  const keys = expectArray(root['keys'], 'keys', fail).map((key, i) => expectString(key, join('keys', i), fail, KEY_ID_PATTERN, 'a key id (16 upper-case hex digits)'));
  const cache = new ParseCache();
  const packages = expectArray(root['packages'], 'packages', fail).map((item, i) => parseEntry(item, join('packages', i), fail, cache));
  const byKey = new Set<string>();
  const byPath = new Set<string>();
  const categories = new Map<string, string>();
  for (const entry of packages) {
    const key = entryKey(entry);
    if (byKey.has(key)) throw new KilnError('E_INDEX_DUPLICATE', `${context}: package ${key} is listed twice`, { hint: 'the index is malformed' });
    if (byPath.has(entry.path)) throw new KilnError('E_INDEX_DUPLICATE', `${context}: file ${entry.path} is listed twice`, { hint: 'the index is malformed' });
    const category = categories.get(entry.name);
    if (category !== undefined && category !== entry.category) {
      throw new KilnError('E_INDEX_DUPLICATE', `${context}: package name ${entry.name} appears in two categories (${category}, ${entry.category})`, { hint: 'a name is unique within a repository' });
    }
    byKey.add(key);
    byPath.add(entry.path);
    categories.set(entry.name, entry.category);
  }
  return { format: INDEX_FORMAT, formatVersion: INDEX_FORMAT_VERSION, name, serial, created, expires, keys, packages };
}

/**
 * Index entries repeat the same licenses, ranges and targets thousands of
 * times; validating each distinct value once keeps a 20,000-entry index fast.
 */
class ParseCache {
  readonly descriptive = new Map<string, ReturnType<typeof parseDescriptiveFields>>();
  readonly targets = new Map<string, ReturnType<typeof parseTarget>>();
}

function parseEntry(value: unknown, where: string, fail: Fail, cache: ParseCache): IndexEntry {
  const item = expectObject(value, where, fail, ENTRY_KEYS);
  const at: Fail = (field, problem) => fail(field === '(top level)' ? where : join(where, field), problem);
  const identity = parseIdentityFields(item, at);
  if (!NAME_PATTERN.test(identity.name) || !CATEGORY_PATTERN.test(identity.category)) at('name', 'is invalid');
  const options = parseOptions(item['options'], 'options', at);
  const targetKey = stableStringify(item['target'] ?? null);
  let target = cache.targets.get(targetKey);
  if (target === undefined) {
    target = parseTarget(item['target'], 'target', at);
    cache.targets.set(targetKey, target);
  }
  const variant = expectString(item['variant'], 'variant', at, /^[0-9a-f]{12}$/, '12 lower-case hex digits');
  if (variant !== computeVariantId(options, target)) at('variant', `${variant} does not match the options and target`);
  const descriptiveSource = { summary: item['summary'], homepage: item['homepage'], license: item['license'], depends: item['depends'], provides: item['provides'], needs: item['needs'] };
  const descriptiveKey = stableStringify(descriptiveSource);
  let descriptive = cache.descriptive.get(descriptiveKey);
  if (descriptive === undefined) {
    descriptive = parseDescriptiveFields(descriptiveSource, at);
    cache.descriptive.set(descriptiveKey, descriptive);
  }
  const path = expectString(item['path'], 'path', at);
  const problem = pathProblem(path);
  if (problem !== undefined) at('path', `${JSON.stringify(path)} ${problem}`);
  if (!path.startsWith(`${PACKAGES_DIR}/`)) at('path', `${JSON.stringify(path)} is not under ${PACKAGES_DIR}/`);
  const sha256 = tryParseSha256(item['sha256']);
  if (sha256 === undefined) at('sha256', 'must be a sha256 digest');
  return {
    ...identity,
    variant,
    options,
    target,
    summary: descriptive.summary,
    homepage: descriptive.homepage,
    license: descriptive.license,
    depends: descriptive.depends,
    provides: descriptive.provides,
    needs: descriptive.needs,
    installedSize: expectInteger(item['installedSize'], 'installedSize', at),
    path,
    size: expectInteger(item['size'], 'size', at),
    sha256,
  };
}
