/**
 * The repository index, format v2 (docs/repository.md, "Index format v2"):
 * a small signed root that pins, by sha256 and size of their uncompressed
 * bytes, a name table (one line per package name: the pin of that name's
 * shard, and its newest version, variant and summary) and deltas of that
 * table from recent serials. Each shard holds every entry of one name, in
 * the v1 entry form. Every pinned file is immutable and content-addressed:
 * `v2/KIND/HH/SHA256.zst` (zstd of the pinned bytes).
 *
 * A client fetches the root and the name table (or only a delta, when it
 * has the previous table) at sync, and a shard only when a plan visits its
 * name. The root's serial and expiry carry rollback and freeze protection as
 * v1's do; the root pins every byte below it, so nothing can be mixed in.
 */
import { KilnError } from '../errors/index.js';
import { fullVersion } from '../format/fullVersion.js';
import { NAME_PATTERN } from '../format/metadata.js';
import type { Sha256 } from '../util/hash.js';
import { sha256, tryParseSha256 } from '../util/hash.js';
import { stableStringify } from '../util/json.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectInteger, expectObject, expectString, isRecord, join } from '../util/shape.js';
import { ZstdDataError, compressOnce, decompressBounded, decompressLimited } from '../util/zstd.js';
import { compareVersions } from '../version/compareVersions.js';
import type { IndexEntry } from './indexFormat.js';
import {
  INDEX_FORMAT,
  KEY_ID_PATTERN,
  REPOSITORY_NAME_PATTERN,
  TIME_PATTERN,
  checkEntries,
  entryJson,
  parseIndexJson,
  sortEntries,
} from './indexFormat.js';
import { SNAPSHOT_DIR } from './layout.js';

export const INDEX_V2_VERSION = 2;
/** The current root, beside v1's `index.json`. */
export const ROOT_FILE = 'index.v2.json';
export const V2_DIR = 'v2';
export const SHARD_FORMAT = 'kiln-shard';
/** How many earlier serials a root offers a delta from. */
export const MAX_DELTAS = 8;
/** The largest pinned file a client will decompress: a name table of millions of names fits. */
export const MAX_PINNED_BYTES = 512 * 1024 * 1024;

/** The sha256 and size of the uncompressed bytes of a file a root pins. */
export interface Pin {
  sha256: Sha256;
  size: number;
}

export interface IndexRoot {
  format: typeof INDEX_FORMAT;
  formatVersion: typeof INDEX_V2_VERSION;
  name: string;
  serial: number;
  created: string;
  expires: string;
  keys: string[];
  /** How many entries (package files) the shards hold together. */
  packages: number;
  /** The name table, and how many names it has. */
  names: Pin & { count: number };
  /** Deltas that turn the name table of serial `from` into this one. */
  deltas: (Pin & { from: number })[];
  /** The soname table: which names provide each soname (for a missing library's hint). */
  provides: Pin;
  /** The advisories document (advisory/advisoryDocument.ts), when the repository publishes advisories. */
  advisories?: Pin;
}

export type PinnedKind = 'names' | 'deltas' | 'shards' | 'provides' | 'advisories';

/** Relative path of a pinned file under the published tree. */
export function pinnedPath(kind: PinnedKind, pin: Pick<Pin, 'sha256'>): string {
  return `${V2_DIR}/${kind}/${pin.sha256.slice(0, 2)}/${pin.sha256}.zst`;
}

/** Relative path of the snapshot of root `serial`. */
export function rootSnapshotPath(serial: number): string {
  return `${SNAPSHOT_DIR}/${serial}.v2.json`;
}

/** The trusted comment of a root's signature; not v1's, so neither can stand for the other. */
export function rootTrustedComment(root: Pick<IndexRoot, 'name' | 'serial'>): string {
  return `kiln index-v2 ${root.name} serial ${root.serial}`;
}

export function serialFromRootComment(comment: string): number | undefined {
  const match = /^kiln index-v2 \S+ serial (\d{1,15})$/.exec(comment);
  return match ? Number(match[1]) : undefined;
}

export function serializeRoot(root: IndexRoot): Buffer {
  return Buffer.from(`${stableStringify(root)}\n`, 'utf8');
}

const ROOT_KEYS = [
  'format',
  'formatVersion',
  'name',
  'serial',
  'created',
  'expires',
  'keys',
  'packages',
  'names',
  'deltas',
  'provides',
  'advisories',
];

