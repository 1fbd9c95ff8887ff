/**
 * `kiln worker`: a build machine of the farm. It talks to its coordinator
 * over HTTP only (farmService.ts), with its own token: it offers what it can
 * build (architecture, C library, CPU levels), claims a step, writes the
 * recipe it was sent into a throw-away tree, builds it with build
 * dependencies from the coordinator's repository, heartbeats with its load
 * and free disk while it builds, sends its log as it grows, and uploads the
 * package unsigned. It never holds a signing key or database credentials.
 *
 * - A heartbeat whose reply says the step was cancelled, or that the lease is
 *   not this worker's any more, stops the build (its process group is
 *   killed) and nothing is uploaded.
 * - A coordinator that cannot be reached is retried with backoff (1 s doubled
 *   up to 30 s); the worker waits and resumes.
 * - `jobs` steps are built at once, each by its own loop.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat, statfs } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildPackage } from '../build/buildPackage.js';
import { KilnError } from '../errors/index.js';
import type { ErrorCode } from '../errors/codes.js';
import { detectHost } from '../solver/index.js';
import type { RecipeBundle } from './recipeFiles.js';
import { writeRecipeBundle } from './recipeFiles.js';
import { parseStepOptions } from './stepOptions.js';

export interface WorkerOptions {
  /** The coordinator's base URL (what `kiln serve --farm` prints). */
  url: string;
  token: string;
  /** Steps built at once (default 1). */
  jobs?: number;
  /** Parallel jobs of each build's make (default: the CPUs divided among `jobs`). */
  buildJobs?: number;
  /** Work trees, logs and recipe trees. */
  workDir: string;
  cacheDir?: string;
  distfiles?: readonly string[];
  mirrors?: readonly string[];
  /** Stop once no step of this worker's target is left to finish, instead of waiting for more work. */
  untilIdle?: boolean;
  /** Stops claiming; builds in progress are stopped too. */
  signal?: AbortSignal;
  env?: Readonly<Record<string, string | undefined>>;
  log?: (line: string) => void;
}

export interface WorkerSummary {
  built: number;
  failed: number;
}

interface ClaimAnswer {
  step: {
    id: number;
    package: string;
    version: string;
    cpuLevel: string;
    /** `+NAME,-NAME` against the recipe's defaults (absent from a coordinator before options: the defaults). */
    options?: string;
    attempt: number;
    maxAttempts: number;
  };
  lease: string;
  leaseMs: number;
  recipe: RecipeBundle;
  repository: { keys: string[] };
}

/** How often the log is sent on while a build runs. */
const LOG_INTERVAL_MS = 2000;
const LOG_PIECE_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_MS = 120_000;
const UPLOAD_TIMEOUT_MS = 15 * 60_000;
/** The longest wait between two tries of an upload (1 s, doubled: about a minute in all). */
const UPLOAD_RETRY_MS = 32_000;

