import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sha256 } from '../util/hash.js';
import { sha256 } from '../util/hash.js';
import type { IndexEntry } from './indexFormat.js';
import type { IndexRoot, NameRow } from './indexV2.js';
import {
  applyDelta,
  checkNameTable,
  countLines,
  diffNameTables,
  encodeNameTable,
  encodeProvides,
  NameTable,
  encodeShard,
  openPinned,
  parseNameTable,
  parseRoot,
  parseShard,
  pinned,
  providersIn,
  searchRowsOf,
  serializeRoot,
  shardDigestsOf,
} from './indexV2.js';
import { seededRandom } from '../util/seededRandom.js';
import { isKilnError } from '../errors/index.js';
import { computeVariantId } from '../format/metadata.js';

const DIGEST = 'a'.repeat(64) as Sha256;

const TARGET = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' } as const;

function entry(name: string, version: string): IndexEntry {
  return {
    name,
    category: 'app-misc',
    version,
    revision: 0,
    variant: computeVariantId({}, TARGET),
    options: {},
    target: TARGET,
    summary: `The ${name} package`,
    homepage: 'https://example.org/',
    license: 'MIT',
    depends: [{ name: 'zlib', range: '>=1.2' }],
    provides: { sonames: [] },
    needs: { sonames: [] },
    installedSize: 10,
    path: `packages/app-misc/${name}/${name}-${version}.kpkg`,
    size: 100,
    sha256: DIGEST,
  };
}

function row(name: string, version: string, summary = `about ${name}`): NameRow {
  return { name, shard: { sha256: sha256(name), size: name.length }, version, variant: 'v', summary };
}

const root: IndexRoot = {
  format: 'kiln-index',
  formatVersion: 2,
  name: 'main',
  serial: 9,
  created: '2026-12-01T00:00:00Z',
  expires: '2026-12-31T00:00:00Z',
  keys: ['0123456789ABCDEF'],
  packages: 3,
  names: { sha256: DIGEST, size: 12, count: 2 },
  deltas: [{ from: 8, sha256: DIGEST, size: 4 }],
  provides: { sha256: DIGEST, size: 0 },
};

test('a root round-trips, and a root with a delta from a later serial or a v1 version is refused', () => {
  assert.deepEqual(parseRoot(serializeRoot(root), 'r'), root);
  const bad = (value: unknown) => Buffer.from(JSON.stringify(value));
  assert.throws(() => parseRoot(bad({ ...root, deltas: [{ from: 9, sha256: DIGEST, size: 1 }] }), 'r'), /earlier/);
  assert.throws(() => parseRoot(bad({ ...root, formatVersion: 1 }), 'r'), /formatVersion is 1/);
  assert.throws(() => parseRoot(bad({ ...root, extra: 1 }), 'r'), /extra/);
  assert.throws(() => parseRoot(bad({ ...root, names: { ...root.names, sha256: 'x' } }), 'r'), /names.sha256/);
});

test('a name table round-trips sorted, with tabs in a summary made spaces', () => {
  const rows = [row('zeta', '2-r0'), row('alpha', '1.0-r1', 'has\ta tab')];
  const text = encodeNameTable(rows);
  assert.equal(text.split('\n')[0]?.split('\t')[0], 'alpha');
  const table = parseNameTable(text, 't');
  assert.deepEqual([...table.keys()], ['alpha', 'zeta']);
  assert.equal(table.get('alpha')?.summary, 'has a tab');
  assert.deepEqual(table.get('zeta'), rows[0]);
});

test('a name table out of order, with a duplicate, a bad digest or a missing newline is refused', () => {
  const good = encodeNameTable([row('a', '1-r0'), row('b', '1-r0')]);
  const lines = good.split('\n');
  for (const [text, pattern] of [
    [`${lines[1]}\n${lines[0]}\n`, /out of order/],
    [`${lines[0]}\n${lines[0]}\n`, /out of order or listed twice/],
    [good.replace(sha256('a'), 'nothex'), /sha256/],
    [good.slice(0, -1), /complete line/],
    ['a\tb\n', /six/],
    [good.replace('\t1\t', '\t01\t'), /size/],
    [good.replace('\t1\t', '\t12345678901\t'), /size/],
    [good.replace('\tv\t', '\t\t'), /empty field/],
    [good.replace('about a', 'about\ra'), /empty field/],
    [good.replace(sha256('a'), sha256('a').toUpperCase()), /sha256/],
    [good.replace('a\t', 'a b\t'), /not a package name/],
    [`${lines[0]}\textra\n`, /six/],
  ] as const)
    for (const check of [parseNameTable, checkNameTable])
      assert.throws(
        () => check(text, 't'),
        (error: unknown) => isKilnError(error, 'E_INDEX_FORMAT') && pattern.test(error.message),
        `${check.name}: ${JSON.stringify(text)}`,
      );
});

