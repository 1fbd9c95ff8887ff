import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ElfInfo } from './readElf.js';
import { glibcFloor, isLinkedElf, linkFacts } from './linkFacts.js';

function elf(fields: Partial<ElfInfo>): ElfInfo {
  return { bits: 64, endian: 'little', type: 'shared', machine: 62, needed: [], versionNeeds: [], ...fields };
}

test('linkFacts: what the package provides, what it needs from outside and which files need it', () => {
  const facts = linkFacts([
    { path: 'lib/libgreet.so.1', info: elf({ soname: 'libgreet.so.1', needed: ['libc.so.6'] }) },
    { path: 'bin/b', info: elf({ needed: ['libgreet.so.1', 'libz.so.1', 'libc.so.6'] }) },
    { path: 'bin/a', info: elf({ needed: ['libz.so.1', 'libz.so.1'] }) },
  ]);
  assert.deepEqual([...facts.provides], [['libgreet.so.1', 'lib/libgreet.so.1']]);
  // The package's own library is not a need; each file is named once, in path order.
  assert.deepEqual(Object.fromEntries(facts.needs), {
    'libc.so.6': ['bin/b', 'lib/libgreet.so.1'],
    'libz.so.1': ['bin/a', 'bin/b'],
  });
  assert.equal(facts.libcVersion, '0');
});

test('glibcFloor and linkFacts: the newest GLIBC_ version needed, compared as versions', () => {
  const info = elf({
    versionNeeds: [
      { file: 'libc.so.6', versions: ['GLIBC_2.2.5', 'GLIBC_2.14', 'GLIBC_PRIVATE'] },
      { file: 'libz.so.1', versions: ['ZLIB_1.2.9'] },
    ],
  });
  assert.equal(glibcFloor(info), '2.14');
  assert.equal(glibcFloor(elf({})), '0');
  const facts = linkFacts([
    { path: 'a', info },
    { path: 'b', info: elf({ versionNeeds: [{ file: 'libc.so.6', versions: ['GLIBC_2.9'] }] }) },
  ]);
  assert.equal(facts.libcVersion, '2.14');
});

test('isLinkedElf: executables and shared objects, not object files or core dumps', () => {
  assert.equal(isLinkedElf(elf({ type: 'executable' })), true);
  assert.equal(isLinkedElf(elf({ type: 'shared' })), true);
  assert.equal(isLinkedElf(elf({ type: 'relocatable' })), false);
  assert.equal(isLinkedElf(elf({ type: 'core' })), false);
});
