/**
 * `kiln repo push` to an rsync mirror over ssh, against a real OpenSSH server
 * on loopback (helpers/sshd.ts) with real rsync: the first push copies the
 * tree, a later one only what is new, pointers last; a push killed after any
 * of its steps leaves the mirror serving a whole serial, old or new, that a
 * client syncs; `repo mirrors` reads the mirror over its URL and flags a lag;
 * `--prune` deletes only when asked; a changed host key fails the push with
 * E_PUSH and changes nothing.
 */
import * as assert from 'node:assert/strict';
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { kiln, parseJson, tempDir } from './helpers/kiln.js';
import { startSshd } from './helpers/sshd.js';

async function treeOf(root: string, relative = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) found.push(...(await treeOf(root, path)));
    else found.push(path);
  }
  return found.sort();
}

async function clientSerial(dir: string, prefix: string): Promise<{ serial: number; offered: string[] }> {
  const sync = parseJson(await ok(['--prefix', prefix, 'sync', '--json'], { cwd: dir })) as { serial: number }[];
  const rows = parseJson(await ok(['--prefix', prefix, 'list', '--available', '--json'], { cwd: dir })) as {
    name: string;
    version: string;
  }[];
  return { serial: sync[0]!.serial, offered: rows.map((row) => `${row.name}-${row.version}`).sort() };
}

test('repo push over rsync and ssh: pointers last, kill -9 after any step leaves a whole serial, lag flagged, prune on request', async (t) => {
  const dir = await tempDir(t);
  const sshd = await startSshd(t);
  const mirror = join(sshd.mirrors, 'far', 'pub');
  const packages = await packAll(dir, [
    { name: 'alpha', version: '1.0', tree: { 'share/alpha/a': 'alpha 1\n' } },
    { name: 'alpha', version: '2.0', tree: { 'share/alpha/a': 'alpha 2\n' } },
    { name: 'beta', version: '1.0', tree: { 'share/beta/b': 'beta\n' } },
  ]);
  await publish(dir, packages.slice(0, 1));
  const config = join(dir, 'repo', '.kiln', 'config.toml');
  await appendFile(
    config,
    `\n[mirrors.far]\nrsync = "${sshd.user}@127.0.0.1:${mirror}"\nssh = "${sshd.ssh}"\nurl = "${mirror}"\n`,
  );

  const first = parseJson(await ok(['repo', 'push', 'repo', '--json'], { cwd: dir })) as {
    mirror: string;
    serial: number;
    copied: number;
    pointers: number;
  }[];
  assert.deepEqual(
    first.map((row) => [row.mirror, row.serial, row.pointers]),
    [['far', 2, 4]],
  );
  assert.ok(first[0]!.copied > 3, `${first[0]!.copied} files copied`);
  assert.deepEqual(await treeOf(mirror), await treeOf(join(dir, 'repo', 'public')));
  assert.deepEqual(
    await readFile(join(mirror, 'index.json.minisig')),
    await readFile(join(dir, 'repo', 'public', 'index.json.minisig')),
  );
  const again = parseJson(await ok(['repo', 'push', 'repo', '--json'], { cwd: dir })) as { copied: number }[];
  assert.equal(again[0]!.copied, 0, 'nothing new to copy');

  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', mirror, '--key', 'keys/kiln.pub'], { cwd: dir });
  const old = { serial: 2, offered: ['alpha-1.0'] };
  assert.deepEqual(await clientSerial(dir, prefix), old);

  // Serial 3, and the mirror lags until pushed.
  await ok(['repo', 'add', 'repo', ...packages.slice(1)], { cwd: dir });
  await ok(['repo', 'remove', 'repo', 'alpha-1.0'], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  const lag = await kiln(['repo', 'mirrors', 'repo'], { cwd: dir });
  assert.equal(lag.code, 1);
  assert.match(lag.stdout, /far +2 .*LAGS 1 serial/);

  // A changed host key: refused, nothing on the mirror changes.
  const honest = await readFile(config, 'utf8');
  await writeFile(config, honest.replace(/UserKnownHostsFile=[^ "]+/, `UserKnownHostsFile=${sshd.wrongKnownHosts}`));
  await fails(['repo', 'push', 'repo'], 'E_PUSH', /Host key verification failed|IDENTIFICATION HAS CHANGED/, {
    cwd: dir,
  });
  assert.deepEqual(await clientSerial(dir, prefix), old);
  await writeFile(config, honest);

  // Killed after each step in turn: always a whole serial, never going down.
  const next = { serial: 3, offered: ['alpha-2.0', 'beta-1.0'] };
  const seen: number[] = [];
  let completed = false;
  for (let step = 1; step < 20 && !completed; step++) {
    const result = await kiln(['repo', 'push', 'repo'], { cwd: dir, env: { KILN_TEST_KILL_AT_STEP: String(step) } });
    completed = result.code === 0;
    assert.ok(completed || result.code === null, `push killed at step ${step}: ${result.stderr}`);
    const state = await clientSerial(dir, prefix);
    assert.ok(
      JSON.stringify(state) === JSON.stringify(old) || JSON.stringify(state) === JSON.stringify(next),
      `after a kill at step ${step} the mirror serves ${JSON.stringify(state)}`,
    );
    seen.push(state.serial);
  }
  assert.ok(completed, 'the push completed once the kill step was past its last step');
  assert.ok(seen.length >= 5, `${seen.length} steps`);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    seen,
  );
  assert.equal((await kiln(['repo', 'mirrors', 'repo'], { cwd: dir })).code, 0);
  await ok(['--prefix', prefix, 'install', 'alpha', 'beta', '-y'], { cwd: dir });

  // Prune: only with --prune, and only what the tree no longer has.
  await ok(['repo', 'prune', 'repo', '--keep', '1'], { cwd: dir });
  await ok(['repo', 'push', 'repo'], { cwd: dir });
  const serial2 = async () => (await readdir(join(mirror, 'indexes'))).filter((name) => /^2\./.test(name));
  assert.ok((await serial2()).length > 0, 'a push without --prune deletes nothing');
  const pruned = parseJson(await ok(['repo', 'push', 'repo', '--prune', '--json'], { cwd: dir })) as {
    pruned: number;
  }[];
  assert.ok(pruned[0]!.pruned > 0);
  assert.deepEqual(await serial2(), []);
  assert.deepEqual(await treeOf(mirror), await treeOf(join(dir, 'repo', 'public')));
  assert.deepEqual(await clientSerial(dir, prefix), next);
});

test('an rsync mirror is checked when the configuration is read', async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [{ name: 'alpha', version: '1.0', tree: { 'share/a': 'a\n' } }]));
  const config = join(dir, 'repo', '.kiln', 'config.toml');
  const original = await readFile(config, 'utf8');
  for (const [table, problem] of [
    ['rsync = "-oProxyCommand=evil:/x"', /must be \[USER@\]HOST:\/ABSOLUTE\/DIR/],
    ['rsync = "host:relative/dir"', /must be \[USER@\]HOST:\/ABSOLUTE\/DIR/],
    ['rsync = "host:/x"\npath = "/y"', /either path .* or rsync/],
    ['path = "/y"\nssh = "ssh -p 2"', /ssh is for rsync mirrors only|mirrors\.far\.ssh/],
  ] as const) {
    await writeFile(config, `${original}\n[mirrors.far]\n${table}\n`);
    await fails(['repo', 'push', 'repo'], 'E_REPO_NOT_FOUND', problem, { cwd: dir });
  }
});
