import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeSandbox } from './buildSandbox.js';
import type { ViewEntry } from './toolchainView.js';
import { toolchainView } from './toolchainView.js';

/** Whether `path` is visible in a view: a shown file or link, or anything under a directory shown whole. */
function shows(entries: readonly ViewEntry[], path: string): boolean {
  return entries.some((entry) => {
    if (entry.kind === 'tree') return path === entry.path || path.startsWith(`${entry.path}/`);
    if (entry.kind === 'directory') return path.startsWith(`${entry.path}/`) && shows(entry.entries, path);
    return path === entry.path;
  });
}

describe('probeSandbox', () => {
  it('says why there is no sandbox when bwrap is not on the path', async () => {
    assert.deepEqual(await probeSandbox(''), {
      usable: false,
      reason: 'bwrap (Debian package bubblewrap) is not installed',
    });
  });
  it('starts a sandbox with the namespaces of a build (bubblewrap is installed by scripts/setup.sh)', async () => {
    const probe = await probeSandbox(process.env['PATH'] ?? '/usr/bin');
    assert.ok(probe.usable, JSON.stringify(probe));
  });
});

describe('toolchainView', () => {
  it("shows the compiler, binutils, make and the C library's files of this host, and none of another library's", async () => {
    const view = await toolchainView();
    assert.ok(view !== undefined, 'this host has a dpkg database');
    for (const name of ['gcc', 'binutils', 'libc6-dev', 'make', 'bash', 'coreutils'])
      assert.ok(view.packages.includes(name), name);
    const canonical = (path: string): string => path.replace(/^\/(bin|lib)\//, '/usr/$1/');
    for (const path of [
      '/usr/bin/gcc',
      '/usr/bin/ld',
      '/usr/bin/make',
      '/usr/bin/sh',
      '/usr/include/stdio.h',
      '/usr/include/linux/limits.h',
      '/usr/lib/x86_64-linux-gnu/libc.so.6',
      '/usr/lib/x86_64-linux-gnu/libc.a',
      '/usr/lib/x86_64-linux-gnu/crt1.o',
      '/etc/ld.so.cache',
    ]) {
      assert.ok(shows(view.entries, canonical(path)), `${path} is shown`);
    }
    for (const path of [
      '/usr/include/zlib.h',
      '/usr/lib/x86_64-linux-gnu/libz.a',
      '/usr/lib/x86_64-linux-gnu/libz.so',
      '/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc',
      '/usr/lib/x86_64-linux-gnu/pkgconfig/libcrypt.pc',
      '/usr/local/include',
      '/usr/share/doc/gcc',
      '/var/lib/dpkg/status',
    ]) {
      assert.equal(shows(view.entries, path), false, `${path} is hidden`);
    }
    assert.ok(
      view.entries.some((entry) => entry.kind === 'link' && entry.path === '/bin' && entry.target === 'usr/bin'),
      "the merged /usr's links are recreated",
    );
  });
});
