/**
 * The build farm's workers in its catalog: one token each, made when the
 * worker is added and shown once (only its sha256 is stored), revocable; what
 * each offers and when it was last seen; and `whyNotRunning`, which says in
 * words why a step is not running — the question Hydra's users ask most.
 *
 * A token is `kiln-worker:NAME:SECRET`, SECRET 32 random bytes in base64url:
 * the name finds the row, the secret's sha256 is compared in constant time.
 * The secret is random enough that a plain sha256 is as good as a slow
 * password hash (as for API tokens elsewhere).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KilnError } from '../errors/index.js';
import type { Step } from './farmQueue.js';
import { FarmQueue } from './farmQueue.js';
import type { SqlDb } from './sqlDb.js';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const TOKEN = /^kiln-worker:([a-z0-9][a-z0-9._-]{0,62}):([A-Za-z0-9_-]{43})$/;

/** What a worker tells the coordinator about itself when it asks for work and in its heartbeats. */
export interface WorkerReport {
  arch: string;
  libc: string;
  cpuLevel: string;
  cpuRank: number;
  jobs: number;
  load: number;
  /** Bytes free where it builds. */
  freeDisk: number;
}

export interface WorkerRow extends Partial<WorkerReport> {
  name: string;
  createdAt: number;
  revokedAt: number | null;
  lastSeen: number | null;
}

/** A worker not seen for this long (ms) is not counted as offering anything. */
export const WORKER_ALIVE_MS = 120_000;

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

function tokenRefused(problem: string): KilnError {
  return new KilnError('E_FARM_TOKEN', `worker token refused: ${problem}`, {
    hint: 'a coordinator administrator adds a worker (and gives it a new token) with kiln farm worker add NAME',
  });
}

/** Adds worker `name` and returns its token, the only time it is shown. A revoked name may be added again. */
export async function addWorker(db: SqlDb, name: string, now: number): Promise<string> {
  if (!NAME.test(name))
    throw new KilnError('E_USAGE', `cannot add worker "${name}": not a worker name`, {
      hint: 'lower-case letters, digits, ".", "_" and "-", at most 63, starting with a letter or digit',
    });
  const secret = randomBytes(32).toString('base64url');
  await db.transaction(async (tx) => {
    const [existing] = await tx.query<{ revoked_at: number | null }>(
      'SELECT revoked_at FROM farm_workers WHERE name = $1',
      [name],
    );
    if (existing !== undefined && existing.revoked_at === null)
      throw new KilnError('E_USAGE', `cannot add worker ${name}: it exists`, {
        hint: 'revoke its token first to give it a new one',
      });
    await tx.query('DELETE FROM farm_workers WHERE name = $1', [name]);
    await tx.query('INSERT INTO farm_workers (name, token_sha256, created_at) VALUES ($1, $2, $3)', [
      name,
      digest(secret),
      now,
    ]);
  });
  return `kiln-worker:${name}:${secret}`;
}

/** The worker a token belongs to; E_FARM_TOKEN when it is malformed, unknown or revoked. */
export async function authenticateWorker(db: SqlDb, token: string): Promise<string> {
  const match = TOKEN.exec(token);
  if (match === null) throw tokenRefused('it is not a Kiln worker token');
  const [, name, secret] = match as unknown as [string, string, string];
  const [row] = await db.query<{ token_sha256: string; revoked_at: number | null }>(
    'SELECT token_sha256, revoked_at FROM farm_workers WHERE name = $1',
    [name],
  );
  const expected = Buffer.from(row?.token_sha256 ?? digest(''), 'hex');
  const matches = timingSafeEqual(expected, Buffer.from(digest(secret), 'hex'));
  if (row === undefined || !matches) throw tokenRefused(`no worker ${name} has this token`);
  if (row.revoked_at !== null) throw tokenRefused(`worker ${name}'s token was revoked`);
  return name;
}

/** Revokes worker `name`'s token: it is refused from now on. */
export async function revokeWorker(db: SqlDb, name: string, now: number): Promise<void> {
  const rows = await db.query(
    'UPDATE farm_workers SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING name',
    [name, now],
  );
  if (rows.length === 0)
    throw new KilnError('E_USAGE', `cannot revoke worker ${name}: no such worker, or already revoked`, {
      hint: 'list the workers with kiln farm status',
    });
}

/** Records what an authenticated worker reports, and that it was seen now. */
export async function recordWorkerReport(db: SqlDb, name: string, report: WorkerReport, now: number): Promise<void> {
  await db.query(
    `UPDATE farm_workers SET arch = $2, libc = $3, cpu_level = $4, cpu_rank = $5, jobs = $6, load = $7, free_disk = $8,
       last_seen = $9 WHERE name = $1`,
    [name, report.arch, report.libc, report.cpuLevel, report.cpuRank, report.jobs, report.load, report.freeDisk, now],
  );
}

export async function listWorkers(db: SqlDb): Promise<WorkerRow[]> {
  const rows = await db.query('SELECT * FROM farm_workers ORDER BY name');
  return rows.map((row) => ({
    name: String(row['name']),
    createdAt: Number(row['created_at']),
    revokedAt: row['revoked_at'] === null ? null : Number(row['revoked_at']),
    lastSeen: row['last_seen'] === null ? null : Number(row['last_seen']),
    ...(row['arch'] === null
      ? {}
      : {
          arch: String(row['arch']),
          libc: String(row['libc']),
          cpuLevel: String(row['cpu_level']),
          cpuRank: Number(row['cpu_rank']),
          jobs: Number(row['jobs']),
          load: Number(row['load']),
          freeDisk: Number(row['free_disk']),
        }),
  }));
}

