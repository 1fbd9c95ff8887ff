/**
 * Signed advisories end to end, with the real advisories shipped for the
 * ports tree (advisories/): a repository publishes nginx and an advisory
 * against it; over loopback HTTP an unprivileged user's install is refused
 * naming the advisory and the fixed version, goes through with
 * --allow-advisory, `kiln audit` exits 1 with the upgrade command, and once
 * the fixed version is published the same install goes through and audit
 * exits 0. A triaged advisory (zlib's MiniZip) does not stop zlib. A tampered
 * advisories file, one from an older serial, a damaged local copy and an
 * expired index are each refused with their error code.
 */
import * as assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fails, handTo, kilnAs, ok, okAs, packAll, publish, testUser } from './helpers/client.js';
import { KILN_BIN, parseJson, tempDir } from './helpers/kiln.js';
import { sourceTarball, writeRecipe } from './helpers/ports.js';
import { serveDirectory } from './helpers/staticServer.js';

/** The advisories shipped with Kiln for the ports tree. */
const SHIPPED = resolve(dirname(KILN_BIN), '../../../advisories');

const nginx = (version: string, ssl: boolean) => ({
  name: 'nginx',
  version,
  depends: ['zlib'],
  tree: { 'sbin/nginx': { content: `#!/bin/sh\necho nginx ${version}\n`, mode: 0o755 } },
  extra: { options: { ssl }, defaults: { ssl: true } },
});
const zlib = { name: 'zlib', version: '1.2.13', tree: { 'lib/libz.txt': 'zlib\n' } };

async function shippedAdvisories(): Promise<string[]> {
  return (await readdir(SHIPPED)).filter((file) => /^CVE-.*\.json$/.test(file)).map((file) => join(SHIPPED, file));
}

async function withAdvisories(dir: string): Promise<void> {
  await ok(['repo', 'advisory', 'add', 'repo', ...(await shippedAdvisories())], { cwd: dir });
  const triage = JSON.parse(await readFile(join(SHIPPED, 'triage.json'), 'utf8')) as {
    advisory: string;
    name: string;
    status: string;
    justification: string;
  }[];
  for (const record of triage)
    await ok(
      [
        'repo',
        'advisory',
        'triage',
        'repo',
        record.advisory,
        record.name,
        '--status',
        record.status,
        '--justification',
        record.justification,
      ],
      { cwd: dir },
    );
}

test('advisories over HTTP, as an unprivileged user: install refused, allowed, audited, then fixed', async (t) => {
  const dir = await tempDir(t);
  const user = testUser();
  await handTo(user, dir);
  await publish(dir, await packAll(dir, [zlib, nginx('1.22.1', true), nginx('1.22.1', false)]));
  await withAdvisories(dir);
  await ok(['repo', 'commit', 'repo', '-m', 'advisories for the ports tree'], { cwd: dir });
  const audit = await kilnAs(undefined, ['repo', 'audit', 'repo'], { cwd: dir });
  assert.equal(audit.code, 1, 'the repository audit finds the +ssl variant');
  assert.match(audit.stdout, /nginx\s+1\.22\.1\s+\S+\s+CVE-2023-44487\s+1\.25\.3/);
  assert.doesNotMatch(audit.stdout, /zlib/, 'zlib: triaged not affected');

  const server = await serveDirectory(join(dir, 'repo', 'public'));
  t.after(() => server.close());
  await handTo(user, join(dir, 'home'));
  const env = { KILN_PREFIX: join(dir, 'home', 'stack') };
  const as = (args: string[]) => okAs(user, args, { cwd: dir, env });
  await as(['init']);
  const key = join('repo/public/keys', (await readdir(join(dir, 'repo/public/keys')))[0]!);
  await as(['remote', 'add', 'main', server.url, '--key', key]);
  await as(['sync']);
  assert.match(await as(['info', 'nginx']), /CVE-2023-44487\s+fixed in 1\.25\.3/);

  const refused = await kilnAs(user, ['install', 'nginx', '-y'], { cwd: dir, env });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error\[E_ADVISORY\]/);
  assert.match(refused.stderr, /nginx 1\.22\.1 .* is affected by CVE-2023-44487 \(fixed in 1\.25\.3\)/);
  assert.match(refused.stderr, /--allow-advisory/);
  // The variant the advisory does not concern is not refused.
  assert.match(await as(['install', 'nginx[-ssl]', '--dry-run']), /install\s+nginx\s+1\.22\.1\s+\[-ssl\]/);

  await as(['install', 'nginx', '-y', '--allow-advisory', 'CVE-2023-44487']);
  const before = await kilnAs(user, ['audit'], { cwd: dir, env });
  assert.equal(before.code, 1);
  assert.match(before.stdout, /nginx\s+1\.22\.1\s+CVE-2023-44487\s+1\.25\.3\s+no fixed version on offer yet/);

  // The fixed version is published: the same install goes through, audit names the upgrade, then is clean.
  await publish(dir, await packAll(dir, [nginx('1.25.3', true)]));
  await as(['sync']);
  const pending = await kilnAs(user, ['audit', '--json'], { cwd: dir, env });
  assert.equal(pending.code, 1);
  assert.deepEqual(
    (parseJson(pending.stdout) as { name: string; advisory: string; upgradeTo: string }[]).map((row) => [
      row.name,
      row.advisory,
      row.upgradeTo,
    ]),
    [['nginx', 'CVE-2023-44487', '1.25.3']],
  );
  assert.match((await kilnAs(user, ['audit'], { cwd: dir, env })).stdout, /kiln upgrade nginx/);
  const fresh = { KILN_PREFIX: join(dir, 'home', 'other') };
  await okAs(user, ['init'], { cwd: dir, env: fresh });
  await okAs(user, ['remote', 'add', 'main', server.url, '--key', key], { cwd: dir, env: fresh });
  await okAs(user, ['sync'], { cwd: dir, env: fresh });
  assert.match(await okAs(user, ['install', 'nginx', '-y'], { cwd: dir, env: fresh }), /install\s+nginx\s+1\.25\.3/);
  await as(['upgrade', 'nginx', '-y']);
  const after = await kilnAs(user, ['audit'], { cwd: dir, env });
  assert.equal(after.code, 0, after.stdout + after.stderr);
});

