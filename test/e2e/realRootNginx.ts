/**
 * nginx into `/` of a real Debian root, as root (scripts/e2e-full.sh runs it
 * after building the ports tree): from the repository WORK/repo (signed with
 * WORK/keys/kiln.key), inside a minimal Debian root of this machine's release
 * (scripts/rootfs.sh), Kiln installs nginx into `/`, starts it, fetches a page
 * over loopback, verifies; then nginx is rebuilt as the next revision,
 * published, upgraded to and served again; then removed — and the
 * distribution's files (/usr, /etc but for the accounts, the dpkg database)
 * are as they were.
 *
 *   node dist/test/e2e/realRootNginx.js WORK DISTFILES
 *
 * Prints one line per step; exits 1 at the first thing that is not as it should be.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { KILN_BIN, parseJson } from '../helpers/kiln.js';
import { PROJECT, digestChanges, digestTree, rootfsTarball, unpackRoot } from '../helpers/realRoot.js';

const [work, distfiles] = process.argv.slice(2);
if (work === undefined || distfiles === undefined) throw new Error('usage: realRootNginx.js WORK DISTFILES');
const cleanups: (() => void)[] = [];
// unpackRoot registers its clean-up as a test would.
const context = { after: (fn: () => void) => cleanups.push(fn) } as unknown as TestContext;
const step = (text: string): void => console.log(`real root: ${text}`);
const fail = (text: string): never => {
  console.error(`real root: FAILED: ${text}`);
  process.exit(1);
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function fetchPage(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(`${response.statusCode} ${Buffer.concat(chunks).toString('utf8')}`));
    }).on('error', reject);
  });
}

try {
  const found = rootfsTarball();
  if ('missing' in found) fail(found.missing);
  const tarball = (found as { path: string }).path;
  const parent = mkdtempSync(join(tmpdir(), 'kiln-real-root-'));
  cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
  const root = unpackRoot(context, tarball, parent, work);
  step(`unpacked ${tarball}`);
  const before = {
    usr: digestTree(root.dir, 'usr'),
    etc: digestTree(root.dir, 'etc'),
    dpkg: digestTree(root.dir, 'var/lib/dpkg'),
  };
  const kiln = async (...args: string[]): Promise<string> => {
    const result = await root.kiln(args);
    if (result.code !== 0) fail(`kiln ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  const port = await freePort();
  const serve = async (when: string): Promise<void> => {
    // The one change a user makes: the port, in the configuration file (kept on upgrade, reported by verify as "(config)").
    const conf = join(root.dir, 'etc/nginx/nginx.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/listen\s+[^;]+;/, `listen 127.0.0.1:${port};`));
    const started = await root.run('/bin/nginx', []);
    if (started.code !== 0) fail(`nginx did not start: ${started.stderr}`);
    const page = await fetchPage(port);
    await root.run('/bin/nginx', ['-s', 'stop']);
    if (!page.startsWith('200 ') || !page.includes('Welcome to nginx!'))
      fail(`nginx answered ${JSON.stringify(page.slice(0, 200))}`);
    step(`${when}: nginx served its page on 127.0.0.1:${port}`);
  };
  /** verify: nothing wrong but the configuration file the user changed. */
  const verify = async (when: string): Promise<void> => {
    const result = await root.kiln(['verify', '--json']);
    const report = parseJson(result.stdout) as { problems: { path: string; config?: boolean }[]; database: string[] };
    const wrong = report.problems.filter((problem) => problem.config !== true);
    if (wrong.length > 0 || report.database.length > 0) fail(`verify ${when}: ${result.stdout}`);
  };

  await kiln('init');
  await kiln('remote', 'add', 'ports', `file://${root.shared}/repo/public`, '--key', `${root.shared}/keys/kiln.pub`);
  await kiln('sync');
  step((await kiln('install', 'nginx', '-y')).trim().split('\n').slice(-1)[0]!);
  await serve('installed');
  await verify('after the install');

  // The next revision of nginx, built and published on this machine, then upgraded to inside the root.
  const ports = join(parent, 'ports');
  cpSync(join(PROJECT, 'recipes'), ports, { recursive: true });
  const recipe = join(ports, 'www-servers/nginx/recipe.toml');
  const text = readFileSync(recipe, 'utf8');
  writeFileSync(
    recipe,
    /^revision = /m.test(text)
      ? text.replace(/^revision = \d+/m, 'revision = 1')
      : text.replace(/^(version = .*)$/m, '$1\nrevision = 1'),
  );
  const built = spawnSync(
    process.execPath,
    [
      KILN_BIN,
      'build',
      'www-servers/nginx',
      '--recipes',
      ports,
      '--repo',
      join(work, 'repo'),
      '--distfiles',
      distfiles,
      '--work',
      join(parent, 'build'),
    ],
    { encoding: 'utf8' },
  );
  if (built.status !== 0) fail(`kiln build of the next revision: ${built.stderr}`);
  await kiln('sync');
  const upgraded = await kiln('upgrade', '-y');
  if (!/upgrade\s+nginx\s+\S+ -> \S+-r1/.test(upgraded))
    fail(`the upgrade did not take the new revision:\n${upgraded}`);
  step('upgraded nginx to its next revision');
  await serve('upgraded');
  await verify('after the upgrade');

  await kiln('remove', 'nginx', '-y');
  await kiln('autoremove', '-y');
  if (!/^ok: 0 entries/m.test(await kiln('verify'))) fail('verify after the removal');
  const usr = digestChanges(before.usr, digestTree(root.dir, 'usr'));
  const dpkg = digestChanges(before.dpkg, digestTree(root.dir, 'var/lib/dpkg'));
  const etc = digestChanges(before.etc, digestTree(root.dir, 'etc'));
  const accounts = ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow'];
  const etcOther = [
    ...etc.added.filter((path) => !path.startsWith('etc/kiln') && !path.startsWith('etc/nginx')),
    ...etc.removed,
    ...etc.changed.filter((path) => !accounts.includes(path)),
  ];
  if ([...usr.added, ...usr.removed, ...usr.changed].length > 0) fail(`/usr changed: ${JSON.stringify(usr)}`);
  if ([...dpkg.added, ...dpkg.removed, ...dpkg.changed].length > 0)
    fail(`the dpkg database changed: ${JSON.stringify(dpkg)}`);
  if (etcOther.length > 0) fail(`/etc changed beyond the accounts and what the removal kept: ${etcOther.join(', ')}`);
  step(
    'removed; /usr and the dpkg database as they were, /etc changed only in its account files (and configuration files kept)',
  );
} finally {
  for (const cleanup of cleanups.reverse()) cleanup();
}
