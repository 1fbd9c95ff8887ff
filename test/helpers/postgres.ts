/**
 * A throw-away PostgreSQL server for a test file: `initdb` into a temporary
 * directory (as the `postgres` user when the tests run as root: the server
 * refuses to run as root), listening on a Unix socket in that directory only
 * (no TCP port to collide with), trust authentication for the role `kiln`,
 * fsync off. Debian's `postgresql` package provides the programs;
 * scripts/setup.sh installs it. Not found, the test fails: nothing is skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { openPostgres } from '../../src/farm/sqlDb.js';
import type { SqlDb } from '../../src/farm/sqlDb.js';

export interface TestPostgres {
  socketDir: string;
  /** node-postgres settings for `database`. */
  config(database: string): pg.PoolConfig;
  /** A new, empty database, opened. */
  database(name: string): Promise<SqlDb>;
  /** Stops the server as a crash would (no checkpoint), then starts it again on the same data. */
  restart(): void;
  stop(): void;
}

/** The directory of PostgreSQL's server programs: Debian's newest, else initdb on the PATH. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  try {
    return execFileSync('sh', ['-c', 'dirname "$(command -v initdb)"'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error("PostgreSQL's initdb was not found: scripts/setup.sh installs Debian's postgresql package");
  }
}

export function startPostgres(): TestPostgres {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const run = (program: string, args: string[]): void => {
    const command = asRoot ? 'runuser' : join(bin, program);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args;
    execFileSync(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'kiln', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const start = (): void =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-o',
      `-c listen_addresses='' -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=200`,
      'start',
    ]);
  start();
  const config = (database: string): pg.PoolConfig => ({ host: dir, user: 'kiln', database });
  let stopped = false;
  return {
    socketDir: dir,
    config,
    async database(name: string): Promise<SqlDb> {
      const admin = openPostgres(config('postgres'), 1);
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.close();
      }
      return openPostgres(config(name));
    },
    restart(): void {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      start();
    },
    stop(): void {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
