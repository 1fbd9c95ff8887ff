import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKilnError } from '../errors/index.js';
import type { BundleManifest } from './bundleManifest.js';
import { encodeFileLines, encodeInfo, parseBundleManifest, serializeBundleManifest } from './bundleManifest.js';

const SHA = 'a'.repeat(64);

function manifest(): BundleManifest {
  return {
    format: 'kiln-bundle',
    formatVersion: 1,
    created: '2026-12-04T12:00:00Z',
    placeholder: '/kiln-bundle-placeholder',
    room: 160,
    trimmed: ['dev', 'docs'],
    requires: {
      arch: 'x86_64',
      libc: 'glibc',
      libcVersion: '2.34',
      cpu: 'x86-64',
      loaders: ['/lib64/ld-linux-x86-64.so.2'],
    },
    packages: [{ name: 'nginx', version: '1.22.1', variant: '0123456789ab', options: { uwsgi: true } }],
    files: [
      { path: 'bin', type: 'dir', mode: 0o755, size: 0, package: 'nginx' },
      {
        path: 'bin/nginx',
        type: 'file',
        mode: 0o755,
        size: 100,
        sha256: SHA,
        package: 'nginx',
        relocation: { kind: 'binary', offsets: [3, 50], room: 160 },
      },
      {
        path: 'etc/my conf',
        type: 'file',
        mode: 0o644,
        size: 40,
        sha256: SHA,
        package: 'nginx',
        relocation: { kind: 'text', offsets: [0], room: 24 },
      },
      { path: 'lib/libz.so', type: 'symlink', mode: 0o777, size: 0, target: 'libz.so.1', package: 'zlib' },
    ],
  };
}

describe('bundle manifest', () => {
  it('round-trips, and gives the shell its lines', () => {
    const m = manifest();
    assert.deepEqual(parseBundleManifest(serializeBundleManifest(m), 'm.json'), m);
    const lines = encodeFileLines(m.files).split('\n');
    assert.equal(lines[0], 'd - 0755 - - - bin');
    assert.equal(lines[1], `b ${SHA} 0755 100 160 3,50 bin/nginx`);
    assert.equal(
      lines[2],
      `t ${SHA} 0644 40 24 0 etc/my conf`,
      'a blank inside a path is kept: the path is the last field',
    );
    assert.match(lines[3]!, /^l [0-9a-f]{64} - - - - lib\/libz.so$/);
    assert.match(
      encodeInfo(m),
      /^format 1\nplaceholder \/kiln-bundle-placeholder\nroom 160\n.*loader \/lib64\/ld-linux-x86-64.so.2\n$/s,
    );
  });

  it('refuses what a damaged or hostile manifest holds, naming the field', () => {
    const cases: [string, (m: Record<string, unknown> & BundleManifest) => void, RegExp][] = [
      [
        'a path out of the bundle',
        (m) => {
          m.files[1]!.path = '../../etc/passwd';
        },
        /files\[1\]\.path/,
      ],
      [
        'an absolute path',
        (m) => {
          m.files[1]!.path = '/etc/passwd';
        },
        /files\[1\]\.path is absolute/,
      ],
      [
        'a newline in a path',
        (m) => {
          m.files[1]!.path = 'bin/a\nb';
        },
        /files\[1\]\.path/,
      ],
      [
        'offsets out of order',
        (m) => {
          m.files[1]!.relocation!.offsets = [50, 3];
        },
        /offsets\[1\]/,
      ],
      [
        'an offset past the end',
        (m) => {
          m.files[1]!.relocation!.offsets = [3, 5000];
        },
        /offsets\[1\]/,
      ],
      [
        'a relocated directory',
        (m) => {
          m.files[0]!.relocation = { kind: 'text', offsets: [0], room: 1 };
        },
        /only for regular files/,
      ],
      [
        'a loader with a blank',
        (m) => {
          m.requires.loaders = ['/lib/ld x.so'];
        },
        /loaders\[0\]/,
      ],
      [
        'a placeholder with a quote',
        (m) => {
          m.placeholder = "/x'; rm -rf ~; '";
        },
        /placeholder/,
      ],
      [
        'another format',
        (m) => {
          m.format = 'conda' as 'kiln-bundle';
        },
        /format/,
      ],
      [
        'an unknown field',
        (m) => {
          m['extra'] = 1;
        },
        /extra is not a known field/,
      ],
    ];
    for (const [what, mutate, pattern] of cases) {
      const m = structuredClone(manifest()) as Record<string, unknown> & BundleManifest;
      mutate(m);
      assert.throws(
        () => parseBundleManifest(serializeBundleManifest(m), 'm.json'),
        (e) => isKilnError(e, 'E_BUNDLE') && pattern.test(e.message),
        what,
      );
    }
    assert.throws(
      () => parseBundleManifest('{"format": ', 'm.json'),
      (e) => isKilnError(e, 'E_BUNDLE') && /not JSON/.test(e.message),
    );
  });
});
