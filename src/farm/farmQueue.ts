/**
 * The build farm's queue of build steps, kept in its catalog (sqlDb.ts:
 * PostgreSQL, or SQLite on one machine). Not a general job queue: a step is
 * one package to build for one target, it waits for the steps that build its
 * build dependencies, and it is claimed by a worker that offers its target.
 *
 * - **Order of claims.** Priority (higher first), then fair share between
 *   submitters (the least build time used per share first, as Hydra's
 *   scheduling shares), then age, then id.
 * - **Claims and leases.** A claim takes the first ready step in that order
 *   with `FOR UPDATE SKIP LOCKED` on PostgreSQL (claims by many coordinators
 *   pass over each other's rows) and hands out a lease: an owner, a random
 *   token and an expiry, extended by each heartbeat. Finishing, heartbeating
 *   and uploading need the token (E_FARM_LEASE otherwise), so a worker that
 *   was presumed dead cannot overwrite what its successor did.
 * - **Failures.** A failed attempt, or a lease that expired (the worker
 *   stopped heartbeating), makes the step ready again after a backoff
 *   (30 s doubled per attempt, at most an hour) until it has had
 *   `maxAttempts`; then it fails, and every step that waits on it fails with
 *   the reason named.
 * - **Cancellation.** A waiting or ready step is cancelled at once; a running
 *   one is marked, its worker is told in its next heartbeat's reply, and the
 *   step is cancelled when the worker reports or its lease expires.
 *
 * Every operation takes the time (`now`, ms since the epoch) from its caller.
 */
import { randomBytes } from 'node:crypto';
import { KilnError } from '../errors/index.js';
import type { Row, SqlDb } from './sqlDb.js';

export type StepState = 'waiting' | 'ready' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What a step builds, and for which target. */
export interface StepTarget {
  arch: string;
  libc: string;
  /** The CPU level the binaries are for (x86-64, x86-64-v3…) and its rank among its architecture's levels. */
  cpuLevel: string;
  cpuRank: number;
}

export interface StepSpec extends StepTarget {
  /** Names the step within its build, for `dependsOn`. */
  key: string;
  /** category/name. */
  package: string;
  version: string;
  /** Keys of steps of the same build that must succeed first. */
  dependsOn?: readonly string[];
  /** The sha256 of the recipe's files when submitted (recipeFiles.ts); a worker is given exactly those. */
  recipeDigest?: string;
  /** Options turned on and off against the recipe's defaults, as `+NAME,-NAME` (stepOptions.ts); empty: the defaults. */
  options?: string;
}

export interface BuildSpec {
  submitter: string;
  priority?: number;
  note?: string;
  steps: readonly StepSpec[];
  /** Attempts per step before it fails (3). */
  maxAttempts?: number;
}

export interface Step extends StepTarget {
  id: number;
  buildId: number;
  package: string;
  version: string;
  submitter: string;
  priority: number;
  state: StepState;
  attempt: number;
  maxAttempts: number;
  notBefore: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  cancelRequested: boolean;
  reason: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  recipeDigest: string;
  /** The published package's path in the repository, once it succeeded. */
  packageFile: string | null;
  /** `+NAME,-NAME` against the recipe's defaults; empty: the defaults. */
  options: string;
}

/** A claimed step: the step, and the token its worker proves its lease with. */
export interface Claim {
  step: Step;
  leaseToken: string;
}

/** What a worker offers: its name and the targets it builds for. */
export interface WorkerOffer {
  worker: string;
  arch: string;
  libc: string;
  /** The highest CPU level rank it runs; steps of that rank or below match. */
  cpuRank: number;
}

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Characters of log kept per attempt of a step. */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;
const BACKOFF_MS = 30_000;
const BACKOFF_CAP_MS = 3_600_000;

/** The wait before attempt `attempt + 1`, after `attempt` failed. */
export function backoffMs(attempt: number, base = BACKOFF_MS): number {
  return Math.min(BACKOFF_CAP_MS, base * 2 ** Math.max(0, attempt - 1));
}

