/**
 * `kiln repo revert DIR SERIAL`: the package set of an earlier serial is
 * published again as a new, higher serial, which a client already past the
 * bad serial takes as an update (not a rollback); refused, publishing
 * nothing, for a serial that is not earlier, with packages staged, and when
 * the earlier index or one of its package files was pruned.
 */
import * as assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish, syncedPrefix } from './helpers/client.js';
import { parseJson, tempDir } from './helpers/kiln.js';

const serialOf = async (dir: string): Promise<number> => {
  const status = parseJson(await ok(['repo', 'status', 'repo', '--json'], { cwd: dir })) as {
    published: { serial: number };
  };
  return status.published.serial;
};

const available = async (prefix: string, dir: string): Promise<string[]> => {
  const rows = parseJson(await ok(['--prefix', prefix, 'list', '--available', '--json'], { cwd: dir })) as {
    name: string;
    version: string;
  }[];
  return rows.map((row) => `${row.name}-${row.version}`).sort();
};

test('repo revert publishes an earlier package set as a new serial, which clients take as an update', async (t) => {
  const dir = await tempDir(t);
  const first = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'alpha 1\n' } },
    { name: 'beta', version: '1.0', tree: { 'share/beta/b': 'beta 1\n' } },
  ]);
  await publish(dir, first);
  const prefix = await syncedPrefix(dir);
  assert.deepEqual(await available(prefix, dir), ['alpha-1.0', 'beta-1.0']);

  // Serial 2: a bad publish (alpha 2.0 replaces 1.0, beta goes).
  const bad = await packAll(dir, [{ name: 'alpha', version: '2.0', tree: { 'share/alpha/a': 'alpha 2\n' } }]);
  await ok(['repo', 'add', 'repo', ...bad], { cwd: dir });
  await ok(['repo', 'remove', 'repo', 'alpha-1.0', 'beta-1.0'], { cwd: dir });
  await ok(['repo', 'commit', 'repo', '-m', 'bad'], { cwd: dir });
  // repo init published serial 1 (empty), the first commit serial 2.
  assert.equal(await serialOf(dir), 3);
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.deepEqual(await available(prefix, dir), ['alpha-2.0']);

  const reverted = parseJson(await ok(['repo', 'revert', 'repo', '2', '--json'], { cwd: dir })) as {
    serial: number;
    revertedTo: number;
    added: number;
    retired: number;
    packages: number;
  };
  assert.equal(reverted.serial, 4);
  assert.equal(reverted.revertedTo, 2);
  assert.equal(reverted.added, 2);
  assert.equal(reverted.retired, 1);
  assert.equal(reverted.packages, 2);
  await ok(['repo', 'verify', 'repo'], { cwd: dir });
  const log = await ok(['repo', 'log', 'repo'], { cwd: dir });
  assert.match(log, /revert to serial 2/);

  // The client was at serial 3: serial 4 is newer, so it is accepted, and it offers serial 2's packages.
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.deepEqual(await available(prefix, dir), ['alpha-1.0', 'beta-1.0']);
  await ok(['--prefix', prefix, 'install', 'alpha', '-y'], { cwd: dir });
});

test('repo revert refuses, publishing nothing: not an earlier serial, packages staged, pruned index or file', async (t) => {
  const dir = await tempDir(t);
  const packages = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'alpha 1\n' } },
    { name: 'beta', version: '1.0', tree: { 'share/beta/b': 'beta 1\n' } },
    { name: 'gamma', version: '1.0', tree: { 'share/gamma/g': 'gamma 1\n' } },
  ]);
  await publish(dir, packages.slice(0, 1));
  for (const [index, name] of [
    [1, 'beta'],
    [2, 'gamma'],
  ] as const) {
    await ok(['repo', 'add', 'repo', packages[index]!], { cwd: dir });
    await ok(['repo', 'commit', 'repo', '-m', `add ${name}`], { cwd: dir });
  }
  assert.equal(await serialOf(dir), 4);

  for (const serial of ['4', '5', '99'])
    await fails(['repo', 'revert', 'repo', serial], 'E_USAGE', /an earlier one is 1 to 3/, { cwd: dir });
  await fails(['repo', 'revert', 'repo', '0'], 'E_USAGE', /SERIAL is a published serial/, { cwd: dir });
  await fails(['repo', 'revert', 'repo', 'two'], 'E_USAGE', /SERIAL is a published serial/, { cwd: dir });

  await ok(['repo', 'remove', 'repo', 'gamma-1.0'], { cwd: dir });
  await fails(['repo', 'revert', 'repo', '1'], 'E_REPO_CONFLICT', /packages are staged/, { cwd: dir });
  await ok(['repo', 'commit', 'repo', '-m', 'retire gamma'], { cwd: dir });
  assert.equal(await serialOf(dir), 5);

  // Serial 2's index pruned (only the newest 2 kept): refused.
  await ok(['repo', 'prune', 'repo', '--keep', '2'], { cwd: dir });
  await fails(['repo', 'revert', 'repo', '2'], 'E_REPO_PRUNED', /serial 2: its index .* was pruned/, { cwd: dir });
  // Serial 4's index is kept, but a package file it names is gone: refused, naming it.
  const gamma = packages[2]!.split('/').pop()!;
  await rm(join(dir, 'repo', 'public', 'packages', 'app-misc', 'gamma', gamma), { force: true });
  await fails(
    ['repo', 'revert', 'repo', '4'],
    'E_REPO_PRUNED',
    new RegExp(`1 of its package files is gone: .*${gamma}`),
    {
      cwd: dir,
    },
  );
  assert.equal(await serialOf(dir), 5);
});