function indexFail(context: string): Fail {
  return (where, problem) => {
    throw new KilnError('E_INDEX_FORMAT', `${context}: ${where} ${problem}`, {
      hint: 'the index was not written by a compatible Kiln',
    });
  };
}

export function parsePin(
  value: unknown,
  where: string,
  fail: Fail,
  extra: readonly string[],
): Pin & Record<string, unknown> {
  const pin = expectObject(value, where, fail, ['sha256', 'size', ...extra]);
  const digest = tryParseSha256(pin['sha256']);
  if (digest === undefined) return fail(`${where}.sha256`, 'must be a sha256 digest');
  return { ...pin, sha256: digest, size: expectInteger(pin['size'], `${where}.size`, fail, 0, MAX_PINNED_BYTES) };
}

/** Parse and check a root (its signature must already have been checked). */
export function parseRoot(bytes: Buffer, source: string): IndexRoot {
  const context = `cannot read repository index ${source}`;
  const fail = indexFail(context);
  const json = parseIndexJson(bytes, context);
  if (isRecord(json) && json['format'] === INDEX_FORMAT && json['formatVersion'] !== INDEX_V2_VERSION)
    fail('formatVersion', `is ${String(json['formatVersion'])}, not ${INDEX_V2_VERSION}`);
  const root = expectObject(json, '(top level)', fail, ROOT_KEYS);
  if (root['format'] !== INDEX_FORMAT) fail('format', `must be "${INDEX_FORMAT}"`);
  const names = parsePin(root['names'], 'names', fail, ['count']);
  const deltas = expectArray(root['deltas'], 'deltas', fail).map((value, i) => {
    const pin = parsePin(value, join('deltas', i), fail, ['from']);
    return {
      sha256: pin.sha256,
      size: pin.size,
      from: expectInteger(pin['from'], `${join('deltas', i)}.from`, fail, 1),
    };
  });
  if (deltas.length > MAX_DELTAS) fail('deltas', `lists more than ${MAX_DELTAS}`);
  const serial = expectInteger(root['serial'], 'serial', fail, 1);
  if (deltas.some((delta) => delta.from >= serial)) fail('deltas', 'must come from earlier serials');
  return {
    format: INDEX_FORMAT,
    formatVersion: INDEX_V2_VERSION,
    name: expectString(root['name'], 'name', fail, REPOSITORY_NAME_PATTERN, 'a repository name'),
    serial,
    created: expectString(root['created'], 'created', fail, TIME_PATTERN, 'an ISO 8601 UTC time'),
    expires: expectString(root['expires'], 'expires', fail, TIME_PATTERN, 'an ISO 8601 UTC time'),
    keys: expectArray(root['keys'], 'keys', fail).map((key, i) =>
      expectString(key, join('keys', i), fail, KEY_ID_PATTERN, 'a key id (16 upper-case hex digits)'),
    ),
    packages: expectInteger(root['packages'], 'packages', fail, 0),
    names: {
      sha256: names.sha256,
      size: names.size,
      count: expectInteger(names['count'], 'names.count', fail, 0),
    },
    deltas,
    provides: (({ sha256: digest, size }) => ({ sha256: digest, size }))(
      parsePin(root['provides'], 'provides', fail, []),
    ),
    ...(root['advisories'] === undefined
      ? {}
      : {
          advisories: (({ sha256: digest, size }) => ({ sha256: digest, size }))(
            parsePin(root['advisories'], 'advisories', fail, []),
          ),
        }),
  };
}

// ---- the soname table ----

/** `SONAME\tNAME NAME…` lines, sorted by soname: which names provide each soname. */
export function encodeProvides(entries: readonly IndexEntry[]): string {
  const providers = new Map<string, Set<string>>();
  for (const entry of entries)
    for (const soname of entry.provides.sonames) {
      const names = providers.get(soname) ?? new Set<string>();
      names.add(entry.name);
      providers.set(soname, names);
    }
  return [...providers.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((soname) => `${soname}\t${[...providers.get(soname)!].sort().join(' ')}\n`)
    .join('');
}

/** The names that provide each of `sonames`, from a soname table. */
export function providersIn(text: string, sonames: ReadonlySet<string>, source: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const names = line.slice(tab + 1).split(' ');
    if (tab < 1 || names.some((name) => !NAME_PATTERN.test(name)))
      throw new KilnError(
        'E_INDEX_FORMAT',
        `cannot read the soname table ${source}: ${JSON.stringify(line.slice(0, 80))} is not a line of it`,
        {
          hint: 'the index was not written by a compatible Kiln',
        },
      );
    const soname = line.slice(0, tab);
    if (sonames.has(soname)) found.set(soname, names);
  }
  return found;
}

