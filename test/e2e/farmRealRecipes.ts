/**
 * The build farm with the real ports tree's small recipes (zlib, pcre2, lua,
 * bzip2, nginx, and the readline and ncurses lua builds with) from the real upstream sources: a coordinator (`kiln serve
 * --farm`, SQLite catalog unless KILN_FARM_CATALOG names a PostgreSQL one) and
 * three `kiln worker` processes build them into a fresh repository; what it
 * publishes must equal what `kiln bulk` publishes from the same recipes (the
 * same names, versions, revisions, variants, targets and dependencies); then
 * a client installs nginx from the coordinator, starts it and fetches a page.
 *
 *   node dist/test/e2e/farmRealRecipes.js WORK DISTFILES [BULK_REPO]
 *
 * BULK_REPO: a repository `kiln bulk` already built these recipes into
 * (scripts/e2e-full.sh passes its own); without it, `kiln bulk` builds them
 * into WORK/bulk-repo first. Prints one line per step and a timing table;
 * exits 1 at the first thing that is not as it should be.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { openRepository, readCurrentIndex } from '../../src/repo/openRepository.js';
import { KILN_BIN } from '../helpers/kiln.js';
import { PROJECT } from '../helpers/realRoot.js';

const RECIPES = ['sys-libs/zlib', 'dev-libs/pcre2', 'dev-lang/lua', 'app-arch/bzip2', 'www-servers/nginx'];
const NAMES = RECIPES.map((id) => id.split('/')[1]!);
const [workArg, distfilesArg, bulkArg] = process.argv.slice(2);
if (workArg === undefined || distfilesArg === undefined)
  throw new Error('usage: farmRealRecipes.js WORK DISTFILES [BULK_REPO]');
const work = resolve(workArg);
const distfiles = resolve(distfilesArg);
const step = (text: string): void => console.log(`farm: ${text}`);
const fail = (text: string): never => {
  console.error(`farm: FAILED: ${text}`);
  process.exit(1);
};
const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work, NO_COLOR: '1', LC_ALL: 'C' };
const kiln = (args: string[], extra: Record<string, string> = {}): string => {
  const result = spawnSync(process.execPath, [KILN_BIN, ...args], {
    cwd: work,
    env: { ...env, ...extra },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) fail(`kiln ${args.join(' ')}\n${result.stdout}${result.stderr}`);
  return result.stdout;
};
const started = performance.now();
const timings: [string, number][] = [];
const timed = async <T>(what: string, fn: () => T | Promise<T>): Promise<T> => {
  const at = performance.now();
  const value = await fn();
  timings.push([what, (performance.now() - at) / 1000]);
  return value;
};

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

function fetchPage(url: string): Promise<string> {
  return new Promise((done, reject) => {
    get(url, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done(`${response.statusCode} ${Buffer.concat(chunks).toString('utf8')}`));
    }).on('error', reject);
  });
}

async function identities(repo: string, names: readonly string[]): Promise<string[]> {
  const { index } = await readCurrentIndex(await openRepository(repo));
  return index.packages
    .filter((entry) => names.includes(entry.name))
    .map((entry) =>
      JSON.stringify([entry.name, entry.version, entry.revision, entry.variant, entry.target, entry.depends]),
    )
    .sort();
}

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

mkdirSync(work, { recursive: true });
chmodSync(work, 0o755);
const catalog = process.env['KILN_FARM_CATALOG'] ?? join(work, 'catalog.sqlite');
kiln(['key', 'generate', '--out', 'farm-keys']);
kiln(['repo', 'init', 'farm-repo', '--key', 'farm-keys/kiln.key', '--name', 'farm']);
const tokens = ['w1', 'w2', 'w3'].map((name) => kiln(['farm', 'worker', 'add', name, '--catalog', catalog]).trim());
const recipes = join(PROJECT, 'recipes');
kiln(['farm', 'submit', ...RECIPES, '--recipes', recipes, '--catalog', catalog, '--repo', 'farm-repo']);
step(`submitted ${RECIPES.join(', ')} to ${catalog.replace(/\/\/[^@]*@/, '//')}`);

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const coordinator = spawn(
  process.execPath,
  [KILN_BIN, 'serve', 'farm-repo', '--farm', catalog, '--recipes', recipes, '--listen', `127.0.0.1:${port}`],
  { cwd: work, env, stdio: ['ignore', 'ignore', 'pipe'] },
);
children.push(coordinator);
let coordinatorLog = '';
coordinator.stderr!.on('data', (chunk: Buffer) => (coordinatorLog += chunk.toString('utf8')));
for (let tries = 0; !/serving /.test(coordinatorLog); tries++) {
  if (tries > 150) fail(`the coordinator did not start:\n${coordinatorLog}`);
  await new Promise((done) => setTimeout(done, 100));
}
step(`coordinator at ${url}`);

await timed('farm: 3 workers build the five', async () => {
  const outputs: string[] = [];
  const exits = tokens.map((token, i) => {
    const worker = spawn(
      process.execPath,
      [
        KILN_BIN,
        'worker',
        '--farm',
        url,
        '--until-idle',
        '--distfiles',
        distfiles,
        '--work',
        join(work, `worker-${i + 1}`),
      ],
      { cwd: work, env: { ...env, KILN_WORKER_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(worker);
    outputs[i] = '';
    worker.stdout!.on('data', (chunk: Buffer) => (outputs[i] += chunk.toString('utf8')));
    worker.stderr!.on('data', (chunk: Buffer) => (outputs[i] += chunk.toString('utf8')));
    return new Promise<number | null>((done) => worker.on('exit', (code) => done(code)));
  });
  const codes = await Promise.all(exits);
  if (codes.some((code) => code !== 0)) fail(`a worker failed: ${codes.join(', ')}\n${outputs.join('\n---\n')}`);
  for (const [i, output] of outputs.entries())
    step(
      `worker w${i + 1}: ${
        output
          .trim()
          .split('\n')
          .filter((line) => / published$/.test(line)).length
      } published`,
    );
});
const status = (
  JSON.parse(kiln(['farm', 'status', '--catalog', catalog, '--json'])) as {
    data: { steps: Record<string, number> };
  }
).data;
const unfinished = Object.entries(status.steps).filter(([state, n]) => state !== 'succeeded' && n > 0);
if (unfinished.length > 0 || (status.steps['succeeded'] ?? 0) < RECIPES.length)
  fail(`the farm's steps: ${JSON.stringify(status.steps)}`);
step(`every step succeeded: ${JSON.stringify(status.steps)}`);

let bulkRepo = bulkArg === undefined ? undefined : resolve(bulkArg);
if (bulkRepo === undefined) {
  bulkRepo = join(work, 'bulk-repo');
  kiln(['key', 'generate', '--out', 'bulk-keys']);
  kiln(['repo', 'init', 'bulk-repo', '--key', 'bulk-keys/kiln.key', '--name', 'bulk']);
  await timed('kiln bulk builds the five', () =>
    kiln([
      'bulk',
      ...RECIPES,
      '--repo',
      'bulk-repo',
      '--recipes',
      recipes,
      '--distfiles',
      distfiles,
      '--work',
      'bulk-work',
    ]),
  );
}
// The five and the build dependencies they needed (lua's readline and ncurses).
const built = (await readCurrentIndex(await openRepository(join(work, 'farm-repo')))).index.packages.map((e) => e.name);
if (!NAMES.every((name) => built.includes(name))) fail(`the farm published ${built.join(', ')}`);
const farmSide = await identities(join(work, 'farm-repo'), built);
const bulkSide = await identities(bulkRepo, built);
if (JSON.stringify(farmSide) !== JSON.stringify(bulkSide))
  fail(`the farm published\n${farmSide.join('\n')}\nand kiln bulk\n${bulkSide.join('\n')}`);
step(
  `the farm published what kiln bulk did: ${farmSide.length} packages, the same names, versions, variants and dependencies`,
);
kiln(['repo', 'verify', 'farm-repo']);

await timed('a client installs nginx from the coordinator and serves a page', async () => {
  const prefix = join(work, 'prefix');
  kiln(['--prefix', prefix, 'init']);
  kiln(['--prefix', prefix, 'remote', 'add', 'farm', `${url}/`, '--key', 'farm-keys/kiln.pub']);
  kiln(['--prefix', prefix, 'sync']);
  kiln(['--prefix', prefix, 'install', 'nginx', '-y']);
  const conf = join(prefix, 'etc', 'nginx', 'nginx.conf');
  const page = await freePort();
  writeFileSync(conf, readFileSync(conf, 'utf8').replace(/listen\s+80;/, `listen 127.0.0.1:${page};`));
  const nginx = join(prefix, 'bin', 'nginx');
  const run = (args: string[]) => spawnSync(nginx, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  const begun = run([]);
  if (begun.status !== 0) fail(`nginx did not start: ${begun.stderr}`);
  try {
    const answer = await fetchPage(`http://127.0.0.1:${page}/`);
    if (!/^200 [\s\S]*Welcome to nginx!/.test(answer)) fail(`nginx answered ${answer.slice(0, 200)}`);
    step('nginx from the farm serves its welcome page');
  } finally {
    run(['-s', 'stop']);
  }
});

coordinator.kill('SIGTERM');
timings.push(['total', (performance.now() - started) / 1000]);
for (const [what, seconds] of timings) console.log(`${what.padEnd(64)} ${seconds.toFixed(1).padStart(7)} s`);