export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const base = options.url.replace(/\/+$/, '');
  const jobs = options.jobs ?? 1;
  const buildJobs = options.buildJobs ?? Math.max(1, Math.floor(availableParallelism() / jobs));
  const host = detectHost();
  const summary: WorkerSummary = { built: 0, failed: 0 };
  await mkdir(options.workDir, { recursive: true });
  const call = (method: string, path: string, body?: Body, headers: Record<string, string> = {}) =>
    farmRequest(`${base}${path}`, method, options.token, body, headers);

  const offer = async (wait: number) => ({
    arch: host.arch,
    libc: host.libc,
    cpuLevels: host.cpuLevels,
    jobs,
    load: loadavg()[0],
    freeDisk: await freeDisk(options.workDir),
    wait,
  });

  const slot = async (): Promise<void> => {
    let pause = 1000;
    while (options.signal?.aborted !== true) {
      let answer: Answer;
      try {
        answer = await call('POST', '/farm/v1/claim', json(await offer(options.untilIdle === true ? 2 : 20)));
      } catch (error) {
        if (!retryable(error)) throw error;
        options.log?.(
          `worker: the coordinator cannot be reached (${(error as Error).message}); again in ${pause / 1000} s`,
        );
        await sleep(pause, options.signal);
        pause = Math.min(30_000, pause * 2);
        continue;
      }
      pause = 1000;
      const nothing = answer.json as { pending?: number; step?: unknown };
      if (nothing.step === undefined) {
        // Steps that wait for others, or run elsewhere, may still come its way.
        if (options.untilIdle === true && (nothing.pending ?? 0) === 0) return;
        continue;
      }
      const ok = await buildStep(answer.json as ClaimAnswer);
      if (ok) summary.built++;
      else summary.failed++;
    }
  };

  const buildStep = async (claim: ClaimAnswer): Promise<boolean> => {
    const { step, lease } = claim;
    const stepPath = `/farm/v1/steps/${step.id}`;
    options.log?.(
      `worker: step ${step.id}: ${step.package}${step.options ? `[${step.options}]` : ''} ${step.version} for ${step.cpuLevel} (attempt ${step.attempt})`,
    );
    const stop = new AbortController();
    const stopAll = () => stop.abort(new Error('the worker is stopping'));
    options.signal?.addEventListener('abort', stopAll, { once: true });
    let refused = false;
    const beat = setInterval(
      () => {
        freeDisk(options.workDir)
          .then((free) => call('POST', `${stepPath}/heartbeat`, json({ lease, load: loadavg()[0], freeDisk: free })))
          .then((answer) => {
            if ((answer.json as { cancel?: boolean }).cancel === true)
              stop.abort(new Error('the farm cancelled the step'));
          })
          .catch((error: unknown) => {
            if (error instanceof KilnError && error.code === 'E_FARM_LEASE')
              stop.abort(new Error('its lease is not this worker any more'));
          });
      },
      Math.max(200, Math.floor(claim.leaseMs / 3)),
    );
    // The log, sent on as it grows.
    let logPath: string | undefined;
    let sent = 0;
    let sending = Promise.resolve();
    const sendLog = (): Promise<void> => {
      sending = sending.then(async () => {
        if (logPath === undefined) return;
        for (;;) {
          const piece = await readFrom(logPath, sent, LOG_PIECE_BYTES);
          if (piece.length === 0) return;
          await call('POST', `${stepPath}/log`, piece, { 'x-kiln-lease': lease, 'content-type': 'text/plain' }).catch(
            () => undefined,
          );
          sent += piece.length;
        }
      });
      return sending;
    };
    const logTimer = setInterval(() => void sendLog(), LOG_INTERVAL_MS);
    const tree = join(options.workDir, 'trees', `step-${step.id}-${step.attempt}-${randomBytes(4).toString('hex')}`);
    try {
      await writeRecipeBundle(tree, claim.recipe);
      const flips = parseStepOptions(step.options ?? '');
      await buildPackage(
        { recipe: claim.recipe.id, enable: flips.enable, disable: flips.disable },
        {
          recipes: tree,
          repo: base,
          workDir: join(options.workDir, 'build'),
          ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
          distfiles: options.distfiles ?? [],
          mirrors: options.mirrors ?? [],
          cpu: step.cpuLevel,
          jobs: buildJobs,
          buildMissing: false,
          ...(options.env === undefined ? {} : { env: options.env }),
          signal: stop.signal,
          onLogFile: (path) => {
            logPath = path;
            sent = 0;
          },
          farm: {
            dependencies: { url: `${base}/`, keys: claim.repository.keys },
            deliver: async (path) => {
              await sendLog();
              // A coordinator that is away (restarting, or its catalog is) gets the package again, for about a minute.
              for (let wait = 1000; ; wait *= 2) {
                try {
                  const headers = { 'x-kiln-lease': lease, 'content-type': 'application/octet-stream' };
                  const answer = await call('PUT', `${stepPath}/package`, { file: path }, headers);
                  return (answer.json as { published: string }).published;
                } catch (error) {
                  if (error instanceof KilnError && error.code === 'E_FARM_UPLOAD') refused = true;
                  if (!retryable(error) || wait > UPLOAD_RETRY_MS || stop.signal.aborted) throw error;
                  options.log?.(
                    `worker: step ${step.id}: upload failed (${(error as Error).message}); again in ${wait / 1000} s`,
                  );
                  await sleep(wait, stop.signal);
                }
              }
            },
          },
        },
      );
      options.log?.(`worker: step ${step.id}: ${step.package} ${step.version} published`);
      return true;
    } catch (error) {
      const message = (error as Error).message;
      options.log?.(`worker: step ${step.id}: ${step.package} failed: ${message.split('\n')[0]}`);
      await sendLog();
      // A refused upload failed the step already; a lost lease is not this worker's to report.
      if (!refused && !(error instanceof KilnError && error.code === 'E_FARM_LEASE'))
        await call('POST', `${stepPath}/fail`, json({ lease, reason: message.slice(0, 4000) })).catch(() => undefined);
      return false;
    } finally {
      clearInterval(beat);
      clearInterval(logTimer);
      options.signal?.removeEventListener('abort', stopAll);
      await rm(tree, { recursive: true, force: true });
    }
  };

  await Promise.all(Array.from({ length: jobs }, () => slot()));
  return summary;
}

