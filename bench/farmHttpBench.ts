/**
 * The build farm's coordinator over real HTTP: what a claim and an upload
 * cost at the coordinator, and how publishing scales with the repository.
 * `kiln serve`'s server with the farm's endpoints (farm/farmService.ts) on
 * loopback, a catalog (SQLite, or PostgreSQL started for the run), a real
 * repository; simulated workers that build nothing: each claims a step and
 * uploads a package made for it beforehand (small, unsigned, as a worker
 * makes it), which the coordinator checks, signs, publishes and records.
 *
 * Reported per run: steps per second; claim and upload latency (p50, p99),
 * and the uploads' latency in the first and the last tenth of the run (a
 * commit rewrites the index, so it grows with the repository); the process's
 * CPU time per step (coordinator and simulated workers share the process).
 *
 * Options: --steps N (400), --workers 1,4,16, --db sqlite,postgres, --json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KILN_BIN } from '../test/helpers/kiln.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { farmService } from '../src/farm/farmService.js';
import { farmRequest } from '../src/farm/farmWorker.js';
import { addWorker } from '../src/farm/farmWorkers.js';
import { FarmQueue } from '../src/farm/farmQueue.js';
import { openCatalog } from '../src/farm/openCatalog.js';
import { pack, readPackInput } from '../src/format/index.js';
import { startServer } from '../src/serve/index.js';
import { detectHost } from '../src/solver/index.js';

const option = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
};
const steps = Number(option('steps', '400'));
const workerCounts = option('workers', '1,4,16').split(',').map(Number);
const databases = option('db', 'sqlite,postgres').split(',');

interface Result {
  db: string;
  workers: number;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  claimMs: { p50: number; p99: number };
  uploadMs: { p50: number; p99: number; firstTenth: number; lastTenth: number };
  cpuMsPerStep: number;
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const median = (values: number[]) => quantile(values, 0.5);
const round = (value: number) => Math.round(value * 10) / 10;

async function run(dbName: string, catalog: string, workers: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-farm-http-'));
  try {
    const kiln = (args: string[]) => execFileSync(process.execPath, [KILN_BIN, ...args], { cwd: dir, stdio: 'pipe' });
    kiln(['key', 'generate', '--out', 'keys']);
    kiln(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'bench']);
    // A ports tree of small recipes, and a package made for each as a worker would (unsigned).
    const host = detectHost();
    const cpu = host.arch === 'x86_64' ? 'x86-64' : 'generic';
    mkdirSync(join(dir, 'stage', 'share'), { recursive: true });
    writeFileSync(join(dir, 'stage', 'share', 'file'), 'a file\n');
    const files: string[] = [];
    for (let i = 0; i < steps; i++) {
      const name = `p${i}`;
      mkdirSync(join(dir, 'ports', 'bench', name), { recursive: true });
      writeFileSync(
        join(dir, 'ports', 'bench', name, 'recipe.toml'),
        `name = "${name}"\nversion = "1.0"\nsummary = "s"\nlicense = "MIT"\n[[source]]\nurl = "https://example.invalid/x.tar.gz"\nsha256 = "${'0'.repeat(64)}"\n`,
      );
      writeFileSync(
        join(dir, 'meta.json'),
        JSON.stringify({
          name,
          category: 'bench',
          version: '1.0',
          revision: 0,
          summary: 's',
          homepage: 'https://example.org',
          license: 'MIT',
          target: { arch: host.arch, cpu, libc: host.libc, libcVersion: '2.17' },
        }),
      );
      files.push(
        (
          await pack({
            stageDir: join(dir, 'stage'),
            input: await readPackInput(join(dir, 'meta.json')),
            outDir: join(dir, 'out'),
            durable: false,
          })
        ).path,
      );
    }
    const db = await openCatalog(catalog);
    const queue = new FarmQueue(db);
    const target = { arch: host.arch, libc: host.libc, cpuLevel: cpu, cpuRank: 0 };
    const submitted = await queue.submit(
      {
        submitter: 'bench',
        steps: Array.from({ length: steps }, (_, i) => ({
          ...target,
          key: `p${i}`,
          package: `bench/p${i}`,
          version: '1.0',
        })),
      },
      Date.now(),
    );
    const fileOf = new Map([...submitted.steps].map(([key, id]) => [id, files[Number(key.slice(1))]!]));
    const tokens = await Promise.all(
      Array.from({ length: workers }, (_, i) => addWorker(db, `bench-${dbName}-${workers}-${i}`, Date.now())),
    );
    const service = await farmService({ db, repo: join(dir, 'repo'), recipes: join(dir, 'ports') });
    const server = await startServer({
      tree: join(dir, 'repo', 'public'),
      host: '127.0.0.1',
      port: 0,
      catalog: false,
      extra: service,
    });
    const claims: number[] = [];
    const uploads: number[] = [];
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const offer = JSON.stringify({ arch: host.arch, libc: host.libc, cpuLevels: [cpu], wait: 0 });
    await Promise.all(
      tokens.map(async (token) => {
        for (;;) {
          let at = performance.now();
          const claim = (await farmRequest(`${server.url}/farm/v1/claim`, 'POST', token, offer)).json as {
            step?: { id: number };
            lease: string;
          };
          claims.push(performance.now() - at);
          if (claim.step === undefined) return;
          at = performance.now();
          await farmRequest(
            `${server.url}/farm/v1/steps/${claim.step.id}/package`,
            'PUT',
            token,
            { file: fileOf.get(claim.step.id)! },
            {
              'x-kiln-lease': claim.lease,
              'content-type': 'application/octet-stream',
            },
          );
          uploads.push(performance.now() - at);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu_ = process.cpuUsage(cpuBefore);
    await server.close();
    await service.close();
    const counts = await queue.counts();
    if (counts.succeeded !== steps) throw new Error(`only ${counts.succeeded} of ${steps} steps succeeded`);
    await db.close();
    const tenth = Math.max(1, Math.floor(uploads.length / 10));
    return {
      db: dbName,
      workers,
      steps,
      seconds: round(seconds),
      stepsPerSecond: round(steps / seconds),
      claimMs: { p50: round(median(claims)), p99: round(quantile(claims, 0.99)) },
      uploadMs: {
        p50: round(median(uploads)),
        p99: round(quantile(uploads, 0.99)),
        firstTenth: round(median(uploads.slice(0, tenth))),
        lastTenth: round(median(uploads.slice(-tenth))),
      },
      cpuMsPerStep: round((cpu_.user + cpu_.system) / 1000 / steps),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
const server = databases.includes('postgres') ? startPostgres() : undefined;
try {
  for (const dbName of databases) {
    for (const workers of workerCounts) {
      let catalog: string;
      if (dbName === 'postgres') {
        const name = `farm_http_${workers}_${Date.now()}`;
        await (await server!.database(name)).close();
        catalog = `postgresql://kiln@localhost/${name}?host=${encodeURIComponent(server!.socketDir)}`;
      } else catalog = join(mkdtempSync(join(tmpdir(), 'kiln-farm-http-db-')), 'catalog.sqlite');
      const result = await run(dbName, catalog, workers);
      results.push(result);
      console.log(
        `${dbName.padEnd(8)} ${String(workers).padStart(3)} workers: ${result.steps} steps in ${result.seconds} s (${result.stepsPerSecond}/s); claim p50 ${result.claimMs.p50} ms p99 ${result.claimMs.p99} ms; upload p50 ${result.uploadMs.p50} ms p99 ${result.uploadMs.p99} ms (first tenth ${result.uploadMs.firstTenth}, last ${result.uploadMs.lastTenth}); CPU ${result.cpuMsPerStep} ms/step`,
      );
    }
  }
} finally {
  server?.stop();
}
mkdirSync('bench-out', { recursive: true });
writeFileSync(join('bench-out', 'farm-http.json'), `${JSON.stringify(results, null, 2)}\n`);
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
