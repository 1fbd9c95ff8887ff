/**
 * The build farm catalog's schema, as numbered migrations applied in order
 * and recorded in `farm_migrations`. A migration is never changed once
 * released: a change to the schema is a new one. Each is applied in its own
 * transaction; on PostgreSQL, under an advisory lock, so that two
 * coordinators starting at once apply it once. A catalog that records a
 * migration this Kiln does not know was written by a newer Kiln and is
 * refused.
 *
 * Types are the common ground of both databases: TEXT, INTEGER, BIGINT
 * (times are milliseconds since the epoch; flags are 0 or 1). Only the
 * identity column differs.
 */
import { KilnError } from '../errors/index.js';
import type { Dialect, SqlDb } from './sqlDb.js';

export interface Migration {
  id: number;
  name: string;
  /** Statements, in order. */
  sql: (dialect: Dialect) => string[];
}

const identity = (dialect: Dialect): string =>
  dialect === 'postgres' ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY';

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'builds, steps and their dependencies, submitters and their shares',
    sql: (dialect) => [
      `CREATE TABLE farm_submitters (
        name TEXT PRIMARY KEY,
        shares INTEGER NOT NULL DEFAULT 100 CHECK (shares > 0),
        used_ms BIGINT NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE farm_builds (
        id ${identity(dialect)},
        submitter TEXT NOT NULL REFERENCES farm_submitters (name),
        priority INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE farm_steps (
        id ${identity(dialect)},
        build_id BIGINT NOT NULL REFERENCES farm_builds (id),
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        arch TEXT NOT NULL,
        libc TEXT NOT NULL,
        cpu_level TEXT NOT NULL,
        cpu_rank INTEGER NOT NULL,
        submitter TEXT NOT NULL REFERENCES farm_submitters (name),
        priority INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('waiting', 'ready', 'running', 'succeeded', 'failed', 'cancelled')),
        waiting_on INTEGER NOT NULL DEFAULT 0,
        attempt INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
        not_before BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_token TEXT,
        lease_expires_at BIGINT,
        heartbeat_at BIGINT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT
      )`,
      `CREATE TABLE farm_step_deps (
        step_id BIGINT NOT NULL REFERENCES farm_steps (id),
        depends_on BIGINT NOT NULL REFERENCES farm_steps (id),
        PRIMARY KEY (step_id, depends_on)
      )`,
      'CREATE INDEX farm_steps_claim ON farm_steps (state, arch, libc, priority, created_at, id)',
      'CREATE INDEX farm_steps_leases ON farm_steps (state, lease_expires_at)',
      'CREATE INDEX farm_steps_build ON farm_steps (build_id)',
      'CREATE INDEX farm_step_deps_dependency ON farm_step_deps (depends_on)',
    ],
  },
  {
    id: 2,
    name: 'workers: their tokens (hashed), what they offer, when they were last seen',
    sql: () => [
      `CREATE TABLE farm_workers (
        name TEXT PRIMARY KEY,
        token_sha256 TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT,
        arch TEXT,
        libc TEXT,
        cpu_level TEXT,
        cpu_rank INTEGER,
        jobs INTEGER,
        load DOUBLE PRECISION,
        free_disk BIGINT,
        last_seen BIGINT
      )`,
    ],
  },
  {
    id: 3,
    name: 'an index for claims: by target, priority, submitter and age',
    sql: () => [
      'CREATE INDEX farm_steps_claim_by_submitter ON farm_steps (state, arch, libc, priority, submitter, created_at, id)',
    ],
  },
  {
    id: 4,
    name: "a step's recipe (the digest of its files), its published package, its attempts' logs",
    sql: () => [
      "ALTER TABLE farm_steps ADD COLUMN recipe_digest TEXT NOT NULL DEFAULT ''",
      'ALTER TABLE farm_steps ADD COLUMN package_file TEXT',
      `CREATE TABLE farm_step_logs (
        step_id BIGINT NOT NULL REFERENCES farm_steps (id),
        attempt INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        chunk TEXT NOT NULL,
        PRIMARY KEY (step_id, attempt, seq)
      )`,
    ],
  },
  {
    id: 5,
    name: "a step's options: what it turns on and off of its recipe's defaults (+NAME,-NAME)",
    sql: () => ["ALTER TABLE farm_steps ADD COLUMN options TEXT NOT NULL DEFAULT ''"],
  },
];

/** A number of PostgreSQL's advisory lock space for "the farm's schema is being migrated". */
const MIGRATION_LOCK = 0x6b696c6e;

/** Applies every migration the catalog lacks; returns the ids applied. */
export async function migrate(db: SqlDb, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const applied: number[] = [];
  for (;;) {
    const next = await db.transaction(async (tx) => {
      // Under the lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against another one at the same time.
      if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.query(
        'CREATE TABLE IF NOT EXISTS farm_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const done = new Set(
        (await tx.query<{ id: number }>('SELECT id FROM farm_migrations')).map((row) => Number(row.id)),
      );
      const known = new Set(migrations.map((migration) => migration.id));
      const unknown = [...done].filter((id) => !known.has(id));
      if (unknown.length > 0)
        throw new KilnError(
          'E_FARM_SCHEMA',
          `cannot use the farm catalog: it has migration ${Math.max(...unknown)}, which this Kiln does not know`,
          { hint: 'a newer Kiln migrated it; run that version (a catalog is never migrated back)' },
        );
      const migration = migrations.find((candidate) => !done.has(candidate.id));
      if (migration === undefined) return undefined;
      for (const statement of migration.sql(tx.dialect)) await tx.query(statement);
      await tx.query('INSERT INTO farm_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
        migration.id,
        migration.name,
        Date.now(),
      ]);
      return migration.id;
    });
    if (next === undefined) return applied;
    applied.push(next);
  }
}