test('checkNameTable and parseNameTable agree on every table: random one-character changes of a good one', () => {
  const good = encodeNameTable([row('a', '1-r0'), row('b_2', '1.0-r3'), row('c+d', '7-r0')]);
  const random = seededRandom(1204);
  const alphabet = ['\t', '\n', '\r', ' ', 'a', 'Z', '0', '9', '+', '-', '_', '.', 'f', 'g', ''];
  let refused = 0;
  for (let round = 0; round < 3000; round++) {
    const at = Math.floor(random() * good.length);
    const text = good.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)]! + good.slice(at + 1);
    const outcome = (check: () => unknown): string => {
      try {
        check();
        return 'ok';
      } catch (error) {
        assert.ok(isKilnError(error, 'E_INDEX_FORMAT'), String(error));
        return 'refused';
      }
    };
    const parsed = outcome(() => parseNameTable(text, 't'));
    assert.equal(
      outcome(() => checkNameTable(text, 't')),
      parsed,
      JSON.stringify(text),
    );
    if (parsed === 'ok') assert.equal(checkNameTable(text, 't'), parseNameTable(text, 't').size);
    else refused++;
  }
  assert.ok(refused > 500 && refused < 3000, `${refused} of 3000 refused: the changes test both outcomes`);
});

test('a delta turns one table into the other: changes, additions and removals', () => {
  const from = encodeNameTable([row('a', '1-r0'), row('b', '1-r0'), row('c', '1-r0')]);
  const to = encodeNameTable([row('a', '1-r0'), row('b', '2-r0'), row('d', '1-r0')]);
  const delta = diffNameTables(from, to);
  assert.equal(delta.split('\n').filter(Boolean).length, 3, 'b changed, c removed, d added');
  assert.equal(applyDelta(from, delta, 'd'), to);
  assert.equal(applyDelta(from, diffNameTables(from, from), 'd'), from, 'an empty delta changes nothing');
  assert.throws(() => applyDelta(from, 'garbage\n', 'd'), /not a change/);
});

test('a delta applies by merging sorted runs: random tables, changes at both ends, an empty table', () => {
  const random = seededRandom(14);
  const names = Array.from({ length: 60 }, (_, i) => `n${String(i).padStart(2, '0')}`);
  const table = (keep: number, version: () => string): string =>
    encodeNameTable(names.filter(() => random() < keep).map((name) => row(name, version())));
  for (let round = 0; round < 200; round++) {
    const from = table(round % 10 === 0 ? 0 : 0.6, () => '1-r0');
    const to = table(round % 7 === 0 ? 0 : 0.6, () => (random() < 0.5 ? '1-r0' : '2-r0'));
    assert.equal(applyDelta(from, diffNameTables(from, to), 'd'), to, `round ${round}`);
  }
  const from = encodeNameTable([row('b', '1-r0'), row('d', '1-r0')]);
  const fail = (delta: string, pattern: RegExp) =>
    assert.throws(
      () => applyDelta(from, delta, 'd'),
      (error: unknown) => isKilnError(error, 'E_INDEX_FORMAT') && pattern.test(error.message),
      delta,
    );
  fail('-d\n-b\n', /out of order or listed twice/);
  fail('-b\n-b\n', /out of order or listed twice/);
  fail('-\n', /not a change/);
  // A new line is checked as parseNameTable checks one.
  fail('+c\tnot-a-digest\t1\t1-r0\tv\ts\n', /sha256/);
  fail('+c\tx\n', /six/);
});

test('the search rows, shard digests and line count of a table, read from its text', () => {
  const text = encodeNameTable([row('alpha', '1-r0'), row('beta', '2.1-r3')]);
  const rows = [...parseNameTable(text, 't').values()];
  assert.equal(searchRowsOf(text), rows.map((r) => `${r.name}\t${r.version}\t${r.variant}\t${r.summary}`).join('\n'));
  assert.deepEqual(shardDigestsOf(text), new Set(rows.map((r) => r.shard.sha256)));
  assert.equal(countLines(text), 2);
  assert.equal(countLines(''), 0);
  assert.equal(searchRowsOf(''), '');
});

