/**
 * `kiln files --available` and `kiln owns --available` (as pacman -Fl and
 * pacman -F) answered from the repository's signed file list, fetched on first
 * use for the serial synced and refused when it does not match.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish, syncedPrefix } from './helpers/client.js';
import { kiln, parseJson, tempDir } from './helpers/kiln.js';
import { decodeFileList, encodeFileList } from '../src/repo/fileList.js';

async function repository(dir: string): Promise<void> {
  await publish(
    dir,
    await packAll(dir, [
      {
        name: 'hello',
        version: '1.0',
        tree: {
          'share/hello/readme.txt': 'hello\n',
          'bin/hello': { content: '#!/bin/sh\n', mode: 0o755 },
          'bin/hi': { symlink: 'hello' },
        },
      },
      { name: 'other', version: '2.0', tree: { 'share/other/readme.txt': 'other\n' } },
    ]),
  );
}

test('files --available and owns --available answer from the signed file list of the synced serial', async (t) => {
  const dir = await tempDir(t);
  await repository(dir);
  const prefix = await syncedPrefix(dir);
  const files = await ok(['--prefix', prefix, 'files', 'hello', '--available'], { cwd: dir });
  assert.deepEqual(
    files.trim().split('\n').sort(),
    ['bin/', 'bin/hello', 'bin/hi -> hello', 'share/', 'share/hello/', 'share/hello/readme.txt'].sort(),
  );
  assert.equal(
    (await ok(['--prefix', prefix, 'owns', '--available', 'share/other/readme.txt'], { cwd: dir })).trim(),
    'share/other/readme.txt is in other 2.0 (main)',
  );
  const owners = parseJson(
    await ok(['--prefix', prefix, 'owns', '--available', join(prefix, 'bin/hi'), '--json'], { cwd: dir }),
  ) as {
    path: string;
    owners: { package: string; type: string }[];
  };
  assert.deepEqual(owners, {
    path: 'bin/hi',
    owners: [{ package: 'hello', version: '1.0', remote: 'main', type: 'symlink' }],
  });
  await fails(
    ['--prefix', prefix, 'owns', '--available', 'bin/nothing'],
    'E_NO_CANDIDATE',
    /cannot find bin\/nothing/,
    { cwd: dir },
  );
  await fails(['--prefix', prefix, 'files', '--available', 'nosuch'], 'E_NO_CANDIDATE', /no synced remote offers it/, {
    cwd: dir,
  });
  // Nothing was installed; the list is kept: it answers again when the repository no longer serves it.
  assert.equal((await ok(['--prefix', prefix, 'list', '-q'], { cwd: dir })).trim(), '');
  const published = join(dir, 'repo/public/indexes');
  await rm(join(published, '2.files.json.zst'));
  await ok(['--prefix', prefix, 'files', 'hello', '--available'], { cwd: dir });
  // A fresh prefix cannot fetch it now: the repository publishes none for its serial.
  const bare = await syncedPrefix(dir, join(dir, 'bare'));
  await fails(
    ['--prefix', bare, 'files', 'hello', '--available'],
    'E_NO_FILE_LIST',
    /publishes no file list for index serial 2/,
    {
      cwd: dir,
    },
  );
  const verify = await kiln(['repo', 'verify', 'repo'], { cwd: dir });
  assert.equal(verify.code, 1, verify.stdout);
  assert.match(verify.stdout + verify.stderr, /indexes\/2\.files\.json\.zst is missing/);
  // The next commit publishes one again; the old serial's list goes with its snapshot when pruned.
  await ok(['repo', 'commit', 'repo', '--allow-empty'], { cwd: dir });
  await ok(['repo', 'verify', 'repo'], { cwd: dir });
  await ok(['--prefix', bare, 'sync'], { cwd: dir });
  await ok(['--prefix', bare, 'files', 'hello', '--available'], { cwd: dir });
  await ok(['repo', 'prune', 'repo', '--keep', '1'], { cwd: dir });
  assert.equal(existsSync(join(published, '1.files.json.zst')), false);
  assert.equal(existsSync(join(published, '3.files.json.zst')), true);
});

test('a file list that is altered, or names other packages, is refused and not used', async (t) => {
  const dir = await tempDir(t);
  await repository(dir);
  const listPath = join(dir, 'repo/public/indexes/2.files.json.zst');
  const original = await readFile(listPath);
  // A path added to a package: the signature no longer matches.
  const list = decodeFileList(original, listPath);
  list.packages[0]!.files.push(['bin/evil', 'file']);
  await writeFile(listPath, encodeFileList(list));
  const prefix = await syncedPrefix(dir);
  await fails(
    ['--prefix', prefix, 'owns', '--available', 'bin/evil'],
    'E_SIGNATURE_INVALID',
    /does not match|signature/,
    { cwd: dir },
  );
  assert.equal(
    existsSync(join(prefix, 'var/lib/kiln/indexes/main/files.json.zst')),
    false,
    'a refused list is not kept',
  );
  // The list of serial 1 (no packages), signed and all, served as serial 2's: refused too.
  await writeFile(listPath, await readFile(join(dir, 'repo/public/indexes/1.files.json.zst')));
  await writeFile(`${listPath}.minisig`, await readFile(join(dir, 'repo/public/indexes/1.files.json.zst.minisig')));
  await fails(
    ['--prefix', prefix, 'files', 'hello', '--available'],
    'E_SIGNATURE_INVALID',
    /signed as "kiln files main serial 1", not "kiln files main serial 2"/,
    {
      cwd: dir,
    },
  );
});
