/**
 * The build farm's coordinator: the HTTP endpoints remote workers talk to,
 * served by `kiln serve DIR --farm CATALOG` beside the repository's published
 * tree (which is also where workers fetch build dependencies from). Workers
 * never see the database or the signing key.
 *
 * Every request names its worker with `Authorization: Bearer TOKEN`
 * (farmWorkers.ts). A step's requests also carry its lease's token. Answers
 * are JSON; an error is `{ "error": { "code", "message", "hint" } }` with
 * 401 (token), 409 (lease), 422 (refused upload), 400 (malformed request),
 * 413 (too big) or 503 (the catalog cannot be reached: try again).
 *
 * | request | what it does |
 * |---|---|
 * | `POST /farm/v1/claim` | records what the worker offers; answers a step with its lease, its recipe's files and the repository's keys, or, after waiting up to `wait` seconds, `{ pending }`: how many steps of its target are not finished |
 * | `POST /farm/v1/steps/ID/heartbeat` | extends the lease; `{ cancel }` says whether to stop |
 * | `POST /farm/v1/steps/ID/log` | appends to the attempt's log |
 * | `PUT /farm/v1/steps/ID/package` | the unsigned package: checked (checkUpload.ts), signed and published, and the step succeeds |
 * | `POST /farm/v1/steps/ID/fail` | a failed attempt, with its reason |
 *
 * Publishing takes PostgreSQL's advisory lock (and the repository's own file
 * lock), so coordinators sharing one catalog and one repository commit one at
 * a time; uploads that pass their checks while a commit runs are published
 * together by the next one (group commit); a commit is atomic (repo/commitRepository.ts), so a coordinator
 * killed mid-commit leaves either the old serial or the new one. A step whose
 * package is already published (its coordinator died between the commit and
 * recording the success) succeeds without publishing a second copy.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadRecipe, openPortsTree } from '../build/portsTree.js';
import { resolveOptions } from '../build/recipe.js';
import { KilnError } from '../errors/index.js';
import type { PackageMetadata } from '../format/index.js';
import { packageFileName } from '../format/index.js';
import { entryKey, packagePath } from '../repo/index.js';
import { openRepository, readCurrentIndex } from '../repo/openRepository.js';
import { publishPackages } from '../repo/publishPackages.js';
import { formatPublicKey } from '../sign/index.js';
import { X86_64_LEVELS } from '../solver/index.js';
import { temporaryPathFor } from '../util/atomicWrite.js';
import { checkUpload } from './checkUpload.js';
import type { Step } from './farmQueue.js';
import { DEFAULT_LEASE_MS, FarmQueue } from './farmQueue.js';
import type { WorkerReport } from './farmWorkers.js';
import { authenticateWorker, recordWorkerReport } from './farmWorkers.js';
import type { RecipeBundle } from './recipeFiles.js';
import { readRecipeBundle } from './recipeFiles.js';
import type { SqlDb } from './sqlDb.js';
import { parseStepOptions } from './stepOptions.js';

export interface FarmServiceOptions {
  db: SqlDb;
  /** The repository (its directory, as for `kiln repo`) packages are published into. */
  repo: string;
  /** The ports tree steps were submitted from. */
  recipes: string;
  /** Password of the repository's signing key. */
  password?: string | undefined;
  leaseMs?: number;
  /** The first retry's wait after a failed attempt or an expired lease (30 s), doubled at each attempt. */
  retryBaseMs?: number;
  /** Bytes an upload may have. */
  maxUploadBytes?: number;
  /** Lines for the operator: each claim, publication, refusal. */
  log?: (line: string) => void;
  now?: () => number;
}

export interface FarmService {
  /** Answers a `/farm/…` request; undefined for any other path. */
  answer(req: IncomingMessage, res: ServerResponse): Promise<{ status: number; bytes: number } | undefined>;
  close(): Promise<void>;
}

