import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKilnError } from '../errors/index.js';
import { assertSafeManifest, linkEscapes, pathProblem } from './manifestSafety.js';
import type { ManifestEntry } from './metadata.js';

const PATH_CASES: [string, string | undefined][] = [
  ['usr/bin/env', undefined],
  ['a', undefined],
  ['weird name with spaces/ü', undefined],
  ['', 'is empty'],
  ['/etc/passwd', 'is absolute'],
  ['../etc/passwd', 'has a ".." component'],
  ['usr/../../etc', 'has a ".." component'],
  ['usr/./bin', 'has a "." component'],
  ['usr//bin', 'has an empty component (a doubled or trailing "/")'],
  ['usr/bin/', 'has an empty component (a doubled or trailing "/")'],
  ['usr/bin\nx', 'contains a control character'],
  ['nul\u0000byte', 'contains a control character'],
  [`${'a'.repeat(256)}`, 'has a component longer than 255 bytes'],
  [`${'abc/'.repeat(1100)}x`, 'is longer than 4094 bytes'],
  [`${'a'.repeat(200)}/`.repeat(20) + 'b'.repeat(4095 - 201 * 20), 'is longer than 4094 bytes'],
  ['usr/bin/\u009b31mred', 'contains a control character'],
  ['usr/\u0085next', 'contains a control character'],
  ['usr/\u007fdel', 'contains a control character'],
  [
    'usr/bin/evil\u202egnp.exe',
    'contains a line separator or a bidirectional control, which would make it display as another path',
  ],
  [
    'usr/\u2066x\u2069',
    'contains a line separator or a bidirectional control, which would make it display as another path',
  ],
  [
    'usr/line\u2028sep',
    'contains a line separator or a bidirectional control, which would make it display as another path',
  ],
  [`${'a'.repeat(200)}/`.repeat(20) + 'b'.repeat(4094 - 201 * 20), undefined],
  ['usr/bin/caf\u00e9', undefined],
];

test('pathProblem: canonical relative paths only', () => {
  for (const [path, expected] of PATH_CASES)
    assert.equal(pathProblem(path), expected, JSON.stringify(path.slice(0, 40)));
});

const LINK_CASES: [string, string, [string, string][], string | undefined][] = [
  ['usr/bin/python', 'python3', [], undefined],
  ['usr/bin/python', '../lib/python3/bin/python', [], undefined],
  ['lib/libz.so', 'libz.so.1', [], undefined],
  ['a', '.', [], undefined],
  ['usr/bin/x', '../../../etc/passwd', [], 'points outside the package tree'],
  ['x', '..', [], 'points outside the package tree'],
  ['usr/bin/x', '/etc/passwd', [], 'is absolute'],
  ['usr/bin/x', '', [], 'is empty'],
  // usr/up -> .. resolves to the root; going through it and up once more escapes.
  ['usr/bin/x', '../up/..', [['usr/up', '..']], 'points outside the package tree'],
  ['usr/bin/x', '../up/lib', [['usr/up', '..']], undefined],
  // A link through a link to an absolute target.
  ['usr/bin/x', '../abs/y', [['usr/abs', '/tmp']], 'passes through usr/abs, an absolute link'],
  [
    'loop1',
    'loop2',
    [
      ['loop1', 'loop2'],
      ['loop2', 'loop1'],
    ],
    'resolves through too many links (a loop?)',
  ],
];

test("linkEscapes: resolves through the package's own links", () => {
  for (const [path, target, links, expected] of LINK_CASES) {
    assert.equal(linkEscapes(path, target, new Map(links)), expected, `${path} -> ${target}`);
  }
});

const dir = (path: string): ManifestEntry => ({
  path,
  type: 'dir',
  mode: 0o755,
  owner: 'root',
  group: 'root',
  size: 0,
});
const file = (path: string): ManifestEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  owner: 'root',
  group: 'root',
  size: 1,
  sha256: 'a'.repeat(64) as never,
});
const link = (path: string, target: string, type: 'symlink' | 'hardlink' = 'symlink'): ManifestEntry => ({
  path,
  type,
  mode: 0o777,
  owner: 'root',
  group: 'root',
  size: 0,
  target,
});

function refused(entries: ManifestEntry[], code: string, pattern: RegExp): void {
  assert.throws(
    () => assertSafeManifest(entries, 'cannot read test.kpkg'),
    (error: unknown) =>
      isKilnError(error) &&
      error.code === code &&
      pattern.test(error.message) &&
      error.message.startsWith('cannot read test.kpkg'),
  );
}

test('assertSafeManifest: accepts a well-formed manifest', () => {
  assertSafeManifest(
    [
      dir('bin'),
      file('bin/a'),
      link('bin/b', 'a'),
      link('bin/c', 'bin/a', 'hardlink'),
      dir('lib'),
      link('lib/up', '../bin'),
    ],
    'x',
  );
});

test('assertSafeManifest: refuses duplicates, orphans, entries under links, and bad hard links', () => {
  refused([dir('bin'), file('bin/a'), file('bin/a')], 'E_PACKAGE_DUPLICATE', /listed twice/);
  refused([file('bin/a')], 'E_PACKAGE_PATH', /not in the package/);
  refused([link('bin', '/tmp'), file('bin/a')], 'E_PACKAGE_LINK', /absolute|symlink/);
  refused([link('bin', 'lib'), dir('lib'), file('bin/a')], 'E_PACKAGE_PATH', /is a symlink, not a directory/);
  refused([file('a'), file('a/b')], 'E_PACKAGE_PATH', /is a file, not a directory/);
  refused([file('a'), link('b', '../etc/passwd', 'hardlink')], 'E_PACKAGE_LINK', /hard link/);
  refused([link('b', 'a', 'hardlink'), file('a')], 'E_PACKAGE_LINK', /comes after the link/);
  refused([dir('d'), link('b', 'd', 'hardlink')], 'E_PACKAGE_LINK', /target is a dir/);
  refused([file('a'), link('b', 'missing', 'hardlink')], 'E_PACKAGE_LINK', /not in the package/);
  refused([file('../x')], 'E_PACKAGE_PATH', /\.\./);
});
