import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LinkFacts } from '../elf/index.js';
import { linkMetadata } from './linkMetadata.js';

/** The value as JSON carries it: tables without a prototype (how Kiln keeps user-keyed tables) compare as plain objects. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const target = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' };
const none: LinkFacts = { provides: new Map(), needs: new Map(), libcVersion: '0' };

test('linkMetadata: a tree without ELF files keeps what the input states', () => {
  assert.deepEqual(plain(linkMetadata({ provides: { sonames: [] }, needs: { sonames: [] }, target }, none)), {
    provides: { sonames: [] },
    needs: { sonames: [] },
    target,
    notes: [],
  });
  const stated = linkMetadata(
    { provides: { sonames: ['libtool.so.1'] }, needs: { sonames: ['libz.so.1', 'libc.so.6'] }, target },
    none,
  );
  assert.deepEqual(stated.provides, { sonames: ['libtool.so.1'] });
  assert.deepEqual(plain(stated.needs), { sonames: ['libc.so.6', 'libz.so.1'], system: ['libc.so.6'], files: {} });
});

test('linkMetadata: what the files show joins what is stated; host libraries are the default ones and those the input allows', () => {
  const facts: LinkFacts = {
    provides: new Map([['libgreet.so.1', 'lib/libgreet.so.1']]),
    needs: new Map([
      ['libc.so.6', ['bin/greet', 'lib/libgreet.so.1']],
      ['libssl.so.3', ['bin/greet']],
      ['libtool.so.1', ['bin/greet']],
    ]),
    libcVersion: '2.34',
  };
  const result = linkMetadata(
    {
      provides: { sonames: ['libtool.so.1'] },
      needs: { sonames: ['libdl-plugin.so'], system: ['libssl.so.3', 'libcurl.so.4'] },
      target,
    },
    facts,
  );
  assert.deepEqual(result.provides, { sonames: ['libgreet.so.1', 'libtool.so.1'] });
  // libtool.so.1 is the package's own (stated), so no need; libcurl is allowed but not needed, so not recorded.
  assert.deepEqual(plain(result.needs), {
    sonames: ['libc.so.6', 'libdl-plugin.so', 'libssl.so.3'],
    system: ['libc.so.6', 'libssl.so.3'],
    files: { 'libc.so.6': ['bin/greet', 'lib/libgreet.so.1'], 'libssl.so.3': ['bin/greet'] },
  });
  assert.equal(result.target.libcVersion, '2.34');
  assert.match(
    result.notes.join('\n'),
    /the files need glibc 2\.34 .* newer than the libcVersion 2\.17 the pack input states/,
  );
});

test('linkMetadata: a stated glibc floor newer than the files need stays; another C library is left alone', () => {
  const facts: LinkFacts = { ...none, libcVersion: '2.14' };
  assert.equal(
    linkMetadata(
      { provides: { sonames: [] }, needs: { sonames: [] }, target: { ...target, libcVersion: '2.28' } },
      facts,
    ).target.libcVersion,
    '2.28',
  );
  const musl = { ...target, libc: 'musl', libcVersion: '1.2.3' };
  assert.deepEqual(
    linkMetadata({ provides: { sonames: [] }, needs: { sonames: [] }, target: musl }, { ...none, libcVersion: '2.34' })
      .target,
    musl,
  );
});