// ---- the name table ----

/** One line of the name table. */
export interface NameRow {
  name: string;
  /** The pin of the name's shard. */
  shard: Pin;
  /** Newest full version, its variant and summary: what `kiln search` and `kiln list --available` show. */
  version: string;
  variant: string;
  summary: string;
}

function rowLine(row: NameRow): string {
  return `${row.name}\t${row.shard.sha256}\t${row.shard.size}\t${row.version}\t${row.variant}\t${row.summary.replace(/\t/g, ' ')}`;
}

/** The table's text: one line per name, sorted by name, each ending in a newline. */
export function encodeNameTable(rows: readonly NameRow[]): string {
  let text = '';
  for (const row of [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
    text += `${rowLine(row)}\n`;
  return text;
}

const SIZE_PATTERN = /^(0|[1-9][0-9]{0,9})$/;
const FIELD_PATTERN = /^[^\t\n\r]+$/;

/**
 * Parse a name table: lines of six tab-separated fields, names sorted and
 * unique. Only the shard pin is used for trust (the shard is checked against
 * it); the other fields are what queries show.
 */
export function parseNameTable(text: string, source: string): Map<string, NameRow> {
  const fail = indexFail(`cannot read the name table ${source}`);
  const rows = new Map<string, NameRow>();
  if (text !== '' && !text.endsWith('\n')) fail('(end)', 'is not a complete line');
  let previous = '';
  let start = 0;
  let line = 0;
  while (start < text.length) {
    line++;
    const end = text.indexOf('\n', start);
    const row = parseRow(text.slice(start, end), line, fail);
    start = end + 1;
    if (row.name <= previous) fail(`line ${line}`, `${row.name} is out of order or listed twice`);
    previous = row.name;
    rows.set(row.name, row);
  }
  return rows;
}

/**
 * One line of a name table, with the rules parseRow checks (a name, a sha256, a
 * size, three non-empty fields): for checking a table whole without making a
 * row of each line (`checkNameTable`).
 */
const TABLE_LINE = new RegExp(
  `(?:${NAME_PATTERN.source.slice(1, -1)})\t[0-9a-f]{64}\t(?:${SIZE_PATTERN.source.slice(1, -1)})(?:\t[^\t\n\r]+){3}\n`,
  'y',
);

/**
 * Check a name table as `parseNameTable` does, and count its lines, without
 * making a row of each: what a sync needs of a table fetched whole. A line
 * that is not one says why, in parseRow's words.
 */
export function checkNameTable(text: string, source: string): number {
  const fail = indexFail(`cannot read the name table ${source}`);
  if (text !== '' && !text.endsWith('\n')) fail('(end)', 'is not a complete line');
  let previous = '';
  let line = 0;
  for (let start = 0; start < text.length; start = TABLE_LINE.lastIndex) {
    line++;
    TABLE_LINE.lastIndex = start;
    if (!TABLE_LINE.test(text)) {
      parseRow(text.slice(start, text.indexOf('\n', start)), line, fail);
      fail(`line ${line}`, 'is not a line of a name table');
    }
    const name = text.slice(start, text.indexOf('\t', start));
    if (name <= previous) fail(`line ${line}`, `${name} is out of order or listed twice`);
    previous = name;
  }
  return line;
}

function parseRow(text: string, line: number, fail: Fail): NameRow {
  const fields = text.split('\t');
  const where = `line ${line}`;
  if (fields.length !== 6) fail(where, 'must have six tab-separated fields');
  const [name, digest, size, version, variant, summary] = fields as [string, string, string, string, string, string];
  if (!NAME_PATTERN.test(name)) fail(where, `${JSON.stringify(name)} is not a package name`);
  const sha = tryParseSha256(digest);
  if (sha === undefined) fail(where, 'has no sha256 digest');
  if (!SIZE_PATTERN.test(size)) fail(where, 'has no size');
  if (!FIELD_PATTERN.test(version) || !FIELD_PATTERN.test(variant) || !FIELD_PATTERN.test(summary))
    fail(where, 'has an empty field');
  return { name, shard: { sha256: sha as Sha256, size: Number(size) }, version, variant, summary };
}

/**
 * A name table read by lookup: a name is found by binary search over the
 * sorted lines and only its line is parsed, so a plan that visits 50 names of
 * a million pays for 50 (plus one pass to find where lines start). For a table
 * already checked whole (`parseNameTable`) at sync; iterating parses it all.
 */
export class NameTable {
  private readonly starts: number[];
  private whole: Map<string, NameRow> | undefined;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {
    this.starts = lineStarts(text);
  }

  get size(): number {
    return this.starts.length;
  }

  get(name: string): NameRow | undefined {
    if (this.whole !== undefined) return this.whole.get(name);
    let low = 0;
    let high = this.starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const start = this.starts[middle]!;
      const key = this.text.slice(start, this.text.indexOf('\t', start));
      if (key === name) {
        const end = this.text.indexOf('\n', start);
        return parseRow(
          this.text.slice(start, end === -1 ? undefined : end),
          middle + 1,
          indexFail(`cannot read the name table ${this.source}`),
        );
      }
      if (key < name) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  keys(): IterableIterator<string> {
    return this.all().keys();
  }

  values(): IterableIterator<NameRow> {
    return this.all().values();
  }

  private all(): Map<string, NameRow> {
    this.whole ??= parseNameTable(this.text, this.source);
    return this.whole;
  }
}

/** The rows of a name table for `entries` (any order), with the shard pin of each name. */
export function nameRows(shards: ReadonlyMap<string, { pin: Pin; entries: readonly IndexEntry[] }>): NameRow[] {
  const rows: NameRow[] = [];
  for (const [name, { pin, entries }] of shards) {
    let newest = entries[0]!;
    for (const entry of entries) if (compareVersions(fullVersion(entry), fullVersion(newest)) > 0) newest = entry;
    rows.push({ name, shard: pin, version: fullVersion(newest), variant: newest.variant, summary: newest.summary });
  }
  return rows;
}

// ---- deltas ----

/** The lines keyed by name (the text before the first tab). */
function linesByName(text: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of text.split('\n')) if (line !== '') lines.set(line.slice(0, line.indexOf('\t')), line);
  return lines;
}

/**
 * A delta from table `from` to table `to`: `+LINE` for a line new or changed
 * in `to`, `-NAME` for a name `to` no longer has; sorted by name.
 */
export function diffNameTables(from: string, to: string): string {
  const old = linesByName(from);
  const changes: [string, string][] = [];
  for (const [name, line] of linesByName(to)) {
    if (old.get(name) !== line) changes.push([name, `+${line}`]);
    old.delete(name);
  }
  for (const name of old.keys()) changes.push([name, `-${name}`]);
  changes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return changes.map(([, change]) => `${change}\n`).join('');
}

/** Where each line of `text` starts. */
function lineStarts(text: string): number[] {
  const starts: number[] = [];
  for (let at = 0; at < text.length; ) {
    starts.push(at);
    const end = text.indexOf('\n', at);
    at = end === -1 ? text.length : end + 1;
  }
  return starts;
}

/**
 * Apply a delta to a table's text; the caller checks the result against the
 * root's pin. Both are sorted by name, so the result is the table's runs of
 * unchanged lines, copied whole, with the delta's lines between them: a delta
 * of 100 names costs 100 binary searches, not a map of every line. Each new
 * line is checked as `parseNameTable` checks it; the unchanged ones were
 * checked when the table they come from was accepted.
 */
export function applyDelta(table: string, delta: string, source: string): string {
  const fail = indexFail(`cannot apply the name table delta ${source}`);
  const starts = lineStarts(table);
  const nameAt = (index: number): string => table.slice(starts[index]!, table.indexOf('\t', starts[index]!));
  const parts: string[] = [];
  let next = 0; // the first table line not yet copied or dropped
  let previous = '';
  let line = 0;
  for (const change of delta.split('\n')) {
    if (change === '') continue;
    line++;
    const adding = change.startsWith('+') && change.includes('\t');
    if (!adding && !(change.startsWith('-') && change.length > 1 && !change.includes('\t')))
      fail('(line)', `${JSON.stringify(change.slice(0, 80))} is not a change`);
    const name = adding ? change.slice(1, change.indexOf('\t')) : change.slice(1);
    if (name <= previous) fail(`line ${line}`, `${JSON.stringify(name.slice(0, 80))} is out of order or listed twice`);
    previous = name;
    // The first line at or after `name`, by binary search over the lines not yet copied.
    let low = next;
    let high = starts.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (nameAt(middle) < name) low = middle + 1;
      else high = middle;
    }
    if (low > next) parts.push(table.slice(starts[next]!, starts[low]));
    next = low < starts.length && nameAt(low) === name ? low + 1 : low;
    if (adding) {
      parseRow(change.slice(1), line, fail);
      parts.push(`${change.slice(1)}\n`);
    }
  }
  if (next < starts.length) parts.push(table.slice(starts[next]!));
  return parts.join('');
}

/** The number of lines of a table's text (each ends in a newline). */
export function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/**
 * Of a checked name table, the search list's rows: name, version, variant and
 * summary (the table's fields without the shard pin), from the text without
 * parsing it into rows. One regular expression over the whole text: 11 ms for
 * 20,000 names where a loop of slices took 27 ms on its first (unoptimised) run.
 */
export function searchRowsOf(table: string): string {
  const rows = table.replace(/^([^\t\n]*)\t[^\t\n]*\t[^\t\n]*/gm, '$1');
  return rows.endsWith('\n') ? rows.slice(0, -1) : rows;
}

/** Of a checked name table, the sha256 of every shard it pins. */
export function shardDigestsOf(table: string): Set<string> {
  const digests = new Set<string>();
  for (const start of lineStarts(table)) {
    const first = table.indexOf('\t', start);
    digests.add(table.slice(first + 1, table.indexOf('\t', first + 1)));
  }
  return digests;
}

// ---- shards ----

/** The bytes of the shard of `name`: every entry of that name, in index order. */
export function encodeShard(name: string, entries: readonly IndexEntry[]): Buffer {
  const lines = sortEntries(entries).map(entryJson);
  return Buffer.from(
    `{"format":"${SHARD_FORMAT}","formatVersion":${INDEX_V2_VERSION},"name":${JSON.stringify(name)},"packages":[\n${lines.join(',\n')}\n]}\n`,
  );
}

/** Parse and check the shard of `name` (its bytes already checked against their pin). */
export function parseShard(bytes: Buffer, name: string, source: string): IndexEntry[] {
  const context = `cannot read the index shard of ${name} ${source}`;
  const fail = indexFail(context);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return fail('(file)', 'is not JSON');
  }
  const shard = expectObject(json, '(top level)', fail, ['format', 'formatVersion', 'name', 'packages']);
  if (shard['format'] !== SHARD_FORMAT || shard['formatVersion'] !== INDEX_V2_VERSION)
    fail('format', `must be "${SHARD_FORMAT}" version ${INDEX_V2_VERSION}`);
  if (shard['name'] !== name) fail('name', `must be ${name}`);
  const items = expectArray(shard['packages'], 'packages', fail);
  if (items.length === 0) fail('packages', 'must not be empty');
  const entries = checkEntries(items, fail, context);
  for (const entry of entries) if (entry.name !== name) fail('packages', `holds ${entry.name}, not only ${name}`);
  return entries;
}

