/**
 * Writes dist/kiln.cjs, the whole `kiln` command in one CommonJS file, and
 * dist/kiln.cjs.cache, V8's code cache for it after running the query commands
 * once: `node dist/src/cli/writeBundle.js` (scripts/setup.sh runs it after tsc).
 *
 * Why (docs/performance.md, "Start-up of a query"): as ES modules, `kiln list` spent most
 * of its time above Node's own start-up resolving, loading and compiling some
 * sixty files. One file with a code cache is read once and not compiled. Node
 * 20 has no module compile cache of its own (`module.enableCompileCache` came
 * in Node 22), so kiln.cts hands this cache to `vm.Script`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { kilnPath } from '../util/kilnRoot.js';
import { BUNDLE_PATH, CACHE_PATH, loadBundle } from './kiln.cjs';

/** What the cache is made from: the read-only commands, whose start-up is most of their cost. */
const TRAINING = (prefix: string): string[][] => [
  ['--version'],
  ['--help'],
  ...[
    ['init'],
    ['list'],
    ['list', '--json'],
    ['list', '--available'],
    ['owns', 'bin/kiln-training'],
    ['files', 'kiln-training'],
    ['info', 'kiln-training'],
    ['search', 'kiln-training'],
    ['deps', 'kiln-training'],
    ['history'],
    ['remote', 'list'],
    ['list', '--help'],
  ].map((words) => ['--prefix', prefix, ...words]),
];

export async function writeBundle(): Promise<{ bundleBytes: number; cacheBytes: number }> {
  const result = await build({
    entryPoints: [kilnPath('dist', 'src', 'cli', 'main.js')],
    outfile: BUNDLE_PATH,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    charset: 'ascii',
    // import() of Node's own modules (node:readline/promises) becomes require(): a script compiled from a code
    // cache has no module loader to import with (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
    supported: { 'dynamic-import': false },
    // Each module's own URL becomes the bundle's; kilnRoot.ts finds Kiln's files from either.
    define: { 'import.meta.url': '__kilnBundleUrl' },
    banner: { js: "const __kilnBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // node-postgres (about 220 KB) only for the build farm's commands: required from node_modules when one runs,
    // not carried (and its code cache read) by every command.
    external: ['pg'],
    // Not minified: a stack trace of an internal error stays readable (measured: minifying saved about 4 % of the
    // instructions of `kiln --version` and nothing visible in wall time).
    logLevel: 'warning',
  });
  if (result.errors.length > 0 || result.warnings.length > 0)
    throw new Error(`esbuild: ${[...result.errors, ...result.warnings].map((m) => m.text).join('; ')}`);
  // ASCII, so that kiln.cts reads it as Latin-1 (one byte per character, no UTF-8 decoding: about 3 ms). esbuild
  // escapes strings and names but leaves comments and template text as they are; \uXXXX means the same character in
  // those too (a string, a template's cooked text, a regular expression, a comment). Only a template tag reading
  // `.raw` would see the difference, and Kiln's (html`...`) read the cooked text.
  const source = readFileSync(BUNDLE_PATH, 'utf8').replace(
    /[^\x00-\x7f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  writeFileSync(BUNDLE_PATH, source);
  if (/\bimport\(/.test(source)) throw new Error(`${BUNDLE_PATH}: a dynamic import() is left in the bundle`);

  const { main, script } = loadBundle(source, undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-bundle-training-'));
  const sink = (): NodeJS.WriteStream =>
    new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream;
  try {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: scratch, NO_COLOR: '1' };
    for (const argv of TRAINING(join(scratch, 'prefix'))) {
      // Errors are part of the training (an unknown package, say): only the code they run matters.
      await main(argv, { stdout: sink(), stderr: sink(), env });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const cache = script.createCachedData();
  writeFileSync(`${CACHE_PATH}.tmp`, cache);
  renameSync(`${CACHE_PATH}.tmp`, CACHE_PATH);
  return { bundleBytes: source.length, cacheBytes: cache.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { bundleBytes, cacheBytes } = await writeBundle();
  process.stdout.write(`wrote ${BUNDLE_PATH} (${bundleBytes} bytes) and its code cache (${cacheBytes} bytes)\n`);
}
