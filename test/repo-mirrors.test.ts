/**
 * `kiln repo push` and `kiln repo mirrors` with directory mirrors: a push
 * copies new files first and swaps the signed pointers last; a push killed
 * (kill -9) after any of its steps leaves the mirror serving the old serial or
 * the new one, each of which a client syncs and installs from; `mirrors` reads
 * each mirror's signed pointer and flags one that lags; `--prune` deletes
 * only when asked.
 */
import * as assert from 'node:assert/strict';
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { kiln, parseJson, tempDir } from './helpers/kiln.js';

interface MirrorsData {
  serial: number;
  mirrors: { mirror: string; serial?: number; behind?: number; problem?: string }[];
}

async function mirrors(dir: string): Promise<{ code: number | null; data: MirrorsData }> {
  const result = await kiln(['repo', 'mirrors', 'repo', '--json'], { cwd: dir });
  return { code: result.code, data: parseJson(result.stdout) as MirrorsData };
}

/** A client of the mirror at `path`: synced, and what it offers. */
async function clientOf(dir: string, path: string, prefix: string): Promise<{ serial: number; offered: string[] }> {
  const sync = parseJson(await ok(['--prefix', prefix, 'sync', '--json'], { cwd: dir })) as { serial: number }[];
  const rows = parseJson(await ok(['--prefix', prefix, 'list', '--available', '--json'], { cwd: dir })) as {
    name: string;
    version: string;
  }[];
  assert.ok(path !== '');
  return { serial: sync[0]!.serial, offered: rows.map((row) => `${row.name}-${row.version}`).sort() };
}

test('repo push copies new files then swaps the pointers; repo mirrors flags a lagging mirror', async (t) => {
  const dir = await tempDir(t);
  const [alpha, beta] = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'alpha\n' } },
    { name: 'beta', version: '1.0', tree: { 'share/beta/b': 'beta\n' } },
  ]);
  await publish(dir, [alpha!]);
  await fails(['repo', 'push', 'repo'], 'E_USAGE', /it has no mirrors/, { cwd: dir });
  await appendFile(
    join(dir, 'repo', '.kiln', 'config.toml'),
    `\n[mirrors.eu]\npath = "${join(dir, 'm-eu')}"\n\n[mirrors.us]\npath = "${join(dir, 'm-us')}"\n`,
  );
  const before = await mirrors(dir);
  assert.equal(before.code, 1);
  assert.ok(before.data.mirrors.every((mirror) => mirror.problem !== undefined));
  await fails(['repo', 'push', 'repo', 'asia'], 'E_USAGE', /no mirror "asia"/, { cwd: dir });

  const pushed = parseJson(await ok(['repo', 'push', 'repo', '--json'], { cwd: dir })) as {
    mirror: string;
    serial: number;
    copied: number;
    pointers: number;
  }[];
  assert.deepEqual(
    pushed.map((mirror) => [mirror.mirror, mirror.serial, mirror.pointers]),
    [
      ['eu', 2, 4],
      ['us', 2, 4],
    ],
  );
  assert.ok(pushed[0]!.copied > 3);
  const current = await mirrors(dir);
  assert.equal(current.code, 0);
  assert.deepEqual(
    current.data.mirrors.map((mirror) => [mirror.mirror, mirror.serial, mirror.behind]),
    [
      ['eu', 2, 0],
      ['us', 2, 0],
    ],
  );
  // Pushing again copies nothing new.
  const again = parseJson(await ok(['repo', 'push', 'repo', 'eu', '--json'], { cwd: dir })) as { copied: number }[];
  assert.equal(again[0]!.copied, 0);

  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'm-eu'), '--key', 'keys/kiln.pub'], { cwd: dir });
  assert.deepEqual(await clientOf(dir, join(dir, 'm-eu'), prefix), { serial: 2, offered: ['alpha-1.0'] });
  await ok(['--prefix', prefix, 'install', 'alpha', '-y'], { cwd: dir });

  // A new serial, pushed to one mirror: the other lags, and says so.
  await ok(['repo', 'add', 'repo', beta!], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  await ok(['repo', 'push', 'repo', 'eu'], { cwd: dir });
  const lagging = await mirrors(dir);
  assert.equal(lagging.code, 1);
  assert.deepEqual(
    lagging.data.mirrors.map((mirror) => [mirror.mirror, mirror.serial, mirror.behind]),
    [
      ['eu', 3, 0],
      ['us', 2, 1],
    ],
  );
  const text = await kiln(['repo', 'mirrors', 'repo'], { cwd: dir });
  assert.match(text.stdout, /us +2 .*LAGS 1 serial/);
  assert.deepEqual(await clientOf(dir, join(dir, 'm-eu'), prefix), { serial: 3, offered: ['alpha-1.0', 'beta-1.0'] });

  // Pruned locally; the mirror keeps the old files until a push with --prune.
  await ok(['repo', 'prune', 'repo', '--keep', '1'], { cwd: dir });
  await ok(['repo', 'push', 'repo', 'eu'], { cwd: dir });
  const snapshots = async () => (await readdir(join(dir, 'm-eu', 'indexes'))).filter((name) => /^2\./.test(name));
  assert.ok((await snapshots()).length > 0, 'a push without --prune deletes nothing');
  const pruned = parseJson(await ok(['repo', 'push', 'repo', 'eu', '--prune', '--json'], { cwd: dir })) as {
    pruned: number;
  }[];
  assert.ok(pruned[0]!.pruned > 0);
  assert.deepEqual(await snapshots(), []);
  assert.deepEqual(await clientOf(dir, join(dir, 'm-eu'), prefix), { serial: 3, offered: ['alpha-1.0', 'beta-1.0'] });
});

