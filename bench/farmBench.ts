/**
 * `npm run bench:farm`: the build farm's real queue (src/farm/farmQueue.ts) on
 * PostgreSQL (a throw-away server, as the tests start) and on SQLite, driven
 * by simulated workers on a simulated clock. A step "builds" for a duration
 * drawn from a log-normal distribution; the coordinator is one server that
 * serves the workers' claims and reports one at a time, each taking the real
 * time its database operation took (measured), so claims queue at it as they
 * would. A worker with nothing to claim waits until a success makes steps
 * ready; the coordinator wakes as many idle workers as steps became ready
 * (as a NOTIFY carrying the count would).
 *
 * Reported per database and number of workers: the simulated makespan and its
 * lower bound (the larger of total work over workers and the longest chain),
 * the coordinator's busy time (real) and its share of the makespan, claim
 * latency (waiting for the coordinator: the time it adds to a step's start),
 * statements per step, and the benchmark's own wall time.
 *
 * Options: --steps N (50000), --workers 1,10,100,1000, --db postgres,sqlite,
 * --submitters K (5), --seed S, --json. Writes bench-out/farm.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FarmQueue } from '../src/farm/farmQueue.js';
import type { StepSpec, WorkerOffer } from '../src/farm/farmQueue.js';
import { migrate } from '../src/farm/migrations.js';
import { openSqliteDb } from '../src/farm/sqlDb.js';
import type { Row, SqlDb } from '../src/farm/sqlDb.js';
import { seededRandom } from '../src/util/seededRandom.js';
import { startPostgres } from '../test/helpers/postgres.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

interface Workload {
  builds: { submitter: string; steps: StepSpec[] }[];
  /** Simulated build time of each step, by "submitter/key". */
  duration: Map<string, number>;
  totalWork: number;
  criticalPath: number;
}

const TARGET = { arch: 'x86_64', libc: 'glibc', cpuLevel: 'x86-64', cpuRank: 0 } as const;

/**
 * `steps` steps in `submitters` builds. Within a build, 40 layers; a step
 * depends on 0–3 steps of earlier layers, mostly near it, and the first
 * steps are base libraries that much depends on. Durations: log-normal,
 * median 2 minutes, clamped to 5 s – 2 h.
 */
function workload(steps: number, submitters: number, seed: number): Workload {
  const random = seededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const duration = new Map<string, number>();
  const builds: Workload['builds'] = [];
  let totalWork = 0;
  let criticalPath = 0;
  for (let b = 0; b < submitters; b++) {
    const count = Math.floor(steps / submitters) + (b < steps % submitters ? 1 : 0);
    const perLayer = Math.max(1, Math.ceil(count / 40));
    const finish: number[] = [];
    const list: StepSpec[] = [];
    for (let i = 0; i < count; i++) {
      const layerStart = Math.floor(i / perLayer) * perLayer;
      const dependsOn = new Set<string>();
      if (layerStart > 0) {
        const wanted = Math.floor(random() * 4);
        for (let k = 0; k < wanted; k++) {
          const from =
            random() < 0.2
              ? Math.floor(random() * Math.min(layerStart, 20))
              : layerStart - 1 - Math.floor(random() * Math.min(layerStart, 200));
          dependsOn.add(`s${from}`);
        }
      }
      const seconds = Math.min(7200, Math.max(5, 120 * Math.exp(normal())));
      const ms = Math.round(seconds * 1000);
      const key = `s${i}`;
      duration.set(`b${b}/${key}`, ms);
      totalWork += ms;
      const start = Math.max(0, ...[...dependsOn].map((d) => finish[Number(d.slice(1))]!));
      finish[i] = start + ms;
      criticalPath = Math.max(criticalPath, finish[i]!);
      list.push({ key, package: `bench-b${b}/p${i}`, version: '1.0', ...TARGET, dependsOn: [...dependsOn] });
    }
    builds.push({ submitter: `b${b}`, steps: list });
  }
  return { builds, duration, totalWork, criticalPath };
}

/** Counts statements and times each call (real time), around a database. */
function counted(db: SqlDb): { db: SqlDb; statements: () => number } {
  let statements = 0;
  const wrap = (inner: SqlDb): SqlDb => ({
    dialect: inner.dialect,
    query: <T extends Row>(sql: string, params?: readonly unknown[]) => {
      statements++;
      return inner.query<T>(sql, params);
    },
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    close: () => inner.close(),
  });
  return { db: wrap(db), statements: () => statements };
}

interface Result {
  db: string;
  steps: number;
  workers: number;
  makespanS: number;
  lowerBoundS: number;
  coordinatorBusyS: number;
  busyShare: number;
  claimLatencyP50Ms: number;
  claimLatencyP99Ms: number;
  latencyShareOfWork: number;
  statementsPerStep: number;
  wallS: number;
}

