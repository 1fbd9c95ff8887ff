import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostLocator } from './hiddenHostFiles.js';
import { findHiddenHostFiles } from './hiddenHostFiles.js';

/** A host with zlib's development files and nothing else. */
const host: HostLocator = (kind, names) => {
  const files: Record<string, string> = {
    'zlib.h': '/usr/include/zlib.h',
    'libz.so': '/usr/lib/x86_64-linux-gnu/libz.so',
    'libz.a': '/usr/lib/x86_64-linux-gnu/libz.a',
    'zlib.pc': '/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc',
  };
  const suffix = kind === 'header' ? /\.h$/ : kind === 'library' ? /\.(so|a)$/ : /\.pc$/;
  return names
    .filter((name) => suffix.test(name))
    .map((name) => files[name])
    .find((path) => path !== undefined);
};

describe('findHiddenHostFiles', () => {
  it('reads what gcc, ld and pkg-config did not find, and keeps what the host has', () => {
    const log = [
      'main.c:2:10: fatal error: zlib.h: No such file or directory',
      'main.c:3:10: fatal error: png.h: No such file or directory',
      '/usr/bin/ld: cannot find -lz: No such file or directory',
      '/usr/bin/ld: cannot find -l:libz.a: No such file or directory',
      'Package zlib was not found in the pkg-config search path.',
      "Package 'zlib', required by 'virtual:world', not found",
      'main.c:2:10: fatal error: zlib.h: No such file or directory',
    ].join('\n');
    assert.deepEqual(findHiddenHostFiles(log, host), [
      { kind: 'header', asked: 'zlib.h', hostPath: '/usr/include/zlib.h' },
      { kind: 'library', asked: '-lz', hostPath: '/usr/lib/x86_64-linux-gnu/libz.so' },
      { kind: 'library', asked: '-l:libz.a', hostPath: '/usr/lib/x86_64-linux-gnu/libz.a' },
      { kind: 'pkg-config module', asked: 'zlib', hostPath: '/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc' },
    ]);
  });
  it('finds nothing in a failure that is not about a missing file', () => {
    assert.deepEqual(findHiddenHostFiles('main.c:1:1: error: expected identifier\nmake: *** [all] Error 1', host), []);
  });
});
