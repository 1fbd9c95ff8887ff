/**
 * Fetching sources over real HTTP on loopback: the places are tried in order
 * (cache, URL, the source's mirrors, configured mirrors, distfiles), a file
 * whose sha256 is not the recipe's is never used, and a failure lists every
 * place with its reason.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FetchEvent, RecipeSource } from '../src/build/index.js';
import { fetchSource } from '../src/build/index.js';
import { isKilnError } from '../src/errors/index.js';
import type { Sha256 } from '../src/util/hash.js';
import { tempDir } from './helpers/kiln.js';
import { serveDirectory } from './helpers/staticServer.js';

const CONTENT = Buffer.from('the real upstream tarball\n');
const SHA = createHash('sha256').update(CONTENT).digest('hex') as Sha256;

function source(url: string, mirrors: string[] = []): RecipeSource {
  return { url, sha256: SHA, file: 'thing-1.0.tar.gz', mirrors, unpack: true };
}

test('fetchSource: upstream 404, a mirror with other content, then a good mirror; the cache is used next time', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'good'), { recursive: true });
  await mkdir(join(dir, 'evil'), { recursive: true });
  await writeFile(join(dir, 'good', 'thing-1.0.tar.gz'), CONTENT);
  await writeFile(join(dir, 'evil', 'thing-1.0.tar.gz'), 'a tampered tarball\n');
  const good = await serveDirectory(join(dir, 'good'));
  const evil = await serveDirectory(join(dir, 'evil'));
  t.after(() => Promise.all([good.close(), evil.close()]));
  const events: FetchEvent[] = [];
  const cacheDir = join(dir, 'cache');
  const path = await fetchSource(source(`${good.url}/missing/thing-1.0.tar.gz`, [`${evil.url}/thing-1.0.tar.gz`]), {
    cacheDir,
    mirrors: [good.url],
    onEvent: (event) => events.push(event),
  });
  assert.equal(path, join(cacheDir, 'thing-1.0.tar.gz'));
  assert.deepEqual(await readFile(path), CONTENT);
  assert.deepEqual(
    events.map((event) => event.kind),
    ['trying', 'failed', 'trying', 'failed', 'trying', 'fetched'],
  );
  assert.match((events[1] as { problem: string }).problem, /404/);
  assert.match((events[3] as { problem: string }).problem, /sha256 is [0-9a-f]{64}, not the recipe's/);
  assert.equal(existsSync(`${path}.part`), false);

  const again: FetchEvent[] = [];
  await fetchSource(source('https://example.invalid/thing-1.0.tar.gz'), {
    cacheDir,
    onEvent: (event) => again.push(event),
  });
  assert.deepEqual(
    again,
    [{ kind: 'cached', file: 'thing-1.0.tar.gz' }],
    'no network when the cache holds the right file',
  );
});

test('fetchSource: an unresolvable host fails fast and the distfiles directory serves; a failure names every place', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'distfiles'), { recursive: true });
  await writeFile(join(dir, 'distfiles', 'thing-1.0.tar.gz'), CONTENT);
  const path = await fetchSource(source('https://example.invalid/thing-1.0.tar.gz'), {
    cacheDir: join(dir, 'cache'),
    distfiles: [join(dir, 'empty'), join(dir, 'distfiles')],
  });
  assert.equal(path, join(dir, 'distfiles', 'thing-1.0.tar.gz'), 'a local distfile is used where it is, not copied');
  assert.equal(existsSync(join(dir, 'cache', 'thing-1.0.tar.gz')), false);

  await assert.rejects(
    fetchSource(
      { ...source('https://example.invalid/thing-1.0.tar.gz'), file: 'other-2.0.tar.gz' },
      { cacheDir: join(dir, 'cache'), mirrors: ['file:///nonexistent-mirror'], distfiles: [join(dir, 'distfiles')] },
    ),
    (error: unknown) => {
      assert.ok(isKilnError(error, 'E_SOURCE'), String(error));
      assert.match(error.message, /cannot fetch source other-2\.0\.tar\.gz \(sha256 [0-9a-f]{64}\):/);
      assert.match(error.message, /\n {2}https:\/\/example\.invalid\/thing-1\.0\.tar\.gz: /);
      assert.match(error.message, /\n {2}file:\/\/\/nonexistent-mirror\/other-2\.0\.tar\.gz: not there/);
      assert.match(error.message, new RegExp(`\\n {2}${join(dir, 'distfiles', 'other-2.0.tar.gz')}: not there`));
      assert.match(error.hint ?? '', /scripts\/distfiles\.sh/);
      return true;
    },
  );
});
