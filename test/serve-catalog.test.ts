/**
 * `kiln serve`'s web catalog and JSON API over real HTTP, on a repository of
 * real packages (helpers/catalogRepo.ts): every page a person reads, the same
 * data as JSON, hostile index text escaped, conditional requests, a new serial
 * picked up while requests keep being answered, history from the log and
 * from the signed snapshots of a mirror, and `--no-catalog`.
 */
import * as assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { entryKey } from '../src/repo/indexFormat.js';
import type { RepositoryIndex } from '../src/repo/indexFormat.js';
import { ok, packAll } from './helpers/client.js';
import type { CatalogRepository } from './helpers/catalogRepo.js';
import { HOSTILE_SUMMARY, catalogRepository } from './helpers/catalogRepo.js';
import { get, serve } from './helpers/serve.js';

let dir: string;
let fixture: CatalogRepository;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-catalog-'));
  fixture = await catalogRepository(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

async function page(url: string, path: string): Promise<string> {
  const answer = await get(url, path);
  assert.equal(answer.status, 200, `${path}: ${answer.body.toString('utf8').slice(0, 300)}`);
  assert.match(answer.headers['content-type']!, /^text\/html; charset=utf-8$/);
  return answer.body.toString('utf8');
}

async function json<T>(url: string, path: string, status = 200): Promise<T> {
  const answer = await get(url, path);
  assert.equal(answer.status, status, path);
  assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
  return JSON.parse(answer.body.toString('utf8')) as T;
}

test('catalog: home, search, package with variants side by side, reverse dependencies, files, sonames, history; the same as JSON', async (t) => {
  const server = await serve(t, [fixture.repo]);
  const index = JSON.parse(await readFile(join(fixture.published, 'index.json'), 'utf8')) as RepositoryIndex;
  const keyId = index.keys[0]!;

  const home = await page(server.url, '/');
  assert.match(home, /<dd id="serial">3<\/dd>/);
  assert.ok(home.includes(keyId) && home.includes(`/keys/${keyId}.pub`), 'the signing key and its file');
  assert.ok(home.includes((await readFile(fixture.publicKey, 'utf8')).split('\n')[1]!), 'the public key itself');
  assert.match(home, /data-expires="[^"]+">in (29|30) days/, 'the expiry countdown');
  assert.match(home, /4 names<\/a>, 6 package files/);

  const search = await page(server.url, '/search?q=nginx');
  const results = [...search.matchAll(/<li><a href="\/package\/([^"]+)">/g)].map((match) => match[1]);
  assert.deepEqual(results, ['nginx']);
  assert.deepEqual(
    [...(await page(server.url, '/search?q=library')).matchAll(/<li><a href="\/package\/([^"]+)">/g)].map((m) => m[1]),
    ['pcre2', 'zlib'],
    'summary matches, in name order',
  );
  assert.match(await page(server.url, '/search?q=zzzz-nothing'), /No package matches/);

  const nginx = await page(server.url, '/package/nginx');
  const variants = index.packages.filter((entry) => entry.name === 'nginx');
  assert.equal(variants.length, 3);
  for (const entry of variants) {
    assert.ok(nginx.includes(entry.sha256), `sha256 of ${entryKey(entry)}`);
    assert.ok(nginx.includes(`href="/${entry.path}"`), `download link of ${entryKey(entry)}`);
  }
  assert.ok(nginx.indexOf('1.26.0') < nginx.indexOf('1.24.0'), 'newest version first');
  assert.match(nginx, /<th rowspan="2" scope="rowgroup">1\.24\.0<\/th>/, 'two variants of 1.24.0 side by side');
  assert.match(nginx, /<code>\+ssl<\/code>/);
  assert.match(nginx, /<code>-ssl<\/code>/);
  for (const entry of variants) assert.ok(nginx.includes(`glibc ≥ ${entry.target.libcVersion}`), 'the libc floor');
  assert.ok(nginx.includes(`<code>${variants[0]!.target.cpu}</code>`) && nginx.includes('BSD-2-Clause'));
  assert.match(nginx, /<li><a href="\/package\/zlib">zlib<\/a> <code>&gt;=1\.3<\/code><\/li>/);
  assert.match(nginx, /<code>libz\.so\.1<\/code> <span class="muted">from<\/span> <a href="\/package\/zlib">zlib<\/a>/);
  assert.match(nginx, /<code>sbin\/nginx<\/code>/);
  assert.match(nginx, /Published<\/dt><dd>serial 3/);

  const unsslVariant = variants.find((entry) => entry.version === '1.24.0' && entry.options['ssl'] === false)!;
  const picked = await page(server.url, `/package/nginx?version=1.24.0&variant=${unsslVariant.variant}`);
  assert.match(
    picked,
    new RegExp(`<section class="selected-variant" id="selected" data-variant="${unsslVariant.variant}">`),
  );
  assert.match(picked, /Published<\/dt><dd>serial 2/);

  // The advisory the index pins: a badge on the affected variant, and a section when it is picked.
  const sslVariant = variants.find((entry) => entry.version === '1.24.0' && entry.options['ssl'] === true)!;
  assert.equal((nginx.match(/class="advisory-badge"/g) ?? []).length, 1, 'one variant of the three is affected');
  const affected = await page(server.url, `/package/nginx?version=1.24.0&variant=${sslVariant.variant}`);
  assert.match(
    affected,
    /<li><strong>CVE-2023-44487<\/strong>: HTTP\/2 rapid reset[^<]*<strong>Fixed in 1\.25\.3\.<\/strong>/,
  );
  assert.match(picked, /No open advisory affects this variant/);

  const zlib = await page(server.url, '/package/zlib');
  assert.match(zlib, /<ul class="required-by"><li><a href="\/package\/nginx">nginx<\/a><\/li><\/ul>/);
  assert.match(zlib, /Sonames provided<\/h3><ul><li><code>libz\.so\.1<\/code>/);

  const history = await page(server.url, '/history');
  assert.ok(history.indexOf('id="serial-3"') < history.indexOf('id="serial-2"'), 'newest first');
  assert.match(history, /<p class="message">nginx 1\.26\.0; oldtool retired<\/p>/);
  assert.match(history, /<h3>Removed<\/h3><ul class="removed"><li>oldtool <span class="muted">0\.9 /);
  assert.match(
    history,
    /<h3>Added<\/h3><ul class="added"><li><a href="\/package\/nginx">nginx<\/a> <span class="muted">1\.26\.0 /,
  );

  const missing = await get(server.url, '/package/no-such-name');
  assert.equal(missing.status, 404);
  assert.match(missing.body.toString('utf8'), /No package is named “no-such-name”/);

  // The JSON API: the same data.
  const repository = await json<{
    name: string;
    serial: number;
    signer: string;
    packages: number;
    names: number;
    expires: string;
  }>(server.url, '/api/v1/repository');
  assert.deepEqual(
    {
      name: repository.name,
      serial: repository.serial,
      signer: repository.signer,
      packages: repository.packages,
      names: repository.names,
      expires: repository.expires,
    },
    { name: 'main', serial: 3, signer: keyId, packages: 6, names: 4, expires: index.expires },
  );
  const found = await json<{ total: number; results: { name: string; version: string }[] }>(
    server.url,
    '/api/v1/search?q=ngi&limit=5',
  );
  assert.deepEqual(found.results, [
    { name: 'nginx', category: 'www-servers', version: '1.26.0', summary: variants[0]!.summary },
  ]);
  const pkg = await json<{
    versions: { version: string; variants: { sha256: string; url: string }[] }[];
    requiredBy: string[];
  }>(server.url, '/api/v1/packages/nginx');
  assert.deepEqual(
    pkg.versions.map((version) => [version.version, version.variants.length]),
    [
      ['1.26.0', 1],
      ['1.24.0', 2],
    ],
  );
  assert.deepEqual(
    pkg.versions.flatMap((version) => version.variants.map((variant) => variant.sha256)).sort(),
    variants.map((entry) => entry.sha256).sort(),
  );
  assert.deepEqual((await json<{ requiredBy: string[] }>(server.url, '/api/v1/packages/pcre2')).requiredBy, ['nginx']);
  const withAdvisories = pkg.versions.flatMap((version) => version.variants) as unknown as {
    options: Record<string, boolean>;
    version: string;
    advisories: { id: string; fixed: string | null }[];
  }[];
  assert.deepEqual(
    withAdvisories.map((variant) => [
      variant.version,
      variant.options['ssl'],
      variant.advisories.map((a) => `${a.id} ${a.fixed}`),
    ]),
    [
      ['1.26.0', true, []],
      ['1.24.0', false, []],
      ['1.24.0', true, ['CVE-2023-44487 1.25.3']],
    ],
  );
  const files = await json<{ files: { path: string; type: string }[] }>(
    server.url,
    `/api/v1/packages/nginx/files?version=1.24.0&variant=${unsslVariant.variant}`,
  );
  assert.ok(files.files.some((file) => file.path === 'sbin/nginx' && file.type === 'file'));
  const log = await json<{ entries: { serial: number; removed: string[] }[]; older?: number }>(
    server.url,
    '/api/v1/history?before=3',
  );
  assert.deepEqual(
    log.entries.map((entry) => entry.serial),
    [2, 1],
  );
  assert.equal(log.older, undefined);
  await json(server.url, '/api/v1/packages/nope', 404);
  await json(server.url, '/api/v1/nothing', 404);

  // Conditional requests and the static assets.
  const again = await get(server.url, '/package/nginx');
  assert.equal(again.headers['cache-control'], 'no-cache');
  assert.equal((await get(server.url, '/package/nginx', { 'if-none-match': again.headers.etag! })).status, 304);
  const css = /href="(\/static\/catalog-[0-9a-f]+\.css)"/.exec(home)![1]!;
  const asset = await get(server.url, css);
  assert.equal(asset.status, 200);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await get(server.url, '/static/catalog-000000000000.css')).status, 404);
});

