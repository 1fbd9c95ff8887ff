#!/usr/bin/env node
/**
 * The `kiln` command's entry (package.json "bin"), in CommonJS so that Node
 * starts it without its ES module loader. It runs dist/kiln.cjs, every
 * module of the command in one file (written by writeBundle.ts), with the V8
 * code cache made for it at build time, so that a query does not parse and
 * compile some sixty modules first (docs/performance.md, "Start-up of a query").
 *
 * Without the bundle, with one older than main.js (a tree rebuilt by tsc
 * alone: the bundle would run other code than the worker threads load), or
 * with KILN_NO_BUNDLE=1 (stack traces that name the source modules), it runs
 * main.js as modules; without a cache that V8 accepts (another Node), it
 * compiles the bundle.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** main.ts's main(). */
type Main = (
  argv: string[],
  io?: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream; env: NodeJS.ProcessEnv },
) => Promise<number>;

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
export function loadBundle(source: string, cachedData: Buffer | undefined): { main: Main; script: Script } {
  const script = new Script(wrap(source), {
    filename: BUNDLE_PATH,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const bundle = { exports: {} as { main: Main } };
  run(bundle.exports, createRequire(BUNDLE_PATH), bundle, BUNDLE_PATH, dirname(BUNDLE_PATH));
  return { main: bundle.exports.main, script };
}

function readIfPresent(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The bundle was written after main.js was compiled (writeBundle.ts runs after tsc), or main.js is not there. */
function bundleIsCurrent(): boolean {
  try {
    return statSync(BUNDLE_PATH).mtimeMs >= statSync(join(__dirname, 'main.js')).mtimeMs;
  } catch {
    return true;
  }
}

async function start(): Promise<void> {
  const source = process.env['KILN_NO_BUNDLE'] === '1' || !bundleIsCurrent() ? undefined : readBundle();
  const main =
    source === undefined
      ? ((await import('./main.js')) as { main: Main }).main
      : loadBundle(source, readIfPresent(CACHE_PATH)).main;
  process.exitCode = await main(process.argv.slice(2));
}

if (require.main === module) void start();