/** `www/nginx[+uwsgi] 1.22.1-1`: a step's recipe, its options when they are not the defaults, and its version. */
const label = (step: Pick<Step, 'package' | 'version' | 'options'>): string =>
  `${step.package}${step.options === '' ? '' : `[${step.options}]`} ${step.version}`;
const target = (step: Pick<Step, 'arch' | 'libc' | 'cpuLevel'>): string => `${step.arch}/${step.libc} ${step.cpuLevel}`;

/**
 * Why step `stepId` is not running (or what it is doing), in lines a person
 * reads: what it waits for, when it may be retried, that no live worker offers
 * its target (and the nearest one that is offered), or how many steps are
 * ahead of it.
 */
export async function whyNotRunning(db: SqlDb, stepId: number, now: number): Promise<string[]> {
  const step = await new FarmQueue(db).step(stepId);
  if (step === undefined)
    throw new KilnError('E_USAGE', `no build step ${stepId}`, { hint: 'kiln farm status lists the steps' });
  const what = `${label(step)} for ${target(step)}`;
  switch (step.state) {
    case 'succeeded':
      return [`${what} succeeded (attempt ${step.attempt})`];
    case 'failed':
      return [`${what} failed after ${step.attempt} attempt(s): ${step.reason}`];
    case 'cancelled':
      return [`${what} was cancelled`];
    case 'running':
      return [
        `${what} is running on ${step.leaseOwner} (attempt ${step.attempt} of ${step.maxAttempts}), its lease runs to ${new Date(step.leaseExpiresAt ?? 0).toISOString()}${step.cancelRequested ? '; cancelled, its worker is told at its next heartbeat' : ''}`,
      ];
    case 'waiting': {
      const rows = await db.query(
        `SELECT s.package, s.version, s.options, s.arch, s.libc, s.cpu_level, s.state FROM farm_step_deps d
         JOIN farm_steps s ON s.id = d.depends_on WHERE d.step_id = $1 AND s.state <> 'succeeded' ORDER BY s.id`,
        [stepId],
      );
      return rows.map(
        (row) =>
          `waiting for ${label({ package: String(row['package']), version: String(row['version']), options: String(row['options'] ?? '') })} on ${row['arch']}/${row['libc']} ${row['cpu_level']} (${row['state']})`,
      );
    }
    case 'ready':
      break;
  }
  const lines: string[] = [];
  if (step.notBefore > now)
    lines.push(
      `retried after its failed attempt ${step.attempt} (${step.reason}), not before ${new Date(step.notBefore).toISOString()}`,
    );
  const alive = (await listWorkers(db)).filter(
    (worker) => worker.revokedAt === null && worker.lastSeen !== null && now - worker.lastSeen <= WORKER_ALIVE_MS,
  );
  const platform = alive.filter((worker) => worker.arch === step.arch && worker.libc === step.libc);
  if (platform.length === 0) {
    lines.push(
      alive.length === 0
        ? 'no worker has been seen in the last 2 minutes'
        : `no worker offers ${step.arch}/${step.libc} (offered: ${[...new Set(alive.map((worker) => `${worker.arch}/${worker.libc}`))].sort().join(', ')})`,
    );
    return lines;
  }
  const able = platform.filter((worker) => (worker.cpuRank ?? -1) >= step.cpuRank);
  if (able.length === 0) {
    const best = platform.reduce((a, b) => ((a.cpuRank ?? -1) >= (b.cpuRank ?? -1) ? a : b));
    lines.push(`no worker offers ${step.cpuLevel} (the best offered on ${step.arch} is ${best.cpuLevel})`);
    return lines;
  }
  const [ahead] = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM farm_steps s JOIN farm_submitters u ON u.name = s.submitter
     JOIN farm_submitters mine ON mine.name = $6
     WHERE s.state = 'ready' AND s.id <> $1 AND s.arch = $2 AND s.libc = $3 AND s.cpu_rank <= $4 AND s.not_before <= $5
       AND (s.priority > $7
         OR (s.priority = $7 AND CAST(u.used_ms AS DOUBLE PRECISION) / u.shares
               < CAST(mine.used_ms AS DOUBLE PRECISION) / mine.shares)
         OR (s.priority = $7 AND CAST(u.used_ms AS DOUBLE PRECISION) / u.shares
               = CAST(mine.used_ms AS DOUBLE PRECISION) / mine.shares
             AND (s.created_at < $8 OR (s.created_at = $8 AND s.id < $1))))`,
    [
      step.id,
      step.arch,
      step.libc,
      Math.max(...able.map((worker) => worker.cpuRank ?? 0)),
      now,
      step.submitter,
      step.priority,
      step.createdAt,
    ],
  );
  const slots = able.reduce((sum, worker) => sum + (worker.jobs ?? 1), 0);
  lines.push(
    `${Number(ahead?.n ?? 0)} ready step(s) come before it; ${able.length} worker(s) offer its target (${slots} job slot(s)): ${able.map((worker) => worker.name).join(', ')}`,
  );
  return lines;
}
