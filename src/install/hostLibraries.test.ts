import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { detectHost } from '../solver/hostTarget.js';
import { HostLibraries } from './hostLibraries.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-host-libraries-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The first 20 bytes of an ELF header: class, byte order and machine are what count. */
function elfHead(bits: 32 | 64, machine: number): Buffer {
  const head = Buffer.alloc(64);
  head.write('\u007fELF', 0, 'latin1');
  head[4] = bits === 64 ? 2 : 1;
  head[5] = 1;
  head.writeUInt16LE(machine, 18);
  return head;
}

test("HostLibraries: a library in the loader's cache counts only as an ELF file of the architecture", () => {
  writeFileSync(join(dir, 'libx64.so.1'), elfHead(64, 62));
  writeFileSync(join(dir, 'libi386.so.1'), elfHead(32, 3));
  writeFileSync(join(dir, 'libtext.so.1'), 'INPUT(-lfoo)\n');
  const cache = [
    `\tlibx64.so.1 (libc6,x86-64) => ${join(dir, 'libx64.so.1')}`,
    `\tlibi386.so.1 (libc6) => ${join(dir, 'libi386.so.1')}`,
    `\tlibtext.so.1 (libc6,x86-64) => ${join(dir, 'libtext.so.1')}`,
    `\tlibgone.so.1 (libc6,x86-64) => ${join(dir, 'libgone.so.1')}`,
  ].join('\n');
  let reads = 0;
  const host = new HostLibraries(() => {
    reads++;
    return cache;
  });
  assert.equal(host.find('libx64.so.1', 'x86_64'), join(dir, 'libx64.so.1'));
  assert.equal(host.find('libx64.so.1', 'aarch64'), undefined);
  assert.equal(host.find('libi386.so.1', 'x86_64'), undefined);
  assert.equal(host.find('libi386.so.1', 'i686'), join(dir, 'libi386.so.1'));
  assert.equal(host.find('libtext.so.1', 'x86_64'), undefined);
  assert.equal(host.find('libgone.so.1', 'x86_64'), undefined);
  assert.equal(reads, 1, 'the cache is read once');
});

test('HostLibraries: the real host has its C library, found through ldconfig or the default directories', () => {
  const { arch, libc } = detectHost();
  if (libc !== 'glibc') return;
  assert.match(new HostLibraries().find('libc.so.6', arch) ?? '', /\/libc\.so\.6$/);
  // Without a cache (ldconfig missing), the loader's default directories still hold it.
  assert.match(new HostLibraries(() => undefined).find('libc.so.6', arch) ?? '', /\/libc\.so\.6$/);
  assert.equal(new HostLibraries().find('libkiln-no-such-library.so.9', arch), undefined);
});
