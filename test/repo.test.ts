/**
 * The publisher's workflow end to end, through the real CLI: keys, packing
 * variants, repo init/add/status/commit/verify/remove/prune/log, and the real
 * `minisign` checking what Kiln published.
 */
import * as assert from 'node:assert/strict';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { minisign, requireMinisign } from './helpers/minisign.js';
import { makeTree, writeMeta } from './helpers/fixtures.js';
import { kiln, run, tempDir, parseJson } from './helpers/kiln.js';

async function ok(args: string[], cwd: string, env?: Record<string, string>): Promise<string> {
  const result = await kiln(args, { cwd, ...(env ? { env } : {}) });
  assert.equal(result.code, 0, `kiln ${args.join(' ')}\n${result.stderr}`);
  return result.stdout;
}

async function fails(
  args: string[],
  cwd: string,
  code: string,
  pattern: RegExp,
  env?: Record<string, string>,
): Promise<string> {
  const result = await kiln(args, { cwd, ...(env ? { env } : {}) });
  assert.equal(
    result.code,
    code === 'E_USAGE' ? 2 : 1,
    `kiln ${args.join(' ')} should fail\n${result.stdout}${result.stderr}`,
  );
  assert.ok(result.stderr.includes(`error[${code}]`), result.stderr);
  assert.match(result.stderr, pattern);
  return result.stderr;
}

/** A key, a stage tree and three packages: two variants of hello, and zlib. */
async function setUp(t: TestContext): Promise<{ dir: string; packages: string[] }> {
  const dir = await tempDir(t);
  await ok(['key', 'generate', '--out', 'keys'], dir);
  await makeTree(join(dir, 'stage'), {
    'bin/hello': { content: '#!/bin/sh\necho hello\n', mode: 0o755 },
    'etc/hello.conf': 'greeting=hi\n',
  });
  await makeTree(join(dir, 'zstage'), {
    'lib/libz.so.1.3.1': Buffer.alloc(4096, 7),
    'lib/libz.so.1': { symlink: 'libz.so.1.3.1' },
  });
  const metas = [
    await writeMeta(join(dir, 'hello-nls.json'), {
      options: { nls: true },
      depends: ['zlib >=1.2'],
      extra: { configFiles: ['etc/hello.conf'], defaults: { nls: false } },
    }),
    await writeMeta(join(dir, 'hello-nonls.json'), {
      options: { nls: false },
      depends: ['zlib >=1.2'],
      extra: { configFiles: ['etc/hello.conf'] },
    }),
    await writeMeta(join(dir, 'zlib.json'), {
      name: 'zlib',
      version: '1.3.1',
      extra: { provides: { sonames: ['libz.so.1'] } },
    }),
  ];
  const packages: string[] = [];
  for (const [i, meta] of metas.entries()) {
    const out = parseJson(
      await ok(
        ['pack', i < 2 ? 'stage' : 'zstage', '--meta', meta, '--out', 'out', '--key', 'keys/kiln.key', '--json'],
        dir,
      ),
    ) as { path: string };
    packages.push(out.path);
  }
  return { dir, packages };
}

