/**
 * The build farm end to end, with the real commands: `kiln serve --farm` as
 * the coordinator, `kiln worker` processes that build over HTTP, `kiln farm
 * submit`, on SQLite and on a real PostgreSQL the test starts. Recipes are
 * small C programs with a shared library between them (real gcc, real
 * sandbox); the real ports tree's recipes go through the same code in
 * scripts/e2e-full.sh.
 *
 * - Three workers build what `kiln bulk` builds from the same recipes: the
 *   same names, versions, variants and dependencies; a client installs the
 *   program from the coordinator and runs it.
 * - A worker killed mid-build: its step is retried by another worker after
 *   its lease expires, and published once.
 * - A cancelled build: the running step's worker stops at its next heartbeat.
 * - The coordinator killed again and again: the workers wait and resume, and
 *   every package is published once, in a repository that verifies.
 * - An upload that is not what the step asked for is refused, and the step
 *   fails with that reason; a revoked token is refused.
 * - Two coordinators on one PostgreSQL catalog and one repository, with
 *   PostgreSQL crash-restarted mid-run: workers of both build one build, and
 *   every package is published once.
 */
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import { farmRequest } from '../src/farm/farmWorker.js';
import { openCatalog } from '../src/farm/openCatalog.js';
import { FarmQueue } from '../src/farm/farmQueue.js';
import type { IndexEntry } from '../src/repo/index.js';
import { openRepository, readCurrentIndex } from '../src/repo/openRepository.js';
import { fails, ok } from './helpers/client.js';
import { KILN_BIN, kiln, parseJson, run, tempDir } from './helpers/kiln.js';
import type { TestPostgres } from './helpers/postgres.js';
import { startPostgres } from './helpers/postgres.js';
import { newRepository, sourceTarball, writeRecipe } from './helpers/ports.js';
import { serve } from './helpers/serve.js';

let server: TestPostgres;
before(() => {
  server = startPostgres();
});
after(() => server?.stop());

const SOURCES = {
  'greet.h': 'const char *greet(void);\n',
  'greet.c': '#include "greet.h"\nconst char *greet(void) { return "hello from the farm"; }\n',
  'main.c': '#include <stdio.h>\n#include "greet.h"\nint main(void) { puts(greet()); return 0; }\n',
};
const LIBRARY = `mkdir -p "$DESTDIR$KILN_PREFIX/lib" "$DESTDIR$KILN_PREFIX/include"
gcc $CFLAGS -shared -fPIC -Wl,-soname,libgreet.so.1 -o "$DESTDIR$KILN_PREFIX/lib/libgreet.so.1" greet.c
ln -s libgreet.so.1 "$DESTDIR$KILN_PREFIX/lib/libgreet.so"
cp greet.h "$DESTDIR$KILN_PREFIX/include/"
`;
const PROGRAM = `mkdir -p "$DESTDIR$KILN_PREFIX/bin"
gcc $CFLAGS -I"$KILN_PREFIX/include" -o "$DESTDIR$KILN_PREFIX/bin/hello" main.c -L"$KILN_PREFIX/lib" -lgreet $LDFLAGS
`;
const DATA = (seconds: number) =>
  `echo "building slowly" ; sleep ${seconds}\nmkdir -p "$DESTDIR$KILN_PREFIX/share/slow"\necho done > "$DESTDIR$KILN_PREFIX/share/slow/done"\n`;

interface Farm {
  dir: string;
  distfiles: string;
  catalog: string;
}

/** A repository, a distfiles directory and a ports tree: libgreet, hello (needs it), slow (sleeps), loner. */
async function newFarm(t: TestContext, catalog?: string, slowSeconds = 1): Promise<Farm> {
  const dir = await tempDir(t);
  await newRepository(dir, 'farm');
  const distfiles = join(dir, 'distfiles');
  const sha = await sourceTarball(distfiles, SOURCES);
  const ports = join(dir, 'ports', 'test');
  await writeRecipe(join(ports, 'libgreet'), 'libgreet', sha, LIBRARY);
  await writeRecipe(join(ports, 'hello'), 'hello', sha, PROGRAM, { buildDepends: ['libgreet'] });
  await writeRecipe(join(ports, 'slow'), 'slow', sha, DATA(slowSeconds));
  await writeRecipe(
    join(ports, 'loner'),
    'loner',
    sha,
    `${PROGRAM.replace('-lgreet', '').replace('main.c', 'main.c greet.c')}mkdir -p "$DESTDIR$KILN_PREFIX/share/loner"
if [ "$KILN_OPTION_SHOUT" = 1 ]; then echo LOUD; else echo quiet; fi > "$DESTDIR$KILN_PREFIX/share/loner/voice"
`,
    { options: 'shout = { default = false, description = "say it loudly" }' },
  );
  return { dir, distfiles, catalog: catalog ?? join(dir, 'catalog.sqlite') };
}

