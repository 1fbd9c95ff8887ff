/**
 * Publishing is atomic and crash-safe: readers fetching over real HTTP while
 * commits run always get a complete, correctly signed index whose serial
 * never goes back; a commit killed with SIGKILL at a random moment leaves a
 * repository that verifies, and the next command finishes or forgets it.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pack, parsePackInput } from '../src/format/index.js';
import { readPublishedIndex, repositoryPaths } from '../src/repo/index.js';
import { readPublicKeyFile, readSecretKeyFile } from '../src/sign/index.js';
import { makeTree } from './helpers/fixtures.js';
import { KILN_BIN, kiln, tempDir, parseJson } from './helpers/kiln.js';
import { httpFetcher, serveDirectory } from './helpers/staticServer.js';

async function ok(args: string[], cwd: string): Promise<string> {
  const result = await kiln(args, { cwd });
  assert.equal(result.code, 0, `kiln ${args.join(' ')}\n${result.stderr}`);
  return result.stdout;
}

/** Pack `count` small signed packages named p0..pN in-process (fast). */
async function packMany(dir: string, count: number): Promise<string[]> {
  const key = await readSecretKeyFile(join(dir, 'keys', 'kiln.key'));
  await makeTree(join(dir, 'stage'), { 'share/p/data': 'payload\n' });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const input = parsePackInput(
      {
        name: `p${i}`,
        category: 'test',
        version: '1.0',
        summary: `package ${i}`,
        license: 'MIT',
        target: { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' },
      },
      `p${i}`,
    );
    paths.push(
      (await pack({ stageDir: join(dir, 'stage'), input, outDir: join(dir, 'out'), secretKey: key, durable: false }))
        .path,
    );
  }
  return paths;
}

test('readers over HTTP never see a mixed or older index while commits run', async (t) => {
  const dir = await tempDir(t);
  await ok(['key', 'generate', '--out', 'keys'], dir);
  const packages = await packMany(dir, 3);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main'], dir);
  await ok(['repo', 'add', 'repo', ...packages], dir);
  await ok(['repo', 'commit', 'repo'], dir);
  const server = await serveDirectory(join(dir, 'repo', 'public'));
  t.after(() => server.close());
  const trusted = [await readPublicKeyFile(join(dir, 'keys', 'kiln.pub'))];

  const COMMITS = 12;
  const committer = spawn(
    'bash',
    [
      '-c',
      `for i in $(seq ${COMMITS}); do "${process.execPath}" "${KILN_BIN}" repo commit repo --allow-empty -m "round $i" >/dev/null || exit 1; done`,
    ],
    { cwd: dir, stdio: 'inherit' },
  );
  const finished = new Promise<number | null>((resolve) => committer.on('close', resolve));
  let done = false;
  void finished.then(() => (done = true));

  let reads = 0;
  let lastSerial = 0;
  const serials = new Set<number>();
  while (!done) {
    const { index } = await readPublishedIndex(httpFetcher(server.url), trusted, server.url);
    assert.ok(index.serial >= lastSerial, `serial went back from ${lastSerial} to ${index.serial}`);
    assert.equal(index.packages.length, 3);
    lastSerial = index.serial;
    serials.add(index.serial);
    reads++;
  }
  assert.equal(await finished, 0);
  const { index } = await readPublishedIndex(httpFetcher(server.url), trusted, server.url);
  assert.equal(index.serial, 2 + COMMITS);
  // The readers really did overlap the commits.
  assert.ok(serials.size >= 3, `reads saw ${serials.size} serials in ${reads} reads`);
  t.diagnostic(`${reads} verified reads over HTTP saw ${serials.size} different serials`);
});

