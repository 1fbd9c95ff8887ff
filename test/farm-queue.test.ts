/**
 * The build farm's catalog and queue (src/farm/), on both databases it runs
 * on: a real PostgreSQL started for this file (helpers/postgres.ts) and
 * SQLite. Migrations; dependencies first; priority, fair share and age;
 * targets; leases that expire and retries with backoff; failure that reaches
 * the steps waiting on it; cancellation told through the heartbeat; and, on
 * PostgreSQL, concurrent claims that never hand one step out twice and a
 * server restarted under the queue.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isKilnError } from '../src/errors/index.js';
import { DEFAULT_LEASE_MS, FarmQueue, backoffMs } from '../src/farm/farmQueue.js';
import type { StepSpec, WorkerOffer } from '../src/farm/farmQueue.js';
import {
  WORKER_ALIVE_MS,
  addWorker,
  authenticateWorker,
  listWorkers,
  recordWorkerReport,
  revokeWorker,
  whyNotRunning,
} from '../src/farm/farmWorkers.js';
import { MIGRATIONS, migrate } from '../src/farm/migrations.js';
import { openPostgres, openSqliteDb } from '../src/farm/sqlDb.js';
import type { SqlDb } from '../src/farm/sqlDb.js';
import { tempDir } from './helpers/kiln.js';
import type { TestPostgres } from './helpers/postgres.js';
import { startPostgres } from './helpers/postgres.js';

const X86 = { arch: 'x86_64', libc: 'glibc', cpuLevel: 'x86-64', cpuRank: 0 } as const;
const WORKER: WorkerOffer = { worker: 'w1', arch: 'x86_64', libc: 'glibc', cpuRank: 1 };

const step = (key: string, dependsOn: string[] = [], extra: Partial<StepSpec> = {}): StepSpec => ({
  key,
  package: `app-misc/${key}`,
  version: '1.0',
  ...X86,
  dependsOn,
  ...extra,
});

let server: TestPostgres;
let databases = 0;
before(() => {
  server = startPostgres();
});
after(() => server?.stop());

const backends: [string, (t: TestContext) => Promise<SqlDb>][] = [
  [
    'postgres',
    async (t) => {
      const db = await server.database(`farm_${process.pid}_${databases++}`);
      t.after(() => db.close());
      return db;
    },
  ],
  [
    'sqlite',
    async (t) => {
      const dir = await tempDir(t);
      const db = openSqliteDb(join(dir, 'farm.sqlite'));
      t.after(() => db.close());
      return db;
    },
  ],
];

for (const [name, open] of backends) {
  describe(`farm queue on ${name}`, () => {
    const queueOf = async (t: TestContext): Promise<FarmQueue> => {
      const db = await open(t);
      await migrate(db);
      return new FarmQueue(db);
    };

    test('migrations apply once, in order; a catalog from a newer Kiln is refused', async (t) => {
      const db = await open(t);
      assert.deepEqual(
        await migrate(db),
        MIGRATIONS.map((migration) => migration.id),
      );
      assert.deepEqual(await migrate(db), []);
      await db.query('INSERT INTO farm_migrations (id, name, applied_at) VALUES (99, $1, 0)', ['from the future']);
      await assert.rejects(
        migrate(db),
        (error: unknown) => isKilnError(error) && error.code === 'E_FARM_SCHEMA' && /migration 99/.test(error.message),
      );
    });

    test('a step waits for the steps it depends on; they run first', async (t) => {
      const queue = await queueOf(t);
      const { steps } = await queue.submit(
        { submitter: 'alice', steps: [step('c', ['a', 'b', 'a']), step('b', ['a']), step('a')] },
        1000,
      );
      const order: string[] = [];
      const readied: number[] = [];
      for (let now = 2000; ; now += 10) {
        const claim = await queue.claim(WORKER, now);
        if (claim === undefined) break;
        assert.equal(await queue.claim(WORKER, now), undefined, 'nothing else is ready meanwhile');
        order.push(claim.step.package);
        readied.push(await queue.succeed(claim.step.id, claim.leaseToken, now + 5));
      }
      assert.deepEqual(order, ['app-misc/a', 'app-misc/b', 'app-misc/c']);
      assert.deepEqual(readied, [1, 1, 0], 'each success says how many steps it made ready');
      assert.equal((await queue.step(steps.get('c')!))?.state, 'succeeded');
      assert.deepEqual(await queue.counts(), {
        waiting: 0,
        ready: 0,
        running: 0,
        succeeded: 3,
        failed: 0,
        cancelled: 0,
      });
    });

    test('claims go by priority, then fair share between submitters, then age', async (t) => {
      const queue = await queueOf(t);
      // bob has used 100 s of building; alice nothing.
      const first = await queue.submit({ submitter: 'bob', steps: [step('warm')] }, 0);
      const warm = await queue.claim(WORKER, 1);
      await queue.succeed(warm!.step.id, warm!.leaseToken, 100_001);
      assert.equal(first.steps.size, 1);
      await queue.submit({ submitter: 'bob', steps: [step('bob-old')] }, 200_000);
      await queue.submit({ submitter: 'alice', steps: [step('alice-new')] }, 200_001);
      await queue.submit({ submitter: 'bob', priority: 5, steps: [step('bob-urgent')] }, 200_002);
      await queue.submit({ submitter: 'alice', steps: [step('alice-newer')] }, 200_003);
      const claimed: string[] = [];
      for (;;) {
        const claim = await queue.claim(WORKER, 300_000);
        if (claim === undefined) break;
        claimed.push(claim.step.package.slice('app-misc/'.length));
      }
      assert.deepEqual(claimed, ['bob-urgent', 'alice-new', 'alice-newer', 'bob-old']);
    });

    test('a worker gets only steps of its architecture, libc and CPU level', async (t) => {
      const queue = await queueOf(t);
      await queue.submit(
        {
          submitter: 'alice',
          steps: [step('v3', [], { cpuLevel: 'x86-64-v3', cpuRank: 3 }), step('arm', [], { arch: 'aarch64' })],
        },
        0,
      );
      assert.equal(await queue.claim({ ...WORKER, arch: 'riscv64' }, 1), undefined);
      assert.equal(await queue.claim({ ...WORKER, libc: 'musl' }, 1), undefined);
      assert.equal(await queue.claim({ ...WORKER, cpuRank: 2 }, 1), undefined, 'a v2 machine cannot build for v3');
      assert.equal((await queue.claim({ ...WORKER, cpuRank: 4 }, 1))?.step.cpuLevel, 'x86-64-v3');
      assert.equal((await queue.claim({ ...WORKER, arch: 'aarch64' }, 1))?.step.arch, 'aarch64');
    });

    test('an expired lease is a failed attempt: retried after a backoff, then failed with what waits on it', async (t) => {
      const queue = await queueOf(t);
      const { steps } = await queue.submit(
        { submitter: 'alice', maxAttempts: 2, steps: [step('lib'), step('app', ['lib']), step('top', ['app'])] },
        0,
      );
      const first = await queue.claim(WORKER, 0, 1000);
      assert.equal(first?.step.attempt, 1);
      assert.equal(await queue.expireLeases(999), 0);
      assert.deepEqual(await queue.heartbeat(first!.step.id, first!.leaseToken, 900, 1000), { cancel: false });
      assert.equal(await queue.expireLeases(1500), 0, 'the heartbeat extended it to 1900');
      assert.equal(await queue.expireLeases(2000), 1);
      const retried = await queue.step(steps.get('lib')!);
      assert.equal(retried?.state, 'ready');
      assert.equal(retried?.notBefore, 2000 + backoffMs(1));
      assert.match(retried?.reason ?? '', /lease of w1 expired/);
      // The presumed-dead worker's lease is gone: nothing it says counts.
      await assert.rejects(queue.heartbeat(first!.step.id, first!.leaseToken, 2001), isLeaseError);
      await assert.rejects(queue.succeed(first!.step.id, first!.leaseToken, 2001), isLeaseError);
      assert.equal(await queue.claim(WORKER, 2000 + backoffMs(1) - 1), undefined, 'not before its backoff');
      const second = await queue.claim({ ...WORKER, worker: 'w2' }, 2000 + backoffMs(1));
      assert.equal(second?.step.attempt, 2);
      assert.equal(await queue.fail(second!.step.id, second!.leaseToken, 'make: *** [all] Error 2', 40_000), 'failed');
      for (const key of ['app', 'top']) {
        const blocked = await queue.step(steps.get(key)!);
        assert.equal(blocked?.state, 'failed', key);
        assert.match(
          blocked?.reason ?? '',
          /depends on app-misc\/lib 1\.0, which failed: make: \*\*\* \[all\] Error 2/,
        );
      }
      assert.equal(await queue.claim(WORKER, 10_000_000), undefined);
    });

    test('worker tokens: shown once, stored hashed, refused when unknown, altered or revoked', async (t) => {
      const db = await open(t);
      await migrate(db);
      const token = await addWorker(db, 'builder-1', 0);
      assert.match(token, /^kiln-worker:builder-1:[A-Za-z0-9_-]{43}$/);
      const stored = await db.query<{ token_sha256: string }>('SELECT token_sha256 FROM farm_workers');
      assert.equal(stored.length, 1);
      assert.ok(!token.includes(stored[0]!.token_sha256) && !stored[0]!.token_sha256.includes(token.slice(-43)));
      assert.equal(await authenticateWorker(db, token), 'builder-1');
      const refused = (problem: RegExp) => (error: unknown) =>
        isKilnError(error) && error.code === 'E_FARM_TOKEN' && problem.test(error.message);
      const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      await assert.rejects(authenticateWorker(db, altered), refused(/no worker builder-1 has this token/));
      await assert.rejects(
        authenticateWorker(db, token.replace('builder-1', 'builder-2')),
        refused(/no worker builder-2/),
      );
      await assert.rejects(authenticateWorker(db, 'Bearer whatever'), refused(/not a Kiln worker token/));
      await assert.rejects(
        addWorker(db, 'builder-1', 1),
        (error: unknown) => isKilnError(error) && /exists/.test(error.message),
      );
      await assert.rejects(
        addWorker(db, '../x', 1),
        (error: unknown) => isKilnError(error) && error.code === 'E_USAGE',
      );
      await revokeWorker(db, 'builder-1', 2);
      await assert.rejects(authenticateWorker(db, token), refused(/revoked/));
      const again = await addWorker(db, 'builder-1', 3);
      assert.equal(await authenticateWorker(db, again), 'builder-1');
      await assert.rejects(authenticateWorker(db, token), refused(/has this token/), 'the old token stays refused');
    });

    test('why a step is not running, in words', async (t) => {
      const db = await open(t);
      await migrate(db);
      const queue = new FarmQueue(db);
      const { steps } = await queue.submit(
        {
          submitter: 'alice',
          steps: [
            step('pcre2', [], { package: 'dev-libs/pcre2', version: '10.42', cpuLevel: 'x86-64-v3', cpuRank: 3 }),
            step('nginx', ['pcre2'], { package: 'www-servers/nginx', cpuLevel: 'x86-64-v3', cpuRank: 3 }),
            step('v4', [], { cpuLevel: 'x86-64-v4', cpuRank: 4 }),
            step('arm', [], { arch: 'aarch64' }),
          ],
        },
        0,
      );
      const why = (key: string, now = 10_000) => whyNotRunning(db, steps.get(key)!, now);
      assert.deepEqual(await why('nginx'), ['waiting for dev-libs/pcre2 10.42 on x86_64/glibc x86-64-v3 (ready)']);
      assert.deepEqual(await why('pcre2'), ['no worker has been seen in the last 2 minutes']);
      await addWorker(db, 'w1', 0);
      const report = {
        arch: 'x86_64',
        libc: 'glibc',
        cpuLevel: 'x86-64-v3',
        cpuRank: 3,
        jobs: 2,
        load: 0.5,
        freeDisk: 1e10,
      };
      await recordWorkerReport(db, 'w1', report, 9_000);
      assert.deepEqual(await why('arm'), ['no worker offers aarch64/glibc (offered: x86_64/glibc)']);
      assert.deepEqual(await why('v4'), ['no worker offers x86-64-v4 (the best offered on x86_64 is x86-64-v3)']);
      assert.match(
        (await why('pcre2'))[0]!,
        /^0 ready step\(s\) come before it; 1 worker\(s\) offer its target \(2 job slot\(s\)\): w1$/,
      );
      assert.deepEqual(await why('pcre2', 9_000 + WORKER_ALIVE_MS + 1), [
        'no worker has been seen in the last 2 minutes',
      ]);
      const claim = await queue.claim({ worker: 'w1', arch: 'x86_64', libc: 'glibc', cpuRank: 3 }, 10_000, 1000);
      assert.equal(claim?.step.package, 'dev-libs/pcre2');
      assert.match((await why('pcre2'))[0]!, /is running on w1 \(attempt 1 of 3\)/);
      await queue.expireLeases(20_000);
      const retry = await why('pcre2', 20_001);
      assert.match(
        retry[0]!,
        /retried after its failed attempt 1 \(the lease of w1 expired \(no heartbeat\)\), not before/,
      );
      await revokeWorker(db, 'w1', 20_002);
      assert.equal(retry.length, 2);
      assert.deepEqual((await why('pcre2', 20_003)).slice(1), ['no worker has been seen in the last 2 minutes']);
      assert.equal((await listWorkers(db))[0]?.revokedAt, 20_002);
    });

    test('cancelling a build: waiting and ready steps at once, a running one through its heartbeat', async (t) => {
      const queue = await queueOf(t);
      const { buildId, steps } = await queue.submit(
        { submitter: 'alice', steps: [step('a'), step('b'), step('c', ['a'])] },
        0,
      );
      const running = await queue.claim(WORKER, 1);
      await queue.cancelBuild(buildId, 2);
      assert.equal(await queue.claim(WORKER, 3), undefined);
      assert.deepEqual(await queue.heartbeat(running!.step.id, running!.leaseToken, 4), { cancel: true });
      assert.equal(await queue.fail(running!.step.id, running!.leaseToken, 'stopped: cancelled', 5), 'cancelled');
      const states = await Promise.all([...steps.values()].map(async (id) => (await queue.step(id))?.state));
      assert.deepEqual(states, ['cancelled', 'cancelled', 'cancelled']);
    });
  });
}

test('postgres: 40 concurrent claims of 30 ready steps hand each step out once', async (t) => {
  const db = await server.database(`farm_${process.pid}_${databases++}`);
  t.after(() => db.close());
  await migrate(db);
  const queue = new FarmQueue(db);
  await queue.submit({ submitter: 'alice', steps: Array.from({ length: 30 }, (_, i) => step(`s${i}`)) }, 0);
  const claims = await Promise.all(
    Array.from({ length: 40 }, (_, i) => queue.claim({ ...WORKER, worker: `w${i}` }, 1, DEFAULT_LEASE_MS)),
  );
  const got = claims.filter((claim) => claim !== undefined).map((claim) => claim.step.id);
  assert.equal(got.length, 30);
  assert.equal(new Set(got).size, 30, 'no step claimed twice');
});

test('postgres: two coordinators migrating at once apply each migration once', async (t) => {
  const name = `farm_${process.pid}_${databases++}`;
  const first = await server.database(name);
  const second = openPostgres(server.config(name));
  t.after(async () => {
    await first.close();
    await second.close();
  });
  const applied = await Promise.all([migrate(first), migrate(second)]);
  assert.deepEqual(applied.flat().sort(), MIGRATIONS.map((migration) => migration.id).sort());
});

test('postgres: the queue carries on after the server restarts under it', async (t) => {
  const db = await server.database(`farm_${process.pid}_${databases++}`);
  t.after(() => db.close());
  await migrate(db);
  const queue = new FarmQueue(db);
  await queue.submit({ submitter: 'alice', steps: [step('a'), step('b')] }, 0);
  const before = await queue.claim(WORKER, 1);
  server.restart();
  // The pool's connections died with the server; the next operations open new ones.
  let heartbeat: { cancel: boolean } | undefined;
  for (let attempt = 0; attempt < 3 && heartbeat === undefined; attempt++)
    heartbeat = await queue.heartbeat(before!.step.id, before!.leaseToken, 2).catch(() => undefined);
  assert.deepEqual(heartbeat, { cancel: false }, 'the lease taken before the restart is still there');
  const afterRestart = await queue.claim(WORKER, 3);
  assert.equal(afterRestart?.step.package, 'app-misc/b');
});

test('postgres: a transaction whose connection the server drops between its queries fails; the process goes on', async (t) => {
  const db = await server.database(`farm_${process.pid}_${databases++}`);
  t.after(() => db.close());
  let resume = (): void => undefined;
  const paused = new Promise<void>((resolve) => (resume = resolve));
  // Work between two queries of a transaction, as the coordinator publishes under its advisory lock.
  const transaction = db.transaction(async (tx) => {
    await tx.query('SELECT 1');
    await paused;
    await tx.query('SELECT 1');
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  server.restart();
  // The dropped connection's error arrives while no query runs on it: it must not be an uncaught 'error' event.
  await new Promise((resolve) => setTimeout(resolve, 500));
  resume();
  await assert.rejects(transaction);
  let answer: unknown;
  for (let attempt = 0; attempt < 3 && answer === undefined; attempt++)
    answer = await db.query<{ n: number }>('SELECT 1 AS n').catch(() => undefined);
  assert.deepEqual(answer, [{ n: 1 }], 'the pool connects again');
});

test('postgres: a NOTIFY reaches a listener on another connection, and again after the server restarts', async (t) => {
  const name = `farm_${process.pid}_${databases++}`;
  const listener = await server.database(name);
  const notifier = openPostgres(server.config(name));
  t.after(async () => {
    await stop();
    await listener.close();
    await notifier.close();
  });
  let heard = 0;
  const stop = await listener.listen!('kiln_farm', () => heard++);
  const woken = heard;
  const hear = async (): Promise<void> => {
    const before = heard;
    for (let tries = 0; heard === before; tries++) {
      assert.ok(tries < 100, 'the notification arrived');
      await notifier.query("SELECT pg_notify('kiln_farm', '')").catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await hear();
  assert.ok(heard > woken);
  server.restart();
  // The listener connects again (and wakes its owner once, for what it may have missed); then it hears NOTIFYs again.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await hear();
});

function isLeaseError(error: unknown): boolean {
  return isKilnError(error) && error.code === 'E_FARM_LEASE';
}