/** The PostgreSQL channel a coordinator notifies when steps became ready, waking the others' waiting claims. */
export const FARM_CHANNEL = 'kiln_farm';
/** Advisory lock number held while publishing into the repository. */
const PUBLISH_LOCK = 0x6b706275;
const MAX_JSON_BYTES = 1024 * 1024;
const MAX_WAIT_SECONDS = 30;
/** How often a waiting claim looks again by itself (steps whose backoff ended; a lost notification). */
const POLL_MS = 1000;
const DEFAULT_MAX_UPLOAD = 4 * 1024 * 1024 * 1024;
const UPLOAD_IDLE_MS = 15 * 60_000;
const DRAIN_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 5000;
/** Packages published by one commit at most. */
const MAX_BATCH = 256;

export async function farmService(options: FarmServiceOptions): Promise<FarmService> {
  const { db } = options;
  const queue = new FarmQueue(db, options.retryBaseMs === undefined ? {} : { retryBaseMs: options.retryBaseMs });
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const repo = await openRepository(options.repo);
  const uploads = join(repo.paths.state, 'farm-uploads');
  await mkdir(uploads, { recursive: true });
  const keys = repo.keys.map((key) => formatPublicKey(key));
  const reports = new Map<string, WorkerReport>();
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const unlisten = db.listen === undefined ? undefined : await db.listen(FARM_CHANNEL, wake);
  // Leases of workers that stopped heartbeating expire, wherever they were given.
  const sweep = setInterval(
    () => {
      queue.expireLeases(now()).then(
        (expired) => {
          if (expired > 0) {
            options.log?.(`farm: ${expired} lease(s) expired; their steps are retried or failed`);
            wake();
          }
        },
        () => undefined,
      );
    },
    Math.max(250, Math.floor(leaseMs / 4)),
  );
  sweep.unref();

  const announce = async (): Promise<void> => {
    wake();
    if (db.dialect === 'postgres')
      await db.query('SELECT pg_notify($1, $2)', [FARM_CHANNEL, '']).catch(() => undefined);
  };

  const claim = async (worker: string, body: Record<string, unknown>): Promise<object> => {
    const arch = text(body, 'arch');
    const libc = text(body, 'libc');
    // A handful of levels is all an architecture has; more is not looked at.
    const cpuLevels = Array.isArray(body['cpuLevels'])
      ? body['cpuLevels'].slice(0, 16).filter((level) => typeof level === 'string')
      : [];
    const cpuRank = Math.max(0, ...cpuLevels.map((level) => (X86_64_LEVELS as readonly string[]).indexOf(level)));
    const report: WorkerReport = {
      arch,
      libc,
      cpuLevel: arch === 'x86_64' ? X86_64_LEVELS[cpuRank]! : arch,
      cpuRank,
      jobs: count(body['jobs'], 1),
      load: count(body['load'], 0),
      freeDisk: count(body['freeDisk'], 0),
    };
    reports.set(worker, report);
    await recordWorkerReport(db, worker, report, now());
    const wait = Math.min(MAX_WAIT_SECONDS, count(body['wait'], 0)) * 1000;
    const until = performance.now() + wait;
    for (;;) {
      const claimed = await queue.claim({ worker, arch, libc, cpuRank }, now(), leaseMs);
      if (claimed !== undefined) {
        const bundle = await recipeFor(claimed.step).catch(async (error: unknown) => {
          const reason = (error as Error).message.split('\n')[0]!;
          await queue.fail(claimed.step.id, claimed.leaseToken, reason, now(), { final: true });
          options.log?.(`farm: step ${claimed.step.id} (${claimed.step.package}) failed: ${reason}`);
          return undefined;
        });
        if (bundle === undefined) continue;
        options.log?.(
          `farm: step ${claimed.step.id} ${claimed.step.package} ${claimed.step.version} (attempt ${claimed.step.attempt}) to ${worker}`,
        );
        return {
          step: stepView(claimed.step),
          lease: claimed.leaseToken,
          leaseMs,
          recipe: bundle,
          repository: { keys },
        };
      }
      const left = until - performance.now();
      if (left <= 0) return { pending: await queue.pending({ arch, libc, cpuRank }) };
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, POLL_MS));
        waiters.add(done);
      });
    }
  };

  /** The recipe files a step was submitted with; a recipe changed since is refused. */
  const recipeFor = async (step: Step): Promise<RecipeBundle> => {
    const bundle = await readRecipeBundle(options.recipes, step.package);
    if (step.recipeDigest !== '' && bundle.digest !== step.recipeDigest)
      throw new KilnError(
        'E_FARM_UPLOAD',
        `the recipe ${step.package} changed since the build was submitted (its files' sha256 was ${step.recipeDigest.slice(0, 12)}…, now ${bundle.digest.slice(0, 12)}…)`,
        { hint: 'submit the build again to build the recipe as it is now' },
      );
    return bundle;
  };

  const leaseOf = (req: IncomingMessage, body?: Record<string, unknown>): string => {
    const given = body?.['lease'] ?? req.headers['x-kiln-lease'];
    if (typeof given !== 'string' || !/^[0-9a-f]{32}$/.test(given))
      throw new KilnError('E_FARM_PROTOCOL', 'the request carries no lease token', {
        hint: 'send the lease the claim answered, as "lease" or the X-Kiln-Lease header',
      });
    return given;
  };

  // Group commit: uploads checked while a commit runs are published together by the next one, so
  // publishing keeps up with many workers (a commit's cost grows with the repository, not the batch).
  const waiting: Publication[] = [];
  let publishing = false;
  const publish = (item: Omit<Publication, 'done'>): Promise<boolean> =>
    new Promise((resolve, reject) => {
      waiting.push({ ...item, done: { resolve, reject } });
      void drain();
    });
  const drain = async (): Promise<void> => {
    if (publishing) return;
    publishing = true;
    try {
      while (waiting.length > 0) await publishBatch(waiting.splice(0, MAX_BATCH));
    } finally {
      publishing = false;
    }
  };
  const publishBatch = async (batch: Publication[]): Promise<void> => {
    try {
      const fresh = await withPublishLock(db, async () => {
        const { index } = await readCurrentIndex(await openRepository(options.repo));
        const known = new Set(index.packages.map((entry) => entryKey(entry)));
        // What an earlier attempt published (its coordinator died before recording it) is not published again.
        const todo = batch.filter((item) => !known.has(entryKey(item.meta)));
        if (todo.length > 0)
          await publishPackages(
            options.repo,
            todo.map((item) => item.file),
            {
              sign: true,
              password: options.password,
              message: `farm: ${todo.length === 1 ? todo[0]!.note : `${todo.length} packages: ${todo.map((item) => item.note).join('; ')}`}`,
            },
          );
        return new Set(todo);
      });
      for (const item of batch) item.done.resolve(!fresh.has(item));
    } catch (error) {
      if (batch.length === 1) batch[0]!.done.reject(error);
      // One package the repository refuses fails only its own step: the rest are published one at a time.
      else for (const item of batch) await publishBatch([item]);
    }
  };

  const upload = async (worker: string, stepId: number, req: IncomingMessage): Promise<unknown> => {
    const lease = leaseOf(req);
    // The lease is checked (and extended, for the time the check takes) before the body is read.
    await queue.heartbeat(stepId, lease, now(), leaseMs);
    const step = (await queue.step(stepId))!;
    const file = temporaryPathFor(join(uploads, `step-${stepId}.kpkg`));
    try {
      await receive(req, file, options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD);
      const tree = await openPortsTree(options.recipes);
      const recipe = await loadRecipe(tree, step.package);
      let meta;
      try {
        const flips = parseStepOptions(step.options);
        meta = await checkUpload(file, step, resolveOptions(recipe, flips.enable, flips.disable));
      } catch (error) {
        const reason = (error as Error).message;
        await queue.fail(stepId, lease, reason, now(), { final: true });
        options.log?.(`farm: step ${stepId} from ${worker}: ${reason}`);
        throw error;
      }
      const published = packagePath(meta.category, meta.name, packageFileName(meta));
      const already = await publish({
        file,
        meta,
        note: `step ${stepId} ${step.package} ${step.version} variant ${meta.variant}, built by ${worker}`,
      });
      const readied = await queue.succeed(stepId, lease, now(), published);
      options.log?.(
        `farm: step ${stepId} ${step.package} ${step.version} ${already ? 'was already published' : `published as ${published}`}; ${readied} step(s) became ready`,
      );
      if (readied > 0) await announce();
      return { published, alreadyPublished: already, readied };
    } finally {
      await rm(file, { force: true });
    }
  };

  const route = async (req: IncomingMessage, path: string): Promise<{ status: number; body?: unknown }> => {
    const worker = await authenticateWorker(db, bearer(req));
    if (req.method === 'POST' && path === '/farm/v1/claim') {
      // A waiting claim sends nothing for up to its wait: not an idle connection.
      req.socket.setTimeout((MAX_WAIT_SECONDS + 30) * 1000);
      // No step: 200 with how many steps of the worker's target are still to finish (a worker may wait for them).
      return { status: 200, body: await claim(worker, await readJson(req)) };
    }
    const match = /^\/farm\/v1\/steps\/(\d{1,15})\/(heartbeat|log|package|fail)$/.exec(path);
    if (match === null) return { status: 404, body: errorBody(notFound(path)) };
    const stepId = Number(match[1]);
    switch (`${req.method} ${match[2]}`) {
      case 'POST heartbeat': {
        const body = await readJson(req);
        const known = reports.get(worker);
        if (known !== undefined) {
          const report = {
            ...known,
            load: count(body['load'], known.load),
            freeDisk: count(body['freeDisk'], known.freeDisk),
          };
          reports.set(worker, report);
          await recordWorkerReport(db, worker, report, now());
        }
        return { status: 200, body: await queue.heartbeat(stepId, leaseOf(req, body), now(), leaseMs) };
      }
      case 'POST log': {
        const lease = leaseOf(req);
        const text = (await readBody(req, MAX_JSON_BYTES)).toString('utf8');
        return { status: 200, body: { kept: await queue.appendLog(stepId, lease, text) } };
      }
      case 'POST fail': {
        const body = await readJson(req);
        const reason = typeof body['reason'] === 'string' ? body['reason'].slice(0, 4000) : 'the worker gave no reason';
        const state = await queue.fail(stepId, leaseOf(req, body), `${reason} (on ${worker})`, now());
        options.log?.(`farm: step ${stepId} attempt failed on ${worker}: ${reason.split('\n')[0]}; now ${state}`);
        if (state === 'failed') await announce();
        return { status: 200, body: { state } };
      }
      case 'PUT package':
        // Checking and publishing a big package sends nothing for a while.
        req.socket.setTimeout(UPLOAD_IDLE_MS);
        return { status: 200, body: await upload(worker, stepId, req) };
      default:
        return { status: 405, body: errorBody(notFound(path)) };
    }
  };

  return {
    async answer(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path !== '/farm' && !path.startsWith('/farm/')) return undefined;
      let status: number;
      let body: unknown;
      try {
        ({ status, body } = await route(req, path));
      } catch (error) {
        status = statusOf(error);
        if (!(error instanceof KilnError))
          options.log?.(`farm: cannot answer ${req.method} ${path}: ${(error as Error).message}`);
        body = errorBody(error);
        // The rest of a refused request's body is read and dropped, up to a bound, so that its sender gets
        // the answer instead of a broken pipe; past the bound the connection is closed after the answer.
        if (!req.complete && !(await drained(req))) res.setHeader('connection', 'close');
      }
      const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(`${JSON.stringify(body)}\n`);
      res.writeHead(status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'content-length': bytes.length,
      });
      res.end(bytes);
      return { status, bytes: bytes.length };
    },
    async close() {
      clearInterval(sweep);
      wake();
      await unlisten?.();
    },
  };
}