// ---- pinned files ----

/** The pin of `bytes` and their published (compressed) form. */
export function pinned(bytes: Buffer): { pin: Pin; compressed: Buffer } {
  return { pin: { sha256: sha256(bytes), size: bytes.length }, compressed: compressOnce(bytes, 12) };
}

/**
 * Pinned files up to this size are decompressed in one call into a buffer of
 * their pinned size; larger ones (a name table of a huge repository) through
 * the stream decoder, so that memory follows what the data really holds, not
 * what a root claims.
 */
const ONE_CALL_LIMIT = 8 * 1024 * 1024;

/**
 * Decompress a fetched pinned file and check it against its pin: never more
 * than the pinned size is decompressed (a bomb stops there), and the bytes
 * must hash to the pinned sha256.
 * @throws KilnError `E_INDEX_MISMATCH` when they do not.
 */
export function openPinned(compressed: Uint8Array, pin: Pin, source: string): Buffer {
  const mismatch = (problem: string): never => {
    throw new KilnError('E_INDEX_MISMATCH', `cannot accept ${source}: ${problem}`, {
      hint: 'the file is not the one the signed index pins (damaged, altered or from another commit); run "kiln sync" and try again',
    });
  };
  let out: Buffer | undefined;
  try {
    out =
      pin.size <= ONE_CALL_LIMIT ? decompressBounded(compressed, pin.size) : decompressLimited(compressed, pin.size);
  } catch (error) {
    if (error instanceof ZstdDataError) return mismatch(`it is not valid zstd data (${error.message})`);
    throw error;
  }
  if (out === undefined) return mismatch(`it holds more than the ${pin.size} bytes pinned`);
  if (out.length !== pin.size) mismatch(`it holds ${out.length} bytes, not the ${pin.size} pinned`);
  if (sha256(out) !== pin.sha256) mismatch(`its sha256 is not the ${pin.sha256} pinned`);
  return out;
}