async function addWorker(farm: Farm, name: string): Promise<string> {
  return (await ok(['farm', 'worker', 'add', name, '--catalog', farm.catalog], { cwd: farm.dir })).trim();
}

function coordinator(t: TestContext, farm: Farm, extra: string[] = []) {
  return serve(t, [join(farm.dir, 'repo'), '--farm', farm.catalog, '--recipes', join(farm.dir, 'ports'), ...extra]);
}

interface WorkerRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function worker(t: TestContext, farm: Farm, url: string, token: string, name: string, args: string[] = []): WorkerRun {
  const child = spawn(
    process.execPath,
    [
      KILN_BIN,
      'worker',
      '--farm',
      url,
      '--distfiles',
      farm.distfiles,
      '--work',
      join(farm.dir, `work-${name}`),
      ...args,
    ],
    {
      cwd: farm.dir,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: farm.dir,
        NO_COLOR: '1',
        LC_ALL: 'C',
        KILN_WORKER_TOKEN: token,
        ...(process.env['KILN_ALLOW_UNSANDBOXED'] === undefined
          ? {}
          : { KILN_ALLOW_UNSANDBOXED: process.env['KILN_ALLOW_UNSANDBOXED'] }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  return { child, output: () => output, exited };
}

async function submit(farm: Farm, args: string[]): Promise<{ steps: { id: number; package: string }[] }> {
  return parseJson(
    await ok(['farm', 'submit', ...args, '--recipes', join(farm.dir, 'ports'), '--catalog', farm.catalog, '--json'], {
      cwd: farm.dir,
    }),
  ) as { steps: { id: number; package: string }[] };
}

/** What two repositories must agree on: each package's identity and what it depends on. */
async function published(repo: string): Promise<string[]> {
  const { index } = await readCurrentIndex(await openRepository(repo));
  return index.packages
    .map((entry: IndexEntry) =>
      JSON.stringify([entry.name, entry.version, entry.revision, entry.variant, entry.target, entry.depends]),
    )
    .sort();
}

test('three workers build what kiln bulk builds; a client installs from the coordinator; a revoked token is refused', async (t) => {
  const farm = await newFarm(t);
  const tokens = [await addWorker(farm, 'w1'), await addWorker(farm, 'w2'), await addWorker(farm, 'w3')];
  const submitted = await submit(farm, ['hello', 'loner', 'slow', '--repo', 'repo']);
  assert.deepEqual(submitted.steps.map((step) => step.package).sort(), [
    'test/hello',
    'test/libgreet',
    'test/loner',
    'test/slow',
  ]);
  const coordinating = await coordinator(t, farm);
  const workers = tokens.map((token, i) => worker(t, farm, coordinating.url, token, `w${i + 1}`, ['--until-idle']));
  const codes = await Promise.all(workers.map((w) => w.exited));
  assert.deepEqual(codes, [0, 0, 0], workers.map((w) => w.output()).join('\n---\n'));
  const status = parseJson(await ok(['farm', 'status', '--catalog', farm.catalog, '--json'], { cwd: farm.dir })) as {
    steps: Record<string, number>;
  };
  assert.equal(status.steps['succeeded'], 4, JSON.stringify(status));
  assert.match(coordinating.stderr(), /farm: step \d+ test\/hello 1\.0 published as packages\/test\/hello\//);
  const db = await openCatalog(farm.catalog);
  t.after(() => db.close());
  const hello = submitted.steps.find((step) => step.package === 'test/hello')!;
  assert.match(await new FarmQueue(db).log(hello.id), /== step build/, "the worker's log reached the catalog");
  const shownLog = await ok(['farm', 'log', String(hello.id), '--catalog', farm.catalog], { cwd: farm.dir });
  assert.equal(`${shownLog}\n`.replace(/\n+$/, ''), (await new FarmQueue(db).log(hello.id)).replace(/\n+$/, ''));
  const noAttempt = await kiln(['farm', 'log', String(hello.id), '--attempt', '9', '--catalog', farm.catalog], {
    cwd: farm.dir,
  });
  assert.equal(noAttempt.code, 2, noAttempt.stderr);
  assert.match(noAttempt.stderr, /no log of build step \d+ attempt 9 in the catalog/);

  // kiln bulk, from the same recipes into a repository of its own, publishes the same packages.
  await ok(['key', 'generate', '--out', 'bulk-keys'], { cwd: farm.dir });
  await ok(['repo', 'init', 'bulk-repo', '--key', 'bulk-keys/kiln.key', '--name', 'bulk'], { cwd: farm.dir });
  await ok(
    [
      'bulk',
      'hello',
      'loner',
      'slow',
      '--workers',
      '2',
      '--repo',
      'bulk-repo',
      '--recipes',
      join(farm.dir, 'ports'),
    ].concat(['--distfiles', farm.distfiles, '--work', join(farm.dir, 'bulk-work')]),
    { cwd: farm.dir, env: sandboxEnv() },
  );
  assert.deepEqual(await published(join(farm.dir, 'repo')), await published(join(farm.dir, 'bulk-repo')));
  const signed = await ok(['repo', 'verify', 'repo'], { cwd: farm.dir });
  assert.match(signed, /4 package/, 'every package verifies against the repository key');

  // A client installs from the coordinator's published tree and runs the program.
  const prefix = join(farm.dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: farm.dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'farm', `${coordinating.url}/`, '--key', 'keys/kiln.pub'], {
    cwd: farm.dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: farm.dir });
  await ok(['--prefix', prefix, 'install', 'hello', '-y'], { cwd: farm.dir });
  const ran = await run(join(prefix, 'bin', 'hello'), []);
  assert.equal(ran.stdout, 'hello from the farm\n', ran.stderr);

  // A revoked worker is refused by the coordinator.
  await ok(['farm', 'worker', 'revoke', 'w3', '--catalog', farm.catalog], { cwd: farm.dir });
  const revoked = worker(t, farm, coordinating.url, tokens[2]!, 'w3-again', ['--until-idle']);
  assert.equal(await revoked.exited, 1, revoked.output());
  assert.match(revoked.output(), /error\[E_FARM_TOKEN\]/);
});

function sandboxEnv(): Record<string, string> {
  const allowed = process.env['KILN_ALLOW_UNSANDBOXED'];
  return allowed === undefined ? {} : { KILN_ALLOW_UNSANDBOXED: allowed };
}

test('a worker killed mid-build: its step runs again on another worker after the lease, and is published once', async (t) => {
  const farm = await newFarm(t, undefined, 6);
  const [first, second] = [await addWorker(farm, 'doomed'), await addWorker(farm, 'rescuer')];
  const { steps } = await submit(farm, ['slow']);
  const coordinating = await coordinator(t, farm, ['--lease', '2', '--retry-after', '1']);
  const doomed = worker(t, farm, coordinating.url, first, 'doomed');
  await waitFor(() => /building slowly/.test(doomed.output()) || /step \d+ test\/slow/.test(coordinating.stderr()));
  await waitFor(async () => /building slowly/.test(await logOf(farm, steps[0]!.id)));
  doomed.child.kill('SIGKILL');
  await doomed.exited;
  const rescuer = worker(t, farm, coordinating.url, second, 'rescuer', ['--until-idle']);
  assert.equal(await rescuer.exited, 0, rescuer.output());
  const why = await ok(['farm', 'why', String(steps[0]!.id), '--catalog', farm.catalog], { cwd: farm.dir });
  assert.match(why, /succeeded/);
  assert.match(why, /succeeded \(attempt 2\)/, why);
  assert.match(coordinating.stderr(), /lease\(s\) expired/);
  const { index } = await readCurrentIndex(await openRepository(join(farm.dir, 'repo')));
  assert.deepEqual(
    index.packages.map((entry) => entry.name),
    ['slow'],
    'published once',
  );
});

test('a step builds with the options it was submitted with; the upload is checked against them, and --repo knows the variant', async (t) => {
  const farm = await newFarm(t);
  const token = await addWorker(farm, 'opt');
  const submitted = await submit(farm, ['loner[+shout]', '--repo', join(farm.dir, 'repo')]);
  assert.deepEqual(
    submitted.steps.map((step) => [step.package, (step as { options?: string }).options]),
    [['test/loner', '+shout']],
  );
  await fails(
    ['farm', 'submit', 'loner[+whisper]', '--recipes', join(farm.dir, 'ports'), '--catalog', farm.catalog],
    'E_USAGE',
    /loner with option "whisper": the recipe has no such option/,
    { cwd: farm.dir },
  );
  await fails(
    ['farm', 'submit', 'loner>=1', '--recipes', join(farm.dir, 'ports'), '--catalog', farm.catalog],
    'E_USAGE',
    /not a version range/,
    { cwd: farm.dir },
  );
  const coordinating = await coordinator(t, farm);
  const building = worker(t, farm, coordinating.url, token, 'opt', ['--until-idle']);
  assert.equal(await building.exited, 0, building.output());
  assert.match(building.output(), /test\/loner\[\+shout\] 1\.0/);
  const { index } = await readCurrentIndex(await openRepository(join(farm.dir, 'repo')));
  const loner = index.packages.filter((entry) => entry.name === 'loner');
  assert.deepEqual(
    loner.map((entry) => entry.options),
    [{ shout: true }],
  );
  const why = await ok(['farm', 'why', String(submitted.steps[0]!.id), '--catalog', farm.catalog], { cwd: farm.dir });
  assert.match(why, /^test\/loner\[\+shout\] 1\.0 for .* succeeded/);
  // The same options again are published already; the defaults are another variant, still to build.
  assert.deepEqual((await submit(farm, ['loner[+shout]', '--repo', join(farm.dir, 'repo')])).steps, []);
  assert.equal((await submit(farm, ['loner', '--repo', join(farm.dir, 'repo')])).steps.length, 1);
});

test("a cancelled build: the running step's worker stops at its next heartbeat, and nothing is published", async (t) => {
  const farm = await newFarm(t, undefined, 30);
  const token = await addWorker(farm, 'w');
  const submitted = (await parseJson(
    await ok(
      ['farm', 'submit', 'slow', 'loner', '--recipes', join(farm.dir, 'ports'), '--catalog', farm.catalog, '--json'],
      {
        cwd: farm.dir,
      },
    ),
  )) as { buildId: number; steps: { id: number; package: string }[] };
  const coordinating = await coordinator(t, farm, ['--lease', '3']);
  const building = worker(t, farm, coordinating.url, token, 'w', ['--until-idle']);
  const slow = submitted.steps.find((step) => step.package === 'test/slow')!;
  await waitFor(async () => /building slowly/.test(await logOf(farm, slow.id)));
  const cancelled = parseJson(
    await ok(['farm', 'cancel', String(submitted.buildId), '--catalog', farm.catalog, '--json'], { cwd: farm.dir }),
  ) as { cancelled: number; stopping: number };
  // loner may have been built first, or be cancelled while it waited.
  assert.equal(cancelled.stopping, 1, JSON.stringify(cancelled));
  const began = performance.now();
  assert.equal(await building.exited, 0, building.output());
  assert.ok(performance.now() - began < 20_000, 'the 30-second build was stopped, not waited for');
  assert.match(building.output(), /stopped \(the farm cancelled the step\)/);
  const why = await ok(['farm', 'why', String(slow.id), '--catalog', farm.catalog], { cwd: farm.dir });
  assert.match(why, /cancelled/);
  const { index } = await readCurrentIndex(await openRepository(join(farm.dir, 'repo')));
  assert.ok(!index.packages.some((entry) => entry.name === 'slow'), 'the cancelled step published nothing');
  await fails(['farm', 'cancel', '999', '--catalog', farm.catalog], 'E_USAGE', /no such build/, { cwd: farm.dir });
});

test('the coordinator killed with SIGKILL again and again: workers wait and resume; nothing is lost, published twice or half-published', async (t) => {
  const farm = await newFarm(t, undefined, 2);
  const tokens = [await addWorker(farm, 'k1'), await addWorker(farm, 'k2')];
  await submit(farm, ['hello', 'loner', 'slow']);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const start = async (): Promise<ChildProcess> => {
    const child = spawn(
      process.execPath,
      [
        KILN_BIN,
        'serve',
        'repo',
        '--farm',
        farm.catalog,
        '--recipes',
        'ports',
        '--listen',
        `127.0.0.1:${port}`,
        '--lease',
        '3',
        '--retry-after',
        '1',
      ],
      {
        cwd: farm.dir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    t.after(() => child.kill('SIGKILL'));
    let mine = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      mine += chunk.toString('utf8');
      log += chunk.toString('utf8');
    });
    await waitFor(() => /serving /.test(mine), 30);
    return child;
  };
  let current = await start();
  const workers = tokens.map((token, i) => worker(t, farm, url, token, `k${i + 1}`, ['--until-idle']));
  let kills = 0;
  for (; kills < 4; kills++) {
    await new Promise((resolve) => setTimeout(resolve, 1500 + Math.random() * 2000));
    current.kill('SIGKILL');
    await new Promise((resolve) => current.once('exit', resolve));
    current = await start();
  }
  const codes = await Promise.all(workers.map((w) => w.exited));
  assert.deepEqual(codes, [0, 0], workers.map((w) => w.output()).join('\n---\n'));
  const status = parseJson(await ok(['farm', 'status', '--catalog', farm.catalog, '--json'], { cwd: farm.dir })) as {
    steps: Record<string, number>;
  };
  assert.equal(status.steps['succeeded'], 4, `${JSON.stringify(status)}\n${log}`);
  const names = (await readCurrentIndex(await openRepository(join(farm.dir, 'repo')))).index.packages.map(
    (e) => e.name,
  );
  assert.deepEqual(names.sort(), ['hello', 'libgreet', 'loner', 'slow'], 'each package once');
  await ok(['repo', 'verify', 'repo'], { cwd: farm.dir });
  assert.equal(kills, 4);
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function logOf(farm: Farm, stepId: number): Promise<string> {
  const db = await openCatalog(farm.catalog);
  try {
    return await new FarmQueue(db).log(stepId);
  } finally {
    await db.close();
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, seconds = 60): Promise<void> {
  const until = performance.now() + seconds * 1000;
  while (!(await check())) {
    if (performance.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('an upload that is not the step asked for is refused, and the step fails with the reason', async (t) => {
  const farm = await newFarm(t);
  const token = await addWorker(farm, 'liar');
  await submit(farm, ['loner']);
  const coordinating = await coordinator(t, farm);
  const claim = (
    await farmRequest(
      `${coordinating.url}/farm/v1/claim`,
      'POST',
      token,
      JSON.stringify({
        arch: process.arch === 'x64' ? 'x86_64' : 'aarch64',
        libc: 'glibc',
        cpuLevels: ['x86-64'],
        wait: 5,
      }),
    )
  ).json as { step: { id: number; package: string }; lease: string };
  assert.equal(claim.step.package, 'test/loner');
  // The liar uploads another package: an unsigned one named "impostor".
  await writeFileTree(farm.dir);
  await ok(['pack', 'stage', '--meta', 'impostor.json', '--out', 'out'], { cwd: farm.dir });
  const file = join(farm.dir, 'out', (await readdirNames(join(farm.dir, 'out')))[0]!);
  await assert.rejects(
    farmRequest(
      `${coordinating.url}/farm/v1/steps/${claim.step.id}/package`,
      'PUT',
      token,
      { file },
      {
        'x-kiln-lease': claim.lease,
        'content-type': 'application/octet-stream',
      },
    ),
    (error: Error & { code?: string }) =>
      error.code === 'E_FARM_UPLOAD' && /the package is test\/impostor/.test(error.message),
  );
  const why = await ok(['farm', 'why', String(claim.step.id), '--catalog', farm.catalog], { cwd: farm.dir });
  assert.match(why, /failed/);
  assert.match(why, /refused the upload for test\/loner 1\.0: the package is test\/impostor/);
  const { index } = await readCurrentIndex(await openRepository(join(farm.dir, 'repo')));
  assert.equal(index.packages.length, 0, 'nothing was published');
  // Its lease is gone with the step; a request without a token is refused.
  await assert.rejects(
    farmRequest(
      `${coordinating.url}/farm/v1/steps/${claim.step.id}/heartbeat`,
      'POST',
      token,
      JSON.stringify({ lease: claim.lease }),
    ),
    (error: Error & { code?: string }) => error.code === 'E_FARM_LEASE',
  );
  await assert.rejects(
    farmRequest(`${coordinating.url}/farm/v1/claim`, 'POST', 'kiln-worker:liar:forged', '{}'),
    (error: Error & { code?: string }) => error.code === 'E_FARM_TOKEN',
  );
  // Malformed requests are refused with a reason, whatever they hold.
  const refused = (pattern: RegExp) => (error: Error & { code?: string }) =>
    error.code === 'E_FARM_PROTOCOL' && pattern.test(error.message);
  const claimUrl = `${coordinating.url}/farm/v1/claim`;
  await assert.rejects(farmRequest(claimUrl, 'POST', token, 'not json'), refused(/not a JSON object/));
  await assert.rejects(farmRequest(claimUrl, 'POST', token, '[1,2]'), refused(/not a JSON object/));
  await assert.rejects(
    farmRequest(claimUrl, 'POST', token, JSON.stringify({ arch: '../../x', libc: 'glibc' })),
    refused(/"arch" is missing or malformed/),
  );
  // An offer of 250,000 CPU levels is answered like any other (only the first few are looked at).
  const many = await farmRequest(
    claimUrl,
    'POST',
    token,
    JSON.stringify({ arch: 'x86_64', libc: 'glibc', cpuLevels: Array(250_000).fill('a'), wait: 0 }),
  );
  assert.deepEqual(many.json, { pending: 0 });
  await assert.rejects(
    farmRequest(claimUrl, 'POST', token, JSON.stringify({ arch: 'x86_64', libc: 'glibc', pad: 'x'.repeat(2 << 20) })),
    refused(/larger than 1048576 bytes/),
  );
  await assert.rejects(
    farmRequest(`${coordinating.url}/farm/v1/steps/${claim.step.id}/log`, 'POST', token, 'a line\n'),
    refused(/no lease token/),
  );
  await assert.rejects(
    farmRequest(`${coordinating.url}/farm/v1/steps/abc/heartbeat`, 'POST', token, '{}'),
    refused(/the coordinator has no/),
  );
});

async function writeFileTree(dir: string): Promise<void> {
  const { writeFile, mkdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'stage', 'share'), { recursive: true });
  await writeFile(join(dir, 'stage', 'share', 'impostor'), 'not what was asked\n');
  await writeFile(
    join(dir, 'impostor.json'),
    JSON.stringify({
      name: 'impostor',
      category: 'test',
      version: '1.0',
      revision: 0,
      summary: 'not the step',
      homepage: 'https://example.org',
      license: 'MIT',
      target: { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' },
    }),
  );
}

async function readdirNames(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return readdir(dir);
}

// A coordinator that dies leaves its worker retrying for ever: the limit makes that a failure, not a stalled run.
test('two coordinators on one PostgreSQL catalog and one repository, PostgreSQL restarted mid-run: workers of both build one build, each package published once', {
  timeout: 300_000,
}, async (t) => {
  const db = await server.database('farm_e2e');
  await db.close();
  const catalog = `postgresql://kiln@localhost/farm_e2e?host=${encodeURIComponent(server.socketDir)}`;
  const farm = await newFarm(t, catalog, 3);
  const tokens = [await addWorker(farm, 'a'), await addWorker(farm, 'b')];
  await submit(farm, ['hello', 'loner', 'slow']);
  const one = await coordinator(t, farm);
  const two = await coordinator(t, farm);
  const workers = [
    worker(t, farm, one.url, tokens[0]!, 'a', ['--until-idle']),
    worker(t, farm, two.url, tokens[1]!, 'b', ['--until-idle']),
  ];
  // PostgreSQL crashes and comes back while steps run: the farm waits and resumes.
  await waitFor(async () => {
    const now = parseJson(await ok(['farm', 'status', '--catalog', catalog, '--json'], { cwd: farm.dir })) as {
      steps: Record<string, number>;
    };
    return (now.steps['running'] ?? 0) > 0;
  });
  server.restart();
  const codes = await Promise.all(workers.map((w) => w.exited));
  assert.deepEqual(codes, [0, 0], workers.map((w) => w.output()).join('\n---\n'));
  const status = parseJson(await ok(['farm', 'status', '--catalog', catalog, '--json'], { cwd: farm.dir })) as {
    steps: Record<string, number>;
  };
  assert.equal(status.steps['succeeded'], 4, JSON.stringify(status));
  assert.match(one.stderr(), /published as/);
  assert.match(two.stderr(), /published as/);
  const names = (await readCurrentIndex(await openRepository(join(farm.dir, 'repo')))).index.packages
    .map((entry) => entry.name)
    .sort();
  assert.deepEqual(names, ['hello', 'libgreet', 'loner', 'slow']);
  await ok(['repo', 'verify', 'repo'], { cwd: farm.dir });
});