/** An upload that passed its checks, waiting for the next commit. */
interface Publication {
  file: string;
  meta: PackageMetadata;
  note: string;
  /** Resolved with whether the package was published already. */
  done: { resolve: (already: boolean) => void; reject: (error: unknown) => void };
}

/** Runs `fn` while holding the farm's publishing lock (PostgreSQL's advisory lock; one process on SQLite). */
async function withPublishLock<T>(db: SqlDb, fn: () => Promise<T>): Promise<T> {
  if (db.dialect !== 'postgres') return fn();
  // The lock lives as long as the transaction: a coordinator that dies releases it with its connection.
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
    return fn();
  });
}

function stepView(step: Step) {
  return {
    id: step.id,
    package: step.package,
    version: step.version,
    arch: step.arch,
    libc: step.libc,
    cpuLevel: step.cpuLevel,
    options: step.options,
    attempt: step.attempt,
    maxAttempts: step.maxAttempts,
  };
}

function bearer(req: IncomingMessage): string {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (\S+)$/.exec(header);
  if (match === null)
    throw new KilnError('E_FARM_TOKEN', 'the request carries no worker token', {
      hint: 'send "Authorization: Bearer TOKEN" with the token "kiln farm worker add NAME" printed',
    });
  return match[1]!;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooBig(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooBig(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, MAX_JSON_BYTES);
  let value: unknown;
  try {
    value = bytes.length === 0 ? {} : JSON.parse(bytes.toString('utf8'));
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new KilnError('E_FARM_PROTOCOL', 'the request body is not a JSON object', {
      hint: 'the worker and the coordinator disagree; check that both run the same Kiln',
    });
  return value as Record<string, unknown>;
}

/** Streams the request body into `file`, refusing more than `limit` bytes. */
async function receive(req: IncomingMessage, file: string, limit: number): Promise<void> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooBig(limit);
  let size = 0;
  await pipeline(
    req,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > limit) throw tooBig(limit);
        yield chunk;
      }
    },
    createWriteStream(file, { flags: 'wx' }),
  );
}

