/**
 * better-sqlite3, loaded with `require`: an ESM `import` of a CommonJS module
 * first scans its source for export names, which cost about 6 ms of every
 * command's start-up here (hyperfine, 20 runs: 126 ms against 120 ms for
 * loading it and opening a database).
 */
import { createRequire } from 'node:module';
import type SqliteModule from 'better-sqlite3';

export type { SqliteModule };
export const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof SqliteModule;