test('publish: key, two variants of one package and another package, init/add/status/commit/verify, checked by minisign', async (t) => {
  const { dir, packages } = await setUp(t);
  await requireMinisign(dir);
  assert.equal(new Set(packages).size, 3, 'two variants of hello get two file names');

  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main'], dir);
  const added = await kiln(['repo', 'add', 'repo', ...packages], { cwd: dir });
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout.split('\n').filter((line) => line.startsWith('staged')).length, 3);

  const status = parseJson(await ok(['repo', 'status', 'repo', '--json'], dir)) as {
    published: { serial: number; packages: number };
    staged: { adds: unknown[] };
  };
  assert.equal(status.published.serial, 1);
  assert.equal(status.published.packages, 0);
  assert.equal(status.staged.adds.length, 3);
  assert.match(await ok(['repo', 'status', 'repo'], dir), /staged for the next commit \(3 to add, 0 to retire\)/);

  assert.match(
    await ok(['repo', 'commit', 'repo', '-m', 'first packages'], dir),
    /published main serial 2: 3 added, 0 retired, 3 packages;/,
  );
  assert.match(await ok(['repo', 'status', 'repo'], dir), /serial 2, 3 packages,[\s\S]*nothing staged/);
  assert.match(
    await ok(['repo', 'verify', 'repo'], dir),
    /serial 2: index signed by key [0-9A-F]{16}, 3 packages verified/,
  );

  // Both variants of hello sit side by side under one directory.
  const helloFiles = await readdir(join(dir, 'repo', 'public', 'packages', 'app-misc', 'hello'));
  assert.equal(helloFiles.length, 2);

  // The real minisign accepts the published index and a package's own signature with the published key.
  const [keyFile] = await readdir(join(dir, 'repo', 'public', 'keys'));
  const pub = join(dir, 'repo', 'public', 'keys', keyFile!);
  const indexCheck = await minisign(['-Vm', 'repo/public/index.json', '-p', pub], { cwd: dir });
  assert.equal(indexCheck.code, 0, indexCheck.stderr);
  assert.match(indexCheck.stdout, /Trusted comment: kiln index main serial 2/);
  const published = join(dir, 'repo', 'public', 'packages', 'app-misc', 'hello', helloFiles[0]!);
  await mkdir(join(dir, 'extracted'));
  const untar = await run('tar', ['-xf', published, '-C', 'extracted', 'metadata.json', 'metadata.json.minisig'], {
    cwd: dir,
  });
  assert.equal(untar.code, 0, untar.stderr);
  const packageCheck = await minisign(['-Vm', 'extracted/metadata.json', '-p', pub], { cwd: dir });
  assert.equal(packageCheck.code, 0, packageCheck.stderr);
  assert.match(packageCheck.stdout, /Trusted comment: kiln package hello-1.0 variant [0-9a-f]{12}/);

  // Changing one byte of the index: minisign and kiln both refuse it.
  const index = await readFile(join(dir, 'repo', 'public', 'index.json'));
  const changed = Buffer.from(index);
  changed[Math.floor(index.length / 2)]! ^= 0x01;
  await writeFile(join(dir, 'repo', 'public', 'index.json'), changed);
  const tampered = await minisign(['-Vm', 'repo/public/index.json', '-p', pub], { cwd: dir });
  assert.notEqual(tampered.code, 0);
  await fails(['repo', 'verify', 'repo'], dir, 'E_REPO_VERIFY', /index.json differs from the signed snapshot/);
  await fails(['verify', 'repo/public/index.json', '--trust', pub], dir, 'E_SIGNATURE_INVALID', /index.json/);
  await writeFile(join(dir, 'repo', 'public', 'indexes', '2.json'), changed);
  await fails(['repo', 'verify', 'repo'], dir, 'E_SIGNATURE_INVALID', /indexes\/2.json/);
  await writeFile(join(dir, 'repo', 'public', 'indexes', '2.json'), index);
  await writeFile(join(dir, 'repo', 'public', 'index.json'), index);
  await ok(['repo', 'verify', 'repo'], dir);

  // Changing one byte of a package: verification fails and names it.
  const original = await readFile(published);
  const damaged = Buffer.from(original);
  damaged[original.length - 2000]! ^= 0x01;
  await writeFile(published, damaged);
  await fails(
    ['repo', 'verify', 'repo'],
    dir,
    'E_REPO_VERIFY',
    new RegExp(`${helloFiles[0]!.replace(/\./g, '\\.')}: sha256 differs`),
  );
  await writeFile(published, original);
  await ok(['repo', 'verify', 'repo', '--trust', pub], dir);
});

test('kiln verifies a repository against the keys a client holds, not only its own', async (t) => {
  const { dir, packages } = await setUp(t);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], dir);
  await ok(['repo', 'add', 'repo', ...packages], dir);
  await ok(['repo', 'commit', 'repo'], dir);
  await ok(['key', 'generate', '--out', 'other'], dir);
  await fails(
    ['repo', 'verify', 'repo', '--trust', 'other/kiln.pub'],
    dir,
    'E_SIGNATURE_UNTRUSTED',
    /not trusted|trusted/,
  );
});

test('repo add refuses unsigned, untrusted and conflicting packages, and stages nothing when one is bad', async (t) => {
  const { dir, packages } = await setUp(t);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], dir);
  await ok(['pack', 'stage', '--meta', 'hello-nls.json', '--out', 'unsigned'], dir);
  const [unsigned] = await readdir(join(dir, 'unsigned'));
  await fails(
    ['repo', 'add', 'repo', packages[2]!, `unsigned/${unsigned}`],
    dir,
    'E_PACKAGE_UNSIGNED',
    /carries no signature/,
  );
  assert.match(await ok(['repo', 'status', 'repo'], dir), /nothing staged/);

  await ok(['key', 'generate', '--out', 'other'], dir);
  await ok(['pack', 'stage', '--meta', 'hello-nls.json', '--out', 'foreign', '--key', 'other/kiln.key'], dir);
  const [foreign] = await readdir(join(dir, 'foreign'));
  await fails(['repo', 'add', 'repo', `foreign/${foreign}`], dir, 'E_SIGNATURE_UNTRUSTED', /package/);

  // --sign signs with the repository's own key.
  assert.match(await ok(['repo', 'add', 'repo', `unsigned/${unsigned}`, '--sign'], dir), /^staged\s+hello/m);
  // Adding the same content again changes nothing; different content under the same identity is refused.
  assert.match(await ok(['repo', 'add', 'repo', packages[0]!], dir), /^unchanged\s+hello/m);
  await ok(['repo', 'commit', 'repo'], dir);
  await writeFile(join(dir, 'stage', 'bin', 'hello'), '#!/bin/sh\necho changed\n');
  await ok(['pack', 'stage', '--meta', 'hello-nls.json', '--out', 'changed', '--key', 'keys/kiln.key'], dir);
  const [changed] = await readdir(join(dir, 'changed'));
  await fails(
    ['repo', 'add', 'repo', `changed/${changed}`],
    dir,
    'E_REPO_CONFLICT',
    /already published with different content/,
  );
  await ok(['repo', 'verify', 'repo'], dir);
});