/** Reads and drops what is left of a request's body, at most DRAIN_BYTES within DRAIN_MS; whether it all came. */
function drained(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    let size = 0;
    const finish = (complete: boolean): void => {
      clearTimeout(timer);
      req.off('data', count);
      req.off('end', ended);
      if (!complete) req.pause();
      resolve(complete);
    };
    const count = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > DRAIN_BYTES) finish(false);
    };
    const ended = (): void => finish(true);
    const timer = setTimeout(() => finish(false), DRAIN_MS);
    req.on('data', count);
    req.on('end', ended);
    req.resume();
  });
}

function text(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(value))
    throw new KilnError('E_FARM_PROTOCOL', `the claim's "${key}" is missing or malformed`, {
      hint: 'the worker and the coordinator disagree; check that both run the same Kiln',
    });
  return value;
}

function count(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function tooBig(limit: number): KilnError {
  return new KilnError('E_FARM_PROTOCOL', `the request body is larger than ${limit} bytes`, {
    hint: 'a log is sent in pieces; a package larger than this needs a coordinator started with a higher limit',
  });
}

function notFound(path: string): KilnError {
  return new KilnError('E_FARM_PROTOCOL', `the coordinator has no ${path}`, {
    hint: 'the worker and the coordinator disagree; check that both run the same Kiln',
  });
}

function statusOf(error: unknown): number {
  if (!(error instanceof KilnError)) return 503;
  switch (error.code) {
    case 'E_FARM_TOKEN':
      return 401;
    case 'E_FARM_LEASE':
      return 409;
    case 'E_FARM_UPLOAD':
      return 422;
    case 'E_FARM_PROTOCOL':
      return error.message.includes('larger than') ? 413 : error.message.includes('has no') ? 404 : 400;
    default:
      return 500;
  }
}

function errorBody(error: unknown): { error: { code: string; message: string; hint?: string } } {
  if (error instanceof KilnError)
    return {
      error: { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) },
    };
  return { error: { code: 'E_IO', message: `the coordinator cannot answer now: ${(error as Error).message}` } };
}
