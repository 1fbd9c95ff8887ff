#!/usr/bin/env node
/**
 * The `kiln` command's entry (package.json "bin"), in CommonJS so that Node
 * starts it without its ES module loader. It runs dist/kiln.cjs, every
 * module of the command in one file (written by writeBundle.ts), with the V8
 * code cache made for it at build time, so that a query does not parse and
 * compile some sixty modules first (docs/performance.md, "Start-up of a query").
 *
 * Without the bundle, with one older than tsc's last build (dist/.tsbuildinfo,
 * rewritten whenever tsc changes an output: the modules were rebuilt without
 * the bundle), or with KILN_NO_BUNDLE=1 (stack traces that name the source
 * modules), it runs main.js as modules; without a cache that V8 accepts
 * (another Node), it compiles the bundle.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import type { MessagePort } from 'node:worker_threads';

/** main.ts's main(). */
type Main = (
  argv: string[],
  io?: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream; env: NodeJS.ProcessEnv },
) => Promise<number>;

/** What main.ts exports that is used from outside: the command, and an install worker thread's loop. */
export interface BundleExports {
  main: Main;
  serveInstallTasks: (port: MessagePort) => Promise<void>;
}

/** dist/kiln.cjs, from dist/src/cli/. */
export const BUNDLE_PATH = join(__dirname, '..', '..', 'kiln.cjs');
export const CACHE_PATH = `${BUNDLE_PATH}.cache`;

/** The bundle's source as a function of CommonJS's five names; the code cache is for exactly this text. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/**
 * The bundle's text, or `undefined` when there is none. It is ASCII
 * (writeBundle.ts escapes the rest), so it is read as Latin-1, which V8 keeps
 * as one byte per character without decoding.
 */
export function readBundle(): string | undefined {
  return readIfPresent(BUNDLE_PATH)?.toString('latin1');
}

/** Runs the bundle (compiled, or taken from `cachedData`); its script is what writeBundle.ts makes the cache from. */
export function loadBundle(
  source: string,
  cachedData: Buffer | undefined,
): { main: Main; exports: BundleExports; script: Script } {
  const script = new Script(wrap(source), {
    filename: BUNDLE_PATH,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const bundle = { exports: {} as BundleExports };
  run(bundle.exports, createRequire(BUNDLE_PATH), bundle, BUNDLE_PATH, dirname(BUNDLE_PATH));
  return { main: bundle.exports.main, exports: bundle.exports, script };
}

/**
 * The bundle's exports when it is the code to run (there, current, and not
 * turned off by KILN_NO_BUNDLE=1), else `undefined`: run the modules. The
 * command and its install worker threads decide alike, so they run the same
 * code.
 */
export function bundleToRun(): BundleExports | undefined {
  const source = process.env['KILN_NO_BUNDLE'] === '1' || !bundleIsCurrent() ? undefined : readBundle();
  return source === undefined ? undefined : loadBundle(source, readIfPresent(CACHE_PATH)).exports;
}

function readIfPresent(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** tsc's record of its last build (tsconfig.json's tsBuildInfoFile), from dist/src/cli/. */
export const BUILD_INFO_PATH = join(__dirname, '..', '..', '.tsbuildinfo');

/** The bundle was written after tsc last changed the modules (writeBundle.ts runs after tsc), or there is no record. */
function bundleIsCurrent(): boolean {
  try {
    return statSync(BUNDLE_PATH).mtimeMs >= statSync(BUILD_INFO_PATH).mtimeMs;
  } catch {
    return true;
  }
}

/** Runs the command `argv` (the command line's words by default); kilnd.cts runs `daemon` through it. */
export async function start(argv: string[] = process.argv.slice(2)): Promise<void> {
  const main = bundleToRun()?.main ?? ((await import('./main.js')) as { main: Main }).main;
  process.exitCode = await main(argv);
}

if (require.main === module) void start();
