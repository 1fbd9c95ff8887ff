/**
 * The repository's two trees (docs/repository.md, "Layout"): DIR/public is
 * the published tree, the only thing to serve; DIR/.kiln, the maintainer's
 * private state, lies beside it and cannot be reached through it. Also: a
 * repository of the earlier layout is refused with the move that fixes it,
 * a client given DIR instead of DIR/public is told so, and `kiln repo verify`
 * finds private things copied or linked into the published tree.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rename, rmdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { prefixPaths } from '../src/config/index.js';
import { isKilnError } from '../src/errors/index.js';
import { initPrefix, openPrefix } from '../src/install/index.js';
import { ensureLocalRepository } from '../src/install/buildMissing.js';
import { fails, ok, packAll, publish } from './helpers/client.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';
import { serveDirectory } from './helpers/staticServer.js';

const tree = { 'share/x': 'x\n' };

test('a naive server on DIR/public serves the index and packages, and cannot reach the configuration, the stage or the log', async (t) => {
  const dir = await tempDir(t);
  const [one, two] = await packAll(dir, [
    { name: 'one', version: '1.0', tree },
    { name: 'two', version: '1.0', tree },
  ]);
  await publish(dir, [one!]);
  // Something staged and not yet committed: the stage must exist while the tree is served.
  await ok(['repo', 'add', 'repo', two!], { cwd: dir });
  const repo = join(dir, 'repo');
  for (const file of ['config.toml', 'stage.jsonl', 'log.jsonl'])
    assert.ok((await readdir(join(repo, '.kiln'))).includes(file), `.kiln/${file} exists`);

  // Served as "python3 -m http.server" would serve it: dot files and all.
  const server = await serveDirectory(join(repo, 'public'), { dotfiles: true });
  t.after(() => server.close());
  const status = async (path: string): Promise<number> => (await fetch(`${server.url}/${path}`)).status;
  const index = parseJson(await (await fetch(`${server.url}/index.json`)).text()) as {
    serial: number;
    packages: { path: string }[];
  };
  assert.equal(index.serial, 2);
  const [key] = await readdir(join(repo, 'public', 'keys'));
  for (const path of [
    'index.json.minisig',
    'indexes/2.json',
    'indexes/2.json.minisig',
    `keys/${key!}`,
    index.packages[0]!.path,
  ])
    assert.equal(await status(path), 200, path);
  for (const path of [
    '.kiln/config.toml',
    '.kiln/stage.jsonl',
    '.kiln/log.jsonl',
    '.kiln/maintainer.lock',
    '../.kiln/config.toml',
    '%2e%2e/.kiln/config.toml',
    'keys/../../.kiln/config.toml',
  ]) {
    assert.equal(await status(path), 404, `${path} is not served`);
  }
  const served = spawnSync('find', [join(repo, 'public'), '-type', 'f'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(served, /\.kiln|\.key$/, 'nothing private anywhere in the published tree');
  for (const file of served.trim().split('\n'))
    assert.doesNotMatch(
      await readFile(file, 'latin1'),
      /signingKey|"op":"add"/,
      `${file} holds nothing of the configuration or the stage`,
    );

  // A client installs over that server; the maintainer's verify agrees.
  const env = { KILN_PREFIX: join(dir, 'p') };
  await ok(['init'], { cwd: dir, env });
  await ok(['remote', 'add', 'main', server.url, '--key', 'keys/kiln.pub'], { cwd: dir, env });
  await ok(['sync'], { cwd: dir, env });
  assert.match(await ok(['install', 'one', '-y'], { cwd: dir, env }), /install\s+one\s+1\.0/);
  await ok(['repo', 'verify', 'repo'], { cwd: dir });
});

test('repo init says what to serve; repo commands take DIR, not DIR/public', async (t) => {
  const dir = await tempDir(t);
  await packAll(dir, []);
  const init = await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main'], { cwd: dir });
  assert.match(init, /serve repo\/public \(only that directory\)/);
  assert.deepEqual((await readdir(join(dir, 'repo'))).sort(), ['.kiln', 'public']);
  assert.deepEqual((await readdir(join(dir, 'repo', 'public'))).sort(), [
    'index.json',
    'index.json.minisig',
    'index.v2.json',
    'index.v2.json.minisig',
    'indexes',
    'keys',
    'packages',
    'v2',
  ]);
  await fails(
    ['repo', 'status', 'repo/public'],
    'E_REPO_NOT_FOUND',
    /it is the published tree of the repository .*\/repo\nhint: "kiln repo" commands take the maintainer's directory: use .*\/repo\n/,
    { cwd: dir },
  );
});

test('a repository of the earlier layout is refused, unchanged, with the move that fixes it', async (t) => {
  const dir = await tempDir(t);
  const [one, two] = await packAll(dir, [
    { name: 'one', version: '1.0', tree },
    { name: 'two', version: '1.0', tree },
  ]);
  await publish(dir, [one!]);
  // The earlier layout: the published files directly in DIR, beside .kiln/.
  const repo = join(dir, 'repo');
  for (const name of await readdir(join(repo, 'public'))) await rename(join(repo, 'public', name), join(repo, name));
  await rmdir(join(repo, 'public'));
  const before = spawnSync('find', [repo, '-printf', '%p %s\n'], { encoding: 'utf8' }).stdout;

  let hint = '';
  for (const args of [
    ['repo', 'status', 'repo'],
    ['repo', 'add', 'repo', two!],
    ['repo', 'commit', 'repo', '--allow-empty'],
    ['repo', 'verify', 'repo'],
    ['repo', 'prune', 'repo'],
    ['repo', 'log', 'repo'],
  ]) {
    const result = await fails(
      args,
      'E_REPO_LAYOUT',
      /cannot open repository repo: its published files lie beside its private \.kiln\/ \(the earlier layout\)/,
      { cwd: dir },
    );
    hint = /^hint: .*\("(mkdir [^"]*)"\)/m.exec(result.stderr)?.[1] ?? '';
  }
  assert.equal(
    spawnSync('find', [repo, '-printf', '%p %s\n'], { encoding: 'utf8' }).stdout,
    before,
    'nothing was changed',
  );
  await fails(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], 'E_REPO_EXISTS', /already a Kiln repository/, {
    cwd: dir,
  });

  assert.equal(
    hint,
    'mkdir -p repo/public && mv repo/index.json repo/index.json.minisig repo/indexes repo/keys repo/packages repo/public/',
  );

  // A move left half done is still refused, and the hint names what is left to move.
  await mkdir(join(repo, 'public'));
  await rename(join(repo, 'keys'), join(repo, 'public', 'keys'));
  const half = await fails(['repo', 'status', 'repo'], 'E_REPO_LAYOUT', /the earlier layout/, { cwd: dir });
  hint = /^hint: .*\("(mkdir [^"]*)"\)/m.exec(half.stderr)?.[1] ?? '';
  assert.equal(
    hint,
    'mkdir -p repo/public && mv repo/index.json repo/index.json.minisig repo/indexes repo/packages repo/public/',
  );

  // The hint's command, as given, makes it a repository of the current layout with its history.
  const moved = spawnSync('bash', ['-c', hint], { cwd: dir, encoding: 'utf8' });
  assert.equal(moved.status, 0, moved.stderr);
  await ok(['repo', 'verify', 'repo'], { cwd: dir });
  await ok(['repo', 'add', 'repo', two!], { cwd: dir });
  assert.match(await ok(['repo', 'commit', 'repo'], { cwd: dir }), /serial 3: 1 added/);
});

test("a prefix's own repository: made with a public/ tree, refused in the earlier layout", async (t) => {
  const dir = await tempDir(t);
  const paths = prefixPaths(join(dir, 'p'));
  const local = await ensureLocalRepository(paths);
  assert.equal(local.published, join(local.dir, 'public'));
  assert.ok((await readdir(local.published)).includes('index.json.minisig'));
  assert.deepEqual(await ensureLocalRepository(paths), local, 'made once');
  for (const name of await readdir(local.published)) await rename(join(local.published, name), join(local.dir, name));
  await rmdir(local.published);
  await assert.rejects(
    ensureLocalRepository(paths),
    (error: unknown) => isKilnError(error, 'E_REPO_LAYOUT') && error.message.includes('var/lib/kiln/local-repo'),
  );
});

test("a client given the maintainer's directory instead of DIR/public is told to use DIR/public", async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [{ name: 'one', version: '1.0', tree }]));
  const repo = join(dir, 'repo');
  const env = { KILN_PREFIX: join(dir, 'p') };
  await ok(['init'], { cwd: dir, env });
  const hint = (base: string): RegExp =>
    new RegExp(
      `is a repository's maintainer directory, not its published tree\\nhint: use ${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/public, the directory the repository publishes`,
    );
  // A relative path is taken from the current directory, as remote add always does.
  for (const [given, base] of [
    [repo, repo],
    [`file://${repo}`, `file://${repo}`],
    ['repo', repo],
  ] as const) {
    await fails(['remote', 'add', 'main', given, '--key', 'keys/kiln.pub'], 'E_REPO_NOT_FOUND', hint(base), {
      cwd: dir,
      env,
    });
  }
  assert.match(await ok(['remote', 'list'], { cwd: dir, env }), /no remotes/i, 'nothing was added');

  // Past the command line (the library, or a server serving DIR): sync says the same.
  const server = await serveDirectory(repo, { dotfiles: true });
  t.after(() => server.close());
  await initPrefix(join(dir, 'lib'));
  const prefix = await openPrefix(join(dir, 'lib'));
  t.after(() => prefix.close());
  const key = await readFile(join(dir, 'keys', 'kiln.pub'), 'utf8');
  await prefix.addRemote('path', repo, [key]);
  await prefix.addRemote('http', server.url, [key]);
  for (const [name, base] of [
    ['path', `file://${repo}`],
    ['http', server.url],
  ] as const) {
    await assert.rejects(
      prefix.sync([name]),
      (error: unknown) =>
        isKilnError(error, 'E_REPO_NOT_FOUND') && hint(base).test(`${error.message}\nhint: ${error.hint ?? ''}`),
    );
  }
});

test('repo verify finds maintainer state and secret keys copied or linked into the published tree', async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [{ name: 'one', version: '1.0', tree }]));
  const published = join(dir, 'repo', 'public');
  await copyFile(join(dir, 'keys', 'kiln.key'), join(published, 'keys', 'backup.txt'));
  await mkdir(join(published, 'packages', '.kiln'));
  await writeFile(join(published, 'packages', '.kiln', 'config.toml'), 'format = 1\n');
  await symlink('../.kiln', join(published, 'state'));
  await symlink(join(dir, 'keys', 'kiln.key'), join(published, 'signing.key'));
  const result = await fails(['repo', 'verify', 'repo'], 'E_REPO_VERIFY', /4 problems/, { cwd: dir });
  for (const line of [
    /- public\/keys\/backup\.txt: a secret key is published/,
    /- public\/packages\/\.kiln: maintainer state is published/,
    /- public\/state: a link to .*\/repo\/\.kiln, which exposes the maintainer state/,
    /- public\/signing\.key: a secret key is published/,
    /hint: move what is private out of repo\/public at once/,
  ])
    assert.match(result.stderr, line);
  assert.equal((await kiln(['repo', 'status', 'repo'], { cwd: dir })).code, 0, 'only verify judges what is published');
});
