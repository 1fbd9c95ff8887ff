/**
 * The `kiln` command runs from one bundled file with V8's code cache
 * (src/cli/kiln.cts, writeBundle.ts): the bundle answers exactly as the
 * modules do, the cache is one this Node accepts, and a query loads neither
 * node:crypto nor node:child_process.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CACHE_PATH, loadBundle, readBundle } from '../src/cli/kiln.cjs';
import type { Reply } from '../src/install/installWorkers.js';
import { kilnPath, kilnRoot } from '../src/util/kilnRoot.js';
import { KILN_BIN, kiln, parseJson, run, tempDir } from './helpers/kiln.js';

test('the bundle is there, and V8 accepts its code cache', () => {
  const source = readBundle();
  assert.ok(source !== undefined, 'dist/kiln.cjs is missing: scripts/setup.sh writes it');
  assert.doesNotMatch(source, /[^\x00-\x7f]/, 'the bundle is read as Latin-1, so it must be ASCII');
  const { script } = loadBundle(source, readFileSync(CACHE_PATH));
  assert.equal(script.cachedDataRejected, false);
});

test('a code cache V8 rejects (another Node made it) costs a compile, nothing else', async () => {
  const source = readBundle();
  assert.ok(source !== undefined);
  const { main, script } = loadBundle(source, Buffer.from('not a code cache of this V8'));
  assert.equal(script.cachedDataRejected, true);
  const out: string[] = [];
  const sink = { write: (text: string) => out.push(text), isTTY: false } as unknown as NodeJS.WriteStream;
  assert.equal(await main(['--version'], { stdout: sink, stderr: sink, env: { NO_COLOR: '1' } }), 0);
  assert.match(out.join(''), /^kiln \d+\.\d+\.\d+/);
});

test("the launcher runs the modules when the bundle is older than tsc's last build (tsc ran after writeBundle)", async (t) => {
  // A copy of the launcher in a tree of its own, with a stand-in bundle and main.js that say which one ran.
  const dir = await tempDir(t);
  const cli = join(dir, 'dist', 'src', 'cli');
  mkdirSync(cli, { recursive: true });
  copyFileSync(KILN_BIN, join(cli, 'kiln.cjs'));
  const say = (who: string) =>
    `async (argv) => { process.stdout.write(${JSON.stringify(who)} + ' ' + argv.join(' ') + '\\n'); return 0; }`;
  writeFileSync(join(cli, 'main.js'), `export const main = ${say('modules')};\n`);
  writeFileSync(join(cli, 'package.json'), '{"type": "module"}\n');
  const bundle = join(dir, 'dist', 'kiln.cjs');
  writeFileSync(bundle, `module.exports.main = ${say('bundle')};\n`);
  const ran = async (): Promise<string> => {
    const result = await run(process.execPath, [join(cli, 'kiln.cjs'), 'list'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  assert.equal(await ran(), 'bundle list\n', 'no record of a tsc build: the bundle');
  const buildInfo = join(dir, 'dist', '.tsbuildinfo');
  writeFileSync(buildInfo, '{}\n');
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);
  at(buildInfo, 1_000_000);
  at(bundle, 1_000_001);
  assert.equal(await ran(), 'bundle list\n');
  at(bundle, 1_000_000);
  assert.equal(await ran(), 'bundle list\n', 'written in the same instant: the bundle');
  at(buildInfo, 1_000_002);
  assert.equal(await ran(), 'modules list\n');
  assert.equal((await run(process.execPath, [join(cli, 'kiln.cjs')], { cwd: dir })).stdout, 'modules \n');
});

test('an install worker thread runs the code the command runs: the bundle, or the modules with KILN_NO_BUNDLE=1', async () => {
  for (const [env, expected] of [
    [{}, /dist\/kiln\.cjs:/],
    [{ KILN_NO_BUNDLE: '1' }, /dist\/src\/format\/openPackage\.js:/],
  ] as const) {
    const worker = new Worker(kilnPath('dist', 'src', 'install', 'installWorker.cjs'), {
      env: { ...process.env, ...env },
    });
    try {
      // A task with no path: the error's stack names the file that ran.
      const reply = await new Promise<Reply>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ id: 1, task: { kind: 'open', keys: [], keySource: 'test' } });
      });
      assert.ok(!reply.ok && !reply.error.kiln, JSON.stringify(reply));
      assert.match(reply.error.stack ?? '', expected, JSON.stringify(env));
    } finally {
      await worker.terminate();
    }
  }
});

test('kilnRoot finds the directory holding package.json, the one the recipes ship in', () => {
  const manifest = JSON.parse(readFileSync(join(kilnRoot(), 'package.json'), 'utf8')) as { name: string };
  assert.equal(manifest.name, 'kiln');
});

test('the bundle and the modules (KILN_NO_BUNDLE=1) answer alike: output, non-ASCII text, JSON, errors', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'p');
  assert.equal((await kiln(['--prefix', prefix, 'init'])).code, 0);
  const cases = [
    ['--version'],
    ['--help'],
    ['--prefix', prefix, 'list', '--json'],
    ['--prefix', prefix, 'owns', 'bin/none'],
    ['--prefix', join(dir, 'absent'), 'list'],
    ['--prefix', prefix, 'install', '--bogus'],
  ];
  let nonAscii = false;
  for (const args of cases) {
    const bundled = await kiln(args);
    const modules = await kiln(args, { env: { KILN_NO_BUNDLE: '1' } });
    assert.deepEqual(bundled, modules, args.join(' '));
    nonAscii ||= /[^\x00-\x7f]/.test(bundled.stdout + bundled.stderr);
  }
  // The cases cover text the bundle holds escaped (\uXXXX), and it prints as the original characters.
  assert.ok(nonAscii, 'no case printed a non-ASCII character');
  assert.deepEqual(parseJson((await kiln(['--prefix', prefix, 'list', '--json'])).stdout), []);
});

test('list, owns and search load neither node:crypto nor node:child_process (each costs start-up)', async (t) => {
  const dir = await tempDir(t);
  const prefix = join(dir, 'p');
  assert.equal((await kiln(['--prefix', prefix, 'init'])).code, 0);
  const report = join(dir, 'modules.cjs');
  writeFileSync(
    report,
    "process.on('exit', () => process.stderr.write('LOADED ' + process.moduleLoadList.join(' ') + '\\n'));\n",
  );
  for (const words of [['list'], ['owns', 'bin/none'], ['search', 'none']]) {
    const result = await run(process.execPath, ['-r', report, KILN_BIN, '--prefix', prefix, ...words]);
    const loaded = result.stderr.split('\n').find((line) => line.startsWith('LOADED ')) ?? '';
    assert.match(loaded, /NativeModule fs/, `${words[0]}: the report ran`);
    assert.doesNotMatch(loaded, /NativeModule crypto\b/, `${words[0]} loaded node:crypto`);
    assert.doesNotMatch(loaded, /NativeModule child_process\b/, `${words[0]} loaded node:child_process`);
  }
});