test('a push killed after any of its steps leaves the mirror serving a whole serial, old or new', async (t) => {
  const dir = await tempDir(t);
  const packages = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'alpha 1\n' } },
    { name: 'alpha', version: '2.0', tree: { 'share/alpha/a': 'alpha 2\n' } },
    { name: 'beta', version: '1.0', tree: { 'share/beta/b': 'beta\n', 'share/beta/c': 'c\n' } },
    { name: 'gamma', version: '1.0', tree: { 'share/gamma/g': 'gamma\n' } },
  ]);
  await publish(dir, packages.slice(0, 1));
  await appendFile(join(dir, 'repo', '.kiln', 'config.toml'), `\n[mirrors.eu]\npath = "${join(dir, 'mirror')}"\n`);
  await ok(['repo', 'push', 'repo'], { cwd: dir });
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'mirror'), '--key', 'keys/kiln.pub'], { cwd: dir });
  const old = { serial: 2, offered: ['alpha-1.0'] };
  assert.deepEqual(await clientOf(dir, join(dir, 'mirror'), prefix), old);

  // Serial 3: three packages more, alpha 1.0 retired.
  await ok(['repo', 'add', 'repo', ...packages.slice(1)], { cwd: dir });
  await ok(['repo', 'remove', 'repo', 'alpha-1.0'], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  const next = { serial: 3, offered: ['alpha-2.0', 'beta-1.0', 'gamma-1.0'] };

  let completed = false;
  const seen: number[] = [];
  for (let step = 1; step < 100 && !completed; step++) {
    const result = await kiln(['repo', 'push', 'repo'], { cwd: dir, env: { KILN_TEST_KILL_AT_STEP: String(step) } });
    completed = result.code === 0;
    assert.ok(completed || result.code === null, `push killed at step ${step}: ${result.stderr}`);
    const state = await clientOf(dir, join(dir, 'mirror'), prefix);
    assert.ok(
      (state.serial === old.serial && state.offered.join() === old.offered.join()) ||
        (state.serial === next.serial && state.offered.join() === next.offered.join()),
      `after a kill at step ${step} the mirror serves ${JSON.stringify(state)}`,
    );
    seen.push(state.serial);
  }
  assert.ok(completed, 'the push completed once the kill step was past its last step');
  assert.ok(seen.length > 5, `only ${seen.length} steps`);
  // Serials never went down, and the new one was installable.
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    seen,
  );
  await ok(['--prefix', prefix, 'install', 'alpha', 'beta', 'gamma', '-y'], { cwd: dir });
});
