import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKilnError } from '../errors/index.js';
import { computeVariantId } from '../format/index.js';
import type { IndexEntry, RepositoryIndex } from './indexFormat.js';
import { entryKey, indexTrustedComment, parseIndex, serialFromTrustedComment, serializeIndex } from './indexFormat.js';

const target = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' };

function entry(name: string, version: string, options: Record<string, boolean> = {}): IndexEntry {
  const variant = computeVariantId(options, target);
  return {
    name,
    category: 'dev-libs',
    version,
    revision: 0,
    variant,
    options,
    target,
    summary: `${name} library`,
    homepage: '',
    license: 'MIT',
    depends: [],
    provides: { sonames: [] },
    needs: { sonames: [] },
    installedSize: 10,
    path: `packages/dev-libs/${name}/${name}-${version}-${variant}.kpkg`,
    size: 100,
    sha256: 'a'.repeat(64) as never,
  };
}

function index(packages: IndexEntry[]): RepositoryIndex {
  return {
    format: 'kiln-index',
    formatVersion: 1,
    name: 'main',
    serial: 7,
    created: '2026-11-21T00:00:00Z',
    expires: '2026-12-21T00:00:00Z',
    keys: ['6B7BC42F2B3A01E0'],
    packages,
  };
}

test('index: round trip, sorted by name then version, one package per line', () => {
  const packages = [
    entry('zlib', '1.3.1'),
    entry('zlib', '1.2.13'),
    entry('expat', '2.5.0', { static: true }),
    entry('expat', '2.5.0', { static: false }),
  ];
  const bytes = serializeIndex(index(packages));
  const parsed = parseIndex(bytes, 'test');
  const [off, on] = [computeVariantId({ static: false }, target), computeVariantId({ static: true }, target)].sort();
  const plain = computeVariantId({}, target);
  assert.deepEqual(parsed.packages.map(entryKey), [
    `expat 2.5.0 ${off}`,
    `expat 2.5.0 ${on}`,
    `zlib 1.2.13 ${plain}`,
    `zlib 1.3.1 ${plain}`,
  ]);
  assert.equal(bytes.toString().split('\n').length, packages.length + 3);
  assert.ok(serializeIndex(parsed).equals(bytes));
});

function refused(
  packages: IndexEntry[],
  code: string,
  pattern: RegExp,
  mutate?: (json: Record<string, unknown>) => void,
): void {
  let bytes = serializeIndex(index(packages));
  if (mutate) {
    const json = JSON.parse(bytes.toString()) as Record<string, unknown>;
    mutate(json);
    bytes = Buffer.from(JSON.stringify(json));
  }
  assert.throws(
    () => parseIndex(bytes, 'repo/index.json'),
    (error: unknown) =>
      isKilnError(error) &&
      error.code === code &&
      pattern.test(error.message) &&
      error.message.includes('repo/index.json'),
  );
}

test('index: maxPrefix is kept when present and may be absent', () => {
  const parsed = parseIndex(
    serializeIndex(index([{ ...entry('nginx', '1.22.1'), maxPrefix: 160 }, entry('zlib', '1.3.1')])),
    'test',
  );
  assert.deepEqual(
    parsed.packages.map((p) => p.maxPrefix),
    [160, undefined],
  );
});

test('index: needs.system (the host libraries a package may use) is kept when present and may be absent', () => {
  const tls = { ...entry('tls', '1.0'), needs: { sonames: ['libc.so.6', 'libssl.so.3'], system: ['libc.so.6'] } };
  const parsed = parseIndex(serializeIndex(index([tls, entry('zlib', '1.3.1')])), 'test');
  assert.deepEqual(
    parsed.packages.map((p) => p.needs),
    [tls.needs, { sonames: [] }],
  );
  refused(
    [{ ...entry('zlib', '1.3.1'), needs: { sonames: [], system: ['libc.so.6'] } }],
    'E_INDEX_FORMAT',
    /needs\.system "libc\.so\.6" is not in needs\.sonames/,
  );
  refused(
    [entry('zlib', '1.3.1')],
    'E_INDEX_FORMAT',
    /provides\.system is not a known field/,
    (j) => ((j['packages'] as Record<string, Record<string, unknown>>[])[0]!['provides']!['system'] = []),
  );
  refused(
    [entry('zlib', '1.3.1')],
    'E_INDEX_FORMAT',
    /needs\.files is not a known field/,
    (j) => ((j['packages'] as Record<string, Record<string, unknown>>[])[0]!['needs']!['files'] = {}),
  );
});

test('index: refuses duplicates, unsafe paths and inconsistent entries', () => {
  refused([entry('zlib', '1.3.1'), entry('zlib', '1.3.1')], 'E_INDEX_DUPLICATE', /listed twice/);
  refused(
    [entry('zlib', '1.3.1'), { ...entry('zlib', '1.3'), path: entry('zlib', '1.3.1').path }],
    'E_INDEX_DUPLICATE',
    /listed twice/,
  );
  refused(
    [entry('zlib', '1.3.1'), { ...entry('zlib', '1.3'), category: 'sys-libs' }],
    'E_INDEX_DUPLICATE',
    /two categories/,
  );
  refused([{ ...entry('zlib', '1.3.1'), path: 'packages/../../etc/passwd' }], 'E_INDEX_FORMAT', /\.\./);
  refused([{ ...entry('zlib', '1.3.1'), path: '/etc/passwd' }], 'E_INDEX_FORMAT', /absolute/);
  refused([{ ...entry('zlib', '1.3.1'), path: 'keys/x.pub' }], 'E_INDEX_FORMAT', /not under packages/);
  refused([{ ...entry('zlib', '1.3.1'), variant: '0123456789ab' }], 'E_INDEX_FORMAT', /does not match/);
  refused([{ ...entry('zlib', '1.3.1'), sha256: 'nope' as never }], 'E_INDEX_FORMAT', /sha256/);
  refused(
    [{ ...entry('zlib', '1.3.1'), maxPrefix: 0 }],
    'E_INDEX_FORMAT',
    /maxPrefix must be an integer from 1 to 4096/,
  );
  refused([{ ...entry('zlib', '1.3.1'), maxPrefix: 1.5 }], 'E_INDEX_FORMAT', /maxPrefix/);
  refused([], 'E_INDEX_FORMAT', /version 2 is not supported/, (j) => (j['formatVersion'] = 2));
  refused([], 'E_INDEX_FORMAT', /serial/, (j) => (j['serial'] = 0));
  refused([], 'E_INDEX_FORMAT', /expires/, (j) => (j['expires'] = 'tomorrow'));
  assert.throws(
    () => parseIndex(serializeIndex(index([entry('zlib', '1.3.1')])).subarray(0, 200), 'cut'),
    (error: unknown) => isKilnError(error, 'E_INDEX_FORMAT') && /not valid JSON/.test(error.message),
  );
});

test('index: the trusted comment carries the serial', () => {
  const comment = indexTrustedComment({ name: 'main', serial: 42 });
  assert.equal(comment, 'kiln index main serial 42');
  assert.equal(serialFromTrustedComment(comment), 42);
  assert.equal(serialFromTrustedComment('timestamp:1\tfile:index.json'), undefined);
});