test('remove, commit, prune and log', async (t) => {
  const { dir, packages } = await setUp(t);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], dir);
  await ok(['repo', 'add', 'repo', ...packages], dir);
  // Unstaging a staged package deletes its file.
  assert.match(await ok(['repo', 'remove', 'repo', 'zlib'], dir), /^unstaged\s+zlib\s+1.3.1/m);
  await ok(['repo', 'commit', 'repo', '-m', 'hello only'], dir);
  assert.deepEqual(await readdir(join(dir, 'repo', 'public', 'packages', 'app-misc')), ['hello']);
  await fails(['repo', 'remove', 'repo', 'zlib'], dir, 'E_REPO_NO_MATCH', /no package named zlib/);
  await fails(['repo', 'remove', 'repo', 'hello-2.0'], dir, 'E_REPO_NO_MATCH', /hello has: 1.0\//);
  await fails(['repo', 'commit', 'repo'], dir, 'E_REPO_NOTHING', /nothing is staged/);

  // Retire one variant: it leaves the index at once, its file stays for clients of the old index.
  const status = parseJson(await ok(['repo', 'status', 'repo', '--json'], dir)) as { published: { packages: number } };
  assert.equal(status.published.packages, 2);
  const variants = (await readdir(join(dir, 'repo', 'public', 'packages', 'app-misc', 'hello'))).map(
    (file) => /-([0-9a-f]{12})\.kpkg$/.exec(file)![1]!,
  );
  assert.match(
    await ok(['repo', 'remove', 'repo', 'hello-1.0', '--variant', variants[0]!], dir),
    /^retire\s+hello\s+1.0/m,
  );
  await ok(['repo', 'commit', 'repo', '-m', 'retire one'], dir);
  assert.equal((await readdir(join(dir, 'repo', 'public', 'packages', 'app-misc', 'hello'))).length, 2);
  const verify = await kiln(['repo', 'verify', 'repo'], { cwd: dir });
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stderr, /1 package file\(s\) are not in the index/);

  await ok(['repo', 'commit', 'repo', '--allow-empty', '-m', 'renew'], dir);
  await ok(['repo', 'commit', 'repo', '--allow-empty', '-m', 'renew again'], dir);
  // Keeping 2 indexes (serials 5 and 4): the retired file is referenced by neither.
  assert.match(
    await ok(['repo', 'prune', 'repo', '--keep', '2'], dir),
    /removed 3 index snapshot\(s\) and 1 package file\(s\)/,
  );
  assert.equal((await readdir(join(dir, 'repo', 'public', 'packages', 'app-misc', 'hello'))).length, 1);
  assert.deepEqual((await readdir(join(dir, 'repo', 'public', 'indexes'))).sort(), [
    '4.files.json.zst',
    '4.files.json.zst.minisig',
    '4.json',
    '4.json.minisig',
    '4.v2.json',
    '4.v2.json.minisig',
    '5.files.json.zst',
    '5.files.json.zst.minisig',
    '5.json',
    '5.json.minisig',
    '5.v2.json',
    '5.v2.json.minisig',
  ]);
  await ok(['repo', 'verify', 'repo'], dir);

  const log = parseJson(await ok(['repo', 'log', 'repo', '--json'], dir)) as { serial: number; message: string }[];
  assert.deepEqual(
    log.map((record) => [record.serial, record.message]),
    [
      [5, 'renew again'],
      [4, 'renew'],
      [3, 'retire one'],
      [2, 'hello only'],
      [1, 'initialize repository'],
    ],
  );
});

test('an expired index fails verification until it is renewed', async (t) => {
  const { dir } = await setUp(t);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--expire-days', '7'], dir);
  const later = { KILN_NOW: new Date(Date.now() + 8 * 86_400_000).toISOString() };
  await fails(['repo', 'verify', 'repo'], dir, 'E_REPO_VERIFY', /the index expired at/, later);
  const status = await kiln(['repo', 'status', 'repo'], { cwd: dir, env: later });
  assert.match(status.stdout, /EXPIRED/);
  assert.match(status.stderr, /has expired/);
  await ok(['repo', 'commit', 'repo', '--allow-empty'], dir, later);
  await ok(['repo', 'verify', 'repo'], dir, later);
});

test('repo init refuses a non-empty directory and a missing key', async (t) => {
  const { dir } = await setUp(t);
  await fails(
    ['repo', 'init', 'stage', '--key', 'keys/kiln.key'],
    dir,
    'E_REPO_EXISTS',
    /cannot create repository stage: the directory is not empty/,
  );
  await fails(['repo', 'init', 'new', '--key', 'keys/missing.key'], dir, 'E_IO', /keys\/missing.key/);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], dir);
  await fails(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], dir, 'E_REPO_EXISTS', /already a Kiln repository/);
  await fails(['repo', 'status', 'stage'], dir, 'E_REPO_NOT_FOUND', /stage/);
});