const STEP_COLUMNS = `id, build_id, package, version, arch, libc, cpu_level, cpu_rank, submitter, priority, state,
  attempt, max_attempts, not_before, lease_owner, lease_expires_at, cancel_requested, reason, created_at, started_at,
  finished_at, recipe_digest, package_file, options`;

function stepOf(row: Row): Step {
  const number = (key: string): number => Number(row[key]);
  const orNull = (key: string): number | null => (row[key] === null ? null : Number(row[key]));
  return {
    id: number('id'),
    buildId: number('build_id'),
    package: String(row['package']),
    version: String(row['version']),
    arch: String(row['arch']),
    libc: String(row['libc']),
    cpuLevel: String(row['cpu_level']),
    cpuRank: number('cpu_rank'),
    submitter: String(row['submitter']),
    priority: number('priority'),
    state: row['state'] as StepState,
    attempt: number('attempt'),
    maxAttempts: number('max_attempts'),
    notBefore: number('not_before'),
    leaseOwner: row['lease_owner'] === null ? null : String(row['lease_owner']),
    leaseExpiresAt: orNull('lease_expires_at'),
    cancelRequested: number('cancel_requested') === 1,
    reason: String(row['reason']),
    createdAt: number('created_at'),
    startedAt: orNull('started_at'),
    finishedAt: orNull('finished_at'),
    recipeDigest: String(row['recipe_digest'] ?? ''),
    options: String(row['options'] ?? ''),
    packageFile: row['package_file'] === null || row['package_file'] === undefined ? null : String(row['package_file']),
  };
}

export class FarmQueue {
  /** `retryBaseMs`: the first retry's wait (30 s), doubled at each attempt up to an hour. */
  constructor(
    private readonly db: SqlDb,
    private readonly settings: { retryBaseMs?: number } = {},
  ) {}