async function simulate(db: SqlDb, work: Workload, workers: number, dbName: string, steps: number): Promise<Result> {
  const { db: measured, statements } = counted(db);
  await migrate(measured);
  const queue = new FarmQueue(measured);
  const ids = new Map<number, string>();
  for (const [b, build] of work.builds.entries()) {
    const submitted = await queue.submit({ submitter: build.submitter, steps: build.steps }, 0);
    for (const [key, id] of submitted.steps) ids.set(id, `b${b}/${key}`);
  }
  const before = statements();
  const started = performance.now();
  // Simulated time in ms; the coordinator serves one request at a time.
  let coordinatorFree = 0;
  let busy = 0;
  const latencies: number[] = [];
  const serve = async <T>(at: number, op: (now: number) => Promise<T>): Promise<{ done: number; result: T }> => {
    const begin = Math.max(at, coordinatorFree);
    const t0 = performance.now();
    const result = await op(Math.round(begin));
    const took = performance.now() - t0;
    busy += took;
    coordinatorFree = begin + took;
    return { done: coordinatorFree, result };
  };
  // Events: a worker asks for work at `at`, or finishes its step at `at`.
  type Event = { at: number; worker: number; kind: 'claim' | 'finish'; step?: { id: number; token: string } };
  const events: Event[] = [];
  const push = (event: Event): void => {
    // A sorted array, kept by insertion: events are few at a time.
    let low = 0;
    let high = events.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (events[mid]!.at <= event.at) low = mid + 1;
      else high = mid;
    }
    events.splice(low, 0, event);
  };
  const idle: number[] = [];
  for (let w = 0; w < workers; w++) push({ at: 0, worker: w, kind: 'claim' });
  const offer = (w: number): WorkerOffer => ({ worker: `w${w}`, arch: 'x86_64', libc: 'glibc', cpuRank: 0 });
  let finished = 0;
  let makespan = 0;
  while (events.length > 0) {
    const event = events.shift()!;
    if (event.kind === 'claim') {
      const { done, result } = await serve(event.at, (now) => queue.claim(offer(event.worker), now, 3_600_000));
      if (result === undefined) {
        idle.push(event.worker);
        continue;
      }
      latencies.push(done - event.at);
      const ms = work.duration.get(ids.get(result.step.id)!)!;
      push({
        at: done + ms,
        worker: event.worker,
        kind: 'finish',
        step: { id: result.step.id, token: result.leaseToken },
      });
      continue;
    }
    const { done, result: readied } = await serve(event.at, (now) =>
      queue.succeed(event.step!.id, event.step!.token, now),
    );
    finished++;
    makespan = Math.max(makespan, done);
    push({ at: done, worker: event.worker, kind: 'claim' });
    // The steps the success made ready wake as many idle workers (not all of them: no herd of empty claims).
    for (const w of idle.splice(0, readied)) push({ at: done, worker: w, kind: 'claim' });
  }
  if (finished !== steps) throw new Error(`simulation ended with ${finished} of ${steps} steps done`);
  latencies.sort((a, b) => a - b);
  const quantile = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const lowerBound = Math.max(work.totalWork / workers, work.criticalPath);
  return {
    db: dbName,
    steps,
    workers,
    makespanS: makespan / 1000,
    lowerBoundS: lowerBound / 1000,
    coordinatorBusyS: busy / 1000,
    busyShare: busy / makespan,
    claimLatencyP50Ms: quantile(0.5),
    claimLatencyP99Ms: quantile(0.99),
    latencyShareOfWork: latencies.reduce((sum, value) => sum + value, 0) / work.totalWork,
    statementsPerStep: (statements() - before) / steps,
    wallS: (performance.now() - started) / 1000,
  };
}

async function main(): Promise<void> {
  const steps = Number(option('steps', '50000'));
  const workerCounts = option('workers', '1,10,100,1000').split(',').map(Number);
  const databases = option('db', 'postgres,sqlite').split(',');
  const submitters = Number(option('submitters', '5'));
  const seed = Number(option('seed', '20261204'));
  const work = workload(steps, submitters, seed);
  console.error(
    `farm: ${steps} steps in ${submitters} builds; total work ${(work.totalWork / 3_600_000).toFixed(1)} h, longest chain ${(work.criticalPath / 3_600_000).toFixed(2)} h`,
  );
  const server = databases.includes('postgres') ? startPostgres() : undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-farm-bench-'));
  const results: Result[] = [];
  try {
    let n = 0;
    for (const name of databases) {
      for (const workers of workerCounts) {
        const db =
          name === 'postgres'
            ? await server!.database(`bench_${n++}`)
            : openSqliteDb(join(scratch, `farm-${n++}.sqlite`));
        try {
          const result = await simulate(db, work, workers, name, steps);
          results.push(result);
          console.error(
            `farm: ${name}, ${workers} workers: makespan ${result.makespanS.toFixed(0)} s (bound ${result.lowerBoundS.toFixed(0)} s), coordinator busy ${result.coordinatorBusyS.toFixed(1)} s, claim latency p50 ${result.claimLatencyP50Ms.toFixed(1)} ms p99 ${result.claimLatencyP99Ms.toFixed(1)} ms, ${result.statementsPerStep.toFixed(1)} statements/step, ${result.wallS.toFixed(0)} s`,
          );
        } finally {
          await db.close();
        }
      }
    }
  } finally {
    server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const lines = [
    '| database | workers | makespan | lower bound | over the bound | coordinator busy | busy share | claim latency p50 / p99 | latency / work | statements per step | bench wall |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.db} | ${r.workers} | ${r.makespanS.toFixed(0)} s | ${r.lowerBoundS.toFixed(0)} s | ${((r.makespanS / r.lowerBoundS - 1) * 100).toFixed(2)} % | ${r.coordinatorBusyS.toFixed(1)} s | ${(r.busyShare * 100).toFixed(3)} % | ${r.claimLatencyP50Ms.toFixed(1)} / ${r.claimLatencyP99Ms.toFixed(1)} ms | ${(r.latencyShareOfWork * 100).toFixed(4)} % | ${r.statementsPerStep.toFixed(1)} | ${r.wallS.toFixed(0)} s |`,
    ),
  ];
  console.log(lines.join('\n'));
  mkdirSync('bench-out', { recursive: true });
  writeFileSync(join('bench-out', 'farm.json'), `${JSON.stringify({ steps, submitters, seed, results }, null, 1)}\n`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
}

await main();
