/**
 * `kiln search` reads each synced remote's search list (written by sync; see
 * src/install/searchList.ts) and must answer exactly as from the full index:
 * newest version per name across remotes, summaries, installed versions. A
 * missing or stale list (made from another index) is not used.
 */
import * as assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, packAll, publish } from './helpers/client.js';
import { tempDir, parseJson } from './helpers/kiln.js';

test('search answers the same from the search lists as from the indexes, and ignores a stale list', async (t) => {
  const dir = await tempDir(t);
  const tree = { 'share/x': 'x\n' };
  await publish(
    dir,
    await packAll(dir, [
      { name: 'zlib', version: '1.2', tree, extra: { summary: 'Compression library' } },
      { name: 'zlib', version: '1.3', tree, extra: { summary: 'Compression library, newer' } },
      { name: 'zstd', version: '1.5', tree, extra: { summary: 'Fast compression' } },
      { name: 'nginx', version: '1.24', tree, extra: { summary: 'Web server' } },
    ]),
  );
  const env = { KILN_PREFIX: join(dir, 'p') };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env,
  });
  await ok(['sync'], { cwd: dir, env });
  await ok(['install', 'zstd', '-y'], { cwd: dir, env });
  const indexes = join(env.KILN_PREFIX, 'var/lib/kiln/indexes');
  assert.ok((await readdir(join(indexes, 'main'))).includes('index.names.json'), 'sync wrote the search list');

  const search = async (term: string): Promise<string> => ok(['search', term, '--json'], { cwd: dir, env });
  const fromList = { compress: await search('compress'), WEB: await search('WEB') };
  const rows = parseJson(fromList.compress) as {
    name: string;
    version: string;
    installed: string | null;
    summary: string;
  }[];
  assert.deepEqual(
    rows.map((row) => [row.name, row.version, row.installed, row.summary]),
    [
      ['zlib', '1.3', null, 'Compression library, newer'],
      ['zstd', '1.5', '1.5', 'Fast compression'],
    ],
  );
  assert.equal((parseJson(fromList.WEB) as unknown[]).length, 1, 'case is ignored');

  // Without the list: the same answers, from the index.
  await rm(join(indexes, 'main', 'index.names.json'));
  assert.equal(await search('compress'), fromList.compress);
  assert.equal(await search('WEB'), fromList.WEB);

  // A list made from another index is not believed.
  await ok(['sync'], { cwd: dir, env });
  const listPath = join(indexes, 'main', 'index.names.json');
  const list = parseJson(await readFile(listPath, 'utf8')) as { index: string; text: string };
  await writeFile(
    listPath,
    JSON.stringify({ ...list, index: '0'.repeat(64), text: 'evil\t9.9\tx\tcompress everything' }),
  );
  assert.equal(await search('compress'), fromList.compress);
  // The next sync makes it again.
  await ok(['sync'], { cwd: dir, env });
  assert.equal((parseJson(await readFile(listPath, 'utf8')) as { index: string }).index, list.index);

  await ok(['remote', 'remove', 'main'], { cwd: dir, env });
  assert.ok(!(await readdir(indexes)).includes('main'), 'removing the remote removes its directory, list and all');
});