  /** Adds a build and its steps; a step with dependencies waits for them. Returns the build's id and each step's. */
  async submit(build: BuildSpec, now: number): Promise<{ buildId: number; steps: Map<string, number> }> {
    const keys = new Set<string>();
    for (const step of build.steps) {
      if (keys.has(step.key))
        throw new KilnError('E_USAGE', `cannot submit the build: two steps are named ${step.key}`, {
          hint: 'each step of a build has its own key',
        });
      keys.add(step.key);
    }
    for (const step of build.steps)
      for (const dependency of step.dependsOn ?? [])
        if (!keys.has(dependency))
          throw new KilnError(
            'E_USAGE',
            `cannot submit the build: step ${step.key} depends on ${dependency}, not in it`,
            {
              hint: 'a step waits only for steps of its own build',
            },
          );
    const maxAttempts = build.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    return this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO farm_submitters (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [build.submitter]);
      const [created] = await tx.query<{ id: number }>(
        'INSERT INTO farm_builds (submitter, priority, note, created_at) VALUES ($1, $2, $3, $4) RETURNING id',
        [build.submitter, build.priority ?? 0, build.note ?? '', now],
      );
      const buildId = Number(created!.id);
      const ids = new Map<string, number>();
      for (const step of build.steps) {
        // A step named twice in dependsOn counts once.
        const waiting = new Set(step.dependsOn ?? []).size;
        const [row] = await tx.query<{ id: number }>(
          `INSERT INTO farm_steps (build_id, package, version, arch, libc, cpu_level, cpu_rank, submitter, priority,
             state, waiting_on, max_attempts, created_at, recipe_digest, options)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
          [
            buildId,
            step.package,
            step.version,
            step.arch,
            step.libc,
            step.cpuLevel,
            step.cpuRank,
            build.submitter,
            build.priority ?? 0,
            waiting > 0 ? 'waiting' : 'ready',
            waiting,
            maxAttempts,
            now,
            step.recipeDigest ?? '',
            step.options ?? '',
          ],
        );
        ids.set(step.key, Number(row!.id));
      }
      for (const step of build.steps)
        for (const dependency of new Set(step.dependsOn ?? []))
          await tx.query('INSERT INTO farm_step_deps (step_id, depends_on) VALUES ($1, $2)', [
            ids.get(step.key),
            ids.get(dependency),
          ]);
      return { buildId, steps: ids };
    });
  }

  /**
   * Claims the first ready step `offer` can build (see the order above), or
   * none. Not one query sorting every ready step (its cost grew with the ready
   * set: docs/scale.md): the highest priority with a claimable step, then the
   * submitters by share, each one index probe for its oldest step of that
   * priority; rows other claims hold are passed over.
   */
  async claim(offer: WorkerOffer, now: number, leaseMs = DEFAULT_LEASE_MS): Promise<Claim | undefined> {
    return this.db.transaction(async (tx) => {
      const claimable = `state = 'ready' AND arch = $1 AND libc = $2 AND cpu_rank <= $3 AND not_before <= $4`;
      const target = [offer.arch, offer.libc, offer.cpuRank, now];
      let candidate: { id: number } | undefined;
      let below: number | undefined;
      const submitters = (
        await tx.query<{ name: string }>(
          'SELECT name FROM farm_submitters ORDER BY CAST(used_ms AS DOUBLE PRECISION) / shares, name',
        )
      ).map((row) => row.name);
      while (candidate === undefined) {
        const [top] = await tx.query<{ priority: number | null }>(
          `SELECT MAX(priority) AS priority FROM farm_steps WHERE ${claimable}${below === undefined ? '' : ' AND priority < $5'}`,
          below === undefined ? target : [...target, below],
        );
        if (top?.priority === null || top?.priority === undefined) return undefined;
        const priority = Number(top.priority);
        for (const submitter of submitters) {
          [candidate] = await tx.query<{ id: number }>(
            `SELECT id FROM farm_steps WHERE ${claimable} AND priority = $5 AND submitter = $6
             ORDER BY created_at, id LIMIT 1 /*PG: FOR UPDATE SKIP LOCKED*/`,
            [...target, priority, submitter],
          );
          if (candidate !== undefined) break;
        }
        below = priority;
      }
      const leaseToken = randomBytes(16).toString('hex');
      const [row] = await tx.query(
        `UPDATE farm_steps SET state = 'running', attempt = attempt + 1, lease_owner = $2, lease_token = $3,
           lease_expires_at = $4, heartbeat_at = $5, started_at = $5
         WHERE id = $1 RETURNING ${STEP_COLUMNS}`,
        [candidate.id, offer.worker, leaseToken, now + leaseMs, now],
      );
      return { step: stepOf(row!), leaseToken };
    });
  }

  /**
   * Extends a running step's lease. The reply says whether the step was
   * cancelled meanwhile (the worker stops); a lease that is not the caller's
   * any more is E_FARM_LEASE (the worker stops too).
   */
  async heartbeat(
    stepId: number,
    leaseToken: string,
    now: number,
    leaseMs = DEFAULT_LEASE_MS,
  ): Promise<{ cancel: boolean }> {
    const [row] = await this.db.query<{ cancel_requested: number }>(
      `UPDATE farm_steps SET lease_expires_at = $3, heartbeat_at = $4
       WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING cancel_requested`,
      [stepId, leaseToken, now + leaseMs, now],
    );
    if (row === undefined) throw leaseLost(stepId);
    return { cancel: Number(row.cancel_requested) === 1 };
  }

  /**
   * The worker reports that the step built. Steps waiting only on it become
   * ready; returns how many did (a coordinator wakes as many idle workers).
   */
  async succeed(stepId: number, leaseToken: string, now: number, packageFile?: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ started_at: number; submitter: string }>(
        `UPDATE farm_steps SET state = 'succeeded', finished_at = $3, lease_owner = NULL, lease_token = NULL,
           lease_expires_at = NULL, reason = '', package_file = $4
         WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING started_at, submitter`,
        [stepId, leaseToken, now, packageFile ?? null],
      );
      if (row === undefined) throw leaseLost(stepId);
      await tx.query('UPDATE farm_submitters SET used_ms = used_ms + $2 WHERE name = $1', [
        row.submitter,
        Math.max(0, now - Number(row.started_at)),
      ]);
      await tx.query(
        `UPDATE farm_steps SET waiting_on = waiting_on - 1
         WHERE id IN (SELECT step_id FROM farm_step_deps WHERE depends_on = $1) AND state = 'waiting'`,
        [stepId],
      );
      const readied = await tx.query(
        `UPDATE farm_steps SET state = 'ready'
         WHERE id IN (SELECT step_id FROM farm_step_deps WHERE depends_on = $1) AND state = 'waiting' AND waiting_on = 0
         RETURNING id`,
        [stepId],
      );
      return readied.length;
    });
  }

  /**
   * The worker reports a failed attempt (`reason` is kept). A step with
   * attempts left is ready again after its backoff; one without fails, with
   * every step that waits on it. A cancelled step's report ends it cancelled.
   */
  async fail(
    stepId: number,
    leaseToken: string,
    reason: string,
    now: number,
    options: { final?: boolean } = {},
  ): Promise<StepState> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(
        `SELECT ${STEP_COLUMNS} FROM farm_steps WHERE id = $1 AND lease_token = $2 AND state = 'running'`,
        [stepId, leaseToken],
      );
      if (row === undefined) throw leaseLost(stepId);
      const step = stepOf(row);
      // A final failure (an upload that is not what was asked) is not tried again.
      const final = options.final === true ? { ...step, maxAttempts: step.attempt } : step;
      return failAttempt(tx, final, reason, now, this.settings.retryBaseMs);
    });
  }

  /**
   * Appends a piece of a running step's log for its current attempt, with the
   * lease's token; past `maxBytes` for that attempt the rest is dropped and
   * one line says so. Returns whether the piece was kept.
   */
  async appendLog(stepId: number, leaseToken: string, text: string, maxBytes = MAX_LOG_BYTES): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ attempt: number }>(
        `SELECT attempt FROM farm_steps WHERE id = $1 AND lease_token = $2 AND state = 'running' /*PG: FOR UPDATE*/`,
        [stepId, leaseToken],
      );
      if (row === undefined) throw leaseLost(stepId);
      const attempt = Number(row.attempt);
      const [kept] = await tx.query<{ n: number | null; bytes: number | null }>(
        'SELECT MAX(seq) AS n, SUM(LENGTH(chunk)) AS bytes FROM farm_step_logs WHERE step_id = $1 AND attempt = $2',
        [stepId, attempt],
      );
      const seq = kept?.n === null || kept?.n === undefined ? 0 : Number(kept.n) + 1;
      const bytes = Number(kept?.bytes ?? 0);
      if (bytes >= maxBytes) return false;
      const piece =
        bytes + text.length > maxBytes
          ? `${text.slice(0, maxBytes - bytes)}\n== the log was cut here: it passed ${maxBytes} characters\n`
          : text;
      await tx.query('INSERT INTO farm_step_logs (step_id, attempt, seq, chunk) VALUES ($1, $2, $3, $4)', [
        stepId,
        attempt,
        seq,
        piece,
      ]);
      return true;
    });
  }

  /** The log of a step's attempt (default: its latest), as the worker sent it. */
  async log(stepId: number, attempt?: number): Promise<string> {
    const rows = await this.db.query<{ chunk: string }>(
      `SELECT chunk FROM farm_step_logs WHERE step_id = $1 AND attempt =
         COALESCE(CAST($2 AS INTEGER), (SELECT MAX(attempt) FROM farm_step_logs WHERE step_id = $1)) ORDER BY seq`,
      [stepId, attempt ?? null],
    );
    return rows.map((row) => row.chunk).join('');
  }

  /** Steps whose lease expired before `now` (their worker stopped heartbeating) count as failed attempts. */
  async expireLeases(now: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        `SELECT ${STEP_COLUMNS} FROM farm_steps WHERE state = 'running' AND lease_expires_at < $1
         ORDER BY id /*PG: FOR UPDATE SKIP LOCKED*/`,
        [now],
      );
      for (const row of rows) {
        const step = stepOf(row);
        await failAttempt(
          tx,
          step,
          `the lease of ${step.leaseOwner ?? 'its worker'} expired (no heartbeat)`,
          now,
          this.settings.retryBaseMs,
        );
      }
      return rows.length;
    });
  }

  /** Cancels a build's steps: waiting and ready ones at once, running ones at their worker's next heartbeat. */
  async cancelBuild(buildId: number, now: number): Promise<{ cancelled: number; stopping: number }> {
    return this.db.transaction(async (tx) => {
      const [build] = await tx.query('SELECT id FROM farm_builds WHERE id = $1', [buildId]);
      if (build === undefined)
        throw new KilnError('E_USAGE', `cannot cancel build ${buildId}: the catalog has no such build`, {
          hint: '"kiln farm submit" printed the build\'s number',
        });
      const cancelled = await tx.query(
        `UPDATE farm_steps SET state = 'cancelled', finished_at = $2, reason = 'cancelled'
         WHERE build_id = $1 AND state IN ('waiting', 'ready') RETURNING id`,
        [buildId, now],
      );
      const stopping = await tx.query(
        `UPDATE farm_steps SET cancel_requested = 1 WHERE build_id = $1 AND state = 'running' RETURNING id`,
        [buildId],
      );
      return { cancelled: cancelled.length, stopping: stopping.length };
    });
  }

  async step(stepId: number): Promise<Step | undefined> {
    const [row] = await this.db.query(`SELECT ${STEP_COLUMNS} FROM farm_steps WHERE id = $1`, [stepId]);
    return row === undefined ? undefined : stepOf(row);
  }

  /** How many steps a worker offering `offer` could build are not finished (waiting, ready or running). */
  async pending(offer: Omit<WorkerOffer, 'worker'>): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM farm_steps
       WHERE state IN ('waiting', 'ready', 'running') AND arch = $1 AND libc = $2 AND cpu_rank <= $3`,
      [offer.arch, offer.libc, offer.cpuRank],
    );
    return Number(row?.n ?? 0);
  }

  /** How many steps are in each state. */
  async counts(): Promise<Record<StepState, number>> {
    const counts: Record<StepState, number> = {
      waiting: 0,
      ready: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    };
    for (const row of await this.db.query<{ state: StepState; n: number }>(
      'SELECT state, COUNT(*) AS n FROM farm_steps GROUP BY state',
    ))
      counts[row.state] = Number(row.n);
    return counts;
  }
}

function leaseLost(stepId: number): KilnError {
  return new KilnError('E_FARM_LEASE', `step ${stepId} is not leased to this worker any more`, {
    hint: 'its lease expired, it was cancelled, or it was given to another worker; stop working on it',
  });
}

/** One failed attempt of a running step (in the caller's transaction). */
async function failAttempt(
  tx: SqlDb,
  step: Step,
  reason: string,
  now: number,
  retryBaseMs?: number,
): Promise<StepState> {
  const cancelled = step.cancelRequested;
  const again = !cancelled && step.attempt < step.maxAttempts;
  const state: StepState = cancelled ? 'cancelled' : again ? 'ready' : 'failed';
  await tx.query(
    `UPDATE farm_steps SET state = $2, reason = $3, not_before = $4, finished_at = $5, lease_owner = NULL,
       lease_token = NULL, lease_expires_at = NULL
     WHERE id = $1`,
    [
      step.id,
      state,
      cancelled ? 'cancelled' : reason,
      again ? now + backoffMs(step.attempt, retryBaseMs) : step.notBefore,
      again ? null : now,
    ],
  );
  if (state === 'failed') {
    // Every step that waits on it, directly or not, can never run.
    await tx.query(
      `WITH RECURSIVE blocked (id) AS (
         SELECT step_id FROM farm_step_deps WHERE depends_on = $1
         UNION SELECT d.step_id FROM farm_step_deps d JOIN blocked b ON d.depends_on = b.id)
       UPDATE farm_steps SET state = 'failed', finished_at = $2, reason = $3
       WHERE id IN (SELECT id FROM blocked) AND state = 'waiting'`,
      [step.id, now, `depends on ${step.package} ${step.version}, which failed: ${reason}`],
    );
  }
  return state;
}