test('advisories: a tampered file, one from an older serial, a damaged local copy and an expired index are refused', async (t) => {
  const dir = await tempDir(t);
  await publish(dir, await packAll(dir, [zlib, nginx('1.22.1', true)]));
  await withAdvisories(dir);
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  const published = join(dir, 'repo', 'public');
  const pinOf = async () =>
    (JSON.parse(await readFile(join(published, 'index.v2.json'), 'utf8')) as { advisories: { sha256: string } })
      .advisories.sha256;
  const pathOf = (sha: string) => join(published, 'v2', 'advisories', sha.slice(0, 2), `${sha}.zst`);
  const older = await readFile(pathOf(await pinOf()));
  await ok(['repo', 'advisory', 'withdraw', 'repo', 'CVE-2023-52425'], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  const current = pathOf(await pinOf());
  const good = await readFile(current);
  assert.notDeepEqual(good, older);

  const client = async (name: string) => {
    const prefix = join(dir, name);
    await ok(['--prefix', prefix, 'init'], { cwd: dir });
    await ok(['--prefix', prefix, 'remote', 'add', 'main', published, '--key', 'keys/kiln.pub'], { cwd: dir });
    return prefix;
  };
  // The advisories of the serial before, served for this serial's: not the file the signed index pins.
  await writeFile(current, older);
  const first = await client('p1');
  await fails(['--prefix', first, 'sync'], 'E_INDEX_MISMATCH', /advisories.*not the .* pinned|pinned/, { cwd: dir });
  // Altered in place.
  const altered = Buffer.from(good);
  altered[altered.length - 5] = (altered[altered.length - 5]! + 1) % 256;
  await writeFile(current, altered);
  await fails(['--prefix', first, 'sync'], 'E_INDEX_MISMATCH', /pinned|zstd/, { cwd: dir });
  await writeFile(current, good);
  await ok(['--prefix', first, 'sync'], { cwd: dir });

  // A damaged local copy never reads as "no advisories".
  const kept = join(first, 'var', 'lib', 'kiln', 'indexes', 'main', 'advisories.zst');
  await writeFile(kept, Buffer.from('not the advisories'));
  await fails(
    ['--prefix', first, 'install', 'nginx', '-y'],
    'E_INDEX_MISMATCH',
    /advisories of remote main: .* is damaged/,
    {
      cwd: dir,
    },
  );
  await fails(['--prefix', first, 'audit'], 'E_INDEX_MISMATCH', /damaged/, { cwd: dir });
  // Queries (and removals) do not need them.
  assert.match(await ok(['--prefix', first, 'list', '--available'], { cwd: dir }), /nginx/);
  await ok(['--prefix', first, 'sync'], { cwd: dir });
  await fails(['--prefix', first, 'install', 'nginx', '-y'], 'E_ADVISORY', /CVE-2023-44487/, { cwd: dir });

  // A build from a recipe of an affected version is refused as the binary is; --allow-advisory lets it through.
  const distfiles = join(dir, 'distfiles');
  const sha = await sourceTarball(distfiles, { README: 'nothing to compile\n' });
  await writeRecipe(join(dir, 'ports', 'test', 'app'), 'app', sha, 'mkdir -p "$DESTDIR$KILN_PREFIX/share"\n');
  await writeFile(
    join(dir, 'app-advisory.json'),
    JSON.stringify({
      id: 'CVE-2030-0003',
      modified: '2030-01-01T00:00:00Z',
      summary: 'a flaw in app before 1.1',
      affected: [
        { package: { name: 'app' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1' }] }] },
      ],
    }),
  );
  await ok(['repo', 'advisory', 'add', 'repo', 'app-advisory.json'], { cwd: dir });
  await ok(['repo', 'commit', 'repo'], { cwd: dir });
  await ok(['--prefix', first, 'sync'], { cwd: dir });
  const build = [
    '--prefix',
    first,
    'install',
    'app',
    '--build',
    'missing',
    '--recipes',
    join(dir, 'ports'),
    '--distfiles',
    distfiles,
    '--dry-run',
  ];
  await fails(build, 'E_ADVISORY', /recipe test\/app 1\.0 would be built affected by CVE-2030-0003 \(fixed in 1\.1\)/, {
    cwd: dir,
  });
  assert.match(await ok([...build, '--allow-advisory', 'CVE-2030-0003'], { cwd: dir }), /build\s+app\s+1\.0/);

  // An expired index (and so its advisories) is refused.
  const second = await client('p2');
  await fails(['--prefix', second, 'sync'], 'E_INDEX_EXPIRED', /expired/, {
    cwd: dir,
    env: { KILN_NOW: '2099-01-01T00:00:00Z' },
  });
});
