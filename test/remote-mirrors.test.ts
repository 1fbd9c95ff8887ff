/**
 * A remote with mirrors (`kiln remote add NAME URL --mirror URL...`), over
 * loopback HTTP: a URL that is down and a mirror that serves an older serial
 * (a rollback for this remote, whose accepted serial is per remote) are
 * passed over with a note, and the remote syncs from the next; shards and
 * packages come from the first URL that has them; when every URL fails, the
 * error names each.
 */
import * as assert from 'node:assert/strict';
import { cp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ok, packAll, publish } from './helpers/client.js';
import { kiln, parseJson, tempDir } from './helpers/kiln.js';
import { serveDirectory } from './helpers/staticServer.js';

/** A URL as Kiln shows it (with the path's slash). */
const shown = (url: string): string => new URL(url).href;

/** A loopback URL where nothing listens (a port taken and released). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

test('sync passes over a dead URL and a stale mirror, and installs from the mirror that is current', async (t) => {
  const dir = await tempDir(t);
  const [alpha1, alpha2, beta] = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'alpha 1\n' } },
    { name: 'alpha', version: '2.0', tree: { 'share/alpha/a': 'alpha 2\n' } },
    { name: 'beta', version: '1.0', tree: { 'share/beta/b': 'beta\n' } },
  ]);
  await publish(dir, [alpha1!]);
  await cp(join(dir, 'repo', 'public'), join(dir, 'old'), { recursive: true });
  await ok(['repo', 'add', 'repo', alpha2!, beta!], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  // Mirror A serves serial 3 at first, then falls back to serial 2; mirror B serves serial 3.
  await cp(join(dir, 'repo', 'public'), join(dir, 'a'), { recursive: true });
  const mirrorA = await serveDirectory(join(dir, 'a'));
  const mirrorB = await serveDirectory(join(dir, 'repo', 'public'));
  t.after(() => Promise.all([mirrorA.close(), mirrorB.close()]));
  const dead = await deadUrl();

  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  const added = parseJson(
    await ok(
      [
        ...['--prefix', prefix, 'remote', 'add', 'main', dead, '--key', 'keys/kiln.pub'],
        ...['--mirror', mirrorA.url, '--mirror', mirrorB.url, '--json'],
      ],
      { cwd: dir },
    ),
  ) as { mirrors: string[] };
  assert.deepEqual(added.mirrors, [shown(mirrorA.url), shown(mirrorB.url)]);
  const listed = await ok(['--prefix', prefix, 'remote', 'list'], { cwd: dir });
  assert.ok(listed.includes(`mirror ${mirrorB.url}`), listed);

  type Synced = { serial: number; url: string; status: string; skipped: { url: string; problem: string }[] }[];
  const first = parseJson(await ok(['--prefix', prefix, 'sync', '--json'], { cwd: dir })) as Synced;
  assert.equal(first[0]!.serial, 3);
  assert.equal(first[0]!.url, shown(mirrorA.url));
  assert.deepEqual(
    first[0]!.skipped.map((skip) => skip.url),
    [shown(dead)],
  );

  // Mirror A now serves serial 2: older than the 3 this remote accepted, so a rollback: passed over, and said.
  await rm(join(dir, 'a'), { recursive: true });
  await cp(join(dir, 'old'), join(dir, 'a'), { recursive: true });
  const second = await kiln(['--prefix', prefix, 'sync', '--json'], { cwd: dir });
  assert.equal(second.code, 0, second.stderr);
  const synced = parseJson(second.stdout) as Synced;
  assert.deepEqual([synced[0]!.serial, synced[0]!.url, synced[0]!.status], [3, shown(mirrorB.url), 'unchanged']);
  assert.deepEqual(
    synced[0]!.skipped.map((skip) => [skip.url, skip.problem.split(':')[0]]),
    [
      [shown(dead), 'E_FETCH'],
      [shown(mirrorA.url), 'E_INDEX_ROLLBACK'],
    ],
  );
  assert.match(
    second.stderr,
    /remote main: passed over http:\/\/127\.0\.0\.1:\d+\/ \(E_INDEX_ROLLBACK: .*serial 2 is older than serial 3/,
  );

  // Shards and packages come from the first URL that has them: not the dead one, not the stale one.
  await ok(['--prefix', prefix, 'install', 'alpha', 'beta', '-y'], { cwd: dir });
  const installed = await ok(['--prefix', prefix, 'list', '-q'], { cwd: dir });
  assert.deepEqual(installed.trim().split('\n').sort(), ['alpha', 'beta']);
  assert.ok(mirrorB.log.some((request) => request.path.endsWith('.kpkg') && request.status === 200));
  assert.ok(!mirrorA.log.some((request) => request.path.endsWith('.kpkg') && request.status === 200));
});

test('when every URL of a remote fails, the error names each, and the accepted serial stays', async (t) => {
  const dir = await tempDir(t);
  const [alpha1, alpha2] = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'alpha 1\n' } },
    { name: 'alpha', version: '2.0', tree: { 'share/alpha/a': 'alpha 2\n' } },
  ]);
  await publish(dir, [alpha1!]);
  await cp(join(dir, 'repo', 'public'), join(dir, 'stale'), { recursive: true });
  await ok(['repo', 'add', 'repo', alpha2!], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  const stale = await serveDirectory(join(dir, 'stale'));
  const current = await serveDirectory(join(dir, 'repo', 'public'));
  t.after(() => stale.close());

  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(
    ['--prefix', prefix, 'remote', 'add', 'main', current.url, '--mirror', stale.url, '--key', 'keys/kiln.pub'],
    { cwd: dir },
  );
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  await current.close();
  const result = await kiln(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /error\[E_FETCH\]/);
  assert.match(
    result.stderr,
    /its mirror failed too:\n +http:\/\/127\.0\.0\.1:\d+\/: .*serial 2 is older than serial 3/,
  );
  const remotes = parseJson(await ok(['--prefix', prefix, 'remote', 'list', '--json'], { cwd: dir })) as {
    state: { serial: number };
  }[];
  assert.equal(remotes[0]!.state.serial, 3);
});
