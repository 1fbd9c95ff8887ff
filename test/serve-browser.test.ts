/**
 * The web catalog in a real browser: Debian's Chromium, driven by
 * playwright-core over the DevTools protocol (no browser download). The test
 * walks the catalog as a person would — search "nginx" (suggestions appear as
 * they type), open it, pick a variant, follow a dependency and come back,
 * download the package — and checks the download's sha256 against the signed
 * index. No page may log an error (a Content-Security-Policy violation
 * included). With KILN_SCREENSHOTS=DIR it also saves the screenshots that
 * docs/serve.md shows.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { localFetcher, readPublishedIndex } from '../src/repo/readPublishedIndex.js';
import { parsePublicKey } from '../src/sign/parsePublicKey.js';
import { catalogRepository } from './helpers/catalogRepo.js';
import { tempDir } from './helpers/kiln.js';
import { serve } from './helpers/serve.js';

const CHROMIUM = '/usr/bin/chromium';

test('catalog in Chromium: search, open, pick a variant, follow a dependency, download and check the sha256', async (t) => {
  const dir = await tempDir(t);
  const fixture = await catalogRepository(dir);
  const server = await serve(t, [fixture.repo]);
  const { index } = await readPublishedIndex(
    localFetcher(fixture.published),
    [parsePublicKey(await readFile(fixture.publicKey, 'utf8'), fixture.publicKey)],
    fixture.published,
  );
  const shots = process.env['KILN_SCREENSHOTS'];
  if (shots !== undefined) await mkdir(shots, { recursive: true });

  // The browser only ever loads this test's own loopback server; Chromium's sandbox needs user namespaces a container may lack.
  const browser = await chromium.launch({ executablePath: CHROMIUM, chromiumSandbox: false });
  t.after(() => browser.close());
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  await page.goto(`${server.url}/`);
  assert.equal(await page.textContent('h1'), 'main');
  assert.equal(await page.textContent('#serial'), String(index.serial));
  // The countdown is live: the script rewrites it every second.
  await page.waitForFunction(
    "/^in \\d+ days?(, \\d+ [a-z]+)?$/.test(document.querySelector('.countdown').textContent)",
  );
  if (shots !== undefined) await page.screenshot({ path: join(shots, 'catalog-home.png') });

  // Search as you type, then the search page.
  await page.fill('#q', 'ngin');
  await page.waitForSelector('#suggest li a');
  assert.match((await page.textContent('#suggest li a')) ?? '', /^nginx 1\.26\.0/);
  await page.fill('#q', 'nginx');
  await Promise.all([page.waitForURL(/\/search\?q=nginx$/), page.press('#q', 'Enter')]);
  assert.deepEqual(await page.locator('#results li > a').allTextContents(), ['nginx']);
  await Promise.all([page.waitForURL(/\/package\/nginx$/), page.click('#results li > a')]);

  // Every variant side by side; pick 1.24.0 without ssl.
  assert.equal(await page.locator('table.variants tbody tr').count(), 3);
  const wanted = index.packages.find(
    (entry) => entry.name === 'nginx' && entry.version === '1.24.0' && !entry.options['ssl'],
  );
  assert.ok(wanted !== undefined);
  await Promise.all([
    page.waitForURL(new RegExp(`variant=${wanted.variant}$`)),
    page.click(`a.variant:has-text("${wanted.variant}")`),
  ]);
  assert.equal(await page.getAttribute('#selected', 'data-variant'), wanted.variant);
  assert.match((await page.textContent('tr.selected')) ?? '', /-ssl/);
  if (shots !== undefined) await page.screenshot({ path: join(shots, 'catalog-package.png'), fullPage: true });

  // Follow a dependency, see the reverse dependency, come back.
  await Promise.all([page.waitForURL(/\/package\/zlib$/), page.click('ul.depends a:has-text("zlib")')]);
  assert.deepEqual(await page.locator('ul.required-by a').allTextContents(), ['nginx']);
  await page.goBack();
  assert.equal(await page.getAttribute('#selected', 'data-variant'), wanted.variant);

  // Download the picked variant; its sha256 is the one the signed index pins, and the one the page shows.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('tr.selected a.download')]);
  const saved = await download.path();
  const sha256 = createHash('sha256')
    .update(await readFile(saved))
    .digest('hex');
  assert.equal(sha256, wanted.sha256);
  assert.equal(await page.textContent('tr.selected code.sha256'), wanted.sha256);

  assert.deepEqual(problems, [], 'no page logged an error');
});