test('a commit killed with SIGKILL at a random moment is finished or forgotten by the next command', async (t) => {
  const dir = await tempDir(t);
  await ok(['key', 'generate', '--out', 'keys'], dir);
  const TRIALS = 15;
  const packages = await packMany(dir, TRIALS);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], dir);
  const trusted = [await readPublicKeyFile(join(dir, 'keys', 'kiln.pub'))];
  const localFetch = async (path: string): Promise<Buffer | undefined> =>
    readFile(join(dir, 'repo', 'public', path)).catch(() => undefined);
  let killedMidway = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    await ok(['repo', 'add', 'repo', packages[trial]!], dir);
    const child = spawn(process.execPath, [KILN_BIN, 'repo', 'commit', 'repo', '-m', `trial ${trial}`], {
      cwd: dir,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 80 + Math.floor(Math.random() * 320)));
    child.kill('SIGKILL');
    if ((await exited) === null) killedMidway++;

    // Whatever happened, the published repository is consistent...
    const { index } = await readPublishedIndex(localFetch, trusted, 'repo');
    await ok(['repo', 'verify', 'repo'], dir);
    // ...and the next command finishes the commit or commits the stage anew.
    await ok(['repo', 'commit', 'repo', '--allow-empty', '-m', `after trial ${trial}`], dir);
    const status = parseJson(await ok(['repo', 'status', 'repo', '--json'], dir)) as {
      published: { packages: number; serial: number };
      staged: { adds: unknown[] };
    };
    assert.equal(status.staged.adds.length, 0, `trial ${trial}: stage cleared`);
    assert.equal(status.published.packages, trial + 1, `trial ${trial}: every staged package published once`);
    assert.ok(status.published.serial > index.serial);
    for (const sub of ['public', 'public/indexes', '.kiln']) {
      const leftovers = (await readdir(join(dir, 'repo', sub))).filter(
        (name) => name.endsWith('.tmp') || name.endsWith('.stale'),
      );
      assert.deepEqual(leftovers, [], `trial ${trial}: temporary files left in repo/${sub}`);
    }
  }
  const log = parseJson(await ok(['repo', 'log', 'repo', '--json'], dir)) as { serial: number }[];
  const serials = log.map((record) => record.serial).reverse();
  assert.deepEqual(
    serials,
    [...new Set(serials)].sort((a, b) => a - b),
    'log serials strictly increasing, no duplicates',
  );
  t.diagnostic(`${killedMidway} of ${TRIALS} commits were killed before they finished`);
});

test('recovery: a journal for a published commit is finished; one for an unpublished commit is dropped', async (t) => {
  const dir = await tempDir(t);
  await ok(['key', 'generate', '--out', 'keys'], dir);
  const [first, second] = await packMany(dir, 2);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key'], dir);
  const paths = repositoryPaths(join(dir, 'repo'));

  // Published but not finished: the stage and journal survive a crash after the index was replaced.
  await ok(['repo', 'add', 'repo', first!], dir);
  await copyFile(paths.stage, join(dir, 'stage.saved'));
  await ok(['repo', 'commit', 'repo', '-m', 'first'], dir);
  await copyFile(join(dir, 'stage.saved'), paths.stage);
  await writeFile(
    paths.journal,
    JSON.stringify({ serial: 2, time: '2026-01-01T00:00:00Z', message: 'first', added: [], retired: [], packages: 1 }),
  );
  const nothing = await kiln(['repo', 'commit', 'repo'], { cwd: dir });
  assert.match(nothing.stderr, /error\[E_REPO_NOTHING\]/, 'recovery cleared the stage of the finished commit');

  // Not published: the journal names a serial that never appeared; the stage is kept.
  await ok(['repo', 'add', 'repo', second!], dir);
  await writeFile(
    paths.journal,
    JSON.stringify({ serial: 3, time: '2026-01-01T00:00:00Z', message: 'lost', added: [], retired: [], packages: 2 }),
  );
  assert.match(await ok(['repo', 'commit', 'repo', '-m', 'second'], dir), /serial 3: 1 added/);
  const log = parseJson(await ok(['repo', 'log', 'repo', '--json'], dir)) as { serial: number; message: string }[];
  assert.deepEqual(
    log.map((record) => record.message),
    ['second', 'first', 'initialize repository'],
  );
});
