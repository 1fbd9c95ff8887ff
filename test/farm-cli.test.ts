/**
 * The build farm's commands end to end (`kiln farm status|why|worker add|worker
 * revoke`), on an SQLite catalog and on a real PostgreSQL one: a worker's token
 * is printed once and works until it is revoked; status and why read what the
 * queue holds; an unreachable catalog, a missing one and a bad step are clear
 * errors.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FarmQueue } from '../src/farm/farmQueue.js';
import { authenticateWorker, recordWorkerReport } from '../src/farm/farmWorkers.js';
import { openCatalog } from '../src/farm/openCatalog.js';
import { kiln, parseJson, tempDir } from './helpers/kiln.js';
import type { TestPostgres } from './helpers/postgres.js';
import { startPostgres } from './helpers/postgres.js';

let server: TestPostgres;
before(() => {
  server = startPostgres();
});
after(() => server?.stop());

const catalogs: [string, (dir: string) => Promise<string>][] = [
  ['sqlite', async (dir) => join(dir, 'catalog.sqlite')],
  [
    'postgres',
    async () => {
      const db = await server.database('farm_cli');
      await db.close();
      return `postgresql://kiln@localhost/farm_cli?host=${encodeURIComponent(server.socketDir)}`;
    },
  ],
];

for (const [name, make] of catalogs) {
  test(`kiln farm on ${name}: worker tokens, status and why`, async (t) => {
    const dir = await tempDir(t);
    const catalog = await make(dir);
    const farm = async (args: string[], env: Record<string, string> = {}) =>
      kiln(['farm', ...args, ...(env['KILN_FARM_CATALOG'] === undefined ? ['--catalog', catalog] : [])], {
        cwd: dir,
        env,
      });
    const added = await farm(['worker', 'add', 'builder-1']);
    assert.equal(added.code, 0, added.stderr);
    const token = added.stdout.trim();
    assert.match(token, /^kiln-worker:builder-1:[A-Za-z0-9_-]{43}$/);
    assert.match(added.stderr, /shown this once/);
    const again = await farm(['worker', 'add', 'builder-1']);
    assert.equal(again.code, 2, 'E_USAGE exits with 2');
    assert.match(again.stderr, /error\[E_USAGE\]: cannot add worker builder-1: it exists/);

    // The queue, filled as a coordinator would, and the worker's report.
    const db = await openCatalog(catalog);
    t.after(() => db.close());
    assert.equal(await authenticateWorker(db, token), 'builder-1');
    const now = Date.now();
    const target = { arch: 'x86_64', libc: 'glibc', cpuLevel: 'x86-64', cpuRank: 0 };
    const { steps } = await new FarmQueue(db).submit(
      {
        submitter: 'alice',
        steps: [
          { key: 'lib', package: 'dev-libs/pcre2', version: '10.42', ...target },
          { key: 'app', package: 'www-servers/nginx', version: '1.24.0', ...target, dependsOn: ['lib'] },
        ],
      },
      now,
    );
    await recordWorkerReport(db, 'builder-1', { ...target, jobs: 4, load: 0.25, freeDisk: 5e10 }, now);

    const status = await farm(['status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const data = parseJson(status.stdout) as {
      steps: Record<string, number>;
      workers: { name: string; state: string; jobs: number }[];
    };
    assert.deepEqual(data.steps, { waiting: 1, ready: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0 });
    assert.deepEqual(
      data.workers.map((worker) => [worker.name, worker.state, worker.jobs]),
      [['builder-1', 'alive', 4]],
    );
    const text = await farm(['status'], { KILN_FARM_CATALOG: catalog });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^steps: 1 waiting, 1 ready, 0 running/);
    assert.match(text.stdout, /builder-1 +alive +x86_64\/glibc x86-64 +4 +0\.25/);

    const why = await farm(['why', String(steps.get('app'))]);
    assert.equal(why.code, 0, why.stderr);
    assert.equal(why.stdout, 'waiting for dev-libs/pcre2 10.42 on x86_64/glibc x86-64 (ready)\n');
    const ready = await farm(['why', String(steps.get('lib')), '--json']);
    assert.match(
      (parseJson(ready.stdout) as { why: string[] }).why[0]!,
      /^0 ready step\(s\) come before it; 1 worker\(s\) offer its target \(4 job slot\(s\)\): builder-1$/,
    );
    for (const bad of ['0', 'x', '99999']) {
      const refused = await farm(['why', bad]);
      assert.equal(refused.code, 2, bad);
      assert.match(refused.stderr, /error\[E_USAGE\]/, bad);
    }

    const revoked = await farm(['worker', 'revoke', 'builder-1']);
    assert.equal(revoked.code, 0, revoked.stderr);
    await assert.rejects(authenticateWorker(db, token), /revoked/);
    const twice = await farm(['worker', 'revoke', 'builder-1']);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /already revoked/);
  });
}

test('kiln farm without a catalog, or with one it cannot reach, says so', async (t) => {
  const dir = await tempDir(t);
  const none = await kiln(['farm', 'status'], { cwd: dir });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /error\[E_USAGE\]: no farm catalog given/);
  const unreachable = await kiln(['farm', 'status', '--catalog', 'postgresql://farm:secret@127.0.0.1:1/kiln'], {
    cwd: dir,
  });
  assert.equal(unreachable.code, 1, unreachable.stderr);
  assert.match(
    unreachable.stderr,
    /error\[E_IO\]: cannot open the farm catalog postgresql:\/\/[^ ]*127\.0\.0\.1:1\/kiln/,
  );
  assert.doesNotMatch(unreachable.stderr, /secret/, 'the password is not printed');
});
