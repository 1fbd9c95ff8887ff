import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKilnError } from '../errors/index.js';
import type { PackageMetadata } from './metadata.js';
import {
  computeVariantId,
  formatMode,
  packageFileName,
  parsePackageMetadata,
  payloadTarSize,
  serializeEntry,
  serializeMetadata,
} from './metadata.js';
import { stableStringify } from '../util/json.js';
import { seededRandom } from '../util/seededRandom.js';
import { TAR_END, encodeTarHeader, tarPadding } from './tar.js';
import { parsePackInput } from './packInput.js';

/** The value as JSON carries it: tables without a prototype (how Kiln keeps user-keyed tables) compare as plain objects. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const target = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' };

test('variant id: a stable hash of options and target, independent of key order', () => {
  // Pinned: changing how variant ids are computed changes every published package name.
  assert.equal(
    computeVariantId({ ssl: true, uwsgi: false }, target),
    computeVariantId(
      { uwsgi: false, ssl: true },
      { libcVersion: '2.17', libc: 'glibc', cpu: 'x86-64', arch: 'x86_64' },
    ),
  );
  assert.match(computeVariantId({}, target), /^[0-9a-f]{12}$/);
  assert.notEqual(computeVariantId({ ssl: true }, target), computeVariantId({ ssl: false }, target));
  assert.notEqual(computeVariantId({}, target), computeVariantId({}, { ...target, cpu: 'x86-64-v3' }));
  assert.notEqual(computeVariantId({}, target), computeVariantId({}, { ...target, libcVersion: '2.34' }));
});

test('formatMode: four octal digits', () => {
  assert.equal(formatMode(0o755), '0755');
  assert.equal(formatMode(0o4711), '04711');
  assert.equal(formatMode(0o7), '0007');
});

function sampleMetadata(): PackageMetadata {
  const files = [
    { path: 'bin', type: 'dir' as const, mode: 0o755, owner: 'root', group: 'root', size: 0 },
    {
      path: 'bin/a',
      type: 'file' as const,
      mode: 0o755,
      owner: 'root',
      group: 'root',
      size: 3,
      sha256: 'b'.repeat(64) as never,
    },
  ];
  return {
    format: 'kiln-package',
    formatVersion: 1,
    name: 'a',
    category: 'app-misc',
    version: '1.0',
    revision: 0,
    variant: computeVariantId({}, target),
    options: {},
    target,
    summary: 's',
    homepage: '',
    license: 'MIT',
    depends: [],
    provides: { sonames: [] },
    needs: { sonames: [] },
    users: [],
    groups: [],
    directories: [],
    files,
    relocation: null,
    payload: {
      compression: 'zstd',
      size: 10,
      sha256: 'c'.repeat(64) as never,
      uncompressedSize: payloadTarSize(files),
    },
    installedSize: 3,
  };
}

test('payloadTarSize: exactly the size of the tar the writer produces', () => {
  const meta = sampleMetadata();
  let size = TAR_END.length;
  for (const entry of meta.files) {
    size +=
      encodeTarHeader({
        path: entry.path,
        type: entry.type,
        mode: entry.mode,
        uname: entry.owner,
        gname: entry.group,
        size: entry.size,
        linkTarget: '',
      }).length +
      entry.size +
      tarPadding(entry.size);
  }
  assert.equal(payloadTarSize(meta.files), size);
});

test('metadata: round trip through canonical JSON', () => {
  const meta = sampleMetadata();
  const bytes = serializeMetadata(meta);
  const parsed = parsePackageMetadata(JSON.parse(bytes.toString()), 'x.kpkg');
  assert.deepEqual(plain(parsed), plain(meta));
  assert.ok(serializeMetadata(parsed).equals(bytes));
  assert.equal(packageFileName(meta), `a-1.0-${meta.variant}.kpkg`);
  assert.equal(packageFileName({ ...meta, revision: 2 }), `a-1.0-r2-${meta.variant}.kpkg`);
});

function rejects(mutate: (json: Record<string, unknown>) => void, code: string, pattern: RegExp): void {
  const json = JSON.parse(serializeMetadata(sampleMetadata()).toString()) as Record<string, unknown>;
  mutate(json);
  assert.throws(
    () => parsePackageMetadata(json, 'x.kpkg'),
    (error: unknown) =>
      isKilnError(error) && error.code === code && pattern.test(error.message) && error.message.includes('x.kpkg'),
  );
}

test('metadata: every field is checked', () => {
  rejects((j) => (j['surprise'] = 1), 'E_META', /surprise is not a known field/);
  rejects((j) => (j['formatVersion'] = 2), 'E_PACKAGE_FORMAT', /version 2 is not supported/);
  rejects((j) => (j['name'] = 'bad name'), 'E_META', /name/);
  rejects((j) => (j['name'] = 'foo-1'), 'E_META', /hyphen and a version/);
  rejects((j) => (j['name'] = 'foo-1-r2'), 'E_META', /hyphen and a version/);
  rejects((j) => (j['version'] = '1.0-r1'), 'E_META', /revision field/);
  rejects((j) => (j['version'] = 'v1'), 'E_META', /not a valid version/);
  rejects((j) => (j['license'] = 'MIT OR'), 'E_META', /SPDX/);
  rejects((j) => (j['variant'] = '000000000000'), 'E_META', /does not match the options and target/);
  rejects((j) => (j['options'] = { ssl: 'yes' }), 'E_META', /options.ssl must be true or false/);
  rejects((j) => (j['depends'] = [{ name: 'zlib', range: '>>1' }]), 'E_META', /invalid version range/);
  rejects((j) => (j['depends'] = ['zlib', 'zlib >=1']), 'E_META', /twice/);
  rejects((j) => ((j['files'] as Record<string, unknown>[])[1]!['mode'] = '755'), 'E_META', /octal mode/);
  rejects((j) => ((j['files'] as Record<string, unknown>[])[1]!['owner'] = 'Root!'), 'E_META', /user name/);
  rejects((j) => ((j['files'] as Record<string, unknown>[])[0]!['path'] = '/bin'), 'E_PACKAGE_PATH', /absolute/);
  rejects(
    (j) => ((j['payload'] as Record<string, unknown>)['uncompressedSize'] = 1),
    'E_META',
    /manifest makes a payload/,
  );
  rejects((j) => (j['installedSize'] = 4), 'E_META', /add up to 3/);
  rejects(
    (j) =>
      (j['relocation'] = { placeholder: '/opt/placeholder', files: [{ path: 'bin', kind: 'text', offsets: [0] }] }),
    'E_META',
    /not a regular file/,
  );
  rejects(
    (j) => (j['relocation'] = { placeholder: '/p/laceholder', files: [{ path: 'bin/a', kind: 'text', offsets: [0] }] }),
    'E_META',
    /past the end/,
  );
  rejects((j) => (j['users'] = [{ name: 'a' }, { name: 'a' }]), 'E_META', /twice/);
  rejects(
    (j) => (j['directories'] = [{ path: '../spool', owner: 'root', group: 'root', mode: '0755' }]),
    'E_META',
    /directories\[0\]\.path "\.\.\/spool" has a "\.\." component/,
  );
});

test('metadata: needs may say which sonames come from the host and which files need each; both are checked', () => {
  const meta = {
    ...sampleMetadata(),
    needs: {
      sonames: ['libz.so.1', 'libc.so.6'].sort(),
      system: ['libc.so.6'],
      files: { 'libz.so.1': ['bin/a'], 'libc.so.6': ['bin/a'] },
    },
  };
  const bytes = serializeMetadata(meta);
  assert.match(
    bytes.toString(),
    /"needs":\{"files":\{"libc\.so\.6":\["bin\/a"\],"libz\.so\.1":\["bin\/a"\]\},"sonames":\["libc\.so\.6","libz\.so\.1"\],"system":\["libc\.so\.6"\]\}/,
  );
  const parsed = parsePackageMetadata(JSON.parse(bytes.toString()), 'x.kpkg');
  assert.deepEqual(plain(parsed.needs), meta.needs);
  assert.ok(serializeMetadata(parsed).equals(bytes));
  const needs = (j: Record<string, unknown>): Record<string, unknown> => {
    const value = { sonames: ['libc.so.6'] };
    j['needs'] = value;
    return value;
  };
  rejects(
    (j) => (needs(j)['system'] = ['libz.so.1']),
    'E_META',
    /needs\.system names "libz\.so\.1", which is not in needs\.sonames/,
  );
  rejects(
    (j) => (needs(j)['files'] = { 'libz.so.1': ['bin/a'] }),
    'E_META',
    /needs\.files\.libz\.so\.1 is not in needs\.sonames/,
  );
  rejects(
    (j) => (needs(j)['files'] = { 'libc.so.6': ['bin'] }),
    'E_META',
    /needs\.files\.libc\.so\.6 names "bin", which is not a regular file of the package/,
  );
  rejects((j) => (needs(j)['files'] = { 'libc.so.6': [] }), 'E_META', /is empty/);
  rejects((j) => (needs(j)['files'] = { 'libc.so.6': ['../x'] }), 'E_META', /"\.\." component/);
  rejects((j) => (needs(j)['other'] = 1), 'E_META', /needs\.other is not a known field/);
});

test('pack input: needs.system allows host libraries whether needed or not; needs.files is found, not stated', () => {
  const input = { name: 'a', category: 'app-misc', version: '1.0', summary: 's', license: 'MIT', target };
  assert.deepEqual(parsePackInput({ ...input, needs: { system: ['libssl.so.3'] } }, 'in.json').needs, {
    sonames: [],
    system: ['libssl.so.3'],
  });
  assert.throws(
    () => parsePackInput({ ...input, needs: { files: {} } }, 'in.json'),
    /needs\.files is not a known field/,
  );
});

test('serializeEntry writes what stableStringify writes, for every combination of fields', () => {
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let i = 0; i < 2000; i++) {
    const entry: Record<string, unknown> = {
      path: pick(['a', 'dir/"quoted"', 'ü/é\\x', 'tab\there', 'x'.repeat(300)]),
      type: pick(['file', 'dir', 'symlink', 'hardlink']),
      mode: pick([0o644, 0o755, 0o4755, 0o1777, 0]),
      owner: pick(['root', 'www-data', '']),
      group: pick(['root', 'staff']),
      size: pick([0, 1, 123456789, 2 ** 40]),
    };
    if (random() < 0.5) entry['sha256'] = 'ab'.repeat(32);
    if (random() < 0.3) entry['target'] = pick(['t', '../"x"', 'ü']);
    if (random() < 0.3) entry['config'] = random() < 0.5;
    // Insertion order must not matter.
    const shuffled = Object.fromEntries(Object.entries(entry).sort(() => random() - 0.5));
    assert.equal(
      serializeEntry(shuffled as never),
      stableStringify({ ...entry, mode: formatMode(entry['mode'] as number) }),
    );
  }
  // An unknown key or an explicit undefined falls back to the general form.
  assert.equal(
    serializeEntry({ path: 'a', type: 'dir', mode: 0o755, owner: 'r', group: 'r', size: 0, extra: 1 } as never),
    '{"extra":1,"group":"r","mode":"0755","owner":"r","path":"a","size":0,"type":"dir"}',
  );
  assert.equal(
    serializeEntry({
      path: 'a',
      type: 'dir',
      mode: 0o755,
      owner: 'r',
      group: 'r',
      size: 0,
      sha256: undefined,
    } as never),
    '{"group":"r","mode":"0755","owner":"r","path":"a","size":0,"type":"dir"}',
  );
});