test('a shard round-trips and holds only its own name', () => {
  const entries = [entry('tool', '2.0'), entry('tool', '1.0')];
  const bytes = encodeShard('tool', entries);
  const parsed = parseShard(bytes, 'tool', 's');
  assert.deepEqual(
    parsed.map((item) => item.version),
    ['1.0', '2.0'],
  );
  assert.throws(() => parseShard(bytes, 'other', 's'), /name must be other/);
  const mixed = encodeShard('tool', [entry('tool', '1.0'), { ...entry('other', '1.0') }]);
  assert.throws(() => parseShard(mixed, 'tool', 's'), /holds other/);
  assert.throws(() => parseShard(Buffer.from('{}'), 'tool', 's'), /E_INDEX_FORMAT|format/);
});

test('a pinned file opens only as the bytes its pin names', () => {
  const data = Buffer.from('hello pinned world\n'.repeat(100));
  const { pin, compressed } = pinned(data);
  assert.deepEqual(openPinned(compressed, pin, 'p'), data);
  const refuse = (pattern: RegExp) => (error: unknown) =>
    isKilnError(error, 'E_INDEX_MISMATCH') && pattern.test(error.message);
  assert.throws(() => openPinned(compressed, { ...pin, sha256: DIGEST }, 'p'), refuse(/sha256/));
  assert.throws(() => openPinned(compressed, { ...pin, size: pin.size - 1 }, 'p'), refuse(/more than/));
  assert.throws(() => openPinned(compressed, { ...pin, size: pin.size + 1 }, 'p'), refuse(/not the/));
  assert.throws(() => openPinned(Buffer.from('not zstd'), pin, 'p'), refuse(/zstd/));
  // Past the one-call size, the stream decoder: the same answers.
  const large = Buffer.alloc(9 * 1024 * 1024, 7);
  const big = pinned(large);
  assert.deepEqual(openPinned(big.compressed, big.pin, 'p'), large);
  assert.throws(() => openPinned(big.compressed, { ...big.pin, size: big.pin.size - 1 }, 'p'), refuse(/more than/));
  assert.throws(() => openPinned(big.compressed, { ...big.pin, size: big.pin.size + 1 }, 'p'), refuse(/not the/));
  assert.throws(() => openPinned(Buffer.from('not zstd at all'), big.pin, 'p'), refuse(/zstd/));
  // A bomb: a small frame of a gigabyte of zeros stops at the pinned size.
  const bomb = pinned(Buffer.alloc(64 * 1024 * 1024)).compressed;
  assert.throws(() => openPinned(bomb, { sha256: DIGEST, size: 1024 }, 'p'), refuse(/more than the 1024 bytes/));
});

test('the soname table names every provider of a soname', () => {
  const a = { ...entry('liba', '1.0'), provides: { sonames: ['liba.so.1', 'libc2.so'] } };
  const b = { ...entry('libb', '1.0'), provides: { sonames: ['libc2.so'] } };
  const text = encodeProvides([b, a, { ...a, version: '2.0' }]);
  assert.equal(text, 'liba.so.1\tliba\nlibc2.so\tliba libb\n');
  assert.deepEqual([...providersIn(text, new Set(['libc2.so', 'libnone.so']), 't')], [['libc2.so', ['liba', 'libb']]]);
  assert.throws(() => providersIn('x\t../evil\n', new Set(), 't'), /not a line/);
});

test('a name table read by lookup finds every name, and no other, as the whole parse does', () => {
  const rows = ['a', 'b-1x', 'c', 'zlib', 'zstd'].map((name) => row(name, '1-r0'));
  const text = encodeNameTable(rows);
  const table = new NameTable(text, 't');
  assert.equal(table.size, 5);
  for (const name of ['a', 'c', 'zstd', 'zlib', 'b-1x'])
    assert.deepEqual(table.get(name), parseNameTable(text, 't').get(name));
  for (const name of ['', 'b', 'zz', '0', 'zlib\t']) assert.equal(table.get(name), undefined, name);
  assert.deepEqual([...table.keys()], ['a', 'b-1x', 'c', 'zlib', 'zstd']);
  assert.equal(new NameTable('', 't').get('a'), undefined);
});