test('catalog: hostile index text is escaped, hostile requests are answered, not crashed on', async (t) => {
  const server = await serve(t, [fixture.repo]);
  const evil = await page(server.url, '/package/evil');
  assert.ok(!evil.includes('<script>document') && !evil.includes('<img src=x'), 'no markup from the index');
  assert.ok(
    evil.includes(
      HOSTILE_SUMMARY.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
    ),
  );
  assert.ok(evil.includes('<code>share/evil/&lt;b&gt;bold&lt;/b&gt;.txt</code>'));
  assert.ok(!evil.includes('"><script>alert(1)'), 'the homepage attribute is escaped');
  const headers = (await get(server.url, '/package/evil')).headers;
  assert.match(String(headers['content-security-policy']), /script-src 'self'/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  const searched = await page(server.url, `/search?q=${encodeURIComponent('"><script>alert(1)</script>')}`);
  assert.ok(!searched.includes('"><script>alert(1)'));

  for (const path of [
    '/package/%ZZ',
    '/package/..%2F..%2Findex.json',
    '/package/',
    `/package/${'a'.repeat(10_000)}`,
    `/search?q=${'x'.repeat(12_000)}&offset=-5`,
    '/search?offset=99999999999999999999',
    '/history?before=abc',
    '/api/v1/packages/%00',
    '/api/v1/search?limit=100000000',
  ]) {
    const answer = await get(server.url, path);
    assert.ok([200, 404].includes(answer.status), `${path.slice(0, 60)}: ${answer.status}`);
  }
  assert.equal((await get(server.url, '/search', {}, 'POST')).status, 405);
  // Still serving.
  assert.equal((await get(server.url, '/api/v1/repository')).status, 200);
});

test('catalog: a new serial is read while every request is answered; a mirror has history from its snapshots; --no-catalog', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'kiln-catalog-reload-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await cp(join(dir, 'keys'), join(work, 'keys'), { recursive: true });
  await cp(fixture.repo, join(work, 'repo'), { recursive: true });
  const server = await serve(t, [join(work, 'repo')]);
  assert.equal((await json<{ serial: number }>(server.url, '/api/v1/repository')).serial, 3);

  let polling = true;
  const statuses: number[] = [];
  const poller = (async () => {
    while (polling) statuses.push((await get(server.url, '/package/nginx')).status);
  })();
  const more = await packAll(work, [{ name: 'gamma', version: '1.0', tree: { 'share/gamma/x': 'x\n' } }]);
  await ok(['repo', 'add', 'repo', ...more], { cwd: work });
  await ok(['repo', 'commit', 'repo'], { cwd: work });
  let serial = 3;
  for (let tries = 0; tries < 100 && serial === 3; tries++) {
    serial = (await json<{ serial: number }>(server.url, '/api/v1/repository')).serial;
    if (serial === 3) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  polling = false;
  await poller;
  assert.equal(serial, 4);
  assert.ok(statuses.length > 0 && statuses.every((status) => status === 200), `statuses ${[...new Set(statuses)]}`);
  assert.match(await page(server.url, '/package/gamma'), /gamma/);

  // A mirror (the published tree alone, no log): history from the signed snapshots.
  const mirror = await serve(t, [join(work, 'repo', 'public')]);
  const history = await json<{ entries: { serial: number; added: string[]; removed: string[]; message?: string }[] }>(
    mirror.url,
    '/api/v1/history',
  );
  assert.deepEqual(
    history.entries.map((entry) => [entry.serial, entry.added.length, entry.removed.length, entry.message]),
    [
      [4, 1, 0, undefined],
      [3, 1, 1, undefined],
      [2, 6, 0, undefined],
      [1, 0, 0, undefined],
    ],
  );
  assert.match(history.entries[1]!.removed[0]!, /^oldtool 0\.9 /);

  const plain = await serve(t, [join(work, 'repo'), '--no-catalog']);
  assert.equal((await get(plain.url, '/')).status, 404);
  assert.equal((await get(plain.url, '/api/v1/repository')).status, 404);
  assert.equal((await get(plain.url, '/index.json')).status, 200);
});