type Body = Buffer | string | { file: string };
interface Answer {
  status: number;
  json: unknown;
}

const json = (value: unknown): string => JSON.stringify(value);

/**
 * One request to the coordinator. 2xx answers resolve; an error answer
 * becomes the KilnError it carries (its code when Kiln knows it).
 */
export async function farmRequest(
  url: string,
  method: string,
  token: string,
  body?: Body,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const target = new URL(url);
  const size =
    body === undefined
      ? 0
      : typeof body === 'object' && 'file' in body
        ? (await stat(body.file)).size
        : Buffer.byteLength(body);
  const { status, text } = await new Promise<{ status: number; text: string; headers: IncomingHttpHeaders }>(
    (resolve, reject) => {
      const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
        target,
        {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': String(size),
            ...headers,
          },
          // The coordinator checks and publishes an upload before it answers.
          timeout: method === 'PUT' ? UPLOAD_TIMEOUT_MS : REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${target.origin} in time`)));
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (typeof body === 'object' && 'file' in body) createReadStream(body.file).on('error', reject).pipe(req);
      else req.end(body);
    },
  ).catch((error: Error) => {
    throw new KilnError('E_FETCH', `cannot reach the farm coordinator ${target.origin}: ${error.message}`, {
      hint: 'is "kiln serve --farm" running there, and reachable from this machine?',
      cause: error,
    });
  });
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (status >= 200 && status < 300) return { status, json: parsed };
  const error = (parsed as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
  const code: ErrorCode =
    typeof error?.code === 'string' && /^E_FARM_[A-Z]+$/.test(error.code) ? (error.code as ErrorCode) : 'E_FETCH';
  throw new KilnError(
    code,
    error?.message ?? `the farm coordinator answered ${method} ${target.pathname} with HTTP ${status}`,
    error?.hint === undefined ? {} : { hint: error.hint },
  );
}

/** Whether a failed request is worth trying again (the coordinator or its catalog is away), not a refusal. */
function retryable(error: unknown): boolean {
  return error instanceof KilnError && error.code === 'E_FETCH';
}

async function readFrom(path: string, offset: number, max: number): Promise<Buffer> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return Buffer.alloc(0);
  try {
    const buffer = Buffer.alloc(max);
    const { bytesRead } = await handle.read(buffer, 0, max, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function freeDisk(dir: string): Promise<number> {
  try {
    const info = await statfs(dir);
    return info.bavail * info.bsize;
  } catch {
    return 0;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
