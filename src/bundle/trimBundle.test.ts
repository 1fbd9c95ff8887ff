import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trimClass } from './trimBundle.js';

describe('trimClass', () => {
  it('sorts build-only files, documentation and runtime files', () => {
    const cases: [string, string | undefined][] = [
      ['include', 'dev'],
      ['include/zlib.h', 'dev'],
      ['lib/libz.a', 'dev'],
      ['lib64/libpcre2-8.la', 'dev'],
      ['lib/pkgconfig/zlib.pc', 'dev'],
      ['share/pkgconfig/x.pc', 'dev'],
      ['lib/cmake/expat/expat-config.cmake', 'dev'],
      ['share/aclocal/x.m4', 'dev'],
      ['share/man/man8/nginx.8', 'docs'],
      ['share/doc/pcre2/README', 'docs'],
      ['share/info/x.info', 'docs'],
      ['lib/libz.so.1', undefined],
      ['lib/libz.so', undefined],
      ['bin/nginx', undefined],
      ['lib/python3.11/os.py', undefined],
      ['lib/python3.11/config-3.11/libpython3.11.a', 'dev'],
      ['share/nginx/html/index.html', undefined],
      ['includes/x', undefined],
    ];
    for (const [path, expected] of cases) assert.equal(trimClass(path), expected, path);
  });
});
